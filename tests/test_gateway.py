"""The gateway over real HTTP on loopback: forwarding, streams passed through byte for byte,
usage and time to first token captured, every request journaled (tests/fake_upstream.py is
the provider; tests/gateway_helpers.py runs both with uvicorn)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fake_upstream import ANTHROPIC_KEY, OPENAI_KEY
from tests.gateway_helpers import Running, key, new_secret, running_gateway

SECRET = new_secret()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory):
    with running_gateway(tmp_path_factory.mktemp("gw")) as r:
        r.keys(key("k1", SECRET))
        yield r


def _auth(secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


def _direct(r: Running, path: str, body: dict, **headers: str) -> bytes:
    """What the upstream answers when called straight, with the provider key."""
    base = r.gateway.upstreams["openai"].root
    h = {"Authorization": f"Bearer {OPENAI_KEY}", **headers}
    if path == "/v1/messages":
        h = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01", **headers}
    return httpx.post(base + path, json=body, headers=h).content


def test_chat_forwarded_with_the_provider_key_and_usage_journaled(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    res = httpx.post(gw.url + "/v1/chat/completions", json=body,
                     headers=_auth(**{"X-Tokenboard-User": "u-42"}))  # fmt: skip
    assert res.status_code == 200
    assert res.content == _direct(gw, "/v1/chat/completions", body)
    seen = gw.upstream.seen[-2]  # the gateway's call (the last is the direct one)
    assert seen["headers"]["authorization"] == f"Bearer {OPENAI_KEY}"
    assert SECRET not in json.dumps(seen)
    assert "x-tokenboard-user" not in seen["headers"]
    row = gw.rows(n + 1)[-1]
    # the fake's usage: 12 prompt (2 cached), 3 completion (1 reasoning)
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"],
            row["reasoning_tokens"]) == (12, 2, 3, 1)  # fmt: skip
    assert row["model"] == "gpt-4o-mini-2024-07-18"  # as the provider answered
    assert (row["provider"], row["api_key"], row["project"], row["user_id"]) == (
        "openai", "k1", "proj-a", "u-42")  # fmt: skip
    assert (row["status"], row["http_status"], row["error_code"]) == ("success", 200, None)
    assert row["client_ip"] == "127.0.0.1" and row["ttft_ms"] is None
    assert row["request_id"] == res.headers["x-tokenboard-request-id"]
    assert len(row["request_id"]) == 32 and row["cost_usd"] is None and row["batch"] is False
    assert row["latency_ms"] >= 0


def test_chat_stream_without_include_usage_reaches_the_client_unchanged(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=_auth()) as res:
        got = b"".join(res.iter_raw())
    # the gateway asked for the usage chunk ...
    assert gw.upstream.seen[-1]["body"]["stream_options"] == {"include_usage": True}
    # ... and the client got exactly what the provider sends without it
    assert got == _direct(gw, "/v1/chat/completions", body)
    assert b'"usage"' not in got and got.endswith(b"data: [DONE]\n\n")
    row = gw.rows(n + 1)[-1]
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"]) == (12, 2, 3)
    assert row["status"] == "success" and row["ttft_ms"] is not None


def test_chat_stream_with_include_usage_is_byte_equal(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body,
                      headers=_auth(**{"x-test-id": "inc"})) as res:  # fmt: skip
        chunks = list(res.iter_raw())
    assert b"".join(chunks) == gw.upstream.sent["inc"]
    assert len(chunks) > 1  # passed on as it came, not as one buffered body
    assert res.headers["content-type"].startswith("text/event-stream")
    assert res.headers["x-ratelimit-limit-requests"] == "60"  # provider headers kept
    assert gw.rows(n + 1)[-1]["output_tokens"] == 3


def test_anthropic_stream_byte_equal_with_usage(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "claude-haiku-4-5", "max_tokens": 20, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    headers = {"x-api-key": SECRET, "anthropic-version": "2023-06-01", "x-test-id": "ant"}
    with httpx.stream("POST", gw.url + "/v1/messages", json=body, headers=headers) as res:
        got = b"".join(res.iter_raw())
    assert res.status_code == 200 and got == gw.upstream.sent["ant"]
    assert gw.upstream.seen[-1]["headers"]["x-api-key"] == ANTHROPIC_KEY
    row = gw.rows(n + 1)[-1]
    # message_start: 20 uncached + 5 cache reads + 3 cache writes = 28 in; message_delta: 4 out
    assert (row["input_tokens"], row["cached_input_tokens"], row["cache_write_tokens"],
            row["output_tokens"]) == (28, 5, 3, 4)  # fmt: skip
    assert (row["provider"], row["status"], row["model"]) == (
        "anthropic",
        "success",
        "claude-haiku-4-5",
    )
    assert row["ttft_ms"] is not None and row["ttft_ms"] <= row["latency_ms"]


def test_anthropic_whole_answer_and_sdk_default_version(gw: Running) -> None:
    n = gw.journal.written()
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "hi"}],
    }
    res = httpx.post(gw.url + "/v1/messages", json=body, headers={"x-api-key": SECRET})
    assert res.status_code == 200 and res.json()["content"][0]["text"] == "Bonjour"
    assert gw.upstream.seen[-1]["headers"]["anthropic-version"] == "2023-06-01"
    row = gw.rows(n + 1)[-1]
    assert (row["input_tokens"], row["output_tokens"]) == (28, 4)


def test_responses_stream_and_whole_usage(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "gpt-4.1", "input": "hi", "stream": True}
    with httpx.stream("POST", gw.url + "/v1/responses", json=body,
                      headers=_auth(**{"x-test-id": "resp"})) as res:  # fmt: skip
        got = b"".join(res.iter_raw())
    assert got == gw.upstream.sent["resp"]
    res2 = httpx.post(
        gw.url + "/v1/responses", json={"model": "gpt-4.1", "input": "hi"}, headers=_auth()
    )
    assert res2.status_code == 200
    rows = gw.rows(n + 2)[-2:]
    for row in rows:  # 9 input (4 cached), 5 output (2 reasoning)
        assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"],
                row["reasoning_tokens"]) == (9, 4, 5, 2)  # fmt: skip
    assert rows[0]["ttft_ms"] is not None and rows[1]["ttft_ms"] is None


def test_embeddings_and_models(gw: Running) -> None:
    n = gw.journal.written()
    res = httpx.post(gw.url + "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"},
                     headers=_auth())  # fmt: skip
    assert res.json()["data"][0]["embedding"] == [0.25, -0.5]
    models = httpx.get(gw.url + "/v1/models", headers=_auth()).json()
    assert [m["id"] for m in models["data"]][:2] == ["gpt-4o-mini", "gpt-4o"]
    claude = httpx.get(
        gw.url + "/v1/models", headers={"x-api-key": SECRET, "anthropic-version": "2023-06-01"}
    )
    assert claude.json()["data"][0]["id"] == "claude-haiku-4-5"
    rows = gw.rows(n + 3)[-3:]
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"]) == (6, 0)
    assert [r["provider"] for r in rows] == ["openai", "openai", "anthropic"]


def test_compatible_upstream_by_model_prefix(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "compatible/llama3", "messages": [{"role": "user", "content": "hi"}]}
    res = httpx.post(gw.url + "/v1/chat/completions", json=body, headers=_auth())
    assert res.status_code == 200
    assert gw.upstream.seen[-1]["body"]["model"] == "llama3"
    row = gw.rows(n + 1)[-1]
    assert (row["provider"], row["model"]) == ("compatible", "compatible/llama3")


def test_provider_errors_passed_through_and_journaled(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "busy", "messages": [{"role": "user", "content": "hi"}]}
    res = httpx.post(gw.url + "/v1/chat/completions", json=body, headers=_auth())
    assert res.status_code == 429 and res.headers["retry-after"] == "7"
    assert res.content == _direct(gw, "/v1/chat/completions", body)
    row = gw.rows(n + 1)[-1]
    assert (row["status"], row["http_status"], row["error_code"], row["error_type"],
            row["retry_after_ms"]) == ("error", 429, "rate_limit_exceeded", "requests", 7000)  # fmt: skip


def test_cut_streams_and_midstream_errors(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "cut", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with (
        pytest.raises(httpx.HTTPError),
        httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=_auth()) as res,
    ):
        b"".join(res.iter_raw())
    row = gw.rows(n + 1)[-1]
    assert (row["status"], row["error_code"]) == ("error", "stream_cut")
    # the usage never came: estimated, never left at 0 (budgets and limits count it): one token
    # per content chunk passed on ("Hel", "lo", " world"), 4 bytes a token of the request body
    sent = httpx.Request("POST", gw.url, json=body).content
    assert (row["output_tokens"], row["input_tokens"]) == (3, len(sent) // 4)
    body = {"model": "claude-midstream-error", "max_tokens": 5, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    with httpx.stream(
        "POST", gw.url + "/v1/messages", json=body, headers={"x-api-key": SECRET}
    ) as res:
        assert b"overloaded_error" in b"".join(res.iter_raw())
    row = gw.rows(n + 2)[-1]
    assert (row["status"], row["http_status"], row["error_code"], row["input_tokens"]) == (
        "error", 200, "overloaded_error", 28)  # fmt: skip


def test_client_that_leaves_mid_stream_is_journaled_as_cut(gw: Running) -> None:
    n = gw.journal.written()
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=_auth()) as res:
        next(res.iter_raw())  # the first chunk, then the client hangs up
    row = gw.rows(n + 1)[-1]
    assert (row["status"], row["error_code"]) == ("error", "stream_cut")


def test_unknown_path_and_health(gw: Running) -> None:
    res = httpx.post(gw.url + "/v1/completions", json={}, headers=_auth())
    assert res.status_code == 404 and res.json()["error"]["code"] == "unknown_url"
    assert httpx.get(gw.url + "/healthz").json() == {"status": "ok"}


def test_provider_key_missing(tmp_path) -> None:
    with running_gateway(tmp_path, openai_key=None) as r:
        r.keys(key("k1", SECRET))
        res = httpx.post(
            r.url + "/v1/embeddings", json={"model": "m", "input": "x"}, headers=_auth()
        )
        assert res.status_code == 503
        assert res.json()["error"]["code"] == "provider_key_missing"
        assert "OPENAI_API_KEY" in res.json()["error"]["message"]
        assert r.rows(1)[0]["error_code"] == "provider_key_missing"
