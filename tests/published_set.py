"""A small set of published series, imported through the importer like any export: a
monthly share of passports issued on time (civil's passport service, per office), and one
month of tax refunds paid on time (revenue's tax refund service). The observations carry
no department: they belong to their service's department (sql/observations.sql).

Hand-computed (the small world ends on Sunday 22 November 2026, week 2026-W47):
- passport_standard, latest month over by 22 Nov 2026: Oct 2026, (60 + 90) / (100 + 100)
  = 75.00%, target 80%: off target (below 76%, amber's lower edge); previous month Sep
  2026 (80 + 80) / 200 = 80.00% (-5.00 pts); same month last year Oct 2025 90 / 100 =
  90.00% (-15.00 pts). November 2026 (10 / 100) is not over by 22 Nov, so not the latest.
  By office in Oct 2026: Leeds 60.00%, Newcastle 90.00%.
- As of week 2026-W43 (ends 25 Oct): latest Sep 2026 80.00%, on target; Aug 2026 and
  Sep 2025 not published.
- refund_standard: Oct 2026 95 / 100 = 95.00% against 90%: on target; revenue's only.
"""

from __future__ import annotations

from pathlib import Path

from data.importer import ImportResult, import_file

MAPPING = """
description = "Test set: service standards met per service, office and month."

[source]
name = "published_test"
key = ["month", "series", "office"]
timezone = "Europe/London"

[target]
table = "observations"

[fields]
period_start = { from = "month", period = "month" }
series = { from = "series" }
label = { from = "label" }
numerator = { from = "met", type = "float" }
denominator = { from = "total", type = "float" }
target = { from = "target", type = "float" }
service_id = { from = "service" }
department = { from = "department" }
service_name = { from = "service_name" }
office_id = { from = "office" }
office_name = { from = "office_name" }

[dimensions.departments]
department_id = "department"
name = "department"

[dimensions.services]
service_id = "service_id"
department_id = "department"
name = "service_name"
digital = true

[dimensions.offices]
office_id = "office_id"
name = "office_name"
region = { value = "North" }
kind = { value = "service_centre" }
timezone = { value = "Europe/London" }

[dimensions.series]
series_id = "series"
label = "label"
unit = { value = "%" }
direction = { value = "higher" }
kind = { value = "ratio" }
"""

PASSPORT = "passport_standard,Passports issued within 3 weeks,civil,passport,Passport application"
REFUND = "refund_standard,Tax refunds paid within 10 days,revenue,tax_refund,Tax refund claim"
LEEDS, NEWCASTLE = "leeds,Leeds Service Centre", "newcastle,Newcastle Service Centre"
FILE = f"""month,series,label,department,service,service_name,office,office_name,met,total,target
2025-10-01,{PASSPORT},{LEEDS},90.0,100.0,0.8
2026-09-01,{PASSPORT},{LEEDS},80.0,100.0,0.8
2026-09-01,{PASSPORT},{NEWCASTLE},80.0,100.0,0.8
2026-10-01,{PASSPORT},{LEEDS},60.0,100.0,0.8
2026-10-01,{PASSPORT},{NEWCASTLE},90.0,100.0,0.8
2026-11-01,{PASSPORT},{LEEDS},10.0,100.0,0.8
2026-10-01,{REFUND},{LEEDS},95.0,100.0,0.9
"""


def import_published_set(url: str, folder: Path) -> ImportResult:
    """Import the set into the database at ``url`` (files written in ``folder``)."""
    mapping, export = folder / "published_test.toml", folder / "published_test.csv"
    mapping.write_text(MAPPING)
    export.write_text(FILE)
    return import_file(export, mapping, url)
