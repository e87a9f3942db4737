"""The public page (public_page/app.py) through Streamlit's AppTest, on a release of the small
world: what a citizen reads is the release's own figures in plain words, every published
service and nothing else, no count from 1 to 7, and no database behind it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.database import create_engine
from public_page.release import latest_release
from public_page.view import HIDDEN_WORDS
from tests.public.conftest import PUBLISHED

APP = str(Path(__file__).resolve().parents[2] / "public_page" / "app.py")


def page(releases: Path, monkeypatch, service: str | None = None) -> AppTest:
    monkeypatch.setenv("KPI_PUBLIC_RELEASES", str(releases))
    monkeypatch.delenv("KPI_DATABASE_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    if service:
        at.query_params["service"] = service
    return at.run()


def everything_shown(at: AppTest) -> list[str]:
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "info", "error", "caption") for e in getattr(at, kind)]
    texts += [str(option) for box in at.selectbox for option in box.options]
    for frame in at.dataframe:
        data = frame.value
        data = pl.from_pandas(data) if not isinstance(data, pl.DataFrame) else data
        texts += list(data.columns) + [str(cell) for column in data.iter_columns() for cell in column.to_list()]
    return texts


@pytest.fixture(scope="module")
def releases(release) -> Path:
    return Path(release["folder"]).parent


def test_every_published_service_and_only_those_can_be_chosen(releases, monkeypatch):
    at = page(releases, monkeypatch)
    assert not at.exception
    offered = at.selectbox[0].value
    assert offered in PUBLISHED
    choices = [str(option) for option in at.selectbox[0].options]
    assert len(choices) == len(PUBLISHED)
    assert all(any(name in choice for choice in choices) for name in ("Passport", "Driving licence", "Blue badge", "Marriage notice"))


@pytest.mark.parametrize("service", PUBLISHED)
def test_how_long_it_takes_says_the_releases_own_figures(releases, monkeypatch, service):
    at = page(releases, monkeypatch, service)
    assert not at.exception
    rows = latest_release(releases).frames["processing_times"].filter(
        (pl.col("service_id") == service) & (pl.col("office_id") == "all") & (pl.col("period_type") == "3 months")
    ).row(0, named=True)
    text = [m.value for m in at.markdown]
    if rows["half_within_days"] not in ("", "*", None):
        assert f"Half were decided within {rows['half_within_days']} days." in text
        assert f"9 in 10 were decided within {rows['nine_in_ten_within_days']} days." in text
    else:
        assert f"How long they took is {HIDDEN_WORDS}." in text
    start, end = rows["period_start"], rows["period_end"]
    assert any(f"decided between {int(start[8:])} " in t and f"and {int(end[8:])} " in t for t in text)
    assert at.query_params["service"] == service


@pytest.fixture(scope="module")
def unpublished(duckdb_url) -> list[str]:
    """Ids and names of the small world's services that are not published."""
    engine = create_engine(duckdb_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT service_id, name FROM services").fetchall()
    finally:
        engine.dispose()
    hidden = [text for service_id, name in rows if service_id not in PUBLISHED for text in (service_id, name)]
    assert len(hidden) >= 10  # the test means something: most services are not published
    return hidden


def test_nothing_unpublished_no_row_and_no_small_count_is_shown(releases, monkeypatch, unpublished):
    for service in PUBLISHED:
        shown = everything_shown(page(releases, monkeypatch, service))
        joined = "\n".join(shown)
        for text in unpublished:
            assert text not in joined
        assert not re.search(r"\bcase[_ ]?id\b|\b10{11}\d\b", joined, flags=re.IGNORECASE)
        # counts: every one shown is a multiple of 5 (rounded) and never 1 to 7
        for count in re.findall(r"([\d,]+) applications (?:were decided|\.)", joined) + re.findall(r"We received ([\d,]+) applications", joined):
            value = int(count.replace(",", ""))
            assert value == 0 or (value >= 8 and value % 5 == 0), count
        for cell in shown:
            if re.fullmatch(r"[\d,]+", cell):
                assert int(cell.replace(",", "")) not in range(1, 8), cell


def test_the_page_never_opens_the_database(releases, monkeypatch):
    monkeypatch.setenv("KPI_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = AppTest.from_file(APP, default_timeout=60)
    monkeypatch.setenv("KPI_PUBLIC_RELEASES", str(releases))
    at.run()
    assert not at.exception and not at.error
    assert [h.value for h in at.header][-1] == "About these figures"


def test_nothing_published_yet_says_so(tmp_path, monkeypatch):
    at = page(tmp_path, monkeypatch)
    assert not at.exception
    assert [i.value for i in at.info] == ["No figures have been published yet. Please come back later."]
    assert not at.selectbox


def test_a_broken_release_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    (tmp_path / "latest.txt").write_text("2026-11-gone\n")
    at = page(tmp_path, monkeypatch)
    assert not at.exception
    assert len(at.error) == 1 and "publish again with python -m metrics publish" in at.error[0].value


def test_names_from_the_files_are_shown_as_text(releases, tmp_path, monkeypatch):
    copy = tmp_path / "releases"
    shutil.copytree(releases, copy)
    folder = copy / (copy / "latest.txt").read_text().strip()
    for name in ("service_performance", "processing_times", "waits", "satisfaction"):
        path = folder / f"{name}.csv"
        path.write_text(path.read_text().replace("Passport application", "[Passport](javascript:alert(1)) **now**"))
    at = page(copy, monkeypatch, "passport")
    assert not at.exception
    heading = at.subheader[0].value
    assert "\\[Passport\\]" in heading and "\\*\\*now\\*\\*" in heading  # escaped: shown as typed
    assert "](javascript:" not in heading  # never a link
