"""The Alerts page's and the Overview's shared parts: the background worker started once per
process (``start_worker``), the words of the alerts' codes (kinds, subjects, windows, states,
refusals), values written in their unit, the link to the filtered view of an incident's
cause, and the Overview's section at the top (open alerts, service notices, prepaid credit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import streamlit as st

from lib.alerts import Incident, incidents
from lib.alerts.credits import CreditStatus, credit_status
from lib.alerts.model import SUBJECT_COLUMNS, UNITS
from lib.notices import PollResult
from lib.store import Store
from lib.ui import words
from lib.ui.i18n import N_, _, integer, moment, n_, number, percent
from lib.ui.markup import md
from lib.ui.state import cached
from lib.ui.widgets import ms, usd
from lib.worker import Worker, app_notifier, start_worker

log = logging.getLogger("tokenboard")

ALERTS_PAGE = "pages/4_Alerts.py"
# The pages an incident's link opens (lib.alerts.measure.link names them).
LINK_PAGES = {"Usage": "pages/1_Usage.py", "Costs": "pages/2_Costs.py",
              "Errors": "pages/3_Errors.py"}  # fmt: skip

KIND_LABELS = {
    "budget": N_("Budget"), "spend_spike": N_("Spend spike"), "error_rate": N_("Error rate"),
    "rate_limit_share": N_("Share of 429s"), "p95_latency": N_("p95 latency"),
    "no_data": N_("No new data"), "key_unused": N_("Key unused"),
    "key_revoked_used": N_("Revoked or expired key used"),
    "key_refused": N_("Requests refused by a key's restrictions"),
    "model_retirement": N_("Model retirement"), "credit_low": N_("Prepaid credit running low"),
}  # fmt: skip
KIND_HELP = {
    "budget": N_("Spend in the window against an amount in USD; levels 50, 80 and 100 % by default."),
    "spend_spike": N_("Spend far above the usual level for the same weekday and hour (robust z-score)."),
    "error_rate": N_("Errors as a share of requests, in %, once the window has the minimum volume."),
    "rate_limit_share": N_("429 answers as a share of requests, in %, once the window has the minimum volume."),
    "p95_latency": N_("95th percentile latency in milliseconds."),
    "no_data": N_("Hours since the newest data."),
    "key_unused": N_("Days since a key was last used."),
    "key_revoked_used": N_("Requests made with a revoked or expired key."),
    "key_refused": N_("Requests refused by a key's IP, origin, model or budget restrictions."),
    "model_retirement": N_("Days before a model in use retires."),
    "credit_low": N_("Days of prepaid credit left at the current burn rate."),
}  # fmt: skip
SUBJECT_LABELS = {"organisation": N_("Organisation"), "provider": N_("Provider"),
                  "project": N_("Project"), "key": N_("API key"), "model": N_("Model"),
                  "user": N_("User")}  # fmt: skip
WINDOW_LABELS = {"hour": N_("Hour"), "day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
BASIS_LABELS = {"actual": N_("Actual spend"), "forecast": N_("Month-end forecast")}
STATE_LABELS = {"open": N_("Open"), "acknowledged": N_("Acknowledged"), "snoozed": N_("Snoozed"),
                "resolved": N_("Resolved")}  # fmt: skip
REASON_LABELS = {"opened": N_("opened"), "escalated": N_("escalated"), "reminder": N_("reminder")}
CHANNEL_KINDS = {"slack": N_("Slack-compatible webhook"), "teams": N_("Microsoft Teams webhook"),
                 "webhook": N_("Generic JSON webhook (signed)"), "email": N_("E-mail")}  # fmt: skip
IN_APP_LABEL = N_("In the app")
# Refusals of lib.alerts (AlertError.code) and of the channels (ChannelError.code).
ALERT_ERRORS = {
    "kind": N_("This kind of rule does not exist."),
    "subject_kind": N_("This kind of rule cannot watch that subject."),
    "window": N_("This kind of rule does not take that window."),
    "basis": N_("Only budgets can be watched on the month-end forecast."),
    "threshold": N_("The threshold is a positive number (a budget needs an amount in USD)."),
    "levels": N_("Levels are whole percentages between 1 and 1000, such as 50, 80, 100."),
    "name": N_("A rule's name has 1 to 200 characters."),
    "min_volume": N_("The minimum volume and the cool-down are not negative."),
    "not_found": N_("It no longer exists: someone removed it. The page shows what is there now."),
    "resolved": N_("This incident is already resolved."),
    "snooze": N_("Snooze until a time within the next 90 days."),
    "amount": N_("A credit grant is a positive amount in USD."),
    "provider": N_("A credit grant names its provider (openai, anthropic…)."),
    "expiry": N_("A grant cannot expire before it is granted."),
    "rate_limit": N_("A rate limit names its provider and model, and counts per minute above 0."),
}  # fmt: skip
CHANNEL_ERRORS = {
    "name": N_("A channel's name has 1 to 40 letters, digits, spaces, dots, dashes or underscores (not “in_app”)."),
    "exists": N_("There is already a channel with this name."),
    "not_found": N_("There is no channel with this name."),
    "kind": N_("Unknown kind of channel."),
    "missing": N_("A setting is missing: the URL (webhooks), the signing secret (generic webhook) or the recipients (e-mail)."),
    "bad_url": N_("The URL is not an http(s) address with a host."),
    "bad_address": N_("Recipients are e-mail addresses, separated by commas."),
    "smtp": N_("E-mail needs an [smtp] table in the app's secrets (host, from, and a login if the server asks for one)."),
    "bad_port": N_("The [smtp] port in the app's secrets is not a port number."),
    "bad_security": N_("The [smtp] security in the app's secrets is starttls, ssl or none."),
}  # fmt: skip
DELIVERY_CODES = {
    "sent": N_("Sent."), "in_app": N_("Shown in the app; nothing to send."),
    "http_status": N_("The server refused it (HTTP {status})."),
    "timeout": N_("The server did not answer in time."),
    "connection": N_("No connection to the server."),
    "tls": N_("The TLS certificate or connection was refused."),
    "redirect": N_("The server answered with a redirect, which is not followed."),
    "smtp_auth": N_("The SMTP server refused the login."),
    "smtp_refused": N_("The SMTP server refused the sender, the recipients or the message."),
    "deadline": N_("Gave up: the next try would have taken too long."),
    "invalid_channel": N_("The channel's settings cannot be used."),
    "internal": N_("An unexpected failure (details are in the server log)."),
}  # fmt: skip


def label(table: dict[str, str], code: str | None) -> str:
    """A code's words from one of the tables above (the code itself when unknown)."""
    return _(table[code]) if code in table else (code or words.UNKNOWN)


