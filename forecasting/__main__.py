"""``python -m forecasting COMMAND``: the commands of forecasting.cli, and under their old
names those of ``python -m anomalies`` (detect, anomalies = detect-csv) and
``python -m notify`` (notify = send), so that scripts written before the move keep
working. The only place forecasting imports from the packages above it (see
docs/architecture.md)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    import anomalies.cli
    import notify.cli
    from anomalies import AnomalyError
    from forecasting import cli
    from notify import NotifyError

    return cli.run(
        argv,
        [*cli.COMMANDS, *anomalies.cli.ALIASES, *notify.cli.ALIASES],
        "python -m forecasting",
        "Demand forecasting and staffing; detect, anomalies and notify are python -m anomalies detect, "
        "python -m anomalies detect-csv and python -m notify send.",
        errors=(AnomalyError, NotifyError),
    )


if __name__ == "__main__":
    raise SystemExit(main())
