"""Step 3 of an import, matching columns: which column of a file holds which canonical
field, and how the file writes its numbers and dates.

Column names are matched by their words. A name is reduced to the set of its words: accents
and case dropped, ``camelCase`` split, units in brackets set aside, linking words (``d'``,
``de``, ``du``, ``of``, ``the``…) and counting words (``count``, ``nb``, ``num``…) left out,
plurals made singular. So ``Jetons d'entrée``, ``jetons_entree`` and ``tokens_entree`` agree,
and ``tokens_prompt``, ``prompt_tokens`` and ``Prompt Tokens`` are the same name. Nested JSON
fields arrive as dotted paths (``input.inputTokenCount``): the whole path is tried first, then
its shorter tails when they still say at least two words
(``…prompt_tokens_details.cached_tokens``). The names of each field are in
``lib.importers.synonyms``.

A column whose words say it is a measure (tokens, cost, amount, requests, price…) and that
nothing matched is reported by ``unmatched_measures``: importing without it would silently
count zero.

``detect_style`` judges the decimal mark and the order of day and month from a sample of the
values of the matched columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import duckdb

from lib.i18n import N_
from lib.importers import rules, values
from lib.importers.synonyms import SYNONYMS
from lib.importers.tabular import Tabular
from lib.store.db import Cursor

_UNIT = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")

# Words that link or count, never what a column holds.
LINK_WORDS = frozenset(
    [
        "d",
        "de",
        "du",
        "des",
        "l",
        "la",
        "le",
        "les",
        "en",
        "in",
        "of",
        "the",
        "a",
        "an",
        "at",
        "by",
        "on",
        "for",
        "count",
        "nb",
        "nbr",
        "num",
        "number",
        "nombre",
        "no",
        "qty",
    ]
)
# Words that say a column holds a measure.
MEASURE_WORDS = frozenset(
    [
        "token",
        "jeton",
        "cost",
        "cout",
        "amount",
        "montant",
        "request",
        "requete",
        "price",
        "prix",
        "spend",
    ]
)
# A measure column with one of these words is a rate, a limit or a part of another measure
# (a breakdown by modality or cache, a price per unit): leaving it out loses nothing.
PART_WORDS = frozenset(
    [
        "detail",
        "audio",
        "image",
        "text",
        "uncached",
        "prediction",
        "accepted",
        "rejected",
        "max",
        "min",
        "limit",
        "unit",
        "per",
        "rate",
        "remaining",
        "budget",
        "cache",
        "byok",
        "upstream",
        "discount",
        "credit",
        "effective",
        "list",
        "payg",
        "pricing",
        "original",
        "body",
        "json",
        # a time, never a count: ``time_to_first_token_ms``, ``latency_ms``
        "ms",
        "latency",
        "duration",
    ]
)
# Measure words that say money: a money column beside a matched total of money
# (``cost_web_search`` beside ``cost_total``) is a part of that total, never added to it.
MONEY_WORDS = frozenset(["cost", "cout", "amount", "montant", "price", "prix", "spend"])
# Currency units in a header that are not US dollars.
_NOT_USD = re.compile(
    r"€|£|¥|₹|\b(eur|euro|euros|gbp|jpy|chf|cad|aud|inr|cny|rmb|sek|nok|dkk|pln|brl|mxn|krw|sgd|hkd|nzd|zar)\b",
    re.I,
)
_SCALED = re.compile(
    r"^\s*(1?\s*k|1\s*000|1,000|m|1m|millions?|milliers|thousands?|mille)\s*$", re.I
)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _plain(text: str) -> str:
    """Accents removed, camelCase split, lower case."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^\x00-\x7f]", " ", text)  # typographic apostrophes and the like
    return _CAMEL.sub(" ", text).lower()


def words(name: str) -> frozenset[str]:
    """The words of one name (or one path segment), without units in brackets."""
    all_words = [_singular(w) for w in _WORD.findall(_plain(_UNIT.sub(" ", name)))]
    kept = [w for w in all_words if w not in LINK_WORDS]
    return frozenset(kept or all_words)


