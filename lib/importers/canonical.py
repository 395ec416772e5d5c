"""The canonical columns of the three grains, in table order, with their kinds.

Kinds: ``ts`` (TIMESTAMPTZ, UTC), ``str``, ``int`` (BIGINT), ``money`` (exact decimal USD;
``money18`` is the narrower per-request amount, much cheaper to convert in bulk),
``float`` (DOUBLE), ``bool``, ``status`` (success | error).
"""

from __future__ import annotations

from typing import Literal

Grain = Literal["request", "usage", "cost"]

REQUEST_COLUMNS: dict[str, str] = {
    "ts": "ts",
    "request_id": "str",
    "provider": "str",
    "model": "str",
    "project": "str",
    "api_key": "str",
    "user_id": "str",
    "status": "status",
    "http_status": "int",
    "error_code": "str",
    "error_type": "str",
    "error_message": "str",
    "latency_ms": "int",
    "input_tokens": "int",
    "cached_input_tokens": "int",
    "cache_write_tokens": "int",
    "output_tokens": "int",
    "reasoning_tokens": "int",
    "client_ip": "str",
    "origin": "str",
    "cost_usd": "money18",
    "batch": "bool",
    "retry_after_ms": "int",  # the wait an error's answer asked for (Retry-After), in ms
    "ttft_ms": "int",  # time to the first token of a streamed answer, in ms (the gateway's)
}

USAGE_COLUMNS: dict[str, str] = {
    "bucket_start": "ts",
    "bucket_end": "ts",
    "kind": "str",
    "provider": "str",
    "model": "str",
    "project": "str",
    "api_key": "str",
    "user_id": "str",
    "service_tier": "str",
    "batch": "bool",
    "requests": "int",
    "errors": "int",
    "input_tokens": "int",
    "cached_input_tokens": "int",
    "cache_write_tokens": "int",
    "cache_write_1h_tokens": "int",
    "output_tokens": "int",
    "reasoning_tokens": "int",
    "quantity": "float",
    "quantity_unit": "str",
    "cost_usd": "money",
}

COST_COLUMNS: dict[str, str] = {
    "bucket_start": "ts",
    "bucket_end": "ts",
    "provider": "str",
    "project": "str",
    "api_key": "str",
    "line_item": "str",
    "model": "str",
    "cost_type": "str",
    "token_type": "str",
    "service_tier": "str",
    "amount": "money",
    "currency": "str",
    "quantity": "float",
    "quantity_unit": "str",
}

COLUMNS: dict[Grain, dict[str, str]] = {
    "request": REQUEST_COLUMNS,
    "usage": USAGE_COLUMNS,
    "cost": COST_COLUMNS,
}

TOKEN_COLUMNS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)

SQL_TYPES = {
    "ts": "TIMESTAMPTZ",
    "str": "VARCHAR",
    "int": "BIGINT",
    "money": "DECIMAL(38, 20)",  # lib.importers.rules.MONEY_SQL
    "money18": "DECIMAL(18, 10)",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "status": "VARCHAR",
}
