"""Channels from stored settings: the SMTP settings of the app's secrets, and a channel from
the plain dict the alerts engine keeps for it.

SMTP settings live in ``.streamlit/secrets.toml`` (or Streamlit Cloud's secrets), never in
the database::

    [smtp]
    host = "smtp.example.com"
    port = 587                  # optional: 587 (starttls), 465 (ssl), 25 (none)
    user = "alerts@example.com" # optional: no login without it
    password = "…"
    from = "Tokenboard <alerts@example.com>"
    to = ["finops@example.com"] # or one string, addresses separated by commas
    security = "starttls"       # optional: starttls (default), ssl, none
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast

from lib.config import read_secrets
from lib.notify.model import (
    Channel,
    EmailChannel,
    InAppChannel,
    SignedWebhookChannel,
    SlackChannel,
    SmtpSecurity,
    TeamsChannel,
)

# Why a configuration was refused (``ChannelConfigError.code``): unknown_kind, missing (a
# required setting is absent: ``field`` says which), bad_url (not http(s) with a host),
# bad_port, bad_security, bad_address (an e-mail address without "@").
ConfigCode = Literal[
    "unknown_kind", "missing", "bad_url", "bad_port", "bad_security", "bad_address"
]


# the settings key of a named channel: ``alert_channel:<name>``, its configuration as JSON
# (kept by lib.worker.channels, read by the alerts and the support tickets)
SETTING_PREFIX = "alert_channel:"


class ChannelConfigError(ValueError):
    """A channel's settings cannot be used; ``code`` and ``field`` say why (the message
    names the field, never its value)."""

    def __init__(self, code: ConfigCode, field: str) -> None:
        self.code = code
        self.field = field
        super().__init__(f"channel setting {field!r}: {code.replace('_', ' ')}")


def _text(config: Mapping[str, object], key: str, *, required: bool = True) -> str | None:
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ChannelConfigError("missing", key)
        return None
    return str(value).strip()


def _url(config: Mapping[str, object]) -> str:
    url = _text(config, "url") or ""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    if not sep or scheme.lower() not in ("http", "https") or not host:
        raise ChannelConfigError("bad_url", "url")
    return url


def _addresses(value: object) -> tuple[str, ...]:
    items = (
        value.split(",")
        if isinstance(value, str)
        else value
        if isinstance(value, list | tuple)
        else []
    )
    out = tuple(str(a).strip() for a in items if str(a).strip())
    if any("@" not in a for a in out):
        raise ChannelConfigError("bad_address", "to")
    return out


def email_channel(config: Mapping[str, object]) -> EmailChannel:
    """An ``EmailChannel`` from SMTP settings (keys of the ``[smtp]`` table above)."""
    host = _text(config, "host") or ""
    sender = _text(config, "from") or ""
    if "@" not in sender:
        raise ChannelConfigError("bad_address", "from")
    to = _addresses(config.get("to"))
    if not to:
        raise ChannelConfigError("missing", "to")
    try:
        port = int(str(config.get("port") or 0))
    except ValueError:
        raise ChannelConfigError("bad_port", "port") from None
    if not 0 <= port <= 65535:
        raise ChannelConfigError("bad_port", "port")
    security = (_text(config, "security", required=False) or "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise ChannelConfigError("bad_security", "security")
    return EmailChannel(
        host=host,
        sender=sender,
        to=to,
        port=port,
        user=_text(config, "user", required=False),
        password=_text(config, "password", required=False),
        security=cast(SmtpSecurity, security),
        cafile=_text(config, "cafile", required=False),
    )


def email_channel_from_secrets(
    secrets: Mapping[str, object] | None = None, *, to: tuple[str, ...] | None = None
) -> EmailChannel | None:
    """The e-mail channel of the ``[smtp]`` table of the app's secrets (``secrets``: the
    secrets as a dict, default read from the secrets file); ``to`` replaces its recipients
    (a user's own address for their weekly summary). None when no SMTP host is set;
    ``ChannelConfigError`` when the table is incomplete or wrong."""
    table = (read_secrets() if secrets is None else secrets).get("smtp")
    if not isinstance(table, Mapping) or not table.get("host"):
        return None
    settings = dict(table)
    if to is not None:
        settings["to"] = list(to)
    return email_channel(settings)


def channel_from_config(config: Mapping[str, object]) -> Channel:
    """A channel from its stored settings: ``{"kind": "in_app"}``, ``{"kind": "slack" |
    "teams", "url": …}``, ``{"kind": "webhook", "url": …, "secret": …}`` or ``{"kind":
    "email", …SMTP settings…}``. Raises ``ChannelConfigError``."""
    kind = str(config.get("kind") or "").strip().lower()
    if kind == "in_app":
        return InAppChannel()
    if kind == "slack":
        return SlackChannel(url=_url(config))
    if kind == "teams":
        return TeamsChannel(url=_url(config))
    if kind == "webhook":
        return SignedWebhookChannel(url=_url(config), secret=_text(config, "secret") or "")
    if kind == "email":
        return email_channel(config)
    raise ChannelConfigError("unknown_kind", "kind")
