"""What admins do to users, and what every user does to their own account.

Every admin action checks ``require(actor.role, "manage_users")`` here (and that an actor
who is a user is still an active admin in the database), and writes its audit entry
(``lib.store.audit``) in the transaction of the change: who (``actor``), to whom
(``subject``), what (``detail``, never a password or token) and from where (``from_ip``).

Invitations and reset links are one-time tokens (256 bits) shown once as a link
``<base>/?invite=<token>`` or ``<base>/?reset=<token>``; the database keeps only their
SHA-256. A link that is used, expired, withdrawn or unknown is refused with one code
(``invitation_invalid``), so the answer tells nothing about which. A link works only while
whoever made it is still an active admin (or was the command line): a user who loses admin
(a role change, disabled, deleted) has their pending links withdrawn, audited, and a link
is checked against its maker again when it is used.

A reset link makes the user's current password stop working at once (the stored hash is
replaced by one no password matches): whoever knows the old password cannot use it to choose
a new one. "Must change the password" is for a temporary password set by an admin only.

Deleting a user keeps an emptied row (status ``deleted``: no password, name, e-mail address
or language) so the username is never given to anyone else: tickets, attachments and the
audit log name users by username.

Ending a user's sessions: disabling, deleting, a role change and a password reset end them in
the same transaction; a password or role change would end them at their next use anyway
(``UserStore.credential_tag``). Times are ``datetime`` in UTC.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from lib.auth import sessions
from lib.auth.roles import require
from lib.auth.users import (
    DELETED_HASH,
    RESET_PENDING,
    User,
    UserError,
    UserStore,
    check_email,
    check_name,
    check_new_password,
    check_role,
    check_username,
    deleted_message,
    reserved,
    tag_of,
)
from lib.store.audit import AuditAction, audit
from lib.store.db import Cursor

INVITE_DAYS = 7  # an invitation's default lifetime
RESET_DAYS = 2  # a reset link's lifetime
MAX_DAYS = 30
CLI_ACTOR = "command line"  # the actor of the command line's actions (not a valid username)
Kind = Literal["invite", "reset"]
# the audit actions about users, for the Users tab's log
USER_ACTIONS: tuple[AuditAction, ...] = (
    "user_created", "user_invited", "invitation_accepted", "invitation_revoked", "role_changed",
    "user_disabled", "user_enabled", "user_deleted", "user_edited", "password_reset",
    "password_changed", "account_unlocked", "sessions_revoked", "users_migrated",
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (``username``, ``role``) or the command line
    (``CLI_ACTOR``, admin), and the address they act from when known."""

    username: str
    role: str
    from_ip: str | None = None


@dataclass(frozen=True)
class Link:
    """A one-time link's token (shown once, never stored) and when it expires."""

    token: str
    kind: Kind
    username: str
    expires_at: datetime

    def url(self, base: str) -> str:
        """The link under the app's address ``base`` (``https://host/path``)."""
        param = "invite" if self.kind == "invite" else "reset"
        return f"{base.rstrip('/')}/?{param}={self.token}"


@dataclass(frozen=True)
class Pending:
    """An invitation waiting to be accepted (``id``: a short prefix of its hash)."""

    id: str
    username: str
    email: str
    role: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """What a valid link is for: the username it invites (or resets) and its role."""

    kind: Kind
    username: str
    email: str
    role: str


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _no_user(username: str) -> UserError:
    return UserError("no_such_user", f"The user {username} does not exist.", username=username)


def _check_actor(users: UserStore, actor: Actor) -> None:
    """Raise ``PermissionDeniedError`` unless ``actor`` may manage users now."""
    require(actor.role, "manage_users")
    if actor.username != CLI_ACTOR:
        require(users.role_of(actor.username), "manage_users")  # still an active admin


