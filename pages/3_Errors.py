"""Errors: what failed and why, grouped by likeness, each group with its fix; the recent rows;
the error rate over time by class or by code."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.analytics.errors import ErrorQuery, error_codes, error_groups, error_rates, recent_errors
from lib.charts import daily_bars, time_series
from lib.error_kb import STATUS_CLASSES
from lib.ui import url, words
from lib.ui.frame import page
from lib.ui.i18n import _, day, integer, moment, n_, percent, seconds
from lib.ui.markup import md
from lib.ui.state import cached
from lib.ui.widgets import chart

ctx = page("pages/3_Errors.py")
store, f, now = ctx.store, ctx.filters, ctx.now
st.title(_("Errors"))
start, end = f.window(now)
st.caption(words.period_line(f.preset, start, end, f.tz))

left, right = st.columns(2)
classes = url.many(left, _("Kind of error"), list(STATUS_CLASSES), key="err_class", param="class",
                   format_func=words.status_class, placeholder=_("All"))  # fmt: skip
codes_seen = cached(error_codes, store, f, now, ErrorQuery.of(classes))
code_words = {c or "": f"{c or _('(no code)')} · {integer(k)}" for c, k in codes_seen}
codes = url.many(right, _("Error code"), [c for c in code_words if c], key="err_code", param="code",
                 format_func=code_words.__getitem__, placeholder=_("All"))  # fmt: skip
q = ErrorQuery.of(classes, codes)

groups = cached(error_groups, store, f, now, q)
if groups.errors == 0:
    st.info(
        _("No errors in this period under these filters. Errors come from request logs (LiteLLM, "
          "Helicone, Langfuse, the gateway) and playground runs: import one on the Data page, or "
          "widen the period.")
    )  # fmt: skip
    st.stop()

rates = cached(error_rates, store, f, now, q, by="class")
total_requests = sum(rates.requests)
c = st.columns(3)
c[0].metric(_("Errors"), integer(groups.errors))
c[1].metric(
    _("Error rate"),
    percent(groups.errors / total_requests) if total_requests else "—",
    help=_("Errors of these kinds and codes out of every request of the period."),
)
c[2].metric(_("Kinds of error"), integer(groups.total_groups),
            help=_("Errors whose messages differ only by ids, numbers or quoted values count as one kind."))  # fmt: skip

tab, boxes = url.tabs(
    {"groups": _("Grouped, with fixes"), "recent": _("Recent errors"), "rate": _("Over time")},
    key="err_tab",
)

if tab == "groups":
    with boxes["groups"]:
        shown = len(groups.groups)
        if shown < groups.total_groups:
            st.caption(
                n_("The largest kind of error of {total}.", "The {n} largest kinds of error of {total}.",
                   shown, total=integer(groups.total_groups))
            )  # fmt: skip
        day_words = [day(d, "short") for d in groups.days]
        for i, g in enumerate(groups.groups):
            a = g.advice
            title = _(a.title) if a else _("Unexplained error")
            head = _("{title} · {n} · last {last}", title=title, n=integer(g.count),
                     last=moment(g.last_seen, tz=f.tz))  # fmt: skip
            with st.expander(head, expanded=i < 3):
                cols = st.columns([3, 2])
                with cols[0]:
                    if a:
                        st.markdown(_("**What it means:** {text}", text=_(a.meaning)))
                        st.markdown(_("**How to fix it:** {text}", text=_(a.fix)))
                        st.markdown(
                            _("**Retrying helps.**")
                            if a.retry
                            else _("**Retrying does not help.**")
                        )
                        if a.doc_url:
                            st.markdown(_("[The provider's documentation]({url})", url=a.doc_url))
                    if g.sample:
                        st.caption(_("Latest message"))
                        st.code(g.sample[:600], language=None, wrap_lines=True)
                with cols[1]:
                    status = str(g.http_status) if g.http_status is not None else "—"
                    st.markdown(
                        _("**{kind}** · HTTP {status} · code {code}", kind=words.status_class(g.status_class),
                          status=status, code=md(g.error_code or "—"))
                    )  # fmt: skip
                    st.caption(_("First seen {first} · last seen {last}", first=moment(g.first_seen, tz=f.tz),
                                 last=moment(g.last_seen, tz=f.tz)))  # fmt: skip
                    if g.retry_after_n:
                        st.caption(n_("Retry-After on {n} error of {count}: wait {wait} (median)",
                                      "Retry-After on {n} errors of {count}: wait {wait} (median)",
                                      g.retry_after_n, count=integer(g.count),
                                      wait=seconds((g.retry_after_ms or 0) / 1000, 1)))  # fmt: skip
                    st.altair_chart(
                        daily_bars(day_words, g.trend, _("Errors per day")), width="stretch"
                    )

                    def _tops(label: str, count: int, tops: list) -> None:
                        names = ", ".join(
                            f"{md(s.value or '—')} ({integer(s.count)})" for s in tops
                        )
                        st.markdown(
                            _(
                                "**{label}** ({n}): {names}",
                                label=label,
                                n=integer(count),
                                names=names,
                            )
                        )

                    _tops(_("Models"), g.models, g.top_models)
                    _tops(_("API keys"), g.keys, g.top_keys)
                    _tops(_("Projects"), g.projects, g.top_projects)

if tab == "recent":
    with boxes["recent"]:
        pg = url.number(
            st, _("Page"), key="err_page", param="page", default=1, lo=1, hi=100000, width=160
        )
        res = cached(recent_errors, store, f, now, q, page=pg)
        st.caption(_("Page {page} of {pages} · {n} errors, newest first", page=integer(res.page),
                     pages=integer(res.pages), n=integer(res.total)))  # fmt: skip
        df = pd.DataFrame(
            [
                {
                    "ts": r.ts,
                    "kind": words.status_class(r.status_class),
                    "error_code": r.error_code,
                    "message": (r.message or "")[:300],
                    "model": r.snapshot or r.model,
                    "project": r.project,
                    "api_key": r.api_key,
                    "user_id": r.user_id,
                    "provider": r.provider,
                    "http_status": r.http_status,
                }
                for r in res.rows
            ]
        )
        st.dataframe(
            df,
            hide_index=True,
            width="stretch",
            column_config={
                "ts": st.column_config.DatetimeColumn(
                    _("Time (UTC)"), format="YYYY-MM-DD HH:mm:ss"
                ),
                "provider": _("Provider"),
                "model": _("Model"),
                "project": _("Project"),
                "api_key": _("API key"),
                "user_id": _("User"),
                "kind": _("Kind of error"),
                "http_status": st.column_config.NumberColumn(_("HTTP status"), format="%d"),
                "error_code": _("Error code"),
                "message": st.column_config.TextColumn(_("Message"), width="large"),
            },
            placeholder=words.UNKNOWN,
        )

if tab == "rate":
    with boxes["rate"]:
        by = url.choice(st, _("By"), ["class", "code"], key="err_by", param="by",
                        format_func={"class": _("Kind of error"), "code": _("Error code")}.__getitem__,
                        widget="segmented_control", required=True)  # fmt: skip
        r = rates if by == "class" else cached(error_rates, store, f, now, q, by="code")
        rows = []
        for s in r.series:
            name = (
                words.status_class(s.key or "unknown")
                if by == "class"
                else (s.key or _("(no code)"))
            )
            if s.other:
                name = _("Other codes")
            rows += [{"bucket": b, "series": name, "value": v, "grp": "other" if s.other else ""}
                     for b, v in zip(r.buckets, r.rate(s), strict=True)]  # fmt: skip
        if rows:
            df = pd.DataFrame(rows)
            rate_chart = time_series(df, label=_("Error rate"), unit="%", granularity=r.granularity, tz=f.tz,
                            words=words.chart_words(words.SERIES_CHART), stacked=False)  # fmt: skip
            chart(rate_chart, "error_rate", key="err_rate_chart")
            st.caption(_("Errors as a share of all requests in each bucket; 429s are split into rate "
                         "limits, quotas or spend limits, and an overloaded provider."))  # fmt: skip
