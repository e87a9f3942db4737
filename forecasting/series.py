"""The fleet's daily series and the days each one is closed, from database extracts.

Pure functions from frames to frames (no I/O): `forecasting.store` reads the extracts.

Series ids (``kind:member``):

| id | what | department |
|---|---|---|
| ``total`` | every case | none |
| ``service:<service_id>`` | cases of one service | the service's |
| ``office:<office_id>`` | cases handled at one office | none |
| ``channel:<channel>`` | cases made through one channel | none |
| ``contacts:<office_id>`` | calls to a contact centre, visits to a service centre | none |

Cases count on the office's local date of `submitted_at`. The contact series count the
calls and visits that queued (the contacts table), which is what staffing needs: a
contact centre takes several calls per case. A series with no department crosses
departments and is shown only to a viewer of every department (like a contact whose
service is unknown).

Days: a day with no case anywhere in the data is a gap (missing data, left out, never a
zero); otherwise a series without cases that day has a real 0. Closed days are known in
advance: an office is closed on its `office_closures` and on weekdays without
`office_hours` (an office without any hours is taken to be open every day: its hours are
unknown). An office or contacts series is closed when its office is; a service,
channel or total series only when every office that has served it is closed: phone on
Sundays and public holidays, but never the total, because online offices never close.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from forecasting import series_id as ids
from forecasting._frame import DATE, SERIES, VALUE, ForecastInputError

KINDS = ids.FORECAST_KINDS
TOTAL = ids.format_id("total")
NO_CASES = "no cases to forecast: run python -m data generate or import data"
CHANNEL_LABELS = {
    "online": "Online",
    "mobile_app": "Mobile app",
    "phone": "Phone",
    "in_person": "In person",
    "mail": "Mail",
    "other": "Other",
}
CATALOG_SCHEMA = {
    SERIES: pl.String,
    "kind": pl.String,
    "member": pl.String,
    "department_id": pl.String,
    "label": pl.String,
}


@dataclass(frozen=True)
class FleetSeries:
    """Everything the fleet forecasts, as long frames.

    values: series_id, ds, y (counts per day) from each series' first case to its last
        day of data; gaps left out; closed days included as 0 (the models drop them).
    closed_days: series_id, ds: known closed days, history and `horizon` days beyond
        data_end.
    catalog: series_id, kind, member, department_id (None: crosses departments), label.
    data_end: the last local date with a case.
    """

    values: pl.DataFrame
    closed_days: pl.DataFrame
    catalog: pl.DataFrame
    data_end: dt.date

    def subset(self, series_ids: list[str]) -> FleetSeries:
        """The same fleet restricted to some series (unknown ids raise, listing the known)."""
        known = self.catalog[SERIES].to_list()
        unknown = [s for s in series_ids if s not in known]
        if unknown:
            raise ForecastInputError(
                f"unknown series {', '.join(unknown)}; known: {', '.join(known)}"
            )
        keep = pl.col(SERIES).is_in(series_ids)
        return FleetSeries(
            self.values.filter(keep),
            self.closed_days.filter(keep),
            self.catalog.filter(keep),
            self.data_end,
        )

    def until(self, last_day: dt.date) -> FleetSeries:
        """The same fleet as if its data ended on last_day (a replay of a past run).

        Closed days are kept: they are known in advance; closed days right before
        last_day end each series' history, as in build_fleet_series. Raises when last_day is not
        inside the data.
        """
        first = self.values[DATE].min()
        if first is None or not first <= last_day <= self.data_end:  # type: ignore[operator]
            raise ForecastInputError(f"until {last_day}: choose a day from {first} to {self.data_end}.")
        values = _through_trailing_closed_days(self.values.filter(pl.col(DATE) <= last_day), self.closed_days, last_day)
        return FleetSeries(values, self.closed_days, self.catalog, last_day)


def office_closed_days(
    offices: pl.DataFrame,
    office_hours: pl.DataFrame,
    office_closures: pl.DataFrame,
    first_day: dt.date,
    last_day: dt.date,
) -> pl.DataFrame:
    """(office_id, ds) for every day in [first_day, last_day] an office is closed.

    Closed: a weekday without opening hours (for an office that has hours at all) or a
    day in office_closures. Frames as the extracts offices, office_hours, office_closures.
    """
    days = pl.DataFrame({DATE: pl.date_range(first_day, last_day, "1d", eager=True)})
    with_hours = office_hours.select("office_id").unique()
    weekly = (
        offices.select("office_id")
        .join(with_hours, on="office_id", how="semi")
        .join(days.with_columns(pl.col(DATE).dt.weekday().alias("weekday")), how="cross")
        .join(
            office_hours.select("office_id", pl.col("weekday").cast(pl.Int8)),
            on=["office_id", "weekday"],
            how="anti",
        )
        .select("office_id", DATE)
    )
    holidays = office_closures.select(
        "office_id", pl.col("closed_on").cast(pl.Date).alias(DATE)
    ).filter(pl.col(DATE).is_between(first_day, last_day))
    return pl.concat([weekly, holidays]).unique().sort("office_id", DATE)


def _case_counts(daily_demand: pl.DataFrame) -> pl.DataFrame:
    """(series_id, ds, y, office_id) per case series, summed over the other keys."""
    keys = {
        "total": pl.lit(TOTAL),
        "service": ids.id_expr("service", pl.col("service_id")),
        "office": ids.id_expr("office", pl.col("office_id")),
        "channel": ids.id_expr("channel", pl.col("channel")),
    }
    return pl.concat(
        [
            daily_demand.group_by(key.alias(SERIES), DATE, "office_id").agg(
                pl.col("cases").sum().cast(pl.Float64).alias(VALUE)
            )
            for key in keys.values()
        ]
    )


def _zero_filled(counts: pl.DataFrame, data_days: pl.Series) -> pl.DataFrame:
    """(series_id, ds, y): every data day from each series' first day, 0 where absent."""
    daily = counts.group_by(SERIES, DATE).agg(pl.col(VALUE).sum())
    starts = daily.group_by(SERIES).agg(pl.col(DATE).min().alias("first_day"))
    grid = (
        starts.join(pl.DataFrame({DATE: data_days.unique().sort()}), how="cross")
        .filter(pl.col(DATE) >= pl.col("first_day"))
        .drop("first_day")
    )
    return (
        grid.join(daily, on=[SERIES, DATE], how="left")
        .with_columns(pl.col(VALUE).fill_null(0.0))
        .sort(SERIES, DATE)
    )


