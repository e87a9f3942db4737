"""Hypothesis: malformed files never crash the importer and never lose a row.

Files are written from known rows, then some lines are damaged the ways real exports are:
a stray or unbalanced quote, a truncated line, an extra field, a date in another format,
bytes that are not UTF-8, a NUL, blank lines, Windows line ends. Whatever the damage:

- the import finishes (the mapping quarantines rather than stops: max_unparseable = 1);
- read = loaded + excluded + quarantined, and every quarantined row is in import_rejects
  with a line inside the file;
- every undamaged row is loaded with exactly its values, whatever the damage around it
  (a stray quote never swallows a line that is a whole record by itself);
- with no quote damage, every line after the header is read as one row.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.importer import import_file, load_mapping
from data.importer.reading import DelimitedReader
from tests.imports.conftest import rows

MAPPING = """
[source]
name = "fuzz"
key = ["id"]
timezone = "Europe/London"
max_unparseable = 1.0

[target]
table = "feedback"

[fields]
submitted_at = { from = "when", timestamp = "%Y-%m-%d %H:%M:%S" }
rating = { from = "score", type = "integer" }
channel = { from = "how", map = { web = "online", phone = "phone", app = "mobile_app" } }
office_id = { slug = ["office"] }
office_name = { from = "office" }
service_id = { value = "fuzz_service" }

[dimensions.departments]
department_id = { value = "fuzz" }
name = { value = "Fuzz" }

[dimensions.services]
service_id = "service_id"
department_id = { value = "fuzz" }
name = { value = "Fuzz service" }
digital = true

[dimensions.offices]
office_id = "office_id"
name = "office_name"
region = { value = "Fuzz" }
kind = { value = "service_centre" }
timezone = { value = "Europe/London" }
"""

HEADER = ["id", "when", "score", "how", "office"]
OFFICES = ["Main", "North, upper floor", 'The "Old" Hall', "Café Zürich", "East"]
DAMAGE = ("none", "stray_quote", "open_quote", "truncate", "extra_field", "other_date", "bad_bytes", "nul", "blank_before", "crlf")
QUOTE_DAMAGE = {"stray_quote", "open_quote"}


@st.composite
def exports(draw):
    count = draw(st.integers(min_value=1, max_value=25))
    start = datetime(2024, 1, 1)
    records = []
    for number in range(count):
        records.append({
            "id": str(1000 + number),
            "when": (start + timedelta(minutes=draw(st.integers(0, 500_000)))).strftime("%Y-%m-%d %H:%M:%S"),
            "score": str(draw(st.integers(1, 5))),
            "how": draw(st.sampled_from(["web", "phone", "app"])),
            "office": draw(st.sampled_from(OFFICES)),
        })
    damage = [draw(st.sampled_from(DAMAGE)) if draw(st.booleans()) else "none" for _ in records]
    positions = [draw(st.integers(0, 200)) for _ in records]
    return records, damage, positions


def _line(record: dict[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([record[c] for c in HEADER])
    return buffer.getvalue()


def _damage(line: str, how: str, position: int, record: dict[str, str]) -> bytes:
    at = position % (len(line) + 1)
    if how == "stray_quote":
        return (line[:at] + '"' + line[at:]).encode()
    if how == "open_quote":
        return ('"' + line).encode()
    if how == "truncate":
        return line[: at if at < len(line) else len(line) // 2].encode()
    if how == "extra_field":
        return (line + ",surplus").encode()
    if how == "other_date":
        other = datetime.strptime(record["when"], "%Y-%m-%d %H:%M:%S").strftime("%d/%m/%Y %H:%M")
        return line.replace(record["when"], other).encode()
    if how == "bad_bytes":
        data = line.encode()
        return data[:at] + b"\xff\xfe\x80" + data[at:]
    if how == "nul":
        data = line.encode()
        return data[:at] + b"\x00" + data[at:]
    if how == "blank_before":
        return b"\n" + line.encode()
    if how == "crlf":
        return line.encode() + b"\r"
    return line.encode()


def _write(path: Path, records, damage, positions) -> bytes:
    lines = [",".join(HEADER).encode()]
    lines += [_damage(_line(r), how, p, r) for r, how, p in zip(records, damage, positions, strict=True)]
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(export=exports())
def test_damaged_files_never_crash_and_never_lose_a_row(tmp_path_factory, export):
    records, damage, positions = export
    folder = tmp_path_factory.mktemp("fuzz")
    data = _write(folder / "export.csv", records, damage, positions)
    mapping_path = folder / "fuzz.toml"
    mapping_path.write_text(MAPPING)
    url = f"duckdb:///{folder / 'kpi.duckdb'}"

    result = import_file(folder / "export.csv", load_mapping(mapping_path), url)

    r = result.reconciliation
    assert r.read == r.loaded + r.excluded_total + r.quarantined_total
    physical_lines = data.count(b"\n") - 1  # after the header
    if not QUOTE_DAMAGE & set(damage):
        assert r.read == physical_lines  # one row per line
    else:
        assert r.read <= physical_lines  # a stray quote may join lines into one record
    if result.load_id is None:  # nothing was loadable: nothing written, and nothing to look up
        assert r.loaded == 0
        return
    rejected = rows(url, "SELECT line, rule FROM import_rejects")
    assert len(rejected) == r.quarantined_total
    assert all(2 <= line <= physical_lines + 1 for line, _rule in rejected)
    loaded = {key: (when, rating) for key, when, rating in rows(
        url, "SELECT k.source_key, f.submitted_at, f.rating FROM feedback f JOIN import_keys k ON k.row_id = f.feedback_id")}
    assert len(loaded) == r.loaded
    for record, how in zip(records, damage, strict=True):
        if how not in ("none", "blank_before", "crlf"):
            continue
        when = datetime.strptime(record["when"], "%Y-%m-%d %H:%M:%S")
        assert record["id"] in loaded, f"undamaged row {record['id']} was not loaded"
        stored_when, rating = loaded[record["id"]]
        assert rating == int(record["score"])
        assert abs(stored_when - when) <= timedelta(hours=1)  # London is UTC or UTC+1


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), block_bytes=st.sampled_from([16, 64, 1024, 1 << 20]))
def test_any_bytes_after_a_header_are_read_without_loss(tmp_path_factory, data, block_bytes):
    path = tmp_path_factory.mktemp("bytes") / "noise.csv"
    path.write_bytes(b"a,b,c\n" + data)
    reader = DelimitedReader(path, delimiter=",", quote='"', encoding="utf-8", block_bytes=block_bytes)
    batches = list(reader.batches())
    records = sum(b.frame.height + b.malformed.height for b in batches)
    lines = (data + (b"" if data.endswith(b"\n") or not data else b"\n")).count(b"\n")
    assert records <= lines
    if b'"' not in data:
        assert records == lines
    seen = sorted([*[n for b in batches for n in b.frame["_line"].to_list()],
                   *[n for b in batches for n in b.malformed["_line"].to_list()]])
    assert len(seen) == len(set(seen)) and all(2 <= n <= lines + 1 for n in seen)
