"""The user list: bcrypt-hashed passwords and a role per user.

Users live in a YAML file (``data/users.yaml`` by default, git-ignored; ``TOKENBOARD_USERS``
moves it) in streamlit-authenticator's credentials format, or — read-only, for cloud
deployments — under ``[auth.credentials.usernames.<name>]`` in the app's secrets. There is
no self-registration: the first admin is created with a one-time setup token that the
server prints to its log, and admins add everyone else.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from lib.auth.keys import AuthConfigError
from lib.auth.passwords import PasswordCode, PasswordError, check_password, hash_password
from lib.auth.passwords import validate as validate_password
from lib.auth.roles import ROLES
from lib.config import PROJECT_ROOT, read_secrets
from lib.errors import TokenboardError

DEFAULT_USERS_FILE = PROJECT_ROOT / "data" / "users.yaml"
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


# Why a user cannot be created or changed (the password's own codes included):
# bad_username; unknown_role (values: role, roles); user_exists, no_such_user (username);
# users_in_secrets (users are read-only, kept in the app's secrets); admin_exists and
# admin_in_secrets (no first admin to create); bad_setup_token; password_too_short and
# password_too_long (n, in characters); password_nul.
UserCode = (
    Literal[
        "bad_username", "unknown_role", "user_exists", "no_such_user", "users_in_secrets",
        "admin_exists", "admin_in_secrets", "bad_setup_token",
    ]
    | PasswordCode
)  # fmt: skip


class UserError(TokenboardError):
    """A user cannot be created or changed as asked. ``str(err)`` is the English sentence
    (for the command line and logs); ``code`` (a ``UserCode``) and ``values`` are what a page
    words in its language."""

    def __init__(self, code: UserCode, message: str, **values: str | int) -> None:
        super().__init__(message)
        self.code: UserCode = code
        self.values = values


def users_file() -> Path:
    return Path(os.environ.get("TOKENBOARD_USERS", str(DEFAULT_USERS_FILE)))


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    role: str


def _from_secrets(secrets_: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    auth = secrets_.get("auth")
    if not isinstance(auth, dict):
        return None
    creds = auth.get("credentials")
    if isinstance(creds, dict) and isinstance(creds.get("usernames"), dict):
        return {k: dict(v) for k, v in creds["usernames"].items()}
    return None


class UserStore:
    """Credentials in streamlit-authenticator's format, with Tokenboard's roles.

    ``credentials`` is the dict handed to the login widget; keep one ``UserStore`` per
    process so failed-login counters are shared by every session.
    """

    def __init__(self, path: Path | None = None, secrets_: dict[str, Any] | None = None) -> None:
        self.path = path or users_file()
        secrets_ = read_secrets() if secrets_ is None else secrets_
        from_secrets = _from_secrets(secrets_)
        self.read_only = from_secrets is not None
        self._lock = threading.Lock()
        self._mtime = self._file_mtime()
        users = from_secrets if from_secrets is not None else self._load_file()
        self.credentials: dict[str, Any] = {"usernames": users}

    def _file_mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def refresh(self) -> None:
        """Read the users file again when it changed on disk (an admin edited it, or another
        process added a user): a deleted user or a changed password takes effect at once."""
        if self.read_only:
            return
        with self._lock:
            mtime = self._file_mtime()
            if mtime != self._mtime:
                self.credentials["usernames"] = self._load_file()
                self._mtime = mtime

    def _load_file(self) -> dict[str, dict[str, Any]]:
        try:
            with self.path.open(encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except FileNotFoundError:
            return {}
        except (OSError, yaml.YAMLError) as err:
            raise AuthConfigError(
                f"The user file {self.path} cannot be read: {err}",
                "users_file",
                path=str(self.path),
                error=str(err),
            ) from None
        users = (data.get("credentials") or {}).get("usernames") or {}
        return {k: dict(v) for k, v in users.items()}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        clean = {
            u: {
                k: v
                for k, v in d.items()
                if k in ("name", "email", "password", "roles", "language")
            }
            for u, d in self.credentials["usernames"].items()
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump({"credentials": {"usernames": clean}}, fh, allow_unicode=True)
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        self._mtime = self._file_mtime()

    @property
    def empty(self) -> bool:
        return not self.credentials["usernames"]

    def users(self) -> list[User]:
        """Every user by username; ``role`` is "" for one whose roles name none Tokenboard
        knows (such a user may not sign in)."""
        return [
            User(u, d.get("name", u), d.get("email", ""), self.role_of(u) or "")
            for u, d in sorted(self.credentials["usernames"].items())
        ]

    def verify(self, username: str, password: str) -> str | None:
        """The canonical username when ``password`` is this user's, else ``None``. Takes as
        long for an unknown name as for a wrong password."""
        name = username.strip().lower()
        d = self.credentials["usernames"].get(name)
        hashed = d.get("password") if d else None
        return name if check_password(password, hashed, self._cost()) and d else None

    def _cost(self) -> int:
        """The bcrypt cost of the stored hashes, so an unknown name is checked as slowly."""
        for d in self.credentials["usernames"].values():
            parts = str(d.get("password") or "").split("$")
            if len(parts) > 3 and parts[2].isdigit():
                return int(parts[2])
        return 12

    def credential_tag(self, username: str) -> str | None:
        """A fingerprint of the user's password hash and role: it changes when either does,
        which ends the user's sessions. ``None`` when there is no such user."""
        d = self.credentials["usernames"].get(username)
        if not d:
            return None
        text = f"{d.get('password')}|{self.role_of(username)}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def role_of(self, username: str | None) -> str | None:
        d = self.credentials["usernames"].get(username or "")
        if not d:
            return None
        roles = d.get("roles") or []
        return next((r for r in ROLES if r in roles), None)

    def validate_new(self, username: str, password: str, role: str) -> str:
        """Check a new user before anything is changed or used up; returns the username as
        it will be stored. Raises ``UserError``."""
        username = username.strip().lower()
        if not _USERNAME_RE.match(username):
            raise UserError(
                "bad_username",
                "A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'.",
            )
        if role not in ROLES:
            raise UserError(
                "unknown_role",
                f"Unknown role {role!r}; expected one of {', '.join(ROLES)}.",
                role=role,
                roles=", ".join(ROLES),
            )
        try:
            validate_password(password)
        except PasswordError as err:
            values = {} if err.n is None else {"n": err.n}
            raise UserError(err.code, str(err), **values) from None
        if username in self.credentials["usernames"]:
            raise UserError(
                "user_exists", f"The user {username} exists already.", username=username
            )
        return username

    def add(self, username: str, name: str, email: str, password: str, role: str) -> User:
        """Create a user (admins only, checked by the caller)."""
        if self.read_only:
            raise UserError(
                "users_in_secrets", "Users come from the app's secrets here; edit them there."
            )
        self.refresh()  # never overwrite users added elsewhere
        username = self.validate_new(username, password, role)
        with self._lock:
            if username in self.credentials["usernames"]:
                raise UserError(
                    "user_exists", f"The user {username} exists already.", username=username
                )
            self.credentials["usernames"][username] = {
                "name": name.strip() or username,
                "email": email.strip(),
                "password": hash_password(password),
                "roles": [role],
            }
            self._save()
        return User(username, name, email, role)

    def language_of(self, username: str | None) -> str | None:
        """The language code the user chose ("en", "fr"), or ``None`` when they chose none."""
        d = self.credentials["usernames"].get(username or "")
        value = d.get("language") if d else None
        return value if isinstance(value, str) and value else None

    def set_language(self, username: str, language: str) -> None:
        """Save the user's language (a code such as "fr"; the caller checks it is one the app
        has). Raises ``UserError`` for users kept in the secrets or an unknown user."""
        if self.read_only:
            raise UserError(
                "users_in_secrets", "Users come from the app's secrets here; edit them there."
            )
        self.refresh()  # never overwrite users added elsewhere
        with self._lock:
            d = self.credentials["usernames"].get(username)
            if d is None:
                raise UserError(
                    "no_such_user", f"The user {username} does not exist.", username=username
                )
            if d.get("language") != language:
                d["language"] = language
                self._save()


