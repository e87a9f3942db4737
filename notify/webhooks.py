"""Which hosts a webhook may call: an administrator's allow-list, and never this machine or
a private network by accident.

``KPI_WEBHOOK_ALLOWED_HOSTS`` lists, comma-separated, host names (``hooks.example.gov``),
wildcards for a domain's hosts (``*.example.gov``), addresses (``203.0.113.7``) or
networks (``203.0.113.0/24``). With it unset, no webhook may be stored or sent. Even when
a name is allowed, an address it resolves to that is loopback, link-local (the cloud
metadata service at 169.254.169.254), private, multicast or reserved is refused unless
that address or its network is itself listed: a name that points (or is re-pointed) at an
internal service cannot make the dashboard call it.

A webhook's URL is a secret (its path or query usually holds the token that lets anyone
post to the channel), so it is never stored in the database or shown on a page: an
administrator names it, as ``KPI_WEBHOOK_URL_<NAME>`` in the environment or as
``<name> = "https://..."`` under ``[webhooks]`` in Streamlit's secrets file
(``.streamlit/secrets.toml``; the environment wins), and a subscription stores
``secret:<name>``, read again each time a notification is sent.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tomllib
from urllib.parse import urlsplit

SETTING = "KPI_WEBHOOK_ALLOWED_HOSTS"
NAMED = "secret:"
URL_VARIABLE = "KPI_WEBHOOK_URL_"
NAME = re.compile(r"[a-z0-9_]{1,64}")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_entries(raw: str | None = None) -> list[str]:
    raw = os.environ.get(SETTING, "") if raw is None else raw
    return [entry.strip().lower() for entry in raw.split(",") if entry.strip()]


def _networks(entries: list[str]) -> list[Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


def _internal(address: Address) -> bool:
    return address.is_loopback or address.is_link_local or address.is_private or address.is_multicast or address.is_reserved or address.is_unspecified


def _name_allowed(host: str, entries: list[str]) -> bool:
    for entry in entries:
        if entry.startswith("*.") and host.endswith(entry[1:]) and host != entry[2:]:
            return True
        if host == entry:
            return True
    address = _address(host)
    return address is not None and any(address in network for network in _networks(entries))


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_problem(url: str, entries: list[str] | None = None) -> str | None:
    """Why a webhook URL's host may not be used (None when it may). No DNS lookup."""
    entries = allowed_entries() if entries is None else entries
    host = (urlsplit(url.strip()).hostname or "").lower()
    if not host:
        return f"{url!r} names no host"
    if not entries:
        return f"webhooks are switched off: an administrator lists the hosts they may call in {SETTING}"
    if not _name_allowed(host, entries):
        return f"{host} is not a host webhooks may call (ask an administrator to add it to {SETTING})"
    address = _address(host)
    if address is not None and _internal(address) and not any(address in network for network in _networks(entries)):
        return f"{host} is an internal address; webhooks call it only when {SETTING} lists it"
    return None


def resolved_problem(url: str, entries: list[str] | None = None) -> str | None:
    """host_problem, and then every address the host resolves to now (at send time)."""
    entries = allowed_entries() if entries is None else entries
    problem = host_problem(url, entries)
    if problem:
        return problem
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if _address(host) is not None:
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except OSError as error:
        return f"{host} cannot be resolved ({error})"
    networks = _networks(entries)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if _internal(address) and not any(address in network for network in networks):
            return f"{host} resolves to the internal address {address}; webhooks call it only when {SETTING} lists it"
    return None


def named_webhooks() -> dict[str, str]:
    """{name: URL} of the webhooks an administrator has configured: [webhooks] of the
    secrets file, then KPI_WEBHOOK_URL_<NAME> of the environment over it. Names are lower case."""
    from notify.smtp import secrets_files

    found: dict[str, str] = {}
    for path in reversed(secrets_files()):  # the working folder's file over the home folder's
        if not path.is_file():
            continue
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("webhooks", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue  # said by the SMTP settings' reader, which reads the same file
        if isinstance(section, dict):
            found.update({str(key).lower(): str(value) for key, value in section.items()})
    for variable, value in os.environ.items():
        if variable.startswith(URL_VARIABLE) and value.strip():
            found[variable.removeprefix(URL_VARIABLE).lower()] = value.strip()
    return found


def webhook_name(address: str) -> str | None:
    """The name in ``secret:<name>``, or None for anything else."""
    stripped = address.strip()
    return stripped[len(NAMED):].strip().lower() if stripped.lower().startswith(NAMED) else None


def webhook_url(address: str) -> tuple[str | None, str | None]:
    """(the URL a stored webhook address stands for, None) or (None, why it has none)."""
    name = webhook_name(address)
    if name is None:
        return None, (
            "a webhook's URL is not kept in the database (it holds the token that lets anyone post): an administrator "
            f"names it as {URL_VARIABLE}<NAME> in the environment or under [webhooks] in .streamlit/secrets.toml, "
            "and the subscription says secret:<name>"
        )
    if not NAME.fullmatch(name):
        return None, f"{address.strip()!r}: a webhook's name has only letters, digits and _ (at most 64)"
    url = named_webhooks().get(name)
    if url is None:
        return None, f"no webhook named {name} is configured ({URL_VARIABLE}{name.upper()}, or {name} under [webhooks] in .streamlit/secrets.toml)"
    return url, None
