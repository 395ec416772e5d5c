"""Password rules, hashing and checking: the password is used exactly as typed (spaces
included) both when it is hashed and when it is checked.

bcrypt reads at most 72 bytes; a longer passphrase is first reduced to the base64 of its
SHA-256 (44 bytes), the same way when hashing and checking, so every character counts and
nothing crashes. Hashes are standard bcrypt (``$2b$…``), as streamlit-authenticator writes.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

import bcrypt

from lib.errors import TokenboardError

MIN_LENGTH = 10  # characters
MAX_LENGTH = 1024  # characters: a passphrase, not a file
_BCRYPT_LIMIT = 72  # bytes
_DUMMIES: dict[int, bytes] = {}


def _dummy(cost: int) -> bytes:
    """A hash to check against when the user does not exist, at the stored hashes' cost, so
    a wrong name takes as long as a wrong password."""
    cost = min(max(cost, 4), 16)
    if cost not in _DUMMIES:
        _DUMMIES[cost] = bcrypt.hashpw(b"tokenboard-no-such-user", bcrypt.gensalt(rounds=cost))
    return _DUMMIES[cost]


PasswordCode = Literal["password_too_short", "password_too_long", "password_nul"]


class PasswordError(TokenboardError):
    """A new password does not meet the rules; the message says which in English, ``code``
    (a ``PasswordCode``) and ``n`` (the limit in characters, when there is one) say it for a
    page to word."""

    def __init__(self, code: PasswordCode, message: str, n: int | None = None) -> None:
        super().__init__(message)
        self.code: PasswordCode = code
        self.n = n


def validate(password: str) -> None:
    """Raise ``PasswordError`` unless ``password`` is ``MIN_LENGTH``–``MAX_LENGTH`` characters.
    Leading and trailing spaces are kept and count."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(
            "password_too_short", f"A password needs at least {MIN_LENGTH} characters.", MIN_LENGTH
        )
    if len(password) > MAX_LENGTH:
        raise PasswordError(
            "password_too_long", f"A password can have at most {MAX_LENGTH} characters.", MAX_LENGTH
        )
    if "\x00" in password:
        raise PasswordError("password_nul", "A password cannot contain a NUL character.")


def _material(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) <= _BCRYPT_LIMIT:
        return raw
    return base64.b64encode(hashlib.sha256(raw).digest())


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash of ``password`` (validate it first)."""
    return bcrypt.hashpw(_material(password), bcrypt.gensalt(rounds=rounds)).decode()


def check_password(password: str, hashed: str | None, cost: int = 12) -> bool:
    """True when ``password`` matches ``hashed``. A missing or malformed hash is checked
    against a dummy of bcrypt cost ``cost`` so the answer takes as long as for a real user."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        if hashed:
            return bcrypt.checkpw(_material(password), hashed.encode())
    except ValueError:
        pass
    bcrypt.checkpw(_material(password), _dummy(cost))
    return False


def main() -> int:
    """``python -m lib.auth.passwords``: ask for a password twice and print its hash, made
    the way the app checks it (for users kept in the app's secrets)."""
    import getpass
    import sys

    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        print("The two passwords differ.", file=sys.stderr)
        return 1
    try:
        validate(first)
    except PasswordError as err:
        print(err, file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
