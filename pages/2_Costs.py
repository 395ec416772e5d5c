"""Costs: the bill against the estimate, unit costs, savings from batch and caching, what-if."""

from __future__ import annotations

import streamlit as st

from lib.analytics.costs import (
    billed_other_currencies,
    by_line_item,
    by_model,
    costs_view,
    not_counted,
)
from lib.analytics.savings import (
    priced_models,
    savings_by_model,
    savings_totals,
    unit_costs,
    unit_totals,
    what_if,
    what_if_sources,
    what_if_targets,
)
from lib.charts import billed_vs_estimated
from lib.ui import url, words
from lib.ui.frame import page
from lib.ui.markup import md
from lib.ui.state import cached
from lib.ui.widgets import Col, amount, chart, n, table, usd, usd_exact

ctx = page("pages/2_Costs.py")
store, f, now = ctx.store, ctx.filters, ctx.now
st.title("Costs")
st.caption(
    "Billed = what the providers' cost reports say (what the invoice says). Estimated = tokens of the "
    "counted usage × the price catalog in force that day. Cost reports are daily in UTC."
)

other = cached(billed_other_currencies, store, f, now)
if other:  # each currency apart: never converted, never added to the USD figures below
    st.caption("Billed in other currencies (not converted, not in any USD figure on this page): "
               + ", ".join(md(amount(t.billed, t.currency)) for t in other))  # fmt: skip
view = cached(costs_view, store, f, now)
if view.empty:
    st.info("No costs or usage in this period. Cost reports are daily (UTC): choose a period of a few days, "
            "or import cost reports (OpenAI Costs API, Anthropic cost report) and usage on the Data page.")  # fmt: skip
    st.stop()

t = view.totals
c = st.columns(4)
c[0].metric(f"Spend (USD, {words.bases(t.bases)})", usd(t.spend),
            help="Per provider and day: billed where a cost report covers the day, else the cost the usage "
                 "states (a log's or an export's cost column), else estimated.")  # fmt: skip
c[1].metric(
    "Billed (USD)",
    usd(t.billed),
    help=f"Exactly {usd_exact(t.billed)}." if t.billed is not None else None,
)
c[2].metric("Estimated (USD)", usd(t.estimated),
            help=f"Exactly {usd_exact(t.estimated)}." if t.estimated is not None else None)  # fmt: skip
c[3].metric("Gap (billed − estimated, USD)", usd(t.gap),
            help="Known when both a bill and an estimate exist in the period.")  # fmt: skip

left = cached(not_counted, store, f, now)
TABS = {"days": "Bill and estimate", "models": "Per model", "items": "Per line item",
        "left": "Not counted", "units": "Unit costs", "savings": "Savings", "whatif": "What if"}  # fmt: skip
tab, tabs = url.tabs(TABS, key="costs_tab")

if tab == "days":
    with tabs["days"]:
        st.subheader("Per day")
        chart(
            billed_vs_estimated(view.per_day, words.BILL_CHART),
            "billed_vs_estimated",
            key="cost_chart",
        )
        if view.reasons:
            st.subheader("Why they differ")
            for why in view.reasons:
                st.write(f"- **{md(why.provider)}**: {words.cost_note(why.note)} — {n(why.days)} "
                         f"day{'s' if why.days != 1 else ''}")  # fmt: skip
        if not left.empty:
            st.info("Some rows of your imports in this period are left out of the totals, so that the same "
                    "traffic or money is never added twice: the **Not counted** tab says which and why.")  # fmt: skip
        st.subheader("Per day and provider")
        table(view.daily.assign(note=view.daily["note"].map(words.cost_note)), "costs_by_day", key="by_day",
              columns={"day": Col("Day (UTC)", "day"), "provider": Col("Provider"),
                       "billed": Col("Billed (USD)", "usd", none="— : no cost report covers the day."),
                       "stated": Col("Stated (USD)", "usd", none="— : the usage states no cost."),
                       "estimated": Col("Estimated (USD)", "usd", none="— : no priced usage."),
                       "note": Col("Note")})  # fmt: skip

if tab == "models":
    with tabs["models"]:
        st.subheader("Per model")
        table(cached(by_model, store, f, now), "costs_by_model", key="by_model", columns={
            "model": Col("Model", none="— : usage naming no model, or bill lines not itemised by model."),
            "billed": Col("Billed (USD)", "usd"), "estimated": Col("Estimated (USD)", "usd"),
            "tokens": Col("Tokens", "count"),
        })  # fmt: skip

if tab == "items":
    with tabs["items"]:
        st.subheader("Per line item")
        table(cached(by_line_item, store, f, now), "costs_by_line_item", key="by_li", columns={
            "provider": Col("Provider"), "line_item": Col("Line item", none="— : the line names none."),
            "billed": Col("Billed (USD)", "usd"),
        })  # fmt: skip

if tab == "left":
    with tabs["left"]:
        st.subheader("Not counted, and why")
        if left.empty:
            st.info("Every imported row of this period is counted.")
        else:
            st.caption("Rows of your imports in this period that the totals leave out, so that the same traffic or "
                       "money is never added twice.")  # fmt: skip
            reasons = [words.not_counted(r, b, bool(q)) for r, b, q in
                       zip(left["reason"], left["counted_by"], left["requests_counted"], strict=True)]  # fmt: skip
            table(left.assign(reason=reasons), "not_counted", key="not_counted", columns={
                "import_id": Col("Import", "count"), "file_name": Col("File"), "provider": Col("Provider"),
                "reason": Col("Not counted"), "days": Col("Days", "count"), "rows": Col("Rows", "count"),
                "tokens": Col("Tokens", "count"), "stated_usd": Col("Stated cost (USD)", "usd"),
            })  # fmt: skip

