"""Words for the codes lib returns: the one place where a code becomes an English sentence
for display (period presets, granularities, dimensions, metrics, the reasons and notes of the
analytics, the refusals of a link, a preview or a what-if).

lib never makes a sentence that a page compares against: it returns codes and values, and
the page asks this module for their words when it draws them. Values that came from data
(provider, model, file names) are escaped with ``md`` where they meet Markdown.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime

from lib.analytics.requests import BarRelation
from lib.analytics.trends import Spike
from lib.analytics.usage import ALL_KEYS, METRICS
from lib.filters import GRANULARITIES, MAX_DATE, MAX_VALUE_LEN, MAX_VALUES, MIN_DATE, QueryIssue
from lib.ingest import ImportResult, UndoResult
from lib.ui.markup import md

PRESET_LABELS: dict[str, str] = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom",
}
GRANULARITY_LABELS: dict[str, str] = {"hour": "Hour", "day": "Day", "month": "Month"}
DIMENSION_LABELS: dict[str, str] = {
    "provider": "Provider",
    "project": "Project",
    "model": "Model",
    "snapshot": "Model snapshot",
    "api_key": "API key",
    "user_id": "User",
}
METRIC_LABELS: dict[str, str] = {
    "requests": "Requests",
    "input_tokens": "Input tokens",
    "cached_input_tokens": "Cached input tokens",
    "output_tokens": "Output tokens",
    "estimated_cost": "Estimated cost",
    "stated_cost": "Stated cost",
    "errors": "Errors",
    "error_rate": "Error rate",
    "p50_latency": "p50 latency",
    "p95_latency": "p95 latency",
}
# The unit shown after a metric's name, where it says something ("Estimated cost (USD)"):
# counts are named by the metric itself ("Requests", never "Requests (requests)").
UNIT_SUFFIX: dict[str, str] = {"USD": "USD", "%": "%", "ms": "ms"}
BASIS_LABELS: dict[str, str] = {"billed": "billed", "stated": "stated", "estimated": "estimated"}
GRAIN_LABELS: dict[str, str] = {"request": "Request logs", "usage": "Usage buckets",
                                "cost": "Cost lines", "cost+usage": "Cost lines and usage buckets"}  # fmt: skip
WEEKDAYS = tuple(calendar.day_name)  # Monday first, as datetime.weekday() counts
NONE_LABEL = "(not set)"  # a series of rows that have no value for the breakdown
OTHER_LABEL = "Other"  # the merged series of every value outside the top ones
UNKNOWN = "—"  # a cell or figure that cannot be known
# A cell whose value is unknown shows "—"; these say why, in the column's help.
UNKNOWN_HELP = "— means not known: no source of this period states it."

# The words of the charts (lib.charts takes them; its English defaults serve the CLI and tests).
SERIES_CHART: dict[str, str] = {"time": "Time", "series": "Series", "per_hour": "per hour",
                                "whole_bar": "whole bar", "from": "From", "to": "To"}  # fmt: skip
TREND_CHART: dict[str, str] = {"time": "Time", "average": "7-day average",
                               "usual": "Usual for this weekday/hour"}  # fmt: skip
BILL_CHART: dict[str, str] = {"billed": "Billed (cost reports)", "estimated": "Estimated (tokens × prices)",
                              "day": "Day (UTC)", "cost": "Cost (USD)"}  # fmt: skip

_COST_NOTES: dict[str, str] = {
    "other_currency": "billed in another currency (not converted to USD)",
    "no_cost_report": "no cost export for this day",
    "no_usage": "no usage data for this day",
    "unpriced": "some models have no price in the catalog",
    "matches": "matches (to the cent)",
    "differs": "prices or usage differ",
}
_CHART_NOTES: dict[str, str] = {
    "sources_daily": "The sources of this period report per day (usage exports and API reports in "
    "daily buckets): there is no hourly breakdown, so the chart shows days.",
    "mixed": "Some sources of this period report per day: their bars are bands across the whole "
    "day they cover, as high as the day's average per hour (hover for the day's total); the "
    "others are hourly.",
    "users_daily": "Per-user figures are kept per day: the chart shows days.",
}
_EMPTY: dict[str, str] = {
    "short": "No usage in this period. Provider usage reports come in daily buckets, each counted "
    "on the day it starts (UTC), so a period shorter than a day often holds none: choose "
    "“Last 7 days” (hourly granularity works there for request logs), or import request logs "
    "on the Data page for hour-by-hour detail.",
    "empty": "No usage in this period. Widen the period in the sidebar, or import data on the "
    "Data page.",
}
_WHAT_IF: dict[str, str] = {
    "target_unpriced": "{model} has no price in the catalog, so it cannot be priced.",
    "source_unpriced": "{model} has no priced traffic in this period: pick another model or widen "
    "the period.",
    "nothing_to_move": "No priced traffic in this period to move. Widen the period or add prices "
    "for your models.",
}


PROVIDER_LABELS: dict[str, str] = {"openai": "OpenAI", "anthropic": "Anthropic"}


def provider(code: str) -> str:
    """A provider's name as it writes it ("OpenAI"); other codes as they are."""
    return PROVIDER_LABELS.get(code, code)


