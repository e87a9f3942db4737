"""The notify tests' fixtures: the anomaly tests' stored world (notifications are sent from
its flags) and a local SMTP server (aiosmtpd on 127.0.0.1) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from devtools.serving import free_port
from tests.anomalies.conftest import anomaly_engine, anomaly_world, stored

__all__ = ["Inbox", "anomaly_engine", "anomaly_world", "smtp", "stored"]


class Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
