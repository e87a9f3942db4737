"""``python -m dashboard [streamlit options]``: serve the dashboard.

The same as ``streamlit run dashboard/app.py``, except that Streamlit's old "pages
folder" mode is switched off before the first session, so that a shared deep link such
as /overview?week=2026-W47 works even as the very first request to a new server.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parent / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