if tab == "units":
    with tabs["units"]:
        st.subheader("Unit costs")
        st.caption("Estimated USD over the period divided by the counted requests, tokens (input + output) and "
                   "active users (users seen in the logs).")  # fmt: skip
        units = cached(unit_costs, store, f, now)
        u = unit_totals(units)
        m = st.columns(3)
        m[0].metric("Per 1K requests (USD)", usd(u.per_1k_requests),
                    help=f"Over the {usd(u.requests_scope)} of spend whose requests are counted (of "
                         f"{usd(u.estimated)}): usage reports without a request count (Anthropic) and no "
                         "request logs for those days." if u.partial_scope else None)  # fmt: skip
        m[1].metric("Per 1M tokens (USD)", usd(u.per_1m_tokens))
        m[2].metric("Per active user (USD)", usd(u.per_user), help=f"{n(u.users)} active users")
        model_names = [("All models" if total else name) for total, name in
                       zip(units["total"], units["model"], strict=True)]  # fmt: skip
        table(units.assign(model=model_names), "unit_costs", key="units", columns={
            "model": Col("Model", none="— : traffic naming no model."), "estimated": Col("Estimated (USD)", "usd"),
            "requests": Col("Requests", "count"), "tokens": Col("Tokens", "count"),
            "users": Col("Active users", "count"), "per_1k_requests": Col("USD per 1K requests", "usd"),
            "per_1m_tokens": Col("USD per 1M tokens", "usd"), "per_user": Col("USD per user", "usd"),
            "requests_scope_usd": Col("USD with counted requests", "usd"),
        })  # fmt: skip

SAVINGS_COLS = {
    "model": Col("Model", none="— : traffic naming no model."), "requests": Col("Requests", "count"),
    "estimated": Col("Estimated (USD)", "usd"), "saved_batch": Col("Saved by batch (USD)", "usd"),
    "saved_cache": Col("Saved by caching (USD)", "usd"), "could_batch": Col("Possible with batch (USD)", "usd"),
    "could_cache": Col("Possible with caching (USD)", "usd"),
}  # fmt: skip

if tab == "savings":
    with tabs["savings"]:
        st.subheader("Savings from batch and caching")
        saved = cached(savings_by_model, store, f, now)
        s = savings_totals(saved)
        sv = st.columns(4)
        sv[0].metric("Saved by the batch API (USD)", usd(s.saved_batch))
        sv[1].metric("Saved by cache reads (USD)", usd(s.saved_cache))
        sv[2].metric("Possible with batch, at most (USD)", usd(s.could_batch),
                     help="If every request not already batched went through the batch API (answers within 24 h).")  # fmt: skip
        sv[3].metric("Possible with caching, at most (USD)", usd(s.could_cache),
                     help="If every uncached input token were read from the prompt cache (before cache-write charges).")  # fmt: skip
        st.caption("Upper bounds: only traffic that can wait suits the batch API, and only repeated prompt "
                   "prefixes can be cached. Estimates over the period, at catalog prices.")  # fmt: skip
        table(saved, "savings", key="savings", columns=SAVINGS_COLS)

if tab == "whatif":
    with tabs["whatif"]:
        st.subheader("What if")
        sources = what_if_sources(cached(savings_by_model, store, f, now))
        if not sources:
            st.info(words.what_if_problem("nothing_to_move"))
        else:
            w1, w2, w3 = st.columns([2, 2, 2])
            src = url.choice(w1, "Move traffic of", sources, key="wi_source", param="move")
            targets = what_if_targets(cached(priced_models, store, None, None), src)
            dst = url.choice(w2, "To", targets, key="wi_target", param="into")
            share = url.number(w3, "Share of its traffic (%)", key="wi_share", param="share", default=50,
                               lo=0, hi=100, widget="slider", step=5)  # fmt: skip
            out = cached(what_if, store, f, now, src, dst, share, also=f"{now:%Y-%m-%d}")
            wi = out.result
            if wi is None:
                st.warning(words.what_if_problem(out.problem or "", out.model))
            else:
                r = st.columns(3)
                r[0].metric("Monthly cost now (USD)", usd(wi.current_monthly))
                r[1].metric("Monthly cost after (USD)", usd(wi.new_monthly),
                            usd(wi.change) if wi.change else None, delta_color="inverse")  # fmt: skip
                r[2].metric(
                    f"{share} % of {src} (USD per month)",
                    f"{usd(wi.moved_before)} → {usd(wi.moved_after)}",
                )
                st.caption(f"The moved traffic keeps its token mix (input, cached input, cache writes, output, "
                           f"batch share) and is priced at {md(dst)}'s price in force since {wi.target_price_from}. "
                           f"Monthly = the period's {n(wi.days)} day{'s' if wi.days != 1 else ''} of traffic scaled "
                           f"to 30.4 days. Answers, quality and latency will differ: try both in the Playground.")  # fmt: skip
