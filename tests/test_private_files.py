"""The database file and its write-ahead log are readable by their owner only."""

from __future__ import annotations

import os
import stat

from lib.ingest import import_file
from lib.store import Store
from tests.conftest import fixture


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_database_is_private(tmp_path):
    old = os.umask(0o022)
    try:
        db = str(tmp_path / "new" / "t.duckdb")
        with Store(db) as s:
            assert mode(db) == 0o600
            assert mode(os.path.dirname(db)) == 0o700
            s._con.execute("SET checkpoint_threshold = '1TB'")
            import_file(s, fixture("litellm_spend_logs.csv"))
            assert os.path.exists(db + ".wal") and mode(db + ".wal") == 0o600
        assert mode(db) == 0o600
        assert sorted(os.listdir(os.path.dirname(db))) == ["t.duckdb"]
    finally:
        os.umask(old)


def test_an_existing_open_database_is_made_private(tmp_path):
    db = str(tmp_path / "old.duckdb")
    Store(db).close()
    os.chmod(db, 0o644)
    with Store(db):
        assert mode(db) == 0o600
