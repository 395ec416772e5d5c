"""Alert channels: named destinations that rules list (``alert_rules.channels``), each kept as
the settings ``lib.notify.channel_from_config`` reads. Saving and removing them is for admins
(``settings``): a webhook URL or signing secret is a credential. They are only ever shown
masked (``ChannelInfo.target``); an e-mail channel without an SMTP host sends through the
``[smtp]`` table of the app's secrets, to its own recipients."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lib.alerts.model import AlertError
from lib.auth.roles import require
from lib.notify import Channel, ChannelConfigError, channel_from_config, email_channel_from_secrets
from lib.store import Store

MAX_NAME = 100


@dataclass(frozen=True)
class ChannelInfo:
    """A stored channel as the pages show it: never its URL, secret or password in clear."""

    name: str
    kind: str
    target: str  # masked
    enabled: bool


def _recipients(to: object) -> tuple[str, ...]:
    if isinstance(to, str):
        return (to,) if to.strip() else ()
    return tuple(str(x) for x in to) if isinstance(to, list | tuple) else ()


def build(config: Mapping[str, object]) -> Channel:
    """The ``lib.notify`` channel of stored settings; an e-mail channel without a host takes
    the secrets' SMTP server. Raises ``ChannelConfigError`` (``missing`` host: no SMTP server
    is configured)."""
    if str(config.get("kind") or "").strip().lower() == "email" and not config.get("host"):
        recipients = _recipients(config.get("to"))
        channel = email_channel_from_secrets(to=recipients or None)
        if channel is None:
            raise ChannelConfigError("missing", "host")
        return channel
    return channel_from_config(config)


def save_channel(
    store: Store,
    role: str | None,
    name: str,
    config: Mapping[str, object],
    *,
    enabled: bool = True,
    user: str | None = None,
    now: datetime | None = None,
) -> ChannelInfo:
    """Add or replace the channel ``name``. Raises ``AlertError`` (code ``name``, or
    ``channel`` with ``values['reason']`` the ``ChannelConfigError`` code and ``field``)."""
    require(role, "settings")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise AlertError("name", f"A channel's name has 1 to {MAX_NAME} characters.")
    settings = {str(k): v for k, v in config.items()}
    kind = str(settings.get("kind") or "").strip().lower()
    try:
        channel = channel_from_config(settings) if kind != "email" or settings.get("host") else None
    except ChannelConfigError as err:
        raise AlertError("channel", f"The channel's settings are not usable ({err.code}: "
                         f"{err.field}).", reason=err.code, field=err.field) from None  # fmt: skip
    at = now or datetime.now(UTC)
    text = json.dumps(settings, sort_keys=True, default=str)
    with store.write() as cur:
        old = cur.execute("SELECT channel_id FROM alert_channels WHERE name = ?", [name]).scalar()
        if old is None:
            cur.execute(
                """INSERT INTO alert_channels VALUES (nextval('alert_channel_id_seq'), ?, ?, ?, ?,
                       ?, ?, ?)""",
                [name, kind, text, enabled, user, at, at],
            )
        else:
            cur.execute(
                """UPDATE alert_channels SET kind = ?, config = ?, enabled = ?, updated_at = ?
                   WHERE channel_id = ?""",
                [kind, text, enabled, at, old],
            )
    return ChannelInfo(name, kind, channel.target if channel else _email_target(settings), enabled)


def _email_target(settings: Mapping[str, object]) -> str:
    return f"smtp (app secrets) → {', '.join(_recipients(settings.get('to')))}"


def delete_channel(store: Store, role: str | None, name: str) -> bool:
    """Remove a channel (rules that name it then report it as unknown); False when none."""
    require(role, "settings")
    with store.write() as cur:
        n = cur.execute("SELECT count(*) FROM alert_channels WHERE name = ?", [name]).scalar()
        cur.execute("DELETE FROM alert_channels WHERE name = ?", [name])
    return bool(n)


def configs(store: Store) -> dict[str, tuple[dict[str, object], bool]]:
    """Every channel's settings and whether it is enabled, by name (for sending only)."""
    rows = store.query("SELECT name, config, enabled FROM alert_channels")
    return {n: (json.loads(c), bool(e)) for n, c, e in rows}


def list_channels(store: Store) -> list[ChannelInfo]:
    """Every channel, masked, by name."""
    out = []
    for name, (settings, enabled) in sorted(configs(store).items()):
        kind = str(settings.get("kind") or "")
        try:
            target = build(settings).target
        except ChannelConfigError:
            target = _email_target(settings) if kind == "email" else ""
        out.append(ChannelInfo(name, kind, target, enabled))
    return out
