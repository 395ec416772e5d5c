"""Provider error bodies that echo a key never show it: one masking function, used by the pull
client and the chat client."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler

import pytest

from lib.llm.chat import ChatRequest, run_chat
from lib.pull.client import PullError, RetryPolicy
from lib.pull.sources import pull
from lib.redact import MASK, mask_secrets
from tests.local_server import LocalServer, QuietHandler

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


class EchoKeyApi(LocalServer):
    """Answers every request with ``status`` and the provider's documented error body, whose
    message quotes the key the request carried (as some providers and proxies do)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.keys: list[str] = []  # the keys that arrived, to prove one was sent and echoed
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                if length := int(self.headers.get("Content-Length") or 0):
                    self.rfile.read(length)
                anthropic = self.headers.get("x-api-key")
                key = anthropic or self.headers.get("Authorization", "").removeprefix("Bearer ")
                api.keys.append(key)
                message = f"Incorrect API key provided: {key}"
                if anthropic:  # Anthropic: {"type": "error", "error": {"type", "message"}}
                    body = {"type": "error",
                            "error": {"type": "authentication_error", "message": message}}  # fmt: skip
                else:  # OpenAI: {"error": {"message", "type", "param", "code"}}
                    body = {"error": {"message": message, "type": "invalid_request_error",
                                      "param": None, "code": "invalid_api_key"}}  # fmt: skip
                self.send_json(api.status, body)

            do_GET = do_POST = _answer

        return Handler


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_pull_errors_mask_an_echoed_key(store, monkeypatch, provider, status):
    key = SECRETS[2] if provider == "openai" else SECRETS[3]
    with EchoKeyApi(status) as server:
        monkeypatch.setenv(f"{provider.upper()}_ADMIN_KEY", key)
        monkeypatch.setenv(f"{provider.upper()}_ADMIN_BASE_URL", server.url)
        with pytest.raises(PullError) as err:
            pull(store, provider, date(2026, 3, 1), date(2026, 3, 2), role="admin",
                 policy=RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.01))  # fmt: skip
    assert server.keys and set(server.keys) == {key}  # the key went out and came back
    assert key not in str(err.value) and MASK in str(err.value), str(err.value)
    assert "Incorrect API key provided" in str(err.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "compatible"])
def test_chat_errors_mask_an_echoed_key(provider):
    key = SECRETS[0]
    with EchoKeyApi(401) as server:
        base = server.url if provider == "anthropic" else server.url + "/v1"
        req = ChatRequest(provider, base, "gpt-4o", ({"role": "user", "content": "hi"},),
                          api_key=key)  # fmt: skip
        res = run_chat(req)
    assert server.keys == [key]  # the key went out and came back
    assert res.status == "error" and res.error is not None
    assert key not in repr(res) and MASK in res.error.message, res.error.message
