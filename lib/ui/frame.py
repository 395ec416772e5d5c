"""The page frame: every page starts with ``page(...)``.

It sets up the page, checks login and role (stopping the script for anyone who may not see
the page), draws the navigation grouped by section with only the pages the role may open,
the signed-in user with a logout button, and the global filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from lib.auth.roles import can
from lib.errors import TokenboardError
from lib.filters import Filters
from lib.store import Store
from lib.ui.auth_gate import SignedIn, log_out, require_login
from lib.ui.filters_ui import sidebar_filters
from lib.ui.markup import md
from lib.ui.nav import SECTIONS, existing_pages, item_for
from lib.ui.state import get_store


@dataclass(frozen=True)
class PageContext:
    store: Store
    user: SignedIn
    filters: Filters

    def can(self, action: str) -> bool:
        return can(self.user.role, action)


def _navigation(role: str, current: str) -> None:
    pages = [p for p in existing_pages() if can(role, p.action)]
    with st.sidebar:
        for section in SECTIONS:
            items = [p for p in pages if p.section == section]
            if not items:
                continue
            st.caption(section.upper())
            for p in items:
                st.page_link(p.path, label=p.label, icon=p.icon, disabled=p.path == current)


def page(path: str, *, filters: bool = True) -> PageContext:
    """Frame the page at ``path`` (e.g. ``"pages/1_Usage.py"``) and return its context."""
    item = item_for(path)
    title = item.label if item else "Tokenboard"
    st.set_page_config(page_title=f"{title} · Tokenboard", page_icon="📊", layout="wide")
    user = require_login()
    action = item.action if item else "view"
    if not can(user.role, action):
        st.error(f"The {title} page is not open to the {user.role} role.")
        st.stop()
    _navigation(user.role, path)
    with st.sidebar:
        st.divider()
        st.caption(f"Signed in as **{md(user.name)}** · {user.role}")
        here = st.button("Log out", key="tb_logout")
        everywhere = st.button(
            "Sign out everywhere",
            key="tb_logout_all",
            type="tertiary",
            help="End your sessions in every browser and device, this one included",
        )
        if here or everywhere:
            try:
                log_out(everywhere=everywhere)
            except TokenboardError as err:  # not recorded: the session still opens the app
                st.error(f"You are still signed in: the logout could not be recorded. {md(err)}")
            else:
                st.rerun()  # show the login form, not the rest of this page
        st.divider()
    store = get_store()
    f = sidebar_filters(store, path) if filters else Filters()
    return PageContext(store, user, f)
