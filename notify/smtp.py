"""The SMTP connection notifications and briefings are sent over: the server, TLS and the
login, from the environment or Streamlit's secrets file, never from the database.

Where each setting comes from, first found wins: a command-line option (host, port and
sender only: a password given on the command line would show in the process list), the
environment (KPI_SMTP_HOST, KPI_SMTP_PORT, KPI_SMTP_FROM, KPI_SMTP_USER,
KPI_SMTP_PASSWORD, KPI_SMTP_SECURITY, KPI_SMTP_CA_FILE), then the ``[smtp]`` section of
Streamlit's secrets file (``.streamlit/secrets.toml`` in the working folder, else in the
home folder; keys host, port, from, user, password, security, ca_file), then the
defaults (localhost:25, no login).

``security``: ``starttls`` (upgrade the connection, port 587's convention), ``ssl`` (TLS
from the first byte, port 465's) or ``none``; by default ``ssl`` on port 465,
``starttls`` on 587 and ``none`` otherwise. A password is sent only over TLS or to this
machine (a relay on localhost): a login to another host over a plain connection is
refused before connecting, with a message that says what to set. Certificates are checked
against the system's authorities, or ``ca_file`` (a PEM file, for an internal authority).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import smtplib
import ssl
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SECURITY = ("none", "starttls", "ssl")
ENVIRONMENT = {
    "smtp_host": "KPI_SMTP_HOST", "smtp_port": "KPI_SMTP_PORT", "sender": "KPI_SMTP_FROM",
    "smtp_user": "KPI_SMTP_USER", "smtp_password": "KPI_SMTP_PASSWORD",
    "smtp_security": "KPI_SMTP_SECURITY", "smtp_ca_file": "KPI_SMTP_CA_FILE",
}
SECRETS_KEYS = {
    "host": "smtp_host", "port": "smtp_port", "from": "sender", "user": "smtp_user",
    "password": "smtp_password", "security": "smtp_security", "ca_file": "smtp_ca_file",
}


class SmtpSettingsError(ValueError):
    """An SMTP setting that cannot be used, said with where it came from."""


def secrets_files() -> list[Path]:
    """Streamlit's secrets files, as ``streamlit run`` would read them here."""
    return [Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def from_secrets(paths: list[Path] | None = None) -> dict[str, Any]:
    """The ``[smtp]`` section of the first secrets file that has one, as settings."""
    for path in paths if paths is not None else secrets_files():
        if not path.is_file():
            continue
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("smtp")
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SmtpSettingsError(f"{path}: cannot be read as TOML: {error}") from None
        if section is None:
            continue
        if not isinstance(section, dict):
            raise SmtpSettingsError(f"{path}: [smtp] must be a table of settings")
        unknown = sorted(set(section) - set(SECRETS_KEYS))
        if unknown:
            raise SmtpSettingsError(f"{path}: [smtp] has unknown key(s) {', '.join(unknown)}; known: {', '.join(SECRETS_KEYS)}")
        return {SECRETS_KEYS[key]: value for key, value in section.items()}
    return {}


def from_environment() -> dict[str, Any]:
    return {field: os.environ[name] for field, name in ENVIRONMENT.items() if os.environ.get(name)}


def resolved(given: dict[str, Any], environment: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """The settings, first found wins: given, environment, secrets; checked."""
    chosen = {**secrets, **environment, **{key: value for key, value in given.items() if value is not None}}
    if "smtp_port" in chosen:
        try:
            chosen["smtp_port"] = int(chosen["smtp_port"])
        except (TypeError, ValueError):
            raise SmtpSettingsError(f"the SMTP port {chosen['smtp_port']!r} is not a number") from None
    if "smtp_security" in chosen and chosen["smtp_security"] not in SECURITY:
        raise SmtpSettingsError(f"the SMTP security {chosen['smtp_security']!r} is not one of {', '.join(SECURITY)}")
    if chosen.get("smtp_password") and not chosen.get("smtp_user"):
        raise SmtpSettingsError("an SMTP password is set without a user (KPI_SMTP_USER, or user in [smtp])")
    return chosen


def security_for(port: int, security: str | None) -> str:
    if security:
        return security
    return {465: "ssl", 587: "starttls"}.get(port, "none")


def _is_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def session(settings: Any) -> Iterator[smtplib.SMTP]:
    """An SMTP session by the settings (``notify.send.NotifySettings``): connected, TLS as
    set, logged in when a user is set. Raises smtplib/OSError as sending does, or
    SmtpSettingsError before connecting for a login that would go out unencrypted."""
    host, port = settings.smtp_host, settings.smtp_port
    security = security_for(port, settings.smtp_security)
    if settings.smtp_user and security == "none" and not _is_this_machine(host):
        raise SmtpSettingsError(
            f"not logging in to {host}:{port} over an unencrypted connection: set KPI_SMTP_SECURITY "
            "to starttls or ssl (or security in [smtp]), or relay through this machine"
        )
    context = ssl.create_default_context(cafile=settings.smtp_ca_file) if security != "none" else None
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=settings.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=settings.timeout_seconds)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        yield smtp
