"""What a security review of the users found, each tested as it was reproduced:

1. a reset link must stop the old password at once (a leaked old password must not lead to
   "choose a new password" and withdraw the link);
2. invitations and reset links die with their maker's admin role (demoted, disabled,
   deleted), and are checked against their maker when used;
3. a deleted user's name is never given to someone else (tickets are kept by username).

A real DuckDB file per test; bcrypt at cost 4; AppTest for the sign-in form and the tab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lib.auth import admin
from lib.auth.admin import Actor
from lib.auth.users import UserError, UserStore
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import PASSWORDS, app_test, submit, write_users

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ADA = Actor("ada", "admin", "10.0.0.7")
ANA_ADMIN = Actor("ana", "admin", "10.0.0.8")
CLI = Actor(admin.CLI_ACTOR, "admin")


@pytest.fixture
def db(tmp_path):
    with Store(str(tmp_path / "h.duckdb")) as s:
        yield s


@pytest.fixture
def users(tmp_path, db):
    """ada (admin), ana (analyst), vic (viewer)."""
    return UserStore(write_users(tmp_path / "users.yaml"), secrets_={}, store=db, rounds=4)


def code_of(call) -> str:
    with pytest.raises(UserError) as info:
        call()
    return info.value.code


# -- 1. a reset link stops the old password ---------------------------------------------------
def test_a_reset_link_stops_the_old_password_at_once(users, db):
    old = PASSWORDS["vic"]
    link = admin.reset_password(users, ADA, "vic", T0)
    assert link is not None
    # the reviewer's reproduction: the old password still opened "choose a new password"
    assert users.verify("vic", old) is None
    vic = users.get("vic")
    assert vic is not None and not vic.must_change_password and not vic.password_set
    assert users.credential_tag("vic") is not None  # the account itself is still active
    # nothing an attacker can call with the old password: choose_password is refused and
    # changes nothing (the tag is the one a sign-in would have kept, had it succeeded)
    tag = users.credential_tag("vic")
    assert code_of(lambda: admin.choose_password(users, "vic", "attacker-new-pass", T0, None,
                                                 tag=tag)) == "sign_in_again"  # fmt: skip
    assert code_of(lambda: admin.change_password(users, "vic", old, "attacker-new-pass", T0,
                                                 None)) == "wrong_password"  # fmt: skip
    assert users.verify("vic", "attacker-new-pass") is None
    # the link is still valid and sets the password
    assert admin.open_link(users, link.token, "reset", T0).username == "vic"
    assert admin.use_reset_link(users, link.token, "vic own pass 1", T0, None) == "vic"
    assert users.verify("vic", "vic own pass 1") == "vic" and users.get("vic").password_set
    assert users.verify("vic", old) is None
    # the hash is not kept anywhere readable as the old one, nor the token
    assert link.token not in str(db.query("SELECT * FROM users, invitations"))


def test_the_must_change_path_is_for_a_temporary_password_only(users):
    # vic was never asked to change: choose_password (the must-change form) refuses
    tag = users.credential_tag("vic")
    assert code_of(lambda: admin.choose_password(users, "vic", "new pass vic 1", T0, None,
                                                 tag=tag)) == "sign_in_again"  # fmt: skip
    assert users.verify("vic", PASSWORDS["vic"]) == "vic"
    # a temporary password: signed in with it (tag kept), then a reset link by an admin
    # meanwhile: the new password is refused and the admin's link stays live
    admin.reset_password(users, ADA, "vic", T0, temporary="temporary pw 1")
    tag = users.credential_tag("vic")
    link = admin.reset_password(users, ADA, "vic", T0 + timedelta(minutes=1))
    assert link is not None
    assert code_of(lambda: admin.choose_password(users, "vic", "vic chosen pw 1", T0, None,
                                                 tag=tag)) == "sign_in_again"  # fmt: skip
    assert users.verify("vic", "temporary pw 1") is None  # the link stopped it too
    assert admin.open_link(users, link.token, "reset", T0 + timedelta(minutes=2)).username == "vic"
    # a temporary password withdraws an earlier link (one reset at a time: the newest decides)
    admin.reset_password(users, ADA, "vic", T0 + timedelta(minutes=3), temporary="temporary pw 2")
    assert code_of(lambda: admin.open_link(users, link.token, "reset", T0)) == (
        "invitation_invalid"
    )
    tag = users.credential_tag("vic")
    admin.choose_password(users, "vic", "vic chosen pw 2", T0, None, tag=tag)
    assert users.verify("vic", "vic chosen pw 2") == "vic"
    assert not users.get("vic").must_change_password


def test_verify_takes_a_bcrypt_check_for_a_pending_reset(users, monkeypatch):
    """No shortcut for a pending reset or a deleted user: one bcrypt check, as for a wrong
    password (a refusal that answers sooner would tell which accounts await a reset)."""
    import bcrypt

    calls: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda p, h: calls.append(1) or real(p, h))
    admin.reset_password(users, ADA, "vic", T0)
    admin.delete_user(users, ADA, "ana", T0)
    for name in ("vic", "ana", "nobody", "ada"):
        calls.clear()
        assert users.verify(name, "a wrong password") is None
        assert calls == [1], name


def test_the_sign_in_form_refuses_the_old_password_after_a_reset_link(app_env):
    with Store(app_env) as s:
        u = UserStore(secrets_={}, store=s)
        link = admin.reset_password(u, ADA, "vic", datetime.now(UTC))
    at = app_test()
    at.run()
    submit(at, {"Username": "vic", "Password": PASSWORDS["vic"]}, "Log in")
    assert not at.exception
    assert at.error[0].value == "Username or password is incorrect."
    assert [t.value for t in at.title] != ["Choose a new password"]
    with Store(app_env) as s:
        u = UserStore(secrets_={}, store=s)
        assert admin.open_link(u, link.token, "reset", datetime.now(UTC)).username == "vic"


def test_a_reset_while_choosing_a_temporary_password_sends_back_to_sign_in(app_env):
    with Store(app_env) as s:
        u = UserStore(secrets_={}, store=s)
        admin.reset_password(u, ADA, "vic", datetime.now(UTC), temporary="temporary pw 1")
    at = app_test()
    at.run()
    submit(at, {"Username": "vic", "Password": "temporary pw 1"}, "Log in")
    assert at.title[0].value == "Choose a new password"
    with Store(app_env) as s:  # an admin makes a new temporary password meanwhile
        u = UserStore(secrets_={}, store=s)
        admin.reset_password(u, ADA, "vic", datetime.now(UTC), temporary="temporary pw 2")
    submit(
        at,
        {"New password": "vic chosen pw 1", "Repeat password": "vic chosen pw 1"},
        "Save and sign in",
    )
    assert not at.exception
    assert at.info[0].value.startswith("Your account was changed")
    assert any(b.label == "Log in" for b in at.button)
    with Store(app_env) as s:
        u = UserStore(secrets_={}, store=s)
        assert u.verify("vic", "vic chosen pw 1") is None
        assert u.verify("vic", "temporary pw 2") == "vic"


# -- 2. links die with their maker's admin role ------------------------------------------------
@pytest.mark.parametrize(
    "lose, reason",
    [
        (lambda u: admin.set_role(u, ADA, "ana", "viewer", T0), "role_changed"),
        (lambda u: admin.set_active(u, ADA, "ana", False, T0), "user_disabled"),
        (lambda u: admin.delete_user(u, ADA, "ana", T0), "user_deleted"),
    ],
)
def test_links_made_by_an_admin_are_withdrawn_when_they_lose_admin(users, db, lose, reason):
    admin.set_role(users, ADA, "ana", "admin", T0)
    invite = admin.invite(users, ANA_ADMIN, "dan", "dan@example.com", "admin", T0)
    reset = admin.reset_password(users, ANA_ADMIN, "vic", T0)
    mine = admin.invite(users, ADA, "eve", "", "viewer", T0)  # ada's: stays
    assert reset is not None
    lose(users)
    for link in (invite, reset):
        assert code_of(lambda link=link: admin.open_link(users, link.token, link.kind, T0)) == (
            "invitation_invalid"
        )
    assert code_of(lambda: admin.accept_invitation(users, invite.token, "Dan", "dan password 1",
                                                   T0, None)) == "invitation_invalid"  # fmt: skip
    assert code_of(lambda: admin.use_reset_link(users, reset.token, "vic password 9", T0,
                                                None)) == "invitation_invalid"  # fmt: skip
    assert users.get("dan") is None
    assert admin.open_link(users, mine.token, "invite", T0).username == "eve"
    withdrawn = [e for e in entries(db, actions=("invitation_revoked",))]
    # 2 links withdrawn, by ada (who acted), each naming its maker and why
    assert sorted((e.subject, e.detail["kind"]) for e in withdrawn) == [
        ("dan", "invite"), ("vic", "reset"),
    ]  # fmt: skip
    assert {(e.actor, e.detail["made_by"], e.detail["reason"]) for e in withdrawn} == {
        ("ada", "ana", reason)
    }
    assert [p.username for p in admin.pending_invitations(users, ADA, T0)] == ["eve"]


def test_a_link_is_checked_against_its_maker_when_used(users, db):
    """Even when the maker lost admin without the withdrawal (a backup restored, a change
    made outside the app), the link opens nothing; the command line's links are fine."""
    admin.set_role(users, ADA, "ana", "admin", T0)
    invite = admin.invite(users, ANA_ADMIN, "dan", "", "viewer", T0)
    by_cli = admin.invite(users, CLI, "fay", "", "viewer", T0)
    with db.write() as cur:
        cur.execute("UPDATE users SET role = 'viewer' WHERE username = 'ana'")
    assert code_of(lambda: admin.open_link(users, invite.token, "invite", T0)) == (
        "invitation_invalid"
    )
    assert code_of(lambda: admin.accept_invitation(users, invite.token, "Dan", "dan password 1",
                                                   T0, None)) == "invitation_invalid"  # fmt: skip
    # refused inside the transaction: the link is not used up (ana made admin again: it works)
    with db.write() as cur:
        cur.execute("UPDATE users SET role = 'admin' WHERE username = 'ana'")
    assert admin.accept_invitation(users, invite.token, "Dan", "dan password 1", T0, None)
    assert admin.accept_invitation(users, by_cli.token, "Fay", "fay password 1", T0, None)


