"""The Users tab (admins): every user with role, status, last sign-in and whether failed
sign-ins lock them; create, invite (the link shown once), withdraw an invitation, change the
role, disable or enable, reset the password, unlock, delete (confirmed), a user's sessions
and their revocation, and the audit log of these actions. Deleted users are named under the
list (their names stay reserved), with no action. The actions are checked and audited in
``lib.auth.admin``; this module only draws them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from lib.auth import admin, invite_mail, sessions
from lib.auth.admin import Actor
from lib.auth.passwords import MIN_LENGTH
from lib.auth.roles import ROLES, PermissionDeniedError
from lib.auth.users import User, UserError, UserStore
from lib.config import setting
from lib.errors import TokenboardError
from lib.ui.auth_gate import client_address, login_throttle, user_store
from lib.ui.auth_words import user_error
from lib.ui.frame import PageContext, role_word
from lib.ui.i18n import _
from lib.ui.keys_ui import AUDIT_LABELS, label
from lib.ui.markup import md
from lib.ui.widgets import Col, table

BASE_URL_SETTING = "TOKENBOARD_BASE_URL"  # the app's address, for the links shown


def utc_naive(value: datetime | None) -> datetime | None:
    """A time as naive UTC, for a table's time column."""
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def base_url() -> str:
    """The app's address for links: ``TOKENBOARD_BASE_URL``, else the address the browser
    used (without its path and query)."""
    configured = setting(BASE_URL_SETTING)
    if configured:
        return configured.rstrip("/")
    url = st.context.url or ""
    if "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"
    return ""


def _fail(err: TokenboardError) -> None:
    """Say why an action was refused (nothing changed)."""
    if isinstance(err, UserError):
        st.error(user_error(err))
    elif isinstance(err, PermissionDeniedError):
        st.error(_("Only admins manage users."))
    else:
        st.error(md(err))


def _done(text: str) -> None:
    """Keep a confirmation for the next run (the page reruns to show the change)."""
    st.session_state["tb_users_done"] = text
    st.rerun()


def _show_link(link: admin.Link) -> None:
    """The one-time link in a code block (with its copy button), in this run only: kept in
    no session state, so the next run no longer has it."""
    st.success(
        _("Copy the link now and send it to {username}: it is shown this once and works once, "
          "until {time} UTC.", username=md(link.username),
          time=link.expires_at.strftime("%Y-%m-%d %H:%M")),
        icon=":material/link:",
    )  # fmt: skip
    st.code(link.url(base_url()), language=None)


def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx`` (admins only)."""
    if not ctx.can("manage_users"):
        st.info(_("Only admins manage users."))
        return
    users = user_store()
    actor = Actor(ctx.user.username, ctx.user.role, client_address())
    now = sessions.utcnow()
    done = st.session_state.pop("tb_users_done", None)
    if done:
        st.success(done, icon=":material/check_circle:")
    everyone = users.users()
    _user_list(everyone, now)
    gone = users.deleted()
    if gone:  # listed only: no action applies to them
        st.caption(_("Deleted users (their names stay reserved): {names}",
                     names=md(", ".join(gone))))  # fmt: skip
    _create(users, actor, now)
    _invite(users, actor, now)
    st.subheader(_("Change a user"))
    names = [u.username for u in everyone]
    picked = st.selectbox(_("User"), names, key="users_pick")
    user = users.get(picked) if picked else None
    if user is not None:
        _change(users, actor, user, now)
        _sessions(users, actor, user, now)
    _audit(users)


def _user_list(everyone: list[User], now: datetime) -> None:
    throttle = login_throttle()
    at = now.timestamp()
    df = pd.DataFrame([{
        "username": u.username, "name": u.name, "email": u.email, "role": role_word(u.role),
        "status": _("active") if u.active else _("disabled"),
        "must_change": _("waiting for the reset link") if not u.password_set
        else _("yes") if u.must_change_password else _("no"),
        "last_sign_in": utc_naive(u.last_sign_in),
        "locked": _("locked") if throttle.locked(u.username, at) else _("no"),
    } for u in everyone])  # fmt: skip
    table(df, "users", key="users_table", columns={
        "username": Col(_("Username")), "name": Col(_("Name")), "email": Col(_("Email")),
        "role": Col(_("Role")), "status": Col(_("Status")),
        "must_change": Col(_("Must change password")),
        "last_sign_in": Col(_("Last sign-in (UTC)"), "time", none=_("never")),
        "locked": Col(_("Locked"), help=_("Locked: failed sign-ins make a device wait before "
                                          "trying this account again (unlock below).")),
    })  # fmt: skip


def _role_choice(label_: str, key: str, index: int = 2) -> str:
    """A role picked by its name in the page's language; returns its code."""
    words = {role_word(r): r for r in ROLES}
    picked = st.selectbox(label_, list(words), index=index, key=key)
    return words.get(str(picked), ROLES[-1])


