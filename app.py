"""Tokenboard: the app (``streamlit run app.py``) and its first page, the Overview — the
period at a glance against the one before.

``streamlit run`` finds ``app`` below and serves it: Streamlit itself, plus the sign-in
cookie routes and middleware of ``lib.auth.web``. The server imports this file only to find
``app``; the page is drawn in script runs, where ``__name__`` is ``"__main__"``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import streamlit as st
from starlette.middleware import Middleware

from lib.analytics.overview import freshness, month_spend, spend_pair
from lib.analytics.usage import series, tops, totals_pair
from lib.auth.users import announce_setup_token
from lib.auth.web import HidePrivateEndpoints, session_routes
from lib.charts import time_series
from lib.errors import TokenboardError
from lib.filters import PRESETS
from lib.settings import monthly_budget, set_monthly_budget
from lib.summary import data_version, has_data, has_demo_data
from lib.ui.frame import page
from lib.ui.markup import md
from lib.ui.state import ensure_demo_on_first_start, load_demo_into
from lib.ui.widgets import chart, kpi_row, table, usd


def overview() -> None:
    """The Overview page."""
    ctx = page("app.py")
    store, f = ctx.store, ctx.filters
    st.title("Overview")
    start, end = f.window()
    st.caption(
        f"{PRESETS[f.preset]} · {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC · compared with the period before"
    )

    ensure_demo_on_first_start(store)
    if not has_data(store):
        st.info(
            "**No data yet.** Import your exports on the Data page (OpenAI/Anthropic usage and cost API "
            "responses, LiteLLM or Helicone logs, CSV/JSONL/Parquet exports), or load demo data to look around."
        )
        if ctx.can("import") and st.button("Load demo data", type="primary"):
            load_demo_into(store)
            st.rerun()
        st.page_link("pages/7_Data.py", label="Import your exports", icon=":material/upload:")
        st.stop()

    if has_demo_data(store):
        st.warning(
            "You are looking at **demo data** (synthetic traffic). Undo its imports on the Data page to start clean."
        )

    version = data_version(store)
    key = tuple(sorted(f.to_query().items()))

    @st.cache_data(show_spinner=False)
    def _kpis(path: str, version: str, query: tuple, start_s: int) -> tuple[dict, dict]:
        now_t, before_t = totals_pair(store, f)
        (now_t["spend"], now_t["spend_basis"]), (before_t["spend"], before_t["spend_basis"]) = (
            spend_pair(store, f)
        )
        return now_t, before_t

    cur_t, prev_t = _kpis(store.path, version, key, int(start.timestamp()))

    kpi_row(cur_t, prev_t, [
        (f"Spend (USD, {cur_t['spend_basis']})", "spend", "usd_cost"),
        ("Requests", "requests", "count"),
        ("Tokens in", "input_tokens", "count"),
        ("Tokens out", "output_tokens", "count"),
        ("Error rate", "error_rate", "rate"),
        ("p95 latency", "p95_latency", "ms"),
    ])  # fmt: skip
    st.caption(
        "Spend is billed (the providers' cost reports) where they cover a day, else estimated (tokens × prices)."
    )

    budget = monthly_budget(store)

    @st.cache_data(show_spinner=False)
    def _month(path: str, version: str, tz: str, day: str):
        return month_spend(store, tz)

    ms = _month(store.path, version, f.tz, f"{datetime.now(UTC):%Y-%m-%d}")
    st.subheader("This month")
    if budget:
        share = float(ms.usd / budget)
        st.progress(min(share, 1.0), text=f"{usd(ms.usd)} of {usd(budget)} budget ({share:.0%}, {ms.basis}) · "
                                          f"projected month end {usd(ms.projected)}")  # fmt: skip
        if ms.projected > budget:
            st.error(
                f"At this pace the month ends at {usd(ms.projected)}, over the {usd(budget)} budget."
            )
    else:
        st.write(f"Spend so far: **{usd(ms.usd)}** ({ms.basis}) · projected month end **{usd(ms.projected)}**. "
                 "No monthly budget is set.")  # fmt: skip
    if ctx.can("settings"):
        with st.expander("Monthly budget"):
            value = st.number_input("Organisation budget (USD per month)", min_value=0.0, step=100.0,
                                    value=float(budget or 0))  # fmt: skip
            if st.button("Save budget"):
                try:
                    set_monthly_budget(store, Decimal(str(value)) if value else None, ctx.user.role)
                except TokenboardError as err:
                    st.error(md(err))
                else:
                    st.rerun()

    st.subheader("Spend over time by model")

    @st.cache_data(show_spinner=False)
    def _spend_and_tops(path: str, version: str, query: tuple, start_s: int):
        return series(store, f, "estimated_cost", "model", top_n=8), tops(
            store, f, ("model", "project", "api_key")
        )

    df, top_lists = _spend_and_tops(store.path, version, key, int(start.timestamp()))
    if df.empty:
        st.info(f.empty_hint())
    else:
        chart(time_series(df, label="Estimated cost", unit="USD", granularity=f.granularity, tz=f.tz),
              "spend_by_model", key="spend_chart")  # fmt: skip
        cols = st.columns(3)
        for col, dim, title in zip(cols, ("model", "project", "api_key"), ("Top models", "Top projects", "Top API keys"),
                                   strict=True):  # fmt: skip
            with col:
                st.markdown(f"**{title}**")
                top = top_lists[dim]
                top.columns = [
                    title.split()[1].rstrip("s").capitalize(),
                    "Est. cost (USD)",
                    "Requests",
                ]
                st.dataframe(top, hide_index=True, width="stretch")

    st.subheader("Data freshness")
    table(freshness(store), "data_freshness", key="fresh")


if __name__ == "__main__":
    overview()
else:  # imported by the server, once, at start
    announce_setup_token()
    app = st.App(__file__, routes=session_routes(), middleware=[Middleware(HidePrivateEndpoints)])
