"""Anthropic's Claude Code usage report: saved responses of the Admin API's
``GET /v1/organizations/usage_report/claude_code``.

A page is ``{"data": [record…], "has_more": …, "next_page": …}``; a file holds one page, a
JSON array of pages, JSON Lines with one page per line, or the records alone (a JSON array
or JSON Lines of them). A record is one actor's day: ``date`` (RFC 3339 or ``YYYY-MM-DD``,
UTC), ``actor`` (``user_actor`` with ``email_address`` or ``api_actor`` with
``api_key_name``), ``organization_id``, ``customer_type``, ``terminal_type``,
``core_metrics``, ``tool_actions`` and ``model_breakdown``: per model, ``tokens``
(``input``, ``output``, ``cache_read``, ``cache_creation``) and ``estimated_cost``
(``amount`` in cents, ``currency``).

One usage bucket per day, actor and model (records of the same actor and day from several
terminals are added together). ``input`` is the uncached input, as in the Messages API's
usage, so total input = input + cache_creation + cache_read, like the messages usage report.
The report does not split cache writes by duration: they are counted as 5-minute writes
(noted in the import's report). The cost is the report's own estimate, converted from cents
exactly. There is no request count: requests stay NULL.

The report pages over actors within one day, so pages saved as separate files hold different
users of the same day: a file covers only the (day, actor) pairs of its records, and replaces
only those users' buckets of an earlier import (``Plan.actor_coverage``). Separate page files
add up; importing a page again adds nothing; a newer pull of a page replaces only its users.
An actor absent from a newer pull keeps what an older pull said about it.

The same traffic may also be in the messages usage report (Claude Code on API keys is
Messages API traffic): this is its own source, ``claude_code``, which is counted for a
provider and day only when no usage report pull covers it (see ``token_streams``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lib.i18n import N_
from lib.importers.base import ZERO_USAGE, Plan, arrow_plan, report_importer
from lib.importers.rules import JsonChecks

FORMAT = "claude_code"
KIND = "claude_code"


def is_record(doc: Any) -> bool:
    """True for one record of the report (an actor's day with its model breakdown)."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("actor"), dict)
        and "date" in doc
        and ("model_breakdown" in doc or "core_metrics" in doc)
    )


def _is_page(doc: Any) -> bool:
    data = doc.get("data") if isinstance(doc, dict) else None
    return isinstance(data, list) and bool(data) and all(is_record(r) for r in data)


def recognise(docs: list[Any]) -> bool:
    """True when every document is a page of this report or one of its records."""
    return bool(docs) and all(_is_page(d) or is_record(d) for d in docs)


def _day(ctx: JsonChecks, rec: dict[str, Any], path: str) -> datetime:
    """The record's UTC day; a time other than midnight is refused (the report is daily)."""
    day = ctx.rfc3339(rec, "date", path)
    if (day.hour, day.minute, day.second, day.microsecond) != (0, 0, 0, 0):
        raise ctx.fail(
            f"{path}.date", N_("not the start of a UTC day"), rec.get("date"), N_("a UTC date")
        )
    return day


def _actor(ctx: JsonChecks, rec: dict[str, Any], path: str) -> tuple[str, str | None]:
    """(user: e-mail or API key name, API key name or None) of the record's actor."""
    actor = ctx.obj(rec.get("actor"), f"{path}.actor")
    kind = actor.get("type")
    key = {"user_actor": "email_address", "api_actor": "api_key_name"}.get(str(kind))
    if key is None:
        raise ctx.fail(
            f"{path}.actor.type", N_("not a known actor"), kind, N_("user_actor or api_actor")
        )
    name = ctx.str_(actor, key, f"{path}.actor")
    if not name:
        raise ctx.fail(
            f"{path}.actor.{key}",
            N_("a required field is missing"),
            expected=N_("the actor's name"),
        )
    return name, name if kind == "api_actor" else None