def _create(users: UserStore, actor: Actor, now: datetime) -> None:
    with st.expander(_("Add a user"), icon=":material/person_add:"):
        with st.form("users_create", clear_on_submit=False):
            username = st.text_input(
                _("Username"), help=_("Lower-case letters, digits, '.', '_' or '-'")
            )
            name = st.text_input(_("Full name"))
            email = st.text_input(_("Email"))
            role = _role_choice(_("Role"), "users_create_role")
            password = st.text_input(_("First password"), type="password",
                                     help=_("At least {n} characters; spaces count", n=MIN_LENGTH))  # fmt: skip
            again = st.text_input(_("Repeat password"), type="password")
            must = st.checkbox(_("Must choose a new password at first sign-in"), value=True)
            submitted = st.form_submit_button(_("Add user"), type="primary")
        if not submitted:
            return
        if password != again:
            st.error(_("The two passwords differ."))
            return
        try:
            user = admin.create_user(users, actor, username, name, email, password, role, now,
                                     must_change=must)  # fmt: skip
        except TokenboardError as err:
            _fail(err)
            return
        _done(_("User {username} added.", username=md(user.username)))


def _invite(users: UserStore, actor: Actor, now: datetime) -> None:
    with st.expander(_("Invite a user"), icon=":material/mail:"):
        with st.form("users_invite"):
            username = st.text_input(_("Username"), key="users_invite_username",
                                     help=_("Lower-case letters, digits, '.', '_' or '-'"))  # fmt: skip
            email = st.text_input(_("Email"), key="users_invite_email")
            role = _role_choice(_("Role"), "users_invite_role")
            days = st.number_input(_("Valid for (days)"), min_value=1, max_value=admin.MAX_DAYS,
                                   value=admin.INVITE_DAYS, step=1)  # fmt: skip
            mail = invite_mail.can_send() and st.checkbox(
                _("Also send it to the e-mail address"), value=True, key="users_invite_mail"
            )
            submitted = st.form_submit_button(_("Make invitation link"), type="primary")
        if submitted:
            try:
                link = admin.invite(users, actor, username, email, role, now, days=int(days))
            except TokenboardError as err:
                _fail(err)
            else:
                _show_link(link)
                if mail and email.strip():
                    sent = invite_mail.send_link(link, link.url(base_url()), email.strip(),
                                                 actor.username)  # fmt: skip
                    if sent is not None and sent.ok:
                        st.info(_("The link was also sent to {email}.", email=md(email.strip())))
                    else:
                        st.warning(_("The e-mail could not be sent: copy the link above."))
        pending = admin.pending_invitations(users, actor, now)
        if not pending:
            st.caption(_("No invitation is waiting."))
            return
        st.markdown(_("**Waiting invitations**"))
        df = pd.DataFrame([{"id": p.id, "username": p.username, "role": role_word(p.role),
                            "by": p.created_by, "expires": utc_naive(p.expires_at)}
                           for p in pending])  # fmt: skip
        table(df, "invitations", key="users_invitations", columns={
            "username": Col(_("Username")), "role": Col(_("Role")), "by": Col(_("By")),
            "expires": Col(_("Expires (UTC)"), "time"),
        })  # fmt: skip
        by_words = {f"{p.username} · {p.id}": p.id for p in pending}
        picked = st.selectbox(_("Invitation"), list(by_words), key="users_pending")
        choice = by_words.get(str(picked), "")
        if st.button(_("Withdraw invitation"), key="users_withdraw"):
            try:
                who = admin.revoke_invitation(users, actor, str(choice), now)
            except TokenboardError as err:
                _fail(err)
            else:
                _done(_("The invitation of {username} is withdrawn.", username=md(who)))


