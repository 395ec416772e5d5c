"""The Overview page and the frame through Streamlit's AppTest, over a real database file."""

from __future__ import annotations

import subprocess
import sys

from lib.auth import sessions
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import ROOT, app_test, fixture, login, submit


def test_logged_out_sees_the_login_form_and_no_data(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))
    at = app_test()
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert len(at.metric) == 0
    assert not any("3,000" in m.value for m in at.markdown)


def test_wrong_password_then_throttled(app_env):
    at = app_test()
    at = login(at, "ana", "wrong")
    assert "incorrect" in at.error[0].value
    for _ in range(4):
        at = login(at, "ana", "wrong")
    at = login(at, "ana")  # this client must wait: the right password does not help yet
    assert "Too many failed sign-ins from this device" in at.error[0].value
    assert len(at.metric) == 0


def test_unknown_and_known_usernames_get_the_same_answers(app_env):
    answers = {}
    for name in ("ana", "nobody"):
        at = app_test()
        seen = [login(at, name, "wrong").error[0].value for _ in range(6)]
        answers[name] = seen
    assert answers["ana"] == answers["nobody"]
    assert answers["ana"][0] == "Username or password is incorrect."
    assert "Too many failed sign-ins" in answers["ana"][-1]


def test_empty_database_shows_what_to_do(app_env):
    at = login(app_test(), "ada")
    assert not at.exception
    assert "No data yet" in at.info[0].value
    assert any(b.label == "Load demo data" for b in at.button)


def test_viewer_gets_no_import_button(app_env):
    at = login(app_test(), "vic")
    assert "No data yet" in at.info[0].value
    assert not any(b.label == "Load demo data" for b in at.button)


def test_totals_of_the_store(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))
        import_file(s, fixture("openai_costs.json"))
    at = app_test()
    at.query_params.update({"period": "custom", "from": "2024-11-01", "to": "2024-11-02"})
    at = login(at, "ana")
    values = {m.label: m.value for m in at.metric}
    assert values["Requests"] == "8"
    assert values["Tokens in"] == "3,000"
    assert values["Spend (USD, billed)"] == "$1.00"  # the cost reports of Nov 1 and 2
    assert values["Error rate"] == "—"  # the Usage API states no errors
    top_models = at.dataframe[0].value
    assert list(top_models["Model"]) == ["gpt-4o", "gpt-4o-mini"]  # families, not snapshots


def test_first_start_loads_demo_data(app_env, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_DEMO", "1")
    at = login(app_test(), "ada")
    assert "demo data" in at.warning[0].value
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM imports WHERE is_demo") == 5


def test_refuses_to_start_without_a_safe_cookie_key(app_env, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_COOKIE_KEY", "some_key")
    at = app_test()
    at.run()
    assert "public" in at.error[0].value
    assert len(at.text_input) == 0


def test_first_admin_needs_the_setup_token(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    at = app_test()
    at.run()
    assert at.title[0].value == "Set up Tokenboard"
    submit(
        at,
        {
            "Setup token": "not-the-token",
            "Username": "boss",
            "Password": "a long password",
            "Repeat password": "a long password",
        },
        "Create admin",
    )
    assert "not valid" in at.error[0].value
    assert not (tmp_path / "none.yaml").exists()


def test_database_held_by_another_program_is_explained(app_env):
    from tests.test_store_cli import HOLDER

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, app_env], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = app_test().run()  # sessions live in the database: no sign-in without it
        assert f"is open in process {holder.pid}" in at.error[0].value
        assert len(at.metric) == 0 and len(at.text_input) == 0
    finally:
        holder.kill()
        holder.wait()


def test_an_idle_session_ends_with_a_message_not_a_crash(app_env):
    from datetime import timedelta

    at = login(app_test(), "ana")
    assert len(at.metric) > 0 or at.info
    # another tab left the session unused past the idle limit: the server says it ended
    with Store(app_env) as s, s.write() as cur:
        cur.execute(
            "UPDATE auth_sessions SET last_seen = last_seen - ?",
            [timedelta(seconds=sessions.IDLE_S + 60)],
        )
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "without activity" in at.info[0].value
    assert len(at.metric) == 0
    with Store(app_env) as s:
        assert s.scalar("SELECT end_reason FROM auth_sessions") == "idle"
    # and signing in again works in the same tab
    at = login(at, "ana")
    assert not at.exception and not at.text_input


def test_logout_and_sign_out_everywhere_end_server_sessions(app_env):
    first = login(app_test(), "ada")
    second = login(app_test(), "ada")
    next(b for b in second.button if b.label == "Log out").click()
    second.run()
    assert [t.label for t in second.text_input] == ["Username", "Password"]
    with Store(app_env) as s:
        assert s.query("SELECT end_reason FROM auth_sessions ORDER BY created_at") == [
            (None,),
            ("logout",),
        ]
    first.run()
    assert not first.text_input  # the other session lives on
    next(b for b in first.button if b.label == "Sign out everywhere").click()
    first.run()
    assert "logged out on every device" in first.info[0].value
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM auth_sessions WHERE ended_at IS NULL") == 0


def test_logout_leaves_nothing_of_the_user_in_the_tab(app_env):
    at = login(app_test("pages/6_Playground.py"), "ana")
    at.session_state["pg_messages"] = [{"role": "user", "content": "ANA PRIVATE QUESTION"}]
    at.session_state["f_model"] = ["gpt-4o"]
    at.run()
    next(b for b in at.button if b.label == "Log out").click()
    at.run()
    at = login(at, "ada")
    assert not at.exception
    for k in ("pg_messages", "f_model"):
        assert k not in at.session_state or "ANA" not in str(at.session_state[k])
    assert not any("ANA PRIVATE QUESTION" in m.value for m in at.markdown)


def test_a_removed_user_or_a_new_password_ends_the_session_at_once(app_env, tmp_path):
    from lib.auth.passwords import hash_password
    from lib.store import Store

    at = login(app_test(), "vic")
    assert not at.text_input
    # users live in the database (the test's users file moved in at the first visit)
    with Store(app_env) as db, db.write() as cur:
        cur.execute(
            "UPDATE users SET password_hash = ? WHERE username = 'vic'",
            [hash_password("a new password!", rounds=4)],
        )
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "Your account was changed" in at.info[0].value
    at = login(at, "vic", "a new password!")
    assert not at.text_input
    with Store(app_env) as db, db.write() as cur:
        cur.execute("DELETE FROM users WHERE username = 'vic'")
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at = login(at, "vic", "a new password!")  # a removed user cannot sign in either
    assert "incorrect" in at.error[0].value
