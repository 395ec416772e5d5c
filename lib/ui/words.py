"""Words for the codes lib returns: the one place where a code becomes a sentence for display
(period presets, granularities, dimensions, metrics, the reasons and notes of the analytics,
the refusals of a link, a preview or a what-if), in the page's language.

lib never makes a sentence that a page compares against: it returns codes and values, and
the page asks this module for their words when it draws them. The tables below hold English
message ids marked with ``N_`` (``python -m lib.i18n.extract`` finds them); the functions
return them through the catalog (``lib.ui.i18n._``). Values that came from data (provider,
model, file names) are escaped with ``md`` where they meet Markdown.
"""

from __future__ import annotations

from datetime import date, datetime

from lib.analytics.requests import BarRelation
from lib.analytics.trends import Spike
from lib.analytics.usage import ALL_KEYS, METRICS
from lib.filters import GRANULARITIES, MAX_DATE, MAX_VALUE_LEN, MAX_VALUES, MIN_DATE, QueryIssue
from lib.i18n import N_
from lib.ingest import ImportResult, UndoResult
from lib.ui.i18n import _, day, integer, number, say
from lib.ui.markup import md

PRESET_LABELS: dict[str, str] = {
    "24h": N_("Last 24 hours"),
    "7d": N_("Last 7 days"),
    "30d": N_("Last 30 days"),
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "custom": N_("Custom"),
}
GRANULARITY_LABELS: dict[str, str] = {"hour": N_("Hour"), "day": N_("Day"), "month": N_("Month")}
DIMENSION_LABELS: dict[str, str] = {
    "provider": N_("Provider"),
    "project": N_("Project"),
    "model": N_("Model"),
    "snapshot": N_("Model snapshot"),
    "api_key": N_("API key"),
    "user_id": N_("User"),
}
# A dimension in "By model", "the model filter" (lowercase in English, its own word in French)
DIMENSION_LOWER: dict[str, str] = {
    "provider": N_("provider"),
    "project": N_("project"),
    "model": N_("model"),
    "snapshot": N_("model snapshot"),
    "api_key": N_("API key"),
    "user_id": N_("user"),
}
METRIC_LABELS: dict[str, str] = {
    "requests": N_("Requests"),
    "input_tokens": N_("Input tokens"),
    "cached_input_tokens": N_("Cached input tokens"),
    "output_tokens": N_("Output tokens"),
    "estimated_cost": N_("Estimated cost"),
    "stated_cost": N_("Stated cost"),
    "errors": N_("Errors"),
    "error_rate": N_("Error rate"),
    "p50_latency": N_("p50 latency"),
    "p95_latency": N_("p95 latency"),
}
# The unit shown after a metric's name, where it says something ("Estimated cost (USD)"):
# counts are named by the metric itself ("Requests", never "Requests (requests)").
UNIT_SUFFIX: dict[str, str] = {"USD": "USD", "%": "%", "ms": "ms"}
BASIS_LABELS: dict[str, str] = {"billed": N_("billed"), "stated": N_("stated"),
                                "estimated": N_("estimated")}  # fmt: skip
GRAIN_LABELS: dict[str, str] = {"request": N_("Request logs"), "usage": N_("Usage buckets"),
                                "cost": N_("Cost lines"),
                                "cost+usage": N_("Cost lines and usage buckets")}  # fmt: skip
GRAIN_LOWER: dict[str, str] = {"request": N_("request logs"), "usage": N_("usage buckets"),
                               "cost": N_("cost lines"),
                               "cost+usage": N_("cost lines and usage buckets")}  # fmt: skip
# "Mondays", "Mondays at 14:00": Monday first, as datetime.weekday() counts
WEEKDAYS_PLURAL = (N_("Mondays"), N_("Tuesdays"), N_("Wednesdays"), N_("Thursdays"),
                   N_("Fridays"), N_("Saturdays"), N_("Sundays"))  # fmt: skip
NONE_LABEL = N_("(not set)")  # a series of rows that have no value for the breakdown
OTHER_LABEL = N_("Other")  # the merged series of every value outside the top ones
UNKNOWN = "—"  # a cell or figure that cannot be known
# A cell whose value is unknown shows "—"; these say why, in the column's help.
UNKNOWN_HELP = N_("— means not known: no source of this period states it.")

