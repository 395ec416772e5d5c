"""Where the app and the gateway meet on disk: the key snapshot (the app writes it, the
gateway reads it) and the gateway's journal folder (the gateway writes it, the app's worker
imports it).

Order for each: the setting (environment, else the app's secrets), then the state folder
(``lib.config.state_dir``: ``TOKENBOARD_STATE_DIR``, else beside a local database file, else the
project's ``data/`` folder for a ``md:`` or in-memory database).
"""

from __future__ import annotations

from pathlib import Path

from lib.config import setting, state_dir

SNAPSHOT_SETTING = "TOKENBOARD_KEYS_SNAPSHOT"
JOURNAL_SETTING = "TOKENBOARD_GATEWAY_JOURNAL"
SNAPSHOT_NAME = "tokenboard-keys.json"
JOURNAL_NAME = "gateway-journal"


def data_dir(db_path: str | None = None) -> Path:
    """The local folder of the files kept beside the database (``lib.config.state_dir``)."""
    return state_dir(db_path)


def snapshot_path(db_path: str | None = None) -> Path:
    """The key snapshot's file: ``TOKENBOARD_KEYS_SNAPSHOT``, else ``tokenboard-keys.json``
    in the state folder (beside a local database)."""
    explicit = setting(SNAPSHOT_SETTING)
    return Path(explicit) if explicit else data_dir(db_path) / SNAPSHOT_NAME


def journal_dir(db_path: str | None = None) -> Path:
    """The gateway's journal folder: ``TOKENBOARD_GATEWAY_JOURNAL``, else
    ``gateway-journal/`` in the state folder (beside a local database)."""
    explicit = setting(JOURNAL_SETTING)
    return Path(explicit) if explicit else data_dir(db_path) / JOURNAL_NAME
