"""The Keys page's "would this IP / origin be allowed?": the gateway's own check
(``lib.keys.restrictions.check``) for a key, an IP and an origin, and which allowlist entry
let them through.

Only what is asked is checked: without an IP the IP allowlist is not looked at, without an
origin neither is the domain allowlist (a request without ``Origin`` is a separate question:
``origin="none"`` asks it). The key's status and expiry are checked first, as the gateway
does; models, endpoints, budgets and limits are not part of the question.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from lib.keys.restrictions import (
    Refusal,
    Request,
    check,
    origin_matches,
    parse_ip,
    parse_network,
)
from lib.keys.snapshot import KeyRecord
from lib.keys.store import get_key
from lib.keys.validate import KeyInputError
from lib.store import Store
from lib.text import N_

NO_ORIGIN = "none"  # asks about a request that states no Origin nor Referer


@dataclass(frozen=True)
class Verdict:
    """The answer: ``allowed``; else ``refusal`` (its code and what to change). ``ip_entry``
    / ``origin_entry``: the allowlist entry that matched (``*`` for "anywhere"; None when not
    asked or not matched)."""

    allowed: bool
    refusal: Refusal | None
    ip_entry: str | None = None
    origin_entry: str | None = None


def _ip_entry(record: KeyRecord, ip: str) -> str | None:
    r = record.restrictions
    if r.anywhere_ip:
        return "*"
    addr = parse_ip(ip)
    if addr is None:
        return None
    for text in r.ips:
        try:
            net = parse_network(text)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            return text
    return None


def _origin_entry(record: KeyRecord, origin: str | None) -> str | None:
    r = record.restrictions
    if r.anywhere_origin:
        return "*"
    return next((p for p in r.origins if origin_matches(p, origin)), None)


def would_allow(
    record: KeyRecord, ip: str | None, origin: str | None, now: datetime | None = None
) -> Verdict:
    """Would the gateway let a request of ``record`` from ``ip`` (None or blank: not
    asked) with ``origin`` (a URL or host; ``"none"``: a request without one; None or blank:
    not asked) through at ``now``? Raises ``KeyInputError`` (``bad_ip``) when ``ip`` is not
    an address."""
    at = now or datetime.now(UTC)
    ip = (ip or "").strip() or None
    origin = (origin or "").strip() or None
    if ip is not None and parse_ip(ip) is None:
        raise KeyInputError(
            "bad_ip",
            N_("{entry} is not an IP address: write an IPv4 or IPv6 address (203.0.113.7, "
               "2001:db8::1).", entry=ip),
        )  # fmt: skip
    r = record.restrictions
    asked = replace(
        r,
        anywhere_ip=r.anywhere_ip or ip is None,
        anywhere_origin=r.anywhere_origin or origin is None,
        models=(),
        endpoints=(),
        budget_day_usd=None,
        budget_month_usd=None,
        rpm=None,
        tpm=None,
    )
    sent_origin = None if origin is None or origin.lower() == NO_ORIGIN else origin
    refusal = check(replace(record, restrictions=asked), Request(ip, sent_origin), at)
    return Verdict(
        allowed=refusal is None,
        refusal=refusal,
        ip_entry=_ip_entry(record, ip) if ip is not None else None,
        origin_entry=_origin_entry(record, sent_origin) if origin is not None else None,
    )


def would_allow_key(
    store: Store,
    role: str | None,
    key_id: str,
    ip: str | None,
    origin: str | None,
    now: datetime | None = None,
) -> Verdict:
    """``would_allow`` for the stored key ``key_id`` (any signed-in role may ask)."""
    return would_allow(get_key(store, role, key_id).record, ip, origin, now)
