"""Costs: the bill against the estimate, unit costs, savings from batch and caching, what-if."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.analytics.costs import billed_other_currencies, by_line_item, by_model, daily, not_counted
from lib.analytics.overview import spend_of
from lib.analytics.savings import priced_models, reprice, savings_by_model, unit_costs
from lib.charts import billed_vs_estimated
from lib.errors import NotFoundError
from lib.money import money_str
from lib.summary import data_version
from lib.ui.frame import page
from lib.ui.markup import md
from lib.ui.widgets import chart, n, table, usd

ctx = page("pages/2_Costs.py")
f = ctx.filters
st.title("Costs")
st.caption(
    "Billed = what the providers' cost reports say (what the invoice says). Estimated = tokens of the "
    "counted usage × the price catalog in force that day. Cost reports are daily in UTC."
)

version = data_version(ctx.store)
key = tuple(sorted(f.to_query().items()))
start_s = int(f.window()[0].timestamp())


@st.cache_data(show_spinner=False)
def _costs(path: str, version: str, query: tuple, start_s: int):
    """Every table of the page, cached per filters and data version."""
    return (daily(ctx.store, f), by_model(ctx.store, f), by_line_item(ctx.store, f),
            savings_by_model(ctx.store, f), unit_costs(ctx.store, f), not_counted(ctx.store, f))  # fmt: skip


d, models, items, saved, units, left = _costs(ctx.store.path, version, key, start_s)


@st.cache_data(show_spinner=False)
def _other_currencies(path: str, version: str, query: tuple, start_s: int):
    return billed_other_currencies(ctx.store, f)


other = _other_currencies(ctx.store.path, version, key, start_s)
if other:  # each currency apart: never converted, never added to the USD figures below
    st.caption("Billed in other currencies (not converted, not in any USD figure on this page): "
               + ", ".join(f"{md(money_str(t.billed))} {md(t.currency)}" for t in other))  # fmt: skip
if d.empty:
    st.info("No costs or usage in this period. Cost reports are daily (UTC): choose a period of a few days, "
            "or import cost reports (OpenAI Costs API, Anthropic cost report) and usage on the Data page.")  # fmt: skip
    st.stop()

billed = sum((x for x in d["billed"] if pd.notna(x)), start=0)
estimated = sum((x for x in d["estimated"] if pd.notna(x)), start=0)
total, basis = spend_of(d)
c = st.columns(4)
c[0].metric(f"Spend (USD, {basis})", usd(total) if total is not None else "—",
            help="Per provider and day: billed where a cost report covers the day, else the cost the usage "
                 "states (a log's or an export's cost column), else estimated.")  # fmt: skip
c[1].metric("Billed (USD)", usd(billed) if d["billed"].notna().any() else "—")
c[2].metric("Estimated (USD)", usd(estimated) if d["estimated"].notna().any() else "—")
gap = (
    (float(billed) - float(estimated))
    if d["billed"].notna().any() and d["estimated"].notna().any()
    else None
)
c[3].metric("Gap (billed − estimated, USD)", "—" if gap is None else f"${gap:,.2f}")

per_day = d.groupby("day", as_index=False)[["billed", "estimated"]].agg(lambda s: s.dropna().sum())
st.subheader("Per day")
chart(billed_vs_estimated(per_day), "billed_vs_estimated", key="cost_chart")

reasons = d[d["note"] != "matches (to the cent)"]
if not reasons.empty:
    st.subheader("Why they differ")
    counts = reasons.groupby(["provider", "note"]).size().reset_index(name="days")
    for row in counts.itertuples():
        st.write(
            f"- **{md(row.provider)}**: {md(row.note)} — {row.days} day{'s' if row.days != 1 else ''}"
        )

if not left.empty:
    st.subheader("Not counted, and why")
    st.caption("Rows of your imports in this period that the totals leave out, so that the same traffic or "
               "money is never added twice.")  # fmt: skip
    why = {("other_stream", False): "tokens and requests: counted from {by} for that provider and day",
           ("other_stream", True): "tokens: counted from {by} for that provider and day (it has no request "
                                   "count: the requests of these rows are counted)",
           ("billed", False): "stated cost: the cost report bills that provider and day"}  # fmt: skip
    rows = zip(left["reason"], left["counted_by"], left["requests_counted"], strict=True)
    words = [why[(r, bool(q) and r == "other_stream")].format(by="the request logs" if b == "*request" else b)
             for r, b, q in rows]  # fmt: skip
    shown = left.assign(reason=words).drop(columns=["counted_by", "source", "requests_counted"])
    table(shown.rename(columns={"import_id": "Import", "file_name": "File", "provider": "Provider",
                                "reason": "Not counted", "days": "Days", "rows": "Rows", "tokens": "Tokens",
                                "stated_usd": "Stated cost (USD)"}), "not_counted", key="not_counted")  # fmt: skip

st.subheader("Per model")
model_cols = {
    "model": "Model",
    "billed": "Billed (USD)",
    "estimated": "Estimated (USD)",
    "tokens": "Tokens",
}
table(models.rename(columns=model_cols), "costs_by_model", key="by_model")
st.subheader("Per line item")
item_cols = {"provider": "Provider", "line_item": "Line item", "billed": "Billed (USD)"}
table(items.rename(columns=item_cols), "costs_by_line_item", key="by_li")
st.subheader("Per day and provider")
# the working columns (the estimate of rows that state no cost, the period a row belongs to) stay out
table(d.drop(columns=["estimated_rest", "current"]).rename(columns={
          "day": "Day (UTC)", "provider": "Provider", "billed": "Billed (USD)", "stated": "Stated (USD)",
          "estimated": "Estimated (USD)", "note": "Note"}),
      "costs_by_day", key="by_day")  # fmt: skip

st.subheader("Unit costs")
st.caption("Estimated USD over the period divided by the counted requests, tokens (input + output) and "
           "active users (users seen in the logs).")  # fmt: skip
allm = units.iloc[0]


def _unit(v: object, digits: int = 4) -> str:
    return "—" if v is None or pd.isna(v) else f"${float(v):,.{digits}f}"


u = st.columns(3)
scope = allm["requests_scope_usd"]
u[0].metric("Per 1K requests (USD)", _unit(allm["per_1k_requests"], 2),
            help=None if pd.isna(scope) or pd.isna(allm["estimated"]) or scope == allm["estimated"]
            else f"Over the {usd(scope)} of spend whose requests are counted (of {usd(allm['estimated'])}): "
                 "usage reports without a request count (Anthropic) and no request logs for those days.")  # fmt: skip
u[1].metric("Per 1M tokens (USD)", _unit(allm["per_1m_tokens"], 2))
u[2].metric("Per active user (USD)", _unit(allm["per_user"], 2),
            help=f"{n(None if pd.isna(allm['users']) else int(allm['users']))} active users")  # fmt: skip
table(units.rename(columns={"model": "Model", "estimated": "Estimated (USD)", "requests": "Requests",
                            "tokens": "Tokens", "users": "Active users",
                            "per_1k_requests": "USD per 1K requests", "per_1m_tokens": "USD per 1M tokens",
                            "per_user": "USD per user", "requests_scope_usd": "USD with counted requests"}),
      "unit_costs", key="units")  # fmt: skip

st.subheader("Savings from batch and caching")
tot = saved[["saved_batch", "saved_cache", "could_batch", "could_cache"]].apply(
    lambda col: col.dropna().sum()
)
sv = st.columns(4)
sv[0].metric("Saved by the batch API (USD)", usd(tot["saved_batch"]))
sv[1].metric("Saved by cache reads (USD)", usd(tot["saved_cache"]))
sv[2].metric("Possible with batch, at most (USD)", usd(tot["could_batch"]),
             help="If every request not already batched went through the batch API (answers within 24 h).")  # fmt: skip
sv[3].metric("Possible with caching, at most (USD)", usd(tot["could_cache"]),
             help="If every uncached input token were read from the prompt cache (before cache-write charges).")  # fmt: skip
st.caption("Upper bounds: only traffic that can wait suits the batch API, and only repeated prompt "
           "prefixes can be cached. Estimates over the period, at catalog prices.")  # fmt: skip
table(saved.rename(columns={"model": "Model", "requests": "Requests", "estimated": "Estimated (USD)",
                            "saved_batch": "Saved by batch (USD)", "saved_cache": "Saved by caching (USD)",
                            "could_batch": "Possible with batch (USD)",
                            "could_cache": "Possible with caching (USD)"}), "savings", key="savings")  # fmt: skip

st.subheader("What if")
sources = [m for m, e in zip(saved["model"], saved["estimated"], strict=True) if pd.notna(e)]
if not sources:
    st.info(
        "No priced traffic in this period to move. Widen the period or add prices for your models."
    )
else:
    w1, w2, w3 = st.columns([2, 2, 2])
    src = w1.selectbox("Move traffic of", sources, key="wi_source")
    targets = [m for m in priced_models(ctx.store) if m != src]
    dst = w2.selectbox("To", targets, key="wi_target",
                       index=targets.index("gpt-4o-mini") if "gpt-4o-mini" in targets else 0)  # fmt: skip
    share = w3.slider("Share of its traffic (%)", 0, 100, 50, step=5, key="wi_share")

    @st.cache_data(show_spinner=False)
    def _reprice(
        path: str, version: str, query: tuple, start_s: int, src: str, dst: str, share: int
    ):
        return reprice(ctx.store, f, src, dst, share / 100)

    try:
        wi = _reprice(ctx.store.path, version, key, start_s, src, dst, share)
    except NotFoundError as err:
        st.warning(md(err))
    else:
        r = st.columns(3)
        r[0].metric("Monthly cost now (USD)", usd(wi.current_monthly))
        r[1].metric("Monthly cost after (USD)", usd(wi.new_monthly),
                    f"{usd(wi.change)}" if wi.change else None, delta_color="inverse")  # fmt: skip
        r[2].metric(
            f"{share} % of {src} (USD per month)", f"{usd(wi.moved_before)} → {usd(wi.moved_after)}"
        )
        st.caption(f"The moved traffic keeps its token mix (input, cached input, cache writes, output, "
                   f"batch share) and is priced at {dst}'s price in force since {wi.target_price_from}. "
                   f"Monthly = the period's {wi.days} day{'s' if wi.days != 1 else ''} of traffic scaled to "
                   f"30.4 days. Answers, quality and latency will differ: try both in the Playground.")  # fmt: skip
