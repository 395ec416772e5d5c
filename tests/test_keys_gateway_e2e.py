"""Keys from the database to a real gateway process and back: a key created and revoked with
lib.keys.store reaches ``python -m lib.gateway`` through the snapshot (the revocation within
2 s), and the journal of a gateway killed with SIGKILL and started again is imported by the
app's worker with nothing doubled. Real processes over loopback, a real DuckDB file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lib.keys import store as keys
from lib.keys.restrictions import Restrictions
from lib.store import Store
from lib.worker.journal import import_journal
from tests.fake_upstream import OPENAI_KEY, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url}: the process ended ({proc.returncode})")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not come up")


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def upstream() -> Iterator[str]:
    port = free_port()
    proc = _start(["-m", "tests.fake_upstream", "--port", str(port)], {})
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_up(url + "/v1/models", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


class Gateway:
    """``python -m lib.gateway`` in a child process; ``kill()`` sends SIGKILL."""

    def __init__(self, upstream: str, snapshot: Path, journal: Path, instance: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = _start(
            ["-m", "lib.gateway", "--port", str(self.port), "--openai-base-url",
             upstream + "/v1", "--keys-snapshot", str(snapshot), "--journal-dir", str(journal),
             "--instance", instance, "--log-level", "warning"],
            {"OPENAI_API_KEY": OPENAI_KEY},
        )  # fmt: skip
        _wait_up(self.url + "/healthz", self.proc)

    def chat(self, secret: str) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {secret}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            timeout=10,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def test_keys_reach_the_gateway_and_its_journal_comes_back(
    db_path: str, tmp_path: Path, upstream: str
) -> None:
    snap, jdir = tmp_path / "keys.json", tmp_path / "journal"
    store = Store(db_path)
    anywhere = Restrictions(anywhere_ip=True, anywhere_origin=True)
    rec, secret = keys.create_key(store, "admin", "ann", "web", "ann", "shop", None, anywhere,
                                  snapshot=snap)  # fmt: skip
    elsewhere = Restrictions(ips=("10.0.0.0/8",), anywhere_origin=True)
    far, far_secret = keys.create_key(store, "admin", "ann", "office", None, "shop", None,
                                      elsewhere, snapshot=snap)  # fmt: skip
    gw = Gateway(upstream, snap, jdir, "gw")
    try:
        ok = [gw.chat(secret) for _ in range(5)]
        assert [r.status_code for r in ok] == [200] * 5
        refused = gw.chat(far_secret)  # from 127.0.0.1, allowed only from 10.0.0.0/8
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "ip_not_allowed"
        assert gw.chat("tb-" + "x" * 43).json()["error"]["code"] == "invalid_api_key"
        # revoked in the app: the gateway refuses the key within 2 s
        keys.revoke_key(store, "admin", "ann", rec.key_id, snapshot=snap)
        t0 = time.monotonic()
        served = 5  # requests let through: 5, and those before the revocation arrived
        while (r := gw.chat(secret)).status_code == 200:
            served += 1
            assert time.monotonic() - t0 < 2.0, "the revocation took more than 2 s"
            time.sleep(0.05)
        assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
        assert secret not in r.text
        time.sleep(0.3)  # the journal's writer thread: a few ms
        gw.kill()  # SIGKILL: no shutdown, whatever was written stays
    finally:
        gw.stop()

    # the app imports what the killed gateway wrote, then is "restarted" (a new store)
    first = import_journal(store, jdir, snapshot=snap)
    store.close()
    lines_written = sum(p.read_bytes().count(b"\n") for p in jdir.glob("events-*.jsonl"))
    assert first.rows_new == lines_written >= 5 + 1 + 1 + 1
    # a second gateway instance after the kill (a restarted one journals to its own file)
    gw2 = Gateway(upstream, snap, jdir, "gw2")
    try:
        assert gw2.chat(far_secret).status_code == 403
        assert gw2.chat(secret).json()["error"]["code"] == "key_revoked"
        time.sleep(0.3)
    finally:
        gw2.stop()
    with Store(db_path) as s2:
        second = import_journal(s2, jdir, snapshot=snap)
        total = sum(p.read_bytes().count(b"\n") for p in jdir.glob("events-*.jsonl"))
        assert second.rows_new == total - lines_written == 2
        assert import_journal(s2, jdir, snapshot=snap).rows_new == 0  # again: nothing
        rows = s2.query(
            "SELECT api_key, error_code, count(*) FROM request_events GROUP BY ALL ORDER BY ALL"
        )
        assert sum(r[2] for r in rows) == total
        assert s2.scalar("SELECT count(DISTINCT request_id) FROM request_events") == total
        by = {(k, c): n for k, c, n in rows}
        assert by[(rec.key_id, None)] == served
        assert by[(far.key_id, "ip_not_allowed")] == 2
        assert by[(rec.key_id, "key_revoked")] >= 2
        assert by[(None, "invalid_api_key")] == 1
        refused_audit = [e for e in keys.audit_log(s2, "admin") if e.action == "requests_refused"]
        assert {e.subject for e in refused_audit} == {rec.key_id, far.key_id, None}
    # no secret anywhere on disk: database, journal, snapshot
    for path in [Path(db_path), *jdir.iterdir(), snap]:
        if path.exists():
            data = path.read_bytes()
            assert secret.encode() not in data and far_secret.encode() not in data
