"""Cloud bills that carry LLM usage: Azure Cost Management cost details (Azure OpenAI) and
Google Cloud billing export rows (Vertex AI, Gemini API).

One file gives two plans, written in one transaction under one import id (``Plan.also``):

- **cost line items** (grain ``cost``): every kept row's money, in the bill's own currency
  (``CostInBillingCurrency`` / ``Cost`` with ``BillingCurrency``; ``cost`` with ``currency``),
  read from the file's own digits and never converted;
- **usage buckets** (grain ``usage``): the tokens the meters and SKUs count, so the Usage
  page shows them. A meter or SKU that is not a token count (fine-tuning hosting hours,
  text records, characters) keeps its money and quantity as a cost line only and is named in
  the import notes; it is never counted as tokens.

Azure: the meter name says the model and the kind of tokens (``gpt-4o-mini-0718-Inp-glbl
Tokens``, ``gpt 4o 0513 Output global Tokens``, ``gpt 4.1 mini cached Inp glbl``, ``5.4 mini cd
Inp Gl 1M Tokens`` for gpt-5.4-mini, ``5.6 sol ShortCo Cd Wr Std Gl`` a cache write, an
embedding's ``text-embedding-3-large-glbl Tokens`` input) and the unit of measure their scale
(a quantity of 12.5 in ``1K`` is 12,500 tokens; ``1M``; ``1K Tokens``). Usage buckets count
input with its cache reads and writes, as the provider APIs do.
EA files (``Date``, ``MeterName``, ``Cost``, ``BillingCurrency``) and MCA files (``date``,
``meterName``, ``costInBillingCurrency``, ``billingCurrency``) are both read; dates are
``MM/DD/YYYY`` or ISO. Rows of other Azure services (virtual machines, storage…) are left out
and counted, with their money per currency, in the import notes.

Google: ``sku.description`` says the model and the kind (``Gemini 2.5 Flash Text Input Tokens
- Predictions``); ``usage.amount`` in ``usage.unit`` (``count``, ``tokens``) gives the count.
Character-billed SKUs stay characters (a quantity with its unit), never tokens. Credits are
money too: each credit is stored as its own (negative) cost line beside the SKU's cost, so
the billed total is cost + credits. Rows of other services are left out and noted.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from lib.errors import InputError
from lib.i18n import N_
from lib.importers import rules
from lib.importers.base import Asked, Importer, Plan, arrow_plan
from lib.importers.canonical import COLUMNS, TOKEN_COLUMNS
from lib.importers.tabular import Tabular

AZURE_SOURCE = "azure_cost"
GCP_SOURCE = "gcp_billing"
USAGE_KIND = "cloud_bill"  # the usage buckets' kind (coverage is per source and kind)

# -- shared ---------------------------------------------------------------------------------
_UNIT_RE = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)?\s*(?P<m>k|m|thousand|million)?\s*"
    r"(?P<w>tokens?|counts?|characters?|chars?)?$"
)
_SCALES = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}
COUNT_UNIT_EXPECTED = N_("a count unit (1K, 1M, 1K Tokens, 1000, count, tokens)")


def count_scale(unit: str | None) -> int | None:
    """How many units one quantity of ``unit`` counts (``1K`` → 1000, ``1M Tokens`` →
    1,000,000, ``count`` → 1, ``1,000`` → 1000); None for a unit that is not a count
    (``1 Hour``, ``1/Month``, ``GiBy``) or is empty."""
    if unit is None:
        return None
    u = re.sub(r"(?<=\d),(?=\d{3}\b)", "", " ".join(unit.split()).lower())
    m = _UNIT_RE.fullmatch(u)
    if not m or not (m["n"] or m["m"] or m["w"]):
        return None
    value = Decimal(m["n"] or 1) * _SCALES.get(m["m"] or "", 1)
    if value <= 0 or value != value.to_integral_value():
        return None
    return int(value)


def _norm(name: str) -> str:
    """A column name without case, accents or punctuation (``BillingCurrencyCode`` →
    ``billingcurrencycode``, ``service.description`` → ``servicedescription``)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", plain.lower())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower())


@dataclass
class _Where:
    """How to name a place in the file in an error: a line, or a JSON path prefix."""

    display: str
    line: int | None = None
    path: str | None = None

    def fail(self, field_name: str, problem: str, found: object, expected: str) -> InputError:
        name = f"{self.path}.{field_name}" if self.path else field_name
        return InputError(
            self.display,
            problem,
            line=self.line,
            field=name,
            found=None if found is None else str(found),
            expected=expected,
        )


