"""The login gate: streamlit-authenticator's widget over Tokenboard's user store.

- The cookie key comes from secrets or the environment; a missing or default key stops the
  app with a message (forged cookies would otherwise be accepted).
- No self-registration: with no users, a form creates the first admin, and it accepts only
  the one-time setup token that the server printed to its log at start.
- Failed logins lock a user for ``LOCK_MINUTES`` after ``MAX_ATTEMPTS`` failures; sessions
  end after ``IDLE_MINUTES`` without activity and cookies expire after ``COOKIE_DAYS``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components.CookieManager import _component_func as _cookie_component
from streamlit_authenticator.utilities.exceptions import LoginError

from lib.auth.users import (
    AuthConfigError,
    SetupToken,
    UserError,
    UserStore,
    cookie_key,
    create_first_admin,
    users_file,
)

MAX_ATTEMPTS = 5
LOCK_MINUTES = 15
IDLE_MINUTES = 8 * 60
COOKIE_DAYS = 1.0
COOKIE_NAME = "tokenboard_session"

log = logging.getLogger("tokenboard")


@dataclass(frozen=True)
class SignedIn:
    username: str
    name: str
    role: str


@st.cache_resource(show_spinner=False)
def _user_store(path: str) -> UserStore:
    return UserStore(Path(path))


def user_store() -> UserStore:
    """One user store per process (and file), so failed-login counters are shared by all
    sessions."""
    return _user_store(str(users_file()))


@st.cache_resource(show_spinner=False)
def setup_token() -> SetupToken:
    token = SetupToken()
    message = (
        "Tokenboard has no users yet. To create the first admin, open the app and enter this "
        f"one-time setup token: {token.value}"
    )
    log.warning(message)
    print(message, flush=True)  # the server log, also when logging is not configured
    return token


def _first_admin_form(store: UserStore) -> None:
    st.title("Set up Tokenboard")
    st.write(
        "There are no users yet. Create the first admin account. The **setup token** is printed "
        "in the server's log (the terminal or the host's log viewer) when the app starts."
    )
    token = setup_token()
    with st.form("first_admin"):
        given = st.text_input("Setup token", type="password")
        username = st.text_input("Username", help="Lower-case letters, digits, '.', '_' or '-'")
        name = st.text_input("Full name")
        email = st.text_input("Email")
        password = st.text_input("Password", type="password", help="At least 10 characters")
        again = st.text_input("Repeat password", type="password")
        if st.form_submit_button("Create admin", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
            else:
                try:
                    create_first_admin(store, token, given, username, name, email, password)
                except UserError as err:
                    st.error(str(err))
                else:
                    st.success("Admin created. You can now log in.")
                    st.rerun()


def _authenticator(store: UserStore, key: str) -> stauth.Authenticate:
    return stauth.Authenticate(
        store.credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=key,
        cookie_expiry_days=COOKIE_DAYS,
        auto_hash=False,
    )


def _sync_cookie() -> None:
    """Draw the pending login-cookie write or delete on every run until the browser confirms
    it. (Drawn once, as streamlit-authenticator does, the cookie component is often removed
    by the next run before its frame has loaded, and the browser never gets the cookie.)"""
    pending = st.session_state.get("tb_cookie_op")
    if pending:
        method, args = pending
        if _cookie_component(method=method, key=f"tb_cookie_{method}", default=False, **args):
            del st.session_state["tb_cookie_op"]


def _remember(auth: stauth.Authenticate, now: float) -> None:
    """Ask the browser to keep a signed login cookie for ``COOKIE_DAYS``."""
    model = auth.cookie_controller.cookie_model
    model.exp_date = now + COOKIE_DAYS * 86400
    expires = datetime.fromtimestamp(model.exp_date, UTC).isoformat()
    st.session_state["tb_cookie_op"] = ("set", {"cookie": COOKIE_NAME, "value": model._token_encode(),
                                                "options": {"path": "/", "expires": expires, "sameSite": "strict"}})  # fmt: skip


def log_out() -> None:
    """End this session and have the browser delete the login cookie."""
    auth = _authenticator(user_store(), cookie_key())
    auth.authentication_controller.logout()
    st.session_state["tb_cookie_op"] = ("delete", {"cookie": COOKIE_NAME})


def _signed_in(store: UserStore, now: float) -> SignedIn:
    username = st.session_state["username"]
    role = store.role_of(username)
    if role is None:
        st.error("Your account has no role. Ask an admin to give you one.")
        st.stop()
    st.session_state["tb_last_seen"] = now
    return SignedIn(username, st.session_state.get("name") or username, role)


def require_login() -> SignedIn:
    """The signed-in user, or the login (or first-admin) form and ``st.stop()``.

    A session already signed in skips streamlit-authenticator entirely: its cookie component
    answers every page it is drawn on with a second run of the page, which doubled the time
    of every navigation. The cookie is read (and the component drawn) only to sign in."""
    try:
        key = cookie_key()
    except AuthConfigError as err:
        st.error(str(err))
        st.stop()
    store = user_store()
    if store.empty:
        _first_admin_form(store)
        st.stop()
    _sync_cookie()
    now = time.time()
    last = st.session_state.get("tb_last_seen")
    if st.session_state.get("authentication_status"):
        if not (last and now - last > IDLE_MINUTES * 60):
            return _signed_in(store, now)
        log_out()
        st.session_state["tb_expired"] = True
    auth = _authenticator(store, key)
    locked = store.release_expired_locks(MAX_ATTEMPTS, LOCK_MINUTES * 60, now)
    if not st.session_state.get("authentication_status"):
        st.title("Tokenboard")
        st.caption("LLM API usage, spend and errors. Sign in to continue.")
        if st.session_state.pop("tb_expired", False):
            st.info("Your session expired. Please log in again.")
    try:
        auth.login(
            location="main",
            max_login_attempts=MAX_ATTEMPTS,
            key="login",
            fields={"Form name": "Log in", "Login": "Log in"},
        )
    except LoginError:
        st.error(f"Too many failed logins for this user: try again in {LOCK_MINUTES} minutes.")
        st.stop()
    status = st.session_state.get("authentication_status")
    if status is False:
        user = st.session_state.get("username") or ""
        if user in locked:
            st.error(f"Too many failed logins for this user: try again in {LOCK_MINUTES} minutes.")
        else:
            st.error("Username or password is incorrect.")
    if not status:
        st.stop()
    _remember(auth, now)
    _sync_cookie()
    return _signed_in(store, now)
