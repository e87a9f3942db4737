"""How the dashboard is served: on this machine only unless configured otherwise (issue
15, item 12), and never with a traceback for a visitor (item 9)."""

from __future__ import annotations

import tomllib

from dashboard.__main__ import LOCAL_ADDRESS, address_options
from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_the_project_config_listens_on_localhost_and_hides_error_details():
    assert CONFIG["server"]["address"] == "127.0.0.1"
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_the_launcher_adds_localhost_only_when_no_address_is_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS", raising=False)
    assert address_options(["--server.address", "0.0.0.0"]) == []
    assert address_options(["--server.address=0.0.0.0"]) == []
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    assert address_options([]) == []
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS")
    monkeypatch.chdir(tmp_path)  # no .streamlit/config.toml here
    monkeypatch.setenv("HOME", str(tmp_path))
    assert address_options([]) == ["--server.address", LOCAL_ADDRESS]
