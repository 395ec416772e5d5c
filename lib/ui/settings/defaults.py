"""The reporting defaults tab: the time zone days and months are cut in when the link and the
user chose none, the language of the login form and of users who chose none, and the first
day of the calendar weeks (budget alerts' week window, the weekly summary). Admins change
them (checked and audited by ``lib.settings``); analysts read them."""

from __future__ import annotations

import streamlit as st

from lib.auth.roles import PermissionDeniedError
from lib.i18n.catalog import LANGUAGES
from lib.settings import (
    WEEK_STARTS,
    ReportingDefaults,
    SettingsError,
    reporting_defaults,
    set_reporting_defaults,
    zone_names,
)
from lib.ui.frame import PageContext
from lib.ui.i18n import N_, _
from lib.ui.markup import md

FLASH = "defaults_flash"
WEEK_WORDS = {"monday": N_("Monday"), "sunday": N_("Sunday")}
REFUSALS = {
    "time_zone": N_("Time zone: expected a time zone name such as Europe/Paris or America/New_York."),
    "language": N_("Language: expected English or French."),
    "week_start": N_("First day of the week: expected Monday or Sunday."),
}  # fmt: skip


def _language(code: str | None) -> str:
    return LANGUAGES[code] if code in LANGUAGES else _("The browser's language")


def _read_only(d: ReportingDefaults) -> None:
    st.markdown(
        "\n".join([
            "- " + _("**Time zone:** {zone}", zone=md(d.time_zone)),
            "- " + _("**Language:** {language}", language=_language(d.language)),
            "- " + _("**First day of the week:** {day}", day=_(WEEK_WORDS[d.week_start])),
        ])
    )  # fmt: skip
    st.caption(_("Admins change the reporting defaults."))


def draw(ctx: PageContext) -> None:
    """The three defaults: read-only for analysts, a form for admins."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    current = reporting_defaults(ctx.store)
    st.caption(_("What a page uses when neither the link nor the user chose otherwise. The time zone cuts "
                 "days and months in the filters; the language is the login form's and that of users who chose "
                 "none; the week's first day begins the weekly budget alerts and the weekly summary (the Usage "
                 "page's week-over-week compares the last 7 days with the 7 before, whatever the day)."))  # fmt: skip
    if not ctx.can("settings"):
        _read_only(current)
        return
    zones = zone_names(ctx.store)
    langs = ["", *LANGUAGES]
    with st.form("defaults_form", border=False):
        tz = st.selectbox(_("Time zone"), zones, index=zones.index(current.time_zone) if current.time_zone in zones else 0,
                          key="defaults_tz", help=_("An IANA time zone name; UTC by default."))  # fmt: skip
        lang = st.selectbox(_("Language"), langs, index=langs.index(current.language or ""), key="defaults_lang",
                            format_func=lambda c: _language(c or None))  # fmt: skip
        week = st.radio(_("First day of the week"), WEEK_STARTS, index=WEEK_STARTS.index(current.week_start),
                        key="defaults_week", horizontal=True, format_func=lambda w: _(WEEK_WORDS[w]))  # fmt: skip
        if st.form_submit_button(_("Save the defaults"), type="primary"):
            from_ip = st.context.ip_address if isinstance(st.context.ip_address, str) else None
            try:
                set_reporting_defaults(ctx.store, ctx.user.role, time_zone=tz, language=lang or None,
                                       week_start=week, actor=ctx.user.username, from_ip=from_ip, now=ctx.now)  # fmt: skip
            except SettingsError as err:
                st.error(_(REFUSALS[err.field]))
            except PermissionDeniedError:
                st.error(_("Your role ({role}) may not change the settings.", role=ctx.user.role))
            else:
                st.session_state[FLASH] = _("Reporting defaults saved.")
                st.rerun()
