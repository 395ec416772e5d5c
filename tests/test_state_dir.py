"""Nothing assumes the database is a local file: where the files kept beside the database go
(``lib.config.state_dir``) for a local file, a ``md:`` name and ``:memory:``; an in-memory
database runs a whole worker round (the gateway's journal imported, an alert opened, the key
snapshot written) with its files in the state folder and nothing made beside a path that does
not exist; two in-memory stores of one process get a worker each; DuckDB's write-write
conflict between two connections of one database (what two app processes on one ``md:``
database meet) is a plain ``WriteConflictError``."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.alerts import incidents, rules
from lib.auth import unlocks
from lib.config import DEFAULT_STATE_DIR, is_local_file, state_dir
from lib.keys import store as keys
from lib.keys.paths import journal_dir, snapshot_path
from lib.keys.restrictions import Restrictions
from lib.keys.snapshot import read_snapshot
from lib.store import Store
from lib.store.db import WriteConflictError, scrub
from lib.store.facts import facts, kind_of
from lib.worker import Worker, start_worker, stop_all
from tests.test_journal_import import T0, event, lines

TOKEN = "tok_0123456789abcdef"  # a made-up MotherDuck token


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKENBOARD_STATE_DIR", "TOKENBOARD_KEYS_SNAPSHOT", "TOKENBOARD_GATEWAY_JOURNAL",
                 "TOKENBOARD_DB"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


# -- the decisions ----------------------------------------------------------------------------
def test_what_is_a_local_file() -> None:
    assert [is_local_file(p) for p in ("data/t.duckdb", "/srv/t.duckdb", "t.duckdb")] == [True] * 3
    names = (":memory:", ":memory:scratch", "", "md:", "md:team", f"md:team?motherduck_token={TOKEN}",
             "motherduck:team")  # fmt: skip
    assert [is_local_file(p) for p in names] == [False] * len(names)
    assert [kind_of(p) for p in (":memory:scratch", "motherduck:team", "x.duckdb")] == [
        "memory", "motherduck", "file",
    ]  # fmt: skip


def test_where_the_files_beside_the_database_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "db" / "t.duckdb"
    assert state_dir(str(local)) == tmp_path / "db"  # beside a local file, as before
    assert state_dir(f"md:team?motherduck_token={TOKEN}") == DEFAULT_STATE_DIR  # data/
    assert state_dir(":memory:") == DEFAULT_STATE_DIR
    assert unlocks.request_path(f"md:team?motherduck_token={TOKEN}") is None  # written directly
    assert unlocks.request_path(":memory:") is None
    assert unlocks.request_path(str(local)) == tmp_path / "db" / "tokenboard-unlock.json"
    # the setting wins, for every kind of database
    monkeypatch.setenv("TOKENBOARD_STATE_DIR", str(tmp_path / "state"))
    for db in (str(local), f"md:team?motherduck_token={TOKEN}", ":memory:"):
        assert state_dir(db) == tmp_path / "state"
        assert snapshot_path(db) == tmp_path / "state" / "tokenboard-keys.json"
        assert journal_dir(db) == tmp_path / "state" / "gateway-journal"
        assert TOKEN not in str(snapshot_path(db))
    # the gateway's own settings still come first
    monkeypatch.setenv("TOKENBOARD_GATEWAY_JOURNAL", str(tmp_path / "j"))
    assert journal_dir("md:team") == tmp_path / "j"


def test_an_in_memory_name_makes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``:memory:scratch`` is an in-memory database: before, it was taken for a file name and
    an empty file ``:memory:scratch`` was made in the working folder."""
    monkeypatch.chdir(tmp_path)
    with Store(":memory:scratch") as s:
        f = facts(s, with_imports=False)
        assert (f.kind, f.file_bytes, f.wal_bytes, f.total_bytes) == ("memory", None, None, None)
        with s.write() as cur:  # a write: no chmod on a ".wal" beside it either
            cur.execute("INSERT INTO settings VALUES ('k', 'v')")
    assert os.listdir(tmp_path) == []


def test_a_token_never_in_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    assert scrub(f"md:team?motherduck_token={TOKEN}&x=1") == "md:team?motherduck_token=***&x=1"
    assert scrub(f"Invalid token: {TOKEN}") == "Invalid token: ***"
    monkeypatch.setenv("motherduck_token", TOKEN)
    assert scrub(f"the server refused {TOKEN} (expired)") == "the server refused *** (expired)"
    with Store(":memory:") as s:
        s.path = f"md:team?motherduck_token={TOKEN}"  # how a md: store names itself
        assert s.display_path == "md:team"


