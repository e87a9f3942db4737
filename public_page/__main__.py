"""``python -m public_page [streamlit options]``: serve the public performance page.

Like ``python -m dashboard``: the same as ``streamlit run public_page/app.py``, listening on
this machine only (127.0.0.1) unless an address is configured. The page reads only the
releases folder ($KPI_PUBLIC_RELEASES, default data/releases)."""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.web import cli

from dashboard.__main__ import address_options

APP = Path(__file__).resolve().parent / "app.py"


def main() -> None:
    arguments = sys.argv[1:]
    sys.argv = ["streamlit", "run", str(APP), *arguments, *address_options(arguments)]
    cli.main()


if __name__ == "__main__":
    main()
