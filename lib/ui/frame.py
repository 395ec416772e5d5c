"""The page frame: every page starts with ``page(...)``.

It decides the page's language (``lib.ui.i18n``), sets up the page, checks login and role,
draws the navigation grouped by section with only the pages the role may open, the
signed-in user with the language switch and a logout button, and the global filters. A
role that may not open the page sees the navigation and a sentence saying so, and the
script stops there.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lib.auth.roles import can
from lib.errors import TokenboardError
from lib.filters import Filters
from lib.i18n import N_
from lib.store import Store
from lib.ui import url
from lib.ui.alerts_ui import worker as start_worker
from lib.ui.auth_gate import SignedIn, log_out, require_login, user_store
from lib.ui.filters_ui import sidebar_filters
from lib.ui.i18n import (
    _,
    adopt_user_language,
    explicit_language,
    keep_in_url,
    lang,
    language_switch,
    resolve_language,
)
from lib.ui.markup import md
from lib.ui.nav import HELP_PAGE, SECTIONS, NavItem, existing_pages, item_for
from lib.ui.state import get_store
from lib.ui.state import now as clock

ROLE_WORDS = {"admin": N_("admin"), "analyst": N_("analyst"), "viewer": N_("viewer")}


@dataclass(frozen=True)
class PageContext:
    store: Store
    user: SignedIn
    filters: Filters
    lang: str = "en"  # the language the page is drawn in
    now: datetime = field(default_factory=clock)  # the page clock: UTC, to the minute

    def can(self, action: str) -> bool:
        return can(self.user.role, action)


def role_word(role: str) -> str:
    """A role's name in the page's language."""
    return _(ROLE_WORDS[role]) if role in ROLE_WORDS else role


def _navigation(role: str, current: str) -> None:
    pages = [p for p in existing_pages() if can(role, p.action)]
    with st.sidebar:
        for section in SECTIONS:
            items = [p for p in pages if p.section == section]
            if not items:
                continue
            st.caption(_(section).upper())
            for p in items:
                st.page_link(p.path, label=_(p.label), icon=p.icon, disabled=p.path == current)


def page_url(path: str) -> str:
    """The URL path of a page of the app: ``/`` for app.py, ``/Usage`` for pages/1_Usage.py
    (Streamlit names a page by its file without the number)."""
    if not path.startswith("pages/"):
        return "/"
    name = path.removeprefix("pages/").removesuffix(".py")
    return "/" + re.sub(r"^\d+_", "", name)


def view_link(path: str) -> str:
    """The relative link of the view being drawn: the page's path and its current query
    string (``/Costs?period=7d&tab=left``)."""
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return page_url(path) + ("?" + urlencode(pairs) if pairs else "")


def help_params(topic: str) -> dict[str, str]:
    """The query string of the Help page opened at ``topic`` (in this tab's language)."""
    params = {"topic": topic}
    code = explicit_language()
    return {**params, "lang": code} if code else params


def _help_links(slot: DeltaGenerator, item: NavItem | None, path: str) -> None:
    """Draw (again) the page's help link and the "Report a problem" link, which carries the
    current view: redrawn each time a control of the page changes the URL."""
    code = explicit_language()
    report = {"tab": "tickets", "from": view_link(path), **({"lang": code} if code else {})}
    with slot.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.page_link(HELP_PAGE, label=_("Help for this page"), icon=":material/help_center:",
                     query_params=help_params(item.help if item else "quickstart"),
                     width="content")  # fmt: skip
        st.page_link(HELP_PAGE, label=_("Report a problem"), icon=":material/bug_report:",
                     query_params=report, width="content")  # fmt: skip


def _save_language(username: str, code: str) -> None:
    """Keep the language chosen with the switch for the user's next visits (only for this tab
    when users come from the app's secrets)."""
    with contextlib.suppress(TokenboardError, OSError):  # then only this tab keeps it
        user_store().set_language(username, code)


_LOGOUT = "tb_logout_asked"  # "here" or "everywhere": a logout clicked, not yet done


def _ask_logout(where: str) -> None:
    """The logout buttons' callback: it runs when the click arrives, so a click is never lost
    to a run that another rerun (the sign-in cookie's answer) cuts short before the button."""
    st.session_state[_LOGOUT] = where


def _account(user: SignedIn) -> None:
    with st.sidebar:
        st.divider()
        st.caption(
            _("Signed in as **{name}** · {role}", name=md(user.name), role=role_word(user.role))
        )
        language_switch(st, on_saved=lambda code: _save_language(user.username, code))
        st.button(_("Log out"), key="tb_logout", on_click=_ask_logout, args=("here",))
        st.button(
            _("Sign out everywhere"),
            key="tb_logout_all",
            type="tertiary",
            help=_("End your sessions in every browser and device, this one included"),
            on_click=_ask_logout,
            args=("everywhere",),
        )
        asked = st.session_state.pop(_LOGOUT, None)
        if asked:
            try:
                log_out(everywhere=asked == "everywhere")
            except TokenboardError as err:  # not recorded: the session still opens the app
                st.error(
                    _(
                        "You are still signed in: the logout could not be recorded. {why}",
                        why=md(err),
                    )
                )
            else:
                st.rerun()  # show the login form, not the rest of this page
        st.divider()


def _welcome() -> None:
    """Say that the first admin was created, once the browser has stored the sign-in cookie:
    its answer reruns the page, and a run cut short by it would drop the message (or after
    three runs, when the browser never answers)."""
    S = st.session_state
    welcome = S.get("tb_welcome")
    if not welcome:
        return
    S["tb_welcome_runs"] = S.get("tb_welcome_runs", 0) + 1
    if S.get("tb_cookie_op") and S["tb_welcome_runs"] < 3:
        return
    del S["tb_welcome"], S["tb_welcome_runs"]
    st.toast(
        _("Admin account {name} created. You are signed in.", name=md(welcome)),
        icon=":material/check_circle:",
        duration="long",
    )


def page(path: str, *, filters: bool = True) -> PageContext:
    """Frame the page at ``path`` (e.g. ``"pages/1_Usage.py"``) and return its context."""
    item = item_for(path)
    resolve_language()
    title = _(item.label) if item else "Tokenboard"
    st.set_page_config(page_title=f"{title} · Tokenboard", page_icon="📊", layout="wide")
    user = require_login()
    before = title
    adopt_user_language(user.language)
    title = _(item.label) if item else "Tokenboard"  # in the account's language
    if title != before:
        st.set_page_config(page_title=f"{title} · Tokenboard")
    action = item.action if item else "view"
    _navigation(user.role, path)
    # above the page's title, right-aligned; filled once the URL holds the view (filters drawn)
    links = st.empty()
    _account(user)
    _welcome()
    if not can(user.role, action):
        st.title(title)
        st.info(
            _(
                "The {page} page is not open to the {role} role. Ask an admin if you need it.",
                page=title,
                role=role_word(user.role),
            ),
            icon=":material/lock:",
        )
        keep_in_url()
        _help_links(links, item, path)
        st.stop()
    store = get_store()
    start_worker(store)  # once per process: alerts, status pages, scheduled pulls
    f = sidebar_filters(store, path) if filters else Filters()
    keep_in_url()  # a filter change that rewrote the query string keeps the language
    _help_links(links, item, path)
    url.watch(lambda: _help_links(links, item, path))  # a page control changes the view
    return PageContext(store, user, f, lang())
