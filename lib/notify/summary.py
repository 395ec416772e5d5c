"""The weekly summary as a ``Notification``: spend this week against the week before, the
top movers, the open alerts. Built from plain figures (the caller queries them); every
sentence comes from a template of ``lib.notify.words``.

Money is exact (``Decimal``) and shown rounded half up to the cent (``$1,234.57``); changes in
per cent to one decimal (``+12.5%``), computed from the exact amounts when not given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lib.notify import words
from lib.notify.model import Notification, Severity

MAX_MOVERS = 5
MAX_ALERTS = 5
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Mover:
    """One thing whose spend moved: a model, project, key or user (``name`` as shown)."""

    name: str
    spend: Decimal  # this week
    previous: Decimal  # the week before


@dataclass(frozen=True)
class OpenAlert:
    title: str
    severity: Severity = Severity.WARNING


@dataclass(frozen=True)
class WeeklyFigures:
    """The figures of one week (``start``..``end``, both days included, in the reporting time
    zone). ``change_pct`` is the change of spend in per cent when the caller has it (else it
    is computed; None with no spend the week before). ``open_alerts_count`` may exceed the
    alerts listed."""

    start: date
    end: date
    spend: Decimal
    previous: Decimal
    change_pct: Decimal | None = None
    movers: Sequence[Mover] = ()
    open_alerts: Sequence[OpenAlert] = ()
    open_alerts_count: int | None = None
    currency: str = "USD"
    link: str | None = None
    extra_fields: tuple[tuple[str, str], ...] = field(default=())


def money(amount: Decimal, currency: str = "USD") -> str:
    """``$1,234.57`` (US dollars) or ``1,234.57 EUR``; negative amounts with a minus sign."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{abs(cents):,.2f}"
    sign = "−" if cents < 0 else ""
    return f"{sign}${text}" if currency.upper() == "USD" else f"{sign}{text} {currency.upper()}"


def signed_money(amount: Decimal, currency: str = "USD") -> str:
    """A difference: ``+$12.00``, ``−$3.50``, ``$0.00``."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return ("+" if cents > 0 else "") + money(cents, currency)


def change_pct(spend: Decimal, previous: Decimal) -> Decimal | None:
    """``(spend − previous) / previous × 100``; None when nothing was spent before."""
    if previous == 0:
        return None
    return (spend - previous) / previous * 100


def percent(value: Decimal) -> str:
    """``+12.5%``, ``−3.0%``, ``0.0%`` (one decimal, half up)."""
    tenth = value.quantize(TENTH, rounding=ROUND_HALF_UP)
    if tenth == 0:
        return "0.0%"
    return f"{'+' if tenth > 0 else '−'}{abs(tenth)}%"


def weekly_summary(f: WeeklyFigures) -> Notification:
    """The summary's notification (severity info; the movers are the largest changes in
    spend, up to 5, those that did not move left out; up to 5 alerts listed); its ``event_id`` is ``weekly-summary:<start>`` (one per
    week, so a second run of the same week is recognised)."""
    pct = f.change_pct if f.change_pct is not None else change_pct(f.spend, f.previous)
    lines: list[str] = []
    if f.spend == 0 and f.previous == 0:
        lines.append(words.SUMMARY_SPEND_NONE)
    elif pct is None:
        lines.append(words.SUMMARY_SPEND_NO_PREVIOUS.format(spend=money(f.spend, f.currency)))
    else:
        lines.append(words.SUMMARY_SPEND.format(
            spend=money(f.spend, f.currency), change=percent(pct), previous=money(f.previous, f.currency)
        ))  # fmt: skip

    lines.append("")
    moved = [m for m in f.movers if m.spend != m.previous]
    movers = sorted(moved, key=lambda m: (-abs(m.spend - m.previous), m.name))[:MAX_MOVERS]
    if movers:
        lines.append(words.SUMMARY_MOVERS_HEADING)
        for m in movers:
            delta = signed_money(m.spend - m.previous, f.currency)
            mover_pct = change_pct(m.spend, m.previous)
            if mover_pct is None:
                lines.append(words.SUMMARY_MOVER_LINE_NEW.format(
                    name=m.name, spend=money(m.spend, f.currency), delta=delta))  # fmt: skip
            else:
                lines.append(words.SUMMARY_MOVER_LINE.format(
                    name=m.name, spend=money(m.spend, f.currency), delta=delta, change=percent(mover_pct)
                ))  # fmt: skip
    else:
        lines.append(words.SUMMARY_NO_MOVERS)

    lines.append("")
    count = f.open_alerts_count if f.open_alerts_count is not None else len(f.open_alerts)
    if count == 0:
        lines.append(words.SUMMARY_NO_ALERTS)
    else:
        heading = words.SUMMARY_ALERTS_ONE if count == 1 else words.SUMMARY_ALERTS_MANY
        lines.append(heading.format(n=f"{count:,}"))
        shown = list(f.open_alerts)[:MAX_ALERTS]
        for a in shown:
            lines.append(words.SUMMARY_ALERT_LINE.format(severity=a.severity.label, title=a.title))
        if count > len(shown) and shown:
            lines.append(words.SUMMARY_MORE_ALERTS.format(n=f"{count - len(shown):,}"))

    fields = [
        (words.SUMMARY_FIELD_SPEND, money(f.spend, f.currency)),
        (words.SUMMARY_FIELD_PREVIOUS, money(f.previous, f.currency)),
    ]
    if pct is not None:
        fields.append((words.SUMMARY_FIELD_CHANGE, percent(pct)))
    fields.append((words.SUMMARY_FIELD_ALERTS, f"{count:,}"))
    return Notification(
        title=words.SUMMARY_TITLE.format(start=f.start.isoformat(), end=f.end.isoformat()),
        text="\n".join(lines).strip(),
        event_id=f"weekly-summary:{f.start.isoformat()}",
        severity=Severity.INFO,
        link=f.link,
        fields=(*fields, *f.extra_fields),
    )