class SetupToken:
    """A one-time token that lets whoever reads the server log create the first admin."""

    def __init__(self) -> None:
        self._token: str | None = secrets.token_urlsafe(24)
        self._lock = threading.Lock()

    @property
    def value(self) -> str | None:
        return self._token

    def consume(self, given: str) -> bool:
        """True once, for the right token; afterwards the token is gone."""
        with self._lock:
            if self._token is None or not secrets.compare_digest(given.strip(), self._token):
                return False
            self._token = None
            return True


_SETUP: list[SetupToken] = []
_SETUP_LOCK = threading.Lock()


def setup_token() -> SetupToken:
    """The process's one setup token, printed to the server log when it is made."""
    with _SETUP_LOCK:
        if not _SETUP:
            token = SetupToken()
            message = (
                "Tokenboard has no users yet. To create the first admin, open the app and "
                f"enter this one-time setup token: {token.value}"
            )
            print(message, flush=True)  # the server log (the terminal or the host's log viewer)
            _SETUP.append(token)
        return _SETUP[0]


def announce_setup_token(path: Path | None = None) -> None:
    """At server start: print the setup token when there are no users yet."""
    try:
        if UserStore(path).empty:
            setup_token()
    except TokenboardError:
        pass  # the app says what is wrong with the users file at the first visit


def create_first_admin(
    store: UserStore,
    token: SetupToken,
    given_token: str,
    username: str,
    name: str,
    email: str,
    password: str,
) -> User:
    """Create the first admin, only with the setup token and only while there are no users."""
    if not store.empty:
        raise UserError("admin_exists", "An admin exists already; ask them to add you.")
    if store.read_only:
        raise UserError(
            "admin_in_secrets", "Users come from the app's secrets here; add the admin there."
        )
    store.validate_new(username, password, "admin")  # before the token is used up
    if not token.consume(given_token):
        raise UserError(
            "bad_setup_token", "That setup token is not valid. Copy it from the server log."
        )
    return store.add(username, name, email, password, "admin")
