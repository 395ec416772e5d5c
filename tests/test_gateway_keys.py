"""The gateway's checks of Tokenboard keys, over loopback: each refusal in OpenAI's and
Anthropic's error formats, client IPs (X-Forwarded-For only from trusted proxies, IPv6
CIDRs), wildcard origins, a revocation seen within 2 s, 10,000 random and forged keys, and
secrets never in the journal or the logs."""

from __future__ import annotations

import logging
import random
import string
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from lib.keys.snapshot import hash_secret
from tests.fake_upstream import ANTHROPIC_KEY, OPENAI_KEY
from tests.gateway_helpers import Running, key, new_secret, running_gateway

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
CLAUDE = {
    "model": "claude-haiku-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


def _openai(r: Running, secret: str, body: dict = CHAT, path: str = "/v1/chat/completions",
            **headers: str) -> httpx.Response:  # fmt: skip
    return httpx.post(
        r.url + path, json=body, headers={"Authorization": f"Bearer {secret}", **headers}
    )


def _anthropic(r: Running, secret: str, body: dict = CLAUDE, **headers: str) -> httpx.Response:
    return httpx.post(r.url + "/v1/messages", json=body,
                      headers={"x-api-key": secret, "anthropic-version": "2023-06-01", **headers})  # fmt: skip


def _assert_openai_refusal(res: httpx.Response, status: int, code: str) -> None:
    assert res.status_code == status, res.text
    err = res.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["code"] == code and err["message"] and err["param"] is None
    assert res.headers["x-tokenboard-error"] == code


def _assert_anthropic_refusal(res: httpx.Response, status: int, code: str, type_: str) -> None:
    assert res.status_code == status, res.text
    doc = res.json()
    assert doc["type"] == "error" and set(doc["error"]) == {"type", "message"}
    assert doc["error"]["type"] == type_ and doc["error"]["message"].startswith(code + ": ")
    assert res.headers["x-tokenboard-error"] == code


NOW = datetime.now(UTC)
TODAY, MONTH = NOW.strftime("%Y-%m-%d"), NOW.strftime("%Y-%m")
S = {name: new_secret() for name in ("ok", "revoked", "expired", "ip", "origin", "model",
                                     "endpoint", "budget", "month", "rpm")}  # fmt: skip
# (key restrictions, expected code, HTTP status, Anthropic error type)
CASES = {
    "revoked": ({"status": "revoked"}, "key_revoked", 401, "authentication_error"),
    "expired": ({"expires_at": NOW - timedelta(days=1)}, "key_expired", 401, "authentication_error"),
    "ip": ({"anywhere_ip": False, "ips": ("10.0.0.0/8",)}, "ip_not_allowed", 403, "permission_error"),
    "origin": ({"anywhere_origin": False, "origins": ("app.example.com",)}, "origin_not_allowed", 403,
               "permission_error"),
    "model": ({"models": ("gpt-4.1*", "claude-sonnet-4-5")}, "model_not_allowed", 403, "permission_error"),
    "endpoint": ({"endpoints": ("/v1/embeddings",)}, "endpoint_not_allowed", 403, "permission_error"),
    # $5.00 spent today (the snapshot) of a $5.00 day budget
    "budget": ({"budget_day_usd": Decimal("5.00"), "spent_day": TODAY, "spent_day_usd": Decimal("5.00"),
                "spent_month": MONTH, "spent_month_usd": Decimal("5.00")}, "budget_exceeded", 429,
               "rate_limit_error"),
    "month": ({"budget_month_usd": Decimal("20"), "spent_month": MONTH, "spent_month_usd": Decimal("20.01")},
              "budget_exceeded", 429, "rate_limit_error"),
}  # fmt: skip


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory):
    with running_gateway(tmp_path_factory.mktemp("gwkeys")) as r:
        r.keys(key("ok", S["ok"]), key("rpm", S["rpm"], rpm=2),
               *(key(name, S[name], **case[0]) for name, case in CASES.items()))  # fmt: skip
        yield r


@pytest.mark.parametrize("name", list(CASES))
def test_each_refusal_in_each_format(gw: Running, name: str) -> None:
    _, code, status, ant_type = CASES[name]
    n = gw.journal.written()
    calls_before = len(gw.upstream.seen)
    _assert_openai_refusal(_openai(gw, S[name]), status, code)
    _assert_anthropic_refusal(_anthropic(gw, S[name]), status, code, ant_type)
    assert len(gw.upstream.seen) == calls_before  # nothing reached the provider
    rows = gw.rows(n + 2)[-2:]
    assert [(r["status"], r["http_status"], r["error_code"], r["api_key"]) for r in rows] == [
        ("error", status, code, name)] * 2  # fmt: skip
    assert [r["provider"] for r in rows] == ["openai", "anthropic"]


