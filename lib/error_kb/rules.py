"""One knowledge base of provider errors: what an error means and how to fix it.

Covers the OpenAI error model (HTTP status + ``error.type`` / ``error.code`` / ``error.param``)
and Anthropic's (HTTP status + ``error.type``, ``error.details.error_code``), what the imports
carry from gateways and clouds (LiteLLM's exception names, Azure OpenAI's content filter,
Bedrock's exceptions, Gemini's statuses, OpenRouter's codes), plus what goes wrong on the way
(timeouts, refused connections, a stream cut before its end). Used by the playground for its
own calls and by the Errors page for imported error rows, so an entry is written for someone
who did not make the call.

Rules are tried from the most specific (a code, a phrase of the message) to the least (the
status class); ``explain`` always returns advice, with a link to the provider's documentation
(``doc_url``: the rule's own page, else the provider's errors page, else "").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from lib.error_kb.classes import (
    SPEND_CODES,
    StatusClass,
    effective_status,
    is_overloaded,
    is_quota,
    norm_code,
)

# The status class of each advice kind (the Errors page's filter; see lib.error_kb.classes).
KIND_CLASS: dict[str, StatusClass] = {
    "auth": "client",
    "permission": "client",
    "request": "client",
    "context": "client",
    "not_found": "client",
    "content": "client",
    "rate_limit": "rate_limit",
    "quota": "quota",
    "overloaded": "overloaded",
    "server": "server",
    "network": "network",
}


@dataclass(frozen=True)
class Advice:
    title: str  # a few words: "Rate limit reached"
    meaning: str  # what happened, in plain words
    fix: str  # what to do
    retry: bool  # whether the same request can succeed later without changes
    kind: str  # a key of KIND_CLASS: auth | permission | request | context | not_found | content | rate_limit | quota | server | overloaded | network
    doc_url: str = ""  # the provider's page on this error ("" when none is known)

    @property
    def status_class(self) -> StatusClass:
        """The Errors page's class of this advice (``lib.error_kb.classes``)."""
        return KIND_CLASS.get(self.kind, "unknown")

    def with_wait(self, retry_after: float | None) -> Advice:
        if retry_after is None or not self.retry:
            return self
        return replace(self, fix=f"The provider asks to wait {retry_after:g} s. {self.fix}")


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
    """The code or the type is one of ``codes`` (lower case; ``litellm.`` dropped)."""
    return norm_code(f.code) in codes or norm_code(f.error_type) in codes


def _provider(f: ErrorFacts, *names: str) -> bool:
    return f.provider.lower() in names


# Provider documentation. Each page was checked to be the provider's own error reference.
OPENAI_ERRORS = "https://platform.openai.com/docs/guides/error-codes"
ANTHROPIC_ERRORS = "https://docs.anthropic.com/en/api/errors"
GEMINI_ERRORS = "https://ai.google.dev/gemini-api/docs/troubleshooting"
GEMINI_LIMITS = "https://ai.google.dev/gemini-api/docs/rate-limits"
BEDROCK_ERRORS = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/troubleshooting-api-error-codes.html"
)
AZURE_ERRORS = "https://learn.microsoft.com/en-us/azure/ai-services/openai/reference"
AZURE_CONTENT_FILTER = (
    "https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter"
)
OPENROUTER_ERRORS = "https://openrouter.ai/docs/api/reference/errors-and-debugging"
LITELLM_EXCEPTIONS = "https://docs.litellm.ai/docs/exception_mapping"
LITELLM_BUDGETS = "https://docs.litellm.ai/docs/proxy/users"
NODE_ERRORS = "https://nodejs.org/api/errors.html#common-system-errors"
PROVIDER_DOCS = {
    "openai": OPENAI_ERRORS,
    "anthropic": ANTHROPIC_ERRORS,
    "google": GEMINI_ERRORS,
    "gemini": GEMINI_ERRORS,
    "vertex_ai": GEMINI_ERRORS,
    "bedrock": BEDROCK_ERRORS,
    "azure": AZURE_ERRORS,
    "azure_openai": AZURE_ERRORS,
    "openrouter": OPENROUTER_ERRORS,
    "litellm": LITELLM_EXCEPTIONS,
}

