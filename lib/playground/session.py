"""A playground run from the page's inputs to typed results, without streamlit.

- ``Settings`` is what the Chat tab's inputs hold; ``config_of`` turns it into the
  configuration a preset stores (what the model does not take and what is at its default
  left out), ``settings_of`` gives a stored configuration back to the inputs.
- ``key_status`` says whether a request may be sent at all: a key set on the server, one
  typed for this session, or none (then nothing is sent; an OpenAI-compatible server, often
  a local one, may take none).
- ``request`` builds the call (raises ``ParamError`` naming the field), ``finish`` prices it
  from the catalog and records it (counted in usage), ``compare`` runs one prompt against
  several configurations, ``estimate`` says what the prompt so far takes and may cost.
- ``preset_rows`` lays a stored configuration out as (field, value) rows to show.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from lib.errors import TokenboardError
from lib.llm.chat import ChatRequest, ChatResult, run_chat
from lib.llm.cost import call_cost, max_cost, rates
from lib.llm.params import PARAMS, ParamError, unsupported, validate
from lib.llm.providers import base_url, configured_key
from lib.llm.tokens import count_prompt
from lib.playground.history import record_run
from lib.store import Store

SAMPLING = ("temperature", "top_p", "frequency_penalty", "presence_penalty")
STOPPED_MARK = " …"  # appended to a stopped answer's text in the conversation


@dataclass(frozen=True)
class Settings:
    """The Chat tab's inputs, as typed (the stop sequences one per line, the seed as text)."""

    provider: str = "openai"
    model: str = ""
    system: str = ""
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 1024
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    stop: str = ""
    seed: str = ""
    format: str = "text"  # text | json_object | json_schema
    schema: str = ""  # the JSON schema's text, for json_schema

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def config_of(s: Settings) -> dict[str, Any]:
    """The configuration of ``s`` as a preset stores it: provider, model, system prompt, and
    the parameters the model takes that differ from their defaults."""
    seed = int(s.seed) if s.seed.strip().isdigit() else None
    params: dict[str, Any] = {
        "temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens,
        "frequency_penalty": s.frequency_penalty, "presence_penalty": s.presence_penalty,
        "stop": [x for x in s.stop.splitlines() if x], "seed": seed,
        "response_format": {"json_schema": s.schema} if s.format == "json_schema" else s.format,
    }  # fmt: skip
    kept = {
        k: v
        for k, v in params.items()
        if not unsupported(s.provider, s.model, k) and v != PARAMS[k].default and v != []
    }
    return {"provider": s.provider, "model": s.model, "system": s.system, "params": kept}


def settings_of(config: dict[str, Any]) -> Settings:
    """The inputs that give back ``config`` (a preset's); what it leaves out is at its default."""
    p = config.get("params") or {}
    rf = p.get("response_format", "text")
    schema = ""
    if isinstance(rf, dict):
        raw = rf.get("json_schema", "")
        schema = raw if isinstance(raw, str) else json.dumps(raw)
    d = {n: PARAMS[n].default for n in ("max_tokens", *SAMPLING)} | {
        n: p[n] for n in ("max_tokens", *SAMPLING) if n in p
    }
    return Settings(
        provider=config["provider"], model=config["model"], system=config.get("system", ""),
        stop="\n".join(p.get("stop", [])), seed=str(p.get("seed", "") or ""),
        format="json_schema" if isinstance(rf, dict) else rf, schema=schema, **d,
    )  # fmt: skip


@dataclass(frozen=True)
class KeyStatus:
    """Whether the playground may call ``provider``, and with which key."""

    provider: str
    source: str  # "server" (set in the environment or secrets) | "session" (typed) | "none"
    env_name: str  # where to set it on the server, e.g. OPENAI_API_KEY
    required: bool  # False for an OpenAI-compatible server (a local one often takes none)

    @property
    def ready(self) -> bool:
        return self.source != "none" or not self.required


def key_status(provider: str, typed: str | None) -> KeyStatus:
    """The key situation of ``provider`` given the key typed in this session (or None)."""
    source = "server" if configured_key(provider) else "session" if typed else "none"
    return KeyStatus(provider, source, f"{provider.upper()}_API_KEY", provider != "compatible")


def api_key(provider: str, typed: str | None) -> str | None:
    """The key to send: the server's, else the one typed for this session."""
    return configured_key(provider) or typed or None


def request(
    config: dict[str, Any], messages: list[dict[str, str]], key: str | None, stream: bool = True
) -> ChatRequest:
    """The call of ``config`` with the conversation ``messages``. Raises ``ParamError`` (its
    ``field`` names the parameter) when a value is out of range or not taken by the model."""
    provider = config["provider"]
    sent = validate(provider, config["model"], config.get("params") or {})
    return ChatRequest(provider, base_url(provider), config["model"], tuple(messages),
                       config.get("system", ""), sent, stream, key)  # fmt: skip


