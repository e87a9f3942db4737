"""Disclosure control: hand-computed cases and properties of ``metrics.disclosure.disclose``."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.disclosure import HIDDEN, SECONDARY, DisclosureRule, Margin, disclose, round_count

RULE = DisclosureRule()


def test_counts_suppressed_rounded_and_rates_withheld_by_hand() -> None:
    frame = pl.DataFrame({
        "service": ["a", "b", "c", "d", "e", "f"],
        "count": [0, 1, 7, 8, 12, 13],
        "rate": [None, 50.0, 42.0, 37.5, 10.0, 20.0],
    })
    out = disclose(frame, keys=["service"], counts=["count"], measures={"rate": "count"})
    assert out["count"].to_list() == [0, None, None, 10, 10, 15]
    assert out[f"count{HIDDEN}"].to_list() == [False, True, True, False, False, False]
    assert out["rate"].to_list() == [None, None, None, 37.5, 10.0, 20.0]
    assert out[f"rate{HIDDEN}"].to_list() == [False, True, True, False, False, False]


def test_a_lone_suppressed_part_hides_the_smallest_other_part() -> None:
    frame = pl.DataFrame({"office": ["all", "x", "y", "z"], "count": [63, 3, 20, 40]})
    out = disclose(frame, keys=["office"], counts=["count"], margins=[Margin("office", "all")])
    assert out["count"].to_list() == [65, None, None, 40]  # y (20) hidden to protect x (3)
    assert out[f"count{SECONDARY}"].to_list() == [False, False, True, False]


def test_a_single_part_hides_its_total() -> None:
    frame = pl.DataFrame({"office": ["all", "x"], "count": [5, 5]})
    out = disclose(frame, keys=["office"], counts=["count"], margins=[Margin("office", "all")])
    assert out["count"].to_list() == [None, None]


def test_settings_change_the_thresholds_and_the_rule_is_named() -> None:
    rule = DisclosureRule(suppress_up_to=9, round_to=10, min_base=20)
    out = disclose(pl.DataFrame({"k": ["a", "b"], "n": [9, 14]}), keys=["k"], counts=["n"], rule=rule)
    assert out["n"].to_list() == [None, 10]
    assert "1 to 9" in rule.name and "nearest 10" in rule.name and "at least 20" in rule.name
    with pytest.raises(ValueError, match="round_to must be 1 or more, not 0"):
        DisclosureRule(round_to=0)


def test_unknown_columns_and_duplicate_keys_are_refused() -> None:
    frame = pl.DataFrame({"k": ["a", "a"], "n": [1, 2]})
    with pytest.raises(ValueError, match="no column 'm'"):
        disclose(frame, keys=["k"], counts=["m"])
    with pytest.raises(ValueError, match="not unique"):
        disclose(frame, keys=["k"], counts=["n"])


# ---------------------------------------------------------------- properties

small_counts = st.one_of(st.integers(0, 9), st.integers(0, 60))


@st.composite
def two_way_tables(draw):
    """A rows x columns table of true counts with row, column and grand totals, long."""
    rows = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 5))
    cells = {(r, c): draw(small_counts) for r in range(rows) for c in range(cols)}
    records = [{"row": f"r{r}", "col": f"c{c}", "n": v} for (r, c), v in cells.items()]
    for r in range(rows):
        records.append({"row": f"r{r}", "col": "all", "n": sum(cells[r, c] for c in range(cols))})
    for c in range(cols):
        records.append({"row": "all", "col": f"c{c}", "n": sum(cells[r, c] for r in range(rows))})
    records.append({"row": "all", "col": "all", "n": sum(cells.values())})
    return pl.DataFrame(records), rows, cols


def _derivable(published: dict[tuple[str, str], int | None], rows: int, cols: int) -> set[tuple[str, str]]:
    """Every hidden cell an attacker can work out by subtraction, repeating until
    nothing more falls out: each row (and column) total minus its other known cells."""
    known = {key: value for key, value in published.items() if value is not None}
    lines = [[(f"r{r}", "all")] + [(f"r{r}", f"c{c}") for c in range(cols)] for r in range(rows)]
    lines += [[("all", f"c{c}")] + [(f"r{r}", f"c{c}") for r in range(rows)] for c in range(cols)]
    lines += [[("all", "all")] + [("all", f"c{c}") for c in range(cols)]]
    lines += [[("all", "all")] + [(f"r{r}", "all") for r in range(rows)]]
    recovered: set[tuple[str, str]] = set()
    progress = True
    while progress:
        progress = False
        for line in lines:
            unknown = [key for key in line if key not in known]
            if len(unknown) == 1:
                known[unknown[0]] = 0  # its value is the difference; only that it is known matters
                recovered.add(unknown[0])
                progress = True
    return recovered


@settings(max_examples=300, deadline=None)
@given(two_way_tables())
def test_no_suppressed_count_can_be_derived_by_subtraction(table) -> None:
    frame, rows, cols = table
    out = disclose(frame, keys=["row", "col"], counts=["n"], margins=[Margin("col", "all"), Margin("row", "all")])
    published = {(r, c): v for r, c, v in out.select("row", "col", "n").iter_rows()}
    assert not _derivable(published, rows, cols)
    true = {(r, c): v for r, c, v in frame.iter_rows()}
    for key, value in published.items():
        if 1 <= true[key] <= RULE.suppress_up_to:
            assert value is None, f"{key}: {true[key]} published"
        if value is not None:
            assert value == 0 or value > RULE.suppress_up_to
            assert value % RULE.round_to == 0
            assert abs(value - true[key]) <= RULE.round_to // 2, "a total is its true value rounded, not a sum of rounded parts"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=30))
def test_rates_shown_only_on_a_base_of_at_least_the_minimum(bases) -> None:
    frame = pl.DataFrame({"k": [str(i) for i in range(len(bases))], "base": bases, "rate": [50.0] * len(bases)})
    out = disclose(frame, keys=["k"], measures={"rate": "base"})
    assert "base" not in out.columns  # a helper base is not published
    for base, rate in zip(bases, out["rate"].to_list(), strict=True):
        assert (rate is not None) == (base >= RULE.min_base or base == 0)


@given(st.integers(0, 10_000), st.sampled_from([1, 5, 10]))
def test_rounding_is_to_the_nearest_multiple(value, step) -> None:
    rounded = pl.select(round_count(pl.lit(value), step)).item()
    assert rounded % step == 0 and abs(rounded - value) <= step / 2
    assert rounded >= 0