# LiteLLM's exception names (as its spend logs write them in error_class / error_type), from
# docs.litellm.ai/docs/exception_mapping: the Errors page falls back to that page for them.
LITELLM_NAMES = ("badrequesterror", "unsupportedparamserror", "contextwindowexceedederror",
                 "contentpolicyviolationerror", "imagefetcherror", "invalidrequesterror",
                 "authenticationerror", "permissiondeniederror", "notfounderror", "timeout",
                 "unprocessableentityerror", "ratelimiterror", "apiconnectionerror", "apierror",
                 "serviceunavailableerror", "internalservererror", "budgetexceedederror",
                 "apiresponsevalidationerror", "openaierror")  # fmt: skip

RATE_LIMIT = Advice(
    "Rate limit reached", "More requests or tokens per minute than the organisation's or project's limit.",
    "Wait and retry with exponential backoff and jitter; spread traffic, lower max tokens, or ask for higher "
    "limits. Limits are per organisation/project, not per user.", True, "rate_limit")  # fmt: skip
KEY_REFUSED = Advice(
    "API key refused", "The key is wrong, revoked, of another organisation or project, or lacks this endpoint.",
    "Check the key (no spaces or quotes), that it belongs to this organisation/project, or create a new one.",
    False, "auth")  # fmt: skip
NOT_ALLOWED = Advice(
    "Not allowed", "The key may not use this model or resource.",
    "Use a key whose project/workspace has access, or ask an admin to grant it.", False, "permission")  # fmt: skip
OVERLOADED = Advice(
    "Provider overloaded", "The API is short of capacity for everyone; the request itself is fine.",
    "Retry with exponential backoff and jitter (honour Retry-After), or use another model or provider meanwhile.",
    True, "overloaded")  # fmt: skip
TIMED_OUT = Advice(
    "Request timed out", "The request took too long and was stopped (by the provider, a gateway or the caller's "
    "timeout) before an answer came.",
    "Retry; stream long answers, lower the maximum tokens, or raise the timeout.", True, "network")  # fmt: skip

