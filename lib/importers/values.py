"""SQL expressions that turn raw column values into canonical typed values.

Each builder takes a SQL expression for the raw value and its DuckDB type and returns an
expression that yields the typed value, or NULL when the raw value is empty *or cannot be
read* — ``invalid_sql`` then tells the two apart, so a bad value becomes an error naming the
line and field instead of a silent NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.i18n import N_
from lib.importers import rules

NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)
_SPACES = "[\\s\u00a0\u202f'']"  # spaces, no-break spaces, narrow no-break spaces, apostrophes

# Words that start a totals line in spreadsheet exports.
TOTAL_WORDS = ("total", "totaux", "totals", "sum", "somme", "grand total", "gesamt", "summe")
TRUE_WORDS = ("true", "t", "1", "yes", "y", "oui", "vrai")
FALSE_WORDS = ("false", "f", "0", "no", "n", "non", "faux")
ERROR_WORDS = ("error", "errored", "failure", "failed", "fail", "erreur", "echec", "échec", "ko")
SUCCESS_WORDS = ("success", "succeeded", "ok", "completed", "succes", "succès", "réussi")

TS_FORMATS_DAYFIRST = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
)
TS_FORMATS_MONTHFIRST = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
)

EXPECTED = {
    "ts": N_("a date or timestamp (ISO 8601, dd/mm/yyyy or Unix seconds) between 1970 and 2199"),
    "int": rules.COUNT_EXPECTED,
    "money": rules.AMOUNT_EXPECTED,
    "money18": rules.AMOUNT_EXPECTED,
    "float": N_("a number"),
    "bool": N_("true/false"),
    "status": N_("a status"),
    "str": N_("text"),
}


def _lit(values: tuple[str, ...]) -> str:
    """A SQL list literal of our own constant words (never user data)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def is_numeric(raw_type: str) -> bool:
    return raw_type.upper().startswith(NUMERIC_TYPES)


@dataclass(frozen=True)
class Style:
    """How a file writes numbers and dates."""

    decimal_comma: bool = False
    dayfirst: bool = True


# Dollar marks that may stand around an amount; any other currency sign or code (€, £,
# EUR, GBP, …) is left in place, so the value does not read and is refused (USD only).
_DOLLAR = "US\\$|\\$|USD"


def clean_number(raw: str, style: Style) -> str:
    """Strip thousands separators and dollar signs; make the decimal mark a point."""
    if style.decimal_comma:
        return f"replace(regexp_replace({raw}, '({_SPACES}|\\.|{_DOLLAR})', '', 'g'), ',', '.')"
    return f"regexp_replace({raw}, '({_SPACES}|,|{_DOLLAR})', '', 'g')"


def parse(kind: str, raw: str, raw_type: str, style: Style, clean: bool = False) -> str:
    """SQL for the typed value of ``raw`` (NULL when empty or unreadable). ``clean`` text
    needs no trimming."""
    text = raw_type.upper() == "VARCHAR"
    t = f"nullif(trim({raw}), '')" if text else raw
    if kind == "str":
        if clean and text:
            return f"nullif({raw}, '')"
        return f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
    if kind == "int":  # counts: whole numbers >= 0 (rules.count_sql)
        if not text:
            return whole_count(raw, raw_type)
        return (
            f"coalesce({whole_count(t, 'VARCHAR')}, "
            f"{whole_count(clean_number(t, style), 'VARCHAR')})"
        )
    if kind in ("money", "money18", "float"):
        target = {"money": rules.MONEY_SQL, "money18": "DECIMAL(18, 10)", "float": "DOUBLE"}[kind]
        if not text:
            if raw_type.upper() in ("FLOAT", "DOUBLE") and kind != "float":
                # Through the shortest text form, so 0.1 stays 0.1 and not 0.1000000000000000055.
                return f"TRY_CAST(CAST({raw} AS VARCHAR) AS {target})"
            return f"TRY_CAST({raw} AS {target})"
        fast = "" if style.decimal_comma else f"TRY_CAST({t} AS {target}), "
        return (
            f"coalesce({fast}TRY_CAST({clean_number(t, style)} AS {target}), "
            f"TRY_CAST(TRY_CAST({clean_number(t, style)} AS DOUBLE) AS {target}))"
        )
    if kind == "bool":
        v = f"lower(trim(CAST({raw} AS VARCHAR)))"
        return (
            f"CASE WHEN {v} IN ({_lit(TRUE_WORDS)[1:-1]}) THEN true "
            f"WHEN {v} IN ({_lit(FALSE_WORDS)[1:-1]}) THEN false END"
        )
    if kind == "ts":
        return rules.ts_sql(_parse_ts(raw, raw_type, t, style))
    raise ValueError(f"unknown kind {kind}")


