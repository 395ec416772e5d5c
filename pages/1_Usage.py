"""Usage: any metric over time, broken down by any dimension."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.alerts.limits import effective_limits, use_of_limits
from lib.analytics.overview import headline
from lib.analytics.usage import BREAKDOWNS, METRICS, breakdown_table
from lib.analytics.usage_view import drill_down, month_forecast, usage_chart
from lib.charts import time_series, trend_chart
from lib.ui import url, words
from lib.ui.filters_ui import worded_key
from lib.ui.frame import page
from lib.ui.i18n import _, integer
from lib.ui.state import cached
from lib.ui.widgets import Col, Kind, change, chart, figures, ms, n, pct, table, usd

ctx = page("pages/1_Usage.py")
store, f, now = ctx.store, ctx.filters, ctx.now
st.title(_("Usage"))
start, end = f.window(now)
st.caption(words.period_line(f.preset, start, end, f.tz))

h = cached(headline, store, f, now)
if h.empty:
    st.info(words.empty(f.empty_reason(now)))
    st.stop()

headline_box = st.container()  # drawn once the percentiles' choice below is known
st.caption(_("Changes are against the previous period of the same length."))

left, mid, right = st.columns([2, 2, 1])
METRIC_WORDS = {k: words.metric_header(k) for k in METRICS}  # fixed for this run's language
BY_WORDS = {"none": _("Nothing"), **{k: words.dimension(k) for k in BREAKDOWNS}}
metric = url.choice(left, _("Metric"), list(METRICS), key="usage_metric", param="metric",
                    format_func=METRIC_WORDS.__getitem__)  # fmt: skip
by = url.choice(mid, _("Break down by"), list(BY_WORDS), key="usage_by", param="by",
                format_func=BY_WORDS.__getitem__)  # fmt: skip
top_n = url.number(right, _("Top"), key="usage_top", param="top", default=8, lo=1, hi=12,
                   help=_("The rest are grouped as “Other”."))  # fmt: skip
breakdown = None if by == "none" else by
# latency percentiles: estimated from histograms (fast at any size), or exact from the rows
PCT_WORDS = {"estimate": _("Estimated"), "exact": _("Exact")}
exact = METRICS[metric].quantile is not None and url.choice(
    st, _("Percentiles"), list(PCT_WORDS), key=worded_key("usage_pct"), param="pct",
    format_func=PCT_WORDS.__getitem__, widget="radio", horizontal=True,
    help=_("Estimated: from latency histograms, within one 20 % bucket and usually within a few per "
           "cent, as fast at any volume. Exact: from every request of the period, slower on a large "
           "database."),
) == "exact"  # fmt: skip

if exact:  # the headline's p95 as exact as the chart's
    h = cached(headline, store, f, now, exact=True)
with headline_box:
    figures(h, [
        (_("Requests"), "requests"),
        (_("Input tokens"), "input_tokens"),
        (_("Output tokens"), "output_tokens"),
        (_("Estimated cost"), "estimated_cost"),
        (_("Error rate"), "error_rate"),
        (_("p95 latency"), "p95_latency"),
    ])  # fmt: skip

label, unit = words.metric(metric), words.metric_unit(metric)
c = cached(usage_chart, store, f, now, metric, breakdown, top_n, exact=exact)


def _value(v: object) -> str:
    """A value of the chosen metric, written in its unit."""
    return {"USD": usd, "%": pct, "ms": ms}.get(METRICS[metric].unit, n)(v)


if c.trend is not None:
    chart(trend_chart(c.trend, words=words.chart_words(words.TREND_CHART), label=label, unit=unit, granularity=c.granularity, tz=f.tz),
          f"usage_{metric}", key="trend")  # fmt: skip
    st.caption(_("Bars: the metric · dashed line: 7-day moving average · red triangles: spikes against the "
                 "usual level for the same weekday and hour.") if c.granularity == "hour" else
               _("Bars: the metric · dashed line: 7-day moving average · red triangles: spikes against the "
                 "usual level for the same weekday."))  # fmt: skip
    cols = st.columns(2)
    if c.week is not None and c.week.change is not None:
        cols[0].metric(_("Last 7 days vs the 7 before (average)") if c.week.averaged else
                       _("Last 7 days vs the 7 before"), change(c.week.change) or words.UNKNOWN,
                       help=_("{last} against {before}.", last=_value(c.week.last),
                              before=_value(c.week.before)))  # fmt: skip
    fc = cached(month_forecast, store, f, now, metric, also=f"{now:%Y-%m-%d %H}")
    if fc is not None:
        cols[1].metric(_("Month-end forecast"), _value(fc.expected),
                       help=_("80 % range {low} – {high}; {so_far} so far, {days} days left",
                              low=_value(fc.low), high=_value(fc.high), so_far=_value(fc.so_far),
                              days=integer(fc.days_left)))  # fmt: skip
    for s in c.spikes:
        st.warning(words.spike(s, _value(s.value), "" if unit else METRICS[metric].unit))
else:
    shown = c.points.assign(series=[words.series_label(g, v, metric, breakdown)
                                    for g, v in zip(c.points["grp"], c.points["series"], strict=True)])  # fmt: skip
    chart(time_series(shown, words=words.chart_words(words.SERIES_CHART), label=label, unit=unit, granularity=c.granularity, tz=f.tz,
                      stacked=c.additive),
          f"usage_{metric}_by_{breakdown}", key="series")  # fmt: skip
note = words.chart_note(c.note)
if note:
    st.caption(note)

st.subheader(_("Requests behind the chart"))
if c.buckets:
    a, b, pg = st.columns([2, 2, 1])
    bucket_words = {t: words.bucket(t, c.granularity) for t in c.buckets}
    picked = a.selectbox(_("Time bucket"), c.buckets, index=len(c.buckets) - 1,
                         format_func=bucket_words.__getitem__)  # fmt: skip
    where = None
    if breakdown:
        names, dim_b = c.named, breakdown
        value_words = [_("All"), *(words.dim_value(dim_b, v) for v in names)]
        pick = b.selectbox(words.dimension(dim_b), list(range(len(names) + 1)),
                           format_func=value_words.__getitem__)  # fmt: skip
        where = {dim_b: names[pick - 1]} if pick else None
    page_no = int(pg.number_input(_("Page"), min_value=1, value=1))
    d = cached(drill_down, store, f, now, picked, c.granularity, where, page_no)
    if d.relation.differs(d.total):
        st.caption(words.bar_relation(d.relation))
    if d.total == 0:
        st.info(
            _("No request-level rows here: this period's usage comes from aggregated reports only.")
        )
    else:
        st.caption(_("{n} requests · page {page} of {pages} · newest first", n=n(d.total),
                     page=integer(d.page), pages=integer(d.pages)))  # fmt: skip
        table(d.rows, "requests", key="drill", columns={
            "ts": Col(_("Time (UTC)"), "time"), "provider": Col(_("Provider")), "model": Col(_("Model")),
            "snapshot": Col(_("Model snapshot")), "project": Col(_("Project")), "api_key": Col(_("API key")),
            "user_id": Col(_("User")), "status": Col(_("Status")), "http_status": Col(_("HTTP status"), "count"),
            "error_code": Col(_("Error code")), "latency_ms": Col(_("Latency (ms)"), "ms"),
            "input_tokens": Col(_("Input tokens"), "count"),
            "cached_input_tokens": Col(_("Cached input tokens"), "count"),
            "output_tokens": Col(_("Output tokens"), "count"), "cost_usd": Col(_("Stated cost (USD)"), "usd"),
            "request_id": Col(_("Request ID")),
        })  # fmt: skip

dim = breakdown or "model"
st.subheader(words.by_dimension(dim))
KINDS: dict[str, Kind] = {"USD": "usd", "%": "rate", "ms": "ms"}
tab = cached(breakdown_table, store, f, now, dim, exact=exact)
table(tab, f"usage_by_{dim}", key="usage_table", columns={
    dim: Col(words.dimension(dim), none=_("— : the rows name none.")),
    **{k: Col(words.metric_header(k), KINDS.get(m.unit, "count")) for k, m in METRICS.items()},
})  # fmt: skip

st.subheader(_("Busiest minute against rate limits"))
known = effective_limits(store)
if not known:
    st.caption(
        _("No rate limits known yet: they are learned from the rate-limit headers of the "
          "playground's answers (and the gateway's), or entered by an admin on the Alerts page.")
    )  # fmt: skip
else:
    uses = cached(use_of_limits, store, None, None, start, end, also=sorted(known.items()))
    rows = [{"provider": u.provider, "model": u.model, "requests": u.requests, "rpm": u.rpm,
             "requests_share": u.requests_pct, "tokens": u.tokens, "tpm": u.tpm,
             "tokens_share": u.tokens_pct, "source": words.limit_source(u.source)} for u in uses]  # fmt: skip
    table(pd.DataFrame(rows), "rate_limits", key="limits_table", columns={
        "provider": Col(_("Provider")), "model": Col(_("Model")),
        "requests": Col(_("Peak requests per minute"), "count"), "rpm": Col(_("Limit (RPM)"), "count"),
        "requests_share": Col(_("Share of the RPM limit"), "rate"),
        "tokens": Col(_("Peak tokens per minute"), "count"), "tpm": Col(_("Limit (TPM)"), "count"),
        "tokens_share": Col(_("Share of the TPM limit"), "rate"), "source": Col(_("Limit from")),
    })  # fmt: skip
    st.caption(_("The busiest minute of the period's request logs per model; a share near 100 % means "
                 "requests were close to being refused with 429."))  # fmt: skip
