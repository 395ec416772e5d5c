"""Shared widgets: headline figures, tables with downloads, charts with a PNG download.

Numbers are written by ``lib.ui.i18n`` (the page's language: ``lib.i18n.formats``); this
module only chooses which format a figure or a column gets:

- headline figures are compact ("43.1M", "$1,234.56"; "$123,457" from $100,000 on) with the
  exact value in the figure's help;
- table cells keep their numbers (so columns sort) and are drawn by ``COLUMN_FORMATS``:
  money to the cent, counts with thousands separators, "—" for an unknown value (with the
  column's help saying so). Streamlit's number formats are English only ("dollar" writes
  "$1,234.57"; a printf format cannot write a decimal comma), so in French the numbers of a
  table are written by ``lib.ui.i18n`` as the display values of a pandas Styler
  (``1 234,57 $US``): the cells keep their numbers underneath, so columns still sort as
  numbers. Tables longer than ``STYLED_ROWS`` keep the grid's formats;
- CSV downloads write money as exact decimal text (to 1e-10), never a 16-digit float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, cast

import altair as alt
import pandas as pd
import streamlit as st

from lib.analytics.overview import Figure, Headline
from lib.charts import png_bytes
from lib.export import csv_bytes, excel_bytes, parquet_bytes
from lib.ui.i18n import _, compact, integer, lang, money, number, percent
from lib.ui.words import UNKNOWN, UNKNOWN_HELP

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MONEY_PLACES = Decimal("1e-10")
COMPACT_FROM = 10_000  # counts from here on are written compactly in headline figures
WHOLE_DOLLARS_FROM = Decimal(100_000)  # money from here on loses its cents in headline figures
STYLED_ROWS = 2_000  # tables up to this length have their numbers written by the locale

Kind = Literal["text", "count", "usd", "rate", "ms", "time", "day", "number"]
# How a table column of each kind is drawn (Streamlit's number formats; dates as moment.js).
COLUMN_FORMATS: dict[str, str] = {
    "count": "localized",
    "usd": "dollar",
    "rate": "%.2f%%",
    "ms": "%.0f ms",
    "number": "localized",
    "time": "YYYY-MM-DD HH:mm",
    "day": "YYYY-MM-DD",
}


# -- single values ------------------------------------------------------------------------


def _known(v: object) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v)) and v is not pd.NA


def n(v: object) -> str:
    """A count with thousands separators; "—" when the data cannot give it."""
    return integer(v) if _known(v) else UNKNOWN


def usd(v: object) -> str:
    """Dollars to the cent, halves rounded up (Decimal("0.075") → "$0.08"), never "-$0.00";
    "—" when unknown."""
    return money(_dec(v)) if _known(v) else UNKNOWN


def usd_exact(v: object) -> str:
    """Dollars with every digit the amount has (at least the cents); "—" when unknown."""
    return money(_dec(v), digits=None) if _known(v) else UNKNOWN


def amount(v: object, currency: str) -> str:
    """Money in any currency with every digit it has ("€1,234.5678"); "—" when unknown."""
    return money(_dec(v), currency, digits=None) if _known(v) else UNKNOWN


def pct(v: object) -> str:
    """A rate given in percent (12.5 = 12.5 %), to two decimals; "—" when unknown."""
    return percent(float(v) / 100, digits=2) if _known(v) else UNKNOWN  # type: ignore[arg-type]


def ms(v: object) -> str:
    """A latency in milliseconds (seconds from 10 s up); "—" when unknown."""
    if not _known(v):
        return UNKNOWN
    value = float(v)  # type: ignore[arg-type]
    return f"{number(value / 1000, 1)} s" if value >= 10_000 else f"{number(value, 0)} ms"


def size(n_bytes: int) -> str:
    """A file size: "640 B", "12.5 kB", "3.21 MB"."""
    if n_bytes < 1000:
        return _("{size} B", size=integer(n_bytes))
    if n_bytes < 1_000_000:
        return _("{size} kB", size=number(n_bytes / 1000, 1))
    return _("{size} MB", size=number(n_bytes / 1_000_000, 2))


def change(ratio: float | None) -> str | None:
    """A relative change as a signed percentage ("+12.5%"), None when it cannot be told."""
    return None if ratio is None else percent(ratio, digits=1, signed=True)


def _dec(v: object) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def headline_value(v: object, kind: str) -> tuple[str, str | None]:
    """A figure written to fit a card, and its exact value for the help (None when the card
    shows it exactly already)."""
    if not _known(v):
        return UNKNOWN, None
    if kind == "count":
        return (n(v), None) if abs(int(v)) < COMPACT_FROM else (compact(int(v)), n(v))  # type: ignore[call-overload]
    if kind == "usd":
        amount = _dec(v)
        if abs(amount) >= WHOLE_DOLLARS_FROM:
            return money(amount, digits=0), usd_exact(amount)
        exact = usd_exact(amount)
        return usd(amount), (exact if exact != usd(amount) else None)
    if kind == "rate":
        return pct(v), None
    if kind == "ms":
        return ms(v), None
    return str(v), None


def figure(container: object, label: str, fig: Figure, help: str | None = None) -> None:
    """One metric card: the figure, its change against the period before (red when a rise
    is bad news) and, in its help, the exact value and ``help``."""
    text, exact = headline_value(fig.value, fig.kind)
    notes = [x for x in (_("Exactly {value}.", value=exact) if exact else None, help) if x]
    container.metric(  # type: ignore[attr-defined]
        label, text, change(fig.change), delta_color="inverse" if fig.worse_up else "normal",
        help=" ".join(notes) or None,
    )  # fmt: skip


def figures(
    h: Headline, items: Sequence[tuple[str, str]], helps: Mapping[str, str] | None = None
) -> None:
    """A row of metric cards: (label, figure key) each."""
    cols = st.columns(len(items))
    for col, (label, key) in zip(cols, items, strict=True):
        figure(col, label, h[key], (helps or {}).get(key))


# -- tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """How a table shows one column: its header, kind (``Kind``) and help (the header's
    tooltip). An empty cell shows "—"; when the column has one, ``none`` (or, by default,
    that "—" means not known) is added to the help."""

    label: str
    kind: Kind = "text"
    help: str | None = None
    none: str | None = None


def csv_money(v: object) -> object:
    """An amount as exact text for a CSV: to 1e-10, trailing zeros dropped, at least two
    decimals ("0.0000001235", "12.50"); other values unchanged."""
    if not _known(v) or isinstance(v, bool | str):
        return v
    try:
        d = _dec(v).quantize(CSV_MONEY_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return v
    text = format(d, "f").rstrip("0")
    whole, _, frac = text.partition(".")
    text = f"{whole}.{frac.ljust(2, '0')}"
    return "0.00" if text == "-0.00" else text


def _cents(v: object) -> float | None:
    """Money for display only: rounded to the cent (no "-0.00"), as a float for the grid."""
    if not _known(v):
        return None
    d = _dec(v).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return float(d) + 0.0  # + 0.0 turns -0.0 into 0.0


def _shown(df: pd.DataFrame, columns: Mapping[str, Col]) -> tuple[pd.DataFrame, dict[str, object]]:
    """The frame as drawn (renamed, money to the cent) and its column configuration."""
    out = pd.DataFrame(index=df.index)
    config: dict[str, object] = {}
    for key, col in columns.items():
        values = df[key]
        unknown = values.isna().any()
        note = (col.none or _(UNKNOWN_HELP)) if unknown else None
        help_text = " ".join(x for x in (col.help, note) if x) or None
        if col.kind == "usd":
            out[col.label] = values.map(_cents).astype("Float64")
        elif col.kind == "count":
            out[col.label] = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif col.kind in ("rate", "ms", "number"):
            out[col.label] = pd.to_numeric(values, errors="coerce").astype("Float64")
        else:
            out[col.label] = values
        fmt = COLUMN_FORMATS.get(col.kind)
        if col.kind == "time":
            config[col.label] = st.column_config.DatetimeColumn(
                col.label, format=fmt, help=help_text
            )
        elif col.kind == "day":
            config[col.label] = st.column_config.DateColumn(col.label, format=fmt, help=help_text)
        elif fmt:
            config[col.label] = st.column_config.NumberColumn(col.label, format=fmt, help=help_text)
        else:
            config[col.label] = st.column_config.TextColumn(col.label, help=help_text)
    return out.reset_index(drop=True), config


def _cell_writer(kind: str) -> Any:
    """How a number of a column of ``kind`` is written in the page's language."""
    writers: dict[str, Any] = {
        "usd": lambda v: usd(v),
        "count": lambda v: n(v),
        "rate": lambda v: pct(v),
        "ms": lambda v: ms(v),
        "number": lambda v: number(v) if _known(v) else UNKNOWN,
    }
    return writers.get(kind)


