"""The Keys page's "would this IP / origin be allowed?" (lib.keys.check)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lib.keys import store as keys
from lib.keys.check import would_allow, would_allow_key
from lib.keys.validate import KeyInputError, build_restrictions
from lib.store import Store

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def test_would_allow(store: Store, tmp_path: Path) -> None:
    snap = tmp_path / "k.json"
    r = build_restrictions(ips="10.0.0.0/8, 2001:db8::/32", origins="*.example.com",
                           models="gpt-4o", endpoints="/v1/embeddings", rpm=1)  # fmt: skip
    rec, _secret = keys.create_key(store, "admin", "ann", "web", None, None,
                                   NOW + timedelta(days=1), r, now=NOW, snapshot=snap)  # fmt: skip
    v = would_allow(rec, "10.9.8.7", "https://shop.example.com", NOW)
    assert v.allowed and v.ip_entry == "10.0.0.0/8" and v.origin_entry == "*.example.com"
    v = would_allow(rec, "2001:db8::5", None, NOW)  # the origin not asked
    assert v.allowed and v.ip_entry == "2001:db8::/32" and v.origin_entry is None
    v = would_allow(rec, "192.0.2.1", None, NOW)
    assert not v.allowed and v.refusal.code == "ip_not_allowed" and v.ip_entry is None  # type: ignore[union-attr]
    v = would_allow(rec, None, "https://example.com", NOW)  # the apex is not a subdomain
    assert not v.allowed and v.refusal.code == "origin_not_allowed"  # type: ignore[union-attr]
    v = would_allow(rec, "", "none", NOW)  # a request without an Origin header
    assert not v.allowed and v.refusal.code == "origin_not_allowed"  # type: ignore[union-attr]
    # status and expiry come first, as in the gateway
    v = would_allow(rec, "10.0.0.1", None, NOW + timedelta(days=2))
    assert v.refusal is not None and v.refusal.code == "key_expired"
    keys.revoke_key(store, "admin", "ann", rec.key_id, now=NOW, snapshot=snap)
    v = would_allow_key(store, "viewer", rec.key_id, "10.0.0.1", None, NOW)
    assert v.refusal is not None and v.refusal.code == "key_revoked"
    with pytest.raises(KeyInputError) as err:
        would_allow(rec, "10.0.0.256", None, NOW)
    assert err.value.code == "bad_ip"


def test_anywhere(store: Store, tmp_path: Path) -> None:
    r = build_restrictions(anywhere_ip=True, anywhere_origin=True)
    rec, _ = keys.create_key(store, "admin", "ann", "open", None, None, None, r, now=NOW,
                             snapshot=tmp_path / "k.json")  # fmt: skip
    v = would_allow(rec, "::1", "none", NOW)
    assert v.allowed and (v.ip_entry, v.origin_entry) == ("*", "*")
