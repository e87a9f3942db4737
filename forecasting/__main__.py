"""``python -m forecasting COMMAND``: see forecasting.cli for the commands."""

from forecasting.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