# -- 3. a deleted user's name is never reused ---------------------------------------------------
def test_a_deleted_users_name_is_kept_and_never_given_again(users, db):
    from lib.tickets import people, service
    from lib.tickets.model import Draft
    from lib.worker.weekly import user_emails

    ticket = service.submit(db, "vic", "viewer", Draft("Export broken", "It fails."), now=T0)
    admin.delete_user(users, ADA, "vic", T0)
    # the row stays, emptied: no password, name, e-mail address, language
    row = db.query("SELECT status, name, email, language, password_hash FROM users "
                   "WHERE username = 'vic'")  # fmt: skip
    assert row == [("deleted", "", "", None, "!deleted")]
    assert users.get("vic") is None and users.role_of("vic") is None
    assert users.verify("vic", PASSWORDS["vic"]) is None
    assert users.credential_tag("vic") is None
    assert [u.username for u in users.users()] == ["ada", "ana"]
    assert users.deleted() == ["vic"]
    # nobody gets the name again: create, invite, the command line's add
    for call in (
        lambda: admin.create_user(users, ADA, "vic", "Vic 2", "", "new vic pass 1", "admin", T0),
        lambda: admin.create_user(users, ADA, " VIC ", "", "", "new vic pass 1", "viewer", T0),
        lambda: admin.invite(users, ADA, "vic", "v2@example.com", "viewer", T0),
    ):
        with pytest.raises(UserError) as info:
            call()
        assert info.value.code == "username_deleted"
        assert str(info.value) == ("The username vic belonged to a deleted user; choose another.")
    # the deleted user's ticket stays theirs: nobody new sees it as their own
    assert [t.number for t in service.my_tickets(db, "vic", "viewer")] == [ticket.number]
    # never an active user, an admin, an e-mail recipient
    assert [p.username for p in people.people(db)] == ["ada", "ana"]
    assert people.email_of(db, "vic") is None
    assert "vic" not in user_emails(db)
    # every admin action on the name answers "no such user"
    for call in (
        lambda: admin.set_role(users, ADA, "vic", "admin", T0),
        lambda: admin.set_active(users, ADA, "vic", True, T0),
        lambda: admin.reset_password(users, ADA, "vic", T0),
        lambda: admin.unlock(users, ADA, "vic", T0),
        lambda: admin.delete_user(users, ADA, "vic", T0),
    ):
        assert code_of(call) == "no_such_user"
    assert db.scalar("SELECT status FROM users WHERE username = 'vic'") == "deleted"


