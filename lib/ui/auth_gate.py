"""The login gate: Tokenboard's own sign-in form over its user store and server-side sessions.

- The cookie key comes from secrets or the environment; a missing, public or weak key stops
  the app with a message (anyone knowing the key could sign cookies).
- No self-registration: with no users, a form creates the first admin, and it accepts only
  the one-time setup token that the server printed to its log at start (once per process).
  The new admin is signed in at once. Others come by an admin or an invitation: a
  signed-out visitor opening ``/?invite=<token>`` (or a reset link, ``/?reset=<token>``)
  gets a form to accept it; the token leaves the URL at once, and a used, expired, withdrawn
  or unknown link gets one message for all.
- A disabled account is refused; when the password given is right it is told so (only the
  holder of the password learns that the account exists and is disabled). A user who must
  change their password (a temporary one set by an admin) chooses a new one before anything
  else: the session starts only then. A reset link stops the old password at once, so it
  never leads here.
- Passwords are used exactly as typed. Failed sign-ins slow down the client that makes
  them (``lib.auth.throttle``), never the account for everyone, and the answer is the same
  for unknown and known usernames.
- A sign-in starts a session on the server (``lib.auth.sessions``); the browser keeps a
  signed random token in a cookie that the server sets (``lib.auth.web``): HttpOnly,
  SameSite=Strict, Secure over https. Logout and "sign out
  everywhere" end sessions on the server, so a copied cookie opens nothing afterwards;
  sessions end after ``IDLE_S`` without use in any tab and ``MAX_AGE_S`` after sign-in.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lib.auth import admin, device, sessions, unlocks
from lib.auth.handoff import HANDOFFS
from lib.auth.keys import AuthConfigError, cookie_key
from lib.auth.passwords import MIN_LENGTH
from lib.auth.throttle import LoginThrottle, client_network
from lib.auth.users import UserError, UserStore, create_first_admin, setup_token, users_file
from lib.auth.web import COOKIE_NAME, LOGOUT_PATH, SESSION_PATH
from lib.config import resolve_db_path
from lib.errors import TokenboardError
from lib.i18n import N_
from lib.store import Store
from lib.ui.auth_words import config_error, user_error
from lib.ui.i18n import _, language_switch, n_
from lib.ui.markup import md
from lib.ui.state import get_store

IDLE_MINUTES = sessions.IDLE_S // 60
_SESSION = "tb_session"  # the session token of this browser tab's Streamlit session
_USER = "tb_user"

log = logging.getLogger("tokenboard")


FORM_WIDTH = 440  # px: the login and setup forms, centred


@dataclass(frozen=True)
class SignedIn:
    username: str
    name: str
    role: str
    language: str | None = None  # the language saved with the account, if any


@st.cache_resource(show_spinner=False)
def _user_store(db: str, path: str) -> UserStore:
    return UserStore(Path(path), store=get_store())


def user_store() -> UserStore:
    """One user store per process (and database): the old users file, if any, moves into
    the database the first time."""
    return _user_store(resolve_db_path(None), str(users_file()))


@st.cache_resource(show_spinner=False)
def _throttle(db: str) -> LoginThrottle:
    return LoginThrottle()


def login_throttle() -> LoginThrottle:
    """One throttle per process (and database), shared by every session."""
    return _throttle(resolve_db_path(None))


def client_address() -> str:
    """The address the server sees for this browser ("unknown" when it has none)."""
    return _address()


def _address() -> str:
    """The address the server sees for this browser ("unknown" when it has none)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else "unknown"


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no request (tests, bare mode)
        return None
    return value if isinstance(value, str) else None


def _client(username: str, key: str) -> tuple[str, str | None]:
    """Who is trying ``username``, for the throttle: this browser's device id when it holds
    a device cookie for that user, else its address. Also returns the device id."""
    dev = device.device_id(_cookie(device.COOKIE_NAME), username, key)
    return (f"device:{dev}" if dev else f"ip:{client_network(_address())}"), dev


def _user_agent() -> str | None:
    try:
        agent = st.context.headers.get("User-Agent")
    except Exception:  # no request headers (tests, bare mode)
        return None
    return agent if isinstance(agent, str) else None


