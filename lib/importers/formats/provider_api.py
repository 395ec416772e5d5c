"""Provider admin API responses saved as JSON: OpenAI Usage and Costs, Anthropic usage and
cost reports, and OpenAI's legacy ``/v1/usage``.

A file holds one page, a JSON array of pages, or JSON Lines with one page per line: every
page of one pull is imported together. Every optional field may be absent. Buckets are
recorded as covered even when empty, so a newer pull replaces what an older one said.
Anthropic cost amounts are decimal strings in cents; they are stored in dollars, exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from lib.errors import InputError
from lib.i18n import N_
from lib.importers import rules
from lib.importers.base import Asked, Importer, Plan, arrow_plan
from lib.importers.rules import JsonChecks

OPENAI_USAGE_KINDS = {
    "organization.usage.completions.result": "completions",
    "organization.usage.embeddings.result": "embeddings",
    "organization.usage.moderations.result": "moderations",
    "organization.usage.images.result": "images",
    "organization.usage.audio_speeches.result": "audio_speeches",
    "organization.usage.audio_transcriptions.result": "audio_transcriptions",
    "organization.usage.vector_stores.result": "vector_stores",
    "organization.usage.code_interpreter_sessions.result": "code_interpreter_sessions",
    "organization.usage.file_searches.result": "file_search_calls",
    "organization.usage.web_searches.result": "web_search_calls",
}
OPENAI_COST_OBJECT = "organization.costs.result"
# Non-token quantities: (field, unit) per endpoint.
OPENAI_QUANTITY = {
    "images": ("images", "images"),
    "audio_speeches": ("characters", "characters"),
    "audio_transcriptions": ("seconds", "seconds"),
    "vector_stores": ("usage_bytes", "bytes"),
    "code_interpreter_sessions": ("num_sessions", "sessions"),
    "file_search_calls": ("num_requests", "file_searches"),
    "web_search_calls": ("num_requests", "web_searches"),
}

CENTS = N_("an amount in cents")


# Keys under which saved pages hold their buckets ("data" in the API; others in wrappers).
BUCKET_KEYS = ("data", "buckets")


def is_bucket(doc: Any) -> bool:
    """True for one time bucket of a usage/cost report (OpenAI ``start_time`` or Anthropic
    ``starting_at``, with its ``results``), as the cookbook's paging loop saves them."""
    if not isinstance(doc, dict) or not ("start_time" in doc or "starting_at" in doc):
        return False
    results = doc.get("results", doc.get("result"))
    return isinstance(results, list) and all(isinstance(r, dict) for r in results)


def page_buckets(doc: Any) -> list[Any] | None:
    """The buckets of a saved usage/cost page, whatever its envelope, else None.

    A page is ``{"data": [bucket…], "has_more": …}`` (the API's own), or any object whose
    ``data`` (or ``buckets``) is a non-empty array of buckets, whatever else it holds
    (``total``, ``page``, ``next_cursor``…).
    """
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    if isinstance(data, list) and ("has_more" in doc or doc.get("object") == "page"):
        return data
    for key in BUCKET_KEYS:
        value = doc.get(key)
        if isinstance(value, list) and value and all(is_bucket(b) for b in value):
            return value
    return None


def is_page(doc: Any) -> bool:
    """True for a usage/cost API page (see ``page_buckets``)."""
    return page_buckets(doc) is not None


def as_pages(docs: list[Any]) -> list[dict[str, Any]] | None:
    """The documents of one file as API pages ``{"data": [bucket…]}``, or None when they are
    not all pages or buckets. Bare buckets (a JSON array or JSON Lines of them) become one
    page, in order."""
    pages: list[dict[str, Any]] = []
    loose: list[Any] = []
    for doc in docs:
        if is_bucket(doc):
            loose.append(doc)
            continue
        buckets = page_buckets(doc)
        if buckets is None:
            return None
        pages.append(doc if buckets is doc.get("data") else {**doc, "data": buckets})
    if loose:
        pages.append({"object": "page", "data": loose})
    return pages


LEGACY_LISTS = ("ft_data", "dalle_api_data", "whisper_api_data", "tts_api_data")


