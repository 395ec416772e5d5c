"""Where the database lives.

Order: an explicit path (``--db``), then the ``TOKENBOARD_DB`` environment variable, then
``TOKENBOARD_DB`` in ``.streamlit/secrets.toml``, then ``data/tokenboard.duckdb`` in the
project folder. Any DuckDB path is used as given, including ``md:`` MotherDuck databases.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "tokenboard.duckdb"
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


def read_secrets(path: Path = SECRETS_FILE) -> dict[str, object]:
    """The app's secrets file as a dict; empty when absent or unreadable."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def resolve_db_path(explicit: str | None = None) -> str:
    """The database location to open (a file path, ``:memory:`` or ``md:…``)."""
    if explicit:
        return explicit
    env = os.environ.get("TOKENBOARD_DB")
    if env:
        return env
    secret = read_secrets().get("TOKENBOARD_DB")
    if isinstance(secret, str) and secret:
        return secret
    return str(DEFAULT_DB)


def setting(name: str) -> str | None:
    """A setting from the environment, else from the app's secrets (top level); None if unset."""
    value = os.environ.get(name)
    if value:
        return value
    secret = read_secrets().get(name)
    return secret if isinstance(secret, str) and secret else None
