"""The rules every importer applies to every value, in one place.

Importers that convert values in SQL (CSV, JSON Lines, Parquet, gateway logs) get them
through ``lib.importers.values.parse``; importers that build rows in Python (the provider
API responses) through the checks below. A value that breaks a rule is refused with a
message naming the file, the line or field, what was found and what was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from lib.errors import InputError
from lib.i18n import N_, Text

# Timestamps: nothing an LLM API reports is older than the Unix epoch, and years past 2199
# are typos (or attacks) that break date arithmetic further on.
MIN_TS = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)
MIN_EPOCH = 0
MAX_EPOCH = int(MAX_TS.timestamp())  # exclusive
TS_RANGE = "between 1970 and 2199"
DATE_EXPECTED = N_("a date between 1970 and 2199")
EPOCH_EXPECTED = N_("Unix seconds between 1970 and 2199")
RFC3339_EXPECTED = N_("an RFC 3339 timestamp between 1970 and 2199")

# Counts (tokens, requests, errors, latency, HTTP status): whole numbers ≥ 0 that fit BIGINT.
MAX_COUNT = 2**63 - 1
COUNT_EXPECTED = N_("a whole number ≥ 0")

# Money: finite, stored as DECIMAL(38, MONEY_SCALE). Scale 20 holds every digit of any JSON
# float of 1e-4 or more (17 significant digits) and of cents with up to 18 decimals. A value
# with more decimals is rounded half-even at the 20th: at most 5e-21 per amount, so a total
# of N amounts stays exact to 1e-10 USD for any N below 2e10 rows. Amounts stay under 1e15,
# leaving 1000x room for sums below the type's 1e18 limit.
MONEY_SCALE = 20
MONEY_SQL = f"DECIMAL(38, {MONEY_SCALE})"
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
MAX_AMOUNT = Decimal(10) ** 15
AMOUNT_RANGE_EXPECTED = N_("below 1,000,000,000,000,000")  # MAX_AMOUNT
_WIDE = Context(prec=80)  # room for 15 integer digits + 20 decimals, and more
AMOUNT_EXPECTED = N_(
    "a finite decimal amount in US dollars (only USD is supported on request and usage rows; "
    "cost exports keep their own currency)"
)

# Currencies. Request and usage rows carry a cost in US dollars only (``cost_usd``); cost line
# items keep the ISO 4217 currency their source states, and amounts in different currencies
# are never added together (nothing is converted).
CURRENCY_SIGNS: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "R$": "BRL",
    "C$": "CAD",
    "A$": "AUD",
    "FR.": "CHF",
}
CURRENCY_WORDS: dict[str, str] = {
    "EURO": "EUR",
    "EUROS": "EUR",
    "DOLLAR": "USD",
    "DOLLARS": "USD",
    "US DOLLARS": "USD",
    "POUNDS": "GBP",
    "YEN": "JPY",
    "RMB": "CNY",
    "YUAN": "CNY",
}
CURRENCY_EXPECTED = N_("an ISO 4217 currency code (USD, EUR, GBP, …) or its sign ($, €, £, ¥)")
_ISO_CODE = re.compile(r"[A-Z]{3}")


def currency_code(text: str | None) -> str | None:
    """The ISO 4217 code ``text`` states (``eur``, `` EUR ``, ``€``, ``euros`` → ``EUR``); None
    for an empty text or one that is not a currency. Codes are not checked against the ISO
    list: any three letters are taken as a code."""
    if text is None:
        return None
    t = " ".join(text.split()).upper()
    if not t:
        return None
    if t in CURRENCY_SIGNS:
        return CURRENCY_SIGNS[t]
    if t in CURRENCY_WORDS:
        return CURRENCY_WORDS[t]
    return t if _ISO_CODE.fullmatch(t) else None


def currency_sql(expr: str) -> str:
    """SQL: the ISO code the text ``expr`` states (see ``currency_code``), NULL when blank or
    not a currency."""
    t = f"upper(trim(CAST({expr} AS VARCHAR)))"
    known = {**CURRENCY_SIGNS, **CURRENCY_WORDS}
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in known.items())
    return f"CASE {t} {whens} ELSE CASE WHEN regexp_full_match({t}, '[A-Z]{{3}}') THEN {t} END END"


def strip_currency_sql(amount: str, code: str) -> str:
    """SQL: the text ``amount`` without the code ``code`` (SQL for an ISO code) or that
    currency's signs (``12,50 €`` with ``EUR`` → ``12,50 ``); another currency's signs stay,
    so the amount does not read and the row is refused."""
    text = f"replace(upper(CAST({amount} AS VARCHAR)), {code}, '')"
    by_code: dict[str, list[str]] = {}
    for sign, c in CURRENCY_SIGNS.items():
        by_code.setdefault(c, []).append(sign)
    cases = []
    for c, signs in by_code.items():
        stripped = text
        for sign in sorted(signs, key=len, reverse=True):  # US$ before $
            stripped = f"replace({stripped}, '{sign}', '')"
        cases.append(f"WHEN {code} = '{c}' THEN {stripped}")
    return f"CASE {' '.join(cases)} ELSE {text} END"


# Columns of one tabular file (a wider header is an accident or an attack).
MAX_COLUMNS = 1000
KINDS = (N_("columns"), N_("keys"))  # what check_columns counts


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
    """True for a finite amount below ``MAX_AMOUNT`` (fits ``MONEY_SQL`` with room for sums)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.is_finite() and abs(d) < MAX_AMOUNT