def _localized(shown: pd.DataFrame, columns: Mapping[str, Col], config: dict[str, object]) -> Any:
    """``shown`` with its numbers written by the page's language (a Styler whose cells keep
    their numbers, so columns sort as numbers); ``shown`` itself in English, or when the
    table is too long to write every cell on each run."""
    if lang() == "en" or len(shown) > STYLED_ROWS:
        return shown
    writers = {c.label: w for c in columns.values() if (w := _cell_writer(c.kind)) is not None}
    if not writers:
        return shown
    for label in writers:  # the grid draws the Styler's text: no format of its own
        config[label] = st.column_config.NumberColumn(
            label, help=cast(dict[str, Any], config[label]).get("help")
        )
    return shown.style.format(writers, na_rep=UNKNOWN)


def _download(df: pd.DataFrame, columns: Mapping[str, Col] | None) -> pd.DataFrame:
    """The frame as downloaded: the shown headers, every digit of the data."""
    if not columns:
        return df
    return df[list(columns)].rename(columns={k: c.label for k, c in columns.items()})


def _csv(df: pd.DataFrame, columns: Mapping[str, Col] | None) -> bytes:
    out = _download(df, columns).copy()
    for col in (columns or {}).values():
        if col.kind == "usd":
            out[col.label] = out[col.label].map(csv_money).astype(object)
    return csv_bytes(out)


