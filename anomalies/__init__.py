"""Anomaly flags on every KPI series, their explanations, and the quality of both
against the generator's incidents. See detect.py for the method, explain.py for the
explanations, quality.py for the definitions of recall and precision, store.py for the
database side (subscriptions and notifications are the notify package's), own.py for an analyst's own series and cli.py for
``python -m anomalies detect|detect-csv``."""


class AnomalyError(ValueError):
    """A request the user can fix (an unknown flag, a bad subscription); one line."""


__all__ = ["AnomalyError"]
