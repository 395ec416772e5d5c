"""Table exports: formula injection neutralised; Excel and Parquet round trips."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
import pyarrow.parquet as pq

from lib.export import csv_bytes, excel_bytes, neutralise, parquet_bytes


def _df() -> pd.DataFrame:
    return pd.DataFrame({
        "user": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "alice", "\tx"],
        "requests": [1, 2, 3, 4, 5, 6],
        "when": [datetime(2026, 1, 1, 12, tzinfo=UTC)] * 6,
    })  # fmt: skip


def test_csv_cells_that_look_like_formulas_are_neutralised():
    text = csv_bytes(_df()).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "user,requests,when"
    assert lines[1].startswith('"\'=HYPERLINK(""http://x"")",1,')
    assert [ln.split(",")[0] for ln in lines[2:6]] == ["'+1", "'-2", "'@SUM(A1)", "alice"]
    assert neutralise(-2) == -2  # numbers are not text


def test_excel_has_no_formulas_and_naive_utc_times():
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(excel_bytes(_df(), "usage")))
    ws = wb["usage"]
    assert ws["A2"].data_type == "s" and ws["A2"].value == '=HYPERLINK("http://x")'
    assert ws["C2"].value == datetime(2026, 1, 1, 12)


def test_parquet_round_trip():
    table = pq.read_table(io.BytesIO(parquet_bytes(_df())))
    assert table.num_rows == 6 and table.column("requests").to_pylist() == [1, 2, 3, 4, 5, 6]


def test_chart_png():
    import altair as alt

    from lib.charts import png_bytes, time_series

    df = pd.DataFrame({"bucket": pd.to_datetime(["2026-01-01", "2026-01-02"]), "series": ["all", "all"],
                       "value": [1.0, 2.0]})  # fmt: skip
    png = png_bytes(time_series(df, label="Requests", unit="requests", granularity="day", tz="UTC"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert isinstance(alt.Chart(df).mark_point().to_dict(), dict)
