"""One knowledge base of provider errors: what an error means and how to fix it.

Covers the OpenAI error model (HTTP status + ``error.type`` / ``error.code`` / ``error.param``)
and Anthropic's (HTTP status + ``error.type``, ``error.details.error_code``), plus what goes
wrong on the way (timeouts, refused connections, a stream cut before its end). Used by the
playground for its own calls and by the Errors page for imported error rows, so an entry is
written for someone who did not make the call.

Rules are tried from the most specific (a code, a phrase of the message) to the least (the
status class); ``explain`` always returns advice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    title: str  # a few words: "Rate limit reached"
    meaning: str  # what happened, in plain words
    fix: str  # what to do
    retry: bool  # whether the same request can succeed later without changes
    kind: str  # auth | permission | request | context | not_found | rate_limit | quota | server | overloaded | network

    def with_wait(self, retry_after: float | None) -> Advice:
        if retry_after is None or not self.retry:
            return self
        return Advice(self.title, self.meaning, f"The provider asks to wait {retry_after:g} s. {self.fix}",
                      self.retry, self.kind)  # fmt: skip


@dataclass(frozen=True)
class ErrorFacts:
    """What is known of one failed call (any field may be missing)."""

    provider: str = ""  # "openai", "anthropic", or an OpenAI-compatible gateway
    status: int | None = None  # HTTP status; None when no answer came
    error_type: str | None = None
    code: str | None = None
    param: str | None = None
    message: str = ""
    transport: str | None = None  # "timeout" | "connection" | "stream_cut" when no complete answer


Rule = tuple[Callable[[ErrorFacts], bool], Advice]


def _has(f: ErrorFacts, *phrases: str) -> bool:
    text = f.message.lower()
    return any(p in text for p in phrases)


def _code(f: ErrorFacts, *codes: str) -> bool:
    return f.code in codes or f.error_type in codes


SPEND_CODES = ("insufficient_quota", "credit_balance_exhausted", "organization_spend_limit_exceeded",
               "project_spend_limit_exceeded", "organization_usage_limit_exceeded",
               "enforced_spend_limit_reached")  # fmt: skip

RULES: list[Rule] = [
    # --- no (complete) answer -------------------------------------------------------------
    (lambda f: f.transport == "timeout", Advice(
        "No answer in time", "The provider did not answer before the timeout; the request may still be running there.",
        "Retry; for long answers stream them, lower the maximum tokens, or raise the timeout.", True, "network")),
    (lambda f: f.transport == "connection", Advice(
        "Could not connect", "The connection to the API failed (DNS, proxy, firewall or the service is down).",
        "Check the base URL and the network (proxy, VPN, firewall), then retry; see the provider's status page.",
        True, "network")),
    (lambda f: f.transport == "stream_cut", Advice(
        "The answer stopped half-way", "The stream ended before its last event, so the answer is incomplete and the "
        "usage (tokens, cost) of the call was never sent.",
        "Retry the request; if it keeps happening, check proxies that cut long connections, or lower the maximum tokens.",
        True, "network")),
    # --- spend and quota (never helped by retrying) ---------------------------------------
    (lambda f: f.status == 429 and _code(f, *SPEND_CODES), Advice(
        "Spend limit or quota reached", "The organisation or project has used up its credit or hit a spend limit.",
        "Add credit or raise/remove the spend limit in the provider's billing settings; retrying does not help.",
        False, "quota")),
    (lambda f: f.status == 400 and f.provider == "anthropic" and _has(f, "spend limit", "usage limit", "credit balance"),
     Advice("Spend limit reached", "Usage reached a spend limit set for the organisation or workspace.",
            "Raise or remove the limit in the Anthropic console (or wait for the next month); retrying does not help.",
            False, "quota")),
    (lambda f: f.status == 402 or _code(f, "billing_error"), Advice(
        "Billing problem", "The account has a billing issue (payment method or invoice).",
        "Fix the payment details in the provider's billing settings.", False, "quota")),
    # --- too long ---------------------------------------------------------------------------
    (lambda f: _code(f, "context_length_exceeded") or _has(f, "maximum context length", "prompt is too long",
                                                            "context window", "too many tokens"),
     Advice("Prompt too long for the model", "The prompt plus the requested output exceed the model's context window.",
            "Shorten the prompt or the conversation, lower the maximum tokens, or pick a model with a larger context.",
            False, "context")),
    (lambda f: f.status == 413 or _code(f, "request_too_large"), Advice(
        "Request too large", "The request body is over the API's size limit (32 MB for Anthropic's Messages API).",
        "Send less: fewer or smaller images and documents, a shorter conversation.", False, "request")),
    # --- who you are ------------------------------------------------------------------------
    (lambda f: f.status == 401 and _has(f, "ip not authorized", "ip address", "allowlist"), Advice(
        "IP address not allowed", "The caller's IP address is not on the project's or organisation's allowlist.",
        "Call from an allowed address, or add this one to the allowlist in the provider's settings.", False, "auth")),
    (lambda f: f.status == 401 and _has(f, "not a member of an organization", "must be a member"), Advice(
        "Not a member of the organisation", "The key's account left or was removed from the organisation, or the "
        "organisation was deleted.", "Ask an owner to invite the account again, or use a key of a current member.",
        False, "auth")),
    (lambda f: f.status == 401 or _code(f, "invalid_api_key", "authentication_error"), Advice(
        "API key refused", "The key is wrong, revoked, of another organisation or project, or lacks this endpoint.",
        "Check the key (no spaces or quotes), that it belongs to this organisation/project, or create a new one.",
        False, "auth")),
    (lambda f: f.status == 403 and _has(f, "country", "region", "territory"), Advice(
        "Region not supported", "The API is not offered where the call comes from.",
        "Call from a supported country or region.", False, "permission")),
    (lambda f: f.status == 403 or _code(f, "permission_error"), Advice(
        "Not allowed", "The key may not use this model or resource.",
        "Use a key whose project/workspace has access, or ask an admin to grant it.", False, "permission")),
    # --- what you asked for -----------------------------------------------------------------
    (lambda f: f.status == 404 or _code(f, "model_not_found", "not_found_error"), Advice(
        "Model or resource not found", "The model name or resource id does not exist, or this key cannot see it.",
        "Check the model name (pick it from the model list) and that the key's project has access to it.", False,
        "not_found")),
    (lambda f: f.status == 400 and f.param == "service_tier", Advice(
        "Service tier not allowed", "The chosen service tier is not allowed for this project.",
        "Pick an allowed tier (or none), or change the project's settings.", False, "request")),
    (lambda f: f.status == 409 or _code(f, "conflict_error"), Advice(
        "Conflict", "The resource was changed by another request at the same time.", "Retry the request.", True,
        "request")),
    (lambda f: f.status == 422, Advice(
        "Request could not be processed", "The request was well formed but could not be processed as it is.",
        "Adjust the parameters named in the message and send again.", False, "request")),
    (lambda f: f.status == 400 or _code(f, "invalid_request_error"), Advice(
        "Invalid request", "A parameter is missing, out of range, or not accepted by this model.",
        "Fix the parameter named in the message (e.g. temperature range, max tokens, stop sequences) and send again.",
        False, "request")),
    # --- too fast ---------------------------------------------------------------------------
    (lambda f: f.status == 429 and (_code(f, "slow_down") or _has(f, "slow down", "acceleration")), Advice(
        "Traffic ramped up too fast", "Requests grew faster than the provider allows, even if under the limits.",
        "Cut the rate, then ramp up gradually (at most about 50 % more every 15 minutes); honour Retry-After.",
        True, "rate_limit")),
    (lambda f: f.status == 429 or _code(f, "rate_limit_exceeded", "rate_limit_error"), Advice(
        "Rate limit reached", "More requests or tokens per minute than the organisation's or project's limit.",
        "Wait and retry with exponential backoff and jitter; spread traffic, lower max tokens, or ask for higher "
        "limits. Limits are per organisation/project, not per user.", True, "rate_limit")),
    # --- their side -------------------------------------------------------------------------
    (lambda f: f.status == 529 or _code(f, "overloaded_error", "server_is_overloaded") or
               (f.status == 503 and _has(f, "overloaded")), Advice(
        "Provider overloaded", "The API is short of capacity for everyone; the request itself is fine.",
        "Retry with exponential backoff and jitter (honour Retry-After), or use another model or provider meanwhile.",
        True, "overloaded")),
    (lambda f: f.status == 503, Advice(
        "Service unavailable", "The API is temporarily unavailable.",
        "Retry after a short wait (honour Retry-After); check the provider's status page.", True, "server")),
    (lambda f: f.status == 504 or _code(f, "timeout_error"), Advice(
        "Provider timed out", "The provider gave up on the request before it finished.",
        "Retry; stream long answers or lower the maximum tokens.", True, "server")),
    (lambda f: (f.status is not None and f.status >= 500) or _code(f, "server_error", "api_error"), Advice(
        "Provider error", "An unexpected error on the provider's side.",
        "Retry after a short wait; if it persists, check the provider's status page.", True, "server")),
]  # fmt: skip

FALLBACK = Advice(
    "Request failed",
    "The provider refused the request without a known reason.",
    "Read the provider's message; check the parameters and the key.",
    False,
    "request",
)


def explain(facts: ErrorFacts, retry_after: float | None = None) -> Advice:
    """The advice for one failed call (``retry_after`` in seconds, from the response header)."""
    for applies, advice in RULES:
        if applies(facts):
            return advice.with_wait(retry_after)
    return FALLBACK


def facts_from_body(provider: str, status: int | None, body: object) -> ErrorFacts:
    """ErrorFacts from an error response body: OpenAI's ``{"error": {message, type, param,
    code}}`` or Anthropic's ``{"type": "error", "error": {type, message, details}}``."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return ErrorFacts(provider, status, message=str(body or "")[:500])
    details = err.get("details")
    code = err.get("code") or (details.get("error_code") if isinstance(details, dict) else None)

    def text(v: object) -> str | None:
        return None if v is None else str(v)

    return ErrorFacts(provider, status, text(err.get("type")), text(code), text(err.get("param")),
                      str(err.get("message") or ""))  # fmt: skip