# The words of the charts (lib.charts takes them; its English defaults serve the CLI and
# tests). Pages pass ``chart_words(SERIES_CHART)``.
SERIES_CHART: dict[str, str] = {"time": N_("Time"), "series": N_("Series"), "per_hour": N_("per hour"),
                                "whole_bar": N_("whole bar"), "from": N_("From"), "to": N_("To")}  # fmt: skip
TREND_CHART: dict[str, str] = {"time": N_("Time"), "average": N_("7-day average"),
                               "usual": N_("Usual for this weekday/hour")}  # fmt: skip
BILL_CHART: dict[str, str] = {"billed": N_("Billed (cost reports)"),
                              "estimated": N_("Estimated (tokens × prices)"),
                              "day": N_("Day (UTC)"), "cost": N_("Cost (USD)")}  # fmt: skip

_COST_NOTES: dict[str, str] = {
    "other_currency": N_("billed in another currency (not converted to USD)"),
    "no_cost_report": N_("no cost export for this day"),
    "no_usage": N_("no usage data for this day"),
    "unpriced": N_("some models have no price in the catalog"),
    "matches": N_("matches (to the cent)"),
    "differs": N_("prices or usage differ"),
}
_CHART_NOTES: dict[str, str] = {
    "sources_daily": N_(
        "The sources of this period report per day (usage exports and API reports in daily "
        "buckets): there is no hourly breakdown, so the chart shows days."
    ),
    "mixed": N_(
        "Some sources of this period report per day: their bars are bands across the whole "
        "day they cover, as high as the day's average per hour (hover for the day's total); "
        "the others are hourly."
    ),
    "users_daily": N_("Per-user figures are kept per day: the chart shows days."),
}
_EMPTY: dict[str, str] = {
    "short": N_(
        "No usage in this period. Provider usage reports come in daily buckets, each counted "
        "on the day it starts (UTC), so a period shorter than a day often holds none: choose "
        "“Last 7 days” (hourly granularity works there for request logs), or import request "
        "logs on the Data page for hour-by-hour detail."
    ),
    "empty": N_(
        "No usage in this period. Widen the period in the sidebar, or import data on the Data page."
    ),
}
_WHAT_IF: dict[str, str] = {
    "target_unpriced": N_("{model} has no price in the catalog, so it cannot be priced."),
    "source_unpriced": N_(
        "{model} has no priced traffic in this period: pick another model or widen the period."
    ),
    "nothing_to_move": N_(
        "No priced traffic in this period to move. Widen the period or add prices for your models."
    ),
}


# The fields a column mapping fills (``lib.preview.MAPPABLE``), as the mapping form names them.
MAPPING_LABELS: dict[str, str] = {
    "ts": N_("Time"), "model": N_("Model"), "provider": N_("Provider"), "project": N_("Project"),
    "api_key": N_("API key"), "user_id": N_("User"), "requests": N_("Requests"),
    "input_tokens": N_("Input tokens"), "cached_input_tokens": N_("Cached input tokens"),
    "output_tokens": N_("Output tokens"), "total_tokens": N_("Total tokens"),
    "cost_usd": N_("Cost (USD)"), "status": N_("Status"), "http_status": N_("HTTP status"),
    "error_code": N_("Error code"), "error_message": N_("Error message"),
    "latency_ms": N_("Latency (ms)"), "request_id": N_("Request ID"), "client_ip": N_("Client IP"),
    "origin": N_("Web origin"), "retry_after_ms": N_("Retry-After (ms)"),
}  # fmt: skip


def mapping_label(field: str) -> str:
    """A field of the column mapping in the page's language (its code when it has no label)."""
    return _(MAPPING_LABELS[field]) if field in MAPPING_LABELS else field


LIMIT_SOURCES: dict[str, str] = {"entered": N_("Entered"), "learned": N_("Learned from answers")}


def limit_source(code: str) -> str:
    """Where a rate limit comes from (``lib.alerts.limits.SOURCES``), in words."""
    return _(LIMIT_SOURCES[code]) if code in LIMIT_SOURCES else code


