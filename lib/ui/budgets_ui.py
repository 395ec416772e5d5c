"""Budgets, prepaid credit, rate limits and notification channels, drawn once for both pages
that show them: the Settings page's "Budgets and credits" tab and the Alerts page (its Rules
and Channels tabs). Everyone who sees them reads the lists; admins (``settings``) get the
forms, and lib checks the role again (``lib.alerts.credits``, ``lib.alerts.limits``,
``lib.worker.channels``, ``lib.settings``).

Each function takes ``done(text)``: the page's way to say ``text`` after the rerun that shows
the change.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import pandas as pd
import streamlit as st

from lib.alerts.credits import add_grant, delete_grant, grants
from lib.alerts.limits import limits, set_limit
from lib.alerts.model import AlertError
from lib.auth.roles import PermissionDeniedError
from lib.errors import TokenboardError
from lib.settings import monthly_budget, set_monthly_budget
from lib.ui import words
from lib.ui.alerts_ui import CHANNEL_KINDS, DELIVERY_CODES, alert_error, channel_error, label
from lib.ui.frame import PageContext
from lib.ui.i18n import _, integer, n_
from lib.ui.markup import md
from lib.ui.widgets import Col, table, usd
from lib.worker import ChannelError, channels
from lib.worker.channels import ChannelView

Done = Callable[[str], None]


def _from_ip() -> str | None:
    return st.context.ip_address if isinstance(st.context.ip_address, str) else None


def refused(err: Exception, role: str) -> None:
    """A refusal of lib in words (the role, an alert setting's or a channel's code)."""
    if isinstance(err, PermissionDeniedError):
        st.error(_("Your role ({role}) may not change the settings.", role=role))
    elif isinstance(err, AlertError):
        st.error(alert_error(err.code))
    elif isinstance(err, ChannelError):
        st.error(channel_error(err.code))


# -- the monthly budget -------------------------------------------------------------------------
def budget_section(ctx: PageContext, done: Done) -> None:
    """The organisation's monthly budget (the Overview sets the month's spend against it)."""
    budget = monthly_budget(ctx.store)
    st.markdown(
        _("**Monthly budget:** {amount}", amount=usd(budget)) if budget is not None
        else _("**Monthly budget:** none set")
    )  # fmt: skip
    if not ctx.can("settings"):
        return
    with st.form("budget_form", border=False):
        typed = st.text_input(_("Organisation budget (USD per month)"), value=str(budget or ""),
                              placeholder="5000", help=_("Dollars; empty or 0 for no budget."), key="budget_usd")  # fmt: skip
        if st.form_submit_button(_("Save budget")):
            text = typed.strip().replace(",", "").replace("$", "")
            try:
                value = Decimal(text) if text else None
            except InvalidOperation:
                st.error(_("A budget is a positive amount in USD."))
                return
            try:
                set_monthly_budget(ctx.store, value if value else None, ctx.user.role,
                                   actor=ctx.user.username, from_ip=_from_ip(), now=ctx.now)  # fmt: skip
            except PermissionDeniedError as err:
                refused(err, ctx.user.role)
            except TokenboardError:
                st.error(_("A budget is a positive amount in USD."))
            else:
                done(_("Monthly budget saved.") if value else _("Monthly budget removed."))


# -- prepaid credit -----------------------------------------------------------------------------
def credits_section(ctx: PageContext, done: Done) -> None:
    """Prepaid credit grants: the list, and (admins) adding and deleting one. The credit rule
    and the Overview's runway read them."""
    store, role, me, now = ctx.store, ctx.user.role, ctx.user.username, ctx.now
    found = grants(store)
    if found:
        table(pd.DataFrame([{"id": g.grant_id, "provider": g.provider, "amount": g.amount_usd,
                             "granted_on": g.granted_on, "expires_on": g.expires_on, "note": g.note or ""}
                            for g in found]), "credit_grants", key="grants_table", columns={
            "id": Col(_("Grant #"), "count"), "provider": Col(_("Provider")),
            "amount": Col(_("Amount (USD)"), "usd"), "granted_on": Col(_("Granted on"), "day"),
            "expires_on": Col(_("Expires on"), "day", none=_("— : does not expire.")), "note": Col(_("Note")),
        })  # fmt: skip
    if not ctx.can("settings"):
        return
    gen = st.session_state.get("grant_form_gen", 0)
    with st.form(f"grant_form_{gen}", border=False):
        a, b, c, d = st.columns(4)
        provider = a.text_input(_("Provider"), placeholder="openai")
        amount = b.text_input(_("Amount (USD)"), placeholder="500")
        granted_on = c.date_input(_("Granted on"), value=now.date())
        expires_on = d.date_input(_("Expires on"), value=None, help=_("Empty: does not expire."))
        note = st.text_input(_("Note"))
        if st.form_submit_button(_("Add the grant")):
            try:
                g = add_grant(store, role, provider=provider, amount_usd=amount, granted_on=granted_on,
                              expires_on=expires_on, note=note.strip() or None, user=me)  # fmt: skip
            except (AlertError, PermissionDeniedError) as err:
                refused(err, role)
            else:
                st.session_state["grant_form_gen"] = gen + 1
                done(_("Grant of {amount} for {provider} added.", amount=usd(g.amount_usd),
                       provider=md(g.provider)))  # fmt: skip
    if found:
        a, b = st.columns([2, 1], vertical_alignment="bottom")
        pick = a.selectbox(_("Grant"), [g.grant_id for g in found], key="grant_pick",
                           format_func=lambda i: f"#{i}")  # fmt: skip
        if b.button(
            _("Delete the grant"), key="grant_delete", type="tertiary", icon=":material/delete:"
        ):
            try:
                delete_grant(store, role, pick)
            except PermissionDeniedError as err:
                refused(err, role)
            else:
                done(_("Grant #{id} deleted.", id=pick))


