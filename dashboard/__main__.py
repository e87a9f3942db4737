"""``python -m dashboard [streamlit options]``: serve the dashboard.

The same as ``streamlit run dashboard/app.py``, except that Streamlit's old "pages
folder" mode is switched off before the first session, so that a shared deep link such
as /overview?week=2026-W47 works even as the very first request to a new server; and
that it listens on this machine only (127.0.0.1) unless an address is configured: on
the command line (``--server.address 0.0.0.0``), in STREAMLIT_SERVER_ADDRESS, or as
server.address in a .streamlit/config.toml (the project's sets 127.0.0.1). The
dashboard has no sign-in, so serving every interface is a choice to make on purpose.

Before the server opens its port it imports the libraries every page needs (WARM_MODULES:
Polars, Plotly, DuckDB, SQLAlchemy, scikit-learn and the project's packages that use
them, none of which touches Streamlit), about 1.5 s on this project's reference machine,
so that the first visitor does not wait for them (bench/drilldown_render.py measures it).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from streamlit import config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from data.access import AccessFile, AccessFileError, access_file_path

WARM_MODULES = (
    "polars", "numpy", "pyarrow", "plotly.graph_objects", "duckdb", "duckdb_engine", "sqlalchemy", "holidays",
    "data.extracts", "data.facts", "metrics.engine", "metrics.drilldown", "metrics.catalogue", "forecasting.store",
    "anomalies.links",
)
APP = Path(__file__).resolve().parent / "app.py"
LOCAL_ADDRESS = "127.0.0.1"


def address_options(arguments: list[str]) -> list[str]:
    """``--server.address 127.0.0.1`` when nothing else names an address, else nothing."""
    if any(argument.startswith("--server.address") for argument in arguments) or os.environ.get("STREAMLIT_SERVER_ADDRESS"):
        return []
    config.get_config_options(force_reparse=True)  # reads ~/.streamlit/config.toml and ./.streamlit/config.toml
    if config.get_option("server.address"):
        return []
    return ["--server.address", LOCAL_ADDRESS]


def check_access() -> int:
    """Read the access file (data.access): 0 and what it grants, or 2 and every mistake with its line."""
    path = access_file_path()
    if path is None:
        print("No access file (config/access.toml or KPI_ACCESS_FILE): departments and roles come from the ID token alone.")
        return 0
    try:
        access = AccessFile.load(path)
    except AccessFileError as problems:
        print(problems, file=sys.stderr)
        return 2
    people = sum(grant.kind == "person" for grant in access.grants)
    print(f"{path}: {people} people and {len(access.grants) - people} groups, no mistakes.")
    return 0


def warm_imports() -> None:
    """Import WARM_MODULES now, once, rather than in the first visitor's script run."""
    for name in WARM_MODULES:
        importlib.import_module(name)


def main() -> None:
    PagesManager.uses_pages_directory = False
    arguments = sys.argv[1:]
    if "--check-access" in arguments:
        sys.exit(check_access())
    if access_file_path() is not None and check_access() != 0:
        sys.exit(2)  # a malformed access file stops the server at start, not the first visitor
    warm_imports()
    sys.argv = ["streamlit", "run", str(APP), *arguments, *address_options(arguments)]
    cli.main()


if __name__ == "__main__":
    main()
