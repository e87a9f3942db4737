"""Markers for the forecasting tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: runs the real-data accuracy backtest (seconds, not minutes)"
    )