def alert_error(code: str) -> str:
    return _(ALERT_ERRORS.get(code, N_("The change was refused.")))


def channel_error(code: str) -> str:
    return _(CHANNEL_ERRORS.get(code, N_("The channel's settings cannot be used.")))


# -- the worker -------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _worker(path: str, _store: Store) -> Worker | None:
    try:
        started = start_worker(_store)
        if started is None:  # off: the rules are still evaluated after imports, and sent
            app_notifier(_store)
        return started
    except Exception:  # the pages work without it
        log.exception("the background worker could not start")
        return None


def worker(store: Store) -> Worker | None:
    """The background worker of ``store``'s database, started once per process (None when
    ``TOKENBOARD_WORKER`` turns it off or it could not start)."""
    found = _worker(store.path, store)
    return found if found is not None and found.running else None


# -- values -----------------------------------------------------------------------------------
def value(kind: str, v: Decimal | None) -> str:
    """A measured value or threshold in its kind's unit: USD, %, ms, hours, days, requests,
    a z-score."""
    if v is None:
        return words.UNKNOWN
    unit = UNITS.get(kind, "")
    if unit == "USD":
        return usd(v)
    if unit == "%":
        return percent(v / 100, digits=1)
    if unit == "ms":
        return ms(v)
    if unit == "hours":
        return n_("{n} hour", "{n} hours", int(v), n=number(v, 1 if v % 1 else 0))
    if unit == "days":
        return n_("{n} day", "{n} days", int(v), n=number(v, 1 if v % 1 else 0))
    if unit == "requests":
        return n_("{n} request", "{n} requests", int(v), n=integer(int(v)))
    if unit == "z":
        return _("z = {z}", z=number(v, 1))
    return number(v)


def subject(inc_or_kind: Incident | str, name: str | None = None, *, plain: bool = False) -> str:
    """ "Model gpt-4o", "Organisation"; a rule that watches every value of its kind: "Every
    model". Markdown-safe, or ``plain`` text for a table."""
    if isinstance(inc_or_kind, Incident):
        kind, name = inc_or_kind.subject_kind, inc_or_kind.subject
    else:
        kind = inc_or_kind
    if kind == "organisation":
        return label(SUBJECT_LABELS, kind)
    if not name:
        return _("Every {kind}", kind=words.dimension_lower(SUBJECT_COLUMNS.get(kind) or kind))
    shown = words.dim_value(kind, name) if kind == "provider" else name
    return f"{label(SUBJECT_LABELS, kind)} {shown if plain else md(shown)}"


def cause_link(container: object, inc: Incident, text: str | None = None) -> None:
    """A link to the filtered view that shows the incident's cause (nothing without one)."""
    if not inc.link:
        return
    page_name, _sep, query = inc.link.partition("?")
    target = LINK_PAGES.get(page_name)
    if target is None:
        return
    params = dict(parse_qsl(query, keep_blank_values=False))
    # a link without a zone was cut in UTC: it keeps UTC whatever the reporting defaults' zone
    params.setdefault("tz", "UTC")
    lang = st.session_state.get("tb_lang_url")
    if lang:
        params["lang"] = lang
    container.page_link(target, label=text or _("Show the cause"),  # type: ignore[attr-defined]
                        icon=":material/search:", query_params=params)  # fmt: skip


