"""Costs: the bill against the estimate, unit costs, savings from batch and caching, what-if."""

from __future__ import annotations

from datetime import date

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
from lib.ui.i18n import N_, _, day, n_, number, percent
from lib.ui.markup import md
from lib.ui.state import cached
from lib.ui.widgets import Col, amount, chart, n, table, usd, usd_exact

ctx = page("pages/2_Costs.py")
store, f, now = ctx.store, ctx.filters, ctx.now
st.title(_("Costs"))
st.caption(_(
    "Billed = what the providers' cost reports say (what the invoice says). Estimated = tokens of the "
    "counted usage × the price catalog in force that day. Cost reports are daily in UTC."
))  # fmt: skip

other = cached(billed_other_currencies, store, f, now)
if other:  # each currency apart: never converted, never added to the USD figures below
    st.caption(_("Billed in other currencies (not converted, not in any USD figure on this page): {amounts}",
                 amounts=", ".join(md(amount(t.billed, t.currency)) for t in other)))  # fmt: skip
view = cached(costs_view, store, f, now)
if view.empty:
    st.info(_("No costs or usage in this period. Cost reports are daily (UTC): choose a period of a few days, "
              "or import cost reports (OpenAI Costs API, Anthropic cost report) and usage on the Data page."))  # fmt: skip
    st.stop()

t = view.totals
c = st.columns(4)
c[0].metric(_("Spend (USD, {bases})", bases=words.bases(t.bases)), usd(t.spend),
            help=_("Per provider and day: billed where a cost report covers the day, else the cost the usage "
                   "states (a log's or an export's cost column), else estimated."))  # fmt: skip
c[1].metric(_("Billed (USD)"), usd(t.billed),
            help=_("Exactly {value}.", value=usd_exact(t.billed)) if t.billed is not None else None)  # fmt: skip
c[2].metric(_("Estimated (USD)"), usd(t.estimated),
            help=_("Exactly {value}.", value=usd_exact(t.estimated)) if t.estimated is not None else None)  # fmt: skip
c[3].metric(_("Gap (billed − estimated, USD)"), usd(t.gap),
            help=_("Known when both a bill and an estimate exist in the period."))  # fmt: skip

left = cached(not_counted, store, f, now)
TABS = {"days": N_("Bill and estimate"), "models": N_("Per model"), "items": N_("Per line item"),
        "left": N_("Not counted"), "units": N_("Unit costs"), "savings": N_("Savings"), "whatif": N_("What if")}  # fmt: skip
tab, tabs = url.tabs({k: _(v) for k, v in TABS.items()}, key="costs_tab")

if tab == "days":
    with tabs["days"]:
        st.subheader(_("Per day"))
        chart(
            billed_vs_estimated(view.per_day, words.chart_words(words.BILL_CHART)),
            "billed_vs_estimated",
            key="cost_chart",
        )
        if view.reasons:
            st.subheader(_("Why they differ"))
            for why in view.reasons:
                st.write(n_("- **{provider}**: {note} — {n} day", "- **{provider}**: {note} — {n} days", why.days,
                            provider=md(why.provider), note=words.cost_note(why.note)))  # fmt: skip
        if not left.empty:
            st.info(_("Some rows of your imports in this period are left out of the totals, so that the same "
                      "traffic or money is never added twice: the **Not counted** tab says which and why."))  # fmt: skip
        st.subheader(_("Per day and provider"))
        table(view.daily.assign(note=view.daily["note"].map(words.cost_note)), "costs_by_day", key="by_day",
              columns={"day": Col(_("Day (UTC)"), "day"), "provider": Col(_("Provider")),
                       "billed": Col(_("Billed (USD)"), "usd", none=_("— : no cost report covers the day.")),
                       "stated": Col(_("Stated (USD)"), "usd", none=_("— : the usage states no cost.")),
                       "estimated": Col(_("Estimated (USD)"), "usd", none=_("— : no priced usage.")),
                       "note": Col(_("Note"))})  # fmt: skip

if tab == "models":
    with tabs["models"]:
        st.subheader(_("Per model"))
        table(cached(by_model, store, f, now), "costs_by_model", key="by_model", columns={
            "model": Col(_("Model"), none=_("— : usage naming no model, or bill lines not itemised by model.")),
            "billed": Col(_("Billed (USD)"), "usd"), "estimated": Col(_("Estimated (USD)"), "usd"),
            "tokens": Col(_("Tokens"), "count"),
        })  # fmt: skip

if tab == "items":
    with tabs["items"]:
        st.subheader(_("Per line item"))
        table(cached(by_line_item, store, f, now), "costs_by_line_item", key="by_li", columns={
            "provider": Col(_("Provider")), "line_item": Col(_("Line item"), none=_("— : the line names none.")),
            "billed": Col(_("Billed (USD)"), "usd"),
        })  # fmt: skip

if tab == "left":
    with tabs["left"]:
        st.subheader(_("Not counted, and why"))
        if left.empty:
            st.info(_("Every imported row of this period is counted."))
        else:
            st.caption(_("Rows of your imports in this period that the totals leave out, so that the same traffic or "
                         "money is never added twice."))  # fmt: skip
            reasons = [words.not_counted(r, b, bool(q)) for r, b, q in
                       zip(left["reason"], left["counted_by"], left["requests_counted"], strict=True)]  # fmt: skip
            table(left.assign(reason=reasons), "not_counted", key="not_counted", columns={
                "import_id": Col(_("Import #"), "count"), "file_name": Col(_("File")), "provider": Col(_("Provider")),
                "reason": Col(_("Not counted")), "days": Col(_("Days"), "count"), "rows": Col(_("Rows"), "count"),
                "tokens": Col(_("Tokens"), "count"), "stated_usd": Col(_("Stated cost (USD)"), "usd"),
            })  # fmt: skip