# -- rate limits --------------------------------------------------------------------------------
def limits_section(ctx: PageContext, done: Done) -> None:
    """Rate limits per model: the ones in force, and (admins) entering one."""
    store, role = ctx.store, ctx.user.role
    found = limits(store)
    if found:
        table(pd.DataFrame([{"provider": x.provider, "model": x.model, "rpm": x.rpm, "tpm": x.tpm,
                             "source": words.limit_source(x.source), "seen_at": x.seen_at} for x in found]),
              "rate_limits", key="limits_list", columns={
            "provider": Col(_("Provider")), "model": Col(_("Model")), "rpm": Col(_("Limit (RPM)"), "count"),
            "tpm": Col(_("Limit (TPM)"), "count"), "source": Col(_("Limit from")),
            "seen_at": Col(_("Since (UTC)"), "time"),
        })  # fmt: skip
    if not ctx.can("settings"):
        return
    gen = st.session_state.get("limit_form_gen", 0)
    with st.form(f"limit_form_{gen}", border=False):
        a, b, c, d = st.columns(4)
        provider = a.text_input(_("Provider"), placeholder="openai", key="limit_provider")
        model = b.text_input(_("Model"), placeholder="gpt-4o", key="limit_model")
        rpm = c.number_input(_("Limit (RPM)"), min_value=0, value=0, step=100, key="limit_rpm",
                             help=_("0: not known. Both 0: the entered limit is removed."))  # fmt: skip
        tpm = d.number_input(_("Limit (TPM)"), min_value=0, value=0, step=10000, key="limit_tpm")
        if st.form_submit_button(_("Save the limit")):
            try:
                set_limit(
                    store, role, provider, model, int(rpm) or None, int(tpm) or None, now=ctx.now
                )
            except (AlertError, PermissionDeniedError) as err:
                refused(err, role)
            else:
                st.session_state["limit_form_gen"] = gen + 1
                done(_("Limit of {model} saved.", model=md(model.strip())))


