"""Error fingerprints made at import time (migration 14, lib.ingest.requests): similar messages
share one, other codes or statuses do not, and re-importing or migrating gives the same ones."""

from __future__ import annotations

import json

from lib.ingest import import_file, undo_import
from lib.store import Store
from tests.conftest import older_copy, write


def _row(rid: str, status: int | None, code: str | None, message: str | None, **kw) -> dict:
    row = {
        "timestamp": "2026-05-01T10:00:00Z",
        "request_id": rid,
        "provider": "openai",
        "model": "gpt-4o",
        "status": "error" if status or code or message else "success",
        "http_status": status,
        "error_code": code,
        "error_message": message,
        "prompt_tokens": 10,
        "completion_tokens": 0,
    }
    row.update(kw)
    return row


# (request id, status, code, message): the group each belongs to is the first letter of the id
ROWS = [
    # a: the same rate limit, differing only by an organisation id, numbers, a duration, a URL
    ("a1", 429, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-AbCdEf123456 on tokens per "
     "min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit "
     "https://platform.openai.com/account/rate-limits to learn more."),
    ("a2", 429, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-ZZzz99998888 on tokens per "
     "min (TPM): Limit 30000, Used 28000, Requested 3300. Please try again in 22ms. Visit "
     "https://platform.openai.com/docs/guides/rate-limits?x=1 to learn more."),
    # b: quoted values, request ids, UUIDs, hex, e-mail addresses and whitespace differ
    ("b1", 400, "invalid_value", "Invalid value for 'temperature': expected 0 to 2 (request req_011CSHoEeqs5C35K2UU, "
     "trace 550e8400-e29b-41d4-a716-446655440000, 9f86d081884c7d659a2feaa0c55ad015, owner bob@example.com)"),
    ("b2", 400, "invalid_value", "invalid value for `top_p`:  expected 1 to 5\n(request chatcmpl-9xYzAbC123, trace "
     "123e4567-e89b-12d3-a456-426614174000, 00ff00ff00ff00ff00ff, owner ana.b@corp.example.org)"),
    # c: the same message as a1 with another code; d: with another status
    ("c1", 429, "insufficient_quota", "Rate limit reached for gpt-4o in organization org-AbCdEf123456 on tokens per "
     "min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit "
     "https://platform.openai.com/account/rate-limits to learn more."),
    ("d1", 503, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-AbCdEf123456 on tokens per "
     "min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit "
     "https://platform.openai.com/account/rate-limits to learn more."),
    # e: other words are another error; an apostrophe is not a quote
    ("e1", 400, "invalid_value", "This model's maximum context length is 128000 tokens."),
    # s: a success has no fingerprint
    ("s1", None, None, None),
]  # fmt: skip


def _file(tmp_path, name: str = "errors.jsonl") -> str:
    lines = [_row(*r) for r in ROWS]

    return write(tmp_path, name, "\n".join(json.dumps(x) for x in lines) + "\n")


def _fingerprints(store: Store) -> dict[str, int | None]:
    return dict(store.query("SELECT request_id, error_fingerprint FROM request_events"))


def test_similar_messages_share_a_fingerprint_other_codes_and_statuses_do_not(store, tmp_path):
    import_file(store, _file(tmp_path))
    fp = _fingerprints(store)
    assert fp["s1"] is None
    assert fp["a1"] == fp["a2"]  # ids, numbers, durations, URLs
    assert fp["b1"] == fp["b2"]  # quoted values, ids, UUIDs, hex, e-mails, case, whitespace
    assert fp["c1"] != fp["a1"]  # another code
    assert fp["d1"] != fp["a1"]  # another status
    # 5 groups: a, b, c, d, e
    assert len({v for k, v in fp.items() if k != "s1"}) == 5
    assert store.scalar("SELECT typeof(error_fingerprint) FROM request_events LIMIT 1") == "UBIGINT"


def test_the_provider_is_part_of_the_fingerprint(store, tmp_path):

    rows = [
        _row("x1", 500, None, "Internal error"),
        _row("x2", 500, None, "Internal error", provider="anthropic"),
    ]
    import_file(store, write(tmp_path, "p.jsonl", "\n".join(json.dumps(r) for r in rows)))
    fp = _fingerprints(store)
    assert fp["x1"] != fp["x2"]


def test_reimporting_keeps_the_fingerprints(store, tmp_path):
    first = import_file(store, _file(tmp_path))
    before = _fingerprints(store)
    again = import_file(store, _file(tmp_path, "copy.jsonl"))  # the same rows: all duplicates
    assert again.rows_new == 0 and _fingerprints(store) == before
    undo_import(store, first.import_id)
    import_file(store, _file(tmp_path, "third.jsonl"))  # stored anew by another import
    assert _fingerprints(store) == before


def test_migration_14_fills_the_fingerprints_of_stored_rows(store, tmp_path):
    """Rows stored before migration 14 get the fingerprints an import would have made."""
    import_file(store, _file(tmp_path))
    made_at_import = _fingerprints(store)
    old = older_copy(store, str(tmp_path / "v13.duckdb"), 13)
    with Store(old) as s:
        assert s.schema_version() >= 14
        assert _fingerprints(s) == made_at_import
        assert sum(v is not None for v in made_at_import.values()) == 7
