"""``python -m anomalies COMMAND``: see anomalies.cli for the commands."""

from anomalies.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
