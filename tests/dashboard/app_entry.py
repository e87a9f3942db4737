"""dashboard/app.py as AppTest runs it (``tests.dashboard.conftest.APP``).

AppTest (Streamlit 1.67) forgets before every run that the app routes with
``st.navigation``, and an entry script with a ``pages/`` folder beside it then has its
reruns run as an old-style multipage app: the page file alone (``pages/overview.py`` for
the ``overview`` URL path), without app.py's viewer, menu and audit. Run from here, with
no ``pages/`` folder beside it, every run goes through app.py as in the server. Pages are
switched to by their full path (``conftest.page_file``).
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py"), run_name="__main__")
