"""Send the weekly summaries that are due: for each user who chose a channel, the last
complete week's figures (``lib.alerts.weekly``) as ``lib.notify``'s weekly summary. A week is
marked sent only once its delivery went through, so a channel that is down is tried again at
the next round; a channel that no longer exists or cannot be used is skipped (logged)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from lib.alerts.weekly import due, mark_sent, weekly_figures
from lib.notify import Delivery, deliver
from lib.notify.summary import weekly_summary
from lib.store import Store
from lib.worker import channels

log = logging.getLogger("tokenboard")
BASE_URL_SETTING = "TOKENBOARD_BASE_URL"


def send_due(
    store: Store,
    now: datetime,
    *,
    send: Callable[..., Delivery] = deliver,
    total_s: float = 20.0,
) -> list[tuple[str, Delivery | None]]:
    """Send every summary due at ``now``; returns (username, delivery; None when the chosen
    channel could not be loaded). Never raises for one user's channel."""
    out: list[tuple[str, Delivery | None]] = []
    base = os.environ.get(BASE_URL_SETTING, "").rstrip("/")
    for d in due(store, now):
        try:
            channel = channels.load(store, d.channel)
        except channels.ChannelError as err:
            log.warning(
                "weekly summary of %s not sent: channel %s (%s)", d.username, d.channel, err.code
            )
            out.append((d.username, None))
            continue
        figures = weekly_figures(store, d.week_start, link=f"{base}/Usage" if base else None)
        result = send(channel, weekly_summary(figures), total=total_s)
        if result.ok:
            mark_sent(store, d.username, d.week_start)
        out.append((d.username, result))
    return out
