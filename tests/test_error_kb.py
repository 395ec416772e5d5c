"""The error knowledge base: every documented provider error gets its own meaning and fix."""

from __future__ import annotations

import duckdb
import pytest

from lib.error_kb import (
    FALLBACK,
    STATUS_CLASS_SQL,
    STATUS_CLASSES,
    ErrorFacts,
    classify,
    explain,
    facts_from_body,
    facts_from_row,
)


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
    reached |= {explain(facts_from_row(*r[:5])).title for r in ROWS}
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
    teapot = explain(facts_from_body("openai", 418, "I'm a teapot"))
    assert teapot.title == FALLBACK.title and teapot.kind == FALLBACK.kind  # with OpenAI's page
    assert teapot.doc_url == "https://platform.openai.com/docs/guides/error-codes"
    assert explain(facts_from_body("vllm", 502, {"detail": "bad gateway"})).kind == "server"
    facts = facts_from_body(
        "anthropic", 429, _anthropic(429, "rate_limit_error", "x", "enforced_spend_limit_reached")
    )
    assert facts.code == "enforced_spend_limit_reached"  # Anthropic's details.error_code is read


# -- what the imports carry -----------------------------------------------------------------
OPENROUTER, BEDROCK, GEMINI, AZURE = (
    "https://openrouter.ai/docs/api/reference/errors-and-debugging",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/troubleshooting-api-error-codes.html",
    "https://ai.google.dev/gemini-api/docs/",
    "https://learn.microsoft.com/en-us/azure/ai-services/openai/",
)
LITELLM = "https://docs.litellm.ai/docs/"
# (provider, http_status, error_code, error_type, message, title, retry, status class, doc_url prefix)
ROWS = [
    # LiteLLM spend logs: error_class is the exception name (sometimes prefixed litellm.), the
    # error_code the HTTP status as text. Names and statuses from docs.litellm.ai/docs/exception_mapping.
    ("openai", None, "429", "RateLimitError", "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit "
     "reached for gpt-4o", "Rate limit reached", True, "rate_limit", "https://platform.openai.com/docs/"),
    ("anthropic", 400, "400", "litellm.ContextWindowExceededError", "litellm.ContextWindowExceededError: "
     "AnthropicException - prompt is too long: 215000 tokens > 200000 maximum", "Prompt too long for the model",
     False, "client", "https://docs.anthropic.com/"),
    # the Azure content filter as LiteLLM wraps it (BerriAI/litellm#16231)
    ("azure", 400, "400", "ContentPolicyViolationError", "litellm.BadRequestError: litellm.ContentPolicyViolationError: "
     "AzureException - The response was filtered due to the prompt triggering Azure OpenAI's content management "
     "policy. Please modify your prompt and retry.", "Blocked by Azure's content filter", False, "client", AZURE),
    ("vertex_ai", 400, "400", "ContentPolicyViolationError", "litellm.ContentPolicyViolationError: The response "
     "was blocked.", "Refused by a content policy", False, "client", GEMINI),
    ("openai", 401, "401", "AuthenticationError", "litellm.AuthenticationError: Incorrect API key provided",
     "API key refused", False, "client", "https://platform.openai.com/docs/"),
    ("mistral", None, "400", "BadRequestError", "litellm.BadRequestError: Invalid 'temperature'", "Invalid request",
     False, "client", LITELLM),
    ("openai", None, "404", "NotFoundError", "litellm.NotFoundError: The model `gpt-8` does not exist",
     "Model or resource not found", False, "client", "https://platform.openai.com/docs/"),
    ("mistral", None, "403", "PermissionDeniedError", "litellm.PermissionDeniedError: forbidden", "Not allowed",
     False, "client", LITELLM),
    ("mistral", None, "422", "UnprocessableEntityError", "unprocessable", "Request could not be processed", False,
     "client", LITELLM),
    ("openai", None, "408", "Timeout", "litellm.Timeout: APITimeoutError - Request timed out.", "Request timed out",
     True, "network", "https://platform.openai.com/docs/"),
    ("ollama", 500, "500", "APIConnectionError", "litellm.APIConnectionError: OllamaException - [Errno 111] "
     "Connection refused", "Could not reach the provider", True, "network", LITELLM),
    ("mistral", None, "503", "ServiceUnavailableError", "litellm.ServiceUnavailableError: MistralException - "
     "Service Unavailable", "Service unavailable", True, "server", LITELLM),
    ("mistral", None, "500", "InternalServerError", "litellm.InternalServerError: MistralException - boom",
     "Provider error", True, "server", LITELLM),
    # LiteLLM proxy budgets (BerriAI/litellm#22726: error_code "", error_class BudgetExceededError)
    ("", None, "", "BudgetExceededError", "Budget has been exceeded! Current cost: 26.075, Max budget: 0.25",
     "Gateway budget exceeded", False, "quota", "https://docs.litellm.ai/docs/proxy/users"),
    ("openai", 400, "400", None, "litellm.BadRequestError: OpenAIException - Budget has been exceeded! Current "
     "cost: 14.2, Max budget: 100.", "Gateway budget exceeded", False, "quota", LITELLM),
    # Azure OpenAI's own body: code content_filter, innererror ResponsibleAIPolicyViolation
    # (openai/openai-python#331, compl-ai/compl-ai#20)
    ("azure", 400, "content_filter", None, "The response was filtered due to the prompt triggering Azure OpenAI’s "
     "content management policy.", "Blocked by Azure's content filter", False, "client", AZURE),
    ("azure", 400, "ResponsibleAIPolicyViolation", None, "filtered", "Blocked by Azure's content filter", False,
     "client", AZURE),
    # Bedrock (botocore messages from aws-samples/aws-genai-llm-chatbot#220, posit-dev/positron#7844,
    # aws-samples/bedrock-chat#95, langgenius/dify#2829; statuses from Bedrock's troubleshooting page)
    ("bedrock", 429, None, "ThrottlingException", "Too many tokens, please wait before trying again.",
     "Throttled by Bedrock", True, "rate_limit", BEDROCK),
    ("bedrock", 400, None, "ThrottlingException", "Too many requests, please wait before trying again. You have "
     "sent too many requests.  Wait before trying again.", "Throttled by Bedrock", True, "rate_limit", BEDROCK),
    ("bedrock", 400, None, "ValidationException", "Input is too long for requested model.",
     "Prompt too long for the model", False, "client", BEDROCK),
    ("bedrock", 400, None, "ValidationException", "The provided model identifier is invalid.",
     "Model or resource not found", False, "client", BEDROCK),
    ("bedrock", 400, None, "ValidationException", "Malformed input request: expected maxLength: 42000, actual: "
     "46735, please reformat your input and try again.", "Invalid request", False, "client", BEDROCK),
    ("bedrock", 408, None, "ModelTimeoutException", "The request took too long to process. Processing time "
     "exceeded the model timeout length.", "Model timed out", True, "network", BEDROCK),
    ("bedrock", 503, None, "ServiceUnavailableException", "The service isn't currently available. Try again later.",
     "Service unavailable", True, "server", BEDROCK),
    ("bedrock", 403, None, "AccessDeniedException", "You don't have access to the model with the specified model ID.",
     "No access to this Bedrock model", False, "client", BEDROCK),
    # Bedrock runtime exceptions, from botocore's bedrock-runtime reference: ResourceNotFoundException
    # (404) "The specified resource ARN was not found."; ModelErrorException (424) "The request
    # failed due to an error while processing the model."; InternalServerException (500)
    ("bedrock", 404, None, "ResourceNotFoundException", "The specified resource ARN was not found.",
     "Model or resource not found", False, "client", BEDROCK),
    ("bedrock", 424, None, "ModelErrorException", "The request failed due to an error while processing the model.",
     "The model failed on this request", True, "server", BEDROCK),
    ("bedrock", None, None, "ModelErrorException", "model error", "The model failed on this request", True,
     "server", BEDROCK),
    ("bedrock", 500, None, "InternalServerException", "internal server error", "Provider error", True, "server",
     BEDROCK),
    ("", None, None, "InternalServerException", "internal server error", "Provider error", True, "server", ""),
    # Gemini: {"error": {"code", "message", "status"}} with the status read as the code
    # (gemini-cli#2020, #5191, lobehub#9728, continuedev/continue#10639; its troubleshooting page)
    ("google", 429, "RESOURCE_EXHAUSTED", None, "Resource has been exhausted (e.g. check quota).",
     "Gemini rate limit reached", True, "rate_limit", "https://ai.google.dev/gemini-api/docs/rate-limits"),
    ("google", 429, "RESOURCE_EXHAUSTED", None, "You exceeded your current quota, please check your plan and "
     "billing details.", "Gemini rate limit reached", True, "rate_limit", GEMINI),
    ("google", 400, "INVALID_ARGUMENT", None, "Request contains an invalid argument.", "Invalid request", False,
     "client", GEMINI),
    ("google", 400, "INVALID_ARGUMENT", None, "API key not valid. Please pass a valid API key.", "API key refused",
     False, "client", GEMINI),
    ("google", 403, "PERMISSION_DENIED", None, "Your API key doesn't have the required permissions.", "Not allowed",
     False, "client", GEMINI),
    ("google", 503, "UNAVAILABLE", None, "The model is overloaded. Please try again later.", "Provider overloaded",
     True, "overloaded", GEMINI),
    ("google", 503, "UNAVAILABLE", None, "This model is currently experiencing high demand. Spikes in demand are "
     "usually temporary. Please try again later.", "Provider overloaded", True, "overloaded", GEMINI),
    ("google", 503, "UNAVAILABLE", None, "The service is currently unavailable.", "Service unavailable", True,
     "server", GEMINI),
    ("google", 504, "DEADLINE_EXCEEDED", None, "Deadline expired before operation could complete.",
     "Provider timed out", True, "server", GEMINI),
    ("google", 500, "INTERNAL", None, "An internal error has occurred.", "Provider error", True, "server", GEMINI),
    # FAILED_PRECONDITION (400 in google.rpc.Code: "should not retry until the system state has
    # been explicitly fixed"); the message from Gemini's troubleshooting page (kolbytn/mindcraft#133)
    ("google", 400, "FAILED_PRECONDITION", None, "Gemini API free tier is not available in your country. Please "
     "enable billing on your project in Google AI Studio.", "Project not ready for this call", False, "client",
     GEMINI),
    ("", None, "FAILED_PRECONDITION", None, "", "Project not ready for this call", False, "client", GEMINI),
    # connections and timeouts as gateways log them: httpx's exception names (ConnectTimeout "The
    # handshake operation timed out", ReadTimeout "The read operation timed out", encode/httpx#3017)
    # and Node's system error codes (nodejs.org/api/errors.html, common system errors)
    ("openai", None, None, "ConnectTimeout", "_ssl.c:983: The handshake operation timed out", "Connection timed out",
     True, "network", "https://platform.openai.com/docs/"),
    ("openai", None, None, "ReadTimeout", "The read operation timed out", "Request timed out", True, "network",
     "https://platform.openai.com/docs/"),
    ("", None, "ETIMEDOUT", None, "connect ETIMEDOUT 104.18.6.192:443", "Connection timed out", True, "network", ""),
    ("", None, "ECONNREFUSED", None, "connect ECONNREFUSED 127.0.0.1:11434", "Could not connect", True, "network",
     ""),
    ("", None, "ECONNRESET", None, "socket hang up", "Connection reset", True, "network",
     "https://nodejs.org/api/errors.html"),
    ("anthropic", 500, "ECONNRESET", None, "read ECONNRESET", "Connection reset", True, "network",
     "https://nodejs.org/api/errors.html"),
    # a generic 429 code (HTTP's name for the status) and OpenAI's slow_down without the status
    ("", None, "too_many_requests", None, "Too many requests", "Rate limit reached", True, "rate_limit", ""),
    ("openai", None, "slow_down", None, "Please slow down", "Traffic ramped up too fast", True, "rate_limit",
     "https://platform.openai.com/docs/"),
    # OpenRouter: {"error": {"code": <HTTP status>, "message", "metadata"}} (its errors page;
    # "Provider returned error" from open-webui/computer#293)
    ("openrouter", 402, "402", None, "Insufficient credits. Add more using https://openrouter.ai/credits",
     "Out of credits", False, "quota", OPENROUTER),
    ("openrouter", 403, "403", None, "Your chosen model requires moderation and your input was flagged",
     "Flagged by moderation", False, "client", OPENROUTER),
    ("openrouter", 408, "408", None, "Your request timed out", "Request timed out", True, "network", OPENROUTER),
    ("openrouter", 502, "502", None, "Provider returned error", "The model's provider failed", True, "server",
     OPENROUTER),
    ("openrouter", 503, "503", None, "There is no available model provider that meets your routing requirements",
     "No provider available", True, "server", OPENROUTER),
    ("openrouter", 429, "429", None, "Provider returned error", "Rate limit reached", True, "rate_limit", OPENROUTER),
    # a 429 that says overloaded is capacity, not this caller's limit
    ("anthropic", 429, None, "overloaded_error", "Overloaded", "Provider overloaded", True, "overloaded",
     "https://docs.anthropic.com/"),
    # a quota said in words only
    ("openai", 429, None, None, "You exceeded your current quota, please check your plan and billing details.",
     "Quota or spend limit reached", False, "quota", "https://platform.openai.com/docs/"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "status", "code", "type_", "message", "title", "retry", "klass", "doc"), ROWS
)
def test_imported_errors(provider, status, code, type_, message, title, retry, klass, doc):
    advice = explain(facts_from_row(provider, status, code, type_, message))
    assert (advice.title, advice.retry, advice.status_class) == (title, retry, klass)
    assert advice.doc_url.startswith(doc) and advice.meaning and advice.fix
    assert classify(status, code, type_, message) == klass  # the row's class is its advice's