# The Errors page's status classes (``lib.error_kb.STATUS_CLASSES``).
STATUS_CLASS_LABELS: dict[str, str] = {
    "client": N_("Client error (4xx)"), "rate_limit": N_("Rate limit (429)"),
    "quota": N_("Quota or spend limit"), "overloaded": N_("Provider overloaded (529)"),
    "server": N_("Provider error (5xx)"), "network": N_("Timeout or connection"),
    "unknown": N_("Unknown"),
}  # fmt: skip


def status_class(code: str) -> str:
    """A status class of the Errors page in the page's language."""
    return _(STATUS_CLASS_LABELS[code]) if code in STATUS_CLASS_LABELS else code


PROVIDER_LABELS: dict[str, str] = {"openai": "OpenAI", "anthropic": "Anthropic"}


def chart_words(table: dict[str, str]) -> dict[str, str]:
    """A chart's words (``SERIES_CHART``, ``TREND_CHART``, ``BILL_CHART``) in the page's
    language, for ``lib.charts``."""
    return {k: _(v) for k, v in table.items()}


def provider(code: str) -> str:
    """A provider's name as it writes it ("OpenAI"); other codes as they are."""
    return PROVIDER_LABELS.get(code, code)


def preset(code: str) -> str:
    return _(PRESET_LABELS[code]) if code in PRESET_LABELS else code


def granularity(code: str) -> str:
    return _(GRANULARITY_LABELS[code]) if code in GRANULARITY_LABELS else code


def dimension(code: str) -> str:
    """A dimension's name as a title ("Model", "API key")."""
    return _(DIMENSION_LABELS[code]) if code in DIMENSION_LABELS else code


def dimension_lower(code: str) -> str:
    """A dimension's name inside a sentence ("model", "API key")."""
    return _(DIMENSION_LOWER[code]) if code in DIMENSION_LOWER else code


def by_dimension(code: str) -> str:
    """The title of a breakdown table: "By model"."""
    return _("By {dimension}", dimension=dimension_lower(code))


def metric(key: str) -> str:
    """A metric's name ("Input tokens")."""
    return _(METRIC_LABELS[key]) if key in METRIC_LABELS else key


def metric_unit(key: str) -> str:
    """The unit to write after a metric's name, or "" for counts."""
    return UNIT_SUFFIX.get(METRICS[key].unit, "")


def metric_header(key: str) -> str:
    """A metric as a column or axis title: "Estimated cost (USD)", "Requests"."""
    unit = metric_unit(key)
    return _("{name} ({unit})", name=metric(key), unit=unit) if unit else metric(key)


def bases(codes: tuple[str, ...]) -> str:
    """The kinds of money a figure adds up: "billed + estimated"."""
    return " + ".join(_(BASIS_LABELS[c]) if c in BASIS_LABELS else c for c in codes) or _(
        BASIS_LABELS["billed"]
    )


def grain(code: str | None) -> str:
    return _(GRAIN_LABELS[code]) if code in GRAIN_LABELS else (code or UNKNOWN)


def grain_lower(code: str | None) -> str:
    """A kind of data inside a sentence ("usage buckets")."""
    return _(GRAIN_LOWER[code]) if code in GRAIN_LOWER else (code or UNKNOWN)


def cost_note(code: str) -> str:
    """Why a provider-day's bill and estimate differ."""
    return _(_COST_NOTES[code]) if code in _COST_NOTES else code


def chart_note(code: str | None) -> str | None:
    return _(_CHART_NOTES[code]) if code in _CHART_NOTES else None


def empty(code: str) -> str:
    """What to tell someone who finds no usage in the period."""
    return _(_EMPTY.get(code, _EMPTY["empty"]))


def what_if_problem(code: str, model: str | None = None) -> str:
    """Why a what-if cannot be priced (Markdown; the model escaped)."""
    return _(_WHAT_IF[code], model=md(model or "")) if code in _WHAT_IF else code


def dim_value(dim: str, value: object) -> str:
    """A dimension's value as shown: "(not set)" for rows without one, "All keys" for the
    per-user rows that keep no key."""
    if value is None or (isinstance(value, float) and value != value):
        return _(NONE_LABEL)
    if dim == "api_key" and value == ALL_KEYS:
        return _("All keys (per-user figures keep no key)")
    return str(value)


