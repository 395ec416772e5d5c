"""Key restrictions and the key snapshot (lib.keys.restrictions, lib.keys.snapshot): the
checks the gateway makes, without a database."""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.keys.restrictions import (
    Request,
    Restrictions,
    check,
    client_ip,
    ip_allowed,
    origin_allowed,
    origin_matches,
    parse_ip,
)
from lib.keys.snapshot import (
    KeyRecord,
    Snapshot,
    SnapshotCache,
    hash_secret,
    hint_of,
    read_snapshot,
    write_snapshot,
)

NOW = datetime(2026, 5, 4, 12, 0, 15, tzinfo=UTC)
ANY = Restrictions(anywhere_ip=True, anywhere_origin=True)


def record(secret: str = "tb-" + "A" * 43, **kw: object) -> KeyRecord:
    base: dict[str, object] = {
        "key_id": "k1",
        "name": "web",
        "project": "p",
        "owner": "ann",
        "hash": hash_secret(secret),
        "hint": hint_of(secret),
        "restrictions": ANY,
    }
    base.update(kw)
    return KeyRecord(**base)  # type: ignore[arg-type]


def req(**kw: object) -> Request:
    base: dict[str, object] = {"client_ip": "203.0.113.7", "origin": None, "model": "gpt-4o",
                               "endpoint": "/v1/chat/completions"}  # fmt: skip
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


# -- IPs ------------------------------------------------------------------------------------
def test_ip_allowlist_ipv4_ipv6_and_cidr() -> None:
    r = Restrictions(ips=("10.0.0.0/8", "2001:db8::/32", "192.0.2.5"))
    assert ip_allowed("10.200.3.4", r)
    assert ip_allowed("192.0.2.5", r)
    assert not ip_allowed("192.0.2.6", r)
    assert not ip_allowed("11.0.0.1", r)
    assert ip_allowed("2001:db8:ffff::1", r)
    assert ip_allowed("2001:DB8::AB", r)  # case does not matter
    assert not ip_allowed("2001:db9::1", r)
    assert ip_allowed("::ffff:10.1.2.3", r)  # an IPv4-mapped address is its IPv4
    assert ip_allowed("[2001:db8::1]:443", r)
    assert ip_allowed("10.0.0.1:5555", r)
    assert not ip_allowed(None, r)
    assert not ip_allowed("not-an-ip", r)
    assert not ip_allowed("", r)


def test_empty_ip_allowlist_is_anywhere_only_when_chosen() -> None:
    assert not ip_allowed("203.0.113.7", Restrictions())
    assert ip_allowed("203.0.113.7", Restrictions(anywhere_ip=True))
    key = record(restrictions=Restrictions(anywhere_origin=True))
    refusal = check(key, req(), NOW)
    assert refusal is not None and refusal.code == "ip_not_allowed"
    assert refusal.http_status == 403
    assert "203.0.113.7" in refusal.message


def test_parse_ip_forms() -> None:
    assert str(parse_ip("::ffff:1.2.3.4")) == "1.2.3.4"
    assert str(parse_ip("fe80::1%eth0")) == "fe80::1"
    assert parse_ip("[::1") is None
    assert parse_ip("1.2.3.4.5") is None


# -- client_ip --------------------------------------------------------------------------------
def test_client_ip_ignores_a_spoofed_forwarded_for_from_an_untrusted_peer() -> None:
    # the client connects directly and claims to be an allowed address: the peer counts
    assert client_ip("198.51.100.9", "10.0.0.1", ["10.0.0.0/8"]) == "198.51.100.9"
    assert client_ip("198.51.100.9", "10.0.0.1", []) == "198.51.100.9"


def test_client_ip_behind_trusted_proxies() -> None:
    proxies = ["10.0.0.0/8", "fd00::/8"]
    # client -> proxy 10.0.0.2 -> proxy 10.0.0.1 -> gateway
    assert client_ip("10.0.0.1", "203.0.113.7, 10.0.0.2", proxies) == "203.0.113.7"
    # a client that writes an allowed address itself: the proxy appends the real one
    assert client_ip("10.0.0.1", "192.0.2.5, 203.0.113.7", proxies) == "203.0.113.7"
    # IPv6 proxy, IPv6 client with a port written by the proxy
    assert client_ip("fd00::1", "[2001:db8::7]:4711", proxies) == "2001:db8::7"
    # every hop a proxy: the leftmost
    assert client_ip("10.0.0.1", "10.0.0.3, 10.0.0.2", proxies) == "10.0.0.3"
    # a trusted proxy without a header: itself
    assert client_ip("10.0.0.1", None, proxies) == "10.0.0.1"
    # garbage behind a trusted hop stops at that hop
    assert client_ip("10.0.0.1", "junk, 10.0.0.2", proxies) == "10.0.0.2"
    assert client_ip("not-an-ip", "203.0.113.7", proxies) is None


