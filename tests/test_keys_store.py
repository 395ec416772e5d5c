"""Tokenboard keys in the database (lib.keys.store, lib.keys.validate): lifecycle, secrets
never stored, rotation's grace, validation, roles, the append-only audit log, the snapshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_records
from lib.keys import store as keys
from lib.keys.restrictions import Request, Restrictions, check
from lib.keys.snapshot import hash_secret, read_snapshot
from lib.keys.validate import KeyInputError, build_restrictions, check_origin
from lib.store import Store

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
OPEN = Restrictions(anywhere_ip=True, anywhere_origin=True)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


def make(store: Store, snap: Path, name: str = "web", r: Restrictions = OPEN, **kw: object):
    args: dict[str, object] = {"owner": "ann", "project": "shop", "expires_at": None,
                               "now": NOW, "snapshot": snap}  # fmt: skip
    args.update(kw)
    return keys.create_key(store, "admin", "ann", name, restrictions=r, **args)  # type: ignore[arg-type]


def test_create_shows_the_secret_once_and_stores_only_its_hash(
    store: Store, snap: Path, db_path: str
) -> None:
    record, secret = make(store, snap)
    assert re.fullmatch(r"tb-[A-Za-z0-9_-]{43}", secret)  # 32 random bytes, URL-safe
    assert record.hash == hash_secret(secret)
    assert record.hint == "tb-…" + secret[-4:]
    assert record.key_id.startswith("tbk_")
    [info] = keys.list_keys(store, "viewer")
    assert info.record == record and info.created_by == "ann" and info.created_at == NOW
    store.close()  # everything on disk: the database file, its WAL, the snapshot
    for path in (Path(db_path), Path(db_path + ".wal"), snap):
        if path.exists():
            data = path.read_bytes()
            assert secret.encode() not in data
            assert secret[3:].encode() not in data  # not even without its prefix
    assert record.hash in snap.read_text()
    # a second key gets another secret
    with Store(db_path) as s2:
        _rec2, secret2 = make(s2, snap, "batch")
        assert secret2 != secret and len(keys.list_keys(s2, "admin")) == 2


def test_revoke_reaches_the_snapshot(store: Store, snap: Path) -> None:
    record, secret = make(store, snap)
    assert read_snapshot(snap).find(secret).status == "active"  # type: ignore[union-attr]
    revoked = keys.revoke_key(store, "admin", "bob", record.key_id, now=NOW, snapshot=snap,
                              from_ip="198.51.100.1")  # fmt: skip
    assert revoked.status == "revoked"
    found = read_snapshot(snap).find(secret)
    assert found is not None and found.status == "revoked"
    refusal = check(found, Request("203.0.113.7"), NOW)
    assert refusal is not None and refusal.code == "key_revoked"
    # again: nothing changes, nothing audited twice
    keys.revoke_key(store, "admin", "bob", record.key_id, now=NOW, snapshot=snap)
    actions = [e.action for e in keys.audit_log(store, "admin")]
    assert actions == ["key_revoked", "key_created"]
    entry = keys.audit_log(store, "admin")[0]
    assert (entry.actor, entry.subject, entry.from_ip) == ("bob", record.key_id, "198.51.100.1")


def test_rotate_with_a_grace_period(store: Store, snap: Path) -> None:
    record, old = make(store, snap)
    rotated, new = keys.rotate_key(store, "admin", "ann", record.key_id, timedelta(hours=2),
                                   now=NOW, snapshot=snap)  # fmt: skip
    assert new != old and rotated.hash == hash_secret(new) and rotated.hint == "tb-…" + new[-4:]
    snap_now = read_snapshot(snap)
    assert snap_now.find(new, now=NOW) is not None
    assert snap_now.find(old, now=NOW + timedelta(hours=1, minutes=59)) is not None
    assert snap_now.find(old, now=NOW + timedelta(hours=2)) is None  # the grace ended
    # a second rotation: the first secret is refused at once, the second has its grace
    _r, newer = keys.rotate_key(store, "admin", "ann", record.key_id, timedelta(0),
                                now=NOW, snapshot=snap)  # fmt: skip
    s = read_snapshot(snap)
    assert s.find(old, now=NOW) is None and s.find(new, now=NOW) is None
    assert s.find(newer, now=NOW) is not None
    # a revoked key cannot be rotated, and its old secret is refused too
    keys.revoke_key(store, "admin", "ann", record.key_id, now=NOW, snapshot=snap)
    with pytest.raises(KeyInputError) as err:
        keys.rotate_key(store, "admin", "ann", record.key_id, now=NOW, snapshot=snap)
    assert err.value.code == "key_revoked"
    with pytest.raises(KeyInputError):
        keys.rotate_key(store, "admin", "ann", record.key_id, timedelta(days=31), now=NOW)


def test_edit_restrictions_and_details(store: Store, snap: Path) -> None:
    record, secret = make(store, snap)
    r = build_restrictions(ips="10.0.0.0/8, 2001:db8::/32", anywhere_origin=True,
                           models="gpt-4o-mini", budget_day_usd="5")  # fmt: skip
    edited = keys.edit_restrictions(store, "admin", "ann", record.key_id, r, now=NOW,
                                    snapshot=snap)  # fmt: skip
    assert edited.restrictions == r
    found = read_snapshot(snap).find(secret)
    assert found is not None and found.restrictions.ips == ("10.0.0.0/8", "2001:db8::/32")
    assert check(found, Request("203.0.113.7", model="gpt-4o-mini"), NOW).code == "ip_not_allowed"  # type: ignore[union-attr]
    assert check(found, Request("10.1.2.3", model="gpt-4o-mini"), NOW) is None
    entry = keys.audit_log(store, "admin")[0]
    assert entry.action == "restrictions_changed"
    assert entry.detail["before"]["anywhere_ip"] is True
    assert entry.detail["after"]["budget_day_usd"] == "5"
    later = NOW + timedelta(days=30)
    keys.edit_key(store, "admin", "ann", record.key_id, name="web 2", project=None,
                  expires_at=later, now=NOW, snapshot=snap)  # fmt: skip
    info = keys.get_key(store, "viewer", record.key_id)
    assert (info.record.name, info.record.project, info.record.expires_at) == ("web 2", None, later)
    assert info.record.owner == "ann"  # left out: unchanged
    assert keys.audit_log(store, "admin")[0].detail["name"] == {"before": "web", "after": "web 2"}


def test_roles_viewers_and_analysts_cannot_manage_keys(store: Store, snap: Path) -> None:
    record, _secret = make(store, snap)
    for role in ("viewer", "analyst", None, "superuser"):
        with pytest.raises(PermissionDeniedError):
            keys.create_key(store, role, "eve", "x", None, None, None, OPEN, snapshot=snap)
        with pytest.raises(PermissionDeniedError):
            keys.revoke_key(store, role, "eve", record.key_id, snapshot=snap)
        with pytest.raises(PermissionDeniedError):
            keys.rotate_key(store, role, "eve", record.key_id, snapshot=snap)
        with pytest.raises(PermissionDeniedError):
            keys.edit_restrictions(store, role, "eve", record.key_id, OPEN, snapshot=snap)
        with pytest.raises(PermissionDeniedError):
            keys.edit_key(store, role, "eve", record.key_id, name="x", snapshot=snap)
        with pytest.raises(PermissionDeniedError):
            keys.audit_log(store, role)
    assert keys.get_key(store, "admin", record.key_id).record.status == "active"
    assert len(keys.list_keys(store, "admin")) == 1
    assert store.scalar("SELECT count(*) FROM key_audit") == 1  # the creation only


def test_validation_refusals(store: Store, snap: Path) -> None:
    def code(**kw: object) -> str:
        with pytest.raises(KeyInputError) as err:
            build_restrictions(**kw)  # type: ignore[arg-type]
        return err.value.code

    assert code() == "ip_choice"  # neither addresses nor "anywhere"
    assert code(ips="10.0.0.1", anywhere_ip=True, anywhere_origin=True) == "ip_choice"
    assert code(ips="10.0.0.1") == "origin_choice"
    assert code(ips="10.0.0.300", anywhere_origin=True) == "bad_ip"
    assert code(ips="10.0.0.1/8", anywhere_origin=True) == "bad_ip"  # host bits set
    assert code(ips="2001:db8::g", anywhere_origin=True) == "bad_ip"
    for bad in ("*", "*.com", "a.*.example.com", "example.com/path", "ftp://example.com",
                "user@example.com", "-bad-.example.com", "exa mple.com"):  # fmt: skip
        assert code(anywhere_ip=True, origins=[bad]) == "bad_origin", bad
    assert code(anywhere_ip=True, anywhere_origin=True, models=["gpt 4o"]) == "bad_model"
    assert code(anywhere_ip=True, anywhere_origin=True, models="gpt*4o") == "bad_model"
    assert code(anywhere_ip=True, anywhere_origin=True, endpoints="/v1/files") == "bad_endpoint"
    for bad_budget in ("0", "-1", "abc", "1.1234567", "NaN", "Infinity"):
        assert code(anywhere_ip=True, anywhere_origin=True,
                    budget_day_usd=bad_budget) == "bad_budget", bad_budget  # fmt: skip
    for bad_limit in ("0", "-5", "1.5", "many"):
        assert code(anywhere_ip=True, anywhere_origin=True, rpm=bad_limit) == "bad_limit"
    with pytest.raises(KeyInputError) as err:
        build_restrictions(ips="10.0.0.300", anywhere_origin=True)
    assert "10.0.0.300" in str(err.value) and "CIDR" in str(err.value)
    r = build_restrictions(
        ips="192.0.2.5\n::ffff:10.0.0.0/104, 2001:DB8::/32 192.0.2.5",
        origins=["https://App.Example.com", "*.example.org", "localhost:8501", "bücher.example",
                 "http://[::1]:8080"],
        models="gpt-4o, claude-*", endpoints="/v1/messages/", budget_day_usd="$2.50",
        budget_month_usd="100", rpm="60", tpm=100000,
    )  # fmt: skip
    assert r.ips == ("192.0.2.5/32", "10.0.0.0/8", "2001:db8::/32")
    assert r.origins == ("app.example.com", "*.example.org", "localhost:8501",
                         "xn--bcher-kva.example", "[::1]:8080")  # fmt: skip
    assert r.models == ("gpt-4o", "claude-*") and r.endpoints == ("/v1/messages",)
    assert r.budget_day_usd == Decimal("2.50") and r.budget_month_usd == Decimal(100)
    assert (r.rpm, r.tpm) == (60, 100_000)
    assert check_origin("HTTPS://WWW.Example.COM:443") == "www.example.com:443"
    # a key with refused settings is not created; nor one with a past expiry or no name
    with pytest.raises(KeyInputError):
        make(store, snap, r=Restrictions())
    with pytest.raises(KeyInputError) as err:
        make(store, snap, expires_at=NOW - timedelta(seconds=1))
    assert err.value.code == "bad_expiry"
    with pytest.raises(KeyInputError) as err:
        make(store, snap, name="  ")
    assert err.value.code == "bad_name"
    assert keys.list_keys(store, "admin") == []
    assert store.scalar("SELECT count(*) FROM key_audit") == 0


def test_the_audit_log_is_append_only(store: Store, snap: Path) -> None:
    """Every action only adds rows: the rows before it are unchanged after it; and no code
    in lib updates or deletes the audit table."""

    def rows() -> list[tuple[object, ...]]:
        return store.query("SELECT * FROM key_audit ORDER BY id")

    before = rows()
    record, _s = make(store, snap)
    steps = [
        lambda: keys.rotate_key(store, "admin", "ann", record.key_id, now=NOW, snapshot=snap),
        lambda: keys.edit_restrictions(store, "admin", "ann", record.key_id,
                                       Restrictions(anywhere_ip=True, anywhere_origin=True,
                                                    rpm=5), now=NOW, snapshot=snap),
        lambda: keys.edit_key(store, "admin", "ann", record.key_id, name="n2", now=NOW,
                              snapshot=snap),
        lambda: keys.revoke_key(store, "admin", "ann", record.key_id, now=NOW, snapshot=snap),
    ]  # fmt: skip
    for step in steps:
        before = rows()
        step()
        after = rows()
        assert after[: len(before)] == before and len(after) == len(before) + 1
    assert [r[3] for r in rows()] == ["key_created", "key_rotated", "restrictions_changed",
                                      "key_edited", "key_revoked"]  # fmt: skip
    # no statement in lib changes the table but an INSERT
    pattern = re.compile(r"(UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE|ALTER\s+TABLE)\s+"
                         r"(IF\s+EXISTS\s+)?key_audit\b", re.I)  # fmt: skip
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "lib").rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_snapshot_counts_what_each_key_spent_today_and_this_month(store: Store, snap: Path) -> None:
    record, secret = make(store, snap)
    other, _ = make(store, snap, "other")

    def row(ts: datetime, cost: str | None, key: str = record.key_id, **kw: object) -> dict:
        base: dict[str, object] = {
            "ts": ts, "request_id": f"e{ts.timestamp()}{key}", "provider": "openai",
            "model": "gpt-4o", "project": "shop", "api_key": key, "status": "success",
            "input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0,
            "output_tokens": 0, "reasoning_tokens": 0, "batch": False,
            "cost_usd": None if cost is None else Decimal(cost),
        }  # fmt: skip
        base.update(kw)
        return base

    rows = [
        row(NOW - timedelta(hours=1), "1.25"),  # today
        row(NOW - timedelta(hours=2), "0.50"),  # today
        row(NOW - timedelta(days=2), "3.00"),  # this month
        row(datetime(2026, 4, 30, 23, 59, tzinfo=UTC), "9.00"),  # last month: not counted
        row(NOW - timedelta(hours=3), "4.00", key=other.key_id),  # the other key
        # no stated cost: 1,000,000 input tokens of gpt-4o at the catalog price of the day
        row(NOW - timedelta(hours=4), None, input_tokens=1_000_000, request_id="est"),
    ]
    import_records(store, rows, fmt="test", grain="request", display="t", origin="gateway")
    with store.read() as cur:
        price = cur.execute(
            "SELECT input_per_mtok FROM prices WHERE model = 'gpt-4o' AND effective_from <= ? "
            "ORDER BY effective_from DESC LIMIT 1",
            [NOW.date()],
        ).scalar()
    keys.publish_snapshot(store, snap, NOW)
    s = read_snapshot(snap)
    found = s.find(secret)
    assert found is not None
    # today: 1.25 + 0.50 + the estimate; the month adds 3.00
    assert found.spent(NOW) == (Decimal("1.75") + price, Decimal("4.75") + price)
    assert found.spent_through == NOW - timedelta(hours=1)
    assert s.get(other.key_id).spent(NOW) == (Decimal(4), Decimal(4))  # type: ignore[union-attr]
    # the next day the snapshot's figures no longer count for the day
    assert found.spent(NOW + timedelta(days=1))[0] == 0


def test_default_snapshot_path_is_beside_the_database(
    store: Store, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENBOARD_KEYS_SNAPSHOT", raising=False)
    path = keys.publish_snapshot(store)
    assert path == Path(db_path).parent / "tokenboard-keys.json"
    monkeypatch.setenv("TOKENBOARD_KEYS_SNAPSHOT", str(Path(db_path).parent / "x" / "k.json"))
    assert keys.publish_snapshot(store) == Path(db_path).parent / "x" / "k.json"


def test_the_snapshot_carries_the_prices_in_force(store: Store, snap: Path) -> None:
    # two prices of one model: the one in force on NOW's day goes into the snapshot, per
    # million tokens, for the gateway to price what it serves between two snapshots
    with store.write() as cur:
        cur.execute("DELETE FROM prices")
        cur.execute("INSERT INTO prices (provider, model, effective_from, input_per_mtok, output_per_mtok) "
                    "VALUES ('openai', 'GPT-X', ?, 2, 8), ('openai', 'GPT-X', ?, 1, 4)",
                    [NOW.date() - timedelta(days=30), NOW.date() + timedelta(days=1)])  # fmt: skip
    make(store, snap)
    s = read_snapshot(snap)
    assert s.prices == {"gpt-x": (Decimal(2), Decimal(8))}
    assert s.price_of("gpt-x-2025-01-31") == s.price_of("GPT-X") == (Decimal(2), Decimal(8))
    assert s.price_of("other") is None
