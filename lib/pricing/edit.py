"""Editing the price catalog: list, add, edit, delete, export and import prices.

A catalog row is keyed by its model (lower case) and the UTC day it takes effect
(``effective_from``): one model has at most one price a day. Prices are exact decimals in
USD per 1M tokens (``DECIMAL(18, 6)``: at most 6 decimal places), the batch discount a
fraction in [0, 1) (0.5 = half price with the batch API). Every change is checked first
(``check_price``: nothing is written when a field is wrong), needs the ``settings`` role,
and is written with its audit entry (``price_added``, ``price_edited``, ``price_deleted``,
``prices_imported``; detail = before/after) in one transaction. Any change moves
``lib.pricing.catalog.catalog_version``, which every cached figure keys on.

Price lists are imported from JSON: Tokenboard's own export (``export_catalog``) or
LiteLLM's ``model_prices_and_context_window.json`` (per-TOKEN costs, turned into per-1M
exactly: numbers are read as decimals from the JSON text). ``read_price_list`` parses and
checks (all or nothing: the first bad entry is named with its field), ``preview`` says what
an import would add or change, ``apply_import`` writes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from lib.auth.roles import require
from lib.errors import TokenboardError
from lib.store import Cursor, Store
from lib.store.audit import audit
from lib.store.seed import Price

# The limits a price is checked against.
MAX_PER_MTOK = Decimal("10000")  # USD per 1M tokens (the dearest list price is far below)
PLACES = 6  # decimal places the catalog keeps (DECIMAL(18, 6))
EARLIEST = date(2000, 1, 1)  # no LLM API was priced before
FUTURE_DAYS = 2 * 366  # an effective date at most about two years ahead of today
MAX_NOTE = 200
MAX_FILE_BYTES = 20 * 1024 * 1024  # LiteLLM's whole file is about 1 MB
AUDIT_ROWS = 500  # rows added and changed an import's audit entry lists (the counts: all)
MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9._:/@+-]{0,199}$")
PROVIDER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PRICE_FIELDS = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")
REQUIRED_FIELDS = ("input", "output")
# The catalog's column of each field of ``Price``.
COLUMNS = {"input": "input_per_mtok", "cached_input": "cached_input_per_mtok",
           "cache_write_5m": "cache_write_5m_per_mtok", "cache_write_1h": "cache_write_1h_per_mtok",
           "output": "output_per_mtok", "batch_discount": "batch_discount"}  # fmt: skip

TOKENBOARD_FORMAT = "tokenboard-prices"
Format = Literal["tokenboard", "litellm"]

# PriceError codes: what is wrong with the field (the UI says it in words).
PriceCode = Literal[
    "required",  # an empty required field
    "number",  # not a decimal number
    "negative",  # below 0
    "too_high",  # above MAX_PER_MTOK
    "too_precise",  # more than PLACES decimal places per 1M tokens
    "discount",  # a batch discount outside [0, 1)
    "date",  # an effective date before EARLIEST or too far ahead
    "model",  # a model id not lower-case letters, digits and . _ : / @ + -
    "provider",  # a provider not lower-case letters, digits, _ and -
    "note",  # a note over MAX_NOTE characters
    "duplicate",  # the model already has a price that day
    "not_found",  # no price of that model that day (someone removed it)
    "json",  # the file is not JSON
    "format",  # JSON, but neither format
    "too_big",  # a file over MAX_FILE_BYTES
    "empty",  # no price in the list
]


class PriceError(TokenboardError):
    """A price (or a price list's entry) refused: ``code`` (a ``PriceCode``), the ``field``
    (``input``, ``effective_from``…; for LiteLLM the file's own key, ``input_cost_per_token``)
    and, in a price list, the ``entry`` (its model id as the file writes it). Nothing was
    written."""

    def __init__(self, code: PriceCode, field: str | None = None, entry: str | None = None):
        self.code, self.field, self.entry = code, field, entry
        where = f"{entry}: " if entry else ""
        super().__init__(f"{where}{field or 'price'}: {code}")


# -- checking -----------------------------------------------------------------------------------
def _decimal(value: object, name: str, entry: str | None) -> Decimal | None:
    """A decimal from text, an int or a Decimal (never a float: its digits are not exact);
    None for None or blank text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        raise PriceError("number", name, entry)
    try:
        d = Decimal(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise PriceError("number", name, entry) from None
    if not d.is_finite():
        raise PriceError("number", name, entry)
    return d


def _per_mtok(d: Decimal | None, name: str, entry: str | None) -> Decimal | None:
    if d is None:
        return None
    if d < 0:
        raise PriceError("negative", name, entry)
    if d > MAX_PER_MTOK:
        raise PriceError("too_high", name, entry)
    if d != d.quantize(Decimal(1).scaleb(-PLACES)):
        raise PriceError("too_precise", name, entry)
    return d.quantize(Decimal(1).scaleb(-PLACES)).normalize() + 0 if d else Decimal(0)


def check_price(
    *,
    provider: object,
    model: object,
    effective_from: object,
    input: object,
    output: object,
    cached_input: object = None,
    cache_write_5m: object = None,
    cache_write_1h: object = None,
    batch_discount: object = None,
    note: object = None,
    today: date,
    entry: str | None = None,
    names: dict[str, str] | None = None,
) -> Price:
    """A checked ``Price`` from what a form or a file gives (text, ints or Decimals).

    Prices: USD per 1M tokens, 0 to ``MAX_PER_MTOK``, at most 6 decimals; input and output
    are required, the others may be empty (None: the catalog falls back to the input price).
    ``batch_discount``: a fraction in [0, 1), empty = 0. ``effective_from``: a ``date`` or
    ``YYYY-MM-DD`` between 2000-01-01 and about two years after ``today``. The model id is
    stored in lower case; the provider too. ``names`` renames fields in errors (a LiteLLM
    entry's own keys). Raises ``PriceError`` naming the first field that is wrong.
    """
    names = names or {}

    def nm(f: str) -> str:
        return names.get(f, f)

    prov = str(provider or "").strip().lower()
    if not PROVIDER_RE.match(prov):
        raise PriceError("provider", nm("provider"), entry)
    mod = str(model or "").strip().lower()
    if not mod:
        raise PriceError("required", nm("model"), entry)
    if not MODEL_RE.match(mod):
        raise PriceError("model", nm("model"), entry)
    day = effective_from
    if isinstance(day, datetime):
        day = day.date()
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            raise PriceError("date", nm("effective_from"), entry) from None
    if not isinstance(day, date):
        raise PriceError("required" if day is None else "date", nm("effective_from"), entry)
    if day < EARLIEST or day > today + timedelta(days=FUTURE_DAYS):
        raise PriceError("date", nm("effective_from"), entry)
    given = {"input": input, "cached_input": cached_input, "cache_write_5m": cache_write_5m,
             "cache_write_1h": cache_write_1h, "output": output}  # fmt: skip
    values: dict[str, Decimal | None] = {}
    for f in PRICE_FIELDS:
        values[f] = _per_mtok(_decimal(given[f], nm(f), entry), nm(f), entry)
        if values[f] is None and f in REQUIRED_FIELDS:
            raise PriceError("required", nm(f), entry)
    discount = _decimal(batch_discount, nm("batch_discount"), entry) or Decimal(0)
    if discount < 0 or discount >= 1 or discount != discount.quantize(Decimal("0.0001")):
        raise PriceError("discount", nm("batch_discount"), entry)
    text = str(note).strip() if note is not None else ""
    if len(text) > MAX_NOTE:
        raise PriceError("note", nm("note"), entry)
    return Price(
        prov, mod, values["input"] or Decimal(0), values["output"] or Decimal(0),
        cached_input=values["cached_input"], cache_write_5m=values["cache_write_5m"],
        cache_write_1h=values["cache_write_1h"], batch_discount=discount.normalize() + 0,
        effective_from=day, note=text,
    )  # fmt: skip


# -- reading ------------------------------------------------------------------------------------
_SELECT = """SELECT provider, model, effective_from, input_per_mtok, cached_input_per_mtok,
                    cache_write_5m_per_mtok, cache_write_1h_per_mtok, output_per_mtok,
                    batch_discount, note FROM prices"""


def _norm(d: Any) -> Decimal | None:
    return None if d is None else Decimal(d).normalize() + 0


def _row(r: tuple[Any, ...]) -> Price:
    return Price(
        r[0], r[1], _norm(r[3]) or Decimal(0), _norm(r[7]) or Decimal(0), cached_input=_norm(r[4]),
        cache_write_5m=_norm(r[5]), cache_write_1h=_norm(r[6]),
        batch_discount=_norm(r[8]) or Decimal(0), effective_from=r[2], note=r[9] or "",
    )  # fmt: skip


def list_prices(
    store: Store,
    *,
    provider: str | None = None,
    model: str | None = None,
    in_force_on: date | None = None,
) -> list[Price]:
    """The catalog, by provider, model and newest day first. ``provider``: that provider only;
    ``model``: model ids containing that text (any case); ``in_force_on``: only the price of
    each model in force that UTC day (the newest on or before it), else the whole history.
    Every role that sees the settings may read it (the caller checks ``view_settings``)."""
    sql = _SELECT + " WHERE 1 = 1"
    params: list[Any] = []
    if provider:
        sql += " AND provider = ?"
        params.append(provider.strip().lower())
    if model:
        sql += " AND contains(lower(model), ?)"
        params.append(model.strip().lower())
    if in_force_on is not None:
        sql += """ AND effective_from <= ? QUALIFY effective_from
                   = max(effective_from) OVER (PARTITION BY lower(model))"""
        params.append(in_force_on)
    sql += " ORDER BY provider, lower(model), effective_from DESC"
    return [_row(r) for r in store.query(sql, params)]


def providers(store: Store) -> list[str]:
    """The providers the catalog names, sorted."""
    return [r[0] for r in store.query("SELECT DISTINCT provider FROM prices ORDER BY 1")]


def _get(cur: Cursor, model: str, day: date) -> Price | None:
    row = cur.execute(
        _SELECT + " WHERE lower(model) = lower(?) AND effective_from = ?", [model, day]
    ).fetchone()
    return None if row is None else _row(row)


def _in_force(cur: Cursor, model: str, day: date) -> Price | None:
    row = cur.execute(
        _SELECT
        + """ WHERE lower(model) = lower(?) AND effective_from <= ?
                      ORDER BY effective_from DESC LIMIT 1""",
        [model, day],
    ).fetchone()
    return None if row is None else _row(row)


def as_dict(p: Price) -> dict[str, Any]:
    """A price as JSON-ready values (prices as decimal text, per 1M tokens; day ISO)."""

    def s(d: Decimal | None) -> str | None:
        return None if d is None else format(d, "f")

    return {"provider": p.provider, "model": p.model, "effective_from": p.effective_from.isoformat(),
            "input_per_mtok": s(p.input), "cached_input_per_mtok": s(p.cached_input),
            "cache_write_5m_per_mtok": s(p.cache_write_5m), "cache_write_1h_per_mtok": s(p.cache_write_1h),
            "output_per_mtok": s(p.output), "batch_discount": s(p.batch_discount), "note": p.note}  # fmt: skip


def same_price(a: Price, b: Price) -> bool:
    """True when the two rows price tokens alike (provider, note and day aside)."""
    return all(getattr(a, f) == getattr(b, f) for f in (*PRICE_FIELDS, "batch_discount"))


# -- writing ------------------------------------------------------------------------------------
def _insert(cur: Cursor, p: Price) -> None:
    cur.execute(
        "INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [p.provider, p.model, p.effective_from, p.input, p.cached_input, p.cache_write_5m,
         p.cache_write_1h, p.output, p.batch_discount, p.note or None],
    )  # fmt: skip


def _delete(cur: Cursor, model: str, day: date) -> None:
    cur.execute(
        "DELETE FROM prices WHERE lower(model) = lower(?) AND effective_from = ?", [model, day]
    )


def _at(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def add_price(
    store: Store, role: str | None, actor: str | None, price: Price, *,
    from_ip: str | None = None, now: datetime | None = None,
) -> Price:  # fmt: skip
    """Add ``price`` (checked with ``check_price``) to the catalog; admins only (``settings``).
    Raises ``PriceError("duplicate")`` when the model already has a price that day."""
    require(role, "settings")
    with store.write() as cur:
        if _get(cur, price.model, price.effective_from) is not None:
            raise PriceError("duplicate", "effective_from")
        _insert(cur, price)
        audit(cur, _at(now), actor, "price_added", price.model, {"after": as_dict(price)}, from_ip)
    return price


def edit_price(
    store: Store, role: str | None, actor: str | None, model: str, effective_from: date,
    price: Price, *, from_ip: str | None = None, now: datetime | None = None,
) -> Price:  # fmt: skip
    """Replace the price of ``model`` taking effect on ``effective_from`` by ``price`` (which
    may move it to another day or rename it); admins only. ``PriceError("not_found")`` when
    that row is gone, ``"duplicate"`` when the new day is another row's."""
    require(role, "settings")
    with store.write() as cur:
        before = _get(cur, model, effective_from)
        if before is None:
            raise PriceError("not_found", "model")
        moved = (price.model, price.effective_from) != (before.model, before.effective_from)
        if moved and _get(cur, price.model, price.effective_from) is not None:
            raise PriceError("duplicate", "effective_from")
        _delete(cur, before.model, before.effective_from)
        _insert(cur, price)
        audit(cur, _at(now), actor, "price_edited", price.model,
              {"before": as_dict(before), "after": as_dict(price)}, from_ip)  # fmt: skip
    return price


def delete_price(
    store: Store, role: str | None, actor: str | None, model: str, effective_from: date, *,
    from_ip: str | None = None, now: datetime | None = None,
) -> Price:  # fmt: skip
    """Remove the price of ``model`` taking effect on ``effective_from``; admins only. The
    traffic it priced falls back to the model's earlier price, or becomes unpriced.
    ``PriceError("not_found")`` when there is no such row."""
    require(role, "settings")
    with store.write() as cur:
        before = _get(cur, model, effective_from)
        if before is None:
            raise PriceError("not_found", "model")
        _delete(cur, before.model, before.effective_from)
        audit(
            cur,
            _at(now),
            actor,
            "price_deleted",
            before.model,
            {"before": as_dict(before)},
            from_ip,
        )
    return before


# -- export and import --------------------------------------------------------------------------
def export_catalog(store: Store, now: datetime | None = None) -> str:
    """The whole catalog as Tokenboard's price-list JSON (prices as decimal text, per 1M
    tokens, so no digit is lost); ``read_price_list`` reads it back."""
    rows = list_prices(store)
    doc = {"format": TOKENBOARD_FORMAT, "version": 1, "unit": "USD per 1M tokens",
           "exported_at": _at(now).isoformat(timespec="seconds"),
           "prices": [as_dict(p) for p in rows]}  # fmt: skip
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# LiteLLM's fields read (per token, USD) and the Price field each gives (per 1M).
LITELLM_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
LITELLM_BATCH = ("input_cost_per_token_batches", "output_cost_per_token_batches")
LITELLM_MODES = ("chat", "completion")
# LiteLLM's provider names that Tokenboard's imports name otherwise.
LITELLM_PROVIDERS = {"bedrock_converse": "bedrock", "vertex_ai": "google", "gemini": "google",
                     "text-completion-openai": "openai", "azure_ai": "azure"}  # fmt: skip
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PriceList:
    """A price list read and checked: its ``format``, the prices (each with its day), the
    entries skipped because they are not chat/completion models (``skipped_mode``) or state no
    per-token input and output price (``skipped_unpriced``), and the fields not read."""

    format: Format
    prices: tuple[Price, ...]
    skipped_mode: int = 0
    skipped_unpriced: int = 0
    ignored_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportPreview:
    """What importing a ``PriceList`` does to the catalog now: ``added`` (models without a
    price in force that day), ``changed`` (a different price in force: (before, after)),
    ``unchanged`` (the same price already in force: nothing written)."""

    plan: PriceList
    added: tuple[Price, ...] = ()
    changed: tuple[tuple[Price, Price], ...] = ()
    unchanged: tuple[Price, ...] = field(default_factory=tuple)


def _load(data: bytes | str) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise PriceError("too_big")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return json.loads(text, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PriceError("json") from None


def _litellm(doc: dict[str, Any], effective_from: date, today: date) -> PriceList:
    prices: dict[str, Price] = {}
    skipped_mode = skipped_unpriced = 0
    ignored: set[str] = set()
    for key, entry in doc.items():
        if key == "sample_spec":  # the file's description of its own fields
            continue
        if not isinstance(entry, dict):
            raise PriceError("format", None, str(key))
        if entry.get("mode") not in LITELLM_MODES:
            skipped_mode += 1
            continue
        known = {*LITELLM_FIELDS, *LITELLM_BATCH, "litellm_provider", "mode"}
        ignored.update(k for k in entry if k not in known)
        if entry.get("input_cost_per_token") is None or entry.get("output_cost_per_token") is None:
            skipped_unpriced += 1
            continue
        per_mtok: dict[str, object] = {}
        for src, dst in LITELLM_FIELDS.items():
            raw = entry.get(src)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, Decimal | int):
                raise PriceError("number", src, str(key))
            per_mtok[dst] = Decimal(raw) * MILLION
        discount: Decimal | None = None
        batch_in = entry.get(LITELLM_BATCH[0])
        if isinstance(batch_in, Decimal | int) and not isinstance(batch_in, bool):
            base = Decimal(entry["input_cost_per_token"])
            if base > 0:
                discount = (1 - Decimal(batch_in) / base).quantize(Decimal("0.0001"))
                if discount < 0 or discount >= 1:
                    raise PriceError("discount", LITELLM_BATCH[0], str(key))
        raw_provider = str(entry.get("litellm_provider") or "").strip().lower()
        provider = LITELLM_PROVIDERS.get(raw_provider, raw_provider)
        names = {"provider": "litellm_provider", "model": "model",
                 **{dst: src for src, dst in LITELLM_FIELDS.items()},
                 "batch_discount": LITELLM_BATCH[0]}  # fmt: skip
        p = check_price(provider=provider, model=key, effective_from=effective_from, batch_discount=discount,
                        note="LiteLLM price list", today=today, entry=str(key), names=names,
                        **per_mtok)  # fmt: skip
        other = prices.get(p.model)
        if other is not None and not same_price(other, p):
            raise PriceError("duplicate", "model", str(key))
        prices[p.model] = p
    return PriceList("litellm", tuple(prices.values()), skipped_mode, skipped_unpriced,
                     tuple(sorted(ignored)))  # fmt: skip


def _tokenboard(doc: dict[str, Any], effective_from: date | None, today: date) -> PriceList:
    rows = doc.get("prices")
    if not isinstance(rows, list):
        raise PriceError("format", "prices")
    known = set(as_dict(Price("p", "m", Decimal(0), Decimal(0))))
    ignored: set[str] = set()
    prices: dict[tuple[str, date], Price] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PriceError("format", None, f"#{i + 1}")
        name = str(row.get("model") or f"#{i + 1}")
        ignored.update(k for k in row if k not in known)
        names = {f: COLUMNS[f] for f in COLUMNS}
        p = check_price(
            provider=row.get("provider"), model=row.get("model"),
            effective_from=row.get("effective_from") or effective_from,
            today=today, entry=name, names=names, note=row.get("note"),
            **{f: row.get(COLUMNS[f]) for f in (*PRICE_FIELDS, "batch_discount")},
        )  # fmt: skip
        if (p.model, p.effective_from) in prices:
            raise PriceError("duplicate", "effective_from", name)
        prices[(p.model, p.effective_from)] = p
    return PriceList("tokenboard", tuple(prices.values()), ignored_fields=tuple(sorted(ignored)))


def read_price_list(data: bytes | str, effective_from: date | None, today: date) -> PriceList:
    """Read and check a price list (JSON text or bytes), all or nothing.

    Tokenboard's export keeps each row's own day (a row without one takes
    ``effective_from``); a LiteLLM file's prices all take ``effective_from`` (required).
    LiteLLM: only ``mode`` chat and completion entries are read (the others are counted as
    skipped, as are entries without a per-token input and output cost); costs per token
    become per 1M tokens exactly (decimals read from the JSON text, never floats); fields
    other than those costs, ``litellm_provider`` and ``mode`` are listed as not read.
    Raises ``PriceError`` naming the entry and the field."""
    doc = _load(data)
    if not isinstance(doc, dict):
        raise PriceError("format")
    if doc.get("format") == TOKENBOARD_FORMAT:
        plan = _tokenboard(doc, effective_from, today)
    elif doc.get("format") is None and doc and all(isinstance(v, dict) for v in doc.values()):
        if effective_from is None:
            raise PriceError("required", "effective_from")
        plan = _litellm(doc, effective_from, today)
    else:
        raise PriceError("format")
    if not plan.prices:
        raise PriceError("empty")
    return plan


def _preview(cur: Cursor, plan: PriceList) -> ImportPreview:
    added, changed, unchanged = [], [], []
    for p in plan.prices:
        before = _in_force(cur, p.model, p.effective_from)
        if before is None:
            added.append(p)
        elif same_price(before, p):
            unchanged.append(p)
        else:
            changed.append((before, p))
    return ImportPreview(plan, tuple(added), tuple(changed), tuple(unchanged))


def preview(store: Store, plan: PriceList) -> ImportPreview:
    """What ``apply_import`` of ``plan`` would add, change and leave as it is, now."""
    with store.read() as cur:
        return _preview(cur, plan)


def apply_import(
    store: Store, role: str | None, actor: str | None, plan: PriceList, *,
    from_ip: str | None = None, now: datetime | None = None,
) -> ImportPreview:  # fmt: skip
    """Write ``plan``: one transaction, with one ``prices_imported`` audit entry (the counts,
    the prices added and each change's before/after, the first ``AUDIT_ROWS`` of each). Added and changed prices are written
    on their day (replacing a row of that model and day); unchanged ones are not. Admins
    only. Returns what was done (computed again inside the transaction)."""
    require(role, "settings")
    with store.write() as cur:
        done = _preview(cur, plan)
        for p in (*done.added, *(after for _before, after in done.changed)):
            _delete(cur, p.model, p.effective_from)
            _insert(cur, p)
        detail = {
            "format": plan.format, "added_count": len(done.added), "changed_count": len(done.changed),
            "added": [as_dict(p) for p in done.added[:AUDIT_ROWS]],
            "changed": [{"before": as_dict(b), "after": as_dict(a)} for b, a in done.changed[:AUDIT_ROWS]],
            "unchanged": len(done.unchanged), "skipped_mode": plan.skipped_mode,
            "skipped_unpriced": plan.skipped_unpriced,
        }  # fmt: skip
        audit(cur, _at(now), actor, "prices_imported", None, detail, from_ip)
    return done


def with_day(p: Price, day: date) -> Price:
    """``p`` taking effect on ``day``."""
    return replace(p, effective_from=day)
