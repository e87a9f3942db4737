"""First lines of every page: make the project importable, and leave Streamlit's old
"pages folder" mode if a deep link started the server's first session in it.

Streamlit treats an entry script with a pages/ folder beside it as a version-1 multipage
app until st.navigation has run once; a first request straight to /overview would then
run the page without the entry script. This switches that mode off and reruns, so the
entry script routes the request as usual.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

if PagesManager.uses_pages_directory:
    import streamlit as st

    PagesManager.uses_pages_directory = False
    st.rerun()
