"""Langfuse's daily metrics: saved responses of ``GET /api/public/metrics/daily``.

A page is ``{"data": [day…], "meta": {"page", "limit", "totalItems", "totalPages"}}``; a file
holds one page, a JSON array of pages, JSON Lines with one page per line, or the days alone.
A day is ``{"date", "countTraces", "countObservations", "totalCost", "usage": [per model:
{"model", "inputUsage", "outputUsage", "totalUsage", "countObservations", "countTraces",
"totalCost"}]}`` (langfuse.com/docs/analytics/daily-metrics-api; the API reference's
``UsageByModel``: usage in the model's unit, e.g. tokens; ``totalCost`` in USD).

One usage bucket per day and model. Only the per-model entries are imported: the day's own
``totalCost`` and counts are the same traffic summed, so adding them would count it twice;
a day whose total differs from the sum of its models is named in the import's notes (the
models' figures are kept). The provider is inferred from the model name with the same rule
as the generic importer (``PROVIDER_SQL``); a model it does not know is ``unknown``. An
entry without a model and without usage or cost (observations that are not LLM calls) is
skipped and counted in the notes.

Requests stay NULL: the docs count *observations*, and in Langfuse an observation is any
span, event or generation of a trace; neither the docs nor the API reference say that the
per-model ``countObservations`` counts generations (LLM calls) only, so it is not a request
count.

A pull is paged over days (``limit`` days a page, ``meta.page`` of ``meta.totalPages``): when
the file does not hold every page its ``meta`` says exists, the import's notes name the pages
present and the total, since days may be missing. Each page covers only its own days, so pages
saved as separate files add up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lib.i18n import N_
from lib.importers.base import PROVIDER_SQL, ZERO_USAGE, Plan, arrow_plan, report_importer
from lib.importers.canonical import COLUMNS
from lib.importers.rules import JsonChecks

FORMAT = "langfuse"
KIND = "langfuse_daily"
MODEL_KEYS = ("inputUsage", "outputUsage", "totalCost")


def is_day(doc: Any) -> bool:
    """True for one day of the daily metrics (``date`` with its ``usage`` by model)."""
    return (
        isinstance(doc, dict)
        and "date" in doc
        and isinstance(doc.get("usage"), list)
        and ("countObservations" in doc or "countTraces" in doc or "totalCost" in doc)
    )


def _is_page(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        return False
    data = doc["data"]
    if not data:  # an empty page is told by Langfuse's own paging object
        meta = doc.get("meta")
        return isinstance(meta, dict) and "totalPages" in meta and "totalItems" in meta
    return all(is_day(d) for d in data)


def recognise(docs: list[Any]) -> bool:
    """True when every document is a page of daily metrics or one day of them."""
    return bool(docs) and all(_is_page(d) or is_day(d) for d in docs)


def _money(ctx: JsonChecks, d: dict[str, Any], path: str) -> Decimal:
    """``totalCost`` in USD, exactly as the JSON writes it (required, a number)."""
    v = d.get("totalCost")
    if v is None or isinstance(v, str | bool):
        raise ctx.fail(f"{path}.totalCost", N_("missing or not a number"), v, N_("a cost in USD"))
    return ctx.money(v, f"{path}.totalCost", N_("a cost in USD"))


def _shown(amount: Decimal) -> str:
    """An amount as people write it (``102.19``, not the stored ``102.19000…``)."""
    return f"{amount.normalize():f}"


def _day_start(ctx: JsonChecks, day: dict[str, Any], path: str) -> datetime:
    start = ctx.rfc3339(day, "date", path)
    if (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        raise ctx.fail(
            f"{path}.date", N_("not the start of a UTC day"), day.get("date"), N_("a date")
        )
    return start


def _page_no(meta: dict[str, Any], key: str) -> int | None:
    """A page number or count of ``meta`` (a whole number >= 0), else None (not a measure:
    an unreadable one only leaves the paging note out)."""
    v = meta.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``1-3, 5``."""
    runs: list[list[int]] = []  # [first, last] of each run of consecutive numbers
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == z else f"{a}-{z}" for a, z in runs)


