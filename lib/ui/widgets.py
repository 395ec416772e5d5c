"""Small shared widgets: formatted numbers and downloadable tables."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import altair as alt
import pandas as pd
import streamlit as st

from lib.charts import png_bytes
from lib.export import csv_bytes, excel_bytes, parquet_bytes

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def n(v: int | None) -> str:
    """A count with thousands separators; an em dash when the data cannot give it."""
    return "—" if v is None else f"{v:,}"


def usd(v: Decimal | float | None) -> str:
    """Dollars to the cent, halves rounded up (Decimal("0.075") → "$0.08"; a float 0.075 would
    round to 0.07); an em dash when unknown."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    cents = Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"-${-cents:,.2f}" if cents < 0 else f"${cents:,.2f}"


def change(current: object, previous: object) -> str | None:
    """The change against the previous period as a signed percentage, or None when it
    cannot be told (no value now, or nothing before)."""
    if current is None or not previous:
        return None
    return f"{(float(current) - float(previous)) / float(previous) * 100:+.1f} %"


def pct(v: object) -> str:
    return "—" if v is None else f"{float(v):.2f} %"


def ms(v: object) -> str:
    """A latency in milliseconds (seconds from 10 s up); an em dash when unknown."""
    if v is None or pd.isna(v):
        return "—"
    return f"{float(v) / 1000:,.1f} s" if float(v) >= 10_000 else f"{float(v):,.0f} ms"


def kpi_row(cur: dict, prev: dict, items: list[tuple[str, str, str]]) -> None:
    """One row of metric cards: (label, key, kind) with kind count | usd | usd_cost | rate | ms.
    Costs, error rates and latencies that go up are shown in red."""
    cols = st.columns(len(items))
    for col, (label, key, kind) in zip(cols, items, strict=True):
        value = {"count": n, "usd": usd, "usd_cost": usd, "rate": pct, "ms": ms}[kind](cur.get(key))
        bad_up = kind in ("usd_cost", "rate", "ms")
        col.metric(
            label,
            value,
            change(cur.get(key), prev.get(key)),
            delta_color="inverse" if bad_up else "normal",
        )


def table(df: pd.DataFrame, name: str, *, key: str, height: int | None = None) -> None:
    """A table with CSV, Excel and Parquet downloads (CSV cells safe from formula injection)."""
    st.dataframe(df, hide_index=True, width="stretch", height=height or "auto")
    c1, c2, c3, _ = st.columns([1, 1, 1, 5])
    # the files are made only when asked for (three formats on every run cost a page ~0.1 s)
    c1.download_button(
        "CSV", lambda: csv_bytes(df), f"{name}.csv", "text/csv", key=f"{key}_csv", on_click="ignore"
    )
    c2.download_button(
        "Excel",
        lambda: excel_bytes(df, name),
        f"{name}.xlsx",
        XLSX_MIME,
        key=f"{key}_xlsx",
        on_click="ignore",
    )
    c3.download_button("Parquet", lambda: parquet_bytes(df), f"{name}.parquet", "application/octet-stream",
                       key=f"{key}_pq", on_click="ignore")  # fmt: skip


def chart(c: alt.TopLevelMixin, name: str, *, key: str) -> None:
    """An Altair chart with a PNG download. The PNG is rendered only when asked for."""
    st.altair_chart(c, width="stretch")
    st.download_button("PNG", data=lambda: png_bytes(c), file_name=f"{name}.png", mime="image/png",
                       key=f"{key}_png", on_click="ignore")  # fmt: skip