def _closed_when_all_serving_offices_are(
    serving: pl.DataFrame, office_closed: pl.DataFrame
) -> pl.DataFrame:
    """(series_id, ds) on which every office in `serving` (series_id, office_id) is closed."""
    needed = serving.group_by(SERIES).agg(pl.len().alias("offices"))
    return (
        serving.join(office_closed, on="office_id")
        .group_by(SERIES, DATE)
        .agg(pl.len().alias("closed"))
        .join(needed, on=SERIES)
        .filter(pl.col("closed") == pl.col("offices"))
        .select(SERIES, DATE)
    )


def build_fleet_series(
    daily_demand: pl.DataFrame,
    contact_intervals: pl.DataFrame,
    services: pl.DataFrame,
    offices: pl.DataFrame,
    office_hours: pl.DataFrame,
    office_closures: pl.DataFrame,
    *,
    horizon: int = 28,
) -> FleetSeries:
    """Every series of the fleet with its closed days, from the extracts' frames.

    daily_demand: the extract daily_demand (ds, department_id, service_id, office_id,
    channel, cases). contact_intervals: the extract contact_intervals (may be empty:
    then there are no contacts series). services, offices, office_hours,
    office_closures: the extracts of those names; closures should reach `horizon` days
    beyond the data so that future holidays are forecast as closed.
    Raises ForecastInputError when there is no case at all.
    """
    if daily_demand.height == 0 or daily_demand["cases"].sum() == 0:
        raise ForecastInputError(NO_CASES)
    data_end: dt.date = daily_demand[DATE].max()  # type: ignore[assignment]
    first_day: dt.date = daily_demand[DATE].min()  # type: ignore[assignment]
    case_counts = _case_counts(daily_demand.filter(pl.col("cases") > 0))
    case_values = _zero_filled(case_counts, daily_demand[DATE])

    contacts = contact_intervals.filter(pl.col("arrivals") > 0)
    if contacts.height:
        contact_counts = contacts.group_by(
            ids.id_expr("contacts", pl.col("office_id")).alias(SERIES), DATE, "office_id"
        ).agg(pl.col("arrivals").sum().cast(pl.Float64).alias(VALUE))
        contact_values = _zero_filled(contact_counts, contacts[DATE])
        first_day = min(first_day, contacts[DATE].min())  # type: ignore[type-var]
    else:
        contact_counts = pl.DataFrame(
            schema={SERIES: pl.String, DATE: pl.Date, "office_id": pl.String, VALUE: pl.Float64}
        )
        contact_values = case_values.clear()

    office_closed = office_closed_days(
        offices, office_hours, office_closures, first_day, data_end + dt.timedelta(days=horizon)
    )
    serving = pl.concat([case_counts, contact_counts]).select(SERIES, "office_id").unique()
    starts = pl.concat([case_values, contact_values]).group_by(SERIES).agg(
        pl.col(DATE).min().alias("first_day")
    )
    closed = (
        _closed_when_all_serving_offices_are(serving, office_closed)
        .join(starts, on=SERIES)
        .filter(pl.col(DATE) >= pl.col("first_day"))
        .select(SERIES, DATE)
        .sort(SERIES, DATE)
    )
    values = _through_trailing_closed_days(
        pl.concat([case_values, contact_values]), closed, data_end
    )
    catalog = _catalog(values[SERIES].unique().to_list(), services, offices)
    return FleetSeries(values, closed, catalog, data_end)