def preset(code: str) -> str:
    return PRESET_LABELS.get(code, code)


def granularity(code: str) -> str:
    return GRANULARITY_LABELS.get(code, code)


def dimension(code: str) -> str:
    return DIMENSION_LABELS.get(code, code)


def metric(key: str) -> str:
    """A metric's name ("Input tokens")."""
    return METRIC_LABELS.get(key, key)


def metric_unit(key: str) -> str:
    """The unit to write after a metric's name, or "" for counts."""
    return UNIT_SUFFIX.get(METRICS[key].unit, "")


def metric_header(key: str) -> str:
    """A metric as a column or axis title: "Estimated cost (USD)", "Requests"."""
    unit = metric_unit(key)
    return f"{metric(key)} ({unit})" if unit else metric(key)


def bases(codes: tuple[str, ...]) -> str:
    """The kinds of money a figure adds up: "billed + estimated"."""
    return " + ".join(BASIS_LABELS.get(c, c) for c in codes) or BASIS_LABELS["billed"]


def grain(code: str | None) -> str:
    return GRAIN_LABELS.get(code or "", code or UNKNOWN)


def cost_note(code: str) -> str:
    """Why a provider-day's bill and estimate differ."""
    return _COST_NOTES.get(code, code)


def chart_note(code: str | None) -> str | None:
    return _CHART_NOTES.get(code) if code else None


def empty(code: str) -> str:
    """What to tell someone who finds no usage in the period."""
    return _EMPTY.get(code, _EMPTY["empty"])


def what_if_problem(code: str, model: str | None = None) -> str:
    """Why a what-if cannot be priced (Markdown; the model escaped)."""
    return _WHAT_IF.get(code, code).format(model=md(model or ""))


def dim_value(dim: str, value: object) -> str:
    """A dimension's value as shown: "(not set)" for rows without one, "All keys" for the
    per-user rows that keep no key."""
    if value is None or (isinstance(value, float) and value != value):
        return NONE_LABEL
    if dim == "api_key" and value == ALL_KEYS:
        return "All keys (per-user figures keep no key)"
    return str(value)


def series_label(grp: str, value: object, metric_key: str, dim: str | None) -> str:
    """The name of a chart series: the metric without a breakdown, "Other" for the merged
    rest, the value (or "(not set)") for one of the top values."""
    if grp == "all":
        return metric(metric_key)
    if grp == "other":
        return OTHER_LABEL
    return dim_value(dim or "", value)


def not_counted(reason: str, counted_by: str, requests_counted: bool) -> str:
    """Why rows of an import are left out of the totals (``lib.analytics.costs.not_counted``)."""
    by = "the request logs" if counted_by == "*request" else counted_by
    if reason == "billed":
        return "stated cost: the cost report bills that provider and day"
    if requests_counted:
        return (
            f"tokens: counted from {by} for that provider and day (it has no request count: the "
            "requests of these rows are counted)"
        )
    return f"tokens and requests: counted from {by} for that provider and day"


def spike(s: Spike, value: str, unit: str = "") -> str:
    """A flagged point in a sentence (Markdown): when, how much, against what is usual.
    ``value`` is the point's value already written, ``unit`` what it counts (or "")."""
    day = WEEKDAYS[s.weekday]
    slot = f"{day}s" if s.granularity == "day" else f"{day}s at {s.bucket.hour:02d}:00"
    times = f"{s.ratio:.1f}×" if s.ratio is not None else "far above"
    when = f"{s.bucket:%a %Y-%m-%d}" + (f" {s.bucket:%H:%M}" if s.granularity == "hour" else "")
    counted = f"{value} {unit}" if unit else value
    return f"Spike on {when}: {counted} — {times} the usual level for {slot} ({s.usual:,.0f})"