# -- origins ----------------------------------------------------------------------------------
def test_origin_wildcards_and_ports() -> None:
    assert origin_matches("example.com", "https://example.com")
    assert not origin_matches("example.com", "https://www.example.com")
    assert origin_matches("*.example.com", "https://www.example.com")
    assert origin_matches("*.example.com", "https://a.b.example.com/page?x=1")
    assert not origin_matches("*.example.com", "https://example.com")  # not the apex
    assert not origin_matches("*.example.com", "https://badexample.com")
    assert not origin_matches("*.example.com", "https://example.com.evil.net")
    assert origin_matches("localhost:8501", "http://localhost:8501")
    assert not origin_matches("localhost:8501", "http://localhost:8502")
    assert origin_matches("app.example.com:443", "https://app.example.com")
    assert origin_matches("EXAMPLE.com", "https://Example.COM.")
    assert origin_matches("bücher.example", "https://xn--bcher-kva.example")
    assert not origin_matches("example.com", "null")
    assert not origin_matches("example.com", None)


def test_origin_allowlist_empty_and_missing_origin() -> None:
    assert not origin_allowed("https://example.com", Restrictions())
    assert origin_allowed(None, Restrictions(anywhere_origin=True))
    r = Restrictions(anywhere_ip=True, origins=("*.example.com",))
    assert not origin_allowed(None, r)  # a listed domain: a request must state its origin
    key = record(restrictions=r)
    refusal = check(key, req(origin="https://evil.net"), NOW)
    assert refusal is not None and refusal.code == "origin_not_allowed"
    assert "evil.net" in refusal.message
    assert check(key, req(origin="https://chat.example.com"), NOW) is None


# -- the check's order and each refusal ------------------------------------------------------
def test_check_refusals() -> None:
    assert check(None, req(), NOW).code == "invalid_api_key"  # type: ignore[union-attr]
    revoked = check(record(status="revoked"), req(), NOW)
    assert revoked is not None and revoked.code == "key_revoked" and revoked.http_status == 401
    expired = check(record(expires_at=NOW), req(), NOW)
    assert expired is not None and expired.code == "key_expired"
    assert check(record(expires_at=NOW + timedelta(seconds=1)), req(), NOW) is None
    models = record(restrictions=Restrictions(anywhere_ip=True, anywhere_origin=True,
                                              models=("gpt-4o-mini", "claude-*")))  # fmt: skip
    assert check(models, req(model="gpt-4o"), NOW).code == "model_not_allowed"  # type: ignore[union-attr]
    assert check(models, req(model="gpt-4o-mini"), NOW) is None
    assert check(models, req(model="claude-sonnet-4"), NOW) is None
    assert check(models, req(model=None, endpoint="/v1/models"), NOW) is None
    ends = record(restrictions=Restrictions(anywhere_ip=True, anywhere_origin=True,
                                            endpoints=("/v1/embeddings",)))  # fmt: skip
    assert check(ends, req(), NOW).code == "endpoint_not_allowed"  # type: ignore[union-attr]
    assert check(ends, req(endpoint="/v1/embeddings"), NOW) is None


def test_budget_and_rate_limits() -> None:
    r = Restrictions(anywhere_ip=True, anywhere_origin=True, budget_day_usd=Decimal("5.00"),
                     budget_month_usd=Decimal("100"), rpm=3, tpm=1000)  # fmt: skip
    key = record(restrictions=r)
    assert check(key, req(), NOW, Decimal("4.99"), Decimal("50")) is None
    day = check(key, req(), NOW, Decimal("5.00"), Decimal("50"))
    assert day is not None and day.code == "budget_exceeded" and day.http_status == 429
    assert "$5.00 of its $5.00" in day.message
    month = check(key, req(), NOW, Decimal("1"), Decimal("100.00"))
    assert month is not None and month.code == "budget_exceeded" and "month" in month.message
    # 2 requests counted: the third passes (2 + 1 <= 3), a fourth does not
    assert check(key, req(), NOW, used_minute=(2, 0)) is None
    rate = check(key, req(), NOW, used_minute=(3, 0))
    # NOW is 12:00:15: the minute ends in 60 - 15 = 45 s
    assert rate is not None and rate.code == "rate_limited" and rate.retry_after_s == 45
    tokens = check(key, req(), NOW, used_minute=(1, 1000))
    assert tokens is not None and tokens.code == "rate_limited"
    assert check(key, req(), NOW, used_minute=(1, 999)) is None


def test_restrictions_round_trip() -> None:
    r = Restrictions(ips=("10.0.0.0/8",), origins=("*.example.com",), models=("gpt-4o",),
                     endpoints=("/v1/responses",), budget_day_usd=Decimal("0.10"),
                     budget_month_usd=Decimal("12.345678"), rpm=5, tpm=None)  # fmt: skip
    assert Restrictions.from_dict(r.to_dict()) == r


