"""The rules every importer applies to every value, in one place.

Importers that convert values in SQL (CSV, JSON Lines, Parquet, gateway logs) get them
through ``lib.importers.values.parse``; importers that build rows in Python (the provider
API responses) through the checks below. A value that breaks a rule is refused with a
message naming the file, the line or field, what was found and what was expected.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from lib.errors import InputError

# Timestamps: nothing an LLM API reports is older than the Unix epoch, and years past 2199
# are typos (or attacks) that break date arithmetic further on.
MIN_TS = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)
MIN_EPOCH = 0
MAX_EPOCH = int(MAX_TS.timestamp())  # exclusive
TS_RANGE = "between 1970 and 2199"

# Counts (tokens, requests, errors, latency, HTTP status): whole numbers ≥ 0 that fit BIGINT.
MAX_COUNT = 2**63 - 1
COUNT_EXPECTED = "a whole number ≥ 0"

# Money: finite, and small enough for DECIMAL(38, 12).
MAX_AMOUNT = Decimal(10) ** 24
AMOUNT_EXPECTED = "a finite decimal amount in US dollars (only USD is supported)"

# Columns of one tabular file (a wider header is an accident or an attack).
MAX_COLUMNS = 1000


def count_ok(value: object) -> bool:
    """True for a whole number ≥ 0 that fits a BIGINT (``bool`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def epoch_ok(seconds: int) -> bool:
    """True for Unix seconds inside the accepted period."""
    return MIN_EPOCH <= seconds < MAX_EPOCH


def ts_ok(ts: datetime) -> bool:
    """True for an aware timestamp inside the accepted period."""
    return MIN_TS <= ts < MAX_TS


def amount_ok(value: Decimal | float | int) -> bool:
    """True for a finite amount that fits DECIMAL(38, 12)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.is_finite() and abs(d) < MAX_AMOUNT


def number_ok(value: float) -> bool:
    """True for a finite number (quantities)."""
    return math.isfinite(value)


def count_sql(expr: str) -> str:
    """SQL: ``expr`` (any type) as a BIGINT count, NULL when it is not a whole number ≥ 0."""
    return f"TRY_CAST(TRY_CAST({expr} AS UBIGINT) AS BIGINT)"


def ts_sql(expr: str) -> str:
    """SQL: the TIMESTAMPTZ ``expr``, NULL when outside the accepted period."""
    return (
        f"CASE WHEN {expr} >= TIMESTAMPTZ '{MIN_TS:%Y-%m-%d} 00:00:00+00' "
        f"AND {expr} < TIMESTAMPTZ '{MAX_TS:%Y-%m-%d} 00:00:00+00' THEN {expr} END"
    )


def epoch_sql(seconds: str) -> str:
    """SQL: Unix seconds (a number) as TIMESTAMPTZ, NULL when outside the accepted period."""
    return f"CASE WHEN {seconds} >= {MIN_EPOCH} AND {seconds} < {MAX_EPOCH} THEN to_timestamp({seconds}) END"


def check_columns(display: str, names: list[str] | dict[str, object], kind: str) -> None:
    """Refuse a file with more than ``MAX_COLUMNS`` columns (``kind``: columns/keys)."""
    if len(names) > MAX_COLUMNS:
        raise InputError(
            display,
            f"too many {kind} to be a usage export",
            found=f"{len(names):,} {kind}",
            expected=f"at most {MAX_COLUMNS:,} {kind}",
        )