def whole_count(expr: str, raw_type: str) -> str:
    """SQL: ``rules.count_sql`` of ``expr``, NULL unless it is a whole number written in
    decimal: DuckDB's cast to an integer rounds ``12.5`` to 13 and ``.5`` to 1, and reads
    ``0x10`` and ``0b11``; those are refused, not counted. Integer columns need no check."""
    up = raw_type.upper()
    if up in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT") or up.startswith("U"):
        return rules.count_sql(expr)
    d = f"TRY_CAST({expr} AS DOUBLE)"
    return f"CASE WHEN {d} = floor({d}) THEN {rules.count_sql(expr)} END"


def _parse_ts(raw: str, raw_type: str, t: str, style: Style) -> str:
    """SQL for a timestamp read from ``raw`` (any date, before the range rule)."""
    up = raw_type.upper()
    if up.startswith("TIMESTAMP") or up == "DATE":
        return f"CAST({raw} AS TIMESTAMPTZ)"
    if is_numeric(up):
        secs = f"(CASE WHEN {raw} > 100000000000 THEN {raw} / 1000 ELSE {raw} END)"
        return rules.epoch_sql(secs)
    fmts = TS_FORMATS_DAYFIRST + TS_FORMATS_MONTHFIRST
    if not style.dayfirst:
        fmts = TS_FORMATS_MONTHFIRST + TS_FORMATS_DAYFIRST
    epoch = (
        f"CASE WHEN regexp_full_match({t}, '\\d{{9,10}}(\\.\\d+)?') THEN to_timestamp(TRY_CAST({t} AS DOUBLE)) "
        f"WHEN regexp_full_match({t}, '\\d{{12,13}}') THEN to_timestamp(TRY_CAST({t} AS DOUBLE) / 1000) END"
    )
    return (
        f"coalesce(TRY_CAST({t} AS TIMESTAMPTZ), "
        f"CAST(try_strptime({t}, {_lit(fmts)}) AS TIMESTAMPTZ), {epoch})"
    )


def native_ok(kind: str, raw_type: str) -> bool:
    """True when a natively typed column converts to ``kind`` without possible failure."""
    up = raw_type.upper()
    if kind == "int":
        return up in ("UTINYINT", "USMALLINT", "UINTEGER")  # signed ones may be negative
    if kind == "float":
        return is_numeric(up)
    if kind in ("money", "money18"):
        return up.startswith("DECIMAL") or up in ("BIGINT", "INTEGER")
    return False  # timestamps may fall outside rules.TS_RANGE


def invalid(raw: str, raw_type: str, parsed: str) -> str:
    """SQL that is true when ``raw`` holds a value that ``parsed`` could not read."""
    if raw_type.upper() == "VARCHAR":
        return f"({raw} IS NOT NULL AND trim({raw}) <> '' AND ({parsed}) IS NULL)"
    return f"({raw} IS NOT NULL AND ({parsed}) IS NULL)"


def checked(field: str, kind: str, raw: str, raw_type: str, style: Style) -> str:
    """The parsed value, or a query error tagged with ``field`` when the value is unreadable."""
    p = parse(kind, raw, raw_type, style)
    if kind == "str":
        return p
    return f"CASE WHEN {invalid(raw, raw_type, p)} THEN error('tokenboard-invalid:{field}') ELSE {p} END"
