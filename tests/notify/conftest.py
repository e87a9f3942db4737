"""The anomaly tests' stored world: notifications are sent from its flags."""

from tests.anomalies.conftest import anomaly_engine, anomaly_world, stored

__all__ = ["anomaly_engine", "anomaly_world", "stored"]