def _tokens(ctx: JsonChecks, entry: dict[str, Any], path: str) -> dict[str, int]:
    """The model's four token counts, each required."""
    tokens = ctx.obj(entry.get("tokens"), f"{path}.tokens")
    out: dict[str, int] = {}
    for k in ("input", "output", "cache_read", "cache_creation"):
        out[k] = ctx.int_(tokens, k, f"{path}.tokens", required=True) or 0  # required: never None
    return out


def _cost(ctx: JsonChecks, entry: dict[str, Any], path: str) -> Decimal:
    """The estimated cost in dollars, from the amount in cents (USD only)."""
    est = ctx.obj(entry.get("estimated_cost"), f"{path}.estimated_cost")
    currency = ctx.str_(est, "currency", f"{path}.estimated_cost")
    if currency is None or currency.upper() != "USD":
        raise ctx.fail(
            f"{path}.estimated_cost.currency",
            N_("not US dollars"),
            currency,
            N_("USD (only USD is supported)"),
        )
    amount = est.get("amount")
    if amount is None or isinstance(amount, str):
        raise ctx.fail(
            f"{path}.estimated_cost.amount", N_("not an amount"), amount, N_("a number of cents")
        )
    return ctx.money(amount, f"{path}.estimated_cost.amount", N_("a number of cents"), cents=True)


def plan(display: str, docs: list[Any]) -> Plan:
    """Plan saved Claude Code usage report pages (or records): see the module docstring."""
    ctx = JsonChecks(display)
    records, more = ctx.records(docs, is_record)
    buckets: dict[tuple[datetime, str, str | None, str | None], dict[str, Any]] = {}
    actors: set[tuple[datetime, str, str | None]] = set()  # (day, user, API key) of records
    for path, rec in records:
        if not is_record(rec):
            raise ctx.fail(
                path,
                N_("not a Claude Code usage record"),
                None,
                N_("an object with date and actor"),
            )
        day = _day(ctx, rec, path)
        user, key = _actor(ctx, rec, path)
        actors.add((day, user, key))  # covered even without models: a newer pull says so
        breakdown = ctx.lst(rec.get("model_breakdown") or [], f"{path}.model_breakdown")
        for i, entry in enumerate(breakdown):
            ep = f"{path}.model_breakdown[{i}]"
            entry = ctx.obj(entry, ep)
            model = ctx.str_(entry, "model", ep)
            t = _tokens(ctx, entry, ep)
            cost = _cost(ctx, entry, ep)
            row = buckets.setdefault(
                (day, user, key, model),
                {
                    "bucket_start": day,
                    "bucket_end": day + timedelta(days=1),
                    "kind": KIND,
                    "provider": "anthropic",
                    "model": model,
                    "api_key": key,
                    "user_id": user,
                    "batch": False,
                    "requests": None,
                    **ZERO_USAGE,
                },
            )
            row["input_tokens"] += t["input"] + t["cache_creation"] + t["cache_read"]
            row["cached_input_tokens"] += t["cache_read"]
            row["cache_write_tokens"] += t["cache_creation"]
            row["output_tokens"] += t["output"]
            row["cost_usd"] += cost  # exact: decimals of at most 20 places
    notes = []
    if any(r["cache_write_tokens"] for r in buckets.values()):
        notes.append(
            N_("cache writes are not split by duration in this report: priced as 5-minute")
        )
    if more:
        notes.append(
            N_(
                "the last page says more pages follow (has_more): import the other pages too "
                "(each replaces only the users it holds)"
            )
        )
    if not records:
        notes.append(N_("the report holds no records: nothing to import"))
    plan = arrow_plan(FORMAT, "claude_code", "usage", display, list(buckets.values()), None, notes)
    plan.actor_coverage = [
        (d, d + timedelta(days=1), KIND, user, key)
        for d, user, key in sorted(actors, key=lambda a: (a[0], a[1], a[2] or ""))
    ]
    return plan


IMPORTERS = (report_importer(FORMAT, 20, recognise, plan),)