def test_invalid_key_in_each_format(gw: Running) -> None:
    _assert_openai_refusal(_openai(gw, new_secret()), 401, "invalid_api_key")
    _assert_anthropic_refusal(
        _anthropic(gw, new_secret()), 401, "invalid_api_key", "authentication_error"
    )
    res = httpx.post(gw.url + "/v1/chat/completions", json=CHAT)  # no key at all
    _assert_openai_refusal(res, 401, "invalid_api_key")
    assert res.json()["error"]["type"] == "invalid_request_error"
    row = gw.rows()[-1]
    assert row["api_key"] is None and row["error_code"] == "invalid_api_key"


def test_budget_is_insufficient_quota_for_openai(gw: Running) -> None:
    assert _openai(gw, S["budget"]).json()["error"]["type"] == "insufficient_quota"


def test_allowed_model_and_endpoint_pass(gw: Running) -> None:
    assert _openai(gw, S["model"], {**CHAT, "model": "gpt-4.1-mini"}).status_code == 200
    assert _openai(gw, S["endpoint"], {"model": "text-embedding-3-small", "input": "x"},
                   "/v1/embeddings").status_code == 200  # fmt: skip


def test_rate_limited_with_retry_after(gw: Running) -> None:
    # rpm 2: two requests pass, the third is refused until the next UTC minute
    if datetime.now(UTC).second >= 57:
        time.sleep(4)  # not across a minute's end
    assert _openai(gw, S["rpm"]).status_code == 200
    assert _anthropic(gw, S["rpm"]).status_code == 200
    res = _openai(gw, S["rpm"])
    _assert_openai_refusal(res, 429, "rate_limited")
    wait = int(res.headers["retry-after"])
    assert 1 <= wait <= 60
    ant = _anthropic(gw, S["rpm"])
    _assert_anthropic_refusal(ant, 429, "rate_limited", "rate_limit_error")
    assert ant.headers["retry-after"]
    row = gw.rows()[-1]
    assert (
        row["error_code"] == "rate_limited"
        and row["retry_after_ms"] == int(ant.headers["retry-after"]) * 1000
    )


def test_tokens_per_minute_counted_from_answers(tmp_path) -> None:
    secret = new_secret()
    with running_gateway(tmp_path) as r:
        r.keys(key("tpm", secret, tpm=20))
        if datetime.now(UTC).second >= 57:
            time.sleep(4)
        # the fake's chat answer uses 12 + 3 = 15 tokens: 15 < 20 lets a second request in,
        # 30 >= 20 refuses the third
        assert _openai(r, secret).status_code == 200
        r.rows(1)
        assert _openai(r, secret).status_code == 200
        r.rows(2)
        _assert_openai_refusal(_openai(r, secret), 429, "rate_limited")