def bar_relation(rel: BarRelation) -> str:
    """How the request rows listed under a bar relate to the requests the bar counts
    (Markdown; provider and stream names escaped)."""
    parts = [
        f"The bar counts {rel.bar_requests:,} requests: {rel.counted_log_rows:,} of them are "
        "request-log rows listed below"
    ]
    if rel.report_only_requests:
        parts.append(
            f"{rel.report_only_requests:,} come from usage reports, which have no row per request"
        )
    for prov, stream, n_rows, n_req in rel.elsewhere:
        said = f" ({n_req:,} requests)" if n_req is not None else ""
        parts.append(
            f"{n_rows:,} {md(prov)} rows below are not counted: the bar counts {md(prov)} from "
            f"{md(stream)}{said} for that day"
        )
    return "; ".join(parts) + "."


def bucket(t: datetime | date, gran: str) -> str:
    """A chart bucket in the drill-down picker: 2025-01-01 14:00, 2025-01-01, January 2025."""
    if gran == "hour":
        return f"{t:%Y-%m-%d %H:%M}"
    if gran == "day":
        return f"{t:%Y-%m-%d}"
    return f"{t:%B %Y}"


def issue(i: QueryIssue) -> str:
    """One refused URL parameter in words (Markdown; the value escaped)."""
    value = md(i.value)
    name = DIMENSION_LABELS.get(i.param, i.param)
    return {
        "period": f"the period “{value}” is not one of {', '.join(PRESET_LABELS.values())}",
        "dates": f"the custom period “{value}” needs two days written YYYY-MM-DD",
        "date_range": f"the custom period “{value}” must lie between {MIN_DATE:%Y-%m-%d} and "
        f"{MAX_DATE:%Y-%m-%d}",
        "granularity": f"the granularity “{value}” is not one of "
        f"{', '.join(g.lower() for g in (GRANULARITY_LABELS[x] for x in GRANULARITIES))}",
        "tz": f"the time zone “{value}” is not a zone name the reports know (e.g. Europe/Paris)",
        "dimension": f"the {name.lower()} filter “{value}” has values that are too long, too many "
        f"(over {MAX_VALUES}, or over {MAX_VALUE_LEN} characters) or contain control characters",
    }.get(i.code, f"the parameter “{md(i.param)}” could not be read")


STATUS_LABELS: dict[str, str] = {"ok": "Imported", "failed": "Failed", "undone": "Undone"}
SHOW_LABELS: dict[str, str] = {
    "all": "All",
    "ok": "Imported",
    "failed": "Failed",
    "undone": "Undone",
}
ORIGIN_LABELS: dict[str, str] = {"file": "File (command line)", "upload": "Upload", "pull": "API pull",
                                 "playground": "Playground", "gateway": "Gateway", "demo": "Demo data"}  # fmt: skip


def status(code: str) -> str:
    return STATUS_LABELS.get(code, code)


def origin(code: str | None) -> str:
    return ORIGIN_LABELS.get(code or "", code or UNKNOWN)


def import_result(r: ImportResult) -> str:
    """What one import did, in a sentence (Markdown; file name, format and notes escaped)."""
    period = ""
    if r.period_start and r.period_end:
        period = f", {r.period_start:%Y-%m-%d %H:%M} → {r.period_end:%Y-%m-%d %H:%M} UTC"
    text = (
        f"{md(r.file_name)}: {md(r.format)} ({grain(r.grain).lower()}) as import #{r.import_id}: "
        f"{r.rows_read:,} rows read, {r.rows_new:,} new, {r.rows_duplicate:,} duplicate, "
        f"{r.rows_replaced:,} replaced{period} in {r.seconds:.1f} s"
    )
    return text + "".join(f" (note: {md(note)})" for note in r.notes)


def undo_result(r: UndoResult, file_name: str | None = None) -> str:
    """What an undo removed, in a sentence (Markdown)."""
    name = f" ({md(file_name)})" if file_name else ""
    text = (
        f"Import #{r.import_id}{name} undone: {r.rows_removed:,} rows removed, "
        f"{r.rows_restored:,} earlier rows live again"
    )
    if r.rows_kept:
        text += (
            f", {r.rows_kept:,} rows kept because a later import also contains them (they now "
            "belong to it)"
        )
    return text + "."


def remedy(code: str | None) -> str | None:
    """What to do about a refused file (``lib.preview.remedy``)."""
    return {"map_columns": "Map the columns (at least a time column and one measure):"}.get(
        code or ""
    )
