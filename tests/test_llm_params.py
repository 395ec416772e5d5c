"""Parameter validation: ranges per provider, and what each model does not take."""

from __future__ import annotations

import pytest

from lib.llm.params import ParamError, unsupported, validate


def test_values_in_range_are_sent_and_defaults_dropped():
    sent = validate("openai", "gpt-4o-mini", {"temperature": 0.7, "top_p": None, "max_tokens": "256",
                                              "stop": ["END", ""], "seed": 42, "response_format": "text",
                                              "frequency_penalty": -2, "presence_penalty": 2})  # fmt: skip
    assert sent == {"temperature": 0.7, "max_tokens": 256, "stop": ["END"], "seed": 42,
                    "frequency_penalty": -2.0, "presence_penalty": 2.0}  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "values", "field", "phrase"), [
    ("openai", "gpt-4o", {"temperature": 2.1}, "temperature", "expected 0 to 2, found 2.1"),
    ("anthropic", "claude-sonnet-4-5", {"temperature": 1.5}, "temperature", "expected 0 to 1, found 1.5"),
    ("openai", "gpt-4o", {"top_p": -0.1}, "top_p", "expected 0 to 1"),
    ("openai", "gpt-4o", {"frequency_penalty": 2.5}, "frequency_penalty", "expected -2 to 2"),
    ("openai", "gpt-4o", {"max_tokens": 0}, "max_tokens", "expected 1 to"),
    ("openai", "gpt-4o", {"max_tokens": "lots"}, "max_tokens", "expected a number"),
    ("openai", "gpt-4o", {"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4 stop sequences, found 5"),
    ("openai", "o3-mini", {"temperature": 0.2}, "temperature", "reasoning model"),
    ("openai", "o4-mini", {"stop": ["x"]}, "stop", "does not take stop sequences"),
    ("anthropic", "claude-haiku-4-5", {"seed": 1}, "seed", "no such parameter"),
    ("anthropic", "claude-haiku-4-5", {"presence_penalty": 1}, "presence_penalty", "no such parameter"),
    ("anthropic", "claude-haiku-4-5", {"response_format": "json_object"}, "response_format", "no response format"),
    ("openai", "gpt-4o", {"response_format": {"json_schema": "{not json"}}, "response_format", "not valid JSON"),
    ("openai", "gpt-4o", {"response_format": {"json_schema": {"schema": {}}}}, "response_format", '"name"'),
    ("openai", "gpt-4o", {"response_format": "yaml"}, "response_format", "expected one of text, json_object"),
    ("openai", "gpt-4o", {"logit_bias": {}}, "logit_bias", "unknown parameter"),
])  # fmt: skip
def test_refusals_name_the_field_and_what_was_expected(provider, model, values, field, phrase):
    with pytest.raises(ParamError) as err:
        validate(provider, model, values)
    assert err.value.field == field and phrase in str(err.value)


def test_response_formats():
    assert validate("openai", "gpt-4o", {"response_format": "json_object"}) == {
        "response_format": {"type": "json_object"}
    }
    schema = '{"name": "product", "schema": {"type": "object", "properties": {"title": {"type": "string"}}}}'
    sent = validate("compatible", "llama3", {"response_format": {"json_schema": schema}})
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "product"


def test_reasons_for_disabled_parameters():
    assert unsupported("openai", "gpt-4o", "temperature") is None
    why = unsupported("openai", "gpt-5-mini", "top_p")
    assert why is not None and (why.code, why.param) == ("reasoning_sampling", "top_p")
    assert str(why) == "gpt-5-mini is a reasoning model: it takes only the default sampling."
    assert unsupported("openai", "o1", "stop") is None  # only o3 and o4-mini refuse stop sequences
    assert unsupported("anthropic", "claude-sonnet-4-5", "temperature") is None
    assert unsupported("compatible", "llama3", "seed") is None


@pytest.mark.parametrize(("provider", "model", "values", "code", "found"), [
    ("openai", "gpt-4o", {"temperature": 2.1}, "out_of_range", {"low": 0.0, "high": 2.0, "found": 2.1}),
    ("anthropic", "claude-sonnet-4-5", {"temperature": 1.5}, "out_of_range", {"low": 0.0, "high": 1.0, "found": 1.5}),
    ("openai", "gpt-4o", {"max_tokens": "lots"}, "not_a_number", {"found": "'lots'"}),
    ("openai", "gpt-4o", {"stop": ["a", "b", "c", "d", "e"]}, "too_many_stops", {"limit": 4, "found": 5}),
    ("openai", "gpt-4o", {"logit_bias": {}}, "unknown_parameter", {}),
    ("openai", "gpt-4o", {"response_format": {"json_schema": {"schema": {}}}}, "schema_shape", {}),
    ("openai", "gpt-4o", {"response_format": {"json_schema": "{not json"}}, "schema_not_json",
     {"error": "Expecting property name enclosed in double quotes", "line": 1}),
])  # fmt: skip
def test_refusals_carry_a_code_and_their_values(provider, model, values, code, found):
    with pytest.raises(ParamError) as err:
        validate(provider, model, values)
    assert (err.value.code, err.value.values) == (code, found)


def test_a_parameter_not_taken_carries_the_models_reason():
    with pytest.raises(ParamError) as err:
        validate("anthropic", "claude-haiku-4-5", {"seed": 1})
    assert err.value.code == "not_taken"
    why = err.value.not_taken
    assert why is not None and (why.code, why.model, why.param) == (
        "no_such_param",
        "claude-haiku-4-5",
        "seed",
    )