RULES: list[Rule] = [
    # --- no (complete) answer -------------------------------------------------------------
    (lambda f: f.transport == "timeout", Advice(
        "No answer in time", "The provider did not answer before the timeout; the request may still be running there.",
        "Retry; for long answers stream them, lower the maximum tokens, or raise the timeout.", True, "network")),
    # Node: ECONNREFUSED "No connection could be made because the target machine actively refused
    # it. This usually results from trying to connect to a service that is inactive on the foreign
    # host." (nodejs.org/api/errors.html, common system errors)
    (lambda f: f.transport == "connection" or _code(f, "econnrefused"), Advice(
        "Could not connect", "The connection to the API failed (DNS, proxy, firewall or the service is down).",
        "Check the base URL and the network (proxy, VPN, firewall), then retry; see the provider's status page.",
        True, "network")),
    (lambda f: f.transport == "stream_cut", Advice(
        "The answer stopped half-way", "The stream ended before its last event, so the answer is incomplete and the "
        "usage (tokens, cost) of the call was never sent.",
        "Retry the request; if it keeps happening, check proxies that cut long connections, or lower the maximum tokens.",
        True, "network")),
    # httpx ConnectTimeout: the connect timeout ran out before a connection to the host was made
    # ("_ssl.c:983: The handshake operation timed out", encode/httpx#3017; httpx's timeouts page);
    # Node ETIMEDOUT: "A connect or send request failed because the connected party did not
    # properly respond after a period of time." (nodejs.org/api/errors.html)
    (lambda f: _code(f, "connecttimeout", "etimedout"), Advice(
        "Connection timed out", "The provider's host did not answer in time while the connection was being made "
        "or the request sent, so no answer came (network, proxy or firewall, or the service is down).",
        "Check the base URL and the network (proxy, VPN, firewall), then retry; see the provider's status page.",
        True, "network")),
    # Node: ECONNRESET "A connection was forcibly closed by a peer. This normally results from a
    # loss of the connection on the remote socket due to a timeout or reboot." (nodejs.org/api/errors.html)
    (lambda f: _code(f, "econnreset"), Advice(
        "Connection reset", "The other end (the provider, a gateway, a proxy or a load balancer) closed the "
        "connection abruptly, often after a timeout or a restart; the answer, if any, was lost.",
        "Retry; if it keeps happening on long requests, stream the answer or lower the maximum tokens, and check "
        "proxies or firewalls that cut idle connections.", True, "network", NODE_ERRORS)),
    # --- names that say it all, whatever the status --------------------------------------
    # Bedrock: ThrottlingException "Too many requests, please wait before trying again." / "Too
    # many tokens, please wait before trying again." (botocore errors quoted in
    # aws-samples/aws-genai-llm-chatbot#220 and posit-dev/positron#7844; 400 in old SDKs, 429 now)
    (lambda f: _code(f, "throttlingexception"), Advice(
        "Throttled by Bedrock", "More requests or tokens per minute than the account's Bedrock quota for this model "
        "and region.", "Retry with exponential backoff and jitter; spread traffic or use a cross-region inference "
        "profile; ask for a higher quota in Service Quotas, or buy provisioned throughput for steady load.",
        True, "rate_limit", BEDROCK_ERRORS)),
    # Bedrock: ModelTimeoutException (408) "The request took too long to process. Processing time
    # exceeded the model timeout length." (botocore's bedrock-runtime exception reference)
    (lambda f: _code(f, "modeltimeoutexception"), Advice(
        "Model timed out", "The model took longer than its time limit to process the request.",
        "Retry; shorten the prompt or lower the maximum tokens, and stream long answers "
        "(InvokeModelWithResponseStream, ConverseStream).", True, "network", BEDROCK_ERRORS)),
    # Bedrock: AccessDeniedException (403) "You don't have access to the model with the specified
    # model ID." (langgenius/dify#2829; Bedrock's troubleshooting page)
    (lambda f: _code(f, "accessdeniedexception"), Advice(
        "No access to this Bedrock model", "The IAM identity may not invoke this model, or access to the model was "
        "never granted in this account and region.",
        "Grant bedrock:InvokeModel to the role, enable the model under Model access in the Bedrock console for this "
        "region, and check that temporary credentials have not expired.", False, "permission", BEDROCK_ERRORS)),
    # Bedrock: ModelErrorException (424) "The request failed due to an error while processing the
    # model." with the model's originalStatusCode and resourceName (botocore's bedrock-runtime
    # exception reference; AWS does not say whether a retry helps)
    (lambda f: _code(f, "modelerrorexception"), Advice(
        "The model failed on this request", "The Bedrock model raised an error while processing the request; the "
        "error carries the model's own status code (originalStatusCode).",
        "Retry once; if the same request fails again, read the model's status and message, then change the input "
        "or pick another model.", True, "server", BEDROCK_ERRORS)),
    # Gemini / Google APIs: FAILED_PRECONDITION (400) "the system is not in a state required for the
    # operation's execution"; the client "should not retry until the system state has been
    # explicitly fixed" (google.rpc.Code). Gemini's troubleshooting page: "Gemini API free tier is
    # not available in your country. Please enable billing on your project in Google AI Studio."
    # (the message quoted in kolbytn/mindcraft#133)
    (lambda f: _code(f, "failed_precondition"), Advice(
        "Project not ready for this call", "Google refused the call because the project does not meet a "
        "requirement: most often the Gemini API free tier is not offered in the caller's country and billing is "
        "not enabled.", "Enable billing on the project in Google AI Studio (or meet the requirement the message "
        "names), then send again; retrying as is does not help.", False, "permission", GEMINI_ERRORS)),
    # Gemini: 429 RESOURCE_EXHAUSTED "Resource has been exhausted (e.g. check quota)." (gemini-cli
    # #2020; Gemini's troubleshooting page: "You've exceeded the rate limit")
    (lambda f: _code(f, "resource_exhausted"), Advice(
        "Gemini rate limit reached", "Requests or tokens per minute (or per day) over the project's limit for this "
        "model; free-tier limits are low.",
        "Wait and retry with exponential backoff; check the project's limits in AI Studio, or enable billing for a "
        "higher tier.", True, "rate_limit", GEMINI_LIMITS)),
    # LiteLLM: Timeout (408, openai.APITimeoutError) and APIConnectionError ("If any unmapped error
    # is returned, we return this"), from its exception mapping
    # httpx ReadTimeout: the read timeout ran out while waiting for the answer ("The read operation
    # timed out", encode/httpx#3017; httpx's timeouts page)
    (lambda f: _code(f, "timeout", "apitimeouterror", "readtimeout") or f.status == 408, TIMED_OUT),
    (lambda f: _code(f, "apiconnectionerror", "connecterror", "connection_error"), Advice(
        "Could not reach the provider", "The gateway's call to the provider failed without an HTTP answer it knows "
        "(connection refused, DNS, TLS, or an error LiteLLM could not map).",
        "Read the message for the cause; check the provider's base URL and status page, then retry.", True,
        "network", LITELLM_EXCEPTIONS)),
    # --- content filters --------------------------------------------------------------------
    # Azure OpenAI: 400 code content_filter, innererror.code ResponsibleAIPolicyViolation, "The
    # response was filtered due to the prompt triggering Azure OpenAI's content management policy"
    # (openai/openai-python#331, compl-ai/compl-ai#20)
    (lambda f: _code(f, "content_filter", "responsibleaipolicyviolation")
               or _has(f, "azure openai's content management policy", "azure openai’s content management policy"),
     Advice("Blocked by Azure's content filter", "Azure OpenAI's content filter flagged the prompt (or the answer) "
            "in a category such as hate, sexual, violence or self-harm, or as a jailbreak attempt.",
            "Rephrase or remove the flagged content (the filter result names the category); an admin can change the "
            "deployment's content filter configuration.", False, "content", AZURE_CONTENT_FILTER)),
    # LiteLLM: ContentPolicyViolationError (400), its name for every provider's safety refusal
    (lambda f: _code(f, "contentpolicyviolationerror", "content_policy_violation"), Advice(
        "Refused by a content policy", "The provider's safety system refused the prompt or the answer.",
        "Rephrase or remove the flagged content; a gateway can send such requests to a fallback model.", False,
        "content")),
    # OpenRouter: 403 "Your chosen model requires moderation and your input was flagged" (its errors page)
    (lambda f: f.status == 403 and (_has(f, "requires moderation", "flagged") or _provider(f, "openrouter")), Advice(
        "Flagged by moderation", "The chosen model requires moderation and the input was flagged.",
        "Change the flagged input (error.metadata lists the reasons), or pick a model without moderation.", False,
        "content", OPENROUTER_ERRORS)),
    # --- spend and quota (never helped by retrying) ---------------------------------------
    (lambda f: f.status == 429 and _code(f, *SPEND_CODES), Advice(
        "Spend limit or quota reached", "The organisation or project has used up its credit or hit a spend limit.",
        "Add credit or raise/remove the spend limit in the provider's billing settings; retrying does not help.",
        False, "quota")),
    (lambda f: f.status == 400 and f.provider == "anthropic" and _has(f, "spend limit", "usage limit", "credit balance"),
     Advice("Spend limit reached", "Usage reached a spend limit set for the organisation or workspace.",
            "Raise or remove the limit in the Anthropic console (or wait for the next month); retrying does not help.",
            False, "quota")),
    # LiteLLM proxy: BudgetExceededError "Budget has been exceeded! Current cost: 26.075, Max
    # budget: 0.25" (BerriAI/litellm#22726; sent as 400, or 429 with type budget_exceeded)
    (lambda f: _code(f, "budgetexceedederror", "budget_exceeded") or _has(f, "budget has been exceeded",
                                                                            "exceeded budget"), Advice(
        "Gateway budget exceeded", "The LiteLLM proxy refused the call: the key, user, team or model has spent its "
        "budget.", "Raise the budget or wait for it to reset (budget_duration) in the LiteLLM admin; retrying before "
        "then does not help.", False, "quota", LITELLM_BUDGETS)),
    # OpenRouter: 402 "Your account or API key has insufficient credits. Add more credits and retry
    # the request." (its errors page)
    (lambda f: f.status == 402 and (_has(f, "credits") or _provider(f, "openrouter")), Advice(
        "Out of credits", "The account or this API key has too few credits for the request.",
        "Add credits, or raise the key's credit limit; a lower max tokens makes the request reserve less.", False,
        "quota", OPENROUTER_ERRORS)),
    (lambda f: f.status == 402 or _code(f, "billing_error"), Advice(
        "Billing problem", "The account has a billing issue (payment method or invoice).",
        "Fix the payment details in the provider's billing settings.", False, "quota")),
    (lambda f: is_quota(f.status, norm_code(f.code), norm_code(f.error_type), f.message), Advice(
        "Quota or spend limit reached", "The account, project or key has used up its quota, credit or budget.",
        "Add credit, raise the limit in the provider's (or gateway's) billing settings, or wait for the next "
        "period; retrying does not help.", False, "quota")),
    # --- too long ---------------------------------------------------------------------------
    # LiteLLM ContextWindowExceededError; Bedrock ValidationException "Input is too long for
    # requested model." (aws-samples/bedrock-chat#95)
    (lambda f: _code(f, "context_length_exceeded", "contextwindowexceedederror")
               or _has(f, "maximum context length", "prompt is too long", "context window", "too many tokens",
                       "input is too long"),
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
    # Gemini: 400 INVALID_ARGUMENT "API key not valid. Please pass a valid API key." with reason
    # API_KEY_INVALID (cequence-io/openai-scala-client#109); LiteLLM AuthenticationError (401)
    (lambda f: f.status == 401 or _code(f, "invalid_api_key", "authentication_error", "authenticationerror",
                                        "api_key_invalid") or _has(f, "api key not valid"), KEY_REFUSED),
    (lambda f: f.status == 403 and _has(f, "country", "region", "territory"), Advice(
        "Region not supported", "The API is not offered where the call comes from.",
        "Call from a supported country or region.", False, "permission")),
    # Gemini PERMISSION_DENIED (403) "Your API key doesn't have the required permissions." (its
    # troubleshooting page); LiteLLM PermissionDeniedError (403)
    (lambda f: f.status == 403 or _code(f, "permission_error", "permission_denied", "permissiondeniederror"),
     NOT_ALLOWED),
    # --- what you asked for -----------------------------------------------------------------
    # LiteLLM NotFoundError ("raise when invalid models passed, example gpt-8"); Gemini NOT_FOUND;
    # Bedrock ValidationException "The provided model identifier is invalid."
    # Bedrock ResourceNotFoundException (404) "The specified resource ARN was not found." (botocore)
    (lambda f: f.status == 404 or _code(f, "model_not_found", "not_found_error", "notfounderror", "not_found",
                                        "resourcenotfoundexception")
               or _has(f, "model identifier is invalid"), Advice(
        "Model or resource not found", "The model name or resource id does not exist, or this key cannot see it.",
        "Check the model name (pick it from the model list) and that the key's project has access to it.", False,
        "not_found")),
    (lambda f: f.status == 400 and f.param == "service_tier", Advice(
        "Service tier not allowed", "The chosen service tier is not allowed for this project.",
        "Pick an allowed tier (or none), or change the project's settings.", False, "request")),
    (lambda f: f.status == 409 or _code(f, "conflict_error"), Advice(
        "Conflict", "The resource was changed by another request at the same time.", "Retry the request.", True,
        "request")),
    (lambda f: f.status == 422 or _code(f, "unprocessableentityerror"), Advice(
        "Request could not be processed", "The request was well formed but could not be processed as it is.",
        "Adjust the parameters named in the message and send again.", False, "request")),
    # Bedrock ValidationException (400); Gemini INVALID_ARGUMENT (400) "The request body is
    # malformed."; LiteLLM BadRequestError / UnsupportedParamsError (400)
    (lambda f: f.status == 400 or _code(f, "invalid_request_error", "validationexception", "invalid_argument",
                                        "badrequesterror", "unsupportedparamserror"), Advice(
        "Invalid request", "A parameter is missing, out of range, or not accepted by this model.",
        "Fix the parameter named in the message (e.g. temperature range, max tokens, stop sequences) and send again.",
        False, "request")),
    # --- too fast ---------------------------------------------------------------------------
    # a 429 or 503 that says "overloaded" (Gemini 503 UNAVAILABLE "The model is overloaded. Please
    # try again later.", google-gemini/gemini-cli#5191) is capacity, not this caller's limit
    (lambda f: is_overloaded(f.status, norm_code(f.code), norm_code(f.error_type), f.message), OVERLOADED),
    # OpenAI's slow_down code says it by itself, with or without the 429
    (lambda f: _code(f, "slow_down") or (f.status == 429 and _has(f, "slow down", "acceleration")), Advice(
        "Traffic ramped up too fast", "Requests grew faster than the provider allows, even if under the limits.",
        "Cut the rate, then ramp up gradually (at most about 50 % more every 15 minutes); honour Retry-After.",
        True, "rate_limit")),
    # too_many_requests: the generic 429 code (HTTP's own name for the status)
    (lambda f: f.status == 429 or _code(f, "rate_limit_exceeded", "rate_limit_error", "ratelimiterror",
                                        "too_many_requests"), RATE_LIMIT),
    # --- their side -------------------------------------------------------------------------
    # OpenRouter: 502 "Your chosen model is down or we received an invalid response from it",
    # message "Provider returned error" with the provider's own in error.metadata.raw
    (lambda f: f.status == 502 and (_provider(f, "openrouter") or _has(f, "provider returned error")), Advice(
        "The model's provider failed", "The chosen model is down, or OpenRouter got an invalid answer from its "
        "provider (the provider's own error is in error.metadata.raw).",
        "Retry after a short wait, or allow fallbacks to other providers or models.", True, "server",
        OPENROUTER_ERRORS)),
    # OpenRouter: 503 "There is no available model provider that meets your routing requirements"
    (lambda f: f.status == 503 and _has(f, "routing requirements", "no available model provider"), Advice(
        "No provider available", "No provider of this model meets the request's routing requirements (provider "
        "order or ignore lists, data policy, parameters, context length), or they are all down.",
        "Relax the provider preferences or pick another model; retry later if the providers are down.", True,
        "server", OPENROUTER_ERRORS)),
    # LiteLLM ServiceUnavailableError (503); Bedrock ServiceUnavailableException (503); Gemini UNAVAILABLE
    (lambda f: f.status == 503 or _code(f, "serviceunavailableerror", "serviceunavailableexception", "unavailable"),
     Advice("Service unavailable", "The API is temporarily unavailable.",
            "Retry after a short wait (honour Retry-After); check the provider's status page.", True, "server")),
    # Gemini DEADLINE_EXCEEDED (504) "The service is unable to finish processing within the deadline."
    (lambda f: f.status == 504 or _code(f, "timeout_error", "deadline_exceeded"), Advice(
        "Provider timed out", "The provider gave up on the request before it finished.",
        "Retry; stream long answers or lower the maximum tokens.", True, "server")),
    # LiteLLM InternalServerError (500); Gemini INTERNAL (500); Bedrock InternalServerException
    # (500, an internal server error: botocore's bedrock-runtime exception reference)
    (lambda f: (f.status is not None and f.status >= 500)
               or _code(f, "server_error", "api_error", "apierror", "internalservererror", "internal",
                        "internalserverexception"), Advice(
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


def doc_url_for(facts: ErrorFacts, advice: Advice) -> str:
    """The documentation link for ``advice`` given to ``facts``: the rule's own page, else the
    provider's errors page, else LiteLLM's exception mapping for its exception names, else ""."""
    if advice.doc_url:
        return advice.doc_url
    page = PROVIDER_DOCS.get(facts.provider.lower())
    if page:
        return page
    if norm_code(facts.error_type) in LITELLM_NAMES:
        return LITELLM_EXCEPTIONS
    return ""


def explain(facts: ErrorFacts, retry_after: float | None = None) -> Advice:
    """The advice for one failed call (``retry_after`` in seconds, from the response header),
    with its ``doc_url`` chosen for the call's provider. A status missing from ``facts`` is
    read from a three-digit code (LiteLLM writes the status as the code)."""
    if facts.status is None:
        status = effective_status(None, facts.code)
        if status is not None:
            facts = replace(facts, status=status)
    advice = next((a for applies, a in RULES if applies(facts)), FALLBACK)
    url = doc_url_for(facts, advice)
    if url != advice.doc_url:
        advice = replace(advice, doc_url=url)
    return advice.with_wait(retry_after)


def facts_from_row(
    provider: str | None,
    http_status: int | None,
    error_code: str | None,
    error_type: str | None,
    message: str | None,
) -> ErrorFacts:
    """ErrorFacts from an imported request row's error columns (any may be None)."""
    return ErrorFacts(provider or "", None if http_status is None else int(http_status),
                      error_type, error_code, None, message or "")  # fmt: skip


def facts_from_body(provider: str, status: int | None, body: object) -> ErrorFacts:
    """ErrorFacts from an error response body: OpenAI's ``{"error": {message, type, param,
    code}}`` (Azure's adds ``innererror.code``, read when ``code`` is missing), Anthropic's
    ``{"type": "error", "error": {type, message, details}}``, Gemini's ``{"error": {code,
    message, status}}`` (``status`` read as the code)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return ErrorFacts(provider, status, message=str(body or "")[:500])
    details = err.get("details")
    inner = err.get("innererror")
    code = err.get("code")
    if code is None or isinstance(code, int):  # Gemini and OpenRouter: code is the HTTP status
        code = (
            (details.get("error_code") if isinstance(details, dict) else None)
            or (inner.get("code") if isinstance(inner, dict) else None)
            or err.get("status")
            or code
        )

    def text(v: object) -> str | None:
        return None if v is None else str(v)

    return ErrorFacts(provider, status, text(err.get("type")), text(code), text(err.get("param")),
                      str(err.get("message") or ""))  # fmt: skip
