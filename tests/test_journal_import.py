"""The gateway journal imported by the worker (lib.worker.journal): nothing lost or doubled
whatever is cut or killed, a half-written line left for later, refusals audited, the key
snapshot published after an import."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.keys import store as keys
from lib.keys.restrictions import Restrictions
from lib.keys.snapshot import read_snapshot
from lib.store import Store
from lib.worker import journal
from lib.worker.journal import import_journal, positions

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def event(i: int, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "ts": (T0 + timedelta(seconds=i)).isoformat(), "request_id": uuid.uuid4().hex,
        "provider": "openai", "model": "gpt-4o-mini", "project": "shop", "api_key": "tbk_1",
        "user_id": "u1", "status": "success", "http_status": 200, "error_code": None,
        "error_type": None, "error_message": None, "latency_ms": 100 + i,
        "input_tokens": 10, "cached_input_tokens": 0, "cache_write_tokens": 0,
        "output_tokens": 5, "reasoning_tokens": 0, "client_ip": "203.0.113.7",
        "origin": "https://app.example.com", "cost_usd": None, "batch": False,
        "retry_after_ms": None, "ttft_ms": 40,
    }  # fmt: skip
    row.update(kw)
    return row


def lines(events: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM request_events WHERE source = 'gateway'"))


@pytest.fixture
def jdir(tmp_path: Path) -> Path:
    d = tmp_path / "journal"
    d.mkdir()
    return d


def test_half_a_file_then_the_rest(store: Store, jdir: Path, tmp_path: Path) -> None:
    evs = [event(i) for i in range(10)]
    data = lines(evs)
    f = jdir / "events-a.jsonl"
    cut = data.index(b"\n", len(data) // 2) + 1 + 7  # after the 6th line, 7 bytes of the 7th
    f.write_bytes(data[:cut])
    first = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    complete = data[:cut].count(b"\n")
    assert first.rows_new == complete and count(store) == complete
    # the half-written line is left: the offset stops at the last newline
    assert positions(store) == {"events-a.jsonl": data[:cut].rindex(b"\n") + 1}
    with f.open("ab") as fh:
        fh.write(data[cut:])
    second = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert second.rows_new == 10 - complete and second.rows_duplicate == 0
    assert count(store) == 10
    assert positions(store) == {"events-a.jsonl": len(data)}
    # the rows as the gateway wrote them
    got = store.query(
        "SELECT request_id, ts, api_key, latency_ms, input_tokens, output_tokens, client_ip, "
        "origin, provider, status, ttft_ms, import_id IS NOT NULL FROM request_events "
        "ORDER BY ts"
    )
    assert [r[0] for r in got] == [e["request_id"] for e in evs]
    assert got[3][1:] == (T0 + timedelta(seconds=3), "tbk_1", 103, 10, 5, "203.0.113.7",
                          "https://app.example.com", "openai", "success", 40, True)  # fmt: skip
    imp = store.query("SELECT origin, source, format FROM imports WHERE status = 'ok'")
    assert set(imp) == {("gateway", "gateway", "gateway")}
    # nothing new: a third run imports nothing
    third = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert (third.lines, third.rows_new, third.imports) == (0, 0, [])


def test_a_line_without_its_newline_waits(store: Store, jdir: Path, tmp_path: Path) -> None:
    f = jdir / "events-a.jsonl"
    one = lines([event(0)])
    f.write_bytes(one[:-1])  # the whole JSON, but no newline yet: not complete
    assert import_journal(store, jdir, snapshot=tmp_path / "k.json").rows_new == 0
    assert count(store) == 0
    f.write_bytes(one)
    assert import_journal(store, jdir, snapshot=tmp_path / "k.json").rows_new == 1


def test_a_fresh_importer_after_a_kill_neither_loses_nor_doubles(
    db_path: str, jdir: Path, tmp_path: Path
) -> None:
    evs = [event(i) for i in range(30)]
    f = jdir / "events-a.jsonl"
    f.write_bytes(lines(evs[:12]))
    with Store(db_path) as s:
        import_journal(s, jdir, snapshot=tmp_path / "k.json")
    # the app is killed and started again: a new process, a new store, the same database
    with f.open("ab") as fh:
        fh.write(lines(evs[12:]))
    with Store(db_path) as s:
        r = import_journal(s, jdir, snapshot=tmp_path / "k.json")
        assert (r.rows_new, r.rows_duplicate) == (18, 0)
        assert count(s) == 30


def test_lost_offset_or_same_lines_twice_add_nothing(
    store: Store, jdir: Path, tmp_path: Path
) -> None:
    evs = [event(i) for i in range(8)]
    (jdir / "events-a.jsonl").write_bytes(lines(evs))
    import_journal(store, jdir, snapshot=tmp_path / "k.json")
    # the offsets are lost (a kill between the rows and the offset cannot happen: one
    # transaction; this is worse): the same lines again are duplicates
    with store.write() as cur:
        cur.execute("DELETE FROM settings WHERE starts_with(key, 'gateway_journal:')")
    again = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert (again.rows_new, again.rows_duplicate) == (0, 8)
    # the same lines in a second file (a gateway restarted under another name replaying)
    (jdir / "events-b.jsonl").write_bytes(lines(evs[:5]))
    other = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert (other.rows_new, other.rows_duplicate) == (0, 5)
    assert count(store) == 8


def test_a_file_replaced_under_its_name_is_read_from_its_start(
    store: Store, jdir: Path, tmp_path: Path
) -> None:
    f = jdir / "events-a.jsonl"
    f.write_bytes(lines([event(i) for i in range(5)]))
    import_journal(store, jdir, snapshot=tmp_path / "k.json")
    new = [event(100 + i) for i in range(7)]  # a longer new file: its head differs
    f.write_bytes(lines(new))
    r = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert r.rows_new == 7 and count(store) == 12
    f.write_bytes(lines(new[:2]))  # shorter than the offset
    r = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert (r.rows_new, r.rows_duplicate) == (0, 2)


def test_bad_lines_are_skipped_not_retried(store: Store, jdir: Path, tmp_path: Path) -> None:
    data = lines([event(0)]) + b"{not json\n" + b"[1, 2]\n" + lines([event(1, provider=None)])
    data += lines([event(2)])
    (jdir / "events-a.jsonl").write_bytes(data)
    r = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert (r.rows_new, r.bad_lines) == (2, 3)
    assert positions(store) == {"events-a.jsonl": len(data)}
    assert import_journal(store, jdir, snapshot=tmp_path / "k.json").bad_lines == 0


def test_batches_bigger_than_the_limit(
    store: Store, jdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "MAX_BATCH_BYTES", 2000)  # a few lines per transaction
    evs = [event(i) for i in range(40)]
    (jdir / "events-a.jsonl").write_bytes(lines(evs))
    r = import_journal(store, jdir, snapshot=tmp_path / "k.json")
    assert r.rows_new == 40 and len(r.imports) > 3 and count(store) == 40


def test_refusals_are_audited_and_feed_the_key_event_codes(
    store: Store, jdir: Path, tmp_path: Path
) -> None:
    snap = tmp_path / "k.json"
    now = datetime.now(UTC).replace(microsecond=0)
    rec, secret = keys.create_key(store, "admin", "ann", "web", None, None, None,
                                  Restrictions(anywhere_ip=True, anywhere_origin=True),
                                  snapshot=snap)  # fmt: skip
    evs = [
        event(0, api_key=rec.key_id, cost_usd="0.25", ts=(now - timedelta(seconds=1)).isoformat()),
        event(1, api_key=rec.key_id, status="error", http_status=403,
              error_code="ip_not_allowed", input_tokens=0, output_tokens=0),
        event(2, api_key=rec.key_id, status="error", http_status=403,
              error_code="ip_not_allowed", input_tokens=0, output_tokens=0),
        event(3, api_key=rec.key_id, status="error", http_status=401, error_code="key_revoked",
              input_tokens=0, output_tokens=0),
        event(4, api_key=None, status="error", http_status=401, error_code="invalid_api_key",
              input_tokens=0, output_tokens=0),
    ]  # fmt: skip
    (jdir / "events-a.jsonl").write_bytes(lines(evs))
    import_journal(store, jdir, snapshot=snap)
    refused = [e for e in keys.audit_log(store, "admin") if e.action == "requests_refused"]
    by_key = {e.subject: e.detail["codes"] for e in refused}
    assert by_key == {rec.key_id: {"ip_not_allowed": 2, "key_revoked": 1},
                      None: {"invalid_api_key": 1}}  # fmt: skip
    assert all(e.actor == "gateway" for e in refused)
    # what lib.alerts counts: error codes per key in the request events
    assert store.query(
        "SELECT error_code, count(*) FROM request_events WHERE error_code IS NOT NULL "
        "GROUP BY ALL ORDER BY ALL"
    ) == [("invalid_api_key", 1), ("ip_not_allowed", 2), ("key_revoked", 1)]
    # the snapshot was published again with what the key spent today: the one request
    # stating a cost, $0.25 a second ago (the others are of 2026-05-04)
    found = read_snapshot(snap).find(secret)
    assert found is not None and found.spent_day_usd == Decimal("0.25")
    assert found.spent_through == now - timedelta(seconds=1)


def test_no_folder_is_no_work(store: Store, tmp_path: Path) -> None:
    r = import_journal(store, tmp_path / "absent", snapshot=tmp_path / "k.json")
    assert (r.files, r.lines, r.failed) == (0, 0, [])


def test_the_gateways_own_journal_writer(db_path: str, jdir: Path, tmp_path: Path) -> None:
    """Lines written by lib.gateway.journal.Journal; the gateway killed while writing a line
    (a half line on disk) and the app killed between imports: the half line is never
    imported; once the line is cut (as a restarted gateway does) and new lines follow, every
    complete event is imported once."""
    from lib.gateway.journal import Journal

    snap = tmp_path / "k.json"
    j = Journal(jdir, "gw1")
    evs = [event(i) for i in range(20)]
    for e in evs[:8]:
        j.append(e)
    assert j.wait_written(8)
    j.close()
    path = j.path
    with Store(db_path) as s:
        assert import_journal(s, jdir, snapshot=snap).rows_new == 8
    # the gateway dies in the middle of a line: a half line stays on disk
    whole = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(lines([evs[8]])[:25])
    with Store(db_path) as s:
        r = import_journal(s, jdir, snapshot=snap)
        assert (r.rows_new, r.bad_lines) == (0, 0)  # the half line is not imported
    with path.open("r+b") as fh:  # what the restarted gateway does before writing again
        fh.truncate(whole)
    with path.open("ab") as fh:
        fh.write(lines(evs[9:]))
    with Store(db_path) as s:
        r = import_journal(s, jdir, snapshot=snap)
        assert (r.rows_new, r.rows_duplicate, r.bad_lines) == (11, 0, 0)
        ids = {row[0] for row in s.query("SELECT request_id FROM request_events")}
    # event 8 was never written whole: lost with the gateway's kill; the rest once each
    assert ids == {e["request_id"] for i, e in enumerate(evs) if i != 8}


def test_the_gateway_restarted_after_a_kill_mid_line(jdir: Path) -> None:
    """A gateway started again on a journal that ends with a half line cuts it and goes on."""
    from lib.gateway.journal import Journal

    path = jdir / "events-gw1.jsonl"
    path.write_bytes(lines([event(0)]) + b'{"ts": "2026-')
    j = Journal(jdir, "gw1")
    j.append(event(1))
    assert j.wait_written(1)
    j.close()
    assert path.read_bytes().count(b"\n") == 2
    assert all(json.loads(x) for x in path.read_bytes().splitlines())


def test_the_worker_round_imports_the_journal_first(
    store: Store, jdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lib.worker.loop import Worker

    monkeypatch.setenv("TOKENBOARD_GATEWAY_JOURNAL", str(jdir))
    monkeypatch.setenv("TOKENBOARD_KEYS_SNAPSHOT", str(tmp_path / "k.json"))
    (jdir / "events-a.jsonl").write_bytes(lines([event(i) for i in range(3)]))
    w = Worker(store, clock=lambda: T0, notifier=lambda n: [], poll_status=lambda: None,  # type: ignore[arg-type,return-value]
               pull=None, after_imports=False)  # fmt: skip
    r = w.run_once()
    assert r is not None and "journal" not in r.errors
    assert count(store) == 3
    # a snapshot that cannot be written (its path is a folder) is named in the round
    keys.create_key(store, "admin", "ann", "web", None, None, None,
                    Restrictions(anywhere_ip=True, anywhere_origin=True),
                    snapshot=tmp_path / "k.json")  # fmt: skip
    (tmp_path / "k.json").unlink()
    (tmp_path / "k.json").mkdir()
    r = w.run_once()
    assert r is not None and "journal" in r.errors and count(store) == 3


def test_the_follower_imports_within_seconds(store: Store, jdir: Path, tmp_path: Path) -> None:
    from lib.worker.journal import JournalFollower

    f = JournalFollower(store, 0.05, jdir, tmp_path / "k.json")
    assert f.start() and not f.start()
    try:
        (jdir / "events-a.jsonl").write_bytes(lines([event(i) for i in range(4)]))
        deadline = time.monotonic() + 5
        while count(store) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert count(store) == 4
    finally:
        assert f.stop()
    assert f.runs >= 1 and f.last is not None
