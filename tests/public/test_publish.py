"""Open-data releases: frictionless validation, reproducibility, what they may not contain,
the numbers against plain SQL, the settings' checks and the audit record."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from data.database import create_engine
from data.demo_world import SERVICES
from metrics.__main__ import main as metrics_main
from metrics.disclosure import HIDDEN
from metrics.publish import DATASETS, Column, Dataset, PublicationError, load_publication, publish, to_csv, window
from tests.public.conftest import PUBLISHED

UNPUBLISHED = [s.service_id for s in SERVICES if s.service_id not in PUBLISHED]


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_release_is_a_valid_frictionless_data_package(release: dict) -> None:
    import frictionless

    report = frictionless.validate(Path(release["folder"]) / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_the_datapackage_names_licence_rule_publisher_period_and_definitions(release: dict) -> None:
    package = json.loads((Path(release["folder"]) / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    assert package["publisher"] == "Test Performance Team"
    assert package["period"] == {"grain": "month", "first_day": "2025-11-01", "last_day": "2026-10-31", "latest_three_months": "2026-08 to 2026-10"}
    assert "Counts from 1 to 7 are suppressed" in package["disclosure"]["rule"]
    assert {r["path"] for r in package["resources"]} == {f"{name}.csv" for name in DATASETS}
    fields = {f["name"]: f for r in package["resources"] for f in r["schema"]["fields"]}
    assert fields["half_within_days"]["unit"] == "days"
    assert fields["half_within_days"]["definition"].startswith("median of closed_at - submitted_at")
    assert fields["digital_take_up"]["kpi"] == "digital_take_up"
    assert all(f.get("description") for f in fields.values())


def test_the_same_data_gives_byte_identical_files(duckdb_url: str, publication_file: Path, release: dict, tmp_path: Path) -> None:
    engine = create_engine(duckdb_url)
    try:
        again = publish(engine, tmp_path, publication=load_publication(publication_file))
    finally:
        engine.dispose()
    assert again["version"] == release["version"]
    assert _files(Path(again["folder"])) == _files(Path(release["folder"]))
    assert (tmp_path / "latest.txt").read_text().strip() == release["version"]


def _cells(folder: Path):
    """(file, column, text) of every cell of every CSV."""
    for path in sorted(folder.glob("*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            for column, text in row.items():
                yield path.name, column, text


def test_no_file_holds_an_unpublished_service_a_case_id_or_a_count_from_1_to_7(release: dict) -> None:
    folder = Path(release["folder"])
    package = json.loads((folder / "datapackage.json").read_text())
    counts = {(r["path"], f["name"]) for r in package["resources"] for f in r["schema"]["fields"] if f.get("unit") == "count"}
    assert counts, "no count fields found"
    seen_counts = 0
    for name, column, text in _cells(folder):
        if (name, column) in counts and text not in ("", "*"):
            seen_counts += 1
            assert not 1 <= int(text) <= 7, f"{name} {column}: {text}"
            assert int(text) % 5 == 0
    assert seen_counts > 100
    for path in folder.iterdir():
        text = path.read_text()
        for service in UNPUBLISHED:
            assert not re.search(rf"\b{service}\b", text), f"{path.name} names unpublished {service}"
        assert not re.search(r"case_id|contact_id|journey_id|feedback_id", text)
    services = {text for name, column, text in _cells(folder) if column == "service_id"}
    assert services == set(PUBLISHED)


def test_suppressed_cells_are_stars_and_totals_are_rounded(release: dict) -> None:
    decided = pl.read_csv(Path(release["folder"]) / "processing_times.csv", infer_schema=False)
    assert (decided["applications_decided"] == "*").sum() > 0
    # no office total with exactly one hidden office: the hidden one would be the difference
    for (_period, _service), group in decided.group_by(["period", "service_id"]):
        parts = group.filter(pl.col("office_id") != "all")
        total = group.filter(pl.col("office_id") == "all")["applications_decided"].item()
        hidden = (parts["applications_decided"] == "*").sum() + (total == "*")
        assert hidden != 1, group


def test_numbers_match_plain_sql(duckdb_url: str, release: dict) -> None:
    """Received in October 2026 and the 3-month median, read independently with SQL."""
    engine = create_engine(duckdb_url)
    with engine.connect() as conn:
        # October 2026 in London: 30 Sep 23:00 UTC (BST) to 1 Nov 00:00 UTC (GMT)
        received = conn.exec_driver_sql(
            "SELECT count(*) FROM cases WHERE service_id = 'passport' "
            "AND submitted_at >= TIMESTAMP '2026-09-30 23:00:00' AND submitted_at < TIMESTAMP '2026-11-01 00:00:00'"
        ).scalar_one()
        # August to October 2026: 31 Jul 23:00 UTC to 1 Nov 00:00 UTC; administrative closes (< 60 s)
        # and withdrawn applications (cancelled: never decided) left out
        median = conn.exec_driver_sql(
            "SELECT median(epoch(closed_at - submitted_at) / 86400.0), count(*) FROM cases WHERE service_id = 'passport' "
            "AND closed_at >= TIMESTAMP '2026-07-31 23:00:00' AND closed_at < TIMESTAMP '2026-11-01 00:00:00' "
            "AND epoch(closed_at - submitted_at) >= 60 AND status <> 'cancelled'"
        ).one()
    engine.dispose()
    folder = Path(release["folder"])
    performance = pl.read_csv(folder / "service_performance.csv", infer_schema=False)
    row = performance.filter(pl.col("service_id") == "passport", pl.col("period") == "2026-10")
    assert int(row["applications_received"].item()) == 5 * round(received / 5)
    times = pl.read_csv(folder / "processing_times.csv", infer_schema=False)
    row = times.filter(pl.col("service_id") == "passport", pl.col("period") == "2026-08 to 2026-10", pl.col("office_id") == "all")
    assert float(row["half_within_days"].item()) == pytest.approx(median[0], abs=0.051)
    assert int(row["applications_decided"].item()) == 5 * round(median[1] / 5)


def test_csv_cells_are_neutralised_against_formulas_and_numbers_stay_numbers() -> None:
    dataset = Dataset("t", "t", "t", (Column("name", "string", "Name", "x"), Column("n", "integer", "N", "x", "count"), Column("v", "number", "V", "x")), ("name",))
    frame = pl.DataFrame({"name": ["=cmd()", "+1", "-x", "@a", "\tt", "\rr", "ok"], "n": [10, None, None, 0, 5, 15, 20],
                          f"n{HIDDEN}": [False, True, False, False, False, False, False], "v": [-1.26, 2.0, None, 0.0, 1.0, 1.0, 1.0]})
    rows = list(csv.reader(io.StringIO(to_csv(frame, dataset).decode(), newline="")))
    assert [r[0] for r in rows[1:]] == ["'=cmd()", "'+1", "'-x", "'@a", "'\tt", "'\rr", "ok"]
    assert [r[1] for r in rows[1:]] == ["10", "*", "", "0", "5", "15", "20"]
    assert rows[1][2] == "-1.3"  # a negative number is a number, not a formula


def test_the_window_is_twelve_complete_months_or_four_quarters() -> None:
    month = window(date(2026, 11, 22), "month")
    assert (month.first_day, month.last_day, month.recent_label) == (date(2025, 11, 1), date(2026, 10, 31), "2026-08 to 2026-10")
    assert window(date(2026, 10, 31), "month").last_day == date(2026, 10, 31)
    quarter = window(date(2026, 11, 22), "quarter")
    assert (quarter.first_day, quarter.last_day, quarter.pooled) == (date(2025, 10, 1), date(2026, 9, 30), False)


@pytest.mark.parametrize(("text", "message"), [
    ("[departments.revenue]\nservices = \"self_assessment\"\n", r"line 2: departments.revenue.services: must be a list of ids"),
    ("[release]\npublisher = \"x\"\ncolour = \"red\"\n", r"line 3: release.colour: unknown key"),
    ("[disclosure]\nround_to = 0\n", r"disclosure: round_to must be 1 or more, not 0"),
    ("[disclosure]\nmin_base = \"8\"\n", r"line 2: disclosure.min_base: must be a whole number"),
    ("[departments.revenue]\noffices = [\"leeds\"]\n", r"line 1: departments.revenue: names no services"),
    ("[departments.revenue\n", r"publication.toml: "),
])
def test_settings_errors_name_the_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "publication.toml"
    path.write_text(text)
    with pytest.raises(PublicationError, match=message):
        load_publication(path)


def test_the_shipped_settings_publish_nothing() -> None:
    assert load_publication().services == []


def test_names_the_data_lacks_are_refused_with_their_line(duckdb_url: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "publication.toml"
    path.write_text('[departments.civil]\nservices = ["passport", "vehicle_tax"]\noffices = ["atlantis"]\n')
    code = metrics_main(["publish", "--out", str(tmp_path / "out"), "--config", str(path), "--database", duckdb_url])
    error = capsys.readouterr().err
    assert code == 2
    assert "line 2: departments.civil.services: service 'vehicle_tax' belongs to 'transport', not 'civil'" in error
    assert "line 3: departments.civil.offices: no office 'atlantis'" in error
    assert not (tmp_path / "out").exists()


def test_nothing_to_publish_is_refused(duckdb_url: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "publication.toml"
    path.write_text("[release]\npublisher = \"x\"\n")
    assert metrics_main(["publish", "--out", str(tmp_path / "out"), "--config", str(path), "--database", duckdb_url]) == 2
    assert "no department publishes any service" in capsys.readouterr().err


def test_every_release_is_recorded_on_postgresql_and_gives_the_same_files(postgres_url: str, publication_file: Path, release: dict, tmp_path: Path) -> None:
    engine = create_engine(postgres_url)
    try:
        first = publish(engine, tmp_path, publication=load_publication(publication_file))
        second = publish(engine, tmp_path, publication=load_publication(publication_file))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT release_id, version, grain, services, disclosure_rule, licence FROM releases ORDER BY release_id")).all()
    finally:
        engine.dispose()
    assert [r.release_id for r in rows][-2:] == [first["release_id"], second["release_id"]] == [first["release_id"], first["release_id"] + 1]
    assert rows[-1].version == release["version"]  # PostgreSQL gives the same release as DuckDB
    assert set(rows[-1].services.split(",")) == set(PUBLISHED)
    assert rows[-1].licence == "OGL-UK-3.0" and rows[-1].disclosure_rule.startswith("suppress-1-7")
    assert _files(Path(first["folder"])) == _files(Path(release["folder"]))


def test_the_duckdb_release_is_recorded(duckdb_url: str, release: dict) -> None:
    engine = create_engine(duckdb_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT version, folder, files, digest FROM releases WHERE release_id = :id"), {"id": release["release_id"]}).one()
    engine.dispose()
    assert (row.version, row.folder, row.files) == (release["version"], release["folder"], 5)
