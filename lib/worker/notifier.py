"""The alerts engine's notifier: an incident's notice becomes a ``lib.notify.Notification``
sent to each channel its rule names, in the background (``lib.notify.Outbox``), so an
evaluation, and the import behind it, never waits for a channel, even one that is down.
Each delivery is written to the delivery log (``lib.alerts.record_deliveries``) when it is
done; a channel that cannot be used (deleted, unusable settings, outbox full) is logged as a
failed delivery at once.

Notifications leave the app (a chat message, an e-mail) and are written in English, from the
templates below (``lib.notify.words`` holds the channels' own words). The log names the
channel, never its URL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC
from decimal import Decimal

from lib.alerts import AlertNotice, DeliveryResult, record_deliveries
from lib.alerts.model import UNITS
from lib.config import setting
from lib.notify import Channel, Delivery, Notification, Outbox, Severity
from lib.store import Store
from lib.worker.channels import IN_APP, ChannelError, load

log = logging.getLogger("tokenboard")

BASE_URL_SETTING = "TOKENBOARD_BASE_URL"  # the app's address, for the links in notifications

# -- the words of an alert notification (English: they leave the app) -----------------------
TITLE = "{rule}: {subject}"
ORGANISATION = "whole organisation"
TEXT_OPENED = "New alert: **{value}** against a threshold of {threshold} (level {level} %)."
TEXT_ESCALATED = "Escalated to level {level} %: **{value}** against a threshold of {threshold}."
TEXT_REMINDER = "Still open since {since}: **{value}** against a threshold of {threshold}."
FIELD_VALUE = "Value"
FIELD_THRESHOLD = "Threshold"
FIELD_LEVEL = "Level"
FIELD_SUBJECT = "Subject"
UNIT_WORDS = {"USD": "USD", "%": "%", "ms": "ms", "hours": "hours", "days": "days",
              "requests": "requests", "z": "(robust z-score)"}  # fmt: skip
TEMPLATES = (TITLE, ORGANISATION, TEXT_OPENED, TEXT_ESCALATED, TEXT_REMINDER, FIELD_VALUE,
             FIELD_THRESHOLD, FIELD_LEVEL, FIELD_SUBJECT)  # fmt: skip


def _figure(value: Decimal | None, unit: str) -> str:
    """A value in its unit, plainly (``$12.50``, ``7.5 %``, ``1,200 ms``)."""
    if value is None:
        return "—"
    v = Decimal(value)
    if unit == "USD":
        return f"${v.quantize(Decimal('0.01')):,}"
    digits = Decimal("0.1") if unit in ("%", "z", "hours", "days") else Decimal(1)
    text = f"{v.quantize(digits):,}"
    return f"{text} %" if unit == "%" else f"{text} {UNIT_WORDS.get(unit, unit)}"


def severity(level: int) -> Severity:
    """100 % and above: critical; 80 %: warning; below: info."""
    return Severity.CRITICAL if level >= 100 else Severity.WARNING if level >= 80 else Severity.INFO


def notification(notice: AlertNotice, base_url: str | None = None) -> Notification:
    """The notification of one notice. ``base_url`` (the app's address) makes the incident's
    link absolute; without it the notification has no link."""
    inc, rule = notice.incident, notice.rule
    unit = UNITS.get(inc.kind, "")
    value, threshold = _figure(inc.value, unit), _figure(inc.threshold, unit)
    template = {"opened": TEXT_OPENED, "escalated": TEXT_ESCALATED}.get(notice.reason,
                                                                         TEXT_REMINDER)  # fmt: skip
    since = inc.opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subject = inc.subject or ORGANISATION
    link = f"{base_url.rstrip('/')}/{inc.link}" if base_url and inc.link else None
    if link and "tz=" not in link:  # cut in UTC: kept so under another default zone (Settings)
        link += ("&" if "?" in link else "?") + "tz=UTC"
    return Notification(
        title=TITLE.format(rule=rule.name, subject=subject),
        text=template.format(value=value, threshold=threshold, level=inc.level, since=since),
        event_id=f"tokenboard-incident-{inc.incident_id}-{inc.level}-{notice.reason}-"
        f"{int(notice.at.timestamp())}",
        severity=severity(inc.level),
        link=link,
        fields=((FIELD_VALUE, value), (FIELD_THRESHOLD, threshold),
                (FIELD_LEVEL, f"{inc.level} %"), (FIELD_SUBJECT, f"{inc.subject_kind}: {subject}")),
        occurred_at=notice.at,
    )  # fmt: skip


def result_of(name: str, d: Delivery) -> DeliveryResult:
    """A ``lib.notify`` delivery as a line of the delivery log: the code, and the status
    when there was one (``http_status 500``)."""
    detail = d.code if d.status is None else f"{d.code} {d.status}"
    return DeliveryResult(name, d.ok, max(1, d.attempts), detail)


class AlertNotifier:
    """A ``lib.alerts`` notifier over the stored channels. With an ``outbox`` it returns at
    once (deliveries are logged when done); without, it sends and waits (the command line).
    ``secrets``: the app's secrets as a dict (the ``[smtp]`` table), default read from file."""

    def __init__(
        self,
        store: Store,
        *,
        outbox: Outbox | None = None,
        base_url: str | None = None,
        secrets: Mapping[str, object] | None = None,
        **deliver_options: object,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.base_url = base_url if base_url is not None else setting(BASE_URL_SETTING)
        self.secrets = secrets
        self.options = deliver_options

    def _logged(
        self, notice: AlertNotice, name: str
    ) -> Callable[[Channel, Notification, Delivery], None]:
        def on_done(_channel: Channel, _note: Notification, d: Delivery) -> None:
            record_deliveries(self.store, notice, [result_of(name, d)])

        return on_done

    def __call__(self, notice: AlertNotice) -> list[DeliveryResult]:
        now: list[DeliveryResult] = []
        note = notification(notice, self.base_url)
        for name in dict.fromkeys(notice.rule.channels):
            if name == IN_APP:
                continue
            try:
                channel = load(self.store, name, self.secrets)
            except ChannelError as err:
                now.append(DeliveryResult(name, False, 0, err.code))
                continue
            if self.outbox is None:
                from lib.notify import deliver

                now.append(result_of(name, deliver(channel, note, **self.options)))  # type: ignore[arg-type]
                continue
            queued = self.outbox.submit(channel, note, self._logged(notice, name))
            if queued in ("full", "closed"):
                now.append(DeliveryResult(name, False, 0, f"outbox_{queued}"))
        return now
