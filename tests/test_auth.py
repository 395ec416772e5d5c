"""Users, roles and the setup token (the login widget itself is tested through AppTest)."""

from __future__ import annotations

import bcrypt
import pytest

from lib.auth.keys import AuthConfigError, cookie_key
from lib.auth.roles import PermissionDeniedError, can, require
from lib.auth.users import SetupToken, UserError, UserStore, create_first_admin
from lib.store import Store

GOOD_KEY = "Vq3_xR9-bT2mLw7ZkP0sHd4JfN8cYe1GuAo6Ii5QnEr"


@pytest.fixture
def db(tmp_path):
    with Store(str(tmp_path / "users.duckdb")) as s:
        yield s


def users_of(tmp_path, db, secrets_=None, name="users.yaml") -> UserStore:
    """The users of the test's database (cheap bcrypt rounds); ``name`` is the old users
    file, moved in once when it exists."""
    return UserStore(tmp_path / name, secrets_=secrets_ or {}, store=db, rounds=4)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        ("admin", "import", True),
        ("analyst", "import", True),
        ("viewer", "import", False),
        ("viewer", "undo_import", False),
        ("viewer", "view", True),
        ("analyst", "manage_users", False),
        ("admin", "manage_users", True),
        (None, "view", False),
        ("admin", "no_such_action", False),
    ],
)
def test_permissions(role, action, allowed):
    assert can(role, action) is allowed
    if allowed:
        require(role, action)
    else:
        with pytest.raises(PermissionDeniedError):
            require(role, action)


def test_cookie_key_is_required_and_never_a_default(monkeypatch):
    monkeypatch.delenv("TOKENBOARD_COOKIE_KEY", raising=False)
    with pytest.raises(AuthConfigError, match="No cookie key"):
        cookie_key({})
    with pytest.raises(AuthConfigError, match="public"):
        cookie_key({"auth": {"cookie_key": "some_key"}})
    with pytest.raises(AuthConfigError, match="at least 32"):
        cookie_key({"auth": {"cookie_key": "short-but-not-default"}})
    fresh = "Zr8" + GOOD_KEY[3:]  # not written anywhere in the repository
    assert cookie_key({"auth": {"cookie_key": fresh}}) == fresh
    monkeypatch.setenv("TOKENBOARD_COOKIE_KEY", "e" * 48)
    with pytest.raises(AuthConfigError, match="too easy to guess"):
        cookie_key({"auth": {"cookie_key": fresh}})


def test_first_admin_needs_the_one_time_token(tmp_path, db):
    store = users_of(tmp_path, db)
    token = SetupToken()
    with pytest.raises(UserError, match="not valid"):
        create_first_admin(
            store, token, "guess", "root", "Root", "r@example.com", "correct horse battery"
        )
    assert store.empty
    user = create_first_admin(
        store, token, token.value, "ada", "Ada", "ada@example.com", "correct horse battery"
    )
    assert user.role == "admin"
    assert token.value is None  # used up
    with pytest.raises(UserError, match="exists already"):
        create_first_admin(store, token, "anything", "eve", "Eve", "", "correct horse battery")
    # stored hashed in the database, never in clear; no users file written
    assert not (tmp_path / "users.yaml").exists()
    assert "correct horse battery" not in str(db.query("SELECT * FROM users"))
    stored, role = db.query("SELECT password_hash, role FROM users WHERE username = 'ada'")[0]
    assert bcrypt.checkpw(b"correct horse battery", stored.encode()) and role == "admin"
    # and read back by a new store
    again = users_of(tmp_path, db)
    assert again.role_of("ada") == "admin"


def test_adding_users_validates_input(tmp_path, db):
    store = users_of(tmp_path, db)
    store.add("bob", "Bob", "bob@example.com", "long enough pw", "viewer")
    assert store.role_of("bob") == "viewer"
    for args, match in (
        (("Bob", "B", "", "long enough pw", "viewer"), "exists already"),
        (("x", "X", "", "long enough pw", "viewer"), "2–32 characters"),
        (("carol", "C", "", "short", "viewer"), "10 characters"),
        (("dave", "D", "", "long enough pw", "owner"), "Unknown role"),
    ):
        with pytest.raises(UserError, match=match):
            store.add(*args)