def series_label(grp: str, value: object, metric_key: str, dim: str | None) -> str:
    """The name of a chart series: the metric without a breakdown, "Other" for the merged
    rest, the value (or "(not set)") for one of the top values."""
    if grp == "all":
        return metric(metric_key)
    if grp == "other":
        return _(OTHER_LABEL)
    return dim_value(dim or "", value)


def not_counted(reason: str, counted_by: str, requests_counted: bool) -> str:
    """Why rows of an import are left out of the totals (``lib.analytics.costs.not_counted``)."""
    by = _("the request logs") if counted_by == "*request" else counted_by
    if reason == "billed":
        return _("stated cost: the cost report bills that provider and day")
    if requests_counted:
        return _(
            "tokens: counted from {source} for that provider and day (it has no request count: "
            "the requests of these rows are counted)",
            source=by,
        )
    return _("tokens and requests: counted from {source} for that provider and day", source=by)


def spike(s: Spike, value: str, unit: str = "") -> str:
    """A flagged point in a sentence (Markdown): when, how much, against what is usual.
    ``value`` is the point's value already written, ``unit`` what it counts (or "")."""
    days = _(WEEKDAYS_PLURAL[s.weekday])
    hourly = s.granularity == "hour"
    slot = _("{days} at {hour}", days=days, hour=f"{s.bucket.hour:02d}:00") if hourly else days
    when = day(s.bucket, "full") + (f" {s.bucket:%H:%M}" if hourly else "")
    counted = f"{value} {unit}" if unit else value
    usual = number(s.usual, 0)
    if s.ratio is None:
        return _("Spike on {when}: {value} — far above the usual level for {slot} ({usual})",
                 when=when, value=counted, slot=slot, usual=usual)  # fmt: skip
    return _("Spike on {when}: {value} — {times}× the usual level for {slot} ({usual})",
             when=when, value=counted, times=number(s.ratio, 1), slot=slot, usual=usual)  # fmt: skip


def bar_relation(rel: BarRelation) -> str:
    """How the request rows listed under a bar relate to the requests the bar counts
    (Markdown; provider and stream names escaped)."""
    parts = [
        _(
            "The bar counts {bar} requests: {rows} of them are request-log rows listed below",
            bar=integer(rel.bar_requests),
            rows=integer(rel.counted_log_rows),
        )
    ]
    if rel.report_only_requests:
        parts.append(
            _(
                "{n} come from usage reports, which have no row per request",
                n=integer(rel.report_only_requests),
            )
        )
    for prov, stream, n_rows, n_req in rel.elsewhere:
        said = _(" ({n} requests)", n=integer(n_req)) if n_req is not None else ""
        parts.append(
            _(
                "{n} {provider} rows below are not counted: the bar counts {provider} from "
                "{stream}{requests} for that day",
                n=integer(n_rows),
                provider=md(prov),
                stream=md(stream),
                requests=said,
            )
        )
    return "; ".join(parts) + "."


def bucket(t: datetime | date, gran: str) -> str:
    """A chart bucket in the drill-down picker: 2025-01-01 14:00, 2025-01-01, January 2025."""
    if gran == "hour":
        return f"{t:%Y-%m-%d %H:%M}"
    if gran == "day":
        return f"{t:%Y-%m-%d}"
    return day(t, "LLLL y")


def issue(i: QueryIssue) -> str:
    """One refused URL parameter in words (Markdown; the value escaped)."""
    value = md(i.value)
    if i.code == "period":
        return _("the period “{value}” is not one of {choices}", value=value,
                 choices=", ".join(_(p) for p in PRESET_LABELS.values()))  # fmt: skip
    if i.code == "dates":
        return _("the custom period “{value}” needs two days written YYYY-MM-DD", value=value)
    if i.code == "date_range":
        return _("the custom period “{value}” must lie between {first} and {last}", value=value,
                 first=f"{MIN_DATE:%Y-%m-%d}", last=f"{MAX_DATE:%Y-%m-%d}")  # fmt: skip
    if i.code == "granularity":
        return _("the granularity “{value}” is not one of {choices}", value=value,
                 choices=", ".join(granularity(g).lower() for g in GRANULARITIES))  # fmt: skip
    if i.code == "tz":
        return _("the time zone “{value}” is not a zone name the reports know (e.g. Europe/Paris)",
                 value=value)  # fmt: skip
    if i.code == "dimension":
        return _("the {name} filter “{value}” has values that are too long, too many (over {most}, "
                 "or over {longest} characters) or contain control characters",
                 name=dimension_lower(i.param), value=value, most=MAX_VALUES,
                 longest=MAX_VALUE_LEN)  # fmt: skip
    return _("the parameter “{name}” could not be read", name=md(i.param))


