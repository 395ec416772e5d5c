"""The status class of an error row, the filter of the Errors page, in Python and in SQL.

Classes (codes; the page words them): ``client`` (4xx: the request, the key, a content
filter), ``rate_limit`` (429 and throttling: too fast, retry later), ``quota`` (insufficient
quota, credits or budget, spend limits, 402: retrying does not help), ``overloaded`` (529, or a
429/503 that says the provider is overloaded), ``server`` (5xx), ``network`` (timeouts, 408,
connections that failed), ``unknown`` (an error row with nothing to tell: no status, no known
code or type).

``classify(http_status, error_code, error_type, message)`` and ``STATUS_CLASS_SQL`` (the same
rules over the columns ``http_status``, ``error_code``, ``error_type``, ``error_message``) are
built from the same constants below, so grouping and filtering happen in SQL and a test proves
both agree. Rules, the first that holds wins:

1. ``network``: a timeout or connection exception name or code, or status 408;
2. ``rate_limit``: a throttling code whatever the status (Bedrock ``ThrottlingException``, once
   sent as 400; Gemini ``RESOURCE_EXHAUSTED``, whose message may say "quota"); then ``server``
   for Bedrock's ``ModelErrorException`` whatever the status (sent as 424: the model failed);
3. ``quota``: status 402, a quota/credit/budget code, or (a 4xx or no status) a message with a
   quota phrase ("exceeded your current quota", "insufficient credits", "spend limit", …);
4. ``overloaded``: status 529, an overloaded code, or a 429/503 whose message says overloaded;
5. ``rate_limit``: status 429 or a rate-limit code;
6. ``server`` for a 5xx status, ``client`` for a 4xx;
7. without a status: ``server`` or ``client`` by a known code or exception name;
8. ``network`` without a status when the message says it timed out or lost the connection;
9. ``unknown``.

The status is ``http_status``, else ``error_code`` when it is three digits (LiteLLM's spend
logs write the status there: ``"429"``). Codes and types are compared in lower case with a
leading ``litellm.`` dropped (``litellm.RateLimitError`` is ``ratelimiterror``).
"""

from __future__ import annotations

import re
from typing import Literal

StatusClass = Literal["client", "rate_limit", "quota", "overloaded", "server", "network", "unknown"]
STATUS_CLASSES: tuple[str, ...] = (
    "client",
    "rate_limit",
    "quota",
    "overloaded",
    "server",
    "network",
    "unknown",
)

# Codes and exception names, lower case. Sources: OpenAI's and Anthropic's error pages; LiteLLM's
# exception mapping (docs.litellm.ai/docs/exception_mapping: Timeout 408, APIConnectionError,
# RateLimitError 429, ServiceUnavailableError 503, InternalServerError 500, BudgetExceededError);
# Bedrock's troubleshooting page (ThrottlingException, ModelTimeoutException 408,
# ServiceUnavailableException 503, AccessDeniedException 403, ValidationException 400); Gemini's
# troubleshooting page (INVALID_ARGUMENT, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNAVAILABLE,
# DEADLINE_EXCEEDED); Azure OpenAI's content filter (content_filter, ResponsibleAIPolicyViolation).
# Each list ends with the advice kinds (``lib.error_kb.Advice.kind``) of its class: a playground
# run's row carries its advice's kind as its error type.
NETWORK_CODES = ("timeout", "apitimeouterror", "apiconnectionerror", "modeltimeoutexception",
                 "connecterror", "connecttimeout", "readtimeout", "connection_error", "etimedout",
                 "econnreset", "econnrefused", "network")  # fmt: skip
THROTTLE_CODES = ("throttlingexception", "resource_exhausted")
# Bedrock ModelErrorException (424): "The request failed due to an error while processing the
# model." (botocore's bedrock-runtime exception reference): the model's failure, not the caller's
MODEL_ERROR_CODES = ("modelerrorexception",)
SPEND_CODES = ("insufficient_quota", "credit_balance_exhausted", "organization_spend_limit_exceeded",
               "project_spend_limit_exceeded", "organization_usage_limit_exceeded",
               "enforced_spend_limit_reached")  # fmt: skip
QUOTA_CODES = (*SPEND_CODES, "billing_error", "budgetexceedederror", "budget_exceeded",
               "insufficient_credits", "payment_required", "quota")  # fmt: skip
QUOTA_PHRASES = ("exceeded your current quota", "insufficient_quota", "insufficient credits",
                 "spend limit", "credit balance", "budget has been exceeded", "exceeded budget",
                 "usage limit")  # fmt: skip
OVERLOADED_CODES = ("overloaded_error", "server_is_overloaded", "overloaded")
OVERLOADED_PHRASES = ("overloaded", "high demand")
RATE_CODES = ("rate_limit_exceeded", "rate_limit_error", "ratelimiterror", "slow_down",
              "too_many_requests", "rate_limit")  # fmt: skip
SERVER_CODES = ("server_error", "api_error", "apierror", "internalservererror", "internal",
                "serviceunavailableerror", "serviceunavailableexception", "internalserverexception",
                "unavailable", "deadline_exceeded", "timeout_error", "modelerrorexception", "server")  # fmt: skip
CLIENT_CODES = ("invalid_request_error", "badrequesterror", "invalid_api_key", "authenticationerror",
                "authentication_error", "permissiondeniederror", "permission_error", "permission_denied",
                "accessdeniedexception", "notfounderror", "not_found", "not_found_error", "model_not_found",
                "resourcenotfoundexception", "contextwindowexceedederror", "context_length_exceeded",
                "contentpolicyviolationerror", "content_filter", "responsibleaipolicyviolation",
                "unprocessableentityerror", "unsupportedparamserror", "validationexception",
                "invalid_argument", "failed_precondition", "request_too_large",
                "auth", "permission", "request", "context", "not_found", "content")  # fmt: skip
