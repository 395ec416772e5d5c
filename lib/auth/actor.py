"""Who is acting now, checked again at the moment of acting.

Some work runs outside a script run, after the page was drawn: Streamlit calls a download
button's ``data=`` callable when the button is clicked, with no ``require_login`` before
it. Such work asks ``current_role`` first: a tab whose session ended (logout, "sign out
everywhere", idle, expired, revoked by an admin), or whose user was disabled, deleted,
given a new password or a new role since sign-in, gets ``None`` and must do nothing.
"""

from __future__ import annotations

from datetime import datetime

from lib.auth import sessions
from lib.auth.users import UserStore
from lib.errors import StoreError
from lib.store import Store


def current_role(store: Store, token: str | None, now: datetime, users: UserStore) -> str | None:
    """The role (``admin``, ``analyst``, ``viewer``) the user of session ``token`` has in the
    database now, or ``None`` when the token opens nothing now: no token, unknown, ended,
    idle or expired session, credentials changed since sign-in (password, role, account
    disabled or deleted: the credential tag differs), or the database cannot be read.
    ``now`` is a UTC time (naive is taken as UTC). Never raises for a bad session."""
    if not token:
        return None
    try:
        found = sessions.check(store, token, now, users.credential_tag)
        if found.status != "ok" or not found.username:
            return None
        return users.role_of(found.username)
    except StoreError:
        return None
