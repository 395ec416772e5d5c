"""Where the database lives.

Order: an explicit path (``--db``), then the ``TOKENBOARD_DB`` environment variable, then
``TOKENBOARD_DB`` in ``.streamlit/secrets.toml``, then ``data/tokenboard.duckdb`` in the
project folder. Any DuckDB path is used as given, including ``md:`` MotherDuck databases.

Files kept beside the database (the gateway's key snapshot and journal folder, backups made
from the Data page) go to ``state_dir``: ``TOKENBOARD_STATE_DIR`` when set, else the folder of a
local database file, else the project's ``data/`` folder (a ``md:`` or in-memory database has
no folder of its own).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "tokenboard.duckdb"
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
STATE_DIR_SETTING = "TOKENBOARD_STATE_DIR"
DEFAULT_STATE_DIR = PROJECT_ROOT / "data"
_REMOTE_PREFIXES = ("md:", "motherduck:")


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


def is_motherduck(path: str) -> bool:
    """True for a MotherDuck database name (``md:…`` or ``motherduck:…``)."""
    return path.startswith(_REMOTE_PREFIXES)


def is_memory(path: str) -> bool:
    """True for an in-memory DuckDB database (``:memory:``, ``:memory:name`` or ``""``)."""
    return path == "" or path.startswith(":memory:")


def is_local_file(path: str) -> bool:
    """True when ``path`` names a database file on this machine (what file locks, file sizes,
    ``chmod`` and files "beside the database" mean something for); False for MotherDuck and
    in-memory databases."""
    return not (is_memory(path) or is_motherduck(path))


def state_dir(db_path: str | None = None) -> Path:
    """The local folder for the files kept beside the database: ``TOKENBOARD_STATE_DIR``
    (environment, else secrets) when set; else the folder of a local database file
    (``db_path``, else the resolved one); else the project's ``data/`` folder. Never made here
    (the writer makes it); never holds the database location's query string."""
    explicit = setting(STATE_DIR_SETTING)
    if explicit:
        return Path(explicit).expanduser()
    path = resolve_db_path(db_path)
    if not is_local_file(path):
        return DEFAULT_STATE_DIR
    return Path(os.path.dirname(os.path.abspath(path)))
