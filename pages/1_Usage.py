"""Usage: any metric over time, broken down by any dimension."""

from __future__ import annotations

import streamlit as st

from lib.analytics.overview import headline
from lib.analytics.usage import BREAKDOWNS, METRICS, breakdown_table
from lib.analytics.usage_view import drill_down, month_forecast, usage_chart
from lib.charts import time_series, trend_chart
from lib.ui import url, words
from lib.ui.frame import page
from lib.ui.state import cached
from lib.ui.widgets import Col, Kind, change, chart, figures, ms, n, pct, table, usd

ctx = page("pages/1_Usage.py")
store, f, now = ctx.store, ctx.filters, ctx.now
st.title("Usage")
start, end = f.window(now)
st.caption(
    f"{words.preset(f.preset)} · {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC · days cut in {f.tz}"
)

h = cached(headline, store, f, now)
if h.empty:
    st.info(words.empty(f.empty_reason(now)))
    st.stop()

figures(h, [
    ("Requests", "requests"),
    ("Input tokens", "input_tokens"),
    ("Output tokens", "output_tokens"),
    ("Estimated cost", "estimated_cost"),
    ("Error rate", "error_rate"),
    ("p95 latency", "p95_latency"),
])  # fmt: skip
st.caption("Changes are against the previous period of the same length.")

left, mid, right = st.columns([2, 2, 1])
metric = url.choice(left, "Metric", list(METRICS), key="usage_metric", param="metric",
                    format_func=words.metric_header)  # fmt: skip
by = url.choice(mid, "Break down by", ["none", *BREAKDOWNS], key="usage_by", param="by",
                format_func=lambda k: "Nothing" if k == "none" else words.dimension(k))  # fmt: skip
top_n = url.number(right, "Top", key="usage_top", param="top", default=8, lo=1, hi=12,
                   help="The rest are grouped as “Other”.")  # fmt: skip
breakdown = None if by == "none" else by

label, unit = words.metric(metric), words.metric_unit(metric)
c = cached(usage_chart, store, f, now, metric, breakdown, top_n)


def _value(v: object) -> str:
    """A value of the chosen metric, written in its unit."""
    return {"USD": usd, "%": pct, "ms": ms}.get(METRICS[metric].unit, n)(v)


if c.trend is not None:
    chart(trend_chart(c.trend, words=words.TREND_CHART, label=label, unit=unit, granularity=c.granularity, tz=f.tz),
          f"usage_{metric}", key="trend")  # fmt: skip
    st.caption("Bars: the metric · dashed line: 7-day moving average · red triangles: spikes against the "
               "usual level for the same weekday" + (" and hour" if c.granularity == "hour" else "") + ".")  # fmt: skip
    cols = st.columns(2)
    if c.week is not None and c.week.change is not None:
        cols[0].metric("Last 7 days vs the 7 before" + (" (average)" if c.week.averaged else ""),
                       change(c.week.change) or "—",
                       help=f"{_value(c.week.last)} against {_value(c.week.before)}.")  # fmt: skip
    fc = cached(month_forecast, store, f, now, metric, also=f"{now:%Y-%m-%d %H}")
    if fc is not None:
        cols[1].metric("Month-end forecast", _value(fc.expected),
                       help=f"80 % range {_value(fc.low)} – {_value(fc.high)}; {_value(fc.so_far)} so far, "
                            f"{fc.days_left} days left")  # fmt: skip
    for s in c.spikes:
        st.warning(words.spike(s, _value(s.value), "" if unit else METRICS[metric].unit))
else:
    shown = c.points.assign(series=[words.series_label(g, v, metric, breakdown)
                                    for g, v in zip(c.points["grp"], c.points["series"], strict=True)])  # fmt: skip
    chart(time_series(shown, words=words.SERIES_CHART, label=label, unit=unit, granularity=c.granularity, tz=f.tz,
                      stacked=c.additive),
          f"usage_{metric}_by_{breakdown}", key="series")  # fmt: skip
note = words.chart_note(c.note)
if note:
    st.caption(note)

st.subheader("Requests behind the chart")
if c.buckets:
    a, b, pg = st.columns([2, 2, 1])
    picked = a.selectbox("Time bucket", c.buckets, index=len(c.buckets) - 1,
                         format_func=lambda t: words.bucket(t, c.granularity))  # fmt: skip
    where = None
    if breakdown:
        names, dim_b = c.named, breakdown
        pick = b.selectbox(words.dimension(dim_b), list(range(len(names) + 1)),
                           format_func=lambda i: "All" if i == 0 else words.dim_value(dim_b, names[i - 1]))  # fmt: skip
        where = {dim_b: names[pick - 1]} if pick else None
    page_no = int(pg.number_input("Page", min_value=1, value=1))
    d = cached(drill_down, store, f, now, picked, c.granularity, where, page_no)
    if d.relation.differs(d.total):
        st.caption(words.bar_relation(d.relation))
    if d.total == 0:
        st.info(
            "No request-level rows here: this period's usage comes from aggregated reports only."
        )
    else:
        st.caption(f"{n(d.total)} requests · page {d.page} of {d.pages} · newest first")
        table(d.rows, "requests", key="drill", columns={
            "ts": Col("Time (UTC)", "time"), "provider": Col("Provider"), "model": Col("Model"),
            "snapshot": Col("Model snapshot"), "project": Col("Project"), "api_key": Col("API key"),
            "user_id": Col("User"), "status": Col("Status"), "http_status": Col("HTTP status", "count"),
            "error_code": Col("Error code"), "latency_ms": Col("Latency (ms)", "ms"),
            "input_tokens": Col("Input tokens", "count"),
            "cached_input_tokens": Col("Cached input tokens", "count"),
            "output_tokens": Col("Output tokens", "count"), "cost_usd": Col("Stated cost (USD)", "usd"),
            "request_id": Col("Request ID"),
        })  # fmt: skip

dim = breakdown or "model"
st.subheader(f"By {words.dimension(dim).lower()}")
KINDS: dict[str, Kind] = {"USD": "usd", "%": "rate", "ms": "ms"}
tab = cached(breakdown_table, store, f, now, dim)
table(tab, f"usage_by_{dim}", key="usage_table", columns={
    dim: Col(words.dimension(dim), none="— : the rows name none."),
    **{k: Col(words.metric_header(k), KINDS.get(m.unit, "count")) for k, m in METRICS.items()},
})  # fmt: skip
