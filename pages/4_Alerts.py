"""Alerts: incidents (open, acknowledged or snoozed, resolved) with their value against the
threshold and a link to the cause; acknowledge, snooze, resolve by role; the rules editor;
the channels alerts are sent to (shown masked, with a test send); the delivery log."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from lib.alerts import KINDS, AlertError, Incident, Rule, evaluate, incidents, rules, weekly
from lib.alerts.model import (
    BASES,
    BUDGET_LEVELS,
    DEFAULT_LEVELS,
    KIND_SUBJECTS,
    KIND_WINDOWS,
    UNITS,
)
from lib.auth.roles import PermissionDeniedError
from lib.errors import TokenboardError
from lib.ui import url
from lib.ui.alerts_ui import (
    BASIS_LABELS,
    IN_APP_LABEL,
    KIND_HELP,
    KIND_LABELS,
    REASON_LABELS,
    STATE_LABELS,
    SUBJECT_LABELS,
    WINDOW_LABELS,
    alert_error,
    cause_link,
    channel_error,
    delivery_detail,
    label,
    severity_icon,
    subject,
    value,
    worker,
)  # fmt: skip
from lib.ui.budgets_ui import channels_admin, channels_list, credits_section, limits_section
from lib.ui.frame import page
from lib.ui.i18n import _, integer, moment, n_, percent
from lib.ui.markup import md
from lib.ui.widgets import Col, table
from lib.worker import ChannelError, app_notifier, channels
from lib.worker.weekly import email_ready

ctx = page("pages/4_Alerts.py", filters=False)
store, now, role, me = ctx.store, ctx.now, ctx.user.role, ctx.user.username
may_act = ctx.can("manage_alerts")
st.title(_("Alerts"))
st.caption(
    _("Rules are evaluated every few minutes and after every import. One incident per rule and "
      "subject: it is notified when it opens, when it reaches a higher level, and again after the "
      "rule's cool-down while nobody acknowledged it; it resolves by itself once back under.")
)  # fmt: skip

FLASH = "alerts_flash"
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")

UNIT_WORDS = {"USD": "USD", "%": "%", "ms": "ms", "hours": _("hours"), "days": _("days"),
              "requests": _("requests"), "z": _("robust z-score")}  # fmt: skip
SNOOZES = {"1h": (timedelta(hours=1), _("1 hour")), "1d": (timedelta(days=1), _("1 day")),
           "1w": (timedelta(weeks=1), _("1 week"))}  # fmt: skip


def done(text: str) -> None:
    """Say ``text`` after the rerun that shows the change."""
    st.session_state[FLASH] = text
    st.rerun()


def refused(err: Exception) -> None:
    if isinstance(err, PermissionDeniedError):
        st.error(_("Your role ({role}) may not change alerts.", role=role))
    elif isinstance(err, AlertError):
        st.error(alert_error(err.code))
    elif isinstance(err, ChannelError):
        st.error(channel_error(err.code))


all_rules = rules.list_rules(store)
rule_of = {r.rule_id: r for r in all_rules}
channel_names = channels.names(store)

tab, boxes = url.tabs(
    {"incidents": _("Incidents"), "rules": _("Rules"), "channels": _("Channels"),
     "log": _("Delivery log")},
    key="alerts_tab",
)  # fmt: skip


# -- incidents ---------------------------------------------------------------------------------
def _incident(inc: Incident) -> None:
    rule = rule_of.get(inc.rule_id)
    title = md(rule.name) if rule else label(KIND_LABELS, inc.kind)
    with st.container(border=True):
        left, right = st.columns([3, 2])
        kind_words = label(KIND_LABELS, inc.kind)
        head = [f"{severity_icon(inc.level)} **{title}**", *([kind_words] if kind_words != title else []),
                subject(inc)]  # fmt: skip
        left.markdown(" · ".join(head))
        left.markdown(_("**{value}** against a threshold of {threshold} · level {level} % reached",
                        value=value(inc.kind, inc.value), threshold=value(inc.kind, inc.threshold),
                        level=integer(inc.level)))  # fmt: skip
        when = [_("Since {time} UTC", time=moment(inc.opened_at))]
        if inc.state == "snoozed" and inc.snoozed_until:
            when.append(_("snoozed by {user} until {time} UTC", user=md(inc.acknowledged_by or "—"),
                          time=moment(inc.snoozed_until)))  # fmt: skip
        elif inc.acknowledged_by and inc.state != "resolved":
            when.append(_("acknowledged by {user} at {time} UTC", user=md(inc.acknowledged_by),
                          time=moment(inc.acknowledged_at)))  # fmt: skip
        if inc.resolved_at:
            by = inc.resolved_by
            when.append(_("resolved at {time} UTC", time=moment(inc.resolved_at)) if by in (None, "rule_changed")
                        else _("resolved by {user} at {time} UTC", user=md(by), time=moment(inc.resolved_at)))  # fmt: skip
        left.caption(" · ".join(when))
        cause_link(left, inc)
        if not may_act or inc.state == "resolved":
            return
        row = right.container(horizontal=True, horizontal_alignment="right")
        key = f"inc_{inc.incident_id}"
        try:
            if inc.state != "acknowledged" and row.button(_("Acknowledge"), key=f"{key}_ack"):
                incidents.acknowledge(store, role, inc.incident_id, me)
                done(
                    _(
                        "Incident #{id} acknowledged: no reminders until it escalates.",
                        id=inc.incident_id,
                    )
                )
            with row.popover(_("Snooze"), icon=":material/snooze:"):
                for code, (span, words) in SNOOZES.items():
                    if st.button(words, key=f"{key}_snooze_{code}"):
                        incidents.snooze(store, role, inc.incident_id, now + span, me, now=now)
                        done(
                            _("Incident #{id} snoozed for {span}.", id=inc.incident_id, span=words)
                        )
            if row.button(_("Resolve"), key=f"{key}_resolve"):
                incidents.resolve(store, role, inc.incident_id, me)
                done(_("Incident #{id} resolved. If its subject is still over the threshold at the next "
                       "evaluation, a new incident opens.", id=inc.incident_id))  # fmt: skip
        except (AlertError, PermissionDeniedError) as err:
            refused(err)


VIEWS = {"open": ("open",), "acknowledged": ("acknowledged", "snoozed"), "resolved": ("resolved",)}
EMPTY = {
    "open": _("No open alerts. Add rules on the Rules tab: a monthly budget is a good first one."),
    "acknowledged": _("Nothing acknowledged or snoozed."),
    "resolved": _("No resolved incidents yet."),
}
SHOWN = 50
if tab == "incidents":
    with boxes["incidents"]:
        found = {
            v: incidents.list_incidents(store, states, limit=200) for v, states in VIEWS.items()
        }
        view = url.choice(
            st, _("Show"), list(VIEWS), key="alerts_show", param="show", widget="segmented_control",
            format_func=lambda v: f"{_(STATE_LABELS[v])} ({integer(len(found[v]))})", required=True,
            label_visibility="collapsed",
        )  # fmt: skip
        w = worker(store)
        row = st.container(horizontal=True, vertical_alignment="center")
        if w is None:
            row.caption(_("The background worker is off in this app: rules are evaluated after imports, "
                          "with the button, or by `python -m lib.cli alerts run` (cron)."))  # fmt: skip
        elif w.last is not None:
            row.caption(_("Last evaluated at {time} UTC, again every {n} minutes.",
                          time=moment(w.last.at), n=integer(int(w.interval_s // 60))))  # fmt: skip
        if (
            may_act
            and all_rules
            and row.button(_("Evaluate now"), icon=":material/refresh:", type="tertiary")
        ):
            try:
                summary = evaluate(store, now, app_notifier(store))
            except TokenboardError:
                st.error(_("The rules could not be evaluated now (details are in the server log). "
                           "Try again in a moment."))  # fmt: skip
            else:
                done(_("Rules evaluated: {opened} opened, {resolved} resolved, {open} open.",
                       opened=integer(summary.opened), resolved=integer(summary.resolved),
                       open=integer(summary.open)))  # fmt: skip
        items = found[view]
        if not items:
            st.info(EMPTY[view] if all_rules or view != "open" else
                    _("No alert rules yet: add one on the Rules tab (a monthly budget, an error rate, "
                      "a spend spike…), and incidents show here when a rule is over its threshold."))  # fmt: skip
        if not may_act and items:
            st.caption(_("Admins and analysts can acknowledge, snooze and resolve incidents."))
        for inc in items[:SHOWN]:
            _incident(inc)
        if len(items) > SHOWN:
            st.caption(n_("and {n} more, not shown", "and {n} more, not shown", len(items) - SHOWN))


# -- rules -------------------------------------------------------------------------------------
def _levels(text: str) -> list[int] | None:
    """Whole percentages from "50, 80, 100"; None when empty (the kind's default)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not parts:
        return None
    try:
        return [int(p.strip().rstrip("%")) for p in parts]
    except ValueError:
        raise AlertError("levels", "levels") from None


def _rule_form(rule: Rule | None) -> None:
    """The fields of a new rule (``rule`` None) or of ``rule``, and its buttons."""
    k = f"rule_{rule.rule_id if rule else 'new'}"
    if rule is None:
        kind = st.selectbox(_("Kind of rule"), KINDS, key=f"{k}_kind",
                            format_func=lambda c: label(KIND_LABELS, c))  # fmt: skip
    else:
        kind = rule.kind
    st.caption(label(KIND_HELP, kind))
    a, b, c = st.columns(3)
    subjects = KIND_SUBJECTS[kind]
    if rule is None:
        subject_kind = a.selectbox(_("Watch"), subjects, key=f"{k}_subject_kind",
                                   format_func=lambda c: label(SUBJECT_LABELS, c))  # fmt: skip
    else:
        subject_kind = rule.subject_kind
        a.text_input(_("Watch"), label(SUBJECT_LABELS, subject_kind), disabled=True, key=f"{k}_sk")
    who = b.text_input(_("Which one"), value=(rule.subject or "") if rule else "", key=f"{k}_subject",
                       disabled=subject_kind == "organisation",
                       help=_("A name as the data writes it (gpt-4o, a project id…). Empty: every one, "
                              "each with its own incident."))  # fmt: skip
    windows = KIND_WINDOWS[kind]
    window = c.selectbox(_("Window"), windows, key=f"{k}_window",
                         index=windows.index(rule.window) if rule and rule.window in windows else 0,
                         format_func=lambda w: label(WINDOW_LABELS, w))  # fmt: skip
    a, b, c = st.columns(3)
    unit = UNITS.get(kind, "")
    threshold = a.text_input(_("Threshold ({unit})", unit=UNIT_WORDS.get(unit, unit)),
                             value=str(rule.threshold.normalize()) if rule else "", key=f"{k}_threshold",
                             placeholder="1000" if kind == "budget" else _("default"),
                             help=_("Empty: the kind's default (a budget has none).") if kind != "budget"
                             else _("An amount in USD."))  # fmt: skip
    default_levels = BUDGET_LEVELS if kind == "budget" else DEFAULT_LEVELS
    levels = b.text_input(_("Levels (% of the threshold)"),
                          value=", ".join(str(x) for x in (rule.levels if rule else default_levels)),
                          key=f"{k}_levels_{kind}", help=_("Each level reached is notified once: 50, 80, 100."))  # fmt: skip
    basis = "actual"
    if kind == "budget":
        basis = c.selectbox(_("Spend"), BASES, key=f"{k}_basis",
                            index=BASES.index(rule.basis) if rule else 0,
                            format_func=lambda x: label(BASIS_LABELS, x))  # fmt: skip
    a, b, c = st.columns(3)
    min_volume = a.number_input(_("Minimum requests in the window"), min_value=0, step=10,
                                value=rule.min_volume if rule else 0, key=f"{k}_min",
                                help=_("Below this volume the rule stays quiet (error rate, 429 share, latency)."))  # fmt: skip
    cooldown_h = b.number_input(_("Cool-down (hours)"), min_value=0, max_value=24 * 90, step=1,
                                value=(rule.cooldown_s // 3600) if rule else 24, key=f"{k}_cool",
                                help=_("An open incident nobody acknowledged is notified again after this long."))  # fmt: skip
    options = ["in_app", *channel_names]
    picked = c.multiselect(_("Channels"), options, default=[x for x in (rule.channels if rule else ("in_app",)) if x in options],
                           key=f"{k}_channels", format_func=lambda x: _(IN_APP_LABEL) if x == "in_app" else x,
                           help=_("Add webhooks and e-mail on the Channels tab."),
                           placeholder=_("No channel"))  # fmt: skip
    name = st.text_input(_("Name"), value=rule.name if rule else "", key=f"{k}_name",
                         placeholder=_("e.g. Monthly budget"))  # fmt: skip
    enabled = st.checkbox(_("Enabled"), value=rule.enabled, key=f"{k}_enabled") if rule else True
    fields = dict(subject=who.strip() or None, window=window, threshold=threshold.strip() or None, basis=basis,
                  min_volume=int(min_volume), cooldown_s=int(cooldown_h) * 3600, channels=picked)  # fmt: skip
    try:
        if rule is None:
            if st.button(_("Add the rule"), type="primary", key=f"{k}_save"):
                made = rules.create(store, role, kind=kind, subject_kind=subject_kind, levels=_levels(levels),
                                    name=name.strip() or None, user=me, **fields)  # type: ignore[arg-type]  # fmt: skip
                done(_("Rule “{name}” added.", name=md(made.name)))
            return
        row = st.container(horizontal=True)
        if row.button(_("Save changes"), type="primary", key=f"{k}_save"):
            new_levels = _levels(levels)
            changes: dict[str, object] = {**fields, "name": name, "enabled": enabled,
                       **({"levels": new_levels} if new_levels else {})}  # fmt: skip
            if changes["threshold"] is None:
                changes.pop("threshold")
            rules.update(store, role, rule.rule_id, user=me, **changes)  # type: ignore[arg-type]
            done(_("Rule “{name}” saved.", name=md(name)))
        sure = row.checkbox(_("Yes, delete it"), key=f"{k}_sure")
        if row.button(_("Delete the rule"), key=f"{k}_delete", disabled=not sure):
            rules.delete(store, role, rule.rule_id, user=me)
            done(_("Rule “{name}” deleted; its open incidents are resolved.", name=md(rule.name)))
    except (AlertError, PermissionDeniedError) as err:
        refused(err)


if tab == "rules":
    with boxes["rules"]:
        if not all_rules:
            st.info(_("No alert rules yet. Add one below: a monthly budget is a good first rule.") if may_act
                    else _("No alert rules yet. Admins and analysts can add them here."))  # fmt: skip
        else:
            df = pd.DataFrame([{
                "name": r.name, "kind": label(KIND_LABELS, r.kind), "subject": subject(r.subject_kind, r.subject, plain=True),
                "window": label(WINDOW_LABELS, r.window),
                "threshold": value(r.kind, r.threshold), "levels": ", ".join(percent(x / 100, 0) for x in r.levels),
                "min_volume": r.min_volume, "cooldown": n_("{n} hour", "{n} hours", r.cooldown_s // 3600,
                                                           n=integer(r.cooldown_s // 3600)),
                "channels": ", ".join(_(IN_APP_LABEL) if x == "in_app" else x for x in r.channels) or "—",
                "enabled": _("Yes") if r.enabled else _("No")} for r in all_rules])  # fmt: skip
            table(df, "alert_rules", key="rules_table", columns={
                "name": Col(_("Name")), "kind": Col(_("Kind")), "subject": Col(_("Watches")),
                "window": Col(_("Window")), "threshold": Col(_("Threshold")), "levels": Col(_("Levels")),
                "min_volume": Col(_("Minimum requests"), "count"), "cooldown": Col(_("Cool-down")),
                "channels": Col(_("Channels")), "enabled": Col(_("Enabled")),
            })  # fmt: skip
        if may_act:
            with st.expander(_("Add a rule"), expanded=not all_rules, icon=":material/add:"):
                _rule_form(None)
            if all_rules:
                with st.expander(_("Change, disable or delete a rule"), icon=":material/edit:"):
                    pick = st.selectbox(_("Rule"), [r.rule_id for r in all_rules], key="rule_pick",
                                        format_func=lambda i: f"#{i} · {rule_of[i].name}")  # fmt: skip
                    _rule_form(rule_of[pick])
        with st.expander(_("Prepaid credit grants"), icon=":material/savings:"):
            st.caption(_("What the providers granted in advance (USD). The Overview shows what is left and "
                         "the runway at the current burn rate; a “Prepaid credit running low” rule alerts on it."))  # fmt: skip
            credits_section(ctx, done)
        with st.expander(_("Rate limits per model"), icon=":material/speed:"):
            st.caption(_("Requests and tokens per minute each model may use. Learned from the rate-limit "
                         "headers of the answers the playground (and the gateway) sees; an entered limit "
                         "wins. The Usage page sets the busiest minute against them."))  # fmt: skip
            limits_section(ctx, done)


# -- channels ----------------------------------------------------------------------------------
if tab == "channels":
    with boxes["channels"]:
        listed = channels_list(ctx)
        st.markdown("**" + _("Your weekly summary") + "**")
        no_summary = _("No weekly summary")
        summary_options = [
            no_summary,
            *([weekly.MY_EMAIL] if email_ready() else []),
            *(c.name for c in listed),
        ]
        summary_choice = weekly.choice(store, me)
        summary_pick = st.selectbox(
            _("Send me the weekly summary through"), summary_options,
            format_func=lambda c: _("E-mail to my address") if c == weekly.MY_EMAIL else c,
            index=summary_options.index(summary_choice) if summary_choice in summary_options else 0, key="weekly_pick",
            help=_("Every Monday: last week's spend against the week before, the models and projects "
                   "that moved most, and the open alerts."),
        )  # fmt: skip
        if (summary_pick if summary_pick != no_summary else None) != (
            summary_choice if summary_choice in summary_options else None
        ):
            weekly.set_choice(store, me, None if summary_pick == no_summary else summary_pick)
            done(_("Weekly summary: {choice}.", choice=md(summary_pick)))
        channels_admin(ctx, listed, done)


# -- the delivery log --------------------------------------------------------------------------
if tab == "log":
    with boxes["log"]:
        sent = incidents.deliveries(store, limit=200)
        if not sent:
            st.info(_("Nothing sent yet. A delivery shows here each time an incident of a rule with "
                      "channels opens, escalates or is reminded."))  # fmt: skip
        else:
            table(pd.DataFrame([{
                "at": d.at, "incident": d.incident_id, "channel": d.channel,
                "reason": label(REASON_LABELS, d.reason), "level": percent(d.level / 100, 0),
                "ok": _("Sent") if d.ok else _("Failed"), "attempts": d.attempts, "detail": delivery_detail(d.detail)}
                for d in sent]), "alert_deliveries", key="log_table", columns={
                "at": Col(_("Time (UTC)"), "time"), "incident": Col(_("Incident #"), "count"),
                "channel": Col(_("Channel")), "reason": Col(_("Why")), "level": Col(_("Level")),
                "ok": Col(_("Result")), "attempts": Col(_("Tries"), "count"), "detail": Col(_("Detail")),
            })  # fmt: skip
