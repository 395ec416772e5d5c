"""Send the weekly summaries that are due: for each user who chose a channel, the last
complete week's figures (``lib.alerts.weekly``) as ``lib.notify``'s weekly summary. A shared
channel gets one summary a week however many users chose it; ``MY_EMAIL`` sends it to the
user's own address (the ``[smtp]`` server of the secrets). A week is marked sent only once its
delivery went through, so a channel that is down is tried again at the next round (the
worker's round waits ``total_s`` at most per channel); a channel that no longer exists or
cannot be used is skipped (logged)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime

from lib.alerts.weekly import MY_EMAIL, Due, due, mark_sent, weekly_figures
from lib.auth.users import UserStore
from lib.notify import Channel, ChannelConfigError, Delivery, deliver, email_channel_from_secrets
from lib.notify.summary import weekly_summary
from lib.store import Store
from lib.worker import channels

log = logging.getLogger("tokenboard")
BASE_URL_SETTING = "TOKENBOARD_BASE_URL"


def _channel(
    store: Store,
    username: str,
    name: str,
    emails: Mapping[str, str],
    secrets: Mapping[str, object] | None = None,
) -> Channel:
    """The channel ``name`` as ``username`` chose it (``MY_EMAIL``: their own address)."""
    if name != MY_EMAIL:
        return channels.load(store, name)
    address = emails.get(username, "").strip()
    if not address:
        raise channels.ChannelError("missing", "email")
    try:
        found = email_channel_from_secrets(secrets, to=(address,))
    except ChannelConfigError as err:
        raise channels.ChannelError(err.code, err.field) from None
    if found is None:
        raise channels.ChannelError("smtp")
    return found


def user_emails(store: Store | None = None) -> dict[str, str]:
    """Every user's e-mail address (from the users of ``store``, default the configured
    database)."""
    return {u.username: u.email for u in UserStore(store=store).users()}


def send_due(
    store: Store,
    now: datetime,
    *,
    send: Callable[..., Delivery] = deliver,
    total_s: float = 20.0,
    emails: Mapping[str, str] | None = None,
    secrets: Mapping[str, object] | None = None,
) -> list[tuple[str, Delivery | None]]:
    """Send every summary due at ``now``, once per channel (a user's own e-mail is a channel of
    its own); returns (username, delivery; None when the chosen channel could not be loaded).
    Never raises for one user's channel."""
    out: list[tuple[str, Delivery | None]] = []
    base = os.environ.get(BASE_URL_SETTING, "").rstrip("/")
    by_target: dict[tuple[str, str | None], list[Due]] = {}
    for d in due(store, now):  # a shared channel once; each user's own address apart
        by_target.setdefault((d.channel, d.username if d.channel == MY_EMAIL else None), []).append(
            d
        )
    if any(name == MY_EMAIL for name, _who in by_target) and emails is None:
        emails = user_emails(store)
    for (name, _who), users in by_target.items():
        first = users[0]
        try:
            channel = _channel(store, first.username, name, emails or {}, secrets)
        except channels.ChannelError as err:
            log.warning("weekly summary not sent: channel %s (%s)", name, err.code)
            out += [(u.username, None) for u in users]
            continue
        figures = weekly_figures(store, first.week_start, link=f"{base}/Usage" if base else None)
        result = send(channel, weekly_summary(figures), total=total_s)
        for u in users:
            if result.ok:
                mark_sent(store, u.username, u.week_start)
            out.append((u.username, result))
    return out


def email_ready() -> bool:
    """True when the secrets have a usable ``[smtp]`` server (the own-address choice works)."""
    try:
        return email_channel_from_secrets() is not None
    except ChannelConfigError:
        return False
