"""The usual mistakes give one line that says what is wrong and what to do (asserted by text)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import data.database
from data.__main__ import main
from data.database import DatabaseError
from data.importer import ImportFailed, import_file, load_mapping
from data.importer.mapping import MAPPINGS_DIR
from tests.imports import boston
from tests.imports.conftest import rows, scalar

CASES = [
    boston.case(101, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM"),
    boston.case(102, "01/05/2015 09:30:00 AM"),
    boston.case(103, "01/05/2015 10:00:00 AM"),
]


def test_an_unknown_mapping_lists_the_known_ones():
    with pytest.raises(ImportFailed) as error:
        load_mapping("bostn311")
    assert str(error.value) == (
        "unknown mapping 'bostn311' (did you mean 'boston311'?); known mappings: anonbank_calls, boston311, gp_fft, nhs_ae, nhs_ae_admissions, rosters_example "
        "(or give the path of a .toml file)"
    )


def test_missing_columns_are_named_with_close_matches_from_the_header(tmp_path):
    header = [("OPEN_DATE" if c == "OPEN_DT" else "source" if c == "Source" else c) for c in boston.HEADER]
    export = boston.write(tmp_path / "renamed.csv",
                          [{("OPEN_DATE" if k == "OPEN_DT" else "source" if k == "Source" else k): v for k, v in c.items()}
                           for c in CASES], header=header)
    with pytest.raises(ImportFailed) as error:
        import_file(export, "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert str(error.value).startswith(
        "renamed.csv lacks columns 'Source' (did you mean 'source'?), 'OPEN_DT' (did you mean 'OPEN_DATE'?) "
        "that mapping boston311 reads; its header has: CASE_ENQUIRY_ID, OPEN_DATE, TARGET_DT"
    )
    assert not (tmp_path / "kpi.duckdb").exists()


def test_dates_in_another_format_stop_the_import_with_line_numbers_and_examples(tmp_path):
    iso = [dict(c, OPEN_DT=f"2015-01-05 09:{i:02d}:00") for i, c in enumerate(CASES)]
    with pytest.raises(ImportFailed) as error:
        import_file(boston.write(tmp_path / "iso.csv", iso), "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert str(error.value) == (
        "iso.csv: 3 of 3 values of OPEN_DT (100%) are not timestamps in the format the mapping gives, e.g. "
        "line 2: '2015-01-05 09:00:00'; line 3: '2015-01-05 09:01:00'; line 4: '2015-01-05 09:02:00'. "
        "Fix [fields.submitted_at] in mapping boston311 (or raise [source] max_unparseable above 0.1 to quarantine "
        "such rows instead)"
    )


def test_a_few_unparseable_dates_are_quarantined_with_their_line(tmp_path):
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    cases = [boston.case(200 + i, f"01/{i % 28 + 1:02d}/2015 09:00:00 AM") for i in range(30)]
    cases[16]["OPEN_DT"] = "31/01/2015 09:00:00 AM"  # day and month swapped: line 18
    result = import_file(boston.write(tmp_path / "one_bad.csv", cases), "boston311", url)
    assert result.reconciliation.quarantined == {"bad_timestamp": 1}
    assert result.reconciliation.inserted == 29
    (line, column, rule, message, raw), = rows(url, "SELECT line, column_name, rule, message, raw_row FROM import_rejects")
    assert (line, column, rule) == (18, "OPEN_DT", "bad_timestamp")
    assert message == "OPEN_DT '31/01/2015 09:00:00 AM' is not a timestamp like %m/%d/%Y %I:%M:%S %p"
    assert '"CASE_ENQUIRY_ID":"216"' in raw
    assert "e.g. line 18: OPEN_DT '31/01/2015 09:00:00 AM' is not a timestamp" in result.report()


def test_the_wrong_delimiter_is_named(tmp_path):
    export = boston.write(tmp_path / "semicolons.csv", CASES, delimiter=";")
    with pytest.raises(ImportFailed) as error:
        import_file(export, "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert str(error.value) == (
        "semicolons.csv: the header does not split on ',' into columns but does on ';': set delimiter = ';' "
        "in the [source] of mapping boston311"
    )


def _cp1252_cases() -> list[dict[str, str]]:
    return [dict(c, TYPE="Café permit") for c in CASES]


def test_a_file_in_another_encoding_is_named(tmp_path):
    export = boston.write(tmp_path / "windows.csv", _cp1252_cases(), encoding="cp1252")
    with pytest.raises(ImportFailed) as error:
        import_file(export, "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert str(error.value).startswith(
        "windows.csv: 3 of 3 lines (100%) fail bad_encoding (e.g. line 2: byte 0xe9 at position"
    )
    assert str(error.value).endswith(
        "is not valid utf-8); is the file in another encoding? set encoding = 'cp1252' (or the file's own) in the "
        "[source] of boston311"
    )
    # Saying so in the mapping imports it.
    mapping = tmp_path / "boston_cp1252.toml"
    mapping.write_text((MAPPINGS_DIR / "boston311.toml").read_text().replace(
        'timezone = "America/New_York"   #', 'encoding = "cp1252"\ntimezone = "America/New_York"   #', 1))
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    assert import_file(export, mapping, url).reconciliation.inserted == 3
    assert scalar(url, "SELECT name FROM services") == "Café permit"


def test_a_header_in_another_encoding_is_named(tmp_path):
    header = [("OPEN_DT" if c == "OPEN_DT" else c) for c in boston.HEADER] + ["Numéro"]
    export = boston.write(tmp_path / "header.csv", CASES, header=header, encoding="cp1252")
    with pytest.raises(ImportFailed) as error:
        import_file(export, "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert "header.csv: the header is not valid utf-8 (byte 0xe9 at position" in str(error.value)
    assert "set encoding = 'cp1252' (or the file's encoding) in the mapping's [source]" in str(error.value)


def test_a_mapping_with_several_mistakes_reports_them_all(tmp_path):
    mapping = tmp_path / "broken.toml"
    mapping.write_text("""