def is_legacy_usage(doc: Any) -> bool:
    """True for a response of the old ``GET /v1/usage?date=``: ``{"object": "list", "data":
    [entry…], …}`` whose entries have ``aggregation_timestamp``. Responses of 2024 have no
    ``current_usage_usd``; detection does not depend on it."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        return False
    entries = [e for e in doc["data"] if isinstance(e, dict)]
    if entries:
        return all("aggregation_timestamp" in e for e in entries)
    return doc.get("object") == "list" and (
        "current_usage_usd" in doc or any(k in doc for k in LEGACY_LISTS)
    )


def is_legacy_billing(doc: Any) -> bool:
    """True for a response of the old dashboard endpoint ``GET /dashboard/billing/usage?
    start_date=&end_date=`` (2023): ``{"object": "list", "daily_costs": [{"timestamp",
    "line_items": [{"name", "cost"}]}…], "total_usage": …}``, amounts in cents."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("daily_costs"), list)
        and (doc.get("object") == "list" or "total_usage" in doc)
    )


def all_empty(pages: list[dict[str, Any]]) -> bool:
    """True when no bucket of the pages holds a result (a pull of a period without traffic)."""
    return not any(
        isinstance(b, dict) and b.get("results") for p in pages for b in (p.get("data") or [])
    )


def page_family(pages: list[dict[str, Any]]) -> str | None:
    """``openai_usage``, ``openai_costs``, ``anthropic_usage``, ``anthropic_cost`` or None.

    Told from the result objects; a pull whose buckets are all empty is taken as usage of
    the vendor its bucket keys belong to (``start_time``: OpenAI, ``starting_at``: Anthropic).
    """
    vendor = None
    for page in pages:
        for bucket in page.get("data") or []:
            if not isinstance(bucket, dict):
                continue
            is_openai = "start_time" in bucket
            vendor = vendor or (
                "openai" if is_openai else "anthropic" if "starting_at" in bucket else None
            )
            for r in bucket.get("results") or []:
                if not isinstance(r, dict):
                    continue
                obj = r.get("object")
                obj = obj if isinstance(obj, str) else None  # a list or object is no kind
                if obj == OPENAI_COST_OBJECT:
                    return "openai_costs"
                if obj in OPENAI_USAGE_KINDS:
                    return "openai_usage"
                if "amount" in r:
                    return "openai_costs" if is_openai else "anthropic_cost"
                if (
                    "uncached_input_tokens" in r
                    or "cache_read_input_tokens" in r
                    or "output_tokens" in r
                ):
                    return "anthropic_usage"
    return f"{vendor}_usage" if vendor else None


def _rows_base() -> dict[str, Any]:
    return {
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "reasoning_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "batch": False,
    }


def _buckets(ctx: JsonChecks, pages: list[dict[str, Any]]):
    for p, page in enumerate(pages):
        data = ctx.lst(page.get("data"), f"pages[{p}].data" if len(pages) > 1 else "data")
        for b, bucket in enumerate(data):
            path = f"pages[{p}].data[{b}]" if len(pages) > 1 else f"data[{b}]"
            bucket = ctx.obj(bucket, path)
            results = bucket.get("results") if "results" in bucket else bucket.get("result", [])
            yield path, bucket, ctx.lst(results if results is not None else [], f"{path}.results")


# A bucket's start and end fields: OpenAI's in Unix seconds (no end: one day), Anthropic's in
# RFC 3339.
_OPENAI_SPAN, _ANTHROPIC_SPAN = ("start_time", "end_time"), ("starting_at", "ending_at")


def _spans(
    ctx: JsonChecks, pages: list[dict[str, Any]], keys: tuple[str, str]
) -> Iterator[tuple[datetime, datetime, Iterator[tuple[str, dict[str, Any]]]]]:
    """Each bucket of ``pages``: its start, its end (UTC) and its results, each with the
    path that names it in a message. A bucket that does not end after it starts is refused,
    naming its end field, even without results (its span would be recorded as covered)."""
    first, last = keys
    for path, bucket, results in _buckets(ctx, pages):
        if keys == _OPENAI_SPAN:
            start = ctx.epoch(bucket, first, path)
            end = (
                ctx.epoch(bucket, last, path)
                if bucket.get(last) is not None
                else start + timedelta(days=1)
            )
        else:
            start, end = ctx.rfc3339(bucket, first, path), ctx.rfc3339(bucket, last, path)
        if end <= start:
            raise ctx.fail(
                f"{path}.{last}",
                N_("ends before it starts"),
                bucket.get(last),
                N_("{end} > {start}", end=last, start=first),
            )
        yield start, end, _results(ctx, path, results)


