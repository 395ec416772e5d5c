"""The key that signs login cookies, and the rules a key must pass.

Anyone who knows the key can sign a cookie, so a key is refused when it is:

- missing;
- public: written anywhere in the project's files (the secrets example, the README, the
  tests…) or in the files of the login library (its examples and defaults), or one of the
  well-known placeholders;
- short: fewer than ``MIN_KEY_LENGTH`` characters;
- weak: fewer than ``MIN_DISTINCT`` different characters, under ``MIN_BITS`` bits by its
  character statistics, a repeated block (``abcabcabc…``) or a run (``abcdef…``, ``123456…``).

``python -m lib.auth.keys [SECRETS_FILE]`` (run by ``scripts/start.sh``) writes a random key
into the secrets file when it has none or a refused one, and says so.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from lib.config import PROJECT_ROOT, SECRETS_FILE, read_secrets
from lib.errors import TokenboardError

MIN_KEY_LENGTH = 32
MIN_DISTINCT = 10
MIN_BITS = 128.0
ENV_NAME = "TOKENBOARD_COOKIE_KEY"
# Placeholders from streamlit-authenticator's documentation and other common examples.
KNOWN_DEFAULT_KEYS = frozenset(
    {"some_key", "some_signature_key", "abcdef", "random_signature_key", "key", "secret",
     "changeme", "change-me", "replace-me", "your-secret-key"}
)  # fmt: skip
Refusal = Literal["missing", "public", "short", "weak"]

# Files that can hold a key someone published; the real secrets file never counts.
_TEXT_SUFFIXES = {".py", ".toml", ".example", ".md", ".sh", ".yaml", ".yml", ".txt", ".json",
                  ".cfg", ".ini", ".env", ".js", ".html"}  # fmt: skip
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "data", "test-artifacts",
              ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis"}  # fmt: skip
_MAX_FILE_BYTES = 2 * 1024 * 1024


# Why the login cannot be set up: the cookie key's refusal, or the users file unreadable
# (values: path, error).
ConfigCode = Refusal | Literal["users_file"]


class AuthConfigError(TokenboardError):
    """The login cannot be set up safely (no cookie key, a public or weak key, ...).
    ``str(err)`` is the English sentence (command line, logs); ``code`` (a ``ConfigCode``,
    None when unknown) and ``values`` are what a page words in its language."""

    def __init__(self, message: str, code: ConfigCode | None = None, **values: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


def _text_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            if name == "secrets.toml" and path.parent.name == ".streamlit":
                continue
            if path.suffix in _TEXT_SUFFIXES or name in ("Dockerfile", "Makefile"):
                yield path


def _library_root() -> Path | None:
    """The login library's folder, found without importing it (it imports streamlit)."""
    spec = importlib.util.find_spec("streamlit_authenticator")
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency
        return None
    return Path(spec.origin).resolve().parent


@lru_cache(maxsize=1)
def public_text() -> str:
    """Every text the project and the login library ship, joined: a key found in it is
    public. Read once per process (about a second on the full tree)."""
    parts: list[str] = []
    roots = [PROJECT_ROOT] + [r for r in (_library_root(),) if r is not None]
    for root in roots:
        for path in _text_files(root):
            try:
                if path.stat().st_size <= _MAX_FILE_BYTES:
                    parts.append(path.read_text(encoding="utf-8", errors="ignore"))
            except OSError:
                continue
    return "\n".join(parts)


def strength_bits(key: str) -> float:
    """The key's length times the Shannon entropy of its characters, in bits: a cheap upper
    bound on how hard it is to guess (48 random url-safe bytes give about 330)."""
    if not key:
        return 0.0
    n = len(key)
    return n * -sum(c / n * math.log2(c / n) for c in Counter(key).values())