STATUS_LABELS: dict[str, str] = {
    "ok": N_("Imported"),
    "failed": N_("Failed"),
    "undone": N_("Undone"),
}
SHOW_LABELS: dict[str, str] = {
    "all": N_("All"),
    "ok": N_("Imported"),
    "failed": N_("Failed"),
    "undone": N_("Undone"),
}
# "No import is {state}." in the history's filter
SHOW_NONE: dict[str, str] = {
    "ok": N_("No import is imported."),
    "failed": N_("No import has failed."),
    "undone": N_("No import is undone."),
}
ORIGIN_LABELS: dict[str, str] = {"file": N_("File (command line)"), "upload": N_("Upload"),
                                 "pull": N_("API pull"), "playground": N_("Playground"),
                                 "gateway": N_("Gateway"), "demo": N_("Demo data")}  # fmt: skip


def status(code: str) -> str:
    return _(STATUS_LABELS[code]) if code in STATUS_LABELS else code


def show_label(code: str) -> str:
    """A choice of the import history's filter ("All", "Imported"…)."""
    return _(SHOW_LABELS[code]) if code in SHOW_LABELS else code


def show_none(code: str) -> str:
    """What the history says when no import has the state chosen."""
    return _(SHOW_NONE[code]) if code in SHOW_NONE else _("No import yet.")


def origin(code: str | None) -> str:
    return _(ORIGIN_LABELS[code]) if code in ORIGIN_LABELS else (code or UNKNOWN)


def import_result(r: ImportResult) -> str:
    """What one import did, in a sentence (Markdown; file name, format and notes escaped)."""
    period = ""
    if r.period_start and r.period_end:
        period = f", {r.period_start:%Y-%m-%d %H:%M} → {r.period_end:%Y-%m-%d %H:%M} UTC"
    text = _(
        "{file}: {format} ({kind}) as import #{id}: {read} rows read, {new} new, {duplicate} "
        "duplicate, {replaced} replaced{period} in {seconds}",
        file=md(r.file_name), format=md(r.format), kind=grain_lower(r.grain), id=r.import_id,
        read=integer(r.rows_read), new=integer(r.rows_new), duplicate=integer(r.rows_duplicate),
        replaced=integer(r.rows_replaced), period=period, seconds=f"{number(r.seconds, 1)} s",
    )  # fmt: skip
    return text + "".join(_(" (note: {note})", note=md(say(note))) for note in r.notes)


def undo_result(r: UndoResult, file_name: str | None = None) -> str:
    """What an undo removed, in a sentence (Markdown)."""
    name = f" ({md(file_name)})" if file_name else ""
    text = _(
        "Import #{id}{name} undone: {removed} rows removed, {restored} earlier rows live again",
        id=r.import_id, name=name, removed=integer(r.rows_removed),
        restored=integer(r.rows_restored),
    )  # fmt: skip
    if r.rows_kept:
        text += _(
            ", {kept} rows kept because a later import also contains them (they now belong to it)",
            kept=integer(r.rows_kept),
        )
    return text + "."


def remedy(code: str | None) -> str | None:
    """What to do about a refused file (``lib.preview.remedy``)."""
    if code == "map_columns":
        return _("Map the columns (at least a time column and one measure):")
    return None


def period_line(preset_code: str, start: datetime, end: datetime, tz: str) -> str:
    """The caption under a page's title: the period, its exact UTC bounds, the zone days are
    cut in ("Last 30 days · 2026-11-01 00:00 → 2026-12-01 00:00 UTC · days cut in UTC")."""
    return _("{period} · {start} → {end} UTC · days cut in {tz}", period=preset(preset_code),
             start=f"{start:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}", tz=tz)  # fmt: skip
