"""Where the app and the gateway meet on disk: the key snapshot (the app writes it, the
gateway reads it) and the gateway's journal folder (the gateway writes it, the app's worker
imports it).

Order for each: the setting (environment, else the app's secrets), then beside the database
file (``TOKENBOARD_DB``, as ``lib.config.resolve_db_path`` finds it), then the project's
``data/`` folder when the database is not a local file (``md:``, ``:memory:``).
"""

from __future__ import annotations

import os
from pathlib import Path

from lib.config import PROJECT_ROOT, resolve_db_path, setting

SNAPSHOT_SETTING = "TOKENBOARD_KEYS_SNAPSHOT"
JOURNAL_SETTING = "TOKENBOARD_GATEWAY_JOURNAL"
SNAPSHOT_NAME = "tokenboard-keys.json"
JOURNAL_NAME = "gateway-journal"


def data_dir(db_path: str | None = None) -> Path:
    """The folder of the database file (``db_path``, else the resolved one); the project's
    ``data/`` folder when the database is not a local file."""
    path = resolve_db_path(db_path)
    if path == ":memory:" or path.startswith("md:") or path.startswith("motherduck:"):
        return PROJECT_ROOT / "data"
    return Path(os.path.dirname(os.path.abspath(path.split("?", 1)[0])))


def snapshot_path(db_path: str | None = None) -> Path:
    """The key snapshot's file: ``TOKENBOARD_KEYS_SNAPSHOT``, else ``tokenboard-keys.json``
    beside the database."""
    explicit = setting(SNAPSHOT_SETTING)
    return Path(explicit) if explicit else data_dir(db_path) / SNAPSHOT_NAME


def journal_dir(db_path: str | None = None) -> Path:
    """The gateway's journal folder: ``TOKENBOARD_GATEWAY_JOURNAL``, else
    ``gateway-journal/`` beside the database."""
    explicit = setting(JOURNAL_SETTING)
    return Path(explicit) if explicit else data_dir(db_path) / JOURNAL_NAME