def _decimal(text: object) -> Decimal | None:
    """The exact decimal a text or JSON number writes; None when empty, raises ValueError
    when it is no finite number."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, Decimal):
        d = text
    elif isinstance(text, int):
        d = Decimal(text)
    elif isinstance(text, float):
        d = Decimal(repr(text))
    else:
        t = str(text).strip()
        if not t:
            return None
        try:
            d = Decimal(t)
        except InvalidOperation:
            raise ValueError(t) from None
    if not d.is_finite():
        raise ValueError(text)
    return d


def _money(where: _Where, name: str, raw: object) -> Decimal:
    """A required amount, exact, at the stored scale."""
    try:
        d = _decimal(raw)
    except ValueError:
        raise where.fail(
            name, N_("an amount cannot be read"), raw, N_("a decimal number")
        ) from None
    if d is None:
        raise where.fail(name, N_("the amount is missing"), None, N_("a decimal number"))
    if not rules.amount_ok(d):
        raise where.fail(name, N_("an amount is out of range"), raw, rules.AMOUNT_RANGE_EXPECTED)
    return rules.money(d)


def _currency(where: _Where, name: str, raw: object) -> str:
    code = rules.currency_code(None if raw is None else str(raw))
    if code is None:
        problem = (
            N_("the currency is missing")
            if not str(raw or "").strip()
            else N_("a currency cannot be read")
        )
        raise where.fail(name, problem, raw or None, rules.CURRENCY_EXPECTED)
    return code


def _quantity(where: _Where, name: str, raw: object) -> Decimal | None:
    try:
        return _decimal(raw)
    except ValueError:
        raise where.fail(name, N_("a quantity cannot be read"), raw, N_("a number")) from None


@dataclass
class _Bill:
    """Rows of one bill, summed per bucket and dimensions as they are read."""

    display: str
    provider: str
    costs: dict[tuple, list[Decimal | None]] = field(default_factory=dict)
    tokens: dict[tuple, list[int]] = field(default_factory=dict)
    days: set[tuple[datetime, datetime]] = field(default_factory=set)
    other: dict[str, list] = field(
        default_factory=dict
    )  # unclassified line item → [rows, {cur: sum}]
    characters: dict[str, Decimal] = field(default_factory=dict)
    skipped: dict[str, list] = field(default_factory=dict)  # left-out service → [rows, {cur: sum}]
    rounded: int = 0
    lines: int = 0  # data rows read from the file, kept or left out

    def cost(self, key: tuple, amount: Decimal, quantity: Decimal | None) -> None:
        acc: list[Any] = self.costs.setdefault(key, [Decimal(0), None])
        acc[0] += amount
        if quantity is not None:
            acc[1] = (acc[1] or Decimal(0)) + quantity

    def count(self, key: tuple, kind: str, n: int) -> None:
        """Add ``n`` tokens of ``kind`` to a bucket: ``input`` (uncached), ``cached`` (read
        from the prompt cache), ``cache_write`` (written to it) or ``output``. ``key`` is
        (start, end, project, model, service tier or None)."""
        acc = self.tokens.setdefault(key, [0, 0, 0, 0])
        acc[_KINDS.index(kind)] += n

    def note(self, book: dict[str, list], name: str, currency: str, amount: Decimal) -> None:
        acc = book.setdefault(name, [0, {}])
        acc[0] += 1
        acc[1][currency] = acc[1].get(currency, Decimal(0)) + amount

    def plan(self, fmt: str, source: str, notes: list[str]) -> Plan:
        """The cost plan, with the usage plan in ``also`` (same coverage: every day or hour
        the file states, so a newer export of those periods replaces both)."""
        cost_rows = []
        for key, (amount, qty) in sorted(self.costs.items(), key=_sort_key):
            start, end, project, line_item, model, cost_type, token_type, tier, cur, unit = key
            cost_rows.append(
                {
                    "bucket_start": start, "bucket_end": end, "provider": self.provider,
                    "project": project, "api_key": None, "line_item": line_item, "model": model,
                    "cost_type": cost_type, "token_type": token_type, "service_tier": tier,
                    "amount": amount, "currency": cur,
                    "quantity": None if qty is None else float(qty), "quantity_unit": unit,
                }
            )  # fmt: skip
        usage_rows = []
        for (start, end, project, model, tier), (inp, cached, write, out) in sorted(
            self.tokens.items(), key=_sort_key
        ):
            row: dict[str, Any] = dict.fromkeys(COLUMNS["usage"])
            row.update(dict.fromkeys(TOKEN_COLUMNS, 0))
            # input counts the cache reads and writes, as the provider APIs' buckets do
            row.update(
                bucket_start=start, bucket_end=end, kind=USAGE_KIND, provider=self.provider,
                model=model, project=project, batch=tier == "batch", service_tier=tier,
                input_tokens=inp + cached + write, cached_input_tokens=cached,
                cache_write_tokens=write, output_tokens=out,
            )  # fmt: skip
            usage_rows.append(row)
        periods = sorted(self.days)
        usage = arrow_plan(
            fmt, source, "usage", self.display, usage_rows, [(s, e, USAGE_KIND) for s, e in periods]
        )
        cost = arrow_plan(
            fmt, source, "cost", self.display, cost_rows, [(s, e, "cost") for s, e in periods],
            [*notes, *self.notes()],
        )  # fmt: skip
        cost.also = [usage]
        cost.rows_read = self.lines
        return cost

    def notes(self) -> list[str]:
        out = []
        n_tokens = sum(sum(v) for v in self.tokens.values())
        out.append(
            f"{len(self.tokens):,} usage bucket(s) with {n_tokens:,} tokens counted from the "
            "token meters (shown on the Usage page)"
        )
        for name, (n, amounts) in sorted(self.other.items()):
            out.append(
                f"not tokens, kept as cost lines only: {name!r} ({n:,} row{'s' if n > 1 else ''}, "
                f"{_money_text(amounts)})"
            )
        for name, chars in sorted(self.characters.items()):
            out.append(
                f"character-billed, kept as a quantity (not tokens): {name!r} "
                f"({chars.normalize():,f} characters)"
            )
        if self.skipped:
            total = sum(n for n, _m in self.skipped.values())
            money: dict[str, Decimal] = {}
            for _n, m in self.skipped.values():
                for c, v in m.items():
                    money[c] = money.get(c, Decimal(0)) + v
            names = ", ".join(sorted(self.skipped)[:5]) + (", …" if len(self.skipped) > 5 else "")
            out.append(
                f"{total:,} row(s) of other services left out ({names}: {_money_text(money)})"
            )
        if self.rounded:
            out.append(f"{self.rounded:,} token count(s) were not whole and were rounded")
        return out


_KINDS = ("input", "cached", "cache_write", "output")  # the token slots of a usage bucket


def _sort_key(item: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in item[0])


def _money_text(money: dict[str, Decimal]) -> str:
    """``12.5 EUR, 3 USD``: one amount per currency, never added together."""
    return ", ".join(f"{rules.money(v).normalize():f} {c}" for c, v in sorted(money.items()))


def _tokens(where: _Where, name: str, qty: Decimal, scale: int, bill: _Bill) -> int:
    """The whole token count ``qty`` × ``scale`` (rounded half-even when not whole, noted)."""
    n = qty * scale
    if n < 0:
        raise where.fail(name, N_("a token quantity is negative"), qty, N_("a quantity ≥ 0"))
    whole = n.to_integral_value(rounding=ROUND_HALF_EVEN)
    if whole != n:
        bill.rounded += 1
    if whole > rules.MAX_COUNT:
        raise where.fail(name, N_("a token quantity is too large"), qty, rules.COUNT_EXPECTED)
    return int(whole)


def _day_ok(where: _Where, name: str, ts: datetime, raw: object) -> datetime:
    if not rules.ts_ok(ts):
        raise where.fail(name, N_("a date is out of range"), raw, rules.DATE_EXPECTED)
    return ts


# -- Azure ----------------------------------------------------------------------------------
# Each field: the normalised column names that hold it, first found wins (EA, MCA, pay-as-you-go).
AZURE_FIELDS: dict[str, tuple[str, ...]] = {
    "date": ("date", "usagedate", "usagedatetime"),
    "meter": ("metername", "meter"),
    "category": ("metercategory",),
    "subcategory": ("metersubcategory",),
    "product": ("productname", "product"),
    "consumed": ("consumedservice",),
    "quantity": ("quantity", "usagequantity", "consumedquantity"),
    "unit": ("unitofmeasure",),
    "cost": ("costinbillingcurrency", "cost", "pretaxcost"),
    "currency": ("billingcurrency", "billingcurrencycode", "currency"),
    "resource_id": ("resourceid", "instanceid", "instancename"),
    "resource_name": ("resourcename",),
    "resource_group": ("resourcegroup", "resourcegroupname"),
}
_AZURE_REQUIRED = ("date", "meter", "quantity", "unit", "cost")
_AI_CATEGORIES = {"cognitive services", "foundry models", "azure openai", "azure ai services"}
_INPUT = {"inp", "input", "inpt", "in", "prompt"}
_OUTPUT = {"outp", "output", "out", "opt", "outpt", "completion"}
_CACHED = {"cached", "cache", "cchd", "ccchd", "cched", "cd"}
_WRITE = {"wr", "write"}  # ``Cd Wr``: tokens written to the prompt cache
# Service tiers in a meter name: ``pp`` is priority processing (its meters cost about twice
# the standard ones in Azure's price list), ``Fl``/``Flex`` the flex tier; stored as the
# OpenAI API's ``service_tier`` words. Sources of the vocabulary: tests/fixtures/README.md.
_TIERS = {"batch": "batch", "pp": "priority", "priority": "priority", "fl": "flex", "flex": "flex"}
# Words that say how or where a model is deployed, never part of its name: deployment
# (``Gl``, ``glbl``, ``Dz``, ``Data Zone``, ``Rg``, ``regnl``), tier, context length
# (``ShortCo``/``ShCo``, ``LongCo``/``LoCo``), ``Std`` (standard), units (``1M``, ``Tokens``).
_AZURE_NOISE = {
    "glbl", "global", "gl", "glb", "regnl", "regional", "rgnl", "regn", "rg", "dzone", "dz",
    "dzn", "datazone", "data", "zone", "ptu", "tokens", "token", "tkn", "txt", "text", "aud",
    "audio", "img", "image", "1k", "1m", "provisioned", "managed", "standard", "std",
    "shortco", "longco", "shco", "loco",
} | _INPUT | _OUTPUT | _CACHED | _WRITE | set(_TIERS)  # fmt: skip
_MEDIA = {"txt", "text", "aud", "audio", "img", "image"}  # kept as a model's first word
# Meters of tokens that are not a model's input or output: fine-tuning training and hosting,
# graders. A meter of these without a direction word is no token count of use.
_NOT_USE = {"training", "trng", "trn", "hosting", "hstng", "finetuned", "grader", "grdr"}
# Models Azure names otherwise than their makers (source: tests/fixtures/README.md)
_AZURE_MODELS = {"embedding-ada": "text-embedding-ada-002"}
_VERSION = re.compile(r"\d+(?:\.\d+)?")


def _azure_columns(tab: Tabular) -> dict[str, str]:
    """Field → the file's column (``AZURE_FIELDS`` order decides between spellings)."""
    by_norm = {_norm(c): c for c in tab.columns}
    out = {}
    for name, spellings in AZURE_FIELDS.items():
        for s in spellings:
            if s in by_norm:
                out[name] = by_norm[s]
                break
    return out