def _change(users: UserStore, actor: Actor, user: User, now: datetime) -> None:
    u = md(user.username)
    left, right = st.columns(2)
    with left.container(border=True):
        role = _role_choice(_("Role"), f"users_role_{user.username}", ROLES.index(user.role))
        if st.button(_("Change role"), key="users_role_go", disabled=role == user.role):
            try:
                admin.set_role(users, actor, user.username, role, now)
            except TokenboardError as err:
                _fail(err)
            else:
                _done(_("{username} is now {role}; their sessions ended.", username=u,
                        role=role_word(role)))  # fmt: skip
    with right.container(border=True):
        if user.active:
            st.caption(_("Disabling ends the user's sessions; they cannot sign in until enabled."))
            go = st.button(_("Disable"), key="users_disable")
        else:
            st.caption(_("This account is disabled."))
            go = st.button(_("Enable"), key="users_enable")
        if go:
            try:
                admin.set_active(users, actor, user.username, not user.active, now)
            except TokenboardError as err:
                _fail(err)
            else:
                _done(_("{username} is disabled.", username=u) if user.active
                      else _("{username} is enabled.", username=u))  # fmt: skip
    left, right = st.columns(2)
    with left.container(border=True):
        ways = {_("Set a temporary password"): "temporary", _("Make a reset link"): "link"}
        how = ways.get(str(st.radio(_("Reset the password"), list(ways), key="users_reset_how")))
        temporary = ""
        if how == "temporary":
            temporary = st.text_input(_("Temporary password"), type="password", key="users_temp",
                                      help=_("The user must choose a new one at their next sign-in"))  # fmt: skip
        else:
            st.caption(_("The current password stops working at once; the user sets a new one "
                         "with the link."))  # fmt: skip
        if st.button(_("Reset password"), key="users_reset"):
            try:
                link = admin.reset_password(users, actor, user.username, now,
                                            temporary=temporary if how == "temporary" else None)  # fmt: skip
            except TokenboardError as err:
                _fail(err)
            else:
                if link is not None:
                    _show_link(link)
                else:
                    st.success(_("Temporary password set: {username} chooses a new one at their "
                                 "next sign-in.", username=u))  # fmt: skip
    with right.container(border=True):
        st.caption(_("Unlock: forget the failed sign-ins that make devices wait before trying "
                     "this account again."))  # fmt: skip
        if st.button(_("Unlock"), key="users_unlock"):
            try:
                admin.unlock(users, actor, user.username, now)
            except TokenboardError as err:
                _fail(err)
            else:
                login_throttle().clear_user(user.username)
                _done(_("{username} is unlocked.", username=u))
        sure = st.checkbox(_("Yes, delete {username} for good", username=u), key="users_sure")
        if st.button(_("Delete user"), key="users_delete", disabled=not sure, type="primary"):
            try:
                admin.delete_user(users, actor, user.username, now)
            except TokenboardError as err:
                _fail(err)
            else:
                st.session_state.pop("users_pick", None)
                _done(_("{username} is deleted.", username=u))


def _sessions(users: UserStore, actor: Actor, user: User, now: datetime) -> None:
    st.markdown(_("**Sessions of {username}**", username=md(user.username)))
    live = admin.user_sessions(users, actor, user.username, now)
    if not live:
        st.caption(_("No live session."))
        return
    session_table(live, key="users_sessions_table")
    by_words = {_session_words(s): s.short_id for s in live}
    one = by_words.get(str(st.selectbox(_("Session"), list(by_words), key="users_session_pick")))
    row = st.container(horizontal=True)
    ended: int | None = None
    try:
        if row.button(_("End this session"), key="users_end_one"):
            ended = admin.revoke_sessions(users, actor, user.username, now, str(one))
        if row.button(_("End every session"), key="users_end_all"):
            ended = admin.revoke_sessions(users, actor, user.username, now)
    except TokenboardError as err:
        _fail(err)
        return
    if ended is not None:
        _done(_("Sessions ended: {n}.", n=ended))


def _session_words(s: sessions.SessionInfo) -> str:
    return f"{s.short_id} · {s.client_ip or '—'} · {(s.user_agent or '—')[:60]}"


def session_table(live: list[sessions.SessionInfo], *, key: str) -> None:
    """The live sessions: started, last used, address, browser."""
    df = pd.DataFrame([{"id": s.short_id, "started": utc_naive(s.created_at),
                        "last": utc_naive(s.last_seen), "ip": s.client_ip,
                        "browser": s.user_agent} for s in live])  # fmt: skip
    table(df, "sessions", key=key, columns={
        "id": Col(_("Session")), "started": Col(_("Started (UTC)"), "time"),
        "last": Col(_("Last used (UTC)"), "time"), "ip": Col(_("IP address")),
        "browser": Col(_("Browser")),
    })  # fmt: skip


def _audit(users: UserStore) -> None:
    from lib.store.audit import entries

    st.subheader(_("Log of user actions"))
    found = entries(users.store, actions=admin.USER_ACTIONS, limit=500)
    if not found:
        st.caption(_("Nothing yet."))
        return
    df = pd.DataFrame([{"at": utc_naive(e.at), "actor": e.actor,
                        "action": label(AUDIT_LABELS, e.action), "subject": e.subject,
                        "detail": json.dumps(e.detail, sort_keys=True, default=str, ensure_ascii=False),
                        "from_ip": e.from_ip} for e in found])  # fmt: skip
    table(df, "user_actions", key="users_audit_table", columns={
        "at": Col(_("Time (UTC)"), "time"), "actor": Col(_("By")), "action": Col(_("Action")),
        "subject": Col(_("Subject")), "detail": Col(_("Detail")), "from_ip": Col(_("From IP")),
    })  # fmt: skip
