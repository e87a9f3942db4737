"""python -m anomalies detect | detect-csv (and their old names under python -m forecasting):
output and one-line errors."""

from __future__ import annotations

import io
import shutil
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from anomalies.cli import main
from anomalies.store import latest_flags, latest_run
from data.database import create_engine, duckdb_path
from forecasting.__main__ import main as forecasting_main

START = date(2024, 1, 1)


@pytest.fixture
def series_csv(tmp_path):
    """Three daily series: 'a' collapses on day 200, 'z' is zero until a 9 on day 250,
    'b' is plain noise."""
    rng = np.random.default_rng(1)
    rows = []
    for name, base in (("a", 100), ("b", 5), ("z", 0)):
        for i in range(300):
            day = START + timedelta(days=i)
            y = int(rng.poisson(base * (1.3 if day.weekday() < 5 else 0.5)))
            y = 20 if (name, i) == ("a", 200) else 9 if (name, i) == ("z", 250) else y
            rows.append((name, day.isoformat(), y))
    path = tmp_path / "series.csv"
    pl.DataFrame(rows, schema=["series_id", "ds", "y"], orient="row").write_csv(path)
    return path


def test_anomalies_prints_each_flag_with_date_expected_actual_and_score(series_csv, capsys):
    assert main(["detect-csv", "--csv", str(series_csv), "--country", "GB", "--subdivision", "ENG"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 flag(s) in 3 series")
    assert "public holidays of GB/ENG are known days" in out
    for column in ("series_id", "ds", "expected", "actual", "score"):
        assert column in out
    assert "2024-07-19" in out and "2024-09-07" in out  # day 200 of a, day 250 of z


def test_anomalies_as_csv(series_csv, capsys):
    assert main(["detect-csv", "--csv", str(series_csv), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    flags = pl.read_csv(io.StringIO(captured.out), try_parse_dates=True)
    assert flags.columns[:5] == ["series_id", "ds", "expected", "actual", "score"]
    a = flags.filter(pl.col("series_id") == "a").row(0, named=True)
    assert (a["ds"], a["actual"], a["direction"]) == (date(2024, 7, 19), 20.0, "down")
    assert a["expected"] > 100 and a["score"] < -6
    z = flags.filter(pl.col("series_id") == "z").row(0, named=True)
    assert (z["ds"], z["expected"], z["actual"]) == (date(2024, 9, 7), 0.0, 9.0)  # a zero baseline flags
    assert "flag(s) in 3 series" in captured.err


def test_anomalies_with_other_column_names(series_csv, tmp_path, capsys):
    renamed = tmp_path / "renamed.csv"
    pl.read_csv(series_csv).rename({"series_id": "office", "ds": "date", "y": "calls"}).write_csv(renamed)
    assert main(["detect-csv", "--csv", str(renamed), "--id-col", "office", "--date-col", "date", "--value-col", "calls"]) == 0
    assert "office" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", "error: file not found: "),
        ("columns", "error: missing column(s): date 'DS' (did you mean 'ds'?)"),
        ("dates", "error: column 'ds' has 1 value(s) that do not match the date format '%Y-%m-%d', e.g. '31/12/2024'"),
        ("duplicate", "error: series 'a' has 2 rows for 2024-01-01; give one row per series and day (sum them first)."),
        ("negative", "error: series 'a' has a negative count (-3 on 2024-01-02); use --kind value for measures that can be negative."),
        ("text", "error: column 'y' must hold numbers; 1 value(s) are not, e.g. 'many'."),
    ],
)
def test_anomalies_errors_are_one_clear_line(series_csv, tmp_path, capsys, change, message):
    frame = pl.read_csv(series_csv, schema_overrides={"y": pl.String})
    path = tmp_path / "bad.csv"
    args = ["detect-csv", "--csv", str(path)]
    if change == "columns":
        frame.write_csv(path)
        args += ["--date-col", "DS"]
    elif change == "dates":
        frame.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("31/12/2024")).otherwise(pl.col("ds")).alias("ds")).write_csv(path)
    elif change == "duplicate":
        pl.concat([frame.head(1), frame]).write_csv(path)
    elif change == "negative":
        frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("-3")).otherwise(pl.col("y")).alias("y")).write_csv(path)
    elif change == "text":
        frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("many")).otherwise(pl.col("y")).alias("y")).write_csv(path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


@pytest.mark.slow  # a whole detection run over the small world through the command line
def test_detect_stores_a_run_and_prints_its_summary(anomaly_world, tmp_path, capsys):
    target = tmp_path / "detect.duckdb"
    shutil.copy(duckdb_path(anomaly_world.url), target)
    url = f"duckdb:///{target}"
    assert main(["detect", "--database", url]) == 0
    out = capsys.readouterr().out
    engine = create_engine(url)
    run = latest_run(engine, ["benefits", "civil", "revenue", "transport"])
    flags = latest_flags(engine, ["benefits", "civil", "revenue", "transport"])
    engine.dispose()
    assert run["run_id"] == anomaly_world.run_id + 1
    assert f"run {run['run_id']} stored: {flags.height} flags on {run['series_count']} series" in out
    assert sorted(flags["flag_key"].to_list()) == sorted(anomaly_world.detection.flags["flag_key"].to_list())  # deterministic


@pytest.mark.slow  # a whole detection run over the small world through the command line
def test_detect_if_missing_does_nothing_when_the_stored_run_is_up_to_date(anomaly_world, tmp_path, capsys):
    target = tmp_path / "detect.duckdb"
    shutil.copy(duckdb_path(anomaly_world.url), target)
    url = f"duckdb:///{target}"
    assert main(["detect", "--database", url, "--if-missing", "--quiet"]) == 0
    first = capsys.readouterr().out
    assert main(["detect", "--database", url, "--if-missing"]) == 0
    second = capsys.readouterr().out
    engine = create_engine(url)
    run = latest_run(engine, ["benefits", "civil", "revenue", "transport"])
    engine.dispose()
    assert "stored" in first or "up to date" in first
    assert f"run {run['run_id']} is up to date with the data" in second


def test_detect_on_a_missing_database_is_one_line(tmp_path, capsys):
    assert main(["detect", "--database", f"duckdb:///{tmp_path / 'nothing' / 'x.duckdb'}"]) == 2
    assert capsys.readouterr().err.startswith("error: database URL")


def test_the_old_names_under_python_m_forecasting_run_the_same_commands(series_csv, tmp_path, capsys):
    assert main(["detect-csv", "--csv", str(series_csv), "--format", "csv"]) == 0
    new = capsys.readouterr()
    assert forecasting_main(["anomalies", "--csv", str(series_csv), "--format", "csv"]) == 0
    assert capsys.readouterr() == new
    assert forecasting_main(["detect", "--database", f"duckdb:///{tmp_path / 'nothing' / 'x.duckdb'}"]) == 2
    assert capsys.readouterr().err.startswith("error: database URL")


def test_a_collapse_after_earlier_shocks_is_flagged_with_its_scale(tmp_path, capsys):
    """Earlier unflagged-looking shocks (spikes of 1.8x every few weeks) do not inflate
    the scale enough to hide a day at 6% of its expected level (issue 16)."""
    rng = np.random.default_rng(3)
    y = rng.poisson(400, 280).astype(int)
    y[100::23] = (y[100::23] * 1.8).astype(int)
    y[250] = 24
    rows = [("calls", (START + timedelta(days=i)).isoformat(), int(v)) for i, v in enumerate(y)]
    path = tmp_path / "calls.csv"
    pl.DataFrame(rows, schema=["series_id", "ds", "y"], orient="row").write_csv(path)
    assert main(["detect-csv", "--csv", str(path), "--format", "csv"]) == 0
    flags = pl.read_csv(io.StringIO(capsys.readouterr().out), try_parse_dates=True)
    row = flags.filter(pl.col("ds") == START + timedelta(days=250)).row(0, named=True)
    assert row["direction"] == "down" and row["actual"] == 24
    assert row["scale"] > 0 and "noise scales of" in row["explanation"] and "of the expected level" in row["explanation"]


def test_a_weekly_file_is_read_at_its_own_frequency(tmp_path, capsys):
    rng = np.random.default_rng(4)
    y = rng.poisson(2000, 80).astype(int)
    y[60] = 600
    rows = [("w", (START + timedelta(weeks=i)).isoformat(), int(v)) for i, v in enumerate(y)]
    path = tmp_path / "weekly.csv"
    pl.DataFrame(rows, schema=["series_id", "ds", "y"], orient="row").write_csv(path)
    assert main(["detect-csv", "--csv", str(path), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "(weekly;" in captured.err and "weeks scored" in captured.err
    flags = pl.read_csv(io.StringIO(captured.out), try_parse_dates=True)
    assert flags["ds"].to_list() == [START + timedelta(weeks=60)]
