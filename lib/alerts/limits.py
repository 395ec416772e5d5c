"""Rate limits per provider and model (requests and tokens per minute): entered in settings,
or learned from the rate-limit headers the playground and the gateway see. An entered limit
wins over a learned one. ``peak_per_minute`` is the busiest minute of the request logs, for the
Usage page to set against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lib.alerts.model import AlertError
from lib.auth.roles import require
from lib.store import Store

SOURCES = ("entered", "learned")


@dataclass(frozen=True)
class RateLimit:
    """``rpm``/``tpm`` None when unknown; ``source``: entered or learned; ``seen_at``: when
    entered or last learned (UTC)."""

    provider: str
    model: str
    rpm: int | None
    tpm: int | None
    source: str
    seen_at: datetime


def _check(provider: str, model: str, rpm: int | None, tpm: int | None) -> None:
    if not provider.strip() or not model.strip():
        raise AlertError("rate_limit", "A rate limit names its provider and model.")
    for v in (rpm, tpm):
        if v is not None and (int(v) <= 0 or int(v) > 10**12):
            raise AlertError("rate_limit", "A rate limit is a positive number per minute.")


def _put(store: Store, provider: str, model: str, rpm: int | None, tpm: int | None,
         source: str, at: datetime) -> None:  # fmt: skip
    with store.write() as cur:
        cur.execute(
            """INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (provider, model, source) DO UPDATE
               SET rpm = excluded.rpm, tpm = excluded.tpm, seen_at = excluded.seen_at""",
            [provider.strip().lower(), model.strip(), rpm, tpm, source, at],
        )


def set_limit(
    store: Store, role: str | None, provider: str, model: str, rpm: int | None,
    tpm: int | None, now: datetime | None = None,
) -> None:  # fmt: skip
    """Enter a model's limits (admins: ``settings``); both None removes the entry."""
    require(role, "settings")
    if rpm is None and tpm is None:
        with store.write() as cur:
            cur.execute(
                "DELETE FROM rate_limits WHERE provider = ? AND model = ? AND source = 'entered'",
                [provider.strip().lower(), model.strip()],
            )
        return
    _check(provider, model, rpm, tpm)
    _put(store, provider, model, rpm, tpm, "entered", now or datetime.now(UTC))


def learn_limit(
    store: Store, provider: str, model: str, rpm: int | None, tpm: int | None,
    seen_at: datetime,
) -> None:  # fmt: skip
    """Keep the limits a response's rate-limit headers stated (``x-ratelimit-limit-requests``,
    ``anthropic-ratelimit-tokens-limit``…); a value not stated keeps the one learned before."""
    if rpm is None and tpm is None:
        return
    _check(provider, model, rpm, tpm)
    old = {
        (r.source): r
        for r in limits(store)
        if (r.provider, r.model) == (provider.strip().lower(), model.strip())
    }
    prev = old.get("learned")
    _put(store, provider, model, rpm if rpm is not None else (prev.rpm if prev else None),
         tpm if tpm is not None else (prev.tpm if prev else None), "learned", seen_at)  # fmt: skip


def limits(store: Store) -> list[RateLimit]:
    """Every stored limit, entered before learned, by provider and model."""
    rows = store.query(
        """SELECT provider, model, rpm, tpm, source, seen_at FROM rate_limits
           ORDER BY provider, model, source"""
    )
    return [RateLimit(p, m, r, t, s, at) for p, m, r, t, s, at in rows]


def effective_limits(store: Store) -> dict[tuple[str, str], RateLimit]:
    """Per (provider, model) the limit in force: entered, else learned."""
    out: dict[tuple[str, str], RateLimit] = {}
    for r in limits(store):  # 'entered' sorts before 'learned'
        out.setdefault((r.provider, r.model), r)
    return out


@dataclass(frozen=True)
class Peak:
    """The busiest minute of one provider and model in a period: requests and tokens (input
    + output) in it, and when it began (UTC)."""

    provider: str
    model: str
    requests_minute: datetime
    requests: int
    tokens_minute: datetime
    tokens: int


def peak_per_minute(
    store: Store, start: datetime, end: datetime, models: list[tuple[str, str]] | None = None
) -> list[Peak]:
    """Per provider and model (the name as the source gave it) of the request logs in
    [start, end): the busiest minute by requests and by tokens. One grouped scan of the
    period's request rows (no rollup keeps minutes); ``models`` (provider, model) limits it to
    those."""
    only = ""
    params: list[object] = [start, end]
    if models is not None:
        only = "AND list_contains(?, provider || chr(0) || model)"
        params.append([f"{p}\x00{m}" for p, m in models])
    rows = store.query(
        f"""WITH m AS (SELECT provider, model, epoch_ms(ts) // 60000 AS minute, count(*) AS n,
                              sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tok
                       FROM request_events WHERE ts >= ? AND ts < ? AND model IS NOT NULL {only}
                       GROUP BY ALL)
            SELECT provider, model, arg_max(minute, n), max(n), arg_max(minute, tok), max(tok)
            FROM m GROUP BY ALL ORDER BY provider, model""",
        params,
    )
    return [Peak(p, m, datetime.fromtimestamp(int(rm) * 60, UTC), int(n),
                 datetime.fromtimestamp(int(tm) * 60, UTC), int(t or 0))
            for p, m, rm, n, tm, t in rows]  # fmt: skip


@dataclass(frozen=True)
class LimitUse:
    """A model's busiest minute of a period set against its limit in force: ``requests`` and
    ``tokens`` in that minute (None when the logs hold none of the model's requests),
    ``rpm``/``tpm`` the limit (None when unknown), ``*_share`` the peak over the limit
    (1.0 is the whole limit; None when either is unknown)."""

    provider: str
    model: str
    source: str  # entered | learned
    requests: int | None
    requests_minute: datetime | None
    rpm: int | None
    tokens: int | None
    tokens_minute: datetime | None
    tpm: int | None

    @property
    def requests_share(self) -> float | None:
        return None if not self.rpm or self.requests is None else self.requests / self.rpm

    @property
    def tokens_share(self) -> float | None:
        return None if not self.tpm or self.tokens is None else self.tokens / self.tpm

    @property
    def requests_pct(self) -> float | None:
        """``requests_share`` in percent (75.0 for three quarters)."""
        share = self.requests_share
        return None if share is None else 100 * share

    @property
    def tokens_pct(self) -> float | None:
        share = self.tokens_share
        return None if share is None else 100 * share


def use_of_limits(store: Store, start: datetime, end: datetime) -> list[LimitUse]:
    """Each model with a known limit, its busiest minute in [start, end) against it, the
    fullest first. Only the models with a limit are scanned; none known: an empty list, no
    scan."""
    known = effective_limits(store)
    if not known:
        return []
    peaks = {(p.provider, p.model): p for p in peak_per_minute(store, start, end, list(known))}
    out = []
    for (provider, model), lim in known.items():
        p = peaks.get((provider, model))
        out.append(LimitUse(provider, model, lim.source, p.requests if p else None,
                            p.requests_minute if p else None, lim.rpm, p.tokens if p else None,
                            p.tokens_minute if p else None, lim.tpm))  # fmt: skip
    return sorted(out, key=lambda u: -max(u.requests_share or 0, u.tokens_share or 0))