def test_users_from_secrets_seed_the_database_once(tmp_path, db):
    secrets_ = {
        "auth": {
            "credentials": {
                "usernames": {
                    "ops": {
                        "name": "Ops",
                        "email": "",
                        "password": "$2b$12$abcdefghijklmnopqrstuv",
                        "roles": ["analyst"],
                    }
                }
            }
        }
    }
    store = users_of(tmp_path, db, secrets_)
    assert store.role_of("ops") == "analyst"
    store.add("new", "New", "", "long enough pw", "viewer")  # editable: they live in the db
    with db.write() as cur:
        cur.execute("DELETE FROM users WHERE username = 'ops'")
    # the secrets are not read again: a deleted user does not come back
    assert users_of(tmp_path, db, secrets_).role_of("ops") is None
    moved = db.query("SELECT source, users FROM user_sources")
    assert moved == [("secrets", 1)]


# -- passwords ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password",
    [
        "  leading spaces count",
        "trailing spaces count  ",
        " both ends ",
        "é" * 40,  # 80 bytes in UTF-8: over bcrypt's 72
        "correct horse battery staple " * 30,  # 870 characters
        "x" * 72,
        "x" * 73,
    ],
)
def test_a_password_signs_in_exactly_as_it_was_typed(tmp_path, db, password):
    store = users_of(tmp_path, db)
    store.add("pat", "Pat", "", password, "viewer")
    assert store.verify("pat", password) == "pat"
    assert (
        store.verify(" PAT ", password) == "pat"
    )  # the name is trimmed and folded, not the password
    assert store.verify("pat", password.strip()) in (
        None,
        "pat" if password == password.strip() else None,
    )
    assert store.verify("pat", password + "!") is None
    assert store.verify("pat", password[:-1]) is None  # every character counts, past 72 bytes too


def test_long_passphrases_differing_after_72_bytes_are_different(tmp_path, db):
    store = users_of(tmp_path, db)
    base = "a" * 72
    store.add("pat", "Pat", "", base + "one", "viewer")
    assert store.verify("pat", base + "one") == "pat"
    assert store.verify("pat", base + "two") is None
    assert store.verify("pat", base) is None


def test_setup_refuses_a_bad_password_before_using_up_the_token(tmp_path, db):
    store = users_of(tmp_path, db)
    token = SetupToken()
    value = token.value
    for bad, match in (("short", "at least 10"), ("p" * 1025, "at most 1024")):
        with pytest.raises(UserError, match=match):
            create_first_admin(store, token, value, "ada", "Ada", "", bad)
        assert token.value == value  # still usable
    with pytest.raises(UserError, match="2–32 characters"):
        create_first_admin(store, token, value, "A D A", "Ada", "", "long enough password")
    assert token.value == value
    long_one = "my passphrase is long " * 10  # 220 bytes: once crashed bcrypt here
    create_first_admin(store, token, value, "ada", "Ada", "", long_one)
    assert token.value is None and store.verify("ada", long_one) == "ada"


def test_unknown_users_and_broken_hashes_are_refused_without_error(tmp_path, db):
    store = users_of(tmp_path, db)
    store.add("pat", "Pat", "", "long enough pw", "viewer")
    with db.write() as cur:
        cur.execute(
            """INSERT INTO users (username, name, role, password_hash, created_at, updated_at)
               VALUES ('bad', 'Bad', 'viewer', 'not-a-bcrypt-hash', now(), now())"""
        )
    assert store.verify("nobody", "long enough pw") is None
    assert store.verify("bad", "not-a-bcrypt-hash") is None
    assert store.verify("pat", "x" * 5000) is None