# -- a whole worker round on an in-memory database --------------------------------------------
def test_an_in_memory_database_runs_a_worker_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal of two gateways in the state folder's ``gateway-journal/``: 4 + 2 events of
    $2.50 on one day = $15.00 against a $10 daily budget: one incident opened (level 100, the
    highest reached); the key snapshot written in the state folder; the working folder (where a
    file "beside :memory:" would land) left empty."""
    state, work = tmp_path / "state", tmp_path / "work"
    (state / "gateway-journal").mkdir(parents=True)
    work.mkdir()
    monkeypatch.setenv("TOKENBOARD_STATE_DIR", str(state))
    monkeypatch.chdir(work)
    (state / "gateway-journal" / "events-gw1.jsonl").write_bytes(
        lines([event(i, cost_usd="2.50") for i in range(4)])
    )
    (state / "gateway-journal" / "events-gw2.jsonl").write_bytes(
        lines([event(10 + i, cost_usd="2.50") for i in range(2)])
    )
    with Store(":memory:") as s:
        rules.create(s, "admin", kind="budget", window="day", threshold="10")
        keys.create_key(s, "admin", "ann", "web", None, None, None,
                        Restrictions(anywhere_ip=True, anywhere_origin=True))  # fmt: skip
        w = Worker(s, clock=lambda: T0 + timedelta(hours=1), notifier=lambda n: [],  # type: ignore[arg-type,return-value]
                   poll_status=lambda: None, pull=None, after_imports=False)  # type: ignore[arg-type,return-value]  # fmt: skip
        r = w.run_once()
        assert r is not None and r.errors == []
        assert s.scalar("SELECT count(*) FROM request_events WHERE source = 'gateway'") == 6
        assert s.scalar("SELECT sum(cost_usd) FROM request_events") == Decimal("15.00")
        assert r.evaluation is not None and (r.evaluation.rules, r.evaluation.opened) == (1, 1)
        assert incidents.list_incidents(s)[0].value == Decimal("15.00")
        snap = read_snapshot(state / "tokenboard-keys.json")
        assert len(snap.records) == 1
        r2 = w.run_once()  # a second round: nothing new, nothing doubled
        assert r2 is not None and r2.errors == []
        assert s.scalar("SELECT count(*) FROM request_events") == 6
    assert os.listdir(work) == []
    assert sorted(p.name for p in state.iterdir()) == ["gateway-journal", "tokenboard-keys.json"]
    assert json.loads((state / "tokenboard-keys.json").read_text())  # a whole JSON document


def test_two_in_memory_stores_get_a_worker_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``Store(":memory:")`` is its own database: before, the second one was handed the
    first one's worker (they were told apart by their location only)."""
    monkeypatch.setenv("TOKENBOARD_WORKER_MINUTES", "60")
    monkeypatch.setenv("TOKENBOARD_JOURNAL_SECONDS", "0")
    a, b = Store(":memory:"), Store(":memory:")
    try:
        wa = start_worker(a, pull=None, poll_status=lambda: None, notifier=lambda n: [])
        wb = start_worker(b, pull=None, poll_status=lambda: None, notifier=lambda n: [])
        assert wa is not None and wb is not None
        assert wa is not wb and (wa.store, wb.store) == (a, b)
        assert start_worker(a) is wa  # one per database, still
    finally:
        stop_all()
        a.close()
        b.close()


# -- two connections writing one database ------------------------------------------------------
def test_a_write_write_conflict_is_a_plain_error(tmp_path: Path) -> None:
    """Two stores of one file in one process are two connections of one DuckDB database, as
    two app processes are of one ``md:`` database: the same row changed by both at once. The
    second change fails with a sentence (before: "A write … failed: TransactionContext Error:
    …"), nothing of it is kept, and done again it goes through."""
    path = str(tmp_path / "t.duckdb")
    with Store(path) as a, Store(path) as b:
        with a.write() as cur:
            cur.execute("INSERT INTO settings VALUES ('x', '1')")
        with a.write() as ca:
            ca.execute("UPDATE settings SET value = '2' WHERE key = 'x'")
            with pytest.raises(WriteConflictError, match="at the same time"), b.write() as cb:
                cb.execute("UPDATE settings SET value = '3' WHERE key = 'x'")
        assert b.scalar("SELECT value FROM settings WHERE key = 'x'") == "2"
        with b.write() as cb:
            cb.execute("UPDATE settings SET value = '3' WHERE key = 'x'")
        assert a.scalar("SELECT value FROM settings WHERE key = 'x'") == "3"


def test_an_in_memory_database_spills_into_the_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000,000 rows of 32-character hashes sorted under a 64 MB cap spill to disk: into the
    state folder's ``duckdb-<pid>.tmp`` (before: ``.tmp`` of the working folder)."""
    state, work = tmp_path / "state", tmp_path / "work"
    state.mkdir()
    work.mkdir()
    monkeypatch.setenv("TOKENBOARD_STATE_DIR", str(state))
    monkeypatch.chdir(work)
    with Store(":memory:", memory_limit="64MB") as s, s.read() as cur:
        cur.execute("CREATE TEMP TABLE t AS SELECT md5(i::VARCHAR) AS h FROM range(3000000) r(i)")
        n = cur.execute("SELECT count(*) FROM (SELECT h FROM t ORDER BY h)").scalar()
        spilled = [
            r[0] for r in cur.execute("SELECT path FROM duckdb_temporary_files()").fetchall()
        ]
        assert n == 3_000_000 and spilled
        assert all(Path(p).parent == state / f"duckdb-{os.getpid()}.tmp" for p in spilled)
        assert os.listdir(work) == []