def _row(cur: Cursor, username: str) -> tuple[str, str] | None:
    """(role, status) of ``username`` in the transaction, else ``None`` (a deleted user
    too)."""
    rows = cur.execute(
        "SELECT role, status FROM users WHERE username = ? AND status <> 'deleted'", [username]
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def _maker_ok(cur: Cursor, maker: str | None) -> bool:
    """True when a link's maker may still make links: the command line or an active admin."""
    if maker == CLI_ACTOR:
        return True
    return bool(
        maker
        and cur.execute(
            """SELECT count(*) FROM users
               WHERE username = ? AND role = 'admin' AND status = 'active'""",
            [maker],
        ).scalar()
    )


def _withdraw_made_by(cur: Cursor, maker: str, actor: Actor, now: datetime, why: str) -> int:
    """Withdraw the live invitations and reset links ``maker`` made (they lose admin), in the
    caller's transaction; one ``invitation_revoked`` entry each. Returns how many."""
    rows = cur.execute(
        """SELECT token_hash, kind, username FROM invitations
           WHERE created_by = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
           ORDER BY created_at""",
        [maker, now],
    ).fetchall()
    for token_hash, kind, username in rows:
        cur.execute("UPDATE invitations SET revoked_at = ? WHERE token_hash = ?", [now, token_hash])
        audit(cur, now, actor.username, "invitation_revoked", username,
              {"invitation": token_hash[:8], "kind": kind, "made_by": maker, "reason": why},
              actor.from_ip)  # fmt: skip
    return len(rows)


def _other_active_admins(cur: Cursor, username: str) -> int:
    return int(
        cur.execute(
            """SELECT count(*) FROM users
               WHERE role = 'admin' AND status = 'active' AND username <> ?""",
            [username],
        ).scalar()
    )


def _last_admin(username: str) -> UserError:
    return UserError(
        "last_admin",
        f"{username} is the last active admin: make another user admin first.",
        username=username,
    )


def _not_yourself() -> UserError:
    return UserError("not_yourself", "You cannot disable or delete your own account.")


def _found(cur: Cursor, username: str) -> tuple[str, str]:
    """``username``'s (role, status); ``UserError`` ``no_such_user`` when there is none."""
    found = _row(cur, username)
    if found is None:
        raise _no_user(username)
    return found


def _removable(cur: Cursor, actor: Actor, username: str) -> tuple[str, str]:
    """``username``'s (role, status) when the actor may disable or delete them: never oneself,
    never the last active admin (``UserError`` otherwise)."""
    found = _found(cur, username)
    if username == actor.username:
        raise _not_yourself()
    if found == ("admin", "active") and not _other_active_admins(cur, username):
        raise _last_admin(username)
    return found


def _days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise UserError("bad_days", f"A link lasts 1 to {MAX_DAYS} days.", min=1, max=MAX_DAYS)
    return days


# -- admin actions ---------------------------------------------------------------------------
def create_user(
    users: UserStore,
    actor: Actor,
    username: str,
    name: str,
    email: str,
    password: str,
    role: str,
    now: datetime,
    *,
    must_change: bool = True,
) -> User:
    """Create a user with a first password (by default one they must change at their first
    sign-in). Audited ``user_created``."""
    _check_actor(users, actor)
    return users.add(username, name, email, password, role, actor=actor.username,
                     from_ip=actor.from_ip, must_change=must_change, now=now)  # fmt: skip


def invite(
    users: UserStore,
    actor: Actor,
    username: str,
    email: str,
    role: str,
    now: datetime,
    *,
    days: int = INVITE_DAYS,
) -> Link:
    """A one-time invitation for ``username`` with ``role``, valid ``days`` days; the link's
    token is returned once and only its hash stored. Audited ``user_invited``."""
    _check_actor(users, actor)
    username = check_username(username)
    check_role(role)
    email = check_email(email)
    _days(days)
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    with users.store.write() as cur:
        if _row(cur, username) is not None:
            raise UserError(
                "user_exists", f"The user {username} exists already.", username=username
            )
        if reserved(cur, username):
            raise deleted_message(username)
        cur.execute(
            "INSERT INTO invitations VALUES (?, 'invite', ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [_digest(token), username, email, role, actor.username, now, expires],
        )
        audit(cur, now, actor.username, "user_invited", username,
              {"role": role, "email": email, "expires_at": expires.isoformat(),
               "invitation": _digest(token)[:8]}, actor.from_ip)  # fmt: skip
    return Link(token, "invite", username, expires)


def pending_invitations(users: UserStore, actor: Actor, now: datetime) -> list[Pending]:
    """The invitations not used, withdrawn nor expired, newest first."""
    _check_actor(users, actor)
    rows = users.store.query(
        """SELECT left(token_hash, 8), username, email, role, created_by, created_at, expires_at
           FROM invitations
           WHERE kind = 'invite' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
           ORDER BY created_at DESC""",
        [_utc(now)],
    )
    return [Pending(*r) for r in rows]


def revoke_invitation(users: UserStore, actor: Actor, invitation_id: str, now: datetime) -> str:
    """Withdraw a pending invitation (by its ``Pending.id``); returns the username it
    invited. Audited ``invitation_revoked``."""
    _check_actor(users, actor)
    now = _utc(now)
    with users.store.write() as cur:
        rows = cur.execute(
            """SELECT token_hash, username FROM invitations
               WHERE left(token_hash, 8) = ? AND used_at IS NULL AND revoked_at IS NULL""",
            [invitation_id],
        ).fetchall()
        if len(rows) != 1:
            raise UserError("invitation_invalid", "That invitation is not pending.")
        cur.execute("UPDATE invitations SET revoked_at = ? WHERE token_hash = ?", [now, rows[0][0]])
        audit(cur, now, actor.username, "invitation_revoked", rows[0][1],
              {"invitation": invitation_id}, actor.from_ip)  # fmt: skip
    return str(rows[0][1])


def set_role(users: UserStore, actor: Actor, username: str, role: str, now: datetime) -> int:
    """Give ``username`` the role ``role`` (never taking admin from the last active admin);
    ends their sessions and, when they lose admin, withdraws the links they made. Returns
    how many sessions ended. Audited ``role_changed`` (and ``invitation_revoked`` per link)."""
    _check_actor(users, actor)
    check_role(role)
    now = _utc(now)
    with users.store.write() as cur:
        found = _found(cur, username)
        old = found[0]
        if old == role:
            return 0
        if old == "admin" and found[1] == "active" and not _other_active_admins(cur, username):
            raise _last_admin(username)
        cur.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE username = ?", [role, now, username]
        )
        ended = sessions.end_in(cur, username, now, "changed")
        audit(cur, now, actor.username, "role_changed", username,
              {"from": old, "to": role, "sessions_ended": ended}, actor.from_ip)  # fmt: skip
        if old == "admin":
            _withdraw_made_by(cur, username, actor, now, "role_changed")
    return ended