def table(
    df: pd.DataFrame,
    name: str,
    *,
    key: str,
    columns: Mapping[str, Col] | None = None,
    height: int | None = None,
) -> None:
    """A table with CSV, Excel and Parquet downloads (CSV cells safe from formula injection,
    money as exact text). ``columns`` (key → ``Col``) picks, orders, names and formats the
    columns; without it the frame is shown as it is."""
    drawn: Any = df
    config: dict[str, object] = {}
    if columns:
        shown, config = _shown(df, columns)
        drawn = _localized(shown, columns, config)
    options: dict[str, Any] = {"column_config": config or None, "placeholder": UNKNOWN}
    st.dataframe(drawn, hide_index=True, width="stretch", height=height or "auto", **options)
    row = st.container(horizontal=True, gap="small")
    # the files are made only when asked for (three formats on every run cost a page ~0.1 s)
    row.download_button("CSV", lambda: _csv(df, columns), f"{name}.csv", "text/csv", key=f"{key}_csv",
                        on_click="ignore", type="tertiary", icon=":material/download:")  # fmt: skip
    row.download_button("Excel", lambda: excel_bytes(_download(df, columns), name), f"{name}.xlsx",
                        XLSX_MIME, key=f"{key}_xlsx", on_click="ignore", type="tertiary",
                        icon=":material/download:")  # fmt: skip
    row.download_button("Parquet", lambda: parquet_bytes(_download(df, columns)), f"{name}.parquet",
                        "application/octet-stream", key=f"{key}_pq", on_click="ignore", type="tertiary",
                        icon=":material/download:")  # fmt: skip


# French for Vega (d3-format and d3-time-format locales): "1 234,56 $US", "5 janv."
FRENCH_VEGA = {
    "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3],
               "currency": ["", "\u00a0$US"], "percent": "\u00a0%"},
    "time": {
        "dateTime": "%A %e %B %Y à %X", "date": "%d/%m/%Y", "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                        "sept.", "oct.", "nov.", "déc."],
    },
}  # fmt: skip
# French writes the day before the month: lib.charts's time formats in that order
FRENCH_TIME_FORMATS = {"%b %d %H:%M": "%d %b %H:%M", "%b %d": "%d %b"}


def _french(node: Any) -> Any:
    """A Vega-Lite spec (as a dict) with its time formats in French order."""
    if isinstance(node, dict):
        return {k: (FRENCH_TIME_FORMATS.get(v, v) if k == "format" and isinstance(v, str)
                    else _french(v)) for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_french(v) for v in node]
    return node


def localized_spec(c: alt.TopLevelMixin, language: str) -> dict[str, Any] | None:
    """The chart's Vega-Lite spec in ``language`` (number and time locale, day-month order),
    or None for English (the chart as it is)."""
    if language != "fr":
        return None
    spec = cast(dict[str, Any], _french(c.to_dict()))
    spec.setdefault("config", {})["locale"] = FRENCH_VEGA
    return spec


def _png(spec: dict[str, Any]) -> bytes:
    import json

    import vl_convert as vlc

    return vlc.vegalite_to_png(json.dumps(spec), scale=2.0)


def chart(c: alt.TopLevelMixin, name: str, *, key: str) -> None:
    """An Altair chart with a PNG download, in the page's language (dates and numbers of the
    axes and tooltips). The PNG is rendered only when asked for."""
    spec = localized_spec(c, lang())
    if spec is None:
        st.altair_chart(cast(Any, c), width="stretch")
        png: Any = lambda: png_bytes(c)  # noqa: E731
    else:
        st.vega_lite_chart(spec, width="stretch")
        png = lambda: _png(spec)  # noqa: E731
    st.download_button("PNG", data=png, file_name=f"{name}.png", mime="image/png",
                       key=f"{key}_png", on_click="ignore", type="tertiary", icon=":material/download:")  # fmt: skip
