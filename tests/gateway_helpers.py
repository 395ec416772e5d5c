"""Shared by the gateway tests: keys made with ``lib.keys.snapshot``, a gateway served with
uvicorn in a thread in front of ``tests.fake_upstream``, and its journal read back."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.gateway.app import Gateway, Upstream, build_app
from lib.gateway.guard import Guard
from lib.gateway.journal import Journal
from lib.keys.restrictions import Restrictions, trusted_networks
from lib.keys.snapshot import KeyRecord, SnapshotCache, hash_secret, hint_of, write_snapshot
from tests.fake_upstream import ANTHROPIC_KEY, OPENAI_KEY, FakeUpstream, serve


def new_secret() -> str:
    """A Tokenboard secret: ``tb-`` + 43 URL-safe characters (256 random bits)."""
    return "tb-" + secrets.token_urlsafe(32)


def key(key_id: str, secret: str, **restrictions: Any) -> KeyRecord:
    """An active key of project ``proj-a`` allowed from anywhere unless told otherwise."""
    fields: dict[str, Any] = {"anywhere_ip": True, "anywhere_origin": True, **restrictions}
    extra = {k: fields.pop(k) for k in list(fields) if k in ("status", "expires_at",
             "spent_day", "spent_day_usd", "spent_month", "spent_month_usd", "spent_through", "old_hash",
             "old_hash_until")}  # fmt: skip
    return KeyRecord(key_id=key_id, name=f"key {key_id}", project="proj-a", owner="ana",
                     hash=hash_secret(secret), hint=hint_of(secret),
                     restrictions=Restrictions(**fields), **extra)  # fmt: skip


@dataclass
class Running:
    url: str
    upstream: FakeUpstream
    gateway: Gateway
    snapshot: Path
    journal: Journal

    def keys(self, *records: KeyRecord, prices: dict[str, Any] | None = None) -> None:
        write_snapshot(self.snapshot, records, prices=prices)

    def rows(self, count: int | None = None) -> list[dict[str, Any]]:
        """The journal's lines, parsed (waiting until ``count`` are written)."""
        if count is not None:
            assert self.journal.wait_written(count), f"{self.journal.written()} of {count} rows"
        return read_journal(self.journal.path)


def read_journal(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "a partial last line"
    return [json.loads(line) for line in raw.splitlines()]


@contextlib.contextmanager
def running_gateway(
    tmp: Path,
    trusted: tuple[str, ...] = (),
    check_every_s: float = 0.0,
    host: str = "127.0.0.1",
    openai_key: str | None = OPENAI_KEY,
) -> Iterator[Running]:
    """The fake upstream and a gateway in front of it, both on loopback."""
    upstream = FakeUpstream()
    snapshot = tmp / "keys.json"
    write_snapshot(snapshot, [])
    with serve(upstream) as up_url:
        journal = Journal(tmp / "journal", "test")
        gw = Gateway(
            Guard(SnapshotCache(snapshot, check_every_s=check_every_s), trusted_networks(trusted)),
            journal,
            Upstream("openai", up_url + "/v1", openai_key),
            Upstream("anthropic", up_url, ANTHROPIC_KEY),
            Upstream("compatible", up_url + "/v1", OPENAI_KEY),
        )
        with serve(build_app(gw), host=host) as url:
            yield Running(url, upstream, gw, snapshot, journal)