def test_a_deleted_admin_counts_for_nothing(users, db):
    admin.set_role(users, ADA, "ana", "admin", T0)
    admin.delete_user(users, ADA, "ana", T0)
    from lib.tickets import people

    assert people.admins(db) == ["ada"]
    # ada is the last active admin again
    assert code_of(lambda: admin.set_role(users, ADA, "ada", "viewer", T0)) == "last_admin"


def test_a_name_deleted_before_tombstones_were_kept_is_reserved_too(users, db):
    admin.delete_user(users, ADA, "vic", T0)
    with db.write() as cur:  # as an older version left it: the row gone, the audit entry kept
        cur.execute("DELETE FROM users WHERE username = 'vic'")
    assert code_of(lambda: admin.create_user(users, ADA, "vic", "", "", "new vic pass 1",
                                             "viewer", T0)) == "username_deleted"  # fmt: skip
    assert code_of(lambda: admin.invite(users, ADA, "vic", "", "viewer", T0)) == (
        "username_deleted"
    )


def test_an_invitation_for_a_name_deleted_since_is_refused(users, db):
    link = admin.invite(users, ADA, "bob", "", "viewer", T0)
    admin.create_user(users, ADA, "bob", "Bob", "", "bob password 1", "viewer", T0)
    admin.delete_user(users, ADA, "bob", T0)
    assert code_of(lambda: admin.open_link(users, link.token, "invite", T0)) == (
        "invitation_invalid"
    )
    assert code_of(lambda: admin.accept_invitation(users, link.token, "Bob", "bob password 2",
                                                   T0, None)) == "invitation_invalid"  # fmt: skip