[source]
name = "broken"
key = ["ID"]
timezone = "Boston"

[target]
table = "cases"

[fields]
submitted_at = { from = "OPENED", timestmp = "%Y" }
channel = { from = "HOW", map = { a = "phone" } }

[[rules]]
name = "x"
action = "drop"
when = "channel = 'phone'"
""")
    with pytest.raises(ImportFailed) as error:
        load_mapping(mapping)
    message = str(error.value)
    assert message.startswith("mapping broken.toml: ")
    for problem in (
        "[source]: 'Boston' is not a time zone (use an IANA name such as 'Europe/London')",
        "[fields.submitted_at] has unknown option 'timestmp' (did you mean 'timestamp'",
        "[[rules]] 'x' action must be one of exclude, quarantine, repair, flag",
        "[fields] gives no service_id, which cases needs",
        "[fields] gives no status, which cases needs",
    ):
        assert problem in message


def test_an_empty_file_and_a_missing_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ImportFailed, match="empty.csv is empty: there is no header line with the column names"):
        import_file(tmp_path / "empty.csv", "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    with pytest.raises(ImportFailed, match=f"no file {tmp_path / 'nowhere.csv'}"):
        import_file(tmp_path / "nowhere.csv", "boston311", f"duckdb:///{tmp_path / 'kpi.duckdb'}")


def test_the_command_line_prints_one_line_and_exits_2(tmp_path, capsys):
    export = boston.write(tmp_path / "export.csv", CASES)
    code = main(["import", str(export), "--mapping", "nope", "--database", f"duckdb:///{tmp_path / 'kpi.duckdb'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: unknown mapping 'nope'; known mappings: anonbank_calls, boston311, gp_fft, nhs_ae, nhs_ae_admissions, rosters_example "
                   "(or give the path of a .toml file)\n")
    code = main(["import", str(export), "--mapping", "boston311", "--database", f"duckdb:///{tmp_path / 'kpi.duckdb'}",
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"Imported export.csv into cases of DuckDB file {tmp_path / 'kpi.duckdb'}, mapping boston311, load 1\n")
    assert "  read = loaded + excluded + quarantined: 3 = 3 + 0 + 0\n" in out


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_duckdb_file_locked_by_another_process_is_named_after_retrying(tmp_path, monkeypatch, capsys):
    path = tmp_path / "kpi.duckdb"
    url = f"duckdb:///{path}"
    export = boston.write(tmp_path / "export.csv", CASES)
    import_file(export, "boston311", url)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(data.database, "LOCK_RETRY_SECONDS", 1.0)
        started = time.monotonic()
        with pytest.raises(DatabaseError) as error:
            import_file(boston.write(tmp_path / "newer.csv", CASES[:1]), "boston311", url, quiet=False)
        assert time.monotonic() - started >= 1.0  # it retried before giving up
    finally:
        holder.kill()
        holder.wait()
    assert str(error.value) == (
        f"DuckDB file {path} is locked by another process (an import or a forecast run?); retried for 1 s. "
        "Try again when it has finished."
    )
    assert f"DuckDB file {path} is locked by another process; waiting for it" in capsys.readouterr().err


def test_a_field_left_as_text_for_a_timestamp_column_is_named(tmp_path):
    mapping = tmp_path / "no_format.toml"
    mapping.write_text((MAPPINGS_DIR / "boston311.toml").read_text().replace(
        '[fields.submitted_at]\nfrom = "OPEN_DT"\ntimestamp = "%m/%d/%Y %I:%M:%S %p"',
        '[fields.submitted_at]\nfrom = "OPEN_DT"'))
    with pytest.raises(ImportFailed) as error:
        import_file(boston.write(tmp_path / "export.csv", CASES), mapping, f"duckdb:///{tmp_path / 'kpi.duckdb'}")
    assert str(error.value) == (
        "[fields.submitted_at] of mapping no_format is text, but cases.submitted_at is TIMESTAMP: read it with "
        'timestamp = "FORMAT", e.g. timestamp = "%d/%m/%Y %H:%M"'
    )


def test_a_case_closed_weeks_before_it_opened_is_quarantined_not_a_crash(tmp_path):
    """Beyond the one-minute clock-skew repair, the check closed_at >= submitted_at
    quarantines the row with both values in the message."""
    url = f"duckdb:///{tmp_path / 'kpi.duckdb'}"
    cases = [boston.case(300 + i, "01/05/2015 09:00:00 AM", "01/06/2015 10:00:00 AM") for i in range(10)]
    cases.append(boston.case(399, "01/28/2015 09:00:00 AM", "01/02/2015 10:00:00 AM"))
    result = import_file(boston.write(tmp_path / "backwards.csv", cases), "boston311", url)
    assert result.reconciliation.inserted == 10
    assert sum(result.reconciliation.quarantined.values()) == 1
    assert result.reconciliation.balanced
    (message,), = rows(url, "SELECT message FROM import_rejects")
    assert "closed_at" in message and "submitted_at" in message