# -- notification channels ----------------------------------------------------------------------
def channels_list(ctx: PageContext) -> list[ChannelView]:
    """The channels alerts (and tickets) are sent to, shown masked; returns them."""
    listed = channels.list_channels(ctx.store)
    if not listed:
        st.info(_("No channels yet: alerts show in the app only. Add a Slack or Teams webhook, a "
                  "signed JSON webhook or e-mail recipients, then choose the channel in a rule."))  # fmt: skip
    else:
        table(pd.DataFrame([{"name": c.name, "kind": label(CHANNEL_KINDS, c.kind), "target": c.target}
                            for c in listed]), "alert_channels", key="channels_table", columns={
            "name": Col(_("Name")), "kind": Col(_("Kind")),
            "target": Col(_("Sends to"), help=_("Shown masked: a webhook URL is itself a secret.")),
        })  # fmt: skip
    return listed


def channels_admin(ctx: PageContext, listed: list[ChannelView], done: Done) -> None:
    """Admins: a test send and deleting a channel, and adding one (its URL and secret are
    gone from the session once saved); others are told who does it."""
    store, role = ctx.store, ctx.user.role
    if not ctx.can("settings"):
        st.caption(_("Admins add channels and send tests."))
        return
    if listed:
        a, b = st.columns([2, 1], vertical_alignment="bottom")
        which = a.selectbox(_("Channel"), [c.name for c in listed], key="channel_pick")
        b = b.container(horizontal=True)
        if b.button(_("Send a test"), icon=":material/send:", key="channel_test"):
            try:
                with st.spinner(_("Sending…")):
                    d = channels.send_test(store, role, which, timeout=5, total=10)
            except (ChannelError, PermissionDeniedError) as err:
                refused(err, role)
            else:
                if d.ok:
                    st.success(n_("Test sent to {target} in {n} try ({ms} ms).",
                                  "Test sent to {target} in {n} tries ({ms} ms).", d.attempts,
                                  target=md(d.target), ms=integer(d.duration_ms)))  # fmt: skip
                else:
                    st.error(_("The test did not arrive: {why}", why=_(DELIVERY_CODES.get(
                        d.code, DELIVERY_CODES["internal"]), status=d.status or "—")))  # fmt: skip
        if b.button(_("Delete"), key="channel_delete", type="tertiary", icon=":material/delete:"):
            try:
                channels.delete(store, role, which)
            except (ChannelError, PermissionDeniedError) as err:
                refused(err, role)
            else:
                done(_("Channel {name} deleted.", name=md(which)))
    st.markdown("**" + _("Add a channel") + "**")
    kind = st.selectbox(_("Kind of channel"), list(CHANNEL_KINDS), key="channel_kind",
                        format_func=lambda c: label(CHANNEL_KINDS, c))  # fmt: skip
    # a new form after each save: the URL and secret typed are gone from the session too
    gen = st.session_state.get("channel_form_gen", 0)
    with st.form(f"channel_form_{gen}", clear_on_submit=True, border=False):
        name = st.text_input(_("Name"), placeholder="ops-alerts", key="channel_name")
        settings: dict[str, object] = {}
        if kind == "email":
            settings["to"] = st.text_input(_("Recipients"), placeholder="finops@example.com, …",
                                           help=_("The SMTP server and its login come from the [smtp] "
                                                  "table of the app's secrets."))  # fmt: skip
        else:
            settings["url"] = st.text_input(_("Webhook URL"), type="password",
                                            help=_("Kept in the database; shown masked from now on."))  # fmt: skip
        if kind == "webhook":
            settings["secret"] = st.text_input(_("Signing secret"), type="password",
                                               help=_("The receiver checks the HMAC-SHA256 signature with it."))  # fmt: skip
        if st.form_submit_button(_("Save the channel"), type="primary"):
            try:
                saved = channels.save(store, role, name, kind, settings)
            except (ChannelError, PermissionDeniedError) as err:
                refused(err, role)
            else:
                st.session_state["channel_form_gen"] = gen + 1
                done(
                    _(
                        "Channel {name} saved: {target}",
                        name=md(saved.name),
                        target=md(saved.target),
                    )
                )