NETWORK_PHRASES = ("timed out", "timeout", "connection")

_STATUS_CODE = re.compile(r"[1-5][0-9][0-9]")


def norm_code(value: str | None) -> str | None:
    """A code or exception name in lower case, without a leading ``litellm.``."""
    if value is None:
        return None
    low = value.lower()
    return low[len("litellm.") :] if low.startswith("litellm.") else low


def effective_status(http_status: int | None, error_code: str | None) -> int | None:
    """The HTTP status; else ``error_code`` when it is three digits (100-599); else None."""
    if http_status is not None:
        return int(http_status)
    if error_code is not None and _STATUS_CODE.fullmatch(error_code):
        return int(error_code)
    return None


def _any_code(code: str | None, type_: str | None, names: tuple[str, ...]) -> bool:
    return code in names or type_ in names


def _said(message: str | None, phrases: tuple[str, ...]) -> bool:
    low = (message or "").lower()
    return any(p in low for p in phrases)


def is_quota(status: int | None, code: str | None, type_: str | None, message: str | None) -> bool:
    """Rule 3 (``code`` and ``type_`` already through ``norm_code``)."""
    return (
        status == 402
        or _any_code(code, type_, QUOTA_CODES)
        or ((status is None or 400 <= status < 500) and _said(message, QUOTA_PHRASES))
    )


def is_overloaded(
    status: int | None, code: str | None, type_: str | None, message: str | None
) -> bool:
    """Rule 4 (``code`` and ``type_`` already through ``norm_code``)."""
    return (
        status == 529
        or _any_code(code, type_, OVERLOADED_CODES)
        or (status in (429, 503) and _said(message, OVERLOADED_PHRASES))
    )


def classify(
    http_status: int | None,
    error_code: str | None,
    error_type: str | None,
    message: str | None,
) -> StatusClass:
    """The status class of one error row (see the module's rules; any field may be None)."""
    s = effective_status(http_status, error_code)
    c, t = norm_code(error_code), norm_code(error_type)
    if _any_code(c, t, NETWORK_CODES) or s == 408:
        return "network"
    if _any_code(c, t, THROTTLE_CODES):
        return "rate_limit"
    if _any_code(c, t, MODEL_ERROR_CODES):
        return "server"
    if is_quota(s, c, t, message):
        return "quota"
    if is_overloaded(s, c, t, message):
        return "overloaded"
    if s == 429 or _any_code(c, t, RATE_CODES):
        return "rate_limit"
    if s is not None and s >= 500:
        return "server"
    if s is not None and 400 <= s < 500:
        return "client"
    if s is None and _any_code(c, t, SERVER_CODES):
        return "server"
    if s is None and _any_code(c, t, CLIENT_CODES):
        return "client"
    if s is None and _said(message, NETWORK_PHRASES):
        return "network"
    return "unknown"


# -- the same rules in SQL ------------------------------------------------------------------
_S = ("coalesce(CAST(http_status AS INTEGER), CASE WHEN regexp_full_match(error_code, '[1-5][0-9][0-9]') "
      "THEN CAST(error_code AS INTEGER) END)")  # fmt: skip
_C = "regexp_replace(lower(error_code), '^litellm[.]', '')"
_T = "regexp_replace(lower(error_type), '^litellm[.]', '')"
_M = "lower(error_message)"


def _sql_list(values: tuple[str, ...]) -> str:
    for v in values:  # constants of this module; checked so no quote can ever end up in SQL
        assert re.fullmatch(r"[a-z0-9_ ]+", v), v
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _sql_code(names: tuple[str, ...]) -> str:
    lst = _sql_list(names)
    return f"(list_contains({lst}, {_C}) OR list_contains({lst}, {_T}))"


def _sql_said(phrases: tuple[str, ...]) -> str:
    _sql_list(phrases)
    return "(" + " OR ".join(f"contains({_M}, '{p}')" for p in phrases) + ")"


STATUS_CLASS_SQL = f"""(CASE
    WHEN {_sql_code(NETWORK_CODES)} OR {_S} = 408 THEN 'network'
    WHEN {_sql_code(THROTTLE_CODES)} THEN 'rate_limit'
    WHEN {_sql_code(MODEL_ERROR_CODES)} THEN 'server'
    WHEN {_S} = 402 OR {_sql_code(QUOTA_CODES)}
         OR (coalesce({_S} BETWEEN 400 AND 499, true) AND {_sql_said(QUOTA_PHRASES)}) THEN 'quota'
    WHEN {_S} = 529 OR {_sql_code(OVERLOADED_CODES)}
         OR ({_S} IN (429, 503) AND {_sql_said(OVERLOADED_PHRASES)}) THEN 'overloaded'
    WHEN {_S} = 429 OR {_sql_code(RATE_CODES)} THEN 'rate_limit'
    WHEN {_S} >= 500 THEN 'server'
    WHEN {_S} BETWEEN 400 AND 499 THEN 'client'
    WHEN {_S} IS NULL AND {_sql_code(SERVER_CODES)} THEN 'server'
    WHEN {_S} IS NULL AND {_sql_code(CLIENT_CODES)} THEN 'client'
    WHEN {_S} IS NULL AND {_sql_said(NETWORK_PHRASES)} THEN 'network'
    ELSE 'unknown' END)"""
"""The status class of a row as a SQL expression over ``http_status``, ``error_code``,
``error_type`` and ``error_message`` (a constant: no value is ever formatted into it)."""