def unit(name: str) -> str | None:
    """The unit written in brackets in a name (``Coût (USD)`` → ``USD``), if any."""
    m = _UNIT.search(name)
    return (m.group(1) or m.group(2) or "").strip() if m else None


def unit_currency(name: str) -> str | None:
    """The ISO 4217 code of a currency written in brackets in a name (``Coût (€)`` → ``EUR``,
    ``Cost (USD)`` → ``USD``), else None."""
    u = unit(name)
    if not u:
        return None
    other = _NOT_USD.search(u)
    if other:
        return rules.currency_code(other.group(0))
    code = rules.currency_code(u)
    return code if code == "USD" else None


def unit_problem(name: str) -> str | None:
    """Why the unit in a header cannot be read as is on request or usage rows (a currency
    other than USD, values in thousands), else None."""
    u = unit(name)
    if not u:
        return None
    if _NOT_USD.search(u):
        return N_(
            "its unit is {unit}: request and usage rows take only US dollars (a cost export, "
            "periods and amounts with no token or request counts, keeps its currency)",
            unit=u,
        )
    if _SCALED.match(u):
        return N_("its values are in {unit}: export whole counts instead", unit=u)
    return None


def _keys(name: str) -> list[tuple[int, frozenset[str]]]:
    """(segments dropped, words) for the whole dotted path and its tails of ≥ 2 words."""
    segments = [s for s in name.split(".") if s.strip()] or [name]
    out: list[tuple[int, frozenset[str]]] = []
    for dropped in range(len(segments)):
        key = frozenset().union(*(words(s) for s in segments[dropped:]))
        if key and (dropped == 0 or len(key) >= 2):
            out.append((dropped, key))
    return out


# Words of a nested field that, under a parent named by a measure word (``tokens.input``,
# ``cost.total``), say the field is that measure; any other field under such a parent is a
# label of it (``requestMetadata.team``, ``request.model``, ``cost_center.name``).
QUANTITY_WORDS = frozenset(
    [
        "input",
        "output",
        "total",
        "prompt",
        "completion",
        "cached",
        "read",
        "write",
        "creation",
        "reasoning",
        "value",
        "usd",
        "sum",
        "entree",
        "sortie",
    ]
)


def says_measure(name: str) -> bool:
    """True when a column's name says it holds a measure: its last path segment has a measure
    word (``usage.prompt_tokens``, ``total_cost``), or a parent segment has one and the last
    segment only says which part of it (``tokens.input``). A measure word in a parent that
    only names a group (``requestMetadata.team``: the metadata of the request) does not."""
    segments = [s for s in name.split(".") if s.strip()] or [name]
    leaf = words(segments[-1])
    if leaf & MEASURE_WORDS:
        return True
    parents = (
        frozenset().union(*(words(s) for s in segments[:-1])) if segments[:-1] else frozenset()
    )
    return bool(parents & MEASURE_WORDS) and bool(leaf) and leaf <= QUANTITY_WORDS