def looks_like_azure(tab: Tabular) -> bool:
    """An Azure cost details CSV: a date, a meter name, a quantity, its unit of measure and a
    cost column."""
    return tab.kind == "csv" and all(f in _azure_columns(tab) for f in _AZURE_REQUIRED)


def _azure_date(where: _Where, name: str, raw: str) -> datetime:
    t = raw.strip()
    for fmt, part in (("%m/%d/%Y", t.split(" ")[0]), ("%Y-%m-%d", t[:10])):
        try:
            return _day_ok(where, name, datetime.strptime(part, fmt).replace(tzinfo=UTC), raw)
        except ValueError:
            continue
    raise where.fail(name, N_("a date cannot be read"), raw or None, N_("MM/DD/YYYY or YYYY-MM-DD"))


@dataclass(frozen=True)
class Meter:
    """What a meter name says: tokens of one kind for a model, or not tokens (``kind`` None).

    ``tier`` is the service tier the meter names (``batch``, ``priority``, ``flex``) or None
    (standard); ``batch`` is ``tier == "batch"``."""

    kind: str | None  # input | cached | cache_write | output | None
    model: str | None
    batch: bool
    tier: str | None = None


def azure_meter(name: str, unit: str = "", product: str = "") -> Meter:
    """Read an Azure OpenAI / Foundry meter name (``gpt-4o-mini-0718-Inp-glbl Tokens`` → input
    tokens of ``gpt-4o-mini-0718``; ``gpt 4o 1120 cached Inp glbl`` → cached input of
    ``gpt-4o-1120``; ``Standard Text Records`` → not tokens).

    - direction: ``Inp``/``inpt``/``in`` input, ``Outp``/``opt``/``out`` output; ``cd``,
      ``cchd``, ``ccchd`` or ``cached`` make input cached, and ``Cd Wr`` a cache write;
    - a meter whose name or ``unit`` says tokens but names no direction counts input tokens
      (embeddings: ``text-embedding-3-large-glbl Tokens``), unless it is a fine-tuning
      training, hosting or grader meter (then not tokens);
    - deployment, tier, context and unit words (``_AZURE_NOISE``) are never part of the model;
    - a model Azure names by its bare version (``5.4 mini cd Inp Gl 1M Tokens``, product
      ``Azure OpenAI GPT5``) is ``gpt-5.4-mini``: the ``gpt-`` prefix is added when the
      ``product`` names GPT or OpenAI, or, with no product given, for versions 5 and up
      (``4.3``, ``3.3 70b`` of Grok or Llama keep their bare version)."""
    words = _words(name.replace("-", " ").replace("_", " "))
    ws = set(words)
    tier = next((_TIERS[w] for w in words if w in _TIERS), None)
    batch = tier == "batch"
    if ws & _OUTPUT:
        kind = "output"
    elif ws & _CACHED:
        kind = "cache_write" if ws & _WRITE else "cached"
    elif ws & _INPUT:
        kind = "input"
    elif ({"token", "tokens"} & (ws | set(_words(unit)))) and not ws & _NOT_USE:
        kind = "input"  # embeddings bill input tokens only and name no direction
    else:
        return Meter(None, None, batch, tier)
    kept = [w for i, w in enumerate(words) if _model_word(words, i)]
    if kept and _VERSION.fullmatch(kept[0]):
        context = product.lower()
        if context:
            gpt = "gpt" in context or "openai" in context
        else:
            gpt = 5 <= int(kept[0].split(".")[0]) <= 9
        if gpt:
            kept.insert(0, "gpt")
    model = "-".join(kept) or None
    return Meter(kind, _AZURE_MODELS.get(model or "", model), batch, tier)


