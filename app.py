"""Tokenboard: the app (``streamlit run app.py``) and its first page, the Overview — the
period at a glance against the one before.

``streamlit run`` finds ``app`` below and serves it: Streamlit itself, plus the sign-in
cookie routes and middleware of ``lib.auth.web``. The server imports this file only to find
``app``; the page is drawn in script runs, where ``__name__`` is ``"__main__"``."""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from lib.analytics.overview import budget_status, freshness, headline, parse_budget
from lib.analytics.usage import series, tops
from lib.auth.users import announce_setup_token
from lib.auth.web import HidePrivateEndpoints, session_routes
from lib.charts import time_series
from lib.errors import TokenboardError
from lib.ingest.ledger import has_data, has_demo_data
from lib.settings import set_monthly_budget
from lib.ui import url, words
from lib.ui.alerts_ui import overview_top
from lib.ui.frame import page
from lib.ui.i18n import N_, _, percent
from lib.ui.markup import md
from lib.ui.state import cached, ensure_demo_on_first_start, load_demo_into
from lib.ui.widgets import Col, chart, figures, table, usd

DATA_PAGE = "pages/7_Data.py"
TOPS = {"model": N_("Top models"), "project": N_("Top projects"), "api_key": N_("Top API keys")}


def overview() -> None:
    """The Overview page."""
    ctx = page("app.py")
    store, f, now = ctx.store, ctx.filters, ctx.now
    st.title(_("Overview"))
    start, end = f.window(now)
    st.caption(
        _("{period} · {start} → {end} UTC · compared with the period before",
          period=words.preset(f.preset), start=f"{start:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}")
    )  # fmt: skip

    ensure_demo_on_first_start(store)
    overview_top(store, now)  # open alerts, service notices, prepaid credit
    if not has_data(store):
        st.info(_(
            "**No data yet.** Import your exports on the Data page (OpenAI/Anthropic usage and cost API "
            "responses, LiteLLM or Helicone logs, CSV/JSONL/Parquet exports), or load demo data to look around."
        ))  # fmt: skip
        if ctx.can("import") and st.button(_("Load demo data"), type="primary"):
            load_demo_into(store)
            st.rerun()
        st.page_link(DATA_PAGE, label=_("Import your exports"), icon=":material/upload:")
        st.stop()

    if has_demo_data(store):
        st.warning(_(
            "You are looking at **demo data** (synthetic traffic). Undo its imports on the Data page to start clean."
        ))  # fmt: skip

    h = cached(headline, store, f, now)
    figures(h, [
        (_("Spend (USD, {bases})", bases=words.bases(h.bases)), "spend"),
        (_("Requests"), "requests"),
        (_("Tokens in"), "input_tokens"),
        (_("Tokens out"), "output_tokens"),
        (_("Error rate"), "error_rate"),
        (_("p95 latency"), "p95_latency"),
    ], helps={"spend": _("Per provider and day: billed where a cost report covers the day, else the "
                         "cost the usage states, else estimated (tokens × prices).")})  # fmt: skip
    st.caption(_(
        "Spend is billed (the providers' cost reports) where they cover a day, else estimated (tokens × prices). "
        "Changes are against the previous period of the same length."
    ))  # fmt: skip

    b = cached(budget_status, store, None, None, f.tz, now)
    st.subheader(_("This month"))
    ms = b.month
    if b.budget:
        st.progress(min(b.share or 0.0, 1.0), text=_(
            "{spent} of {budget} budget ({share}, {bases}) · projected month end {projected}",
            spent=usd(ms.usd), budget=usd(b.budget), share=percent(b.share, 0), bases=words.bases(ms.bases),
            projected=usd(ms.projected)))  # fmt: skip
        if b.over:
            st.error(_("At this pace the month ends at {projected}, over the {budget} budget.",
                       projected=usd(ms.projected), budget=usd(b.budget)))  # fmt: skip
    else:
        st.write(_("Spend so far: **{spent}** ({bases}) · projected month end **{projected}**. "
                   "No monthly budget is set.", spent=usd(ms.usd), bases=words.bases(ms.bases),
                   projected=usd(ms.projected)))  # fmt: skip
    if ctx.can("settings"):
        with st.expander(_("Monthly budget")):
            value = st.text_input(_("Organisation budget (USD per month)"), value=str(b.budget or ""),
                                  placeholder="5000", help=_("Dollars; empty or 0 for no budget."))  # fmt: skip
            if st.button(_("Save budget")):
                try:
                    set_monthly_budget(
                        store, parse_budget(value), ctx.user.role, actor=ctx.user.username
                    )
                except TokenboardError as err:
                    st.error(md(err))
                else:
                    st.rerun()

    st.subheader(_("Spend over time by model"))
    points = cached(series, store, f, now, "estimated_cost", "model", top_n=8)
    if points.empty:
        st.info(words.empty(f.empty_reason(now)))
    else:
        shown = points.assign(series=[words.series_label(g, v, "estimated_cost", "model")
                                      for g, v in zip(points["grp"], points["series"], strict=True)])  # fmt: skip
        chart(time_series(shown, words=words.chart_words(words.SERIES_CHART), label=_("Estimated cost"), unit="USD", granularity=f.granularity, tz=f.tz),
              "spend_by_model", key="spend_chart")  # fmt: skip
        top_lists = cached(tops, store, f, now, tuple(TOPS))
        shown_top, boxes = url.tabs(
            {k: _(v) for k, v in TOPS.items()}, key="overview_tops", param="tops"
        )
        with boxes[shown_top]:
            table(top_lists[shown_top], f"top_{shown_top}", key=f"top_{shown_top}", columns={
                shown_top: Col(words.dimension(shown_top), none=_("— : the rows name none.")),
                "estimated_cost": Col(_("Estimated cost (USD)"), "usd"),
                "requests": Col(_("Requests"), "count"),
            })  # fmt: skip

    st.subheader(_("Data freshness"))
    fresh = cached(freshness, store, None, None)
    table(fresh.assign(grain=fresh["grain"].map(words.grain)), "data_freshness", key="fresh", columns={
        "source": Col(_("Source")),
        "grain": Col(_("Kind")),
        "data_to": Col(_("Data up to (UTC)"), "time"),
        "imported": Col(_("Last import (UTC)"), "time"),
        "imports": Col(_("Imports"), "count"),
    })  # fmt: skip


if __name__ == "__main__":
    overview()
else:  # imported by the server, once, at start
    announce_setup_token()
    app = st.App(__file__, routes=session_routes(), middleware=[Middleware(HidePrivateEndpoints)])
