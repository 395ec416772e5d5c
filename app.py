"""Tokenboard — Overview (a first version: totals over everything that has been imported)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.money import money_str
from lib.summary import has_demo_data
from lib.ui.frame import page
from lib.ui.state import cached_totals, ensure_demo_on_first_start, load_demo_into

ctx = page("app.py")
store = ctx.store
st.title("Tokenboard")
st.caption("Usage, spend and errors of your LLM APIs, from your providers' and gateways' exports.")

ensure_demo_on_first_start(store)
t = cached_totals(store)

if t.rows == 0:
    st.info(
        "**No data yet.** Import your exports with `python -m lib.cli import FILE…` "
        "(OpenAI/Anthropic usage and cost API responses, LiteLLM or Helicone logs, CSV/JSONL/Parquet "
        "exports), or load demo data to look around."
    )
    if ctx.can("import") and st.button("Load demo data", type="primary"):
        load_demo_into(store)
        st.rerun()
    st.stop()

if has_demo_data(store):
    st.warning(
        "You are looking at **demo data** (synthetic traffic). Undo its imports to start clean."
    )


def _n(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


def _usd(v) -> str:
    s = money_str(v)
    return "—" if s is None else f"${float(s):,.2f}"


cols = st.columns(3)
cols[0].metric(
    "Requests", _n(t.requests), help="Calls counted by the sources that state a request count."
)
cols[1].metric("Errors", _n(t.errors))
cols[2].metric(
    "Stored rows", _n(t.rows), help="Request events, usage buckets and billed cost lines in force."
)
cols = st.columns(3)
cols[0].metric("Input tokens", _n(t.input_tokens), help=f"Cached: {_n(t.cached_input_tokens)}")
cols[1].metric("Output tokens", _n(t.output_tokens))
cols[2].metric("Cached input tokens", _n(t.cached_input_tokens))
cols = st.columns(2)
cols[0].metric(
    "Stated cost (USD)",
    _usd(t.stated_cost_usd),
    help="Billed cost reports where they exist, else costs stated by the counted source.",
)
cols[1].metric(
    "Estimated cost (USD)",
    _usd(t.estimated_cost_usd),
    help="Tokens × the price catalog in force that day.",
)
if t.unpriced_models:
    st.caption("Not in the estimate (no price in the catalog): " + ", ".join(t.unpriced_models))

st.subheader("Which source is counted")
st.caption("The same traffic is never added twice: per provider and day one stream is counted.")
st.dataframe(
    pd.DataFrame(
        [(p, "request logs" if s == "*request" else s, d) for p, s, d in t.streams],
        columns=["Provider", "Counted source", "Days"],
    ),
    hide_index=True,
    width="stretch",
)