def _model_word(words: list[str], i: int) -> bool:
    """Whether ``words[i]`` of a meter name is part of the model's name: not a deployment,
    tier, direction or unit word, except a media word that names a model (first, or before a
    version: ``gpt img 1.5 in cd img DZ`` → ``gpt-img-1.5``); not Grok's long-context ``L``
    after the direction (``4.3 Cached Inp DZ L``)."""
    w = words[i]
    if w in _MEDIA:
        return i == 0 or (i + 1 < len(words) and bool(_VERSION.fullmatch(words[i + 1])))
    if w == "l":
        return not any(x in _INPUT | _OUTPUT | _CACHED for x in words[:i])
    return w not in _AZURE_NOISE


def _azure_token_meter(meter: Meter, name: str, unit: str) -> bool:
    """A token meter: the name says input/output and tokens, or its unit is a plain count."""
    if meter.kind is None:
        return False
    return "token" in name.lower() or "token" in unit.lower() or count_scale(unit) is not None


def plan_azure(tab: Tabular) -> Plan:
    """Read an Azure cost details CSV (actual or amortized, EA or MCA) into a cost plan and a
    usage plan (see the module docstring). Raises ``InputError`` naming the line and column of
    a value that cannot be read."""
    cols = _azure_columns(tab)
    if "currency" not in cols:
        raise InputError(
            tab.display,
            N_("this Azure cost export has no billing currency column"),
            expected=N_("BillingCurrency, BillingCurrencyCode or billingCurrency"),
        )
    bill = _Bill(tab.display, "azure")
    index = {c: i for i, c in enumerate(tab.columns)}
    pos = {f: index[c] for f, c in cols.items()}
    for line, cells in _csv_rows(tab):
        where = _Where(tab.display, line)

        def get(f: str, cells: list[str] = cells) -> str:
            return cells[pos[f]].strip() if f in pos else ""

        bill.lines += 1
        meter_name = get("meter")
        amount = _money(where, cols["cost"], get("cost"))
        currency = _currency(where, cols["currency"], get("currency"))
        unit = get("unit")
        meter = azure_meter(meter_name, unit, get("product") or get("subcategory"))
        ai = (
            {get("category").lower(), get("subcategory").lower()} & _AI_CATEGORIES
            or any("openai" in get(f).lower() for f in ("category", "subcategory", "product"))
            or get("consumed").lower() == "microsoft.cognitiveservices"
        )
        if not ai:
            bill.note(bill.skipped, get("category") or "(no category)", currency, amount)
            continue
        day = _azure_date(where, cols["date"], get("date"))
        start, end = day, day + timedelta(days=1)
        bill.days.add((start, end))
        project = (
            get("resource_name")
            or get("resource_id").rstrip("/").rsplit("/", 1)[-1]
            or get("resource_group")
            or None
        )
        qty = _quantity(where, cols["quantity"], get("quantity"))
        line_item = meter_name or get("product") or None
        if _azure_token_meter(meter, meter_name, unit):
            scale = count_scale(unit) or (1 if unit.lower() in ("token", "tokens") else None)
            if scale is None:
                raise where.fail(
                    cols["unit"], N_("the unit of a token meter cannot be read"), unit or None,
                    COUNT_UNIT_EXPECTED,
                )  # fmt: skip
            if qty is None:
                raise where.fail(
                    cols["quantity"],
                    N_("the quantity of a token meter is missing"),
                    None,
                    N_("a number"),
                )
            n = _tokens(where, cols["quantity"], qty, scale, bill)
            token_type = _TOKEN_TYPE[meter.kind or "input"]
            bill.cost(
                (start, end, project, line_item, meter.model, "tokens", token_type, meter.tier, currency, "tokens"),
                amount, Decimal(n),
            )  # fmt: skip
            bill.count((start, end, project, meter.model, meter.tier), meter.kind or "input", n)
        else:
            bill.cost(
                (start, end, project, line_item, None, "other", None, None, currency, unit or None),
                amount, qty,
            )  # fmt: skip
            bill.note(bill.other, line_item or "(no meter)", currency, amount)
    return bill.plan("azure_cost", AZURE_SOURCE, [])


