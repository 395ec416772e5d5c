"""The users: bcrypt-hashed passwords, a role and a status per user, in the database.

Users live in the ``users`` table (a Streamlit Community Cloud disk does not keep files; a
``md:`` database does). Two older places are copied in ONCE per database, then never read:

- the YAML users file (``data/users.yaml``, or ``TOKENBOARD_USERS``) in
  streamlit-authenticator's format: the server log says which file was moved, and the audit
  log keeps a ``users_migrated`` entry (the file can then be deleted);
- the users under ``[auth.credentials.usernames.<name>]`` in the app's secrets: they seed
  the database the first time the app opens it (a new ``md:`` database is seeded again);
  later edits of that section are ignored; change users in the app or with
  ``python -m lib.cli users``.

There is no self-registration: the first admin is created with a one-time setup token that
the server prints to its log, and admins add or invite everyone else (``lib.auth.admin``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from lib.auth.passwords import PasswordCode, PasswordError, check_password, hash_password
from lib.auth.passwords import validate as validate_password
from lib.auth.roles import ROLES
from lib.config import PROJECT_ROOT, is_local_file, read_secrets, resolve_db_path
from lib.errors import StoreError, TokenboardError
from lib.store import Store
from lib.store.audit import audit
from lib.store.db import Cursor

DEFAULT_USERS_FILE = PROJECT_ROOT / "data" / "users.yaml"
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 100  # characters of a full name
MAX_EMAIL = 254  # characters of an e-mail address
# "deleted": a tombstone. A deleted user's row stays, emptied (no password, name, e-mail
# address or language), so the username is never given to someone else: support tickets,
# their attachments and the audit log name users by username.
Status = Literal["active", "disabled", "deleted"]
# A password hash no password matches: bcrypt hashes start with "$", these with "!".
# RESET_PENDING: an admin made a reset link (the old password stops at once); DELETED: a
# deleted user's tombstone.
RESET_PENDING = "!reset-link-pending"
DELETED_HASH = "!deleted"

log = logging.getLogger("tokenboard")


# Why a user cannot be created or changed (the password's own codes included):
# bad_username; unknown_role (values: role, roles); user_exists, no_such_user (username);
# admin_exists (no first admin to create); bad_setup_token; bad_name (n: the limit in
# characters); bad_email; last_admin (the last active admin cannot lose that);
# not_yourself (an admin cannot disable or delete their own account); wrong_password (the
# current password given is not the account's); password_unchanged (the new password is the
# old one); invitation_invalid (a link that is used, expired, withdrawn or unknown: one code
# for all); no_such_session; bad_days (values: min, max); password_too_short and
# password_too_long (n, in characters); password_nul; username_deleted (username: the name
# belonged to a deleted user and stays reserved); sign_in_again (the account changed since
# the user signed in to choose a new password: a new reset, disabled, deleted).
UserCode = (
    Literal[
        "bad_username", "unknown_role", "user_exists", "no_such_user", "admin_exists",
        "bad_setup_token", "bad_name", "bad_email", "last_admin", "not_yourself",
        "wrong_password", "password_unchanged", "invitation_invalid", "no_such_session",
        "bad_days", "username_deleted", "sign_in_again",
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
    """The old YAML users file, read once to move its users into the database."""
    return Path(os.environ.get("TOKENBOARD_USERS", str(DEFAULT_USERS_FILE)))


@dataclass(frozen=True)
class User:
    """One user as stored (never the password hash). Times are UTC."""

    username: str
    name: str
    email: str
    role: str
    status: Status = "active"
    must_change_password: bool = False
    language: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    last_sign_in: datetime | None = None
    unlocked_at: datetime | None = None
    # False while a reset link waits: no password signs in until the link is used
    password_set: bool = True

    @property
    def active(self) -> bool:
        return self.status == "active"


_COLUMNS = (
    "username, name, email, role, status, must_change_password, language, created_at, "
    "created_by, last_sign_in, unlocked_at, NOT starts_with(password_hash, '!')"
)


def _user(row: tuple[Any, ...]) -> User:
    return User(
        row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7], row[8], row[9],
        row[10], bool(row[11]),
    )  # fmt: skip


def usable(hashed: str | None) -> str | None:
    """``hashed`` when a password can match it, else ``None`` (none stored, a reset link
    pending, a deleted user)."""
    return hashed if hashed and not hashed.startswith("!") else None


def tag_of(password_hash: str, role: str) -> str:
    """The credential tag of a user's hash and role (see ``UserStore.credential_tag``)."""
    return hashlib.sha256(f"{password_hash}|{role}".encode()).hexdigest()[:24]


def deleted_message(username: str) -> UserError:
    return UserError(
        "username_deleted",
        f"The username {username} belonged to a deleted user; choose another.",
        username=username,
    )