def test_the_command_line_refuses_a_deleted_name(tmp_path, monkeypatch):
    from tests.test_users import _cli

    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    db = str(tmp_path / "cli.duckdb")
    for name, role in (("root", "admin"), ("bob", "viewer")):
        done = _cli("users", "add", name, "--role", role, "--password-stdin", "--db", db,
                    stdin="some password 1\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert _cli("users", "delete", "bob", "--db", db).returncode == 0
    again = _cli("users", "add", "bob", "--role", "viewer", "--password-stdin", "--db", db,
                 stdin="some password 2\n")  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "error: The username bob belonged to a deleted user; choose another; nothing changed"
    )
    listed = _cli("users", "list", "--db", db)
    assert listed.stdout.splitlines()[-1] == "deleted (names kept, never reused): bob"
    assert "bob\t" not in listed.stdout


def test_the_users_tab_lists_deleted_names_without_actions_and_words_the_refusal(app_env):
    from tests.test_users_page import open_tab

    with Store(app_env) as s:
        u = UserStore(secrets_={}, store=s)
        admin.delete_user(u, ADA, "vic", datetime.now(UTC))
        admin.reset_password(u, ADA, "ana", datetime.now(UTC))
    at = open_tab("ada", "users")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Username"]) == ["ada", "ana"]
    assert list(table["Must change password"]) == ["no", "waiting for the reset link"]
    assert "Deleted users (their names stay reserved): vic" in [c.value for c in at.caption]
    assert at.selectbox(key="users_pick").options == ["ada", "ana"]
    fields = {t.key: t for t in at.text_input}
    fields["users_invite_username"].input("vic")
    next(b for b in at.button if b.label == "Make invitation link").click()
    at.run()
    assert at.error[0].value == "The username vic belonged to a deleted user; choose another."
    fr = open_tab("ada", "users", "fr")
    assert "Utilisateurs supprimés (leurs noms restent réservés)\xa0: vic" in [
        c.value for c in fr.caption
    ]
    assert list(fr.dataframe[0].value["Doit changer de mot de passe"]) == [
        "non", "en attente du lien de réinitialisation",
    ]  # fmt: skip