def _repeats(key: str) -> bool:
    """True for a key that is one block repeated (``abcabcabc…``)."""
    n = len(key)
    return any(key == (key[:p] * (n // p + 1))[:n] for p in range(1, n // 2 + 1))


def _is_run(key: str) -> bool:
    """True when most neighbours step by the same amount (``abcdef…``, ``13579…``)."""
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(key)]
    same = sum(1 for a, b in itertools.pairwise(steps) if a == b)
    return len(steps) > 1 and same >= 0.5 * (len(steps) - 1)


@lru_cache(maxsize=16)
def refusal(key: str) -> Refusal | None:
    """Why ``key`` may not sign cookies, or ``None`` when it may (remembered per key: the
    check runs on every page run)."""
    if not key or not key.strip():
        return "missing"
    if key.lower() in KNOWN_DEFAULT_KEYS:
        return "public"
    if len(key) < MIN_KEY_LENGTH:
        return "short"
    if (
        len(set(key)) < MIN_DISTINCT
        or strength_bits(key) < MIN_BITS
        or _repeats(key)
        or _is_run(key)
    ):
        return "weak"
    if key in public_text():
        return "public"
    return None


KEY_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # prints a key
_ADVICE = (
    f"Set {ENV_NAME} (or [auth] cookie_key in .streamlit/secrets.toml) to a random string of at "
    f"least {MIN_KEY_LENGTH} characters (scripts/start.sh writes one), e.g. the output of: "
    + KEY_COMMAND
)
_WHY = {
    "missing": "No cookie key is set.",
    "public": "The cookie key is public: it is written in the project's files or in the login "
    "library's examples, so anyone could sign a login cookie with it.",
    "short": f"The cookie key is too short: it needs at least {MIN_KEY_LENGTH} characters.",
    "weak": "The cookie key is too easy to guess (too few different characters, a repeated "
    "block or a run).",
}


def configured_key(secrets_: dict[str, Any] | None = None) -> tuple[str, str]:
    """The configured key and where it comes from (``env`` or ``secrets``); ``""`` if none."""
    env = os.environ.get(ENV_NAME)
    if env:
        return env, "env"
    secrets_ = read_secrets() if secrets_ is None else secrets_
    auth = secrets_.get("auth")
    return str((auth if isinstance(auth, dict) else {}).get("cookie_key") or ""), "secrets"


def cookie_key(secrets_: dict[str, Any] | None = None) -> str:
    """The key that signs login cookies: ``TOKENBOARD_COOKIE_KEY`` or ``[auth] cookie_key`` in
    the secrets. Raises ``AuthConfigError`` for a missing, public, short or weak key."""
    key, _ = configured_key(secrets_)
    why = refusal(key)
    if why is not None:
        raise AuthConfigError(
            f"{_WHY[why]} {_ADVICE}", why, env=ENV_NAME, n=MIN_KEY_LENGTH, command=KEY_COMMAND
        )
    return key


_KEY_LINE = re.compile(r"^\s*cookie_key\s*=.*$", re.M)
_AUTH_HEADER = re.compile(r"^\s*\[auth\]\s*$", re.M)


def ensure_cookie_key(path: Path = SECRETS_FILE) -> str | None:
    """Make sure the secrets file holds a usable key: write a random one when it has none or
    a refused one (other lines kept). Returns a sentence saying what was done, or ``None``
    when the key was fine. A refused key in the environment cannot be replaced from here:
    raises ``AuthConfigError``."""
    env = os.environ.get(ENV_NAME)
    if env:
        why = refusal(env)
        if why is not None:
            raise AuthConfigError(f"{ENV_NAME}: {_WHY[why]} Unset it or replace it. {_ADVICE}")
        return None
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    key, _ = configured_key(read_secrets(path))
    why = refusal(key)
    if why is None:
        return None
    line = f'cookie_key = "{secrets.token_urlsafe(48)}"'
    if _KEY_LINE.search(text):
        text = _KEY_LINE.sub(lambda _m: line, text, count=1)
    elif _AUTH_HEADER.search(text):
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(0)}\n{line}", text, count=1)
    else:
        text = f"{text.rstrip()}\n\n[auth]\n{line}\n".lstrip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    if why == "missing":
        return f"Created a random cookie key in {path.name}."
    return f"Replaced the cookie key in {path.name} with a random one: {_WHY[why]}"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else SECRETS_FILE
    try:
        said = ensure_cookie_key(path)
    except AuthConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    if said:
        print(said)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
