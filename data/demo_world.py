"""The fictional government the generator simulates: departments, services, offices.

Declared as data so that the generator, the tests and the documentation read one list.
Volumes are cases per day nationally at scale 1, averaged over a year; the seasonal
profile named by ``season`` moves them around the year (see generate.SEASONS).
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTRY = "GB"
SUBDIVISION = "ENG"
TIMEZONE = "Europe/London"

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("revenue", "Revenue and Tax"),
    ("transport", "Transport and Licensing"),
    ("benefits", "Benefits and Pensions"),
    ("civil", "Civil Registration and Permits"),
)


@dataclass(frozen=True)
class ServiceSpec:
    service_id: str
    department_id: str
    name: str
    sla_days: int
    digital: bool
    daily_volume: float  # cases a day nationally at scale 1, yearly average
    season: str  # a key of generate.SEASONS
    digital_start: float = 0.0  # share of cases made online or in the app, first day
    digital_end: float = 0.0  # ... and last day (take-up grows in between)
    has_due_dates: bool = True  # False: a legacy system that records no due_at
    work_hours: float = 0.6  # back-office staff hours to process one case
    phone_aht_seconds: float = 300.0  # average handle time of a call about it


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("self_assessment", "revenue", "Self assessment tax return", 20, True, 120, "tax", 0.55, 0.80, work_hours=0.45, phone_aht_seconds=420),
    ServiceSpec("tax_refund", "revenue", "Tax refund claim", 15, True, 60, "flat", 0.45, 0.70, work_hours=0.35),
    ServiceSpec("business_rates", "revenue", "Business rates relief", 30, True, 25, "spring", 0.40, 0.62, work_hours=1.2, phone_aht_seconds=360),
    ServiceSpec("council_tax", "revenue", "Council tax reduction", 15, True, 70, "flat", 0.35, 0.60, has_due_dates=False, work_hours=0.5),
    ServiceSpec("driving_licence", "transport", "Driving licence renewal", 10, True, 110, "summer", 0.60, 0.82, work_hours=0.25, phone_aht_seconds=240),
    ServiceSpec("vehicle_tax", "transport", "Vehicle tax", 7, True, 90, "flat", 0.70, 0.88, work_hours=0.15, phone_aht_seconds=200),
    ServiceSpec("parking_permit", "transport", "Residents' parking permit", 7, True, 45, "autumn", 0.50, 0.75, work_hours=0.3, phone_aht_seconds=220),
    ServiceSpec("blue_badge", "transport", "Blue badge application", 30, True, 20, "flat", 0.30, 0.50, work_hours=0.9, phone_aht_seconds=380),
    ServiceSpec("housing_benefit", "benefits", "Housing benefit claim", 25, True, 55, "winter", 0.30, 0.55, work_hours=1.1, phone_aht_seconds=480),
    ServiceSpec("jobseeker", "benefits", "Jobseeker's allowance claim", 10, True, 70, "winter", 0.40, 0.65, work_hours=0.7, phone_aht_seconds=420),
    ServiceSpec("disability", "benefits", "Disability allowance claim", 40, False, 35, "flat", work_hours=1.6, phone_aht_seconds=540),
    ServiceSpec("pension_credit", "benefits", "Pension credit claim", 20, True, 30, "flat", 0.20, 0.38, work_hours=0.9, phone_aht_seconds=480),
    ServiceSpec("birth_registration", "civil", "Birth registration", 10, False, 45, "summer", work_hours=0.3, phone_aht_seconds=200),
    ServiceSpec("passport", "civil", "Passport application", 15, True, 160, "spring", 0.55, 0.80, work_hours=0.3, phone_aht_seconds=260),
    ServiceSpec("building_permit", "civil", "Building permit", 40, True, 30, "summer", 0.45, 0.70, work_hours=1.8, phone_aht_seconds=360),
    ServiceSpec("marriage_notice", "civil", "Marriage notice", 10, False, 20, "wedding", work_hours=0.4, phone_aht_seconds=240),
)

# region id, name, share of the population
REGIONS: tuple[tuple[str, str, float], ...] = (
    ("north", "North", 0.30),
    ("central", "Central", 0.45),
    ("south", "South", 0.25),
)


@dataclass(frozen=True)
class OfficeSpec:
    office_id: str
    name: str
    region: str
    kind: str  # service_centre, contact_centre, online
    share: float = 1.0  # share of its region's walk-in and mail work (service centres)


OFFICES: tuple[OfficeSpec, ...] = (
    OfficeSpec("leeds", "Leeds Service Centre", "north", "service_centre", 0.6),
    OfficeSpec("newcastle", "Newcastle Service Centre", "north", "service_centre", 0.4),
    OfficeSpec("sheffield_cc", "Sheffield Contact Centre", "north", "contact_centre"),
    OfficeSpec("online_north", "Online (North)", "north", "online"),
    OfficeSpec("birmingham", "Birmingham Service Centre", "central", "service_centre", 0.6),
    OfficeSpec("nottingham", "Nottingham Service Centre", "central", "service_centre", 0.4),
    OfficeSpec("coventry_cc", "Coventry Contact Centre", "central", "contact_centre"),
    OfficeSpec("online_central", "Online (Central)", "central", "online"),
    OfficeSpec("bristol", "Bristol Service Centre", "south", "service_centre", 0.55),
    OfficeSpec("brighton", "Brighton Service Centre", "south", "service_centre", 0.45),
    OfficeSpec("southampton_cc", "Southampton Contact Centre", "south", "contact_centre"),
    OfficeSpec("online_south", "Online (South)", "south", "online"),
)

# Opening hours, local time, per ISO weekday (1 = Monday): (opens hour, closes hour).
HOURS: dict[str, dict[int, tuple[float, float]]] = {
    "service_centre": {1: (9, 17), 2: (9, 17), 3: (9, 17), 4: (9, 17), 5: (9, 17), 6: (9, 13)},
    "contact_centre": {1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 20), 5: (8, 18), 6: (9, 13)},
    "online": {day: (0, 24) for day in range(1, 8)},
}