def _through_trailing_closed_days(
    values: pl.DataFrame, closed: pl.DataFrame, data_end: dt.date
) -> pl.DataFrame:
    """Values extended by 0 rows over closed days right after each series' last day.

    Why: the contacts table has no row on a Sunday, so without this a contact series
    whose data ends on a Saturday would end a day before the cases and be forecast from
    a different first day; a closed day is known, not missing.
    """
    last = values.group_by(SERIES).agg(pl.col(DATE).max().alias("last_day"))
    trailing = (
        closed.join(last, on=SERIES)
        .filter((pl.col(DATE) > pl.col("last_day")) & (pl.col(DATE) <= data_end))
        .sort(SERIES, DATE)
        .with_columns(
            (
                (pl.col(DATE) - pl.col("last_day")).dt.total_days()
                == pl.int_range(1, pl.len() + 1).over(SERIES)
            ).alias("next_day")
        )
        .filter(pl.col("next_day").cum_min().over(SERIES))  # stop at the first open day
        .select(SERIES, DATE, pl.lit(0.0).alias(VALUE))
    )
    return pl.concat([values, trailing]).sort(SERIES, DATE)


def _catalog(series_ids: list[str], services: pl.DataFrame, offices: pl.DataFrame) -> pl.DataFrame:
    """series_id, kind, member, department_id, label, in KINDS order then by id."""
    service_of = {row["service_id"]: row for row in services.iter_rows(named=True)}
    office_of = {row["office_id"]: row for row in offices.iter_rows(named=True)}
    rows = []
    for series_id in series_ids:
        kind, member = ids.parse(series_id, KINDS)
        department = None
        if kind == "total":
            label = "All cases"
        elif kind == "service":
            service = service_of.get(member, {})
            label = service.get("name", member)
            department = service.get("department_id")
        elif kind == "channel":
            label = CHANNEL_LABELS.get(member, member)
        else:
            office = office_of.get(member, {})
            name = office.get("name", member)
            if kind == "office":
                label = name
            else:
                verb = {"contact_centre": "Calls to", "service_centre": "Visits to"}
                label = f"{verb.get(office.get('kind'), 'Contacts at')} {name}"
        rows.append((series_id, kind, member, department, label))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return (
        pl.DataFrame(rows, schema=CATALOG_SCHEMA, orient="row")
        .with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int8).alias("_order"))
        .sort("_order", SERIES)
        .drop("_order")
    )


def history_summary(fleet: FleetSeries) -> pl.DataFrame:
    """Per series: first_day, last_day, open_days, closed_days (in the history), gap_days.

    gap_days: days inside the series' range with no data anywhere, not closed.
    """
    spans = fleet.values.group_by(SERIES).agg(
        pl.col(DATE).min().alias("first_day"), pl.col(DATE).max().alias("last_day")
    )
    closed_in_history = (
        fleet.closed_days.join(spans, on=SERIES)
        .filter(pl.col(DATE) <= pl.col("last_day"))
        .group_by(SERIES)
        .agg(pl.len().cast(pl.Int32).alias("closed_days"))
    )
    open_days = (
        fleet.values.join(fleet.closed_days, on=[SERIES, DATE], how="anti")
        .group_by(SERIES)
        .agg(pl.len().cast(pl.Int32).alias("open_days"))
    )
    return (
        spans.join(open_days, on=SERIES, how="left")
        .join(closed_in_history, on=SERIES, how="left")
        .with_columns(pl.col("open_days", "closed_days").fill_null(0))
        .with_columns(
            (
                ((pl.col("last_day") - pl.col("first_day")).dt.total_days() + 1)
                - pl.col("open_days")
                - pl.col("closed_days")
            )
            .cast(pl.Int32)
            .alias("gap_days")
        )
        .select(SERIES, "first_day", "last_day", "open_days", "closed_days", "gap_days")
        .sort(SERIES)
    )
