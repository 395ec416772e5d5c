"""The budgets and credits tab: the organisation's monthly budget, prepaid credit grants, rate
limits per model and the notification channels. Drawn by the shared sections of
``lib.ui.budgets_ui`` (the Alerts page draws the same ones): analysts read, admins change."""

from __future__ import annotations

import streamlit as st

from lib.ui.budgets_ui import (
    budget_section,
    channels_admin,
    channels_list,
    credits_section,
    limits_section,
)
from lib.ui.frame import PageContext
from lib.ui.i18n import _

FLASH = "budgets_flash"


def _done(text: str) -> None:
    st.session_state[FLASH] = text
    st.rerun()


def draw(ctx: PageContext) -> None:
    """The four sections, read-only unless the user may change the settings."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    if not ctx.can("settings"):
        st.caption(_("Admins change budgets, credits, limits and channels."))
    st.subheader(_("Monthly budget"))
    st.caption(_("The organisation's spend per calendar month; the Overview sets the month's spend and "
                 "its forecast against it."))  # fmt: skip
    budget_section(ctx, _done)
    st.subheader(_("Prepaid credit grants"))
    st.caption(_("What the providers granted in advance (USD). The Overview shows what is left and "
                 "the runway at the current burn rate; a “Prepaid credit running low” rule alerts on it."))  # fmt: skip
    credits_section(ctx, _done)
    st.subheader(_("Rate limits per model"))
    st.caption(_("Requests and tokens per minute each model may use. Learned from the rate-limit "
                 "headers of the answers the playground (and the gateway) sees; an entered limit "
                 "wins. The Usage page sets the busiest minute against them."))  # fmt: skip
    limits_section(ctx, _done)
    st.subheader(_("Notification channels"))
    listed = channels_list(ctx)
    channels_admin(ctx, listed, _done)
