"""Usage: any metric over time, broken down by any dimension."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from lib.analytics.requests import bar_relation, request_rows
from lib.analytics.trends import add_trends, month_end_forecast, spike_reason
from lib.analytics.usage import (
    BREAKDOWNS,
    METRICS,
    breakdown_table,
    series,
    totals_pair,
    wider_than_hours,
)
from lib.charts import time_series, trend_chart
from lib.filters import PRESETS, next_month
from lib.summary import data_version
from lib.ui.frame import page
from lib.ui.markup import md
from lib.ui.widgets import chart, kpi_row, table

ctx = page("pages/1_Usage.py")


f = ctx.filters
st.title("Usage")
start, end = f.window()
st.caption(
    f"{PRESETS[f.preset]} · {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC · days cut in {f.tz}"
)


@st.cache_data(show_spinner=False)
def _totals(path: str, version: str, query: tuple, now_bucket: int) -> dict:
    return totals_pair(ctx.store, f)


version = data_version(ctx.store)
key = tuple(sorted(f.to_query().items()))
cur_t, prev_t = _totals(ctx.store.path, version, key, int(start.timestamp()))

if not cur_t["requests"] and not cur_t["input_tokens"]:
    st.info(f.empty_hint())
    st.stop()


kpi_row(cur_t, prev_t, [
    ("Requests", "requests", "count"),
    ("Input tokens", "input_tokens", "count"),
    ("Output tokens", "output_tokens", "count"),
    ("Estimated cost (USD)", "estimated_cost", "usd_cost"),
    ("Error rate", "error_rate", "rate"),
    ("p95 latency", "p95_latency", "ms"),
])  # fmt: skip
st.caption("Changes are against the previous period of the same length.")

left, mid, right = st.columns([2, 2, 1])
metric = left.selectbox(
    "Metric",
    list(METRICS),
    format_func=lambda k: f"{METRICS[k].label} ({METRICS[k].unit})",
    key="usage_metric",
)
by = mid.selectbox(
    "Break down by",
    ["(none)", *BREAKDOWNS],
    format_func=lambda k: BREAKDOWNS.get(k, "Nothing"),
    key="usage_by",
)
top_n = right.number_input(
    "Top", min_value=1, max_value=12, value=8, help="The rest are grouped as “other”."
)
breakdown = None if by == "(none)" else by


@st.cache_data(show_spinner=False)
def _series(
    path: str, version: str, query: tuple, metric: str, breakdown: str | None, top_n: int, now: int,
    gran: str,
):  # fmt: skip
    return series(ctx.store, f.with_(granularity=gran), metric, breakdown, top_n)


df = _series(ctx.store.path, version, key, metric, breakdown, int(top_n), int(start.timestamp()),
             f.granularity)  # fmt: skip
shape = wider_than_hours(df)
if shape == "daily":  # no hourly shape exists: show the days the sources report
    df = _series(
        ctx.store.path, version, key, metric, breakdown, int(top_n), int(start.timestamp()), "day"
    )


month = f.with_(preset="this_month", granularity="day", start=None, end=None)


@st.cache_data(show_spinner=False)
def _forecast(path: str, version: str, month_query: tuple, metric: str, today: str):
    """Keyed by the month's filters (not the period's), so a period change reuses it."""
    daily = series(ctx.store, month, metric)
    m_start, m_end = month.window()
    return month_end_forecast(daily, round((m_end - m_start).total_seconds() / 86400))


m = METRICS[metric]
additive = m.unit not in ("%", "ms")
gran = f.granularity if not (breakdown == "user_id" or "user_id" in f.dims) else "day"
gran = "day" if shape == "daily" else gran
if breakdown is None and gran in ("hour", "day") and not df.empty and shape != "mixed":
    tr = add_trends(df, gran)
    chart(
        trend_chart(tr, label=m.label, unit=m.unit, granularity=gran, tz=f.tz),
        f"usage_{metric}",
        key="trend",
    )
    st.caption("Bars: the metric · dashed line: 7-day moving average · red triangles: spikes against the "
               "usual level for the same weekday" + (" and hour" if gran == "hour" else "") + ".")  # fmt: skip
    week = 7 if gran == "day" else 168
    # amounts add up over a week; rates and percentiles are compared as the week's average
    agg = "sum" if additive else "mean"
    last = tr["value"].tail(week).agg(agg)
    before = tr["value"].iloc[:-week].tail(week).agg(agg) if len(tr) > week else 0
    cols = st.columns(2)
    if before:
        label = "Last 7 days vs the 7 before" + ("" if additive else " (average)")
        cols[0].metric(label, f"{(last - before) / before * 100:+.1f} %")
    if metric in ("requests", "input_tokens", "output_tokens", "estimated_cost", "stated_cost"):
        fc = _forecast(ctx.store.path, version, tuple(sorted(month.to_query().items())), metric,
                       f"{datetime.now(UTC):%Y-%m-%d %H}")  # fmt: skip
        if fc is not None:
            fmt = (lambda v: f"${v:,.2f}") if m.unit == "USD" else (lambda v: f"{v:,.0f}")
            cols[1].metric("Month-end forecast", fmt(fc.expected), help=f"80 % range {fmt(fc.low)} – {fmt(fc.high)}; "
                           f"{fmt(fc.so_far)} so far, {fc.days_left} days left")  # fmt: skip
    for _, row in tr[tr["spike"]].iterrows():
        st.warning(
            f"Spike on {row['bucket']:%a %Y-%m-%d %H:%M}: {row['value']:,.0f} {m.unit} — {md(spike_reason(row, gran))}"
        )
else:
    chart(
        time_series(df, label=m.label, unit=m.unit, granularity=gran, tz=f.tz, stacked=additive),
        f"usage_{metric}_by_{breakdown}",
        key="series",
    )
if shape == "daily":
    st.caption("The sources of this period report per day (usage exports and API reports in daily "
               "buckets): there is no hourly breakdown, so the chart shows days.")  # fmt: skip
elif shape == "mixed":
    st.caption("Some sources of this period report per day: their bars are bands across the whole day "
               "they cover, as high as the day's average per hour (hover for the day's total); the "
               "others are hourly.")  # fmt: skip
elif gran != f.granularity:
    st.caption("Per-user figures are kept per day: the chart shows days.")

st.subheader("Requests behind the chart")
buckets = sorted(set(df["bucket"])) if not df.empty else []
if buckets:
    a, b, c = st.columns([2, 2, 1])
    picked = a.selectbox("Time bucket", buckets, index=len(buckets) - 1,
                         format_func=lambda t: f"{t:%Y-%m-%d %H:%M}" if gran == "hour" else f"{t:%Y-%m-%d}" if gran == "day" else f"{t:%B %Y}")  # fmt: skip
    names = [s for s in dict.fromkeys(df["series"]) if s not in ("other", "all")]
    series_pick = (
        b.selectbox(BREAKDOWNS[breakdown] if breakdown else "Series", ["(all)", *names])
        if breakdown
        else "(all)"
    )
    page_no = int(c.number_input("Page", min_value=1, value=1)) - 1
    zone = ZoneInfo(f.tz)
    lo = pd.Timestamp(picked).to_pydatetime().replace(tzinfo=zone)
    hi = lo + (
        {"hour": timedelta(hours=1), "day": timedelta(days=1)}.get(gran) or (next_month(lo) - lo)
    )
    where = (
        {breakdown: None if series_pick == "(none)" else series_pick}
        if breakdown and series_pick != "(all)"
        else None
    )

    @st.cache_data(show_spinner=False, max_entries=50)
    def _drill(
        path: str, version: str, query: tuple, lo: object, hi: object, where: tuple, page_no: int
    ):
        return request_rows(
            ctx.store, f, window=(lo, hi), where=dict(where) or None, page=page_no, page_size=100
        )

    rows, total = _drill(ctx.store.path, version, key, lo.astimezone(UTC), hi.astimezone(UTC),
                         tuple((where or {}).items()), page_no)  # fmt: skip

    @st.cache_data(show_spinner=False, max_entries=50)
    def _relation(path: str, version: str, query: tuple, lo: object, hi: object, where: tuple):
        return bar_relation(ctx.store, f, window=(lo, hi), where=dict(where) or None)

    rel = _relation(ctx.store.path, version, key, lo.astimezone(UTC), hi.astimezone(UTC),
                    tuple((where or {}).items()))  # fmt: skip
    if rel.bar_requests is not None and (rel.bar_requests != total or rel.elsewhere):
        parts = [f"The bar counts {rel.bar_requests:,} requests: {rel.counted_log_rows:,} of them are "
                 f"request-log rows listed below"]  # fmt: skip
        if rel.report_only_requests:
            parts.append(
                f"{rel.report_only_requests:,} come from usage reports, which have no row per request"
            )
        for prov, stream, n_rows, n_req in rel.elsewhere:
            said = f" ({n_req:,} requests)" if n_req is not None else ""
            parts.append(f"{n_rows:,} {md(prov)} rows below are not counted: the bar counts {md(prov)} "
                         f"from {md(stream)}{said} for that day")  # fmt: skip
        st.caption("; ".join(parts) + ".")
    if total == 0:
        st.info(
            "No request-level rows here: this period's usage comes from aggregated reports only."
        )
    else:
        st.caption(
            f"{total:,} requests · page {page_no + 1} of {(total - 1) // 100 + 1} · newest first"
        )
        table(rows, "requests", key="drill")

dim = breakdown or "model"
st.subheader(f"By {BREAKDOWNS[dim].lower()}")


@st.cache_data(show_spinner=False)
def _table(path: str, version: str, query: tuple, dim: str, now: int):
    return breakdown_table(ctx.store, f, dim)


tab = _table(ctx.store.path, version, key, dim, int(start.timestamp()))
tab = tab.rename(
    columns={dim: BREAKDOWNS[dim]} | {k: f"{v.label} ({v.unit})" for k, v in METRICS.items()}
)
table(tab, f"usage_by_{dim}", key="usage_table")
