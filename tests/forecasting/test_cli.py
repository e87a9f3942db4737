"""The command line: outputs and one-line error texts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from forecasting.cli import main
from tests.forecasting.frames import noisy_weekly


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def series_csv(tmp_path: Path) -> Path:
    frame = noisy_weekly(112).filter(pl.col("ds") != dt.date(2024, 3, 5))
    path = tmp_path / "series.csv"
    frame.rename({"series_id": "office", "ds": "day", "y": "visits"}).write_csv(path)
    return path


def test_staffing_prints_erlang_c_and_a(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "staffing --calls 100 --interval-minutes 30 --aht-seconds 180 --target-seconds 20 --service-level 80"
    code, out, _ = run(
        [*argv.split(), "--patience-seconds", "300", "--shrinkage", "30", "--max-occupancy", "85"],
        capsys,
    )
    assert code == 0
    assert "offered load 10.00 Erlangs" in out
    c_line = next(line for line in out.splitlines() if line.startswith("Erlang C"))
    assert c_line.split()[2:4] == ["14", "13.05"]
    assert "88.8" in c_line and "7.8" in c_line
    assert any(line.startswith("Erlang A") for line in out.splitlines())


def test_staffing_rejects_a_share_given_as_fraction_of_100(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["staffing", "--calls", "100", "--aht-seconds", "180", "--target-seconds", "20", "--service-level", "180"]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err == "error: --service-level is a percentage between 0 and 100, got 180.\n"


def test_backtest_table_gaps_and_forecast_file(
    series_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "forecast.csv"
    argv = [
        "backtest",
        "--csv",
        str(series_csv),
        "--id-col",
        "office",
        "--date-col",
        "day",
        "--value-col",
        "visits",
        "--cutoffs",
        "2",
        "--horizon",
        "14",
        "--country",
        "US",
        "--forecast-out",
        str(out_file),
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "2 cutoffs (2024-03-25, 2024-04-08), horizon 14 days" in out
    for model in ("seasonal_naive", "weekday_mean", "prophet", "ensemble"):
        assert model in out
    assert "gaps: s: 1 missing day(s): 2024-03-05" in out
    assert "public holidays: US" in out
    forecast = pl.read_csv(out_file, try_parse_dates=True)
    assert forecast.columns == ["office", "day", "yhat", "lo80", "hi80", "lo95", "hi95", "model"]
    assert forecast.height == 14 and forecast["day"].min() == dt.date(2024, 4, 22)


def test_backtest_csv_format_keeps_stdout_parseable(
    series_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "backtest",
        "--csv",
        str(series_csv),
        "--id-col",
        "office",
        "--date-col",
        "day",
        "--value-col",
        "visits",
        "--cutoffs",
        "1",
        "--horizon",
        "7",
        "--country",
        "none",
        "--format",
        "csv",
    ]
    code, out, err = run(argv, capsys)
    assert code == 0
    assert out.splitlines()[0] == "office,model,n,mase,smape,coverage_80,coverage_95,recommended"
    assert "gaps: s: 1 missing day(s): 2024-03-05" in err


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["backtest", "--csv", "/nonexistent/x.csv"], capsys)
    assert (code, err) == (2, "error: file not found: /nonexistent/x.csv\n")


def test_missing_column_suggests_a_close_match(
    series_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        [
            "backtest",
            "--csv",
            str(series_csv),
            "--id-col",
            "ofice",
            "--date-col",
            "day",
            "--value-col",
            "visits",
        ],
        capsys,
    )
    assert code == 2
    assert err.startswith(
        "error: missing column(s): series id 'ofice' (did you mean 'office'?). Available columns: office, day, visits."
    )
    assert err.count("\n") == 1


def test_unparseable_dates_name_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("series_id,ds,y\na,2024-01-01,3\na,01/02/2024,4\n")
    code, _, err = run(["backtest", "--csv", str(path)], capsys)
    assert code == 2
    assert err == (
        "error: column 'ds' has 1 value(s) that do not match the date format '%Y-%m-%d', "
        "e.g. '01/02/2024'; pass --date-format (e.g. '%m/%d/%Y').\n"
    )


def test_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([])
    assert "COMMAND" in capsys.readouterr().err