def test_the_hash_command_makes_hashes_the_app_accepts():
    import subprocess
    import sys

    from lib.auth.passwords import check_password
    from tests.conftest import ROOT

    long_one = "a passphrase longer than bcrypt's seventy-two bytes, with spaces at the end  "
    run = subprocess.run(
        [sys.executable, "-m", "lib.auth.passwords"],
        input=f"{long_one}\n{long_one}\n", cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    hashed = run.stdout.strip().splitlines()[-1]
    assert hashed.startswith("$2b$")
    assert check_password(long_one, hashed) and not check_password(long_one.strip(), hashed)


def test_the_server_prints_the_setup_token_when_it_starts_without_users(tmp_path, db):
    """Importing app.py is what the server does at start (to find its ASGI app)."""
    import os
    import subprocess
    import sys

    from tests.conftest import COOKIE_KEY, ROOT

    env = {**os.environ, "TOKENBOARD_USERS": str(tmp_path / "none.yaml"),
           "TOKENBOARD_DB": str(tmp_path / "s.duckdb"), "TOKENBOARD_COOKIE_KEY": COOKIE_KEY}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", "import app; print(type(app.app).__name__)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    said = [line for line in lines if "one-time setup token" in line]
    assert len(said) == 1 and len(said[0].rsplit(": ", 1)[1]) >= 24
    assert lines[-1] == "App"
    assert not (tmp_path / "s.duckdb").exists()  # the page itself did not run


# -- refusals carry codes; pages word them ---------------------------------------------


def test_user_refusals_carry_a_code_and_their_values(tmp_path, db):
    store = users_of(tmp_path, db)
    token = SetupToken()

    def code_of(call) -> tuple[str, dict]:
        with pytest.raises(UserError) as info:
            call()
        return info.value.code, info.value.values

    first = create_first_admin
    v = token.value
    assert code_of(lambda: first(store, token, v, "A D A", "", "", "long enough")) == (
        "bad_username",
        {},
    )
    assert code_of(lambda: first(store, token, v, "ada", "", "", "short")) == (
        "password_too_short",
        {"n": 10},
    )
    assert code_of(lambda: first(store, token, v, "ada", "", "", "p" * 1025)) == (
        "password_too_long",
        {"n": 1024},
    )
    assert code_of(lambda: first(store, token, v, "ada", "", "", "ten chars\x00!")) == (
        "password_nul",
        {},
    )
    assert code_of(lambda: first(store, token, "guess", "ada", "", "", "long enough")) == (
        "bad_setup_token",
        {},
    )
    first(store, token, v, "ada", "Ada", "", "long enough")
    assert code_of(lambda: first(store, SetupToken(), "x", "bo", "", "", "long enough")) == (
        "admin_exists",
        {},
    )
    assert code_of(lambda: store.add("ada", "", "", "long enough", "viewer")) == (
        "user_exists",
        {"username": "ada"},
    )
    assert code_of(lambda: store.add("bo", "", "", "long enough", "boss")) == (
        "unknown_role",
        {"role": "boss", "roles": "admin, analyst, viewer"},
    )
    assert code_of(lambda: store.set_language("nobody", "fr")) == (
        "no_such_user",
        {"username": "nobody"},
    )
    assert code_of(lambda: store.add("bo", "Bo\nX", "", "long enough", "viewer")) == (
        "bad_name", {"n": 100})  # fmt: skip
    assert code_of(lambda: store.add("bo", "Bo", "not-an-address", "long enough", "viewer")) == (
        "bad_email", {})  # fmt: skip


def test_cookie_key_refusals_carry_a_code(monkeypatch):
    monkeypatch.delenv("TOKENBOARD_COOKIE_KEY", raising=False)
    for secrets_, code in (({}, "missing"), ({"auth": {"cookie_key": "some_key"}}, "public"),
                           ({"auth": {"cookie_key": "short-but-not-default"}}, "short")):  # fmt: skip
        with pytest.raises(AuthConfigError) as info:
            cookie_key(secrets_)
        assert info.value.code == code
        assert info.value.values["n"] == 32 and info.value.values["env"] == "TOKENBOARD_COOKIE_KEY"


def test_the_setup_form_says_its_refusals_in_french(app_env, tmp_path, monkeypatch):
    from tests.conftest import app_test, submit

    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    at = app_test()
    at.query_params["lang"] = "fr"
    at.run()
    for token, username, error in (
        ("guess", "boss", "Ce jeton d'installation n'est pas valable. Copiez-le depuis le journal"),
        ("guess", "B O S S", "Un nom d'utilisateur compte de 2 à 32 caractères"),
    ):  # fmt: skip
        submit(
            at,
            {
                "Jeton d'installation": token,
                "Nom d'utilisateur": username,
                "Mot de passe": "a long password",
                "Confirmer le mot de passe": "a long password",
            },
            "Créer l'administrateur",
        )
        assert at.error[0].value.startswith(error)


def test_a_refused_cookie_key_is_said_in_french(app_env, monkeypatch):
    from tests.conftest import app_test

    monkeypatch.setenv("TOKENBOARD_COOKIE_KEY", "some_key")
    at = app_test()
    at.query_params["lang"] = "fr"
    at.run()
    text = at.error[0].value
    assert text.startswith("La clé des cookies est publique")
    assert "`TOKENBOARD_COOKIE_KEY`" in text and "au moins 32 caractères" in text
    assert len(at.text_input) == 0