_TOKEN_TYPE = {  # a token cost line's ``token_type``, by the kind of tokens it counts
    "input": "uncached_input_tokens",
    "cached": "cache_read_input_tokens",
    "cache_write": "cache_creation_input_tokens",
    "output": "output_tokens",
}


def _csv_rows(tab: Tabular) -> Iterator[tuple[int, list[str]]]:
    """(physical line, cells) of every non-blank data row; a row with another number of
    fields than the header is an ``InputError``."""
    encoding = "utf-8-sig" if tab.encoding == "utf-8" else "latin-1"
    width = len(tab.columns)
    try:
        with open(tab.path, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=tab.delimiter or ",")
            prev = 0
            for i, cells in enumerate(reader):
                start, prev = prev + 1, reader.line_num
                if i == 0 or not any(c.strip() for c in cells):
                    continue
                if len(cells) != width:
                    raise InputError(
                        tab.display, N_("this row has {n} fields", n=len(cells)), line=start,
                        expected=N_("{n} fields, like the header", n=width),
                    )  # fmt: skip
                yield start, cells
    except UnicodeDecodeError:
        raise InputError(
            tab.display, N_("the text is not valid in the detected encoding"),
            expected=N_("{encoding} text", encoding=tab.encoding.upper()),
        ) from None  # fmt: skip
    except csv.Error as err:
        raise InputError(tab.display, N_("the CSV cannot be read ({why})", why=str(err))) from None


