"""The chat clients against a local server speaking the OpenAI and Anthropic APIs."""

from __future__ import annotations

import pytest

from lib.http import USER_AGENT
from lib.llm.chat import ChatRequest, ChatRun, is_reasoning_model, run_chat
from tests.chat_api_server import ANTHROPIC_KEY, OPENAI_KEY, ChatApi

HELLO = ({"role": "user", "content": "Say hello"},)


@pytest.fixture
def api():
    with ChatApi() as server:
        yield server


def _openai(api, model="gpt-4o-mini", **kw) -> ChatRequest:
    return ChatRequest("openai", f"{api.url}/v1", model, HELLO, api_key=OPENAI_KEY, **kw)


def _anthropic(api, model="claude-ok", **kw) -> ChatRequest:
    return ChatRequest("anthropic", api.url, model, HELLO, api_key=ANTHROPIC_KEY, **kw)


def test_openai_stream_with_usage_and_done(api):
    run = ChatRun(
        _openai(
            api, system="Be brief.", params={"temperature": 0.2, "max_tokens": 50, "stop": ["\n\n"]}
        )
    )
    assert list(run.stream()) == ["Hel", "lo", " world"]
    r = run.result
    assert (r.status, r.text, r.finish_reason, r.request_id) == (
        "ok",
        "Hello world",
        "stop",
        "req_test_1",
    )
    assert (r.usage.prompt_tokens, r.usage.cached_tokens, r.usage.completion_tokens, r.usage.reasoning_tokens) == (
        12, 2, 3, 0,
    )  # fmt: skip
    assert 0 <= r.ttft_s <= r.total_s
    assert r.rate_limits == (60, 150000)  # x-ratelimit-limit-requests / -tokens
    sent = api.bodies[0]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert (sent["temperature"], sent["max_tokens"], sent["stop"]) == (0.2, 50, ["\n\n"])
    assert api.headers[0]["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert {k.lower(): v for k, v in api.headers[0].items()}["user-agent"] == USER_AGENT


def test_reasoning_models_get_max_completion_tokens(api):
    assert (
        is_reasoning_model("o3-mini")
        and is_reasoning_model("gpt-5-mini")
        and not is_reasoning_model("gpt-4o")
    )
    run_chat(_openai(api, model="o3-mini", params={"max_tokens": 200}))
    assert api.bodies[0]["max_completion_tokens"] == 200 and "max_tokens" not in api.bodies[0]


def test_openai_without_streaming(api):
    r = run_chat(_openai(api, stream=False))
    assert (r.status, r.text, r.usage.prompt_tokens, r.usage.completion_tokens) == (
        "ok",
        "Hello world",
        12,
        3,
    )
    assert "stream" not in api.bodies[0]


@pytest.mark.parametrize(("model", "status", "title", "retry_after"), [
    ("ctx", 400, "Prompt too long for the model", None),
    ("busy", 429, "Rate limit reached", 7.0),
    ("boom", 500, "Provider error", None),
])  # fmt: skip
def test_openai_errors_are_explained(api, model, status, title, retry_after):
    r = run_chat(_openai(api, model=model))
    assert (r.status, r.error.status, r.error.advice.title, r.error.retry_after) == (
        "error",
        status,
        title,
        retry_after,
    )
    if retry_after:
        assert r.error.advice.fix.startswith("The provider asks to wait 7 s.")


def test_a_refused_key_is_explained_and_never_echoed(api):
    wrong = "sk-wrong-secret-value-42"
    r = run_chat(ChatRequest("openai", f"{api.url}/v1", "gpt-4o-mini", HELLO, api_key=wrong))
    assert (r.error.status, r.error.advice.title) == (401, "API key refused")
    assert wrong not in repr(r) and wrong not in repr(
        ChatRequest("openai", "x", "m", HELLO, api_key=wrong)
    )


def test_a_cut_stream_keeps_the_text_and_says_so(api):
    run = ChatRun(_openai(api, model="cut"))
    assert list(run.stream()) == ["Hel", "lo"]
    r = run.result
    assert (r.status, r.text, r.error.advice.title) == (
        "error",
        "Hello",
        "The answer stopped half-way",
    )
    assert r.usage.completion_tokens is None  # the usage chunk never came


def test_stop_button_ends_the_stream(api):
    seen: list[str] = []
    run = ChatRun(_openai(api, model="slow"), should_stop=lambda: len(seen) >= 1)
    for text in run.stream():
        seen.append(text)
    assert (run.result.status, run.result.text) == ("stopped", "Hel")


def test_timeouts_and_refused_connections(api):
    r = run_chat(_openai(api, model="slow", timeout_s=0.1))
    assert r.error.advice.kind == "network"
    closed = ChatRequest(
        "openai", "http://127.0.0.1:9/v1", "gpt-4o-mini", HELLO, api_key=OPENAI_KEY
    )
    assert run_chat(closed).error.advice.title == "Could not connect"


def test_anthropic_stream(api):
    run = ChatRun(_anthropic(api, system="Réponds en français.", params={"max_tokens": 64, "temperature": 0.5,
                                                                          "stop": ["END"]}))  # fmt: skip
    assert list(run.stream()) == ["Bon", "jour"]
    r = run.result
    # input = 20 uncached + 5 read from cache; output from message_delta
    assert (r.status, r.text, r.finish_reason) == ("ok", "Bonjour", "end_turn")
    assert (r.usage.prompt_tokens, r.usage.cached_tokens, r.usage.completion_tokens) == (25, 5, 4)
    assert r.rate_limits == (50, 38000)  # requests; input 30,000 + output 8,000 tokens a minute
    sent, headers = api.bodies[0], api.headers[0]
    assert (sent["system"], sent["max_tokens"], sent["stop_sequences"], sent["stream"]) == (
        "Réponds en français.", 64, ["END"], True,
    )  # fmt: skip
    assert headers["x-api-key"] == ANTHROPIC_KEY and headers["anthropic-version"] == "2023-06-01"


def test_anthropic_errors(api):
    r = run_chat(_anthropic(api, model="claude-overloaded"))
    assert (r.error.status, r.error.advice.title, r.error.advice.retry) == (
        529,
        "Provider overloaded",
        True,
    )
    mid = run_chat(_anthropic(api, model="claude-midstream-error"))
    assert (mid.status, mid.text, mid.error.advice.title) == (
        "error",
        "Bonjour",
        "Provider overloaded",
    )
    cut = run_chat(_anthropic(api, model="claude-cut"))
    assert cut.error.advice.title == "The answer stopped half-way"


def test_azure_base_urls_send_the_key_as_api_key():
    from lib.llm.adapters import adapter

    azure, base = adapter("compatible"), "https://acme.openai.azure.com/openai/v1"
    assert azure.headers("k-azure", base) == {"api-key": "k-azure"}
    assert azure.chat_url(base) == "https://acme.openai.azure.com/openai/v1/chat/completions"
    ollama, base = adapter("compatible"), "http://localhost:11434/v1"
    assert ollama.headers(None, base) == {}
    assert ollama.chat_url(base) == "http://localhost:11434/v1/chat/completions"
    # an unknown provider id is taken as an OpenAI-compatible API
    assert adapter("my-gateway") is adapter("compatible")
