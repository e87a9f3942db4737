"""``python -m dashboard [streamlit options]``: serve the dashboard.

The same as ``streamlit run dashboard/app.py``, except that Streamlit's old "pages
folder" mode is switched off before the first session, so that a shared deep link such
as /overview?week=2026-W47 works even as the very first request to a new server; and
that it listens on this machine only (127.0.0.1) unless an address is configured: on
the command line (``--server.address 0.0.0.0``), in STREAMLIT_SERVER_ADDRESS, or as
server.address in a .streamlit/config.toml (the project's sets 127.0.0.1). The
dashboard has no sign-in, so serving every interface is a choice to make on purpose.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from streamlit import config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

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


def main() -> None:
    PagesManager.uses_pages_directory = False
    arguments = sys.argv[1:]
    sys.argv = ["streamlit", "run", str(APP), *arguments, *address_options(arguments)]
    cli.main()


if __name__ == "__main__":
    main()