def _results(
    ctx: JsonChecks, path: str, results: list[Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A bucket's results, each with its path, checked as an object when its turn comes (so
    the first bad field in file order is the one named)."""
    for r, res in enumerate(results):
        rp = f"{path}.results[{r}]"
        yield rp, ctx.obj(res, rp)


def plan_openai_usage(display: str, pages: list[dict[str, Any]]) -> Plan:
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    spans: list[tuple[datetime, datetime]] = []
    kinds: set[str] = set()
    for start, end, results in _spans(ctx, pages, _OPENAI_SPAN):
        spans.append((start, end))
        for rp, res in results:
            obj = res.get("object")
            kind = OPENAI_USAGE_KINDS.get(obj) if isinstance(obj, str) else None
            if kind is None:
                raise ctx.fail(
                    f"{rp}.object",
                    N_("not an OpenAI usage result"),
                    obj,
                    N_("organization.usage.<endpoint>.result"),
                )
            kinds.add(kind)
            row = _rows_base() | {
                "bucket_start": start,
                "bucket_end": end,
                "kind": kind,
                "provider": "openai",
                "model": ctx.str_(res, "model", rp),
                "project": ctx.str_(res, "project_id", rp),
                "api_key": ctx.str_(res, "api_key_id", rp),
                "user_id": ctx.str_(res, "user_id", rp),
                "service_tier": ctx.str_(res, "service_tier", rp),
                "batch": bool(res.get("batch")),
                "requests": ctx.int_(res, "num_model_requests", rp),
                "input_tokens": ctx.int_(res, "input_tokens", rp) or 0,
                "cached_input_tokens": ctx.int_(res, "input_cached_tokens", rp) or 0,
                "cache_write_tokens": ctx.int_(res, "input_cache_write_tokens", rp) or 0,
                "output_tokens": ctx.int_(res, "output_tokens", rp) or 0,
            }
            if kind == "completions":
                for key in ("input_tokens", "output_tokens", "num_model_requests"):
                    ctx.int_(res, key, rp, required=True)
            if kind in OPENAI_QUANTITY:
                qfield, unit = OPENAI_QUANTITY[kind]
                row["quantity"] = ctx.num(res, qfield, rp)
                row["quantity_unit"] = unit
                if kind == "file_search_calls":
                    row["requests"] = None
            rows.append(row)
    if len(kinds) > 1:
        raise InputError(
            display,
            N_("one import mixes several usage endpoints"),
            found=", ".join(sorted(kinds)),
            expected=N_("the pages of one endpoint's pull"),
        )
    notes: list[str] = []
    if kinds:
        kind = kinds.pop()
    else:
        kind = "unknown"
        notes.append(
            N_("every bucket is empty, so the endpoint cannot be told: earlier data was kept")
        )
    coverage = [(s, e, kind) for s, e in spans]
    return arrow_plan("openai_usage", "openai_usage", "usage", display, rows, coverage, notes)


def plan_openai_costs(display: str, pages: list[dict[str, Any]]) -> Plan:
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    coverage = []
    for start, end, results in _spans(ctx, pages, _OPENAI_SPAN):
        coverage.append((start, end, "cost"))
        for rp, res in results:
            amount = ctx.obj(res.get("amount"), f"{rp}.amount")
            value = amount.get("value")
            if isinstance(value, str):
                raise ctx.fail(f"{rp}.amount.value", N_("not an amount"), value, N_("a number"))
            value = ctx.money(value, f"{rp}.amount.value", N_("a number"))
            currency = ctx.str_(amount, "currency", f"{rp}.amount") or "usd"
            rows.append(
                {
                    "bucket_start": start,
                    "bucket_end": end,
                    "provider": "openai",
                    "project": ctx.str_(res, "project_id", rp),
                    "api_key": ctx.str_(res, "api_key_id", rp),
                    "line_item": ctx.str_(res, "line_item", rp),
                    "model": _model_from_line_item(ctx.str_(res, "line_item", rp)),
                    "amount": value,
                    "currency": currency.upper(),
                    "quantity": ctx.num(res, "quantity", rp),
                    "quantity_unit": ctx.str_(res, "quantity_unit", rp),
                }
            )
    return arrow_plan("openai_costs", "openai_costs", "cost", display, rows, coverage)


def _model_from_line_item(line_item: str | None) -> str | None:
    """``"gpt-4o-mini, input"`` → ``gpt-4o-mini`` (the format is not documented)."""
    if not line_item or "," not in line_item:
        return None
    return line_item.split(",", 1)[0].strip() or None


def plan_anthropic_usage(display: str, pages: list[dict[str, Any]]) -> Plan:
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    coverage = []
    for start, end, results in _spans(ctx, pages, _ANTHROPIC_SPAN):
        coverage.append((start, end, "messages"))
        for rp, res in results:
            cc = ctx.obj(res.get("cache_creation") or {}, f"{rp}.cache_creation")
            w5 = ctx.int_(cc, "ephemeral_5m_input_tokens", f"{rp}.cache_creation") or 0
            w1 = ctx.int_(cc, "ephemeral_1h_input_tokens", f"{rp}.cache_creation") or 0
            uncached = ctx.int_(res, "uncached_input_tokens", rp) or 0
            read = ctx.int_(res, "cache_read_input_tokens", rp) or 0
            tools = ctx.obj(res.get("server_tool_use") or {}, f"{rp}.server_tool_use")
            searches = ctx.int_(tools, "web_search_requests", f"{rp}.server_tool_use")
            tier = ctx.str_(res, "service_tier", rp)
            rows.append(
                _rows_base()
                | {
                    "bucket_start": start,
                    "bucket_end": end,
                    "kind": "messages",
                    "provider": "anthropic",
                    "model": ctx.str_(res, "model", rp),
                    "project": ctx.str_(res, "workspace_id", rp),
                    "api_key": ctx.str_(res, "api_key_id", rp),
                    "user_id": ctx.str_(res, "account_id", rp),
                    "service_tier": tier,
                    "batch": tier == "batch",
                    "requests": None,
                    "input_tokens": uncached + w5 + w1 + read,
                    "cached_input_tokens": read,
                    "cache_write_tokens": w5 + w1,
                    "cache_write_1h_tokens": w1,
                    "output_tokens": ctx.int_(res, "output_tokens", rp) or 0,
                    "quantity": float(searches) if searches else None,
                    "quantity_unit": "web_searches" if searches else None,
                }
            )
    notes: list[str] = []
    if not rows:
        coverage = [(s, e, "unknown") for s, e, _k in coverage]
        notes.append(
            N_(
                "every bucket is empty, so usage and cost cannot be told apart: earlier data "
                "was kept"
            )
        )
    return arrow_plan("anthropic_usage", "anthropic_usage", "usage", display, rows, coverage, notes)


def plan_anthropic_cost(display: str, pages: list[dict[str, Any]]) -> Plan:
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    coverage = []
    for start, end, results in _spans(ctx, pages, _ANTHROPIC_SPAN):
        coverage.append((start, end, "cost"))
        for rp, res in results:
            raw = res.get("amount")
            dollars = ctx.money(
                raw, f"{rp}.amount", N_('a decimal string in cents, like "123.45"'), cents=True
            )
            rows.append(
                {
                    "bucket_start": start,
                    "bucket_end": end,
                    "provider": "anthropic",
                    "project": ctx.str_(res, "workspace_id", rp),
                    "line_item": ctx.str_(res, "description", rp),
                    "model": ctx.str_(res, "model", rp),
                    "cost_type": ctx.str_(res, "cost_type", rp),
                    "token_type": ctx.str_(res, "token_type", rp),
                    "service_tier": ctx.str_(res, "service_tier", rp),
                    "amount": dollars,
                    "currency": (ctx.str_(res, "currency", rp) or "USD").upper(),
                }
            )
    return arrow_plan("anthropic_cost", "anthropic_cost", "cost", display, rows, coverage)


def _legacy_bucket(
    ctx: JsonChecks, entry: dict[str, Any], path: str, time_key: str, model_key: str
) -> dict[str, Any]:
    """What every legacy entry says alike: its 5-minute bucket, model, project and key."""
    start = ctx.epoch(entry, time_key, path)
    return _rows_base() | {
        "bucket_start": start,
        "bucket_end": start + timedelta(minutes=5),
        "provider": "openai",
        "model": ctx.str_(entry, model_key, path),
        "project": ctx.str_(entry, "project_id", path),
        "api_key": ctx.str_(entry, "api_key_id", path),
    }


def plan_openai_legacy_billing(display: str, docs: list[dict[str, Any]]) -> Plan:
    """Cost lines of saved ``/dashboard/billing/usage`` responses: one per day and line item
    (``GPT-4``, ``Chat models``, ``Image models``…), the cents converted to dollars exactly
    (``0.2964`` cents is $0.002964). Each entry's ``timestamp`` (Unix seconds, an integral
    JSON number such as ``1682985600.0`` too) starts a UTC day. A ``total_usage`` (cents, the
    whole period) that differs from the sum of the line items is named in the notes."""
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    coverage = []
    notes: list[str] = []
    for d, doc in enumerate(docs):
        pre = f"[{d}]." if len(docs) > 1 else ""
        days = ctx.lst(doc.get("daily_costs"), f"{pre}daily_costs")
        period = Decimal(0)
        for i, day in enumerate(days):
            path = f"{pre}daily_costs[{i}]"
            day = ctx.obj(day, path)
            raw = day.get("timestamp")
            if isinstance(raw, Decimal) and raw == raw.to_integral_value():
                raw = int(raw)
            if not (isinstance(raw, int) and rules.count_ok(raw) and rules.epoch_ok(raw)):
                raise ctx.fail(
                    f"{path}.timestamp",
                    N_("not a day's start"),
                    raw,
                    rules.EPOCH_EXPECTED,
                )
            start = datetime.fromtimestamp(raw, tz=UTC)
            end = start + timedelta(days=1)
            coverage.append((start, end, "cost"))
            for j, item in enumerate(ctx.lst(day.get("line_items"), f"{path}.line_items")):
                ip = f"{path}.line_items[{j}]"
                item = ctx.obj(item, ip)
                cents = ctx.amount(item.get("cost"), f"{ip}.cost", CENTS)
                period += cents
                rows.append(
                    {
                        "bucket_start": start,
                        "bucket_end": end,
                        "provider": "openai",
                        "line_item": ctx.str_(item, "name", ip),
                        "amount": ctx.money(item.get("cost"), f"{ip}.cost", CENTS, cents=True),
                        "currency": "USD",
                    }
                )
        total = doc.get("total_usage")
        if total is not None:
            stated = ctx.amount(total, f"{pre}total_usage", CENTS)
            if stated != period:
                notes.append(
                    N_(
                        "{field} says {stated} but the line items add up to {items}: the line "
                        "items are imported",
                        field=f"{pre}total_usage",
                        stated=f"${stated.scaleb(-2).normalize():f}",
                        items=f"${period.scaleb(-2).normalize():f}",
                    )
                )
    return arrow_plan(
        "openai_legacy_billing", "openai_legacy_billing", "cost", display, rows, coverage, notes
    )


def plan_openai_legacy(display: str, docs: list[dict[str, Any]]) -> Plan:
    """Legacy ``/v1/usage?date=`` responses: 5-minute buckets of completions
    (``n_context_tokens_total`` includes the cached ``n_cached_context_tokens_total``), and
    the images (``dalle_api_data``), transcriptions (``whisper_api_data``, seconds) and text
    to speech (``tts_api_data``, characters) beside them."""
    ctx = JsonChecks(display)
    rows: list[dict[str, Any]] = []
    for d, doc in enumerate(docs):
        pre = f"[{d}]." if len(docs) > 1 else ""
        for i, entry in enumerate(ctx.lst(doc.get("data"), f"{pre}data")):
            path = f"{pre}data[{i}]"
            entry = ctx.obj(entry, path)
            rows.append(
                _legacy_bucket(ctx, entry, path, "aggregation_timestamp", "snapshot_id")
                | {
                    "kind": ctx.str_(entry, "operation", path) or "completion",
                    "requests": ctx.int_(entry, "n_requests", path),
                    "input_tokens": ctx.int_(entry, "n_context_tokens_total", path, required=True),
                    "cached_input_tokens": ctx.int_(entry, "n_cached_context_tokens_total", path)
                    or 0,  # absent from responses before the cache existed
                    "output_tokens": ctx.int_(
                        entry, "n_generated_tokens_total", path, required=True
                    ),
                }
            )
        for key, kind, qfield, unit in LEGACY_QUANTITIES:
            for i, entry in enumerate(ctx.lst(doc.get(key) or [], f"{pre}{key}")):
                path = f"{pre}{key}[{i}]"
                entry = ctx.obj(entry, path)
                if entry.get(qfield) is None:  # the entry's only measure: never counted as 0
                    raise ctx.fail(
                        f"{path}.{qfield}", N_("a required field is missing"), None, unit
                    )
                rows.append(
                    _legacy_bucket(ctx, entry, path, "timestamp", "model_id")
                    | {
                        "kind": kind,
                        "user_id": ctx.str_(entry, "user_id", path),
                        "requests": ctx.int_(entry, "num_requests", path),
                        "quantity": ctx.num(entry, qfield, path),
                        "quantity_unit": unit,
                    }
                )
    return arrow_plan("openai_legacy_usage", "openai_legacy_usage", "usage", display, rows, None)


# Non-completion lists of a legacy response: (key, kind, quantity field, unit). Text to
# speech (``tts_api_data``) is counted in characters, never tokens; its entries have the
# shape of whisper's with ``num_characters`` (as public clients of the endpoint read them).
LEGACY_QUANTITIES = (
    ("dalle_api_data", "images", "num_images", "images"),
    ("whisper_api_data", "audio_transcriptions", "num_seconds", "seconds"),
    ("tts_api_data", "audio_speeches", "num_characters", "characters"),
)


def more_pages_note(pages: list[dict[str, Any]]) -> str | None:
    """The import note for saved pages of which none is the last (every ``has_more`` true):
    the buckets after them are not in the file, so its totals stop there. None otherwise,
    whatever the order of the pages (the paging loop's bucket lists carry no ``has_more``)."""
    flags = [p["has_more"] for p in pages if "has_more" in p]
    if not flags or not all(f is True for f in flags):
        return None
    cursor = pages[-1].get("next_page")
    return (
        "the last page says more pages follow (has_more: true"
        + (f", next_page {cursor}" if isinstance(cursor, str) else "")
        + "): their buckets are not in this file, so its totals stop at its last bucket; "
        "save every page (call again with page=next_page until has_more is false)"
    )


def _noting_more(planner: Callable[[str, list[dict[str, Any]]], Plan]) -> Callable[..., Plan]:
    """``planner`` with the note of ``more_pages_note`` added to its plan."""

    def plan(display: str, pages: list[dict[str, Any]]) -> Plan:
        out = planner(display, pages)
        note = more_pages_note(pages)
        if note:
            out.notes.append(note)
        return out

    return plan


PLANNERS = {
    "openai_usage": _noting_more(plan_openai_usage),
    "openai_costs": _noting_more(plan_openai_costs),
    "anthropic_usage": _noting_more(plan_anthropic_usage),
    "anthropic_cost": _noting_more(plan_anthropic_cost),
}


def _looks_like_pages(docs: list[Any]) -> bool:
    return as_pages(docs) is not None


def _plan_pages(docs: list[Any], _cur: object, asked: Asked) -> Plan:
    """Usage or cost pages of one of the four reports (``PLANNERS``), told from their results;
    a --format naming another report is refused, except that buckets that are all empty
    cannot tell usage from costs, so there the --format of the same vendor is believed."""
    pages = as_pages(docs)
    assert pages is not None  # recognised by _looks_like_pages
    fmt, display = asked.fmt, asked.display
    family = page_family(pages)
    if family is None:
        raise InputError(
            display,
            N_("the pages hold no recognisable buckets"),
            field="data",
            expected=N_("OpenAI (start_time) or Anthropic (starting_at) buckets"),
        )
    if fmt and fmt != family and all_empty(pages) and fmt.split("_")[0] == family.split("_")[0]:
        family = fmt  # empty buckets cannot tell usage from costs: the caller knows
    if fmt and fmt != family:
        raise InputError(display, N_("this is {fmt} data, not {asked}", fmt=family, asked=fmt))
    return PLANNERS[family](display, pages)


def _all(test: Callable[[Any], bool]) -> Callable[[list[Any]], bool]:
    return lambda docs: all(test(d) for d in docs)


IMPORTERS = (
    Importer(tuple(PLANNERS), "docs", 50, _looks_like_pages, _plan_pages, "check"),
    Importer(
        ("openai_legacy_usage",), "docs", 60, _all(is_legacy_usage),
        lambda d, _c, a: plan_openai_legacy(a.display, d), "check",
    ),
    Importer(
        ("openai_legacy_billing",), "docs", 70, _all(is_legacy_billing),
        lambda d, _c, a: plan_openai_legacy_billing(a.display, d), "check", listed=False,
    ),
)  # fmt: skip
