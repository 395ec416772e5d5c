"""How figures and tables are written: compact headline figures with the exact value kept
for the help, money to the cent (never "-$0.00"), "—" for what is unknown, CSV money as
exact text."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from lib.ui.widgets import Col, _csv, _shown, csv_money, headline_value, ms, n, pct, usd


def test_headline_figures_fit_a_card_and_keep_every_digit_for_the_help():
    assert headline_value(43_060_123, "count") == ("43.1M", "43,060,123")
    assert headline_value(9_999, "count") == ("9,999", None)  # short enough as it is
    assert headline_value(Decimal("1234.5678"), "usd") == ("$1,234.57", "$1,234.5678")
    assert headline_value(Decimal("1234.50"), "usd") == ("$1,234.50", None)
    assert headline_value(Decimal("123456.789"), "usd") == ("$123,457", "$123,456.789")
    assert headline_value(None, "usd") == ("—", None)


def test_money_and_units_are_written_for_people():
    assert usd(Decimal("-0.004")) == "$0.00"  # never "-$0.00"
    assert usd(Decimal("0.075")) == "$0.08"  # halves up, as the decimal says
    assert usd(-1.5) == "-$1.50"
    assert (usd(None), n(None), pct(None), ms(float("nan"))) == ("—", "—", "—", "—")
    assert (n(1234567), pct(2.5), ms(812.4), ms(22_900)) == (
        "1,234,567",
        "2.50%",
        "812 ms",
        "22.9 s",
    )


def test_csv_money_is_exact_text():
    assert csv_money(Decimal("0.00000012345678901234")) == "0.0000001235"  # to 1e-10, half up
    assert csv_money(0.1 + 0.2) == "0.30"  # a float's noise (0.30000000000000004) is not money
    assert csv_money(Decimal("12.5")) == "12.50"
    assert csv_money(Decimal("-0.00000000001")) == "0.00"
    assert csv_money(None) is None


def test_a_table_shows_cents_and_downloads_every_digit():
    df = pd.DataFrame(
        {"model": ["gpt-4o", None], "billed": [Decimal("1.005"), None], "n": [1234, 5]}
    )
    cols = {"model": Col("Model", none="— : no model."), "billed": Col("Billed (USD)", "usd"),
            "n": Col("Requests", "count")}  # fmt: skip
    shown, config = _shown(df, cols)
    assert list(shown.columns) == ["Model", "Billed (USD)", "Requests"]
    assert shown["Billed (USD)"].tolist()[0] == 1.01  # to the cent for the eye
    assert pd.isna(shown["Billed (USD)"].tolist()[1])  # drawn as "—"
    assert "— : no model." in config["Model"]["help"]
    text = _csv(df, cols).decode("utf-8-sig").splitlines()
    assert text == ["Model,Billed (USD),Requests", "gpt-4o,1.005,1234", ",,5"]