@dataclass(frozen=True)
class RunOutcome:
    """A finished (or stopped, or failed) call, its cost in USD from the price catalog
    (None for an unpriced model or when the provider sent no usage) and its history row."""

    result: ChatResult
    cost: Decimal | None
    run_id: int


def finish(
    store: Store,
    username: str,
    req: ChatRequest,
    result: ChatResult,
    keep_text: bool,
    role: str | None = None,
) -> RunOutcome:
    """Price the call and record it (in the history and in usage, source "playground") for
    ``username``, whose ``role`` must allow the playground (raises ``PermissionDeniedError``);
    ``role`` None records without that check (the command line, tests)."""
    cost = call_cost(rates(store, req.model), result.usage)
    if role is None:
        rec = record_run(store, username, req, result, cost, keep_text=keep_text)
    else:
        rec = record_run(store, username, req, result, cost, keep_text=keep_text, role=role)
    return RunOutcome(result, cost, rec.run_id)


def stopped(req: ChatRequest, text: str) -> ChatResult:
    """The result of a call ended by Stop (or by leaving the page) with ``text`` so far."""
    return ChatResult(text=text, status="stopped", model=req.model)


@dataclass(frozen=True)
class Problem:
    """Why a configuration was not sent: ``code`` "param" (``field`` is the parameter,
    ``error`` the refusal with its code, ``detail`` its English sentence) or "no_key"
    (``field`` is the key's variable)."""

    code: str
    field: str
    detail: str = ""
    error: ParamError | None = None


@dataclass(frozen=True)
class CompareOutcome:
    label: str
    config: dict[str, Any]
    outcome: RunOutcome | None  # None when ``problem`` says why it was not sent
    problem: Problem | None = None


def compare(
    store: Store,
    username: str,
    choices: list[tuple[str, dict[str, Any]]],
    prompt: str,
    typed_key: Callable[[str], str | None],
    keep_text: bool,
    role: str | None = None,
) -> list[CompareOutcome]:
    """Send ``prompt`` once with each (label, configuration), one after the other, not
    streamed; every call sent is recorded. ``typed_key(provider)`` is the key typed for this
    session. A configuration that cannot be sent says why and the others still run."""
    out = []
    for label, cfg in choices:
        status = key_status(cfg["provider"], typed_key(cfg["provider"]))
        if not status.ready:
            out.append(CompareOutcome(label, cfg, None, Problem("no_key", status.env_name)))
            continue
        key = api_key(cfg["provider"], typed_key(cfg["provider"]))
        try:
            req = request(cfg, [{"role": "user", "content": prompt}], key, stream=False)
        except ParamError as err:
            problem = Problem("param", err.field, str(err), err)
            out.append(CompareOutcome(label, cfg, None, problem))
            continue
        except TokenboardError as err:
            out.append(CompareOutcome(label, cfg, None, Problem("param", "", str(err))))
            continue
        outcome = finish(store, username, req, run_chat(req), keep_text, role)
        out.append(CompareOutcome(label, cfg, outcome))
    return out


@dataclass(frozen=True)
class PromptEstimate:
    tokens: int  # the system prompt and the conversation so far
    exact: bool  # False: counted with OpenAI's tokenizer for another vendor's model
    max_cost: Decimal | None  # USD with an answer of the maximum length; None when unpriced


def estimate(store: Store, s: Settings, messages: list[dict[str, str]]) -> PromptEstimate:
    """What the next call of ``s`` with ``messages`` will take at least and cost at most."""
    est = count_prompt(s.provider, s.model, s.system, messages)
    most = max_cost(rates(store, s.model), est.tokens, int(s.max_tokens))
    return PromptEstimate(est.tokens, est.exact, most)


def preset_rows(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """A stored configuration as (field, value) rows, in the Chat tab's order: "provider",
    "model", "system" (when set), each parameter by its name (a JSON schema as its text,
    stop sequences joined by " · "), "messages" (their count) when kept."""
    rows: list[tuple[str, Any]] = [
        ("provider", config.get("provider")),
        ("model", config.get("model")),
    ]
    if config.get("system"):
        rows.append(("system", config["system"]))
    params = config.get("params") or {}
    for name in PARAMS:
        if name not in params:
            continue
        value = params[name]
        if name == "stop":
            value = " · ".join(value) if isinstance(value, list) else value
        elif name == "response_format" and isinstance(value, dict):
            raw = value.get("json_schema")
            value = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
        rows.append((name, value))
    if config.get("messages"):
        rows.append(("messages", len(config["messages"])))
    return rows
