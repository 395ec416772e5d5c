"""The providers' API keys through their admin APIs, against a local server that speaks them
(OpenAI's Administration API and Anthropic's Admin API: lists paged by ``after`` /
``after_id`` and ``has_more`` / ``last_id``), joined with the usage of a real DuckDB file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file
from lib.keys.store import audit_log
from lib.provider_keys import (
    ProviderKeyError,
    archive_or_deactivate,
    create_service_account,
    delete_project_key,
    inventory,
    key_usage,
    refusals,
    rename_anthropic_key,
)
from lib.provider_keys.usage import is_stale
from lib.pull.sources import pull
from tests.admin_api_server import ANTHROPIC_KEY, OPENAI_KEY, AdminApi

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
COMPLETIONS = "/v1/organization/usage/completions"


def unix(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, tzinfo=UTC).timestamp())


def user(email: str) -> dict:
    return {"type": "user", "user": {"object": "organization.project.user", "id": "user_" + email[:3],
                                     "name": email.split("@")[0].title(), "email": email, "role": "owner"}}  # fmt: skip


def project_key(kid: str, created: int, last: int | None, owner: dict) -> dict:
    return {"object": "organization.project.api_key", "id": kid, "name": f"{kid} name",
            "redacted_value": f"sk-proj-****{kid[-2:]}", "created_at": created, "last_used_at": last,
            "owner": owner}  # fmt: skip


CI_BOT = {"object": "organization.project.service_account", "id": "svc_acct_ci", "name": "ci-bot",
          "role": "member", "created_at": unix(2025, 12, 1)}  # fmt: skip


def anthropic_key(kid: str, status: str, name: str) -> dict:
    return {"type": "api_key", "id": kid, "name": name, "status": status, "workspace_id": "wrkspc_1",
            "created_at": "2026-01-02T03:04:05.123456Z", "expires_at": None,
            "created_by": {"id": "user_01", "type": "user"}, "partial_key_hint": f"sk-ant-api03-R2D...{kid[-2:]}"}  # fmt: skip


@pytest.fixture
def server(monkeypatch):
    with AdminApi(page_size=2) as s:
        # three projects (two pages of two); proj_a has three keys (two pages) and a service account
        s.projects = [{"object": "organization.project", "id": p, "name": n, "status": "active"}
                      for p, n in (("proj_a", "Alpha"), ("proj_b", "Beta"), ("proj_c", "Gamma"))]  # fmt: skip
        s.project_keys["proj_a"] = [
            project_key("key_a1", unix(2026, 1, 1), unix(2026, 5, 19), user("ann@example.com")),
            project_key("key_a2", unix(2025, 12, 1), None, {"type": "service_account", "service_account": CI_BOT}),
            project_key("key_a3", unix(2025, 1, 1), unix(2025, 6, 1), user("bob@example.com")),
        ]  # fmt: skip
        s.service_accounts["proj_a"] = [CI_BOT]
        s.project_keys["proj_b"] = [
            project_key("key_b1", unix(2026, 5, 10), None, user("cy@example.com"))
        ]
        s.admin_keys = [{"object": "organization.admin_api_key", "id": "key_admin1", "name": "Admin",
                         "redacted_value": "sk-admin-****ab", "created_at": unix(2026, 2, 1),
                         "last_used_at": unix(2026, 5, 20),
                         "owner": {"type": "user", "object": "organization.user", "id": "user_ann",
                                   "name": "Ann", "role": "owner"}}]  # fmt: skip
        s.anthropic_keys = [anthropic_key("apikey_01", "active", "Prod"),
                            anthropic_key("apikey_02", "inactive", "Old"),
                            anthropic_key("apikey_03", "archived", "Gone")]  # fmt: skip
        monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
        monkeypatch.setenv("OPENAI_ADMIN_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)
        monkeypatch.setenv("ANTHROPIC_ADMIN_BASE_URL", s.url)
        yield s


def request_log(tmp_path: Path, rows: list[dict]) -> str:
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return str(path)


def row(i: int, key: str, provider: str, model: str, ts: datetime, cost: str, **extra) -> dict:
    return {"request_id": f"{key}-{i}", "timestamp": ts.isoformat(), "provider": provider, "model": model,
            "project": "alpha", "api_key": key, "user": "u1", "status": "success", "http_status": 200,
            "latency_ms": 100, "prompt_tokens": 10, "completion_tokens": 1, "cost_usd": cost, **extra}  # fmt: skip


@pytest.fixture
def used(store, server, tmp_path):
    """Usage of the store: request events and one pulled OpenAI usage bucket."""
    may18 = datetime(2026, 5, 18, 9, tzinfo=UTC)
    rows = [row(i, "key_a1", "openai", "gpt-4o", may18 + timedelta(minutes=i), "0.50",
                client_ip=f"203.0.113.{i}", origin="https://app.example.com") for i in range(3)]  # fmt: skip
    rows += [row(i, "apikey_01", "anthropic", "claude-sonnet-4-5", may18 + timedelta(hours=1, minutes=i), "0.25")
             for i in range(2)]  # fmt: skip
    rows.append(row(0, "key_a3", "openai", "gpt-4o", datetime(2026, 1, 10, tzinfo=UTC), "9.00"))
    # refusals of a Tokenboard key: two ip_not_allowed, one key_revoked (and an ordinary error)
    for i, code in enumerate(("ip_not_allowed", "ip_not_allowed", "key_revoked", "server_error")):
        rows.append(row(i, "tbk_1", "openai", "gpt-4o", may18 + timedelta(hours=2, minutes=i), "0",
                        status="error", http_status=403, error_code=code, client_ip="198.51.100.9",
                        prompt_tokens=0, completion_tokens=0))  # fmt: skip
    import_file(store, request_log(tmp_path, rows))
    # OpenAI's usage report for May 15: key_a2 made 7 requests of gpt-4o-mini,
    # 1,000,000 input and 100,000 output tokens
    server.data[COMPLETIONS] = {unix(2026, 5, 15): [{
        "object": "organization.usage.completions.result", "input_tokens": 1_000_000, "output_tokens": 100_000,
        "num_model_requests": 7, "input_cached_tokens": 0, "project_id": "proj_a", "user_id": None,
        "api_key_id": "key_a2", "model": "gpt-4o-mini-2024-07-18", "batch": False}]}  # fmt: skip
    pull(store, "openai", date(2026, 5, 15), date(2026, 5, 15), role="admin", today=NOW.date())
    return store


def test_inventory_pages_through_both_apis(store, server):
    inv = inventory(store, "admin", NOW)
    assert inv.errors == {}
    got = [(r.key.provider, r.key.kind, r.key.key_id) for r in inv.rows]
    assert got == [
        ("openai", "project_key", "key_a1"), ("openai", "project_key", "key_a2"),
        ("openai", "project_key", "key_a3"), ("openai", "service_account", "svc_acct_ci"),
        ("openai", "project_key", "key_b1"), ("openai", "admin_key", "key_admin1"),
        ("anthropic", "api_key", "apikey_01"), ("anthropic", "api_key", "apikey_02"),
        ("anthropic", "api_key", "apikey_03"),
    ]  # fmt: skip
    # page size 2: projects in 2 pages (after=proj_b), proj_a's keys in 2 (after=key_a2),
    # Anthropic's keys in 2 (after_id=apikey_02)
    asked = [
        (r["path"], r["query"].get("after") or r["query"].get("after_id")) for r in server.requests
    ]
    assert ("/v1/organization/projects", ["proj_b"]) in asked
    assert ("/v1/organization/projects/proj_a/api_keys", ["key_a2"]) in asked
    assert ("/v1/organizations/api_keys", ["apikey_02"]) in asked
    assert [r["query"]["limit"] for r in server.requests if r["path"] == "/v1/organizations/api_keys"] == [
        ["1000"], ["1000"]]  # fmt: skip
    a1 = inv.rows[0].key
    assert (a1.name, a1.scope, a1.scope_name, a1.owner, a1.owner_type, a1.hint) == (
        "key_a1 name",
        "proj_a",
        "Alpha",
        "ann@example.com",
        "user",
        "sk-proj-****a1",
    )
    assert a1.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert a1.last_used_at == datetime(2026, 5, 19, tzinfo=UTC)
    assert (inv.rows[1].key.owner, inv.rows[1].key.owner_type) == ("ci-bot", "service_account")
    assert inv.rows[5].key.owner == "Ann"
    p1 = inv.rows[6].key
    assert (p1.status, p1.scope, p1.owner, p1.hint, p1.name) == (
        "active",
        "wrkspc_1",
        "user_01",
        "sk-ant-api03-R2D...01",
        "Prod",
    )
    assert p1.created_at == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert [r.key.status for r in inv.rows[6:]] == ["active", "inactive", "archived"]
    # the admin keys went in headers only: no request carried them elsewhere
    assert all(OPENAI_KEY not in json.dumps(r.get("query", {})) for r in server.requests)


def test_inventory_joins_usage_and_flags_stale_keys(used):
    inv = inventory(used, "admin", NOW)
    by = {r.key.key_id: r for r in inv.rows}
    # key_a1: 3 requests of $0.50 on May 18 = $1.50; provider says last used May 19 (newer than
    # the log's May 18 09:02), last IP the newest request's
    a1 = by["key_a1"]
    assert (a1.requests, a1.spend_usd) == (3, Decimal("1.50"))
    assert a1.last_used == datetime(2026, 5, 19, tzinfo=UTC)
    assert (a1.usage.last_ip, a1.usage.last_origin) == ("203.0.113.2", "https://app.example.com")
    assert not a1.stale
    # key_a2: the pulled bucket of May 15: 7 requests; 1,000,000 × $0.15/M + 100,000 × $0.60/M
    # = $0.15 + $0.06 = $0.21; last used the bucket's day (the provider states none)
    a2 = by["key_a2"]
    assert (a2.requests, a2.spend_usd) == (7, Decimal("0.21"))
    assert a2.last_used == datetime(2026, 5, 15, tzinfo=UTC) and not a2.stale
    # key_a3: used Jan 10 (log), after the provider's June 2025; nothing in the 30 days;
    # 130 days ago > 90: stale
    a3 = by["key_a3"]
    assert (a3.requests, a3.spend_usd) == (None, None)
    assert a3.last_used == datetime(2026, 1, 10, tzinfo=UTC) and a3.stale
    # key_b1 never used but created 10 days ago: not stale; with a 5-day threshold it is
    assert by["key_b1"].last_used is None and not by["key_b1"].stale
    assert {r.key.key_id for r in inventory(used, "admin", NOW, stale_days=5).rows if r.stale} >= {
        "key_b1", "key_a2"}  # fmt: skip
    # Anthropic: apikey_01 2 × $0.25 = $0.50; the inactive and archived keys are never stale
    assert (by["apikey_01"].requests, by["apikey_01"].spend_usd) == (2, Decimal("0.50"))
    assert not by["apikey_02"].stale and not by["apikey_03"].stale


def test_usage_and_refusals_by_key(used):
    u = key_usage(used, NOW)
    # the Tokenboard key's 4 error rows count as requests, cost nothing, last IP known
    assert (u["tbk_1"].requests, u["tbk_1"].last_ip) == (4, "198.51.100.9")
    assert u["key_a1"].requests == 3 and "key_a3" not in {k for k, v in u.items() if v.requests}
    r = refusals(used, NOW)
    assert r[["api_key", "error_code", "requests"]].values.tolist() == [
        ["tbk_1", "ip_not_allowed", 2],
        ["tbk_1", "key_revoked", 1],
    ]  # the server_error is no refusal
    assert r["last_ip"].tolist() == ["198.51.100.9", "198.51.100.9"]
    assert refusals(used, NOW + timedelta(days=40)).empty


def test_is_stale_edges():
    assert is_stale(None, None, NOW, 90)  # never used, age unknown
    assert not is_stale(NOW - timedelta(days=89), None, NOW, 90)
    assert is_stale(NOW - timedelta(days=91), NOW, NOW, 90)


def test_only_admins_list_or_act(store, server):
    for role in ("analyst", "viewer", None):
        with pytest.raises(PermissionDeniedError):
            inventory(store, role, NOW)
        with pytest.raises(PermissionDeniedError):
            delete_project_key(store, role, "x", "proj_a", "key_a1")
        with pytest.raises(PermissionDeniedError):
            create_service_account(store, role, "x", "proj_a", "bot")
        with pytest.raises(PermissionDeniedError):
            archive_or_deactivate(store, role, "x", "apikey_01", "inactive")
        with pytest.raises(PermissionDeniedError):
            rename_anthropic_key(store, role, "x", "apikey_01", "New")
    # nothing reached the provider, nothing was audited
    assert server.requests == [] and audit_log(store, "admin") == []
    assert len(server.project_keys["proj_a"]) == 3


def test_delete_create_update_reach_the_provider(store, server):
    delete_project_key(store, "admin", "ada", "proj_a", "key_a3")
    assert [k["id"] for k in server.project_keys["proj_a"]] == ["key_a1", "key_a2"]
    call = server.requests[-1]
    assert (call["method"], call["path"]) == (
        "DELETE",
        "/v1/organization/projects/proj_a/api_keys/key_a3",
    )
    with pytest.raises(ProviderKeyError) as err:  # gone: 404
        delete_project_key(store, "admin", "ada", "proj_a", "key_a3")
    assert err.value.code == "not_found" and "refresh the list" in str(err.value)

    made = create_service_account(store, "admin", "ada", "proj_b", "  deploy-bot ")
    assert (made.account_id, made.name, made.key_id) == ("svc_acct_new1", "deploy-bot", "key_new1")
    assert made.secret and made.secret.startswith("sk-svcacct-NEWSECRET0001")
    assert made.secret not in repr(made)
    assert server.requests[-1]["body"] == {"name": "deploy-bot"}
    # the new key is in the next inventory, redacted
    keys = {r.key.key_id: r.key for r in inventory(store, "admin", NOW).rows}
    assert keys["key_new1"].hint == "sk-svcacct-****" + made.secret[-4:]
    # the secret was written nowhere in the database
    store.checkpoint() if hasattr(store, "checkpoint") else None
    assert made.secret.encode() not in Path(store.path).read_bytes()

    key = archive_or_deactivate(store, "admin", "ada", "apikey_01", "inactive")
    assert key.status == "inactive" and server.anthropic_keys[0]["status"] == "inactive"
    assert server.requests[-1]["body"] == {"status": "inactive"}
    key = rename_anthropic_key(store, "admin", "ada", "apikey_01", " Prod (old) ")
    assert key.name == "Prod (old)" and server.anthropic_keys[0]["name"] == "Prod (old)"
    archive_or_deactivate(store, "admin", "ada", "apikey_01", "archived")
    with pytest.raises(ProviderKeyError) as err:  # an archived key cannot be changed
        archive_or_deactivate(store, "admin", "ada", "apikey_01", "active")
    assert err.value.code == "invalid" and "archived API key cannot be changed" in str(err.value)
    with pytest.raises(ProviderKeyError) as err:  # refused before any call
        archive_or_deactivate(store, "admin", "ada", "apikey_02", "deleted")
    assert err.value.code == "invalid"
    # every action is in the audit log with who did it, the failed ones too; no secret in it
    log = list(reversed(audit_log(store, "admin")))
    assert [(e.actor, e.action, e.subject, e.detail["outcome"]) for e in log] == [
        ("ada", "provider_key_deleted", "openai:key_a3", "done"),
        ("ada", "provider_key_deleted", "openai:key_a3", "failed"),
        ("ada", "provider_service_account_created", "openai:proj_b", "done"),
        ("ada", "provider_key_status", "anthropic:apikey_01", "done"),
        ("ada", "provider_key_renamed", "anthropic:apikey_01", "done"),
        ("ada", "provider_key_status", "anthropic:apikey_01", "done"),
        ("ada", "provider_key_status", "anthropic:apikey_01", "failed"),
        ("ada", "provider_key_status", "anthropic:apikey_02", "failed"),
    ]  # fmt: skip
    assert log[1].detail["code"] == "not_found" and log[2].detail["name"] == "deploy-bot"
    assert made.secret not in json.dumps([e.detail for e in log])


def test_refused_admin_key_and_unconfigured_provider(store, server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-wrong-0000000000")
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    inv = inventory(store, "admin", NOW)
    assert inv.rows == []
    assert inv.errors["openai"].code == "not_configured" and "OPENAI_ADMIN_KEY" in str(
        inv.errors["openai"]
    )
    assert inv.errors["anthropic"].code == "refused"
    assert "wrong" not in str(inv.errors["anthropic"])
