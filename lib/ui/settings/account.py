"""My account (every role): name and e-mail address, language, a new password (the current
one asked first), and the user's own live sessions with "sign out everywhere". The changes
are made and audited in ``lib.auth.admin``."""

from __future__ import annotations

import streamlit as st

from lib.auth import admin
from lib.auth.admin import Actor
from lib.auth.passwords import MIN_LENGTH
from lib.auth.users import UserError
from lib.errors import TokenboardError
from lib.i18n import LANGUAGES
from lib.ui.auth_gate import client_address, log_out, restart_session, user_store
from lib.ui.auth_words import user_error
from lib.ui.frame import PageContext, role_word
from lib.ui.i18n import N_, URL_PARAM, _
from lib.ui.markup import md
from lib.ui.settings.users import session_table


def _fail(err: TokenboardError) -> None:
    st.error(user_error(err) if isinstance(err, UserError) else md(err))


def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx``."""
    users = user_store()
    me = users.get(ctx.user.username)
    if me is None:
        return
    ip = client_address()
    done = st.session_state.pop("tb_account_done", None)
    if done:
        st.success(_(done), icon=":material/check_circle:")  # in the language chosen meanwhile
    st.caption(_("Signed in as **{username}** · {role}", username=md(me.username),
                 role=role_word(me.role)))  # fmt: skip
    with st.form("account_profile"):
        st.markdown(_("**Name and e-mail address**"))
        name = st.text_input(_("Full name"), value=me.name)
        email = st.text_input(_("Email"), value=me.email)
        names = {LANGUAGES[c]: c for c in LANGUAGES}  # each language named in itself
        current = me.language if me.language in LANGUAGES else ctx.lang
        picked = st.selectbox(_("Language"), list(names), index=list(LANGUAGES).index(current))
        language = names.get(str(picked), current)
        saved = st.form_submit_button(_("Save"), type="primary")
    if saved:
        try:
            if (name.strip(), email.strip()) != (me.name, me.email):
                admin.edit_profile(users, me.username, name, email, ctx.now, ip)
            if language != me.language:
                users.set_language(me.username, language)
                # this tab follows at once (as the sidebar's switch does)
                st.session_state["tb_lang_url"] = st.session_state["tb_lang_user"] = language
                st.query_params[URL_PARAM] = language
        except TokenboardError as err:
            _fail(err)
        else:
            st.session_state["tb_account_done"] = N_("Saved.")
            st.rerun()
    with st.form("account_password", clear_on_submit=True):
        st.markdown(_("**Change my password**"))
        current_pw = st.text_input(_("Current password"), type="password",
                                   autocomplete="current-password")  # fmt: skip
        new = st.text_input(_("New password"), type="password", autocomplete="new-password",
                            help=_("At least {n} characters; spaces count", n=MIN_LENGTH))  # fmt: skip
        again = st.text_input(_("Repeat password"), type="password", autocomplete="new-password")
        change = st.form_submit_button(_("Change password"))
    if change:
        if new != again:
            st.error(_("The two passwords differ."))
        else:
            try:
                admin.change_password(users, me.username, current_pw, new, ctx.now, ip)
            except TokenboardError as err:
                _fail(err)
            else:  # every session ended with the old password: this tab gets a new one
                restart_session(me.username)
                st.session_state["tb_account_done"] = N_(
                    "Password changed. Your other sessions are ended."
                )
                st.rerun()
    st.markdown(_("**My sessions**"))
    live = admin.user_sessions(users, Actor(me.username, me.role, ip), me.username, ctx.now)
    if live:
        session_table(live, key="account_sessions")
    if st.button(_("Sign out everywhere"), key="account_everywhere",
                 help=_("End your sessions in every browser and device, this one included")):  # fmt: skip
        try:
            log_out(everywhere=True)
        except TokenboardError as err:
            _fail(err)
        else:
            st.rerun()
