"""lib.playground.session and lib.playground.words without a page: configurations, keys,
the compare run against a local OpenAI-compatible server, and lib.llm's words in French."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lib.error_kb import ErrorFacts, explain
from lib.llm.params import ParamError, validate
from lib.llm.types import NotTaken
from lib.playground import session, words
from tests.chat_api_server import OPENAI_KEY, ChatApi

NB = "\u00a0"
SUPPORT = {"provider": "openai", "model": "gpt-4o-mini", "system": "You are a support agent.",
           "params": {"temperature": 0.35, "top_p": 0.9, "max_tokens": 400, "stop": ["###", "END"], "seed": 7,
                      "presence_penalty": -0.5, "response_format": {"json_schema": '{"name": "r"}'}}}  # fmt: skip


def test_a_configuration_goes_to_the_inputs_and_back_unchanged():
    s = session.settings_of(SUPPORT)
    assert (s.temperature, s.stop, s.seed, s.format, s.frequency_penalty) == (
        0.35, "###\nEND", "7", "json_schema", 0.0,
    )  # fmt: skip
    assert session.config_of(s) == SUPPORT


def test_a_configuration_keeps_only_what_the_model_takes_and_what_differs_from_defaults():
    s = session.Settings(provider="openai", model="o3-mini", temperature=0.2, max_tokens=1024,
                         stop="x", seed="12", format="json_object")  # fmt: skip
    # o3-mini: no sampling, no stop sequences; 1024 max tokens is the default
    assert session.config_of(s)["params"] == {"seed": 12, "response_format": "json_object"}
    anthropic = session.Settings(provider="anthropic", model="claude-haiku-4-5", seed="3",
                                 presence_penalty=0.5, temperature=0.5)  # fmt: skip
    assert session.config_of(anthropic)["params"] == {"temperature": 0.5}


def test_a_preset_as_rows_of_settings():
    assert session.preset_rows({**SUPPORT, "messages": [{"role": "user", "content": "hi"}] * 3}) == [
        ("provider", "openai"), ("model", "gpt-4o-mini"), ("system", "You are a support agent."),
        ("temperature", 0.35), ("top_p", 0.9), ("max_tokens", 400), ("presence_penalty", -0.5),
        ("stop", "### · END"), ("seed", 7), ("response_format", '{"name": "r"}'), ("messages", 3),
    ]  # fmt: skip


def test_key_status(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("COMPATIBLE_API_KEY", raising=False)
    none = session.key_status("openai", None)
    assert (none.source, none.env_name, none.ready) == ("none", "OPENAI_API_KEY", False)
    assert session.key_status("openai", "sk-typed").source == "session"
    assert session.key_status("compatible", None).ready  # a local server often takes no key
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server")
    assert session.key_status("openai", "sk-typed").source == "server"
    assert session.api_key("openai", "sk-typed") == "sk-server"


def test_compare_sends_each_configuration_once_and_says_why_one_was_not_sent(store, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with ChatApi() as api:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
        choices = [
            ("mini", {"provider": "openai", "model": "gpt-4o-mini", "system": "", "params": {}}),
            ("too hot", {"provider": "openai", "model": "gpt-4o", "system": "",
                         "params": {"temperature": 3.0}}),
            ("claude", {"provider": "anthropic", "model": "claude-haiku-4-5", "system": "", "params": {}}),
        ]  # fmt: skip
        keys = {"openai": OPENAI_KEY}
        out = session.compare(store, "ana", choices, "Say hello", keys.get, keep_text=False)
        assert [o.label for o in out] == ["mini", "too hot", "claude"]
        ok, hot, claude = out
        assert ok.outcome is not None and ok.outcome.result.text == "Hello world"
        # 12 prompt tokens (2 cached), 3 completion: 10 × 0.15 + 2 × 0.075 + 3 × 0.60 = 3.45 per 1M
        assert ok.outcome.cost == Decimal("0.00000345")
        p = hot.problem
        assert p is not None and p.error is not None
        assert (p.code, p.field, p.error.code, p.error.values) == (
            "param", "temperature", "out_of_range", {"low": 0.0, "high": 2.0, "found": 3.0})  # fmt: skip
        assert words.error(p.error, "fr") == f"Température{NB}: attendu de 0 à 2, trouvé 3"
        assert claude.problem == session.Problem("no_key", "ANTHROPIC_API_KEY")
        assert [b["model"] for b in api.bodies] == ["gpt-4o-mini"]  # only the one that could go
    assert store.scalar("SELECT count(*) FROM playground_runs") == 1


def test_the_estimate_prices_the_longest_answer(store):
    s = session.Settings(
        provider="openai", model="gpt-4o-mini", system="Be brief.", max_tokens=1000
    )
    est = session.estimate(store, s, [{"role": "user", "content": "Hello"}])
    assert est.exact and est.tokens > 0
    # gpt-4o-mini: $0.15 in and $0.60 out per 1M tokens; the whole prompt uncached
    assert est.max_cost == (est.tokens * Decimal("0.15") + 1000 * Decimal("0.60")) / 1_000_000


def test_lib_llm_words_in_french():
    assert words.param_label("temperature", "fr") == "Température"
    assert words.reason(NotTaken("reasoning_sampling", "o3-mini", "top_p"), "fr") == (
        f"o3-mini est un modèle de raisonnement{NB}: il n'accepte que l'échantillonnage par défaut.")  # fmt: skip
    with pytest.raises(ParamError) as err:
        validate("openai", "gpt-4o", {"temperature": 2.5})
    assert words.param_error(err.value, "fr") == f"Température{NB}: attendu de 0 à 2, trouvé 2,5"
    assert words.param_error(err.value, "en") == "Temperature: expected 0 to 2, found 2.5"
    with pytest.raises(ParamError) as err:
        validate("anthropic", "claude-haiku-4-5", {"seed": 3})
    assert words.param_error(err.value, "fr") == (
        f"Graine{NB}: Ce paramètre n'existe pas dans l'API Messages d'Anthropic.")  # fmt: skip
    busy = explain(ErrorFacts("openai", 429, "requests", "rate_limit_exceeded"), retry_after=7)
    w = words.advice(busy, 7, "fr")
    assert w.title == "Limite de débit atteinte"
    assert w.fix.startswith("Le fournisseur demande d'attendre 7 s. Attendez et réessayez")
    assert words.advice(busy, 7, "en").fix == busy.fix
    assert words.response_format("json_object", "fr") == "Objet JSON"