# -- Google Cloud ---------------------------------------------------------------------------
_GCP_PATHS = {
    "service": ("service", "description"),
    "sku": ("sku", "description"),
    "start": ("usage_start_time",),
    "end": ("usage_end_time",),
    "project": ("project", "id"),
    "cost": ("cost",),
    "currency": ("currency",),
    "amount": ("usage", "amount"),
    "unit": ("usage", "unit"),
    "credits": ("credits",),
    "cost_type": ("cost_type",),
}
_GCP_AI_SERVICES = ("vertex ai", "gemini api", "generative language api")


def _lookup(rec: dict[str, Any], path: tuple[str, ...]) -> Any:
    """A field of a billing row, nested (``{"sku": {"description": …}}``) or flattened
    (``sku.description``, ``sku_description``)."""
    value: Any = rec
    for key in path:
        if not isinstance(value, dict) or key not in value:
            break
        value = value[key]
    else:
        return value
    for flat in (".".join(path), "_".join(path)):
        if flat in rec:
            return rec[flat]
    return None


def is_gcp_record(doc: Any) -> bool:
    """A Google Cloud billing export row (BigQuery standard or detailed usage cost export)."""
    return (
        isinstance(doc, dict)
        and _lookup(doc, _GCP_PATHS["sku"]) is not None
        and _lookup(doc, _GCP_PATHS["service"]) is not None
        and _lookup(doc, _GCP_PATHS["start"]) is not None
        and "cost" in doc
    )


def looks_like_gcp_table(tab: Tabular) -> bool:
    """A billing export saved as CSV with flattened names (``sku.description`` or
    ``sku_description``)."""
    names = {_norm(c) for c in tab.columns}
    return tab.kind == "csv" and {
        "servicedescription", "skudescription", "usagestarttime", "cost", "currency",
    } <= names  # fmt: skip


def _gcp_time(where: _Where, name: str, raw: object) -> datetime | None:
    """``2026-08-05 00:00:00 UTC`` (BigQuery), ISO 8601 with ``Z`` or an offset; a time
    without a zone is UTC."""
    if raw is None or str(raw).strip() == "":
        return None
    t = str(raw).strip()
    if t.endswith(" UTC"):
        t = t[:-4] + "+00:00"
    try:
        ts = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise where.fail(
            name, N_("a timestamp cannot be read"), raw, N_("ISO 8601 or 'YYYY-MM-DD HH:MM:SS UTC'")
        ) from None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return _day_ok(where, name, ts, raw)


@dataclass(frozen=True)
class Sku:
    """What a SKU description says: tokens or characters of one kind for a model, or neither."""

    measure: str | None  # tokens | characters | None
    kind: str | None  # input | cached | output | cache_write
    model: str | None
    batch: bool