def test_forwarded_for_is_believed_from_trusted_proxies_only(tmp_path) -> None:
    secret = new_secret()
    ten = key("ten", secret, anywhere_ip=False, ips=("10.0.0.0/8",))
    with running_gateway(tmp_path / "a") as r:  # no trusted proxy: the peer is the client
        r.keys(ten)
        res = _openai(r, secret, **{"X-Forwarded-For": "10.1.2.3"})
        _assert_openai_refusal(res, 403, "ip_not_allowed")
        assert r.rows(1)[-1]["client_ip"] == "127.0.0.1"
    with running_gateway(
        tmp_path / "b", trusted=("192.168.0.0/16",)
    ) as r:  # a proxy, not this peer
        r.keys(ten)
        _assert_openai_refusal(
            _openai(r, secret, **{"X-Forwarded-For": "10.1.2.3"}), 403, "ip_not_allowed"
        )
    with running_gateway(tmp_path / "c", trusted=("127.0.0.1/32",)) as r:
        r.keys(ten)
        assert _openai(r, secret, **{"X-Forwarded-For": "10.1.2.3"}).status_code == 200
        assert r.rows(1)[-1]["client_ip"] == "10.1.2.3"
        # a client writing its own X-Forwarded-For before the proxy's: the rightmost untrusted hop
        res = _openai(r, secret, **{"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
        _assert_openai_refusal(res, 403, "ip_not_allowed")
        assert r.rows(2)[-1]["client_ip"] == "203.0.113.7"


def test_ipv6_cidrs(tmp_path) -> None:
    secret = new_secret()
    with running_gateway(tmp_path / "a", host="::1") as r:  # the peer is ::1
        r.keys(key("v6", secret, anywhere_ip=False, ips=("::1/128",)))
        assert _openai(r, secret).status_code == 200
        assert r.rows(1)[-1]["client_ip"] == "::1"
        r.keys(key("v6", secret, anywhere_ip=False, ips=("2001:db8::/32", "127.0.0.0/8")))
        _assert_openai_refusal(_openai(r, secret), 403, "ip_not_allowed")
    with running_gateway(tmp_path / "b", trusted=("127.0.0.1", "::1")) as r:
        r.keys(key("v6", secret, anywhere_ip=False, ips=("2001:db8:abcd::/48",)))
        assert _openai(r, secret, **{"X-Forwarded-For": "2001:db8:abcd:12::5"}).status_code == 200
        _assert_openai_refusal(_openai(r, secret, **{"X-Forwarded-For": "2001:db8:abce::5"}), 403,
                               "ip_not_allowed")  # fmt: skip


def test_wildcard_origins(tmp_path) -> None:
    secret = new_secret()
    with running_gateway(tmp_path) as r:
        r.keys(
            key("web", secret, anywhere_origin=False, origins=("*.example.com", "localhost:8501"))
        )
        assert _openai(r, secret, Origin="https://chat.example.com").status_code == 200
        assert _openai(r, secret, Origin="https://a.b.example.com").status_code == 200
        assert _openai(r, secret, Origin="http://localhost:8501").status_code == 200
        # Referer when there is no Origin; its path and query are not journaled
        assert (
            _openai(r, secret, Referer="https://help.example.com/chat?q=private").status_code == 200
        )
        assert r.rows(4)[-1]["origin"] == "https://help.example.com"
        for bad in ("https://example.com", "https://example.com.evil.net", "https://evilexample.com",
                    "http://localhost:8502"):  # fmt: skip
            _assert_openai_refusal(_openai(r, secret, Origin=bad), 403, "origin_not_allowed")
        _assert_openai_refusal(_openai(r, secret), 403, "origin_not_allowed")  # none stated


def test_revocation_takes_effect_within_two_seconds(tmp_path) -> None:
    secret = new_secret()
    with running_gateway(tmp_path, check_every_s=0.5) as r:  # the production reload period
        r.keys(key("k", secret))
        time.sleep(0.6)
        assert _openai(r, secret).status_code == 200
        r.keys(key("k", secret, status="revoked"))
        t0 = time.monotonic()
        while _openai(r, secret).status_code == 200:
            assert time.monotonic() - t0 < 2.0, "still accepted 2 s after the revocation"
            time.sleep(0.05)
        assert time.monotonic() - t0 < 2.0
        _assert_openai_refusal(_openai(r, secret), 401, "key_revoked")


def _forgeries(real: str, old: str, n: int) -> list[str]:
    rnd = random.Random(11)
    alphabet = string.ascii_letters + string.digits + "-_"
    # (a space before or after the secret is not a forgery: HTTP drops it from header values)
    fixed = [real[:-1], real + "A", real.upper(), real.lower(), real[:10] + " " + real[10:], real[3:], "tb-", "",
             hash_secret(real), "tb-…" + real[-4:], "sk-" + real[3:], real.replace("tb-", "TB-"),
             old, real[:20], "tb-" + "A" * 43, "Bearer " + real]  # fmt: skip
    out = list(fixed)
    while len(out) < n:
        if out[-1] == real:  # a cut-and-lengthened one may rebuild the real secret by chance
            out.pop()
        kind = len(out) % 4
        if kind == 0:  # random secrets of the right shape
            out.append("tb-" + "".join(rnd.choice(alphabet) for _ in range(43)))
        elif kind == 1:  # the real secret with one character changed
            i = rnd.randrange(3, len(real))
            c = rnd.choice([a for a in alphabet if a != real[i]])
            out.append(real[:i] + c + real[i + 1 :])
        elif kind == 2:  # random printable junk of any length
            out.append(
                "".join(rnd.choice(string.printable[:94]) for _ in range(rnd.randrange(1, 120)))
            )
        else:  # the real secret cut or lengthened
            out.append(real[: rnd.randrange(3, len(real))] + "".join(rnd.choice(alphabet)
                       for _ in range(rnd.randrange(0, 4))))  # fmt: skip
    return [f for f in out[:n] if f != real]  # the real one can only be the last


@pytest.mark.slow
def test_ten_thousand_random_and_forged_keys_refused(tmp_path) -> None:
    real, old = new_secret(), new_secret()
    with running_gateway(tmp_path) as r:
        # a rotated key whose old secret's grace period has ended
        r.keys(
            key("real", real, old_hash=hash_secret(old), old_hash_until=NOW - timedelta(minutes=1))
        )
        forged = _forgeries(real, old, 10_001)
        assert len(forged) >= 10_000 and real not in forged
        statuses: dict[int, int] = {}
        codes: set[str] = set()
        with httpx.Client(base_url=r.url) as client:
            for i, f in enumerate(forged):
                raw = f.encode()  # a forged hint holds "…": sent as UTF-8 bytes
                headers = ({"x-api-key": raw, "anthropic-version": b"2023-06-01"} if i % 2
                           else {"Authorization": b"Bearer " + raw})  # fmt: skip
                try:
                    res = client.get("/v1/models", headers=headers)
                except httpx.LocalProtocolError:  # not even a valid header value: never sent
                    continue
                statuses[res.status_code] = statuses.get(res.status_code, 0) + 1
                codes.add(res.headers.get("x-tokenboard-error", ""))
            assert (
                client.get("/v1/models", headers={"Authorization": f"Bearer {real}"}).status_code
                == 200
            )
        assert set(statuses) == {401} and codes == {"invalid_api_key"}
        assert sum(statuses.values()) >= 9_900
        assert (
            len([s for s in r.upstream.seen if s["path"] == "/v1/models"]) == 1
        )  # only the real one


def test_secrets_never_in_the_journal_or_logs(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    secret = new_secret()
    caplog.set_level(logging.DEBUG)
    with running_gateway(tmp_path) as r:
        r.keys(key("k", secret, anywhere_ip=False, ips=("10.0.0.0/8",)))
        _openai(r, secret)  # refused: ip
        r.keys(key("k", secret))
        _openai(r, secret)
        _openai(r, secret, {**CHAT, "model": "busy"})
        _anthropic(r, secret, {**CLAUDE, "stream": True})
        with pytest.raises(httpx.RemoteProtocolError):  # the stream is cut: so is the client's
            _openai(r, secret, {**CHAT, "model": "cut", "stream": True})
        # the provider echoes a key in its error: the gateway's provider key is wrong here
        r.gateway.upstreams["openai"] = type(r.gateway.upstreams["openai"])(
            "openai", r.gateway.upstreams["openai"].base_url, "sk-wrong-provider-key-123456789"
        )
        res = _openai(r, secret)
        assert res.status_code == 401
        text = r.journal.path.read_text() if r.rows(6) else ""
    logs = caplog.text + "\n".join(str(rec.__dict__) for rec in caplog.records)
    for s in (
        secret,
        OPENAI_KEY,
        ANTHROPIC_KEY,
        "sk-wrong-provider-key-123456789",
        hash_secret(secret),
    ):
        assert s not in text and s not in logs
    assert "stream_cut" in text and "ip_not_allowed" in text


def test_browser_apps_cors_and_no_origin_upstream(tmp_path) -> None:
    secret = new_secret()
    site = "https://shop.example.com"
    with running_gateway(tmp_path) as r:
        r.keys(key("web", secret, anywhere_origin=False, origins=("*.example.com",)))
        pre = httpx.options(r.url + "/v1/chat/completions", headers={
            "Origin": site, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})  # fmt: skip
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == site
        assert pre.headers["access-control-allow-headers"] == "authorization, content-type"
        res = _openai(r, secret, Origin=site)
        assert res.status_code == 200 and res.headers["access-control-allow-origin"] == site
        assert "retry-after" in res.headers["access-control-expose-headers"]
        # the provider never sees the browser's Origin (Anthropic refuses browser calls)
        assert "origin" not in r.upstream.seen[-1]["headers"]
        bad = _openai(r, secret, Origin="https://evil.net")
        _assert_openai_refusal(bad, 403, "origin_not_allowed")
        assert bad.headers["access-control-allow-origin"] == "https://evil.net"  # readable refusal
        assert r.rows(2)[-1]["origin"] == "https://evil.net"  # the preflight is not journaled


def test_a_request_whose_model_cannot_be_read_is_refused_by_a_model_list(gw: Running) -> None:
    # /v1/responses with a stored prompt and no model, a body nested past Python's limit, and a
    # compressed body: none names a model the check can read, so a key limited to some models
    # refuses them (and the handler never fails on them)
    calls = len(gw.upstream.seen)
    _assert_openai_refusal(_openai(gw, S["model"], {"prompt": {"id": "pmpt_1"}}, "/v1/responses"),
                           403, "model_not_allowed")  # fmt: skip
    deep = "[" * 100_000 + "]" * 100_000
    res = httpx.post(gw.url + "/v1/chat/completions", content=deep.encode(),
                     headers={"Authorization": f"Bearer {S['model']}", "Content-Type": "application/json"})  # fmt: skip
    _assert_openai_refusal(res, 403, "model_not_allowed")
    res = httpx.post(gw.url + "/v1/chat/completions", content=b"\x1f\x8b...",
                     headers={"Authorization": f"Bearer {S['ok']}", "Content-Encoding": "gzip"})  # fmt: skip
    _assert_openai_refusal(res, 415, "unsupported_encoding")
    assert len(gw.upstream.seen) == calls  # nothing reached the provider


def test_the_client_cannot_choose_the_organisation_or_project_billed(gw: Running) -> None:
    res = _openai(
        gw, S["ok"], **{"OpenAI-Organization": "org-other", "OpenAI-Project": "proj_other"}
    )
    assert res.status_code == 200
    sent = {k.lower() for k in gw.upstream.seen[-1]["headers"]}
    assert "openai-organization" not in sent and "openai-project" not in sent


def test_an_unknown_key_leaves_no_client_chosen_model_in_the_journal(gw: Running) -> None:
    n = gw.journal.written()
    _openai(gw, "tb-" + "x" * 43, {**CHAT, "model": "m" * 5000})
    # an earlier test's request may be journaled after ``n`` was read: find this one's row
    for _ in range(100):
        refused = [r for r in gw.rows(n + 1)[n:] if r["error_code"] == "invalid_api_key"]
        if refused:
            break
        time.sleep(0.1)
    assert len(refused) == 1 and refused[0]["model"] is None


def test_an_unknown_key_is_refused_before_its_body_is_read(gw: Running) -> None:
    # 40 MiB (over the 32 MiB limit) with an unknown key: the key's refusal (401), not the size's
    # (413): the body was never read; a known key with the same body gets the size's refusal
    big = b'{"model": "gpt-4o-mini", "pad": "' + b"x" * (40 * 1024 * 1024) + b'"}'
    res = httpx.post(gw.url + "/v1/chat/completions", content=big, timeout=60,
                     headers={"Authorization": "Bearer tb-unknown", "Content-Type": "application/json"})  # fmt: skip
    _assert_openai_refusal(res, 401, "invalid_api_key")
    res = httpx.post(gw.url + "/v1/chat/completions", content=big, timeout=60,
                     headers={"Authorization": f"Bearer {S['ok']}", "Content-Type": "application/json"})  # fmt: skip
    assert res.status_code == 413


def test_the_gateway_counts_what_it_serves_against_the_budget(tmp_path) -> None:
    # the snapshot says $0 spent today; gpt-4o-mini at $1 a token in and out (per million:
    # 1,000,000): one answer of 12 + 3 tokens costs $15, over the $10 day budget, so the next
    # request is refused without waiting for the app to import the journal
    secret = new_secret()
    with running_gateway(tmp_path) as r:
        r.keys(key("b1", secret, budget_day_usd=Decimal("10")),
               prices={"gpt-4o-mini": (Decimal(1_000_000), Decimal(1_000_000))})  # fmt: skip
        first = _openai(r, secret)
        assert first.status_code == 200
        (row,) = r.rows(1)
        assert (row["input_tokens"], row["output_tokens"]) == (12, 3)
        _assert_openai_refusal(_openai(r, secret), 429, "budget_exceeded")
        # a snapshot that counted that answer (spent_through at its start) is not added to again
        counted = datetime.fromisoformat(row["ts"])
        r.keys(key("b1", secret, budget_day_usd=Decimal("20"), spent_day=TODAY, spent_day_usd=Decimal("15"),
                   spent_month=MONTH, spent_month_usd=Decimal("15"), spent_through=counted),
               prices={"gpt-4o-mini": (Decimal(1_000_000), Decimal(1_000_000))})  # fmt: skip
        time.sleep(0.6)  # the gateway looks at the file every 0.5 s
        assert _openai(r, secret).status_code == 200  # $15 of $20: not $30
