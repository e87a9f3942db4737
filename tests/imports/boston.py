"""Small exports in Boston 311's layout, written by the tests (no real data copied)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADER = [
    "CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "OnTime_Status", "CASE_STATUS", "CLOSURE_REASON",
    "CASE_TITLE", "SUBJECT", "REASON", "TYPE", "QUEUE", "Department", "SubmittedPhoto", "ClosedPhoto", "Location",
    "fire_district", "pwd_district", "city_council_district", "police_district", "neighborhood",
    "neighborhood_services_district", "ward", "precinct", "land_usage", "LOCATION_STREET_NAME", "LOCATION_ZIPCODE",
    "Property_Type", "Property_ID", "LATITUDE", "LONGITUDE", "Source", "Geocoded_Location",
]


def case(case_id: int, opened: str, closed: str = "", *, target: str = "", source: str = "Constituent Call",
         subject: str = "Public Works Department", kind: str = "Street Light Outages", reason: str = "") -> dict[str, str]:
    """One case; times as Boston writes them, e.g. '01/05/2015 09:30:00 AM'."""
    return {
        "CASE_ENQUIRY_ID": str(case_id),
        "OPEN_DT": opened,
        "TARGET_DT": target,
        "CLOSED_DT": closed,
        "OnTime_Status": "ONTIME",
        "CASE_STATUS": "Closed" if closed else "Open",
        "CLOSURE_REASON": reason or ("Case Closed Case Resolved fixed" if closed else ""),
        "CASE_TITLE": "Street Light Outages",
        "SUBJECT": subject,
        "REASON": "Street Lights",
        "TYPE": kind,
        "QUEUE": "PWDx_Street Light Outages",
        "Department": "PWDx",
        "Location": "1 City Hall Plaza  Boston  MA  02108",
        "LATITUDE": "42.3594",
        "LONGITUDE": "-71.0587",
        "Source": source,
        "Geocoded_Location": "(42.3594, -71.0587)",
    }


def write(path: Path, cases: list[dict[str, str]], *, delimiter: str = ",", header: list[str] | None = None,
          line_end: str = "\n", encoding: str = "utf-8") -> Path:
    """The cases as a CSV (or TSV) file with Boston's header."""
    columns = header or HEADER
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(columns)
    for row in cases:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