def paging_note(docs: list[Any]) -> str | None:
    """A note when the saved pages are not every page of the pull, by their ``meta`` (``page``
    of ``totalPages``); None when they are, or when no page states a total. Days saved alone
    carry no paging and give no note."""
    metas = [d["meta"] for d in docs if isinstance(d, dict) and isinstance(d.get("meta"), dict)]
    totals = [t for t in (_page_no(m, "totalPages") for m in metas) if t is not None]
    if not totals:
        return None
    total = max(totals)
    present = [p for p in (_page_no(m, "page") for m in metas) if p is not None]
    if len(present) == len(metas):  # every page says which it is
        missing = sorted(set(range(1, total + 1)) - set(present))
        if not missing:
            return None
        held = (
            N_("page {n}", n=str(present[0]))
            if len(set(present)) == 1
            else N_("pages {n}", n=_ranges(present))
        )
        if len(missing) == 1:
            return N_(
                "partial pull: the file holds {held} of the {total} its meta.totalPages says "
                "exist, so the days of page {gap} are missing: import it too (each page adds "
                "its own days)",
                held=held,
                total=total,
                gap=str(missing[0]),
            )
        return N_(
            "partial pull: the file holds {held} of the {total} its meta.totalPages says "
            "exist, so the days of pages {gap} are missing: import them too (each page adds "
            "its own days)",
            held=held,
            total=total,
            gap=_ranges(missing),
        )
    if len(metas) >= total:
        return None
    return N_(
        "partial pull: the file holds {n} page(s) of the {total} its "
        "meta.totalPages says exist, so days may be missing: import the other pages too",
        n=len(metas),
        total=total,
    )


def plan(display: str, docs: list[Any]) -> Plan:
    """Plan saved daily metrics pages (or days): see the module docstring."""
    ctx = JsonChecks(display)
    buckets: dict[tuple[datetime, str | None], dict[str, Any]] = {}
    starts: set[datetime] = set()
    mismatched: list[str] = []
    skipped = 0
    for path, day in ctx.records(docs, is_day)[0]:
        if not is_day(day):
            raise ctx.fail(
                path, N_("not a day of Langfuse daily metrics"), None, N_("date and usage")
            )
        start = _day_start(ctx, day, path)
        starts.add(start)
        day_total = _money(ctx, day, path)
        models_total = Decimal(0)
        for i, entry in enumerate(ctx.lst(day.get("usage"), f"{path}.usage")):
            ep = f"{path}.usage[{i}]"
            entry = ctx.obj(entry, ep)
            model = ctx.str_(entry, "model", ep)
            inp = ctx.int_(entry, "inputUsage", ep, required=True) or 0
            out = ctx.int_(entry, "outputUsage", ep, required=True) or 0
            cost = _money(ctx, entry, ep)
            models_total += cost
            if model is None and inp == 0 and out == 0 and cost == 0:
                skipped += 1
                continue
            row = buckets.setdefault(
                (start, model),
                {
                    "bucket_start": start,
                    "bucket_end": start + timedelta(days=1),
                    "kind": KIND,
                    "provider": None,  # inferred in SQL from the model (see below)
                    "model": model,
                    "batch": False,
                    "requests": None,  # observations are not requests (module docstring)
                    **ZERO_USAGE,
                },
            )
            row["input_tokens"] += inp
            row["output_tokens"] += out
            row["cost_usd"] += cost
        if models_total != day_total:
            mismatched.append(
                f"{start:%Y-%m-%d} (day {_shown(day_total)}, models {_shown(models_total)})"
            )
    notes = []
    partial = paging_note(docs)
    if partial:
        notes.append(partial)
    if mismatched:
        days = ", ".join(mismatched[:5])
        notes.append(
            N_(
                "the day's totalCost differs from the sum of its models on {days} and {n} more "
                "days: the models' figures were imported, the day's total was not added",
                days=days,
                n=len(mismatched) - 5,
            )
            if len(mismatched) > 5
            else N_(
                "the day's totalCost differs from the sum of its models on {days}: the models' "
                "figures were imported, the day's total was not added",
                days=days,
            )
        )
    if skipped:
        notes.append(
            N_("{n} entry without a model, usage or cost skipped", n=skipped)
            if skipped == 1
            else N_("{n} entries without a model, usage or cost skipped", n=skipped)
        )
    coverage = [(s, s + timedelta(days=1), KIND) for s in sorted(starts)]
    p = arrow_plan(FORMAT, "langfuse", "usage", display, list(buckets.values()), coverage, notes)
    provider = f"coalesce({PROVIDER_SQL.format(m='model')}, 'unknown') AS provider"
    cols = [provider if c == "provider" else c for c in COLUMNS["usage"]]
    p.select_sql = f"SELECT {', '.join(cols)} FROM plan_src"
    return p


IMPORTERS = (report_importer(FORMAT, 30, recognise, plan),)
