"""Money helpers: exact decimals in, readable strings out."""

from __future__ import annotations

from decimal import Decimal


def money_str(value: Decimal | None) -> str | None:
    """A decimal amount as a plain string with at least two decimals and no trailing noise.

    ``Decimal("12.500000000000")`` → ``"12.50"``; ``Decimal("0.000123000")`` → ``"0.000123"``;
    ``None`` → ``None``. Never rounds.
    """
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        whole, frac = text.split(".")
        text = f"{whole}.{frac.ljust(2, '0')}"
    else:
        text += ".00"
    return "0.00" if text in ("-0.00",) else text