_SKU_KEYWORDS = {
    "input", "output", "cached", "cache", "text", "image", "audio", "video", "tokens", "token",
    "characters", "character", "batch", "predictions", "prediction", "long", "short", "context",
    "thinking", "reasoning", "online", "generate", "content",
}  # fmt: skip


def gcp_sku(description: str) -> Sku:
    """Read a Vertex AI / Gemini SKU description (``Gemini 2.5 Flash Text Input Tokens -
    Predictions`` → input tokens of ``gemini-2.5-flash``; ``Gemini 1.0 Pro Output Characters``
    → characters; ``Vertex AI Online Prediction Node`` → neither)."""
    words = _words(description)
    ws = set(words)
    batch = "batch" in ws
    if "storage" in ws or not ws & {"input", "output"}:
        measure = None
    elif ws & {"character", "characters"}:
        measure = "characters"
    elif ws & {"token", "tokens"}:
        measure = "tokens"
    else:
        measure = None
    kind = None
    if measure:
        if "output" in ws:
            kind = "output"
        elif ws & {"cached", "cache"}:
            kind = "cache_write" if "write" in ws else "cached"
        else:
            kind = "input"
    model_words = []
    for w in words:
        if w in _SKU_KEYWORDS:
            break
        model_words.append(w)
    model = "-".join(model_words) or None if measure else None
    return Sku(measure, kind, model, batch)


def plan_gcp_rows(display: str, rows: Iterable[tuple[_Where, dict[str, Any]]]) -> Plan:
    """Read Google Cloud billing rows (nested JSON records or flattened CSV rows, each with
    where it is in the file) into a cost plan and a usage plan."""
    bill = _Bill(display, "google")
    credits_seen = False
    for where, rec in rows:
        if not isinstance(rec, dict):
            raise where.fail(
                "", N_("a row is not a JSON object"), type(rec).__name__, N_("billing export rows")
            )

        def get(f: str, rec: dict[str, Any] = rec) -> Any:
            return _lookup(rec, _GCP_PATHS[f])

        bill.lines += 1
        service = str(get("service") or "").strip()
        sku_name = str(get("sku") or "").strip()
        amount = _money(where, "cost", get("cost"))
        currency = _currency(where, "currency", get("currency"))
        credits = _gcp_credits(where, get("credits"))
        credits_seen = credits_seen or get("credits") is not None
        if not any(s in service.lower() for s in _GCP_AI_SERVICES):
            total = amount + sum((c for _n, c in credits), Decimal(0))
            bill.note(bill.skipped, service or "(no service)", currency, total)
            continue
        start = _gcp_time(where, "usage_start_time", get("start"))
        if start is None:
            raise where.fail(
                "usage_start_time", N_("the usage start time is missing"), None, N_("a timestamp")
            )
        end = _gcp_time(where, "usage_end_time", get("end")) or start + timedelta(hours=1)
        if end <= start:
            raise where.fail(
                "usage_end_time",
                N_("the usage ends before it starts"),
                get("end"),
                N_("an end after the start"),
            )
        bill.days.add((start, end))
        project = str(get("project") or "").strip() or None
        cost_type = str(get("cost_type") or "").strip().lower()
        unit = str(get("unit") or "").strip()
        qty = _quantity(where, "usage.amount", get("amount"))
        sku = gcp_sku(sku_name)
        line_item = sku_name or service
        if sku.measure == "tokens" and cost_type in ("", "regular"):
            scale = count_scale(unit)
            if scale is None:
                raise where.fail(
                    "usage.unit",
                    N_("the unit of a token SKU cannot be read"),
                    unit or None,
                    COUNT_UNIT_EXPECTED,
                )
            if qty is None:
                raise where.fail(
                    "usage.amount",
                    N_("the usage amount of a token SKU is missing"),
                    None,
                    N_("a number"),
                )
            n = _tokens(where, "usage.amount", qty, scale, bill)
            kind = sku.kind or "input"  # a cache write counts as written, not as plain input
            token_type = _TOKEN_TYPE[kind]
            tier = "batch" if sku.batch else None
            key: tuple[Any, ...] = (
                start,
                end,
                project,
                line_item,
                sku.model,
                "tokens",
                token_type,
                tier,
                currency,
                "tokens",
            )
            bill.cost(key, amount, Decimal(n))
            bill.count((start, end, project, sku.model, tier), kind, n)
        else:
            token_type = None
            tier = None
            ctype = "characters" if sku.measure == "characters" else (cost_type or "other")
            key = (
                start,
                end,
                project,
                line_item,
                sku.model,
                ctype,
                None,
                None,
                currency,
                unit or None,
            )
            bill.cost(key, amount, qty)
            if sku.measure == "characters":
                bill.characters[line_item] = bill.characters.get(line_item, Decimal(0)) + (qty or 0)
            else:
                bill.note(bill.other, line_item, currency, amount)
        for name, credit in credits:
            ckey = (start, end, project, f"{line_item} (credit: {name})", sku.model, "credit",
                    token_type, tier, currency, None)  # fmt: skip
            bill.cost(ckey, credit, None)
    notes = [
        "billed = cost + credits: each credit is its own (negative) cost line"
        if credits_seen
        else "no credits column: billed = cost"
    ]
    return bill.plan("gcp_billing", GCP_SOURCE, notes)