def set_active(users: UserStore, actor: Actor, username: str, active: bool, now: datetime) -> int:
    """Enable or disable ``username`` (never oneself, never the last active admin); disabling
    ends their sessions and withdraws the links they made. Returns how many sessions ended.
    Audited ``user_enabled``/``user_disabled`` (and ``invitation_revoked`` per link)."""
    _check_actor(users, actor)
    now = _utc(now)
    with users.store.write() as cur:
        found = _found(cur, username) if active else _removable(cur, actor, username)
        status = "active" if active else "disabled"
        if found[1] == status:
            return 0
        cur.execute(
            "UPDATE users SET status = ?, updated_at = ? WHERE username = ?",
            [status, now, username],
        )
        ended = 0 if active else sessions.end_in(cur, username, now, "admin")
        action: AuditAction = "user_enabled" if active else "user_disabled"
        audit(cur, now, actor.username, action, username, {"sessions_ended": ended},
              actor.from_ip)  # fmt: skip
        if not active:
            _withdraw_made_by(cur, username, actor, now, "user_disabled")
    return ended


def delete_user(users: UserStore, actor: Actor, username: str, now: datetime) -> int:
    """Delete ``username`` (never oneself, never the last active admin): their sessions end,
    the links for them and the links they made are withdrawn, and their row is emptied (no
    password, name, e-mail address, language) but kept as ``deleted`` so the username is
    never reused. Returns how many sessions ended. Audited ``user_deleted`` (and
    ``invitation_revoked`` per link they made)."""
    _check_actor(users, actor)
    now = _utc(now)
    with users.store.write() as cur:
        found = _removable(cur, actor, username)
        cur.execute(
            """UPDATE users SET status = 'deleted', password_hash = ?, name = '', email = '',
               language = NULL, must_change_password = false, last_sign_in = NULL,
               unlocked_at = NULL, updated_at = ? WHERE username = ?""",
            [DELETED_HASH, now, username],
        )
        cur.execute(
            """UPDATE invitations SET revoked_at = ?
               WHERE username = ? AND used_at IS NULL AND revoked_at IS NULL""",
            [now, username],
        )
        ended = sessions.end_in(cur, username, now, "admin")
        audit(cur, now, actor.username, "user_deleted", username,
              {"role": found[0], "sessions_ended": ended}, actor.from_ip)  # fmt: skip
        _withdraw_made_by(cur, username, actor, now, "user_deleted")
    return ended


