"""The gateway's journal as the app imports it (``lib.worker.journal``): rows written by a
running gateway become request events with their key, tokens, status and refusal codes, and
importing twice adds nothing."""

from __future__ import annotations

import httpx

from lib.store import Store
from lib.worker.journal import import_journal
from tests.gateway_helpers import key, new_secret, running_gateway

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
CLAUDE = {"model": "claude-haiku-4-5", "max_tokens": 5, "stream": True,
          "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip


def test_journal_rows_imported_once(tmp_path, store: Store) -> None:
    secret = new_secret()
    with running_gateway(tmp_path) as r:
        r.keys(key("k1", secret, models=("gpt-4o-mini", "claude-haiku-4-5")))
        auth = {"Authorization": f"Bearer {secret}", "X-Tokenboard-User": "u-7"}
        assert (
            httpx.post(r.url + "/v1/chat/completions", json=CHAT, headers=auth).status_code == 200
        )
        with httpx.stream(
            "POST", r.url + "/v1/messages", json=CLAUDE, headers={"x-api-key": secret}
        ) as res:
            b"".join(res.iter_raw())
        res = httpx.post(
            r.url + "/v1/chat/completions", json={**CHAT, "model": "gpt-4o"}, headers=auth
        )
        assert res.status_code == 403
        assert httpx.post(r.url + "/v1/chat/completions", json=CHAT,
                          headers={"Authorization": "Bearer " + new_secret()}).status_code == 401  # fmt: skip
        rows = r.rows(4)
        assert len(rows) == 4
    first = import_journal(store, tmp_path / "journal", snapshot=tmp_path / "published.json")
    again = import_journal(store, tmp_path / "journal", snapshot=tmp_path / "published.json")
    assert (first.rows_new, again.rows_new) == (4, 0)
    got = store.query(
        "SELECT provider, api_key, user_id, status, error_code, input_tokens, output_tokens "
        "FROM request_events ORDER BY ts, provider"
    )
    assert sorted(got, key=lambda t: (t[0], t[3], t[4] or "")) == sorted([
        # chat: 12 in, 3 out; Claude stream: 20 + 5 + 3 = 28 in, 4 out
        ("openai", "k1", "u-7", "success", None, 12, 3),
        ("anthropic", "k1", None, "success", None, 28, 4),
        # refusals: no tokens (stored as 0)
        ("openai", "k1", "u-7", "error", "model_not_allowed", 0, 0),
        ("openai", None, None, "error", "invalid_api_key", 0, 0),
    ], key=lambda t: (t[0], t[3], t[4] or ""))  # fmt: skip