def _narrow() -> st.delta_generator.DeltaGenerator:
    """A column ``FORM_WIDTH`` pixels wide in the middle of the page, for a form."""
    outer = st.container(horizontal_alignment="center")
    return outer.container(width=FORM_WIDTH)


def _first_admin_form(users: UserStore) -> None:
    with _narrow():
        language_switch(st.container(horizontal_alignment="right"))
        st.title(_("Set up Tokenboard"))
        st.write(
            _(
                "There are no users yet: create the first admin account. The **setup token** "
                "was printed once in the server's log (the terminal or the host's log viewer) "
                "when the app started."
            )
        )
        token = setup_token()
        with st.form("first_admin"):
            given = st.text_input(_("Setup token"), type="password")
            username = st.text_input(
                _("Username"), help=_("Lower-case letters, digits, '.', '_' or '-'")
            )
            name = st.text_input(_("Full name"))
            email = st.text_input(_("Email"))
            password = st.text_input(
                _("Password"),
                type="password",
                help=_("At least {n} characters; spaces count", n=MIN_LENGTH),
            )
            again = st.text_input(_("Repeat password"), type="password")
            submitted = st.form_submit_button(_("Create admin"), type="primary", width="stretch")
        if not submitted:
            return
        if password != again:
            st.error(_("The two passwords differ."))
            return
        try:
            user = create_first_admin(
                users, token, given, username, name, email, password, from_ip=_address()
            )
        except UserError as err:
            st.error(user_error(err))
            return
        store = get_store()
        key = cookie_key()
        dev = _client(user.username, key)[1]
        _start_session(users, store, user.username, key, dev)
        st.session_state["tb_welcome"] = user.username
        st.rerun()


