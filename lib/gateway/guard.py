"""Who may make a request: the key found in the snapshot, checked with
``lib.keys.restrictions.check``, and the per-key counters of this process.

Counters (in memory, per key id, for this gateway process):
- requests and tokens of the current UTC minute (a fixed calendar minute, as ``check`` reads
  them): a request counts when it is let through, its tokens when its answer ends;
- spend of the UTC day and month: what the snapshot states the key had spent when the app
  wrote it (``KeyRecord.spent``). This process adds no cost of its own (it has no price
  catalog: Tokenboard prices the journal's rows when it imports them); the app rewrites the
  snapshot with the new spend after each import.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from lib.keys.restrictions import IPNetwork, Refusal, Request, check, client_ip
from lib.keys.snapshot import KeyRecord, SnapshotCache


@dataclass
class Admission:
    """The outcome of one request's check: the key (None when unknown), the refusal (None
    when let through), the client's IP and origin as the check saw them."""

    key: KeyRecord | None
    refusal: Refusal | None
    client_ip: str | None
    origin: str | None


class Guard:
    """Checks requests against the snapshot at ``snapshot_path``; ``trusted`` are the proxies
    whose ``X-Forwarded-For`` is believed."""

    def __init__(self, snapshots: SnapshotCache, trusted: Sequence[IPNetwork] = ()) -> None:
        self.snapshots = snapshots
        self.trusted = tuple(trusted)
        # key_id -> [minute (epoch seconds // 60), requests, tokens]
        self._minute: dict[str, list[int]] = {}
        # key_id -> [(when, USD)] of the answers served here: the spend a snapshot does not
        # hold yet (it counts the events up to its ``spent_through``)
        self._served: dict[str, list[tuple[datetime, Decimal]]] = {}

    def used_minute(self, key_id: str, minute: int) -> tuple[int, int]:
        slot = self._minute.get(key_id)
        if slot is None or slot[0] != minute:
            return 0, 0
        return slot[1], slot[2]

    def _slot(self, key_id: str, minute: int) -> list[int]:
        slot = self._minute.get(key_id)
        if slot is None or slot[0] != minute:
            slot = [minute, 0, 0]
            self._minute[key_id] = slot
        return slot

    def admit(
        self,
        secret: str | None,
        peer: str | None,
        forwarded_for: str | None,
        origin: str | None,
        model: str | None,
        endpoint: str,
    ) -> Admission:
        """Check one request (see ``lib.keys.restrictions.check`` for the order of refusals);
        a request let through is counted in its key's minute."""
        now_s = time.time()
        now = datetime.fromtimestamp(now_s, UTC)
        ip = client_ip(peer, forwarded_for, self.trusted) if self.trusted else _plain(peer)
        key = self.snapshots.current().find(secret, now) if secret else None
        minute = int(now_s // 60)
        spent_day, spent_month = (
            self.spent(key, now) if key is not None else (Decimal(0), Decimal(0))
        )
        used = self.used_minute(key.key_id, minute) if key is not None else (0, 0)
        refusal = check(
            key, Request(ip, origin, model, endpoint), now, spent_day, spent_month, used
        )
        if refusal is None and key is not None:
            self._slot(key.key_id, minute)[1] += 1
        return Admission(key, refusal, ip, origin)

    def precheck(
        self, secret: str | None, peer: str | None, forwarded_for: str | None,
        origin: str | None, endpoint: str,
    ) -> Admission:  # fmt: skip
        """The checks that need no body (the key, its IP and origin, expiry, budgets, limits),
        counting nothing: run before the body is read, so an unknown or refused key never
        makes the gateway hold a body. ``admit`` checks the model once the body is read."""
        now_s = time.time()
        now = datetime.fromtimestamp(now_s, UTC)
        ip = client_ip(peer, forwarded_for, self.trusted) if self.trusted else _plain(peer)
        key = self.snapshots.current().find(secret, now) if secret else None
        spent_day, spent_month = (
            self.spent(key, now) if key is not None else (Decimal(0), Decimal(0))
        )
        used = self.used_minute(key.key_id, int(now_s // 60)) if key is not None else (0, 0)
        refusal = check(key, Request(ip, origin, None, endpoint), now, spent_day, spent_month, used)
        return Admission(key, refusal, ip, origin)

    def spent(self, key: KeyRecord, now: datetime) -> tuple[Decimal, Decimal]:
        """What ``key`` spent in ``now``'s UTC day and month: the snapshot's figures plus the
        answers served here since the snapshot's newest counted event."""
        day, month = key.spent(now)
        since = key.spent_through
        for at, usd in self._served.get(key.key_id, ()):
            if since is not None and at <= since:
                continue
            if at.strftime("%Y-%m") == now.strftime("%Y-%m"):
                month += usd
                if at.date() == now.date():
                    day += usd
        return day, month

    def add_cost(self, key_id: str, model: str | None, input_tokens: int, output_tokens: int,
                 at: datetime | None = None) -> Decimal:  # fmt: skip
        """Count what an answer cost (by the snapshot's prices; 0 for an unpriced model) in
        its key's spend; returns it. Entries older than this month are dropped."""
        price = self.snapshots.current().price_of(model)
        if price is None:
            return Decimal(0)
        usd = (Decimal(input_tokens) * price[0] + Decimal(output_tokens) * price[1]) / 1_000_000
        when = at or datetime.now(UTC)
        served = self._served.setdefault(key_id, [])
        served.append((when, usd))
        month = when.strftime("%Y-%m")
        if served[0][0].strftime("%Y-%m") != month:
            served[:] = [e for e in served if e[0].strftime("%Y-%m") == month]
        return usd

    def add_tokens(self, key_id: str, tokens: int) -> None:
        """Count an answer's tokens in its key's current minute."""
        if tokens > 0:
            self._slot(key_id, int(time.time() // 60))[2] += tokens


def _plain(peer: str | None) -> str | None:
    """The peer's address as ``client_ip`` gives it without trusted proxies."""
    return client_ip(peer, None, ()) if peer else None
