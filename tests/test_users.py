"""Users in the database: the once-migration of the old users file, every admin action and
its refusals (roles checked in lib), the last-admin rules, sessions, unlock, the command
line. A real DuckDB file per test; bcrypt at cost 4."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from lib.auth import admin, sessions
from lib.auth.admin import Actor
from lib.auth.roles import PermissionDeniedError
from lib.auth.throttle import PER_ACCOUNT, LoginThrottle
from lib.auth.users import UserError, UserStore
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import PASSWORDS, ROOT, write_users

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ADA = Actor("ada", "admin", "10.0.0.7")
ANA = Actor("ana", "analyst", "10.0.0.8")


@pytest.fixture
def db(tmp_path):
    with Store(str(tmp_path / "u.duckdb")) as s:
        yield s


@pytest.fixture
def users(tmp_path, db):
    """ada (admin), ana (analyst), vic (viewer), moved in from the test's users file."""
    return UserStore(write_users(tmp_path / "users.yaml"), secrets_={}, store=db, rounds=4)


def code_of(call) -> str:
    with pytest.raises(UserError) as info:
        call()
    return info.value.code


def test_the_users_file_moves_into_the_database_once(tmp_path, db, users, caplog):
    assert [(u.username, u.role, u.email) for u in users.users()] == [
        ("ada", "admin", "ada@example.com"), ("ana", "analyst", "ana@example.com"),
        ("vic", "viewer", "vic@example.com"),
    ]  # fmt: skip
    assert users.verify("ana", PASSWORDS["ana"]) == "ana"
    moved = entries(db, actions=("users_migrated",))
    assert len(moved) == 1 and moved[0].subject == "file"
    assert moved[0].detail["users"] == 3 and moved[0].detail["usernames"] == ["ada", "ana", "vic"]
    assert "$2b$" not in json.dumps(moved[0].detail)  # no hash in the log
    # the file changes afterwards (a user added, one removed): it is not read again
    (tmp_path / "users.yaml").write_text(
        "credentials:\n  usernames:\n    eve:\n      password: x\n      roles: [admin]\n"
    )
    again = UserStore(tmp_path / "users.yaml", secrets_={}, store=db, rounds=4)
    assert [u.username for u in again.users()] == ["ada", "ana", "vic"]
    assert len(entries(db, actions=("users_migrated",))) == 1


def test_the_server_log_names_the_file_moved(tmp_path, db, caplog):
    with caplog.at_level("WARNING", logger="tokenboard"):
        UserStore(write_users(tmp_path / "old.yaml"), secrets_={}, store=db)
    said = [r.getMessage() for r in caplog.records if "moved" in r.getMessage()]
    assert len(said) == 1 and str(tmp_path / "old.yaml") in said[0] and "3 user(s)" in said[0]


def test_users_in_the_secrets_seed_a_new_database_once(tmp_path, db):
    import bcrypt

    hashed = bcrypt.hashpw(b"ops password 1", bcrypt.gensalt(rounds=4)).decode()
    secrets_ = {"auth": {"credentials": {"usernames": {
        "ops": {"name": "Ops", "email": "ops@example.com", "password": hashed, "roles": ["admin"]},
        "Odd Name": {"password": hashed, "roles": ["viewer"]},  # not a valid username: skipped
    }}}}  # fmt: skip
    users = UserStore(tmp_path / "none.yaml", secrets_=secrets_, store=db, rounds=4)
    assert [(u.username, u.role) for u in users.users()] == [("ops", "admin")]
    assert users.verify("ops", "ops password 1") == "ops"
    # the secrets' user is a database user now: editable, and a deletion sticks
    admin.create_user(users, Actor("ops", "admin"), "ada", "Ada", "", "long enough 1", "admin", T0)
    admin.delete_user(users, Actor("ada", "admin"), "ops", T0)
    again = UserStore(tmp_path / "none.yaml", secrets_=secrets_, store=db, rounds=4)
    assert [u.username for u in again.users()] == ["ada"]


