"""The Users tab (admins) and My account (every role) of the Settings page, through AppTest,
in English and French, over the test's database (the users file of ``app_env`` moves in at
the first visit)."""

from __future__ import annotations

from datetime import UTC, datetime

from lib.auth import admin, sessions
from lib.auth.throttle import PER_ACCOUNT
from lib.auth.users import UserStore
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import PASSWORDS, app_test, shown, submit

SETTINGS = "pages/8_Settings.py"


def sign_in(at, user: str, password: str | None = None):
    """The login form in any language: user name, password, the one button."""
    at.run()
    first, second = at.text_input[0], at.text_input[1]
    first.input(user)
    second.input(password or PASSWORDS[user])
    next(b for b in at.button if b.label in ("Log in", "Se connecter")).click()
    return at.run()


def open_tab(user: str, tab: str, lang: str = "en"):
    at = app_test(SETTINGS)
    at.query_params.update({"tab": tab, "lang": lang})
    at = sign_in(at, user)
    assert not at.exception, at.exception
    return at


def button(at, key: str):
    return next(b for b in at.button if b.key == key)


def users_of(db: str) -> tuple[Store, UserStore]:
    s = Store(db)
    return s, UserStore(secrets_={}, store=s)


def test_the_users_tab_lists_users_and_an_admin_invites_one(app_env):
    at = open_tab("ada", "users")
    assert not at.error
    table = at.dataframe[0].value
    assert list(table["Username"]) == ["ada", "ana", "vic"]
    assert list(table["Role"]) == ["admin", "analyst", "viewer"]
    assert list(table["Locked"]) == ["no", "no", "no"]
    # invite: the link is shown once, with its copy button (a code block)
    fields = {t.key: t for t in at.text_input}
    fields["users_invite_username"].input("bob")
    fields["users_invite_email"].input("bob@example.com")
    next(b for b in at.button if b.label == "Make invitation link").click()
    at.run()
    assert not at.exception and not at.error
    link = at.code[0].value
    assert link.startswith("/?invite=") or "?invite=" in link
    token = link.split("?invite=", 1)[1]
    at.run()  # the next run no longer has it
    assert all(token not in c.value for c in at.code)
    s, users = users_of(app_env)
    with s:
        assert admin.open_link(users, token, "invite", sessions.utcnow()).username == "bob"
        assert token not in str(s.query("SELECT * FROM key_audit"))


def test_role_change_last_admin_refusal_and_delete_with_confirmation(app_env):
    at = open_tab("ada", "users")
    at.selectbox(key="users_pick").set_value("ada").run()
    button(at, "users_disable").click().run()
    assert at.error[0].value == "You cannot disable or delete your own account."
    at.selectbox(key="users_role_ada").set_value("viewer").run()
    button(at, "users_role_go").click().run()
    assert at.error[0].value == "ada is the last active admin: make another user admin first."
    at.selectbox(key="users_pick").set_value("vic").run()
    at.selectbox(key="users_role_vic").set_value("analyst").run()
    button(at, "users_role_go").click().run()
    assert "vic is now analyst" in shown(at.success[0].value)
    assert button(at, "users_delete").disabled
    at.checkbox(key="users_sure").check().run()
    button(at, "users_delete").click().run()
    assert "vic is deleted" in shown(at.success[0].value)
    assert list(at.dataframe[0].value["Username"]) == ["ada", "ana"]
    audit = at.dataframe[-1].value
    assert list(audit["Action"])[:2] == ["User deleted", "Role changed"]
    assert list(audit["By"])[:2] == ["ada", "ada"]


def test_an_admin_resets_unlocks_and_ends_sessions(app_env):
    s, users = users_of(app_env)
    with s:
        token = sessions.start(s, "vic", sessions.utcnow(), tag=users.credential_tag("vic"),
                               client_ip="10.9.9.9", user_agent="Firefox/140")  # fmt: skip
    at = open_tab("ada", "users")
    at.selectbox(key="users_pick").set_value("vic").run()
    sess = at.dataframe[1].value  # the users, then vic's sessions
    assert list(sess["IP address"]) == ["10.9.9.9"] and list(sess["Browser"]) == ["Firefox/140"]
    button(at, "users_end_all").click().run()
    assert "Sessions ended: 1." in at.success[0].value
    button(at, "users_unlock").click().run()
    assert "vic is unlocked" in shown(at.success[0].value)
    at.text_input(key="users_temp").input("temporary pw 1")
    button(at, "users_reset").click().run()
    assert "chooses a new one at their next sign-in" in shown(at.success[0].value)
    with Store(app_env) as s:
        assert sessions.check(s, token, sessions.utcnow()).status == "ended"
        log = [e.action for e in entries(s, subject="vic")]
    assert log[:3] == ["password_reset", "account_unlocked", "sessions_revoked"]


