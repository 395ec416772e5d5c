"""Alert channels kept in the database: a name and the settings ``lib.notify`` reads
(``channel_from_config``). The alert rules name their channels; the notifier looks them up
here when it sends.

Each channel is one row of the ``settings`` table (key ``alert_channel:<name>``, the settings
as JSON), changed only by admins (``settings``). A webhook URL is itself a secret, and so is a
signing secret: they are stored as given (the sender needs them) and never returned to a
page, which sees ``ChannelView.target``, masked. An e-mail channel stores its recipients
only: the SMTP server, login and password come from the app's secrets (``[smtp]``), never
from the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lib import settings
from lib.errors import TokenboardError
from lib.notify import (
    SETTING_PREFIX,
    Channel,
    ChannelConfigError,
    Delivery,
    Notification,
    channel_from_config,
    deliver,
    email_channel_from_secrets,
)
from lib.store import Store

PREFIX = SETTING_PREFIX
KINDS: tuple[str, ...] = ("slack", "teams", "webhook", "email")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")
IN_APP = "in_app"  # the channel every rule has: the Alerts page and the Overview


class ChannelError(TokenboardError):
    """A channel refused. ``code`` says why (the page words it): name (not a usable name),
    exists, not_found, kind, smtp (an e-mail channel without an ``[smtp]`` table in the
    secrets), or a ``lib.notify.ChannelConfigError`` code (missing, bad_url, bad_address, …)
    with ``field``. ``str()`` is an English sentence for logs, never a secret."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(f"channel refused: {code}" + (f" ({field})" if field else ""))
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ChannelView:
    """What a page may show of a channel: its name, kind and masked target."""

    name: str
    kind: str
    target: str


def _addresses(value: object) -> list[str]:
    """E-mail addresses from a list or a text separated by commas or semicolons."""
    items = re.split(r"[,;\s]+", value) if isinstance(value, str) else value
    out = [str(a).strip() for a in (items if isinstance(items, list | tuple) else [])]
    out = [a for a in out if a]
    if any("@" not in a or len(a) > 254 for a in out):
        raise ChannelError("bad_address", "to")
    return out


def _key(name: str) -> str:
    return PREFIX + name


def _clean(kind: str, config: Mapping[str, object]) -> dict[str, object]:
    """The settings kept for a channel of ``kind`` (unknown keys dropped)."""
    keep = {"slack": ("url",), "teams": ("url",), "webhook": ("url", "secret"), "email": ("to",)}
    out: dict[str, object] = {"kind": kind}
    for k in keep[kind]:
        value = config.get(k)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", []):
            out[k] = value
    if kind == "email" and "to" in out:
        out["to"] = _addresses(out["to"])
    return out


def _build(config: Mapping[str, object], secrets: Mapping[str, object] | None = None) -> Channel:
    """The ``lib.notify`` channel of stored settings; e-mail takes the ``[smtp]`` secrets."""
    if config.get("kind") == "email":
        to = config.get("to")
        if not to:
            raise ChannelError("missing", "to")
        try:
            found = email_channel_from_secrets(secrets, to=tuple(_addresses(to)))
        except ChannelConfigError as err:
            raise ChannelError(err.code, err.field) from None
        if found is None:
            raise ChannelError("smtp")
        return found
    try:
        return channel_from_config(config)
    except ChannelConfigError as err:
        raise ChannelError(err.code, err.field) from None


def save(
    store: Store,
    role: str | None,
    name: str,
    kind: str,
    config: Mapping[str, object],
    *,
    replace: bool = False,
    secrets: Mapping[str, object] | None = None,
) -> ChannelView:
    """Check and store a channel (admins only); returns what may be shown of it. ``config``:
    ``url`` (slack, teams, webhook), ``secret`` (webhook), ``to`` (email: addresses, a list or
    separated by commas). Raises ``ChannelError`` or ``PermissionDeniedError``."""
    name = (name or "").strip()
    if not NAME.match(name) or name == IN_APP:
        raise ChannelError("name")
    if kind not in KINDS:
        raise ChannelError("kind")
    cleaned = _clean(kind, config)
    channel = _build(cleaned, secrets) if kind != "email" else None
    if kind == "email" and not cleaned.get("to"):
        raise ChannelError("missing", "to")
    if not replace and settings.get(store, _key(name)) is not None:
        raise ChannelError("exists")
    settings.put(store, _key(name), json.dumps(cleaned, sort_keys=True), role)
    return ChannelView(name, kind, channel.target if channel else ", ".join(cleaned["to"]))  # type: ignore[arg-type]


def delete(store: Store, role: str | None, name: str) -> bool:
    """Remove a channel (admins only); False when there was none. Rules naming it keep the
    name: their deliveries to it are logged as failed (``unknown_channel``)."""
    if settings.get(store, _key(name)) is None:
        return False
    settings.put(store, _key(name), None, role)
    return True


def _stored(store: Store) -> list[tuple[str, dict[str, object]]]:
    rows = store.query(
        "SELECT key, value FROM settings WHERE starts_with(key, ?) ORDER BY key", [PREFIX]
    )
    out = []
    for key, value in rows:
        try:
            config = json.loads(value)
        except (TypeError, ValueError):
            continue
        if isinstance(config, dict):
            out.append((key[len(PREFIX) :], config))
    return out


def _target(config: Mapping[str, object]) -> str:
    if config.get("kind") == "email":
        to = config.get("to")
        return ", ".join(str(a) for a in to) if isinstance(to, list) else ""
    try:
        return channel_from_config(config).target
    except ChannelConfigError:
        return "—"


def list_channels(store: Store) -> list[ChannelView]:
    """Every stored channel, by name, masked."""
    return [ChannelView(name, str(c.get("kind")), _target(c)) for name, c in _stored(store)]


def names(store: Store) -> list[str]:
    """The stored channels' names, by name (the rules editor offers them)."""
    return [name for name, _ in _stored(store)]


def load(store: Store, name: str, secrets: Mapping[str, object] | None = None) -> Channel:
    """The ``lib.notify`` channel named ``name``; raises ``ChannelError`` (``not_found``, or
    why its settings cannot be used)."""
    raw = settings.get(store, _key(name))
    if raw is None:
        raise ChannelError("not_found")
    try:
        config = json.loads(raw)
    except ValueError:
        raise ChannelError("not_found") from None
    return _build(config, secrets)


TEST_TITLE = "Test notification from Tokenboard"
TEST_TEXT = "This is a test of the channel **{name}**: if you read this, alerts reach you here."


def send_test(
    store: Store,
    role: str | None,
    name: str,
    *,
    now: datetime | None = None,
    secrets: Mapping[str, object] | None = None,
    **deliver_options: object,
) -> Delivery:
    """Send a test notification on the channel ``name`` now and return what came of it (bounded
    in time by ``deliver``; ``deliver_options`` go to it). Admins only; raises
    ``ChannelError`` when the channel cannot be used, never for what the far end does."""
    from lib.auth.roles import require

    require(role, "settings")
    channel = load(store, name, secrets)
    at = now or datetime.now(UTC)
    note = Notification(
        title=TEST_TITLE,
        text=TEST_TEXT.format(name=name),
        event_id=f"tokenboard-test-{name}-{int(at.timestamp())}",
        occurred_at=at,
    )
    return deliver(channel, note, **deliver_options)  # type: ignore[arg-type]