def test_every_admin_action_is_refused_to_an_analyst(users):
    calls = [
        lambda a: admin.create_user(users, a, "bob", "Bob", "", "long enough 1", "viewer", T0),
        lambda a: admin.invite(users, a, "bob", "", "viewer", T0),
        lambda a: admin.pending_invitations(users, a, T0),
        lambda a: admin.revoke_invitation(users, a, "abcdef12", T0),
        lambda a: admin.set_role(users, a, "vic", "admin", T0),
        lambda a: admin.set_active(users, a, "vic", False, T0),
        lambda a: admin.delete_user(users, a, "vic", T0),
        lambda a: admin.reset_password(users, a, "vic", T0, temporary="long enough 1"),
        lambda a: admin.unlock(users, a, "vic", T0),
        lambda a: admin.user_sessions(users, a, "vic", T0),
        lambda a: admin.revoke_sessions(users, a, "vic", T0),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call(ANA)
        # a role claimed by the caller is not enough: the database says ana is an analyst
        with pytest.raises(PermissionDeniedError):
            call(Actor("ana", "admin"))
    assert [u.username for u in users.users()] == ["ada", "ana", "vic"]
    assert users.role_of("vic") == "viewer"
    assert entries(users.store, actions=admin.USER_ACTIONS[:-1]) == []  # nothing audited


def test_an_admin_creates_a_user_who_must_change_the_password(users, db):
    user = admin.create_user(users, ADA, " Bob ", "Bob B", "bob@example.com", "first pass 1",
                             "analyst", T0)  # fmt: skip
    assert (user.username, user.role, user.must_change_password) == ("bob", "analyst", True)
    assert users.get("bob").created_by == "ada"
    assert "first pass 1" not in str(db.query("SELECT * FROM users"))
    (entry,) = entries(db, actions=("user_created",))
    assert (entry.actor, entry.subject, entry.from_ip) == ("ada", "bob", "10.0.0.7")
    assert entry.detail == {"role": "analyst", "must_change_password": True}
    assert code_of(lambda: admin.create_user(users, ADA, "bob", "", "", "long enough 1",
                                             "viewer", T0)) == "user_exists"  # fmt: skip
    assert code_of(lambda: admin.create_user(users, ADA, "x", "", "", "long enough 1",
                                             "viewer", T0)) == "bad_username"  # fmt: skip
    assert code_of(lambda: admin.create_user(users, ADA, "carl", "", "", "short",
                                             "viewer", T0)) == "password_too_short"  # fmt: skip
    # the must-change sign-in (the tag kept at sign-in): the same password again is refused,
    # a new one clears the flag
    tag = users.credential_tag("bob")
    assert code_of(lambda: admin.choose_password(users, "bob", "first pass 1", T0, None,
                                                 tag=tag)) == "password_unchanged"  # fmt: skip
    admin.choose_password(users, "bob", "bob's own pass", T0, "10.0.0.9", tag=tag)
    assert not users.get("bob").must_change_password
    assert (
        users.verify("bob", "bob's own pass") == "bob"
        and users.verify("bob", "first pass 1") is None
    )


def test_the_last_active_admin_keeps_the_role_and_nobody_removes_themself(users):
    assert code_of(lambda: admin.set_role(users, ADA, "ada", "analyst", T0)) == "last_admin"
    assert code_of(lambda: admin.set_active(users, ADA, "ada", False, T0)) == "not_yourself"
    assert code_of(lambda: admin.delete_user(users, ADA, "ada", T0)) == "not_yourself"
    admin.set_role(users, ADA, "ana", "admin", T0)
    ANA_ADMIN = Actor("ana", "admin")
    # with two admins, ana may disable ada; then ana is the last active one
    admin.set_active(users, ANA_ADMIN, "ada", False, T0)
    assert users.role_of("ada") is None and users.credential_tag("ada") is None
    assert code_of(lambda: admin.set_role(users, ANA_ADMIN, "ana", "viewer", T0)) == "last_admin"
    # a disabled admin does not count as the last one: ada can be deleted
    admin.delete_user(users, ANA_ADMIN, "ada", T0)
    assert users.get("ada") is None
    assert code_of(lambda: admin.delete_user(users, ANA_ADMIN, "nobody", T0)) == "no_such_user"
    # the command line is not a user: it still cannot take the last admin away
    cli = Actor(admin.CLI_ACTOR, "admin")
    assert code_of(lambda: admin.delete_user(users, cli, "ana", T0)) == "last_admin"
    assert code_of(lambda: admin.set_active(users, cli, "ana", False, T0)) == "last_admin"


def test_invitations_are_one_time_expire_and_answer_alike(users, db):
    link = admin.invite(users, ADA, "bob", "bob@example.com", "viewer", T0)
    assert link.expires_at == T0 + timedelta(days=7)
    assert link.url("https://tb.example/") == f"https://tb.example/?invite={link.token}"
    assert link.token not in str(db.query("SELECT * FROM invitations"))
    assert link.token not in str(db.query("SELECT * FROM key_audit"))
    (pending,) = admin.pending_invitations(users, ADA, T0)
    assert (pending.username, pending.role, pending.email) == ("bob", "viewer", "bob@example.com")
    # expired a second after 7 days; valid just before
    late = T0 + timedelta(days=7, seconds=1)
    assert (
        admin.open_link(users, link.token, "invite", late - timedelta(seconds=2)).username == "bob"
    )
    assert code_of(lambda: admin.open_link(users, link.token, "invite", late)) == (
        "invitation_invalid"
    )
    assert code_of(lambda: admin.accept_invitation(users, link.token, "Bob", "bob password 1",
                                                   late, None)) == "invitation_invalid"  # fmt: skip
    user = admin.accept_invitation(users, link.token, "Bob", "bob password 1", T0, "10.1.1.1")
    assert (user.username, user.role, user.email, user.created_by) == (
        "bob", "viewer", "bob@example.com", "ada")  # fmt: skip
    assert users.verify("bob", "bob password 1") == "bob"
    # used up: the same code as an unknown, expired or withdrawn link
    assert code_of(lambda: admin.accept_invitation(users, link.token, "Eve", "eve password 1",
                                                   T0, None)) == "invitation_invalid"  # fmt: skip
    assert code_of(lambda: admin.open_link(users, "no-such-token", "invite", T0)) == (
        "invitation_invalid"
    )
    other = admin.invite(users, ADA, "carl", "", "analyst", T0)
    admin.revoke_invitation(users, ADA, admin.pending_invitations(users, ADA, T0)[0].id, T0)
    assert code_of(lambda: admin.open_link(users, other.token, "invite", T0)) == (
        "invitation_invalid"
    )
    assert admin.pending_invitations(users, ADA, T0) == []
    assert code_of(lambda: admin.invite(users, ADA, "ana", "", "viewer", T0)) == "user_exists"
    assert code_of(lambda: admin.invite(users, ADA, "dan", "", "viewer", T0, days=31)) == (
        "bad_days"
    )
    actions = [(e.action, e.actor, e.subject) for e in entries(db, actions=admin.USER_ACTIONS)]
    assert actions[:4] == [
        ("invitation_revoked", "ada", "carl"), ("user_invited", "ada", "carl"),
        ("invitation_accepted", "bob", "bob"), ("user_invited", "ada", "bob"),
    ]  # fmt: skip


def test_a_reset_ends_sessions_and_asks_for_a_new_password(users, db):
    s1 = sessions.start(db, "vic", T0, tag=users.credential_tag("vic"))
    link = admin.reset_password(users, ADA, "vic", T0)
    assert link is not None and link.kind == "reset"
    assert link.url("http://h") == f"http://h/?reset={link.token}"
    assert sessions.check(db, s1, T0 + timedelta(minutes=1)).status == "ended"
    # the old password stops at once (no must-change sign-in with it: the link sets the new one)
    assert not users.get("vic").must_change_password and not users.get("vic").password_set
    assert users.verify("vic", PASSWORDS["vic"]) is None
    assert admin.use_reset_link(users, link.token, "vic new pass 1", T0, None) == "vic"
    assert not users.get("vic").must_change_password
    assert code_of(lambda: admin.use_reset_link(users, link.token, "again pass 1", T0, None)) == (
        "invitation_invalid"
    )
    # a temporary password: the old one no longer signs in
    assert admin.reset_password(users, ADA, "vic", T0, temporary="temporary pw 1") is None
    assert users.verify("vic", "vic new pass 1") is None
    assert users.verify("vic", "temporary pw 1") == "vic" and users.get("vic").must_change_password
    resets = entries(db, actions=("password_reset",))
    assert [e.detail["method"] for e in resets] == ["temporary", "link"]
    assert "temporary pw 1" not in str(db.query("SELECT * FROM key_audit"))


def test_disable_delete_and_role_changes_end_the_users_sessions(users, db):
    def start() -> str:
        return sessions.start(db, "vic", T0, tag=users.credential_tag("vic"))

    later = T0 + timedelta(minutes=1)
    for change, reason in (
        (lambda: admin.set_role(users, ADA, "vic", "analyst", T0), "changed"),
        (lambda: admin.set_active(users, ADA, "vic", False, T0), "admin"),
    ):
        token = start()
        change()
        assert sessions.check(db, token, later, users.credential_tag).status == "ended"
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert db.scalar("SELECT end_reason FROM auth_sessions WHERE token_hash = ?", [digest]) == (
            reason
        )
    # disabled: no tag, no role; enabled again it signs in
    assert users.role_of("vic") is None
    admin.set_active(users, ADA, "vic", True, T0)
    assert users.role_of("vic") == "analyst"
    token = start()
    assert admin.delete_user(users, ADA, "vic", T0) == 1
    assert sessions.check(db, token, later).status == "ended"
    assert [e.action for e in entries(db, subject="vic")] == [
        "user_deleted", "user_enabled", "user_disabled", "role_changed"]  # fmt: skip


def test_an_admin_lists_and_revokes_sessions(users, db):
    a = sessions.start(db, "vic", T0, client_ip="10.0.0.1", user_agent="Firefox")
    b = sessions.start(
        db, "vic", T0 + timedelta(minutes=1), client_ip="10.0.0.2", user_agent="Safari"
    )
    listed = admin.user_sessions(users, ADA, "vic", T0 + timedelta(minutes=2))
    assert [(s.client_ip, s.user_agent) for s in listed] == [
        ("10.0.0.2", "Safari"),
        ("10.0.0.1", "Firefox"),
    ]
    assert admin.revoke_sessions(users, ADA, "vic", T0, listed[1].short_id) == 1
    assert sessions.check(db, a, T0 + timedelta(minutes=3)).status == "ended"
    assert sessions.check(db, b, T0 + timedelta(minutes=3)).status == "ok"
    assert code_of(lambda: admin.revoke_sessions(users, ADA, "vic", T0, listed[1].short_id)) == (
        "no_such_session"
    )
    assert admin.revoke_sessions(users, ADA, "vic", T0) == 1
    assert admin.user_sessions(users, ADA, "vic", T0 + timedelta(minutes=4)) == []
    revoked = entries(db, actions=("sessions_revoked",))
    assert [(e.detail["count"], e.detail["session"]) for e in revoked] == [
        (1, "all"), (1, listed[1].short_id)]  # fmt: skip
    # a user reads and ends their own sessions, not another's
    sessions.start(db, "vic", T0)
    vic = Actor("vic", "viewer")
    assert len(admin.user_sessions(users, vic, "vic", T0)) == 1
    with pytest.raises(PermissionDeniedError):
        admin.user_sessions(users, vic, "ada", T0)
    assert admin.revoke_sessions(users, vic, "vic", T0) == 1


def test_unlock_clears_the_failed_sign_ins_on_that_account(users, db):
    throttle = LoginThrottle()
    t = T0.timestamp()
    for i in range(PER_ACCOUNT):  # five wrong passwords from the admin's own browser
        assert throttle.begin("ip:10.0.0.7", "ada", t + i) == 0
    assert throttle.wait_seconds("ip:10.0.0.7", "ada", t + 10) > 0
    assert throttle.locked("ada", t + 10) and not throttle.locked("ana", t + 10)
    # another admin (or the command line) unlocks: recorded, and a process clears its counters
    admin.unlock(users, Actor(admin.CLI_ACTOR, "admin"), "ada", T0 + timedelta(seconds=10))
    unlocked = users.get("ada").unlocked_at
    assert unlocked == T0 + timedelta(seconds=10)
    assert throttle.clear_user("ADA ", before=unlocked.timestamp()) == PER_ACCOUNT
    assert throttle.wait_seconds("ip:10.0.0.7", "ada", t + 11) == 0
    assert not throttle.locked("ada", t + 11)
    # failures after the unlock are kept
    throttle.begin("ip:10.0.0.7", "ada", t + 20)
    assert throttle.clear_user("ada", before=unlocked.timestamp()) == 0
    (entry,) = entries(db, actions=("account_unlocked",))
    assert (entry.actor, entry.subject) == ("command line", "ada")


def test_own_password_name_and_email(users, db):
    assert code_of(lambda: admin.change_password(users, "vic", "wrong password", "vic new pass 1",
                                                 T0, None)) == "wrong_password"  # fmt: skip
    token = sessions.start(db, "vic", T0, tag=users.credential_tag("vic"))
    admin.change_password(users, "vic", PASSWORDS["vic"], "vic new pass 1", T0, "10.2.2.2")
    assert users.verify("vic", "vic new pass 1") == "vic"
    assert sessions.check(db, token, T0 + timedelta(minutes=1)).status == "ended"
    admin.edit_profile(users, "vic", " Victor ", "victor@example.com", T0, None)
    assert (users.get("vic").name, users.get("vic").email) == ("Victor", "victor@example.com")
    assert code_of(lambda: admin.edit_profile(users, "vic", "V", "nope", T0, None)) == "bad_email"
    users.set_language("vic", "fr")
    assert users.language_of("vic") == "fr"
    changed = entries(db, actions=("password_changed", "user_edited"))
    assert [(e.action, e.actor, e.from_ip) for e in changed] == [
        ("user_edited", "vic", None), ("password_changed", "vic", "10.2.2.2")]  # fmt: skip


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m lib.cli`` in a child process, ``stdin`` on its standard input."""
    return subprocess.run([sys.executable, "-m", "lib.cli", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_command_line_manages_users_and_never_prints_a_password(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    db = str(tmp_path / "cli.duckdb")
    added = _cli("users", "add", "root", "--role", "admin", "--name", "Root", "--password-stdin",
                 "--db", db, stdin="root password 1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout == "user root created (admin)\n"
    secret = "  a passphrase with spaces  "
    res = _cli("users", "add", "bob", "--role", "viewer", "--password-stdin", "--db", db,
               stdin=secret + "\n")  # fmt: skip
    assert res.returncode == 0 and "passphrase" not in res.stdout + res.stderr
    with Store(db) as s:
        assert UserStore(tmp_path / "none.yaml", secrets_={}, store=s).verify("bob", secret) == (
            "bob"
        )  # spaces kept, as typed
    short = _cli("users", "add", "dan", "--role", "viewer", "--password-stdin", "--db", db,
                 stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert "short" not in short.stderr.replace("at least", "")
    listed = _cli("users", "list", "--json", "--db", db)
    got = {u["username"]: (u["role"], u["status"]) for u in json.loads(listed.stdout)["users"]}
    assert got == {"root": ("admin", "active"), "bob": ("viewer", "active")}
    invited = _cli("users", "invite", "carl", "--role", "analyst", "--base", "https://tb.example",
                   "--db", db)  # fmt: skip
    assert invited.returncode == 0 and "https://tb.example/?invite=" in invited.stdout
    refused = _cli("users", "delete", "root", "--db", db)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: root is the last active admin: make another user admin first; nothing changed"
    )
    for args in (("disable", "bob"), ("enable", "bob"), ("role", "bob", "analyst"),
                 ("unlock", "bob"), ("reset-password", "bob", "--link")):  # fmt: skip
        done = _cli("users", *args, "--db", db)
        assert done.returncode == 0, done.stderr
    with Store(db) as s:
        users = UserStore(tmp_path / "none.yaml", secrets_={}, store=s)
        # the reset link stopped the password at once
        assert users.verify("bob", secret) is None and not users.get("bob").password_set
        assert users.role_of("bob") == "analyst"
        log = [(e.actor, e.action) for e in entries(s, actions=admin.USER_ACTIONS)]
    # 2 created, 1 invited, disabled, enabled, role, unlocked, reset: 8 entries
    assert log[0] == ("command line", "password_reset") and len(log) == 8


def test_unlock_from_the_command_line_while_the_app_holds_the_database(tmp_path, monkeypatch):
    from lib.auth import unlocks
    from tests.test_store_cli import HOLDER

    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    db = str(tmp_path / "held.duckdb")
    with Store(db):
        pass
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        done = _cli("users", "unlock", " Ada ", "--db", db)
        assert done.returncode == 0, done.stderr
        assert "an unlock request for ada is left in" in done.stdout
        refused = _cli("users", "disable", "ada", "--db", db)  # the others need the database
        assert refused.returncode == 1 and refused.stderr.startswith("error: The database")
    finally:
        holder.kill()
        holder.wait()
    path = tmp_path / unlocks.FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    taken = unlocks.take(db)
    assert list(taken) == ["ada"] and not path.exists()
    assert unlocks.take(db) == {}


def test_an_invitation_is_e_mailed_when_a_channel_is_configured(users):
    from lib.auth import invite_mail
    from tests.test_notify_delivery import smtp_server

    link = admin.invite(users, ADA, "bob", "bob@example.com", "viewer", T0)
    url = link.url("https://tb.example")
    assert not invite_mail.can_send({}) and invite_mail.send_link(link, url, "b@x.io", "ada",
                                                                  secrets={}) is None  # fmt: skip
    with smtp_server(auth=False) as (port, box):
        secrets = {"smtp": {"host": "127.0.0.1", "port": port, "from": "tb@example.com",
                            "security": "none"}}  # fmt: skip
        assert invite_mail.can_send(secrets)
        sent = invite_mail.send_link(link, url, "bob@example.com", "ada", secrets=secrets)
        assert sent is not None and sent.ok
        (mail,) = box.messages
    assert mail["to"] == ["bob@example.com"]
    body = mail["message"].get_body().get_content()
    assert url in body and "ada invites you to Tokenboard as **bob**" in body
    assert "until 2026-12-07 09:00 UTC" in body  # T0 + 7 days
    assert link.token not in str(sent)  # the delivery's record holds no link
