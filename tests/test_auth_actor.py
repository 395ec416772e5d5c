"""``lib.auth.actor.current_role``: the role of a session's user now, checked again at the
moment of acting (a download's callable runs with no script run before it). A real DuckDB
file; bcrypt at cost 4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lib.auth import admin, sessions
from lib.auth.actor import current_role
from lib.auth.admin import Actor
from lib.auth.users import UserStore
from lib.store import Store
from tests.conftest import submit, write_users

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ADA = Actor("ada", "admin", "10.0.0.7")


@pytest.fixture
def db(tmp_path):
    with Store(str(tmp_path / "a.duckdb")) as s:
        yield s


@pytest.fixture
def users(tmp_path, db):
    return UserStore(write_users(tmp_path / "users.yaml"), secrets_={}, store=db, rounds=4)


def _start(db, users, name, at=T0):
    return sessions.start(db, name, at, tag=users.credential_tag(name))


def test_a_live_session_gives_the_role_in_the_database_now(db, users):
    ana, vic = _start(db, users, "ana"), _start(db, users, "vic")
    assert current_role(db, ana, T0 + timedelta(minutes=1), users) == "analyst"
    assert current_role(db, vic, T0 + timedelta(minutes=1), users) == "viewer"
    assert current_role(db, None, T0, users) is None
    assert current_role(db, "", T0, users) is None
    assert current_role(db, "not-a-token", T0, users) is None


def test_logout_idle_expiry_and_revocation_give_none(db, users):
    t1, t2, t3 = (_start(db, users, "ana") for _ in range(3))
    sessions.end(db, t1, T0 + timedelta(minutes=1))
    assert current_role(db, t1, T0 + timedelta(minutes=2), users) is None
    # idle: unused for longer than IDLE_S (8 h) ends it
    late = T0 + timedelta(seconds=sessions.IDLE_S + 1)
    assert current_role(db, t2, late, users) is None
    # revoked by an admin
    admin.revoke_sessions(users, ADA, "ana", T0 + timedelta(minutes=3))
    assert current_role(db, t3, T0 + timedelta(minutes=4), users) is None


def test_a_role_change_disable_or_delete_gives_none(db, users):
    ana, vic = _start(db, users, "ana"), _start(db, users, "vic")
    t = T0 + timedelta(minutes=1)
    # the tag at sign-in no longer matches: the session is ended, not upgraded or downgraded
    with db.write() as cur:  # a change made behind the sessions' back (no end_in)
        cur.execute("UPDATE users SET role = 'admin' WHERE username = 'ana'")
    assert current_role(db, ana, t, users) is None
    with db.write() as cur:
        cur.execute("UPDATE users SET status = 'disabled' WHERE username = 'vic'")
    assert current_role(db, vic, t, users) is None
    ana2 = _start(db, users, "ana", t)
    admin.delete_user(users, ADA, "ana", t + timedelta(minutes=1))
    assert current_role(db, ana2, t + timedelta(minutes=2), users) is None


def test_the_tab_session_token_gives_the_signed_in_role_until_logout(app_env):
    """``lib.ui.auth_gate.session_token`` is the token ``current_role`` re-checks: the role of
    the signed-in user, then None once this tab logged out."""
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import streamlit as st

        from lib.auth import sessions
        from lib.auth.actor import current_role
        from lib.ui.auth_gate import log_out, require_login, session_token, user_store
        from lib.ui.state import get_store

        token = st.session_state.get("kept") or session_token()
        if st.session_state.get("out"):
            st.write(f"role={current_role(get_store(), token, sessions.utcnow(), user_store())}")
            st.stop()
        require_login()
        st.session_state["kept"] = session_token()
        st.write(
            f"role={current_role(get_store(), session_token(), sessions.utcnow(), user_store())}"
        )
        if st.button("Log out"):
            log_out()
            st.session_state["out"] = True
            st.session_state["kept"] = token
            st.rerun()

    from tests.conftest import PASSWORDS

    at = AppTest.from_function(page, default_timeout=60)
    at.run()
    submit(at, {"Username": "ana", "Password": PASSWORDS["ana"]}, "Log in")
    assert not at.exception, at.exception
    assert [m.value for m in at.markdown if m.value.startswith("role=")] == ["role=analyst"]
    next(b for b in at.button if b.label == "Log out").click()
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.markdown if m.value.startswith("role=")] == ["role=None"]
