"""Model parameters: their ranges, which models take them, and validation before sending.

Ranges from the OpenAI Chat Completions reference (temperature 0–2, top_p 0–1, penalties
−2…2, up to 4 stop sequences; reasoning models take ``max_completion_tokens`` and none of the
sampling parameters; o3 and o4-mini take no stop sequences) and the Anthropic Messages API
(temperature 0–1, ``stop_sequences``, no penalties, seed or response format). A parameter a
model does not take is reported with the reason instead of failing at send time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from lib.errors import TokenboardError
from lib.llm.adapters import adapter
from lib.llm.types import NotTaken

RESPONSE_FORMATS = ("text", "json_object", "json_schema")
MAX_STOPS = 4


# Why a parameter is refused (``ParamError.code``) and the values it comes with:
# unknown_parameter; not_taken (``not_taken``: the model's reason); not_a_number (found);
# out_of_range (low, high, found: numbers); too_many_stops (limit, found: counts);
# bad_response_format (found, formats); schema_not_json (error, line); schema_shape.
ParamCode = Literal[
    "unknown_parameter", "not_taken", "not_a_number", "out_of_range", "too_many_stops",
    "bad_response_format", "schema_not_json", "schema_shape",
]  # fmt: skip


class ParamError(TokenboardError):
    """A parameter out of range or not taken by the model; ``field`` names it, ``code`` (a
    ``ParamCode``) and ``values`` say why for a page to word (``str()`` is the English)."""

    def __init__(
        self,
        field: str,
        message: str,
        code: ParamCode,
        *,
        not_taken: NotTaken | None = None,
        **values: Any,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code: ParamCode = code
        self.not_taken = not_taken
        self.values = values


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str  # float | int | stops | format
    low: float | None = None
    high: float | None = None
    default: Any = None
    help: str = ""


PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("temperature", "Temperature", "float", 0.0, 2.0, 1.0, "Higher = more varied answers. Tune this or top_p, not both."),
    Param("top_p", "Top p", "float", 0.0, 1.0, 1.0, "Sample only from the most likely tokens whose probabilities add up to this."),
    Param("max_tokens", "Max tokens", "int", 1, 200_000, 1024, "Upper bound on the answer's tokens (billed as output)."),
    Param("frequency_penalty", "Frequency penalty", "float", -2.0, 2.0, 0.0, "Positive values discourage repeating the same tokens."),
    Param("presence_penalty", "Presence penalty", "float", -2.0, 2.0, 0.0, "Positive values encourage new topics."),
    Param("stop", "Stop sequences", "stops", help="Up to 4 strings; the answer ends before any of them."),
    Param("seed", "Seed", "int", 0, 2**63 - 1, None, "Same seed and parameters → mostly the same answer (best effort)."),
    Param("response_format", "Response format", "format", default="text",
          help="text, a JSON object, or JSON following a schema."),
)}  # fmt: skip


def unsupported(provider: str, model: str, name: str) -> NotTaken | None:
    """Why ``model`` of ``provider`` does not take parameter ``name``; None when it does."""
    return adapter(provider).unsupported(model, name)


def high(provider: str, name: str) -> float | None:
    """The upper bound of a numeric parameter for ``provider`` (Anthropic's temperature is 0–1)."""
    if name == "temperature":
        return adapter(provider).max_temperature
    return PARAMS[name].high


def validate(provider: str, model: str, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters to send: defaults (None, "", "text", []) dropped, every value checked.
    Raises ParamError naming the first field that is out of range or not taken by the model."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = PARAMS.get(name)
        if spec is None:
            raise ParamError(name, "unknown parameter", "unknown_parameter")
        if (
            value is None
            or value == ""
            or value == []
            or (name == "response_format" and value == "text")
        ):
            continue
        why = unsupported(provider, model, name)
        if why:
            raise ParamError(name, str(why), "not_taken", not_taken=why)
        if spec.kind in ("float", "int"):
            try:
                number = float(value) if spec.kind == "float" else int(value)
            except (TypeError, ValueError):
                raise ParamError(
                    name, f"expected a number, found {value!r}", "not_a_number", found=repr(value)
                ) from None
            top = high(provider, name)
            if (spec.low is not None and number < spec.low) or (top is not None and number > top):
                raise ParamError(name, f"expected {spec.low:g} to {top:g}, found {number:g}",
                                 "out_of_range", low=spec.low, high=top, found=number)  # fmt: skip
            out[name] = number
        elif spec.kind == "stops":
            stops = [value] if isinstance(value, str) else list(value)
            stops = [s for s in stops if s]
            if len(stops) > MAX_STOPS:
                raise ParamError(name, f"at most {MAX_STOPS} stop sequences, found {len(stops)}",
                                 "too_many_stops", limit=MAX_STOPS, found=len(stops))  # fmt: skip
            if stops:
                out[name] = stops
        else:
            out[name] = _response_format(value)
    return out


def _response_format(value: Any) -> dict[str, Any]:
    """``json_object``, or ``{"json_schema": <schema dict or JSON text>}`` → the API's object."""
    if value == "json_object":
        return {"type": "json_object"}
    schema = value.get("json_schema") if isinstance(value, dict) else None
    if schema is None:
        raise ParamError(
            "response_format", f"expected one of {', '.join(RESPONSE_FORMATS)}, found {value!r}",
            "bad_response_format", found=repr(value), formats=", ".join(RESPONSE_FORMATS),
        )  # fmt: skip
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as err:
            raise ParamError(
                "response_format",
                f"the JSON schema is not valid JSON ({err.msg}, line {err.lineno})",
                "schema_not_json",
                error=err.msg,
                line=err.lineno,
            ) from None
    if not isinstance(schema, dict) or "schema" not in schema or "name" not in schema:
        raise ParamError(
            "response_format",
            'expected a schema object like {"name": "...", "schema": {...}}',
            "schema_shape",
        )
    return {"type": "json_schema", "json_schema": schema}