def severity_icon(level: int) -> str:
    """A coloured icon for the level reached (Markdown: Streamlit's material icons)."""
    if level >= 100:
        return ":red[:material/error:]"
    return ":orange[:material/warning:]" if level >= 80 else ":blue[:material/info:]"


def delivery_detail(detail: str | None) -> str:
    """A delivery log's detail in words: ``sent 200``, ``http_status 500``, ``not_found`` (a
    channel removed); other text (an exception's name) as it is."""
    if not detail:
        return ""
    code, _sep, status = detail.partition(" ")
    if code in DELIVERY_CODES:
        return _(DELIVERY_CODES[code], status=status or words.UNKNOWN)
    if code in CHANNEL_ERRORS:
        return channel_error(code)
    if code.startswith("outbox_"):
        return _("Not sent: too many notifications were waiting.")
    return detail


def most_severe(items: Sequence[Incident], n: int = 3) -> list[Incident]:
    """The ``n`` incidents of the highest level, then furthest over their threshold, then newest."""

    def share(i: Incident) -> Decimal:
        s = incidents.value_share(i)
        return s if s is not None else Decimal(0)

    return sorted(items, key=lambda i: (i.level, share(i), i.opened_at), reverse=True)[:n]


# -- the Overview's section at the top ----------------------------------------------------------
def _notices(poll: PollResult | None) -> None:
    if poll is None or not poll.incidents:
        return
    st.markdown("**" + _("Service notices") + "**")
    for inc in poll.incidents[:5]:
        parts = [f"**{md(inc.page)}**: {md(inc.name)}", label(NOTICE_STATUS, inc.status)]
        if inc.components:
            parts.append(", ".join(md(c.name) for c in inc.components[:6]))
        if inc.kind == "maintenance" and inc.scheduled_for and inc.scheduled_for > poll.checked_at:
            parts.append(_("scheduled for {time} UTC", time=moment(inc.scheduled_for)))
        elif inc.started_at or inc.scheduled_for:
            parts.append(_("since {time} UTC", time=moment(inc.started_at or inc.scheduled_for)))
        line = " · ".join(parts)
        if inc.shortlink and SAFE_LINK.match(inc.shortlink):
            line += f" · [{_('Status page')}]({inc.shortlink})"
        (st.info if inc.kind == "maintenance" else st.warning)(line, icon=":material/cloud:")
    if len(poll.incidents) > 5:
        st.caption(n_("and {n} more notice", "and {n} more notices", len(poll.incidents) - 5))


# A status page's link put into Markdown: https, and characters that cannot end or break it.
SAFE_LINK = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~/?=&%+-]*)?$")
NOTICE_STATUS = {"investigating": N_("investigating"), "identified": N_("identified"),
                 "monitoring": N_("monitoring"), "scheduled": N_("maintenance scheduled"),
                 "in_progress": N_("maintenance in progress"),
                 "verifying": N_("maintenance being verified")}  # fmt: skip


def _credits(items: list[CreditStatus]) -> None:
    if not items:
        return
    cols = st.columns(min(4, len(items)))
    for i, c in enumerate(items):
        if c.runway_days is None:
            runway = _("no spend in the last 7 days")
        elif c.runway_days <= 0:
            runway = _("used up")
        else:
            runway = n_("about {n} day left at the current burn rate",
                        "about {n} days left at the current burn rate", int(c.runway_days),
                        n=number(c.runway_days, 1 if c.runway_days < 10 else 0))  # fmt: skip
        cols[i % len(cols)].metric(
            _("{provider} credit left", provider=words.provider(c.provider)), usd(c.remaining),
            runway, delta_color="off",
            help=_("{granted} granted since {since}, {spent} spent; {burn} a day over the last 7 days.",
                   granted=usd(c.granted), since=str(c.since), spent=usd(c.spent), burn=usd(c.burn_per_day)),
        )  # fmt: skip


def overview_top(store: Store, now: datetime) -> None:
    """Open alerts (count and the most severe, linking to the Alerts page), the service
    notices the worker last read, and the prepaid credit left with its runway. Reads small
    tables only; the credit is cached with the data version."""
    try:
        found = incidents.list_incidents(store, ("open", "snoozed", "acknowledged"), limit=200)
        credits = cached(credit_status, store, None, None, now)
    except Exception:  # the Overview draws without this section rather than not at all
        log.exception("the Overview's alerts could not be read")
        return
    w = worker(store)
    poll = w.notices if w is not None else None
    open_now = [i for i in found if i.state == "open"]
    if open_now:
        with st.container(border=True):
            st.markdown(n_("**{n} open alert**", "**{n} open alerts**", len(open_now)))
            for inc in most_severe(open_now):
                st.markdown(
                    f"{severity_icon(inc.level)} **{label(KIND_LABELS, inc.kind)}** · {subject(inc)} · "
                    + _("{value} against {threshold} ({level} %)", value=value(inc.kind, inc.value),
                        threshold=value(inc.kind, inc.threshold), level=integer(inc.level))
                )  # fmt: skip
            st.page_link(
                ALERTS_PAGE, label=_("Open the Alerts page"), icon=":material/notifications:"
            )
    _notices(poll)
    _credits(credits)
