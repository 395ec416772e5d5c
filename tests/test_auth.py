"""Users, roles and the setup token (the login widget itself is tested through AppTest)."""

from __future__ import annotations

import bcrypt
import pytest
import yaml

from lib.auth.roles import PermissionDeniedError, can, require
from lib.auth.users import (
    AuthConfigError,
    SetupToken,
    UserError,
    UserStore,
    cookie_key,
    create_first_admin,
)

GOOD_KEY = "k" * 40


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
    with pytest.raises(AuthConfigError, match="well-known default"):
        cookie_key({"auth": {"cookie_key": "some_key"}})
    with pytest.raises(AuthConfigError, match="at least 32"):
        cookie_key({"auth": {"cookie_key": "short-but-not-default"}})
    assert cookie_key({"auth": {"cookie_key": GOOD_KEY}}) == GOOD_KEY
    monkeypatch.setenv("TOKENBOARD_COOKIE_KEY", "e" * 48)
    assert cookie_key({"auth": {"cookie_key": GOOD_KEY}}) == "e" * 48


def test_first_admin_needs_the_one_time_token(tmp_path):
    store = UserStore(tmp_path / "users.yaml", secrets_={})
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
    # stored hashed, never in clear
    text = (tmp_path / "users.yaml").read_text()
    assert "correct horse battery" not in text
    stored = yaml.safe_load(text)["credentials"]["usernames"]["ada"]
    assert bcrypt.checkpw(b"correct horse battery", stored["password"].encode())
    assert stored["roles"] == ["admin"]
    # and read back by a new store
    again = UserStore(tmp_path / "users.yaml", secrets_={})
    assert again.role_of("ada") == "admin"


def test_adding_users_validates_input(tmp_path):
    store = UserStore(tmp_path / "users.yaml", secrets_={})
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


def test_users_from_secrets_are_read_only(tmp_path):
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
    store = UserStore(tmp_path / "users.yaml", secrets_=secrets_)
    assert store.read_only and store.role_of("ops") == "analyst"
    with pytest.raises(UserError, match="secrets"):
        store.add("new", "New", "", "long enough pw", "viewer")