def _gcp_credits(where: _Where, raw: Any) -> list[tuple[str, Decimal]]:
    """(name, amount) of each credit of a row: a JSON array of ``{name, amount, type}``, or
    its text in a CSV cell."""
    if raw is None or (isinstance(raw, str) and raw.strip() in ("", "[]")):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw, parse_float=Decimal)
        except (json.JSONDecodeError, RecursionError):
            raise where.fail(
                "credits",
                N_("the credits cannot be read"),
                raw,
                N_("a JSON array of {name, amount, type}"),
            ) from None
    if not isinstance(raw, list):
        raise where.fail(
            "credits",
            N_("the credits are not a list"),
            raw,
            N_("a JSON array of {name, amount, type}"),
        )
    out = []
    for i, c in enumerate(raw):
        if not isinstance(c, dict):
            raise where.fail(
                f"credits[{i}]", N_("a credit is not an object"), c, N_("{name, amount, type}")
            )
        name = str(c.get("name") or c.get("type") or "credit")
        out.append((name, _money(where, f"credits[{i}].amount", c.get("amount"))))
    return out


def gcp_json_rows(display: str, docs: list[Any], lines: bool) -> Iterator[tuple[_Where, dict]]:
    """Rows of a JSON array (named ``[i]``) or of JSON Lines (named by their line)."""
    for i, doc in enumerate(docs):
        yield (_Where(display, line=i + 1) if lines else _Where(display, path=f"[{i}]")), doc


def gcp_jsonl_rows(path: str, display: str) -> Iterator[tuple[_Where, dict]]:
    """Rows of a JSON Lines file, read one line at a time (exact decimals)."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InputError(
                    display,
                    N_("the text is not valid UTF-8"),
                    line=lineno,
                    expected=N_("UTF-8 text"),
                ) from None
            if not text.strip():
                continue
            try:
                doc = json.loads(text, parse_float=Decimal)
            except (json.JSONDecodeError, RecursionError) as err:
                msg = getattr(err, "msg", "nested too deeply")
                raise InputError(display, N_("malformed JSON on this line ({why})", why=msg), line=lineno,
                                 expected=N_("one complete JSON value per line")) from None  # fmt: skip
            yield _Where(display, line=lineno), doc


def gcp_csv_rows(tab: Tabular) -> Iterator[tuple[_Where, dict]]:
    """Rows of a billing export saved as CSV, keyed by their column names."""
    names = [c.strip().lower().replace(" ", "_") for c in tab.columns]
    for line, cells in _csv_rows(tab):
        yield _Where(tab.display, line=line), dict(zip(names, cells, strict=True))


def plan_gcp_table(tab: Tabular) -> Plan:
    return plan_gcp_rows(tab.display, gcp_csv_rows(tab))


def _gcp_first(docs: list[Any]) -> bool:
    return bool(docs) and is_gcp_record(docs[0])


def _plan_gcp_docs(docs: list[Any], _cur: object, asked: Asked) -> Plan:
    return plan_gcp_rows(asked.display, gcp_json_rows(asked.display, docs, asked.lines))


def _plan_gcp_lines(_first: list[Any], _cur: object, asked: Asked) -> Plan:
    return plan_gcp_rows(asked.display, gcp_jsonl_rows(asked.path, asked.display))


IMPORTERS = (
    Importer(("azure_cost",), "table", 10, looks_like_azure, lambda t, _c, _a: plan_azure(t)),
    Importer(
        ("gcp_billing",), "table", 20, looks_like_gcp_table, lambda t, _c, _a: plan_gcp_table(t)
    ),
    # BigQuery's JSON export rows: a JSON array (parsed whole) or JSON Lines (read a line at a
    # time); never read as records, whatever --format says
    Importer(("gcp_billing",), "docs", 10, _gcp_first, _plan_gcp_docs, "check", decisive=True),
    Importer(("gcp_billing",), "lines", 10, _gcp_first, _plan_gcp_lines, "check"),
)