if tab == "units":
    with tabs["units"]:
        st.subheader(_("Unit costs"))
        st.caption(_("Estimated USD over the period divided by the counted requests, tokens (input + output) and "
                     "active users (users seen in the logs)."))  # fmt: skip
        units = cached(unit_costs, store, f, now)
        u = unit_totals(units)
        m = st.columns(3)
        m[0].metric(_("Per 1K requests (USD)"), usd(u.per_1k_requests),
                    help=_("Over the {scope} of spend whose requests are counted (of {total}): usage reports "
                           "without a request count (Anthropic) and no request logs for those days.",
                           scope=usd(u.requests_scope), total=usd(u.estimated)) if u.partial_scope else None)  # fmt: skip
        m[1].metric(_("Per 1M tokens (USD)"), usd(u.per_1m_tokens))
        m[2].metric(_("Per active user (USD)"), usd(u.per_user),
                    help=n_("{n} active user", "{n} active users", int(u.users or 0), n=n(u.users)))  # fmt: skip
        all_models = _("All models")
        model_names = [(all_models if total else name) for total, name in
                       zip(units["total"], units["model"], strict=True)]  # fmt: skip
        table(units.assign(model=model_names), "unit_costs", key="units", columns={
            "model": Col(_("Model"), none=_("— : traffic naming no model.")),
            "estimated": Col(_("Estimated (USD)"), "usd"),
            "requests": Col(_("Requests"), "count"), "tokens": Col(_("Tokens"), "count"),
            "users": Col(_("Active users"), "count"), "per_1k_requests": Col(_("USD per 1K requests"), "usd"),
            "per_1m_tokens": Col(_("USD per 1M tokens"), "usd"), "per_user": Col(_("USD per user"), "usd"),
            "requests_scope_usd": Col(_("USD with counted requests"), "usd"),
        })  # fmt: skip

SAVINGS_COLS = {
    "model": Col(_("Model"), none=_("— : traffic naming no model.")), "requests": Col(_("Requests"), "count"),
    "estimated": Col(_("Estimated (USD)"), "usd"), "saved_batch": Col(_("Saved by batch (USD)"), "usd"),
    "saved_cache": Col(_("Saved by caching (USD)"), "usd"), "could_batch": Col(_("Possible with batch (USD)"), "usd"),
    "could_cache": Col(_("Possible with caching (USD)"), "usd"),
}  # fmt: skip

if tab == "savings":
    with tabs["savings"]:
        st.subheader(_("Savings from batch and caching"))
        saved = cached(savings_by_model, store, f, now)
        s = savings_totals(saved)
        sv = st.columns(4)
        sv[0].metric(_("Saved by the batch API (USD)"), usd(s.saved_batch))
        sv[1].metric(_("Saved by cache reads (USD)"), usd(s.saved_cache))
        sv[2].metric(_("Possible with batch, at most (USD)"), usd(s.could_batch),
                     help=_("If every request not already batched went through the batch API (answers within 24 h)."))  # fmt: skip
        sv[3].metric(_("Possible with caching, at most (USD)"), usd(s.could_cache),
                     help=_("If every uncached input token were read from the prompt cache (before cache-write charges)."))  # fmt: skip
        st.caption(_("Upper bounds: only traffic that can wait suits the batch API, and only repeated prompt "
                     "prefixes can be cached. Estimates over the period, at catalog prices."))  # fmt: skip
        table(saved, "savings", key="savings", columns=SAVINGS_COLS)

if tab == "whatif":
    with tabs["whatif"]:
        st.subheader(_("What if"))
        sources = what_if_sources(cached(savings_by_model, store, f, now))
        if not sources:
            st.info(words.what_if_problem("nothing_to_move"))
        else:
            w1, w2, w3 = st.columns([2, 2, 2])
            src = url.choice(w1, _("Move traffic of"), sources, key="wi_source", param="move")
            targets = what_if_targets(cached(priced_models, store, None, None), src)
            dst = url.choice(w2, _("To"), targets, key="wi_target", param="into")
            share = url.number(w3, _("Share of its traffic (%)"), key="wi_share", param="share", default=50,
                               lo=0, hi=100, widget="slider", step=5)  # fmt: skip
            out = cached(what_if, store, f, now, src, dst, share, also=f"{now:%Y-%m-%d}")
            wi = out.result
            if wi is None:
                st.warning(words.what_if_problem(out.problem or "", out.model))
            else:
                r = st.columns(3)
                r[0].metric(_("Monthly cost now (USD)"), usd(wi.current_monthly))
                r[1].metric(_("Monthly cost after (USD)"), usd(wi.new_monthly),
                            usd(wi.change) if wi.change else None, delta_color="inverse")  # fmt: skip
                r[2].metric(
                    _(
                        "{share} of {model} (USD per month)",
                        share=percent(share / 100, 0),
                        model=src,
                    ),
                    f"{usd(wi.moved_before)} → {usd(wi.moved_after)}",
                )
                st.caption(n_("The moved traffic keeps its token mix (input, cached input, cache writes, output, "
                              "batch share) and is priced at {model}'s price in force since {since}. Monthly = the "
                              "period's {n} day of traffic scaled to {month} days. Answers, quality and latency will "
                              "differ: try both in the Playground.",
                              "The moved traffic keeps its token mix (input, cached input, cache writes, output, "
                              "batch share) and is priced at {model}'s price in force since {since}. Monthly = the "
                              "period's {n} days of traffic scaled to {month} days. Answers, quality and latency will "
                              "differ: try both in the Playground.",
                              int(wi.days), model=md(dst), since=day(date.fromisoformat(wi.target_price_from)), month=number(30.4, 1)))  # fmt: skip