def test_every_advice_links_to_the_providers_page():
    # the rule's own page first, else the provider's, else LiteLLM's for its exception names
    rl = _openai(429, "Rate limit reached", "requests", "rate_limit_exceeded")
    assert (
        explain(facts_from_body("openai", 429, rl)).doc_url
        == "https://platform.openai.com/docs/guides/error-codes"
    )
    assert (
        explain(facts_from_body("anthropic", 429, rl)).doc_url
        == "https://docs.anthropic.com/en/api/errors"
    )
    assert explain(facts_from_row("mistral", 429, None, "RateLimitError", "x")).doc_url.startswith(
        LITELLM
    )
    assert explain(facts_from_row("mistral", 429, None, None, "x")).doc_url == ""
    # Gemini's and Azure's bodies: the status, and innererror.code when code is missing
    gem = {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                     "status": "RESOURCE_EXHAUSTED"}}  # fmt: skip
    assert facts_from_body("google", 429, gem).code == "RESOURCE_EXHAUSTED"
    az = {
        "error": {
            "message": "filtered",
            "code": None,
            "innererror": {"code": "ResponsibleAIPolicyViolation"},
        }
    }
    assert explain(facts_from_body("azure", 400, az)).title == "Blocked by Azure's content filter"


# -- the status class, in Python and in SQL ---------------------------------------------------
# (http_status, error_code, error_type, message, class): edge cases beyond the rows above
CLASS_CASES = [
    (None, "429", None, None, "rate_limit"),  # the status read from a three-digit code
    (None, None, "litellm.Timeout", None, "network"),
    (None, None, "APIConnectionError", "boom", "network"),
    (None, None, None, "Connection reset by peer", "network"),
    (None, None, None, "Request timed out after 600 s", "network"),
    (None, None, "InternalServerError", None, "server"),
    (None, None, "BadRequestError", None, "client"),
    (None, "insufficient_quota", None, None, "quota"),
    (None, None, None, "You exceeded your current quota", "quota"),
    (500, None, None, "You exceeded your current quota", "server"),  # a 5xx is never a quota
    (402, None, None, None, "quota"),
    (529, None, None, None, "overloaded"),
    (429, None, None, "Too many requests: the model is OVERLOADED", "overloaded"),
    (503, None, None, "overloaded", "overloaded"),
    (502, None, None, "overloaded", "server"),  # only 429 and 503 are read for the word
    (429, "slow_down", None, None, "rate_limit"),
    (400, None, "ThrottlingException", None, "rate_limit"),
    (
        424,
        None,
        "ModelErrorException",
        None,
        "server",
    ),  # Bedrock: the model failed, whatever the status
    (400, None, "litellm.ModelErrorException", None, "server"),
    (500, "econnreset", None, None, "network"),
    (None, "ReadTimeout", None, None, "network"),
    (None, "FAILED_PRECONDITION", None, None, "client"),
    (None, None, "ResourceNotFoundException", None, "client"),
    (None, None, "InternalServerException", None, "server"),
    (None, "too_many_requests", None, None, "rate_limit"),
    (418, None, None, None, "client"),
    (200, None, None, "stream error", "unknown"),
    (None, None, None, None, "unknown"),
    (None, None, None, "something odd", "unknown"),
    (None, "NOT_A_STATUS", "weird", "", "unknown"),
    # a playground run's row: its advice's kind as the type, its title as the message
    (None, None, "network", "No answer in time", "network"),
    (None, None, "quota", "Spend limit reached", "quota"),
    (None, None, "auth", "API key refused", "client"),
    (None, None, "server", "Provider error", "server"),
]