def reset_password(
    users: UserStore,
    actor: Actor,
    username: str,
    now: datetime,
    *,
    temporary: str | None = None,
    days: int = RESET_DAYS,
) -> Link | None:
    """Reset ``username``'s password: to ``temporary`` (which they must change at their next
    sign-in), or, without one, by a one-time reset link returned once: the current password
    then stops working at once (no password signs in until the link is used). Either way
    their sessions end and any earlier reset link is withdrawn (one reset at a time). Audited
    ``password_reset``."""
    _check_actor(users, actor)
    if temporary is not None:
        check_new_password(temporary)
    _days(days)
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    with users.store.write() as cur:
        found = _found(cur, username)
        cur.execute(
            """UPDATE invitations SET revoked_at = ? WHERE username = ? AND kind = 'reset'
               AND used_at IS NULL AND revoked_at IS NULL""",
            [now, username],
        )  # one reset at a time: the newest decides
        if temporary is not None:
            cur.execute(
                """UPDATE users SET password_hash = ?, must_change_password = true, updated_at = ?
                   WHERE username = ?""",
                [users.hash(temporary), now, username],
            )
        else:  # the old password stops now: a leaked one cannot be used to choose a new one
            cur.execute(
                """UPDATE users SET password_hash = ?, must_change_password = false,
                   updated_at = ? WHERE username = ?""",
                [RESET_PENDING, now, username],
            )
            cur.execute(
                "INSERT INTO invitations VALUES (?, 'reset', ?, '', ?, ?, ?, ?, NULL, NULL)",
                [_digest(token), username, found[0], actor.username, now,
                 now + timedelta(days=days)],
            )  # fmt: skip
        ended = sessions.end_in(cur, username, now, "admin")
        audit(cur, now, actor.username, "password_reset", username,
              {"method": "temporary" if temporary is not None else "link",
               "sessions_ended": ended}, actor.from_ip)  # fmt: skip
    if temporary is not None:
        return None
    return Link(token, "reset", username, now + timedelta(days=days))


def unlock(users: UserStore, actor: Actor, username: str, now: datetime) -> None:
    """Clear the failed sign-ins that lock ``username``: recorded here (``unlocked_at``), so
    every server process forgets them at its next sign-in attempt on that name
    (``lib.ui.auth_gate``); the page also clears its own process's counters at once.
    Audited ``account_unlocked``."""
    _check_actor(users, actor)
    now = _utc(now)
    with users.store.write() as cur:
        if _row(cur, username) is None:
            raise _no_user(username)
        cur.execute(
            "UPDATE users SET unlocked_at = ?, updated_at = ? WHERE username = ?",
            [now, now, username],
        )
        audit(cur, now, actor.username, "account_unlocked", username, {}, actor.from_ip)