# -- the snapshot -----------------------------------------------------------------------------
def test_snapshot_round_trip_and_find(tmp_path: Path) -> None:
    secret = "tb-" + secrets.token_urlsafe(32)
    old = "tb-" + secrets.token_urlsafe(32)
    rec = record(secret, old_hash=hash_secret(old), old_hash_until=NOW + timedelta(hours=1),
                 expires_at=NOW + timedelta(days=30), spent_day="2026-05-04",
                 spent_day_usd=Decimal("1.25"), spent_month="2026-05",
                 spent_month_usd=Decimal("7.5"))  # fmt: skip
    path = tmp_path / "snap" / "keys.json"
    write_snapshot(path, [rec], now=NOW)
    assert secret not in path.read_text() and old not in path.read_text()
    snap = read_snapshot(path)
    assert snap.records == (rec,)
    assert snap.find(secret) == rec
    assert snap.find(old, now=NOW) == rec
    assert snap.find(old, now=NOW + timedelta(hours=1)) is None  # the grace period ended
    assert snap.find(secret[:-1] + ("B" if secret[-1] != "B" else "C")) is None
    assert snap.find(None) is None and snap.find("") is None
    assert rec.spent(NOW) == (Decimal("1.25"), Decimal("7.5"))
    assert rec.spent(NOW + timedelta(days=1)) == (Decimal(0), Decimal("7.5"))
    assert rec.spent(NOW + timedelta(days=40)) == (Decimal(0), Decimal(0))
    assert (path.stat().st_mode & 0o077) == 0  # readable by the owner only
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no temporary left


def test_ten_thousand_random_and_forged_keys_are_refused() -> None:
    secret = "tb-" + secrets.token_urlsafe(32)
    snap = Snapshot([record(secret)])
    forged = [
        secret[:-1],
        secret + "x",
        secret.upper(),
        " " + secret,
        secret + "\n",
        hash_secret(secret),  # the stored hash itself
        "tb-" + hash_secret(secret),
        hint_of(secret),
        secret.replace("tb-", "sk-"),
    ]
    for i in range(10_000 - len(forged)):
        if i % 3 == 0:
            forged.append("tb-" + secrets.token_urlsafe(32))
        elif i % 3 == 1:  # one character changed
            pos = 3 + i % (len(secret) - 3)
            ch = "A" if secret[pos] != "A" else "B"
            forged.append(secret[:pos] + ch + secret[pos + 1 :])
        else:
            forged.append(secrets.token_hex(i % 50 + 1))
    assert len(forged) == 10_000
    assert sum(snap.find(f) is not None for f in forged) == 0
    assert snap.find(secret) is not None


def test_snapshot_cache_reloads_a_changed_file_within_two_seconds(tmp_path: Path) -> None:
    secret = "tb-" + secrets.token_urlsafe(32)
    path = tmp_path / "keys.json"
    write_snapshot(path, [record(secret)])
    cache = SnapshotCache(path)
    assert cache.current().find(secret).status == "active"  # type: ignore[union-attr]
    write_snapshot(path, [record(secret, status="revoked")])
    t0 = time.monotonic()
    while cache.current().find(secret).status != "revoked":  # type: ignore[union-attr]
        assert time.monotonic() - t0 < 2.0
        time.sleep(0.01)
    # a broken file keeps the last good snapshot; a removed one refuses every key
    path.write_text("{not json")
    os.utime(path, ns=(1, 1))
    time.sleep(0.6)
    assert cache.current().find(secret) is not None
    path.unlink()
    time.sleep(0.6)
    assert cache.current().find(secret) is None


def test_snapshot_read_while_written_is_never_half(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    recs = [record("tb-" + secrets.token_urlsafe(32), key_id=f"k{i}") for i in range(300)]
    write_snapshot(path, recs)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        while not stop.is_set():
            write_snapshot(path, recs)

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(200):
            try:
                assert len(read_snapshot(path)) == 300
            except BaseException as err:  # collected: asserted below
                errors.append(err)
    finally:
        stop.set()
        t.join()
    assert errors == []


def test_missing_snapshot_is_empty(tmp_path: Path) -> None:
    assert len(read_snapshot(tmp_path / "none.json")) == 0
    with pytest.raises(ValueError):
        (tmp_path / "bad.json").write_text("[1, 2]")
        read_snapshot(tmp_path / "bad.json")


def test_an_ipv4_mapped_network_wider_than_a_v4_slash8_is_refused():
    # ::ffff:0:0/96 would read as 0.0.0.0/0 (every IPv4 address): refused, as an allowlist or a proxy
    import pytest as _pytest

    from lib.keys.restrictions import parse_network

    with _pytest.raises(ValueError):
        parse_network("::ffff:0:0/96")
    assert str(parse_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"
    assert str(parse_network("::ffff:203.0.113.7")) == "203.0.113.7/32"