def test_the_users_tab_is_for_admins_only(app_env):
    at = open_tab("ana", "users")
    assert [t.label for t in at.tabs][:1] == ["My account"]
    assert "Users" not in [t.label for t in at.tabs]
    assert not any(b.key == "users_delete" for b in at.button)


def test_the_users_tab_in_french(app_env):
    at = open_tab("ada", "users", "fr")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Rôle"]) == ["administrateur", "analyste", "lecteur"]
    assert "Inviter un utilisateur" in [e.label for e in at.expander]
    at.selectbox(key="users_pick").set_value("ada").run()
    button(at, "users_disable").click().run()
    assert at.error[0].value == "Vous ne pouvez ni désactiver ni supprimer votre propre compte."


def test_my_account_changes_password_name_and_language(app_env):
    at = open_tab("vic", "account")
    assert not at.exception and not at.error
    submit(
        at,
        {
            "Current password": "not my password",
            "New password": "vic new pass 1",
            "Repeat password": "vic new pass 1",
        },
        "Change password",
    )
    assert at.error[0].value == "The current password is not right."
    submit(
        at,
        {
            "Current password": PASSWORDS["vic"],
            "New password": "vic new pass 1",
            "Repeat password": "vic new pass 1",
        },
        "Change password",
    )
    assert not at.exception
    assert "Password changed" in at.success[0].value
    at.run()  # still signed in here: a new session for this tab
    assert any(b.label == "Log out" for b in at.button)
    fields = {t.label: t for t in at.text_input}
    fields["Full name"].input("Victor")
    next(s for s in at.selectbox if s.label == "Language").set_value("Français")
    next(b for b in at.button if b.label == "Save").click()
    at.run()
    assert not at.exception
    assert at.success[0].value == "Enregistré."
    with Store(app_env) as s:
        users = UserStore(secrets_={}, store=s)
        assert users.verify("vic", "vic new pass 1") == "vic"
        assert (users.get("vic").name, users.language_of("vic")) == ("Victor", "fr")


def test_my_account_in_french_lists_my_sessions(app_env):
    at = open_tab("ana", "account", "fr")
    assert not at.exception
    assert "**Mes sessions**" in [m.value for m in at.markdown]
    assert len(at.dataframe[0].value) == 1  # this session
    labels = [t.label for t in at.text_input]
    assert "Mot de passe actuel" in labels and "Nouveau mot de passe" in labels


def test_must_change_and_disabled_sign_ins(app_env):
    s, users = users_of(app_env)
    now = datetime.now(UTC)
    with s:
        admin.reset_password(users, admin.Actor(admin.CLI_ACTOR, "admin"), "vic", now,
                             temporary="temporary pw 1")  # fmt: skip
        admin.set_active(users, admin.Actor(admin.CLI_ACTOR, "admin"), "ana", False, now)
    at = sign_in(app_test(), "vic", "temporary pw 1")
    assert at.title[0].value == "Choose a new password"
    submit(
        at,
        {"New password": "temporary pw 1", "Repeat password": "temporary pw 1"},
        "Save and sign in",
    )
    assert at.error[0].value == "Choose a password other than the current one."
    submit(
        at,
        {"New password": "vic chosen pw 1", "Repeat password": "vic chosen pw 1"},
        "Save and sign in",
    )
    assert not at.exception and any(b.label == "Log out" for b in at.button)
    # a disabled account: told so only with the right password
    wrong = sign_in(app_test(), "ana", "wrong password!")
    assert wrong.error[0].value == "Username or password is incorrect."
    right = sign_in(app_test(), "ana")
    assert right.error[0].value == "This account is disabled. Ask an admin to enable it."