def user_sessions(
    users: UserStore, actor: Actor, username: str, now: datetime
) -> list[sessions.SessionInfo]:
    """The live sessions of ``username`` (admins; a user reads their own)."""
    if actor.username != username:
        _check_actor(users, actor)
    return sessions.live(users.store, username, now)


def revoke_sessions(
    users: UserStore,
    actor: Actor,
    username: str,
    now: datetime,
    short_id: str | None = None,
) -> int:
    """End one session of ``username`` (``SessionInfo.short_id``) or all of them; returns
    how many. Admins for anyone; a user for themself. Audited ``sessions_revoked``."""
    if actor.username != username:
        _check_actor(users, actor)
    now = _utc(now)
    with users.store.write() as cur:
        ended = sessions.end_in(
            cur, username, now, "admin" if actor.username != username else "everywhere",
            short_id,
        )  # fmt: skip
        if short_id is not None and not ended:
            raise UserError("no_such_session", "That session has ended already.")
        audit(cur, now, actor.username, "sessions_revoked", username,
              {"count": ended, "session": short_id or "all"}, actor.from_ip)  # fmt: skip
    return ended


# -- every user, on their own account --------------------------------------------------------
def change_password(
    users: UserStore, username: str, current: str, new: str, now: datetime, from_ip: str | None
) -> None:
    """Change one's own password: ``current`` must be right and ``new`` pass the rules and
    differ from it. Clears "must change"; every session of the user ends (the caller starts
    a new one for the tab it acts in). Audited ``password_changed``."""
    check_new_password(new)
    if users.verify(username, current) != username:
        raise UserError("wrong_password", "The current password is not right.")
    _set_own_password(users, username, new, now, from_ip, "own")


def choose_password(
    users: UserStore,
    username: str,
    new: str,
    now: datetime,
    from_ip: str | None,
    *,
    tag: str | None,
) -> None:
    """The new password of a user who must change a temporary password, just after they
    signed in with it (the caller checked it in this same visit and kept the account's
    ``UserStore.credential_tag`` then, ``tag``). ``new`` must differ from it. Raises
    ``UserError`` ``sign_in_again`` (nothing changed) unless the account still must change
    its password and is unchanged since that sign-in (no new reset, role, disabling or
    deletion meanwhile)."""
    check_new_password(new)
    if users.verify(username, new) == username:
        raise UserError("password_unchanged", "Choose a password other than the current one.")
    _set_own_password(users, username, new, now, from_ip, "required", tag=tag)


def _set_own_password(
    users: UserStore,
    username: str,
    new: str,
    now: datetime,
    from_ip: str | None,
    why: str,
    *,
    tag: str | None = None,
) -> None:
    """Store the user's own new password. ``why`` "required" (``choose_password``): only
    while the account must change its password and its credential tag is still ``tag``.
    Never withdraws a reset link (an admin's, for whoever holds it)."""
    now = _utc(now)
    hashed = users.hash(new)
    with users.store.write() as cur:
        rows = cur.execute(
            """SELECT password_hash, role, must_change_password FROM users
               WHERE username = ? AND status = 'active'""",
            [username],
        ).fetchall()
        if not rows:
            raise _no_user(username)
        if why == "required" and (not rows[0][2] or tag_of(rows[0][0], rows[0][1]) != tag):
            raise UserError(
                "sign_in_again", "Your account changed since you signed in: log in again."
            )
        cur.execute(
            """UPDATE users SET password_hash = ?, must_change_password = false, updated_at = ?
               WHERE username = ?""",
            [hashed, now, username],
        )
        ended = sessions.end_in(cur, username, now, "changed")
        audit(cur, now, username, "password_changed", username,
              {"via": why, "sessions_ended": ended}, from_ip)  # fmt: skip


