"""The public performance page: ``python -m public_page`` (or ``streamlit run public_page/app.py``).

It reads only the latest open-data release (public.release) and never the database, so
it needs no sign-in and can show nothing that is not already published. Everything that
came from the release's files is shown as text (names escaped, never Markdown or HTML).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.text import plain  # noqa: E402
from public_page import view  # noqa: E402
from public_page.release import ReleaseError, latest_release, releases_folder  # noqa: E402

TITLE = "How our services are doing"


@st.cache_data(ttl=300, show_spinner=False)
def _release(folder: str, stamp: float):
    return latest_release(Path(folder))


def _load():
    folder = releases_folder()
    pointer = folder / "latest.txt"
    stamp = pointer.stat().st_mtime if pointer.is_file() else 0.0
    return _release(str(folder), stamp)


def _section(section: view.Section) -> None:
    st.header(section.title)
    for sentence in section.sentences:
        st.markdown(plain(sentence))
    if section.figure is not None:
        figure = section.figure
        st.markdown(f"**{plain(figure.summary)}**")
        st.plotly_chart(figure.figure, config={"displaylogo": False, "responsive": True, "displayModeBar": False}, key=f"chart-{figure.name}")
        with st.expander("The numbers in this chart"):
            st.dataframe(figure.table, hide_index=True, width="stretch")
    if section.table is not None and section.table.height:
        st.dataframe(section.table, hide_index=True, width="stretch")
    for heading, table in section.tables:
        st.subheader(heading)
        st.dataframe(table, hide_index=True, width="stretch")


def run() -> None:
    st.set_page_config(page_title=TITLE, page_icon=":material/public:", layout="centered")
    st.title(TITLE)
    try:
        release = _load()
    except ReleaseError as problem:
        st.error(f"The published figures cannot be shown just now. {problem}", icon=":material/error:")
        return
    if release is None:
        st.info("No figures have been published yet. Please come back later.", icon=":material/info:")
        return
    services = view.services(release)
    if services.is_empty():
        st.info("No services are published yet. Please come back later.", icon=":material/info:")
        return
    st.markdown("See how long applications take, how satisfied people are and how long you may wait. Choose a service.")
    ids = services["service_id"].to_list()
    names = dict(zip(ids, [f"{row['service']} ({row['department']})" for row in services.iter_rows(named=True)], strict=True))
    wanted = st.query_params.get("service")
    index = ids.index(wanted) if wanted in ids else 0
    chosen = st.selectbox("Service", ids, index=index, format_func=lambda sid: names[sid])
    st.query_params["service"] = chosen
    st.subheader(plain(names[chosen]))
    for section in (view.how_long(release, chosen), view.performance(release, chosen), view.waits(release, chosen)):
        _section(section)
    st.header("About these figures")
    for line in view.about(release):
        st.markdown(plain(line))
    homepage = release.package.get("homepage")
    if isinstance(homepage, str) and homepage.startswith(("https://", "http://")):
        st.link_button("Open data: all releases", homepage, icon=":material/open_in_new:")
    st.markdown("Download the open data of this release (CSV files and their description):")
    for path in release.files():
        st.download_button(
            f"Download {path.name}", path.read_bytes(), file_name=path.name,
            mime="application/json" if path.suffix == ".json" else "text/csv", key=f"file-{path.name}", icon=":material/download:",
        )


run()
