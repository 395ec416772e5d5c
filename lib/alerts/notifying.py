"""Sending incidents through ``lib.notify``: ``notifier(store)`` is the ``Notifier`` the app
and the command line hand to ``evaluate``. For each channel a rule names it builds the
channel from its stored settings (``lib.alerts.channels``) and sends one ``Notification``
(words from the templates below), either in the background (the app: an import or an
evaluation never waits for a channel, the outbox's callback writes the delivery log) or at
once (the command line). A name with no channel, a disabled or unusable channel is a failed
delivery in the log, never an exception.

The notification's link is the incident's filtered view, made absolute with the app's
address (``base_url``, default ``$TOKENBOARD_BASE_URL``); without one it carries none.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from lib.alerts.channels import build, configs
from lib.alerts.engine import record_deliveries
from lib.alerts.model import UNITS, AlertNotice, DeliveryResult, Notifier
from lib.errors import StoreError
from lib.notify import Channel, ChannelConfigError, Delivery, Notification, Severity, deliver
from lib.notify.outbox import Outbox, default_outbox
from lib.store import Store

log = logging.getLogger("tokenboard")

# -- words (English templates, filled with ``.format`` only; a translation replaces them) -----
TITLE = "{rule}: {subject}{value} ({level} % of {threshold})"
TITLE_ORGANISATION = "the organisation"
TEXT_OPENED = "New alert **{rule}** on {subject_kind} **{subject}**."
TEXT_ESCALATED = "Alert **{rule}** on {subject_kind} **{subject}** rose to **{level} %**."
TEXT_REMINDER = "Alert **{rule}** on {subject_kind} **{subject}** is still open."
FIELD_VALUE = "Value"
FIELD_THRESHOLD = "Threshold"
FIELD_LEVEL = "Level"
FIELD_OPENED = "Opened"
TEXTS = {"opened": TEXT_OPENED, "escalated": TEXT_ESCALATED, "reminder": TEXT_REMINDER}


def _amount(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "?"
    if unit == "USD" or value != value.to_integral():
        v = value.quantize(Decimal("0.01"))
    else:
        v = value.quantize(Decimal(1))
    text = f"{v:f}"
    return f"${text}" if unit == "USD" else f"{text} %" if unit == "%" else f"{text} {unit}"


def notification(notice: AlertNotice, base_url: str | None = None) -> Notification:
    """The ``Notification`` of one notice; ``event_id`` is the same for every send of the same
    level (a receiver drops repeats) and new for each reminder."""
    inc, rule = notice.incident, notice.rule
    unit = UNITS.get(rule.kind, "")
    subject = inc.subject or TITLE_ORGANISATION
    value, threshold = _amount(inc.value, unit), _amount(inc.threshold, unit)
    title = TITLE.format(rule=rule.name, subject=subject + ": " if inc.subject else "",
                         value=value, level=inc.level, threshold=threshold)  # fmt: skip
    text = TEXTS[notice.reason].format(rule=rule.name, subject_kind=rule.subject_kind,
                                       subject=subject, level=inc.level)  # fmt: skip
    event_id = f"incident-{inc.incident_id}-{inc.level}"
    if notice.reason == "reminder":
        event_id += f"-{notice.at:%Y%m%dT%H%M%S}"
    severity = (Severity.CRITICAL if inc.level >= 100
                else Severity.WARNING if inc.level >= 80 else Severity.INFO)  # fmt: skip
    link = f"{base_url.rstrip('/')}/{inc.link}" if base_url and inc.link else None
    fields = ((FIELD_VALUE, value), (FIELD_THRESHOLD, threshold), (FIELD_LEVEL, f"{inc.level} %"),
              (FIELD_OPENED, f"{inc.opened_at:%Y-%m-%d %H:%M} UTC"))  # fmt: skip
    return Notification(title, text, event_id, severity, link, fields, notice.at)


def _result(name: str, d: Delivery) -> DeliveryResult:
    detail = d.code if d.status is None else f"{d.code} {d.status}"
    return DeliveryResult(name, d.ok, d.attempts, detail)


def notifier(
    store: Store,
    *,
    background: bool = True,
    base_url: str | None = None,
    outbox: Outbox | None = None,
    **deliver_options: Any,
) -> Notifier:
    """A ``Notifier`` that sends each notice to the channels its rule names. ``background``:
    queued on ``outbox`` (default: the process's shared one) and logged when sent; else sent
    at once (each channel bounded by ``deliver``'s ``total`` seconds) and logged by the
    evaluation. ``deliver_options`` go to ``deliver`` (``timeout``, ``retries``, ``total``)."""
    url = base_url if base_url is not None else os.environ.get("TOKENBOARD_BASE_URL") or None

    def send(notice: AlertNotice) -> Sequence[DeliveryResult]:
        names = notice.rule.channels
        if not names:
            return []
        stored = configs(store)
        message = notification(notice, url)
        out: list[DeliveryResult] = []
        for name in names:
            settings, enabled = stored.get(name, ({}, False))
            if name not in stored or not enabled:
                out.append(DeliveryResult(name, False, 0, "unknown_channel" if name not in stored
                                          else "disabled"))  # fmt: skip
                continue
            try:
                channel = build(settings)
            except ChannelConfigError as err:
                out.append(DeliveryResult(name, False, 0, f"invalid_channel {err.code}"))
                continue
            if background:
                box = outbox or default_outbox()
                box.submit(channel, message, _logger(store, notice, name))
            else:
                out.append(_result(name, deliver(channel, message, **deliver_options)))
        return out

    return send


def _logger(store: Store, notice: AlertNotice, name: str) -> Callable[[Channel, Notification, Delivery], None]:  # fmt: skip
    def done(_channel: Channel, _n: Notification, delivery: Delivery) -> None:
        try:
            record_deliveries(store, notice, [_result(name, delivery)])
        except StoreError:
            log.exception("the delivery log of incident #%s was not written",
                          notice.incident.incident_id)  # fmt: skip

    return done
