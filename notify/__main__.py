"""``python -m notify COMMAND``: see notify.cli for the commands."""

from notify.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
