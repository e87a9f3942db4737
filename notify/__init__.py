"""Notifications: subscriptions (who wants to hear about what) and the runs that send
each due event once, by email or webhook. See send.py for the rules and the delivery,
subscriptions.py for storing subscriptions and cli.py for ``python -m notify send``."""


class NotifyError(ValueError):
    """A request the user can fix (a bad subscription, an unknown subscription id); one line."""


__all__ = ["NotifyError"]