def reserved(cur: Cursor, username: str) -> bool:
    """True when ``username`` belonged to a deleted user (a tombstone, or a deletion in the
    audit log from before tombstones were kept): it is never given to anyone else."""
    if cur.execute(
        "SELECT count(*) FROM users WHERE username = ? AND status = 'deleted'", [username]
    ).scalar():
        return True
    return bool(
        cur.execute(
            "SELECT count(*) FROM key_audit WHERE action = 'user_deleted' AND subject = ?",
            [username],
        ).scalar()
    )


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _from_secrets(secrets_: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    auth = secrets_.get("auth")
    if not isinstance(auth, dict):
        return None
    creds = auth.get("credentials")
    if isinstance(creds, dict) and isinstance(creds.get("usernames"), dict):
        return {k: dict(v) for k, v in creds["usernames"].items() if isinstance(v, dict)}
    return None


def _read_file(path: Path) -> dict[str, dict[str, Any]] | None:
    """The users of an old YAML users file, ``None`` when there is no such file."""
    from lib.auth.keys import AuthConfigError

    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError) as err:
        raise AuthConfigError(
            f"The user file {path} cannot be read: {err}",
            "users_file",
            path=str(path),
            error=str(err),
        ) from None
    creds = data.get("credentials") if isinstance(data, dict) else None
    users = (creds or {}).get("usernames") if isinstance(creds, dict) else None
    return {str(k): dict(v) for k, v in (users or {}).items() if isinstance(v, dict)}


def check_name(name: str) -> str:
    """A full name as stored (trimmed); raises ``UserError`` ``bad_name`` past ``MAX_NAME``
    characters or with control characters."""
    name = name.strip()
    if len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserError(
            "bad_name", f"A name has at most {MAX_NAME} characters, on one line.", n=MAX_NAME
        )
    return name


def check_email(email: str) -> str:
    """An e-mail address as stored (trimmed; empty allowed); raises ``UserError``
    ``bad_email`` unless it looks like ``name@domain.tld``."""
    email = email.strip()
    if email and (len(email) > MAX_EMAIL or not _EMAIL_RE.match(email)):
        raise UserError("bad_email", "An e-mail address looks like name@example.com.")
    return email


