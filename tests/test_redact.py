"""Provider error bodies that echo a key never show it: one masking function, used by the pull
client and the chat client."""

from __future__ import annotations

import httpx
import pytest

import lib.llm.chat as chat
from lib.llm.chat import ChatRequest, run_chat
from lib.pull.client import ApiClient, PullError, RetryPolicy
from lib.redact import MASK, mask_secrets

SECRETS = [
    "sk-proj-Abc123def456ghi789jkl012mno345",
    "sk-ant-api03-Zx9_yW8-vU7tS6rQ5pO4nM3lK2jI1hG0fE",
    "sk-admin-AbCdEf0123456789GhIjKl",
    "sk-ant-admin01-QWERTYuiop1234567890asdf",
    "0123456789abcdef0123456789ABCDEF",  # Azure-style hex key
    "eyJhbGciOiJIUzI1NiJ9xQ2wE3rT4yU5iO6pA7sD8fG9",
]
KEEP = [
    "Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min",
    "The model `claude-3-5-sonnet-20241022` does not exist",
    "meta-llama-3-1-405b-instruct-maas-20240723-preview",
    "max_tokens: 4096 > 2048",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_key_shaped_text_is_masked(secret):
    for text in (f"Incorrect API key provided: {secret}.", f"Authorization: Bearer {secret}",
                 f'{{"api_key": "{secret}"}}', f"x-api-key={secret}&a=1"):  # fmt: skip
        out = mask_secrets(text)
        assert secret not in out and secret[-12:] not in out and MASK in out, out


def test_bearer_and_named_values():
    assert mask_secrets("Bearer abcdefgh.ijk") == f"Bearer {MASK}"
    assert mask_secrets("password=hunter2!x") == f"password={MASK}"


@pytest.mark.parametrize("text", KEEP)
def test_ordinary_messages_are_kept(text):
    assert mask_secrets(text) == text


def _echo(status: int, key: str) -> httpx.MockTransport:
    body = {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


@pytest.mark.parametrize("status", [401, 500])
def test_pull_errors_mask_an_echoed_key(status):
    key = SECRETS[2]
    client = ApiClient("https://api.example.test", {"Authorization": f"Bearer {key}"},
                       label="OpenAI usage API", policy=RetryPolicy(max_retries=1), sleep=lambda s: None)  # fmt: skip
    client._http = httpx.Client(base_url="https://api.example.test", transport=_echo(status, key))
    with pytest.raises(PullError) as err:
        client.get_json("/v1/organization/usage/completions", [])
    assert key not in str(err.value) and MASK in str(err.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "compatible"])
def test_chat_errors_mask_an_echoed_key(monkeypatch, provider):
    key = SECRETS[0]
    real = httpx.Client
    monkeypatch.setattr(chat.httpx, "Client", lambda **kw: real(transport=_echo(401, key), **kw))
    req = ChatRequest(provider, "https://api.example.test/v1", "gpt-4o",
                      ({"role": "user", "content": "hi"},), api_key=key)  # fmt: skip
    res = run_chat(req)
    assert res.status == "error" and res.error is not None
    assert key not in repr(res) and MASK in res.error.message
