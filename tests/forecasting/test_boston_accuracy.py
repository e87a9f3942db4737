"""The accuracy goal on real data: Boston 311 daily cases, 8 cutoffs, horizon 28."""

from __future__ import annotations

import polars as pl
import pytest

from bench.forecast_accuracy import BOSTON_CSV, load_boston_daily
from forecasting.backtest import backtest
from forecasting.models import default_models


@pytest.mark.slow
@pytest.mark.skipif(not BOSTON_CSV.is_file(), reason="the real sample files (../shared/data/) are not on this machine; set KPI_SHARED_DATA")
def test_recommended_forecast_meets_the_boston_goal() -> None:
    frame = load_boston_daily()
    assert frame.height == 364  # 2015-07-22 is missing, not zero
    result = backtest(frame, default_models("US", "MA"), cutoffs=8, horizon=28)
    assert result.gaps["ds"].cast(pl.String).to_list() == ["2015-07-22"]
    overall = {row["model"]: row for row in result.overall.iter_rows(named=True)}
    recommended = overall["recommended"]
    assert recommended["mase"] <= 0.90
    assert 90 <= recommended["coverage_95"] <= 99
    assert recommended["mase"] < overall["seasonal_naive"]["mase"]
    assert overall["seasonal_naive"]["mase"] == pytest.approx(0.98, abs=0.01)