def _all_rows():
    rows = [(s, c, t, m) for _p, s, c, t, m, *_ in ROWS]
    rows += [(c[0], c[1], c[2], c[3]) for c in CLASS_CASES]
    for p, s, b, *_ in CASES:
        f = facts_from_body(p, s, b)
        rows.append((f.status, f.code, f.error_type, f.message))
    return rows


@pytest.mark.parametrize(("status", "code", "type_", "message", "klass"), CLASS_CASES)
def test_status_classes(status, code, type_, message, klass):
    assert classify(status, code, type_, message) == klass


def test_python_and_sql_classify_every_case_alike(db_path):
    rows = _all_rows()
    con = duckdb.connect(db_path)
    con.execute(
        "CREATE TABLE r (i INTEGER, http_status SMALLINT, error_code VARCHAR, error_type VARCHAR, error_message VARCHAR)"
    )
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", [(i, *r) for i, r in enumerate(rows)])
    in_sql = dict(con.execute(f"SELECT i, {STATUS_CLASS_SQL} FROM r").fetchall())
    con.close()
    in_python = {i: classify(*r) for i, r in enumerate(rows)}
    assert in_sql == in_python
    assert set(in_python.values()) == set(STATUS_CLASSES)  # every class is reached
    assert len(rows) == len(ROWS) + len(CLASS_CASES) + len(CASES)


def test_documented_errors_are_classed_as_their_advice():
    for p, s, b, *_ in CASES:
        f = facts_from_body(p, s, b)
        assert classify(f.status, f.code, f.error_type, f.message) == explain(f).status_class, (
            p,
            s,
            b,
        )
