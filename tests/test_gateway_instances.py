"""Several gateways, one journal each (``events-<instance>.jsonl``) in one journal folder: the
worker imports every file from its own offset, nothing lost or doubled while the gateways keep
writing; and two importers of one database at once (what two app processes on one ``md:``
database would be, each with its worker) never count a line twice."""

from __future__ import annotations

import threading
from pathlib import Path

from lib.gateway.journal import Journal, journal_file
from lib.store import Store
from lib.worker.journal import import_journal, positions
from tests.test_journal_import import event, lines


def ids(store: Store) -> list[str]:
    return [r[0] for r in store.query("SELECT request_id FROM request_events ORDER BY ALL")]


def test_two_gateways_one_journal_each(db_path: str, tmp_path: Path) -> None:
    """Gateways a and b write 5 and 3 events, the worker imports (8), they write 4 and 6 more
    (one of b's half written when the worker comes: left for later), the worker imports (9),
    b finishes its line and the worker imports (1): 18 events, each once."""
    jdir, snap = tmp_path / "journal", tmp_path / "k.json"
    evs = [event(i) for i in range(18)]
    a, b = Journal(jdir, "gw-a"), Journal(jdir, "gw-b")
    assert a.path != b.path and {a.path.name, b.path.name} == {"events-gw-a.jsonl",
                                                               "events-gw-b.jsonl"}  # fmt: skip
    for e in evs[:5]:
        a.append(e)
    for e in evs[5:8]:
        b.append(e)
    assert a.wait_written(5) and b.wait_written(3)
    with Store(db_path) as s:
        r = import_journal(s, jdir, snapshot=snap)
        assert (r.files, r.rows_new, r.rows_duplicate, r.failed) == (2, 8, 0, [])
        for e in evs[8:12]:
            a.append(e)
        for e in evs[12:17]:
            b.append(e)
        assert a.wait_written(9) and b.wait_written(8)
        a.close()
        b.close()
        last = lines([evs[17]])
        with b.path.open("ab") as fh:  # b is writing its last line when the worker comes
            fh.write(last[:30])
        r = import_journal(s, jdir, snapshot=snap)
        assert (r.rows_new, r.rows_duplicate, r.bad_lines) == (9, 0, 0)  # 4 of a, 5 of b
        with b.path.open("ab") as fh:
            fh.write(last[30:])
        r = import_journal(s, jdir, snapshot=snap)
        assert (r.rows_new, r.rows_duplicate) == (1, 0)
        assert ids(s) == sorted(str(e["request_id"]) for e in evs)
        # one offset per file, each at its file's end
        assert positions(s) == {a.path.name: a.path.stat().st_size,
                                b.path.name: b.path.stat().st_size}  # fmt: skip
        r = import_journal(s, jdir, snapshot=snap)  # nothing new: nothing read again
        assert (r.lines, r.rows_new, r.rows_duplicate) == (0, 0, 0)


def test_instance_names_keep_to_their_folder(tmp_path: Path) -> None:
    assert journal_file(tmp_path, "host1-4000").name == "events-host1-4000.jsonl"
    assert journal_file(tmp_path, "../x/y").parent == tmp_path


def test_two_importers_of_one_database_at_once(tmp_path: Path) -> None:
    """Two stores of one database file (two spellings of its path: two connections with a
    turn each, as two processes on one ``md:`` database have) import the same two journals
    of 1,500 lines at the same moment, twice over, then once more each: 3,000 events, each
    once (before: a file's first import by both at once stored its lines twice)."""
    jdir, snap = tmp_path / "journal", tmp_path / "k.json"
    jdir.mkdir()
    evs = [event(i) for i in range(3000)]
    (jdir / "events-gw-a.jsonl").write_bytes(lines(evs[:1500]))
    (jdir / "events-gw-b.jsonl").write_bytes(lines(evs[1500:]))
    path = tmp_path / "t.duckdb"
    with Store(str(path)) as one, Store(f"{tmp_path}/./t.duckdb") as two:
        assert one.key != two.key  # each takes its own turn: they do run at the same time
        for _ in range(2):
            start = threading.Barrier(2)

            def run(s: Store, start: threading.Barrier = start) -> None:
                start.wait()
                import_journal(s, jdir, snapshot=snap)

            threads = [threading.Thread(target=run, args=(s,)) for s in (one, two)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for s in (one, two):  # whatever was kept nowhere is taken now
            r = import_journal(s, jdir, snapshot=snap)
            assert (r.failed, r.overtaken) == ([], [])
        assert one.scalar("SELECT count(*) FROM request_events") == 3000
        assert ids(two) == sorted(str(e["request_id"]) for e in evs)