# -- the cookie --------------------------------------------------------------------------
# The page asks the server to set or delete the HttpOnly session cookie (lib/auth/web.py):
# a script run cannot set a cookie itself. Each operation is posted once; its HTTP status
# comes back as the component's state, and the operation is drawn on every run until then.
_COOKIE_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  if (!data || !data.id) return;
  window.__tbCookieOps = window.__tbCookieOps || {};
  if (window.__tbCookieOps[data.id]) return;
  window.__tbCookieOps[data.id] = true;
  fetch(data.url, {method: "POST", credentials: "same-origin", cache: "no-store",
                   headers: {"Content-Type": "application/json"}, body: JSON.stringify(data.body)})
    .then((r) => setStateValue("done", data.id + ":" + r.status))
    .catch(() => { delete window.__tbCookieOps[data.id]; setStateValue("done", data.id + ":failed"); });
}
"""
_cookie_component = st.components.v2.component("tokenboard_session_cookie", js=_COOKIE_JS)


def _sync_cookie() -> None:
    """Draw the pending cookie operation (at most one component per run) until the browser
    reports the server's answer. The component is drawn on every run, idle when there is
    nothing to do: an element that came and went would move everything drawn after it, and
    Streamlit would then redraw those widgets from their defaults (a max tokens of 1)."""
    op = st.session_state.get("tb_cookie_op")
    result = _cookie_component(
        data=op or {}, key="tb_cookie", default={"done": None}, on_done_change=lambda: None
    )
    done = getattr(result, "done", None)
    if op and isinstance(done, str) and done.startswith(op["id"] + ":"):
        if not done.endswith(":204"):
            log.warning("The session cookie could not be %s (%s).", op["what"], done.split(":")[-1])
        del st.session_state["tb_cookie_op"]


def _set_cookies(session_value: str, device_value: str) -> None:
    code = HANDOFFS.issue(
        {
            COOKIE_NAME: (session_value, sessions.MAX_AGE_S),
            device.COOKIE_NAME: (device_value, device.MAX_AGE_S),
        }
    )
    st.session_state["tb_cookie_op"] = {
        "id": code[:12], "what": "set", "url": SESSION_PATH, "body": {"code": code},
    }  # fmt: skip


def _delete_cookie() -> None:
    st.session_state["tb_cookie_op"] = {
        "id": secrets.token_urlsafe(9), "what": "deleted", "url": LOGOUT_PATH, "body": {},
    }  # fmt: skip


# -- sessions ----------------------------------------------------------------------------
# what survives the end of a session in this tab (the language a link or the switch chose)
_KEPT = ("tb_cookie_op", "tb_notice", "tb_lang", "tb_lang_url")


def _forget() -> None:
    """Drop everything this tab holds (filters, playground conversation, uploads…): the
    next person to sign in here must find nothing of the last one."""
    for k in list(st.session_state.keys()):
        if k not in _KEPT:
            del st.session_state[k]


def log_out(*, everywhere: bool = False) -> None:
    """End this session (or every session of the user) on the server and have the browser
    delete the login cookie."""
    token, username = st.session_state.get(_SESSION), st.session_state.get(_USER)
    now = sessions.utcnow()
    store = get_store()
    if everywhere and username:  # raises, and the tab stays signed in, if it cannot be recorded
        sessions.end_all(store, username, now)
    elif token:
        sessions.end(store, token, now)
    _forget()
    _delete_cookie()
    st.session_state["tb_notice"] = "everywhere" if everywhere else "logout"


def _session_user(store: Store, users: UserStore, key: str) -> str | None:
    """The user of this tab's live session (from this tab, else from the browser's
    cookie), or ``None``; an ended session leaves a notice for the login form."""
    token = st.session_state.get(_SESSION)
    from_cookie = token is None
    if from_cookie:
        token = sessions.token_from_cookie(_cookie(COOKIE_NAME), key)
    if not token:
        return None
    now = sessions.utcnow()
    found = sessions.check(store, token, now, users.credential_tag)
    if found.status == "ok" and found.username:
        st.session_state[_SESSION], st.session_state[_USER] = token, found.username
        sessions.touch(store, token, now, found.last_seen)
        return found.username
    if found.status in ("idle", "expired", "changed"):
        st.session_state["tb_notice"] = found.status
    _forget()
    _delete_cookie()  # the browser holds a cookie for this ended session
    return None


_NOTICES = {  # message ids; {hours} is filled in when shown
    "idle": N_("Your session ended after {hours} hours without activity. Please log in again."),
    "expired": N_("Your session reached its time limit. Please log in again."),
    "logout": N_("You are logged out."),
    "everywhere": N_("You are logged out on every device."),
    "changed": N_("Your account was changed (password, role or removal). Please log in again."),
    "link": N_("This link is not valid: it was used, it expired or it was withdrawn. Ask an "
               "admin for a new one."),
    "password_set": N_("Your new password is saved."),
}  # fmt: skip


def _login_form(users: UserStore, store: Store) -> None:
    with _narrow():
        language_switch(st.container(horizontal_alignment="right"))
        st.title("Tokenboard")
        st.caption(_("LLM API usage, spend and errors. Sign in to continue."))
        notice = st.session_state.get("tb_notice")  # kept until the next sign-in attempt
        if notice in _NOTICES:
            st.info(_(_NOTICES[notice], hours=IDLE_MINUTES // 60))
        with st.form("login", clear_on_submit=False):
            st.subheader(_("Log in"))
            username = st.text_input(_("Username"), autocomplete="username")
            password = st.text_input(
                _("Password"), type="password", autocomplete="current-password"
            )
            submitted = st.form_submit_button(_("Log in"), type="primary", width="stretch")
        if submitted:
            _sign_in(users, store, username, password)


def _sign_in(users: UserStore, store: Store, username: str, password: str) -> None:
    """Check the throttle and the password; on success start a session and rerun."""
    st.session_state.pop("tb_notice", None)
    key = cookie_key()
    throttle = login_throttle()
    client, dev = _client(username, key)
    now = sessions.utcnow()
    at = now.timestamp()
    _apply_unlock_requests(users, throttle)
    unlocked = users.get(username.strip().lower()[:200])
    if unlocked is not None and unlocked.unlocked_at is not None:  # an admin unlocked it
        throttle.clear_user(unlocked.username, before=unlocked.unlocked_at.timestamp())
    wait = throttle.begin(client, username, at)
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        st.error(
            n_(
                "Too many failed sign-ins from this device. Try again in {n} minute.",
                "Too many failed sign-ins from this device. Try again in {n} minutes.",
                minutes,
            )
        )
        return
    name = users.verify(username, password)
    user = users.get(name)
    if name is None or user is None:
        st.error(_("Username or password is incorrect."))
        return
    if not user.active:  # the right password: only its holder learns this
        st.error(_("This account is disabled. Ask an admin to enable it."))
        return
    throttle.succeeded(client, username, at)
    if user.must_change_password:
        st.session_state[_MUST_CHANGE] = {
            "username": name, "at": at, "device": dev, "tag": users.credential_tag(name),
        }  # fmt: skip
        st.rerun()
    _start_session(users, store, name, key, dev)
    st.rerun()


def _apply_unlock_requests(users: UserStore, throttle: LoginThrottle) -> None:
    """Record the unlocks the command line left beside the database while this app held it
    (``lib.auth.unlocks``), and forget the failures they cover."""
    for name, when in unlocks.take().items():
        with contextlib.suppress(TokenboardError):
            admin.unlock(users, admin.Actor(admin.CLI_ACTOR, "admin"), name, when)
        throttle.clear_user(name, before=when.timestamp())


def _start_session(users: UserStore, store: Store, name: str, key: str, dev: str | None) -> None:
    """Start a server session for ``name`` in this tab and have the browser keep its cookie."""
    token = sessions.start(
        store, name, sessions.utcnow(), tag=users.credential_tag(name), client_ip=_address(),
        user_agent=_user_agent(),
    )  # fmt: skip
    users.signed_in(name, sessions.utcnow())
    st.session_state[_SESSION], st.session_state[_USER] = token, name
    _set_cookies(sessions.cookie_value(token, key), device.new_value(name, key, dev))


def require_login() -> SignedIn:
    """The signed-in user, or the login (or first-admin) form and ``st.stop()``."""
    try:
        key = cookie_key()
    except AuthConfigError as err:
        st.error(config_error(err))
        st.stop()
    try:
        users = user_store()
    except AuthConfigError as err:
        st.error(config_error(err))
        st.stop()
    except TokenboardError as err:
        st.error(md(err))
        st.stop()
    if users.empty:
        _first_admin_form(users)
        _sync_cookie()
        st.stop()
    store = get_store()
    link = _take_link()
    username = _session_user(store, users, key)
    if username is None:
        if link is not None or st.session_state.get(_LINK):
            _link_form(users, store, key)
        elif st.session_state.get(_MUST_CHANGE):
            _must_change_form(users, store, key)
        else:
            _login_form(users, store)
        _sync_cookie()  # once per run, after anything that may have asked for it
        st.stop()
    if st.session_state.pop(_LINK, None) is not None:  # signed in already: the link waits
        st.info(_("You are signed in already: log out, then open the link again."))
    _sync_cookie()
    user = users.get(username)
    if user is None or users.role_of(username) is None:
        st.error(_("Your account has no role. Ask an admin to give you one."))
        st.stop()
    return SignedIn(username, user.name or username, user.role, user.language)


def session_token() -> str | None:
    """The server session token of this tab (``None`` when signed out). Work that runs
    outside a script run (a download button's ``data=`` callable) passes it to
    ``lib.auth.actor.current_role`` to check the session and role again when it runs. Never
    shown, logged or put in a page."""
    token = st.session_state.get(_SESSION)
    return token if isinstance(token, str) and token else None


def restart_session(username: str) -> None:
    """After the user changed their own password (which ends every session of theirs): a new
    session for this tab, so they stay signed in here only."""
    key = cookie_key()
    dev = _client(username, key)[1]
    _start_session(user_store(), get_store(), username, key, dev)


# -- links: invitations and reset links, and the password a user must change ---------------
_LINK = "tb_link"  # (kind, token) of the link this tab opened, kept out of the URL
# {username, at, device, tag}: signed in with a temporary password to change; ``tag`` is the
# account's credential tag then (a new reset meanwhile makes the new password refused)
_MUST_CHANGE = "tb_must_change"
MUST_CHANGE_S = 10 * 60  # the new password is to be chosen within this time


def _take_link() -> tuple[str, str] | None:
    """Move an ``invite``/``reset`` token from the URL into this tab's state (the URL, the
    browser's history and any log of it lose it at once); returns it."""
    found = None
    for param in ("invite", "reset"):
        value = st.query_params.get(param)
        if param in st.query_params:
            del st.query_params[param]
        if isinstance(value, str) and value:
            found = ("invite" if param == "invite" else "reset", value[:200])
    if found is not None:
        st.session_state[_LINK] = found
        st.session_state.pop(_MUST_CHANGE, None)
    return found


def _passwords(label_new: str) -> tuple[str, str]:
    first = st.text_input(
        label_new,
        type="password",
        autocomplete="new-password",
        help=_("At least {n} characters; spaces count", n=MIN_LENGTH),
    )
    again = st.text_input(_("Repeat password"), type="password", autocomplete="new-password")
    return first, again


def _link_form(users: UserStore, store: Store, key: str) -> None:
    kind, token = st.session_state[_LINK]
    now = sessions.utcnow()
    try:
        opened = admin.open_link(users, token, kind, now)
    except UserError:
        st.session_state.pop(_LINK, None)
        st.session_state["tb_notice"] = "link"
        _login_form(users, store)
        return
    with _narrow():
        language_switch(st.container(horizontal_alignment="right"))
        if opened.kind == "invite":
            st.title(_("Join Tokenboard"))
            st.write(_("You are invited as **{username}**. Choose your name and a password.",
                       username=md(opened.username)))  # fmt: skip
        else:
            st.title(_("Choose a new password"))
            st.write(_("Choose a new password for **{username}**.", username=md(opened.username)))
        with st.form("tb_link_form"):
            name = st.text_input(_("Full name")) if opened.kind == "invite" else ""
            first, again = _passwords(_("Password"))
            label = _("Create my account") if opened.kind == "invite" else _("Save and sign in")
            submitted = st.form_submit_button(label, type="primary", width="stretch")
    if not submitted:
        return
    if first != again:
        st.error(_("The two passwords differ."))
        return
    try:
        if opened.kind == "invite":
            username = admin.accept_invitation(users, token, name, first, now, _address()).username
        else:
            username = admin.use_reset_link(users, token, first, now, _address())
    except UserError as err:
        if err.code == "invitation_invalid":
            st.session_state.pop(_LINK, None)
            st.session_state["tb_notice"] = "link"
            st.rerun()
        st.error(user_error(err))
        return
    st.session_state.pop(_LINK, None)
    _start_session(users, store, username, key, _client(username, key)[1])
    st.rerun()


def _must_change_form(users: UserStore, store: Store, key: str) -> None:
    pending = st.session_state[_MUST_CHANGE]
    now = sessions.utcnow()
    if now.timestamp() - pending["at"] > MUST_CHANGE_S:
        del st.session_state[_MUST_CHANGE]
        _login_form(users, store)
        return
    with _narrow():
        language_switch(st.container(horizontal_alignment="right"))
        st.title(_("Choose a new password"))
        st.write(_("Your password was reset by an admin: choose a new one to continue."))
        with st.form("tb_must_change_form"):
            first, again = _passwords(_("New password"))
            submitted = st.form_submit_button(
                _("Save and sign in"), type="primary", width="stretch"
            )
        if st.button(_("Cancel"), type="tertiary"):
            del st.session_state[_MUST_CHANGE]
            st.rerun()
    if not submitted:
        return
    if first != again:
        st.error(_("The two passwords differ."))
        return
    username = pending["username"]
    try:
        admin.choose_password(users, username, first, now, _address(), tag=pending.get("tag"))
    except UserError as err:
        if err.code == "sign_in_again":  # reset again, disabled or deleted since
            del st.session_state[_MUST_CHANGE]
            st.session_state["tb_notice"] = "changed"
            st.rerun()
        st.error(user_error(err))
        return
    del st.session_state[_MUST_CHANGE]
    _start_session(users, store, username, key, pending["device"])
    st.rerun()