def edit_profile(
    users: UserStore, username: str, name: str, email: str, now: datetime, from_ip: str | None
) -> None:
    """Change one's own name and e-mail address. Audited ``user_edited``."""
    name, email = check_name(name), check_email(email)
    now = _utc(now)
    with users.store.write() as cur:
        changed = cur.execute(
            """UPDATE users SET name = ?, email = ?, updated_at = ?
               WHERE username = ? AND status <> 'deleted'""",
            [name or username, email, now, username],
        ).scalar()
        if not changed:
            raise _no_user(username)
        audit(cur, now, username, "user_edited", username,
              {"fields": ["name", "email"]}, from_ip)  # fmt: skip


# -- links -----------------------------------------------------------------------------------
def _invalid() -> UserError:
    return UserError(
        "invitation_invalid",
        "This link is not valid: it was used, it expired or it was withdrawn. Ask an admin "
        "for a new one.",
    )


def open_link(users: UserStore, token: str, kind: Kind, now: datetime) -> Opened:
    """What a link's token is for, when it is still valid; raises ``invitation_invalid``
    otherwise (used, expired, withdrawn, unknown, or of the other kind: one answer)."""
    if not token or len(token) > 200:
        raise _invalid()
    with users.store.read() as cur:
        rows = cur.execute(
            """SELECT kind, username, email, role, created_by FROM invitations
               WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL
               AND expires_at > ?""",
            [_digest(token), _utc(now)],
        ).fetchall()
        if not rows or rows[0][0] != kind or not _maker_ok(cur, rows[0][4]):
            raise _invalid()  # ... or its maker is no longer an active admin
        found = Opened(*rows[0][:4])
        if kind == "invite" and (_row(cur, found.username) or reserved(cur, found.username)):
            raise _invalid()
    if kind == "reset" and users.role_of(found.username) is None:
        raise _invalid()  # deleted or disabled since
    return found


def _use(cur: Cursor, token: str, kind: Kind, now: datetime) -> tuple[str, str, str]:
    """Mark a valid link used, in the caller's transaction; (username, email, role). Refused
    (``invitation_invalid``) also when its maker is no longer an active admin."""
    rows = cur.execute(
        """SELECT username, email, role, created_by FROM invitations
           WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND revoked_at IS NULL
           AND expires_at > ?""",
        [_digest(token), kind, now],
    ).fetchall()
    if not rows or not _maker_ok(cur, rows[0][3]):
        raise _invalid()
    cur.execute("UPDATE invitations SET used_at = ? WHERE token_hash = ?", [now, _digest(token)])
    return rows[0][0], rows[0][1], rows[0][2]


def accept_invitation(
    users: UserStore, token: str, name: str, password: str, now: datetime, from_ip: str | None
) -> User:
    """Create the invited user with ``name`` and ``password``; the link is used up. Audited
    ``invitation_accepted`` (the new user is the actor)."""
    check_new_password(password)
    check_name(name)
    now = _utc(now)
    with users.store.write() as cur:
        username, email, role = _use(cur, token, "invite", now)
        if _row(cur, username) is not None:
            raise _invalid()
        inviter = cur.execute(
            "SELECT created_by FROM invitations WHERE token_hash = ?", [_digest(token)]
        ).scalar()
        user = users.insert(cur, username, name, email, password, role, now, created_by=inviter)
        audit(cur, now, username, "invitation_accepted", username,
              {"role": role, "invited_by": inviter}, from_ip)  # fmt: skip
    return user


def use_reset_link(
    users: UserStore, token: str, password: str, now: datetime, from_ip: str | None
) -> str:
    """Set a new password through a reset link (used up); returns the username. Audited
    ``password_changed``."""
    check_new_password(password)
    now = _utc(now)
    hashed = users.hash(password)
    with users.store.write() as cur:
        username = _use(cur, token, "reset", now)[0]
        changed = cur.execute(
            """UPDATE users SET password_hash = ?, must_change_password = false, updated_at = ?
               WHERE username = ? AND status = 'active'""",
            [hashed, now, username],
        ).scalar()
        if not changed:
            raise _invalid()
        ended = sessions.end_in(cur, username, now, "changed")
        audit(cur, now, username, "password_changed", username,
              {"via": "reset link", "sessions_ended": ended}, from_ip)  # fmt: skip
    return str(username)