def check_username(username: str) -> str:
    """The username as stored (trimmed, lower case); raises ``UserError`` ``bad_username``."""
    username = username.strip().lower()
    if not _USERNAME_RE.match(username):
        raise UserError(
            "bad_username",
            "A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'.",
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(
            "unknown_role",
            f"Unknown role {role!r}; expected one of {', '.join(ROLES)}.",
            role=role,
            roles=", ".join(ROLES),
        )
    return role


def check_new_password(password: str) -> None:
    """Raise ``UserError`` with the password rule's code unless ``password`` passes it."""
    try:
        validate_password(password)
    except PasswordError as err:
        values = {} if err.n is None else {"n": err.n}
        raise UserError(err.code, str(err), **values) from None


class UserStore:
    """The users of one database. ``path`` is the old YAML users file and ``secrets_`` the
    app's secrets, each copied into the database once (see the module's docstring);
    ``store`` is the database (default: the configured one). ``rounds`` is the bcrypt cost
    of new hashes (tests use 4). Safe to share between threads."""

    def __init__(
        self,
        path: Path | None = None,
        secrets_: dict[str, Any] | None = None,
        *,
        store: Store | None = None,
        rounds: int = 12,
    ) -> None:
        self.path = path or users_file()
        self.store = store if store is not None else Store(resolve_db_path(None))
        self.rounds = rounds
        self.read_only = False  # kept for callers of the file era: users are always editable
        self._cost_cache: int | None = None
        self._lock = threading.Lock()
        self._move_in(read_secrets() if secrets_ is None else secrets_)

    # -- the once-migration -----------------------------------------------------------------
    def _move_in(self, secrets_: dict[str, Any]) -> None:
        done = {r[0] for r in self.store.query("SELECT source FROM user_sources")}
        if "file" not in done:
            found = _read_file(self.path)
            if found is not None:
                self._copy("file", str(self.path), found)
        if "secrets" not in done:
            kept = _from_secrets(secrets_)
            if kept:
                self._copy("secrets", "[auth.credentials]", kept)

    def _copy(self, source: str, location: str, found: dict[str, dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        moved: list[str] = []
        try:
            with self.store.write() as cur:
                if cur.execute(
                    "SELECT count(*) FROM user_sources WHERE source = ?", [source]
                ).scalar():
                    return  # another process moved them meanwhile
                for raw, d in sorted(found.items()):
                    name = raw.strip().lower()
                    if not _USERNAME_RE.match(name) or _exists(cur, name):
                        log.warning("User %r of %s not moved (bad or taken name).", raw, location)
                        continue
                    roles = d.get("roles") or []
                    role = next((r for r in ROLES if r in roles), None)
                    language = d.get("language")
                    cur.execute(
                        f"""INSERT INTO users ({_INSERT}) VALUES (?, ?, ?, ?, ?, ?, ?, false, ?,
                            NULL, ?)""",
                        [name, str(d.get("name") or name)[:MAX_NAME], str(d.get("email") or ""),
                         role or "viewer", language if isinstance(language, str) and language else None,
                         str(d.get("password") or ""), "active" if role else "disabled", now, now],
                    )  # fmt: skip
                    moved.append(name)
                cur.execute(
                    "INSERT INTO user_sources VALUES (?, ?, ?, ?)",
                    [source, location, len(moved), now],
                )
                audit(cur, now, None, "users_migrated", source,
                      {"from": location, "users": len(moved), "usernames": moved})  # fmt: skip
        except StoreError:
            if not self.store.scalar(
                "SELECT count(*) FROM user_sources WHERE source = ?", [source]
            ):
                raise
            return
        if source == "file":
            log.warning(
                "Tokenboard moved %d user(s) of %s into the database; that file is no longer "
                "read and can be deleted.",
                len(moved),
                location,
            )
        else:
            log.warning(
                "Tokenboard copied %d user(s) of the app's secrets ([auth.credentials]) into "
                "the database; later edits of that section are not read.",
                len(moved),
            )

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Nothing to do: every call reads the database (kept for callers of the file era)."""

    @property
    def empty(self) -> bool:
        return not self.store.scalar("SELECT count(*) FROM users")

    def users(self) -> list[User]:
        """Every user (active or disabled) by username; deleted users are not listed
        (``deleted`` names them)."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM users WHERE status <> 'deleted' ORDER BY username"
        )
        return [_user(r) for r in rows]

    def deleted(self) -> list[str]:
        """The usernames of deleted users (kept so nobody else gets them), by username."""
        rows = self.store.query(
            "SELECT username FROM users WHERE status = 'deleted' ORDER BY username"
        )
        return [str(r[0]) for r in rows]

    def get(self, username: str | None) -> User | None:
        """The user ``username`` (active or disabled); ``None`` for no such user or a
        deleted one."""
        if not username:
            return None
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM users WHERE username = ? AND status <> 'deleted'",
            [username],
        )
        return _user(rows[0]) if rows else None

    def is_reserved(self, username: str) -> bool:
        """True when ``username`` belonged to a deleted user (see ``reserved``)."""
        with self.store.read() as cur:
            return reserved(cur, username)

    def _hash(self, username: str) -> str | None:
        return self.store.scalar(
            "SELECT password_hash FROM users WHERE username = ? AND status <> 'deleted'",
            [username],
        )

    def verify(self, username: str, password: str) -> str | None:
        """The canonical username when ``password`` is this user's (active or disabled),
        else ``None``. No password matches while a reset link is pending nor for a deleted
        user. Takes as long for an unknown name, a pending reset or a deleted user (one
        bcrypt check against a dummy hash of the same cost) as for a wrong password."""
        name = username.strip().lower()[:200]
        hashed = usable(self._hash(name))
        return name if check_password(password, hashed, self._cost()) and hashed else None

    def _cost(self) -> int:
        """The bcrypt cost of the stored hashes, so an unknown name is checked as slowly."""
        if self._cost_cache is None:
            for (h,) in self.store.query("SELECT password_hash FROM users LIMIT 20"):
                parts = str(h or "").split("$")
                if len(parts) > 3 and parts[2].isdigit():
                    self._cost_cache = int(parts[2])
                    break
        return self._cost_cache or self.rounds

    def credential_tag(self, username: str) -> str | None:
        """A fingerprint of the user's password hash and role: it changes when either does,
        which ends the user's sessions. ``None`` when there is no such user or the account is
        disabled (its sessions end too)."""
        rows = self.store.query(
            "SELECT password_hash, role, status FROM users WHERE username = ?", [username]
        )
        if not rows or rows[0][2] != "active":
            return None
        return tag_of(rows[0][0], rows[0][1])

    def role_of(self, username: str | None) -> str | None:
        """The role of an active user; ``None`` for no such user or a disabled account."""
        user = self.get(username)
        return user.role if user and user.active and user.role in ROLES else None

    def language_of(self, username: str | None) -> str | None:
        """The language code the user chose ("en", "fr"), or ``None`` when they chose none."""
        user = self.get(username)
        return user.language if user and user.language else None

    def set_language(self, username: str, language: str) -> None:
        """Save the user's language (a code such as "fr"; the caller checks it is one the app
        has). Raises ``UserError`` for an unknown user."""
        with self.store.write() as cur:
            changed = cur.execute(
                """UPDATE users SET language = ?, updated_at = ?
                   WHERE username = ? AND status <> 'deleted'""",
                [language, datetime.now(UTC), username],
            ).scalar()
        if not changed:
            raise UserError(
                "no_such_user", f"The user {username} does not exist.", username=username
            )

    def signed_in(self, username: str, now: datetime) -> None:
        """Record a sign-in (the Users tab shows the last one); skipped while an import holds
        the database."""
        from lib.store.db import WriteBusyError

        try:
            with self.store.write(wait=False) as cur:
                cur.execute(
                    "UPDATE users SET last_sign_in = ? WHERE username = ?", [_utc(now), username]
                )
        except WriteBusyError:
            pass

    # -- writing ---------------------------------------------------------------------------
    def validate_new(self, username: str, password: str, role: str) -> str:
        """Check a new user before anything is changed or used up; returns the username as
        it will be stored. Raises ``UserError``."""
        username = check_username(username)
        check_role(role)
        check_new_password(password)
        if self.get(username) is not None:
            raise UserError(
                "user_exists", f"The user {username} exists already.", username=username
            )
        if self.is_reserved(username):
            raise deleted_message(username)
        return username

    def hash(self, password: str) -> str:
        return hash_password(password, self.rounds)

    def insert(
        self,
        cur: Cursor,
        username: str,
        name: str,
        email: str,
        password: str,
        role: str,
        now: datetime,
        *,
        created_by: str | None = None,
        must_change: bool = False,
    ) -> User:
        """Insert a checked new user in the caller's transaction (``validate_new`` first).
        Raises ``UserError`` ``username_deleted`` for a deleted user's name."""
        if reserved(cur, username):
            raise deleted_message(username)
        if _exists(cur, username):
            raise UserError(
                "user_exists", f"The user {username} exists already.", username=username
            )
        name = check_name(name) or username
        email = check_email(email)
        now = _utc(now)
        cur.execute(
            f"INSERT INTO users ({_INSERT}) VALUES (?, ?, ?, ?, NULL, ?, 'active', ?, ?, ?, ?)",
            [username, name, email, role, self.hash(password), must_change, now, created_by, now],
        )
        return User(username, name, email, role, "active", must_change, None, now, created_by)

    def add(
        self,
        username: str,
        name: str,
        email: str,
        password: str,
        role: str,
        *,
        actor: str | None = None,
        from_ip: str | None = None,
        must_change: bool = False,
        now: datetime | None = None,
    ) -> User:
        """Create a user, audited (``user_created``). Admins only: checked by the callers
        (``lib.auth.admin.create_user``, the first-admin setup)."""
        username = self.validate_new(username, password, role)
        check_name(name)
        check_email(email)
        now = _utc(now or datetime.now(UTC))
        with self.store.write() as cur:
            user = self.insert(cur, username, name, email, password, role, now,
                               created_by=actor, must_change=must_change)  # fmt: skip
            audit(cur, now, actor or username, "user_created", username,
                  {"role": role, "must_change_password": must_change}, from_ip)  # fmt: skip
        self._cost_cache = None
        return user


_INSERT = (
    "username, name, email, role, language, password_hash, status, must_change_password, "
    "created_at, created_by, updated_at"
)


def _exists(cur: Cursor, username: str) -> bool:
    return bool(cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]).scalar())


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
    """At server start: print the setup token when there are no users yet. A local database
    file that does not exist yet has none (unless the old users file or the secrets hold
    some, which move in at the first visit): it is not created here."""
    try:
        db = resolve_db_path(None)
        if is_local_file(db) and not os.path.exists(db):
            found = _read_file(path or users_file())
            if not found and not _from_secrets(read_secrets()):
                setup_token()
            return
        with Store(db) as store:
            if UserStore(path, store=store).empty:
                setup_token()
    except TokenboardError:
        pass  # the app says what is wrong at the first visit


def create_first_admin(
    store: UserStore,
    token: SetupToken,
    given_token: str,
    username: str,
    name: str,
    email: str,
    password: str,
    *,
    from_ip: str | None = None,
) -> User:
    """Create the first admin, only with the setup token and only while there are no users."""
    if not store.empty:
        raise UserError("admin_exists", "An admin exists already; ask them to add you.")
    store.validate_new(username, password, "admin")  # before the token is used up
    check_name(name)
    check_email(email)
    if not token.consume(given_token):
        raise UserError(
            "bad_setup_token", "That setup token is not valid. Copy it from the server log."
        )
    return store.add(username, name, email, password, "admin", from_ip=from_ip)