def money(value: Decimal) -> Decimal:
    """``value`` at the stored scale: every digit up to the 20th decimal, rounded half-even
    beyond (see ``MONEY_SCALE`` for the bound on totals)."""
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN, context=_WIDE)


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


def check_columns(display: str, names: Collection[object], kind: str) -> None:
    """Refuse a file with more than ``MAX_COLUMNS`` columns (``kind``: one of ``KINDS``)."""
    if len(names) > MAX_COLUMNS:
        raise InputError(
            display,
            N_("too many {kind} to be a usage export", kind=Text(kind)),
            found=f"{len(names):,} {kind}",
            expected=N_("at most {n} {kind}", n=MAX_COLUMNS, kind=Text(kind)),
        )


class JsonChecks:
    """The rules above applied to values of parsed JSON (importers that build rows in Python),
    each failure an ``InputError`` naming the file and the JSON path of the bad value."""

    def __init__(self, display: str) -> None:
        self.display = display

    def fail(
        self, path: str, problem: str, found: Any = None, expected: str | None = None
    ) -> InputError:
        return InputError(
            self.display,
            problem,
            field=path,
            found=None
            if found is None
            else str(found)
            if isinstance(found, Decimal)
            else repr(found),
            expected=expected,
        )

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, N_("not a JSON object"), value, N_("an object"))
        return value

    def lst(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, N_("not a JSON array"), value, N_("an array"))
        return value

    def records(
        self, docs: list[Any], is_record: Callable[[Any], bool]
    ) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """(JSON path, record) of every record of saved pages (``{"data": [...], "has_more"}``,
        one or several) and of records saved alone, and whether the last page says more pages
        follow."""
        out: list[tuple[str, dict[str, Any]]] = []
        more = False
        for d, doc in enumerate(docs):
            pre = f"[{d}]" if len(docs) > 1 else ""
            if is_record(doc):
                out.append((pre or "[0]", doc))
                continue
            page = self.obj(doc, pre or "$")
            data = self.lst(page.get("data"), f"{pre}.data" if pre else "data")
            more = bool(page.get("has_more"))
            for i, rec in enumerate(data):
                path = f"{pre}.data[{i}]" if pre else f"data[{i}]"
                out.append((path, self.obj(rec, path)))
        return out, more

    def int_(self, d: dict[str, Any], key: str, path: str, required: bool = False) -> int | None:
        v = d.get(key)
        if v is None:
            if required:
                raise self.fail(
                    f"{path}.{key}",
                    N_("a required field is missing"),
                    expected=N_("a whole number"),
                )
            return None
        if not count_ok(v):
            raise self.fail(f"{path}.{key}", N_("not a count"), v, COUNT_EXPECTED)
        return v

    def num(self, d: dict[str, Any], key: str, path: str) -> float | None:
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            raise self.fail(f"{path}.{key}", N_("not a number"), v, N_("a number"))
        try:
            f = float(v)
        except OverflowError:
            f = float("inf")
        if not number_ok(f):
            raise self.fail(f"{path}.{key}", N_("not a finite number"), v, N_("a finite number"))
        return f

    def amount(self, value: Any, path: str, expected: str) -> Decimal:
        """An exact, finite amount (int, decimal, or a decimal string)."""
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
                raise InvalidOperation
            d = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(path, N_("not an amount"), value, expected) from None
        if not amount_ok(d):
            raise self.fail(path, N_("not a finite amount"), value, AMOUNT_EXPECTED)
        return d

    def money(self, value: Any, path: str, expected: str, cents: bool = False) -> Decimal:
        """An amount in dollars at the stored scale (``cents``: the source states cents),
        read from the source's own digits; checked again after the unit change."""
        d = self.amount(value, path, expected)
        if cents:
            d = d.scaleb(-2)  # exact: moves the decimal point, never rounds
        return money(d)

    def str_(self, d: dict[str, Any], key: str, path: str) -> str | None:
        v = d.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(f"{path}.{key}", N_("not a string"), v, N_("a string or null"))
        return v

    def epoch(self, d: dict[str, Any], key: str, path: str) -> datetime:
        v = self.int_(d, key, path, required=True)
        assert v is not None  # required: a missing value was refused
        if not epoch_ok(v):
            raise self.fail(f"{path}.{key}", N_("a date out of range"), v, EPOCH_EXPECTED)
        return datetime.fromtimestamp(v, tz=UTC)

    def rfc3339(self, d: dict[str, Any], key: str, path: str) -> datetime:
        v = d.get(key)
        if not isinstance(v, str):
            raise self.fail(
                f"{path}.{key}", N_("missing or not a timestamp"), v, N_("an RFC 3339 timestamp")
            )
        try:
            ts = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(
                f"{path}.{key}", N_("not a timestamp"), v, N_("an RFC 3339 timestamp")
            ) from None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        try:
            ts = ts.astimezone(UTC)
        except OverflowError:
            ts = MIN_TS if ts.year < 2000 else MAX_TS
        if not ts_ok(ts):
            raise self.fail(f"{path}.{key}", N_("a date out of range"), v, RFC3339_EXPECTED)
        return ts