def test_an_invitation_link_signs_the_new_user_in_and_leaves_the_url(app_env):
    s, users = users_of(app_env)
    with s:
        link = admin.invite(users, admin.Actor("ada", "admin"), "bob", "", "viewer",
                            datetime.now(UTC))  # fmt: skip
    at = app_test()
    at.query_params["invite"] = link.token
    at.run()
    assert "invite" not in at.query_params
    assert at.title[0].value == "Join Tokenboard"
    submit(
        at,
        {"Full name": "Bob", "Password": "bob password 1", "Repeat password": "bob password 1"},
        "Create my account",
    )
    assert not at.exception and any(b.label == "Log out" for b in at.button)
    # the same link again, a made-up one: one message
    for token in (link.token, "made-up-token"):
        again = app_test()
        again.query_params["invite"] = token
        again.run()
        assert again.info[0].value.startswith("This link is not valid: it was used")


def test_an_unlock_lets_the_locked_out_admin_sign_in_at_once(app_env):
    at = app_test()
    for _ in range(PER_ACCOUNT):  # five wrong passwords: the admin's own browser must wait
        at = sign_in(at, "ada", "wrong password!")
    at = sign_in(at, "ada")
    assert at.error[0].value.startswith("Too many failed sign-ins from this device")
    # the way out: the command line (or another admin) unlocks the account in the database,
    # and the server forgets those failures at the next attempt
    s, users = users_of(app_env)
    with s:
        admin.unlock(users, admin.Actor(admin.CLI_ACTOR, "admin"), "ada", datetime.now(UTC))
    at = sign_in(at, "ada")
    assert not at.error and any(b.label == "Log out" for b in at.button)


def test_a_reset_link_sets_a_new_password_and_signs_in(app_env):
    s, users = users_of(app_env)
    with s:
        link = admin.reset_password(users, admin.Actor("ada", "admin"), "vic", datetime.now(UTC))
    at = app_test()
    at.query_params.update({"reset": link.token, "lang": "fr"})
    at.run()
    assert "reset" not in at.query_params
    assert at.title[0].value == "Choisissez un nouveau mot de passe"
    submit(
        at,
        {"Mot de passe": "vic reset pw 1", "Confirmer le mot de passe": "vic other pw 1"},
        "Enregistrer et se connecter",
    )
    assert at.error[0].value == "Les deux mots de passe sont différents."
    submit(
        at,
        {"Mot de passe": "vic reset pw 1", "Confirmer le mot de passe": "vic reset pw 1"},
        "Enregistrer et se connecter",
    )
    assert not at.exception and any(b.label == "Se déconnecter" for b in at.button)
    with Store(app_env) as s:
        assert UserStore(secrets_={}, store=s).verify("vic", "vic reset pw 1") == "vic"


def test_the_app_applies_an_unlock_the_command_line_left_beside_the_database(app_env):
    from lib.auth import unlocks

    at = app_test()
    for _ in range(PER_ACCOUNT):
        at = sign_in(at, "ada", "wrong password!")
    assert sign_in(at, "ada").error[0].value.startswith("Too many failed sign-ins")
    unlocks.request(app_env, "ada", datetime.now(UTC))  # what the command line leaves
    at = sign_in(at, "ada")
    assert not at.error and any(b.label == "Log out" for b in at.button)
    with Store(app_env) as s:
        (entry,) = entries(s, actions=("account_unlocked",))
    assert (entry.actor, entry.subject) == ("command line", "ada")


def test_a_link_opened_while_signed_in_is_left_unused(app_env):
    s, users = users_of(app_env)
    with s:
        link = admin.invite(users, admin.Actor("ada", "admin"), "bob", "", "viewer",
                            datetime.now(UTC))  # fmt: skip
    at = sign_in(app_test(), "ana")
    at.query_params["invite"] = link.token
    at.run()
    assert "invite" not in at.query_params
    assert at.info[0].value == "You are signed in already: log out, then open the link again."
    with Store(app_env) as s:
        assert admin.open_link(UserStore(secrets_={}, store=s), link.token, "invite",
                               datetime.now(UTC)).username == "bob"  # fmt: skip
