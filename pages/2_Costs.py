"""Costs: the bill against the estimate, per day, model and line item."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.analytics.costs import by_line_item, by_model, daily
from lib.charts import billed_vs_estimated
from lib.summary import data_version
from lib.ui.frame import page
from lib.ui.widgets import chart, table, usd

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
    return daily(ctx.store, f), by_model(ctx.store, f), by_line_item(ctx.store, f)


d, models, items = _costs(ctx.store.path, version, key, start_s)
if d.empty:
    st.info("No costs or usage in this period. Import cost reports (OpenAI Costs API, Anthropic cost report) "
            "and usage on the Data page, or widen the period.")  # fmt: skip
    st.stop()

billed = sum((x for x in d["billed"] if pd.notna(x)), start=0)
estimated = sum((x for x in d["estimated"] if pd.notna(x)), start=0)
c = st.columns(3)
c[0].metric("Billed (USD)", usd(billed) if d["billed"].notna().any() else "—")
c[1].metric("Estimated (USD)", usd(estimated) if d["estimated"].notna().any() else "—")
gap = (
    (float(billed) - float(estimated))
    if d["billed"].notna().any() and d["estimated"].notna().any()
    else None
)
c[2].metric("Gap (billed − estimated, USD)", "—" if gap is None else f"${gap:,.2f}")

per_day = d.groupby("day", as_index=False)[["billed", "estimated"]].agg(lambda s: s.dropna().sum())
st.subheader("Per day")
chart(billed_vs_estimated(per_day), "billed_vs_estimated", key="cost_chart")

reasons = d[d["note"] != "matches (to the cent)"]
if not reasons.empty:
    st.subheader("Why they differ")
    counts = reasons.groupby(["provider", "note"]).size().reset_index(name="days")
    for row in counts.itertuples():
        st.write(f"- **{row.provider}**: {row.note} — {row.days} day{'s' if row.days != 1 else ''}")

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
table(d.rename(columns={"day": "Day (UTC)", "provider": "Provider", "billed": "Billed (USD)",
                        "estimated": "Estimated (USD)", "note": "Note"}), "costs_by_day", key="by_day")  # fmt: skip
