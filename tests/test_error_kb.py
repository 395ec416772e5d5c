"""The error knowledge base: every documented provider error gets its own meaning and fix."""

from __future__ import annotations

import pytest

from lib.error_kb import FALLBACK, ErrorFacts, explain, facts_from_body


def _openai(
    status: int, message: str, type_: str | None = None, code: str | None = None, param=None
) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _anthropic(status: int, type_: str, message: str, error_code: str | None = None) -> dict:
    err = {"type": type_, "message": message}
    if error_code:
        err["details"] = {"error_code": error_code}
    return {"type": "error", "error": err, "request_id": "req_01"}


# (provider, status, body, expected kind, expected title, retry)
CASES = [
    # OpenAI, from the error-codes page (reference section 6)
    ("openai", 400, _openai(400, "This model's maximum context length is 128000 tokens.", "invalid_request_error",
                            "context_length_exceeded", "messages"), "context", "Prompt too long for the model", False),
    ("openai", 400, _openai(400, "Service tier not allowed", "invalid_request_error", None, "service_tier"),
     "request", "Service tier not allowed", False),
    ("openai", 400, _openai(400, "Invalid value for 'temperature'", "invalid_request_error", "invalid_value",
                            "temperature"), "request", "Invalid request", False),
    ("openai", 401, _openai(401, "Incorrect API key provided: sk-abc***.", "invalid_request_error", "invalid_api_key"),
     "auth", "API key refused", False),
    ("openai", 401, _openai(401, "IP not authorized", "invalid_request_error"), "auth", "IP address not allowed", False),
    ("openai", 401, _openai(401, "You must be a member of an organization to use the API.", "invalid_request_error",
                            "no_organization"), "auth", "Not a member of the organisation", False),
    ("openai", 403, _openai(403, "Country, region, or territory not supported", "request_forbidden",
                            "unsupported_country_region_territory"), "permission", "Region not supported", False),
    ("openai", 404, _openai(404, "The model `gpt-9` does not exist", "invalid_request_error", "model_not_found"),
     "not_found", "Model or resource not found", False),
    ("openai", 409, _openai(409, "Conflict", "invalid_request_error"), "request", "Conflict", True),
    ("openai", 422, _openai(422, "Unprocessable", "invalid_request_error"), "request", "Request could not be processed",
     False),
    ("openai", 429, _openai(429, "Rate limit reached for gpt-4o on tokens per min", "tokens", "rate_limit_exceeded"),
     "rate_limit", "Rate limit reached", True),
    ("openai", 429, _openai(429, "Please slow down", "rate_limit_error", "slow_down"), "rate_limit",
     "Traffic ramped up too fast", True),
    ("openai", 429, _openai(429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
     "quota", "Spend limit or quota reached", False),
    ("openai", 429, _openai(429, "Project spend limit", "insufficient_quota", "project_spend_limit_exceeded"),
     "quota", "Spend limit or quota reached", False),
    ("openai", 500, _openai(500, "The server had an error while processing your request.", "server_error"),
     "server", "Provider error", True),
    ("openai", 503, _openai(503, "The engine is currently overloaded", "service_unavailable_error",
                            "server_is_overloaded"), "overloaded", "Provider overloaded", True),
    ("openai", 503, _openai(503, "Service unavailable", "service_unavailable_error"), "server", "Service unavailable",
     True),
    # Anthropic, from its HTTP errors page
    ("anthropic", 400, _anthropic(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
     "context", "Prompt too long for the model", False),
    ("anthropic", 400, _anthropic(400, "invalid_request_error", "max_tokens: Field required"), "request",
     "Invalid request", False),
    ("anthropic", 400, _anthropic(400, "invalid_request_error", "You have reached your specified workspace API usage "
                                  "limits (spend limit)."), "quota", "Spend limit reached", False),
    ("anthropic", 401, _anthropic(401, "authentication_error", "invalid x-api-key"), "auth", "API key refused", False),
    ("anthropic", 402, _anthropic(402, "billing_error", "billing issue"), "quota", "Billing problem", False),
    ("anthropic", 403, _anthropic(403, "permission_error", "no access to this model"), "permission", "Not allowed",
     False),
    ("anthropic", 404, _anthropic(404, "not_found_error", "model: claude-9"), "not_found",
     "Model or resource not found", False),
    ("anthropic", 413, _anthropic(413, "request_too_large", "Request exceeds the maximum size"), "request",
     "Request too large", False),
    ("anthropic", 429, _anthropic(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute "
                                  "rate limit"), "rate_limit", "Rate limit reached", True),
    ("anthropic", 429, _anthropic(429, "rate_limit_error", "monthly spend limit reached",
                                  "enforced_spend_limit_reached"), "quota", "Spend limit or quota reached", False),
    ("anthropic", 500, _anthropic(500, "api_error", "Internal server error"), "server", "Provider error", True),
    ("anthropic", 504, _anthropic(504, "timeout_error", "Request timed out"), "server", "Provider timed out", True),
    ("anthropic", 529, _anthropic(529, "overloaded_error", "Overloaded"), "overloaded", "Provider overloaded", True),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "status", "body", "kind", "title", "retry"), CASES)
def test_documented_errors(provider, status, body, kind, title, retry):
    advice = explain(facts_from_body(provider, status, body))
    assert (advice.kind, advice.title, advice.retry) == (kind, title, retry)
    assert advice.meaning and advice.fix and advice is not FALLBACK


def test_every_rule_is_reached_by_a_case():
    from lib.error_kb import RULES

    reached = {explain(facts_from_body(p, s, b)).title for p, s, b, *_ in CASES}
    reached |= {
        explain(ErrorFacts(transport=t)).title for t in ("timeout", "connection", "stream_cut")
    }
    assert {advice.title for _, advice in RULES} <= reached


def test_failures_without_an_answer():
    assert explain(ErrorFacts("openai", None, transport="timeout")).kind == "network"
    cut = explain(ErrorFacts("openai", 200, transport="stream_cut"))
    assert cut.title == "The answer stopped half-way" and cut.retry and "usage" in cut.meaning


def test_retry_after_is_part_of_the_fix_only_when_retrying_helps():
    body = _openai(429, "Rate limit reached", "requests", "rate_limit_exceeded")
    assert explain(facts_from_body("openai", 429, body), retry_after=20).fix.startswith(
        "The provider asks to wait 20 s."
    )
    quota = _openai(429, "quota", "insufficient_quota", "insufficient_quota")
    assert "wait" not in explain(facts_from_body("openai", 429, quota), retry_after=20).fix


def test_unknown_bodies_still_get_advice():
    assert explain(facts_from_body("openai", 418, "I'm a teapot")) is FALLBACK
    assert explain(facts_from_body("vllm", 502, {"detail": "bad gateway"})).kind == "server"
    facts = facts_from_body(
        "anthropic", 429, _anthropic(429, "rate_limit_error", "x", "enforced_spend_limit_reached")
    )
    assert facts.code == "enforced_spend_limit_reached"  # Anthropic's details.error_code is read