class Matcher:
    """Finds file columns for canonical fields by the words of their names."""

    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        self.synonyms = {f: [words(n) for n in names] for f, names in synonyms.items()}

    def match(self, columns: list[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
        """Canonical field → column: the explicit ``mapping`` first (``KeyError`` for a
        column the file lacks), then each field's synonyms in order; among columns with the
        same words, the shallowest and leftmost wins."""
        found: dict[str, str] = {}
        for fieldname, column in (mapping or {}).items():
            if column not in columns:
                raise KeyError(column)
            found[fieldname] = column
        index: dict[frozenset[str], list[tuple[int, int, int, str]]] = {}
        for pos, c in enumerate(columns):
            depth = c.count(".")
            for dropped, key in _keys(c):
                index.setdefault(key, []).append((dropped, depth, pos, c))
        used = set(found.values())
        for fieldname, keys in self.synonyms.items():
            if fieldname in found:
                continue
            for key in keys:
                free = [cand for cand in index.get(key, ()) if cand[3] not in used]
                if free:
                    column = min(free)[3]
                    found[fieldname] = column
                    used.add(column)
                    break
        return found

    @staticmethod
    def part_of_total(column: str) -> bool:
        """True for a column of money only that does not say it is a total
        (``cost_web_search``, ``cost_file_processing``): beside a matched total of money it
        is a part of that total (OpenRouter's activity export: ``cost_total`` and its
        parts)."""
        w = words(column.split(".")[-1])
        return bool(w & MONEY_WORDS) and not w & (MEASURE_WORDS - MONEY_WORDS) and "total" not in w

    def unmatched_measures(self, columns: list[str], found: Mapping[str, str]) -> list[str]:
        """Columns whose names say they hold a measure and that nothing matched, leaving out
        other spellings of a matched field (the same tokens nested again) and rates, limits
        and parts of another measure."""
        used = set(found.values())
        taken = {k for f in found for k in self.synonyms.get(f, ())}
        money_total = any(
            "total" in w and w & MONEY_WORDS for w in (words(c.split(".")[-1]) for c in used)
        )
        out = []
        for c in columns:
            if c in used:
                continue
            keys = _keys(c)
            every = frozenset().union(*(k for _d, k in keys)) if keys else frozenset()
            if not says_measure(c) or every & PART_WORDS:
                continue
            if money_total and self.part_of_total(c):
                continue
            if any(k in taken for _d, k in keys):
                continue
            out.append(c)
        return out


MATCHER = Matcher(SYNONYMS)


def match_columns(columns: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical field → file column, from an explicit mapping first, then the synonyms
    compared by their words (see ``words``)."""
    return MATCHER.match(columns, mapping)


_COMMA_DEC = re.compile(r"^-?[\d\s\u00a0\u202f.']*,(\d{1,2}|\d{4,})$|\.\d{3},\d")
_DOT_DEC = re.compile(r"^-?[\d\s\u00a0\u202f,']*\.(\d{1,2}|\d{4,})$|,\d{3}\.\d")
_MONEY_MARKS = re.compile(r"US\$|[$€£¥₹]|\b[A-Za-z]{3}\b")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}")


def detect_style(tab: Tabular, cur: Cursor, found: dict[str, str]) -> values.Style:
    """Decimal mark and day/month order, judged from a sample of the file's values."""
    numeric = [
        c
        for f, c in found.items()
        if f
        in (
            "cost_usd",
            "input_tokens",
            "output_tokens",
            "requests",
            "total_tokens",
            "cached_input_tokens",
            "latency_ms",
        )
        and tab.columns[c] == "VARCHAR"
    ]
    time_col = found.get("ts")
    cols = numeric + ([time_col] if time_col and tab.columns[time_col] == "VARCHAR" else [])
    if not cols:
        return values.Style()
    try:
        rows = tab.sample(cur, cols)
    except duckdb.Error as err:
        raise tab.wrap_error(err) from None
    comma = dot = 0
    day_first_evidence = month_first_evidence = 0
    for row in rows:
        for i, v in enumerate(row):
            if v is None:
                continue
            v = v.strip()
            if i < len(numeric):  # judged without a currency sign or code (12,50 €, EUR 5)
                v = _MONEY_MARKS.sub("", v).strip()
                comma += bool(_COMMA_DEC.search(v))
                dot += bool(_DOT_DEC.search(v))
            else:
                m = _SLASH_DATE.match(v)
                if m:
                    day_first_evidence += int(m.group(1)) > 12
                    month_first_evidence += int(m.group(2)) > 12
    if comma and not dot:
        decimal_comma = True
    elif dot:
        decimal_comma = False
    else:
        decimal_comma = tab.delimiter == ";"
    dayfirst = not (month_first_evidence and not day_first_evidence)
    return values.Style(decimal_comma=decimal_comma, dayfirst=dayfirst)
