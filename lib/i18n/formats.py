"""Numbers, money, percentages, dates and durations written the way each language writes
them, with Babel (CLDR data): ``1,234.56`` / ``1 234,56``, ``$1,234.56`` / ``1 234,56 $US``,
``43.1M`` / ``43,1 M``, ``Jan 5, 2025`` / ``5 janv. 2025``.

Every function takes the language code last-but-keywords and returns ``"—"`` (an em dash)
for a value that is unknown (``None`` or NaN), so a table never shows "None" or "nan".
French separates thousands with a narrow no-break space (U+202F) and puts a no-break space
(U+00A0) before ``%`` and the currency, as CLDR says; the strings are meant for display,
never to be parsed back.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_compact_decimal, format_currency, format_decimal

from lib.i18n.catalog import DEFAULT_LANG, normalize

DASH = "—"
Number = int | float | Decimal


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(normalize(lang) or DEFAULT_LANG)


def _nan(value: object) -> bool:
    """True for a value that is not a finite number (NaN or ±infinity, as a float or a
    Decimal): it is shown as a dash, never as "nan", "inf" or "$NaN.00"."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, Decimal) and not value.is_finite()


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _rounded(value: Number, digits: int) -> Decimal:
    """``value`` to ``digits`` decimals, halves away from zero (2.675 → 2.68, -2.675 → -2.68),
    and never a negative zero (-0.004 → 0.00)."""
    q = _decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return q.copy_abs() if q.is_zero() else q


def _with_decimals(pattern: str, digits: int) -> str:
    """A CLDR number pattern with exactly ``digits`` decimals ("#,##0 %" → "#,##0.0 %")."""
    frac = ("." + "0" * digits) if digits > 0 else ""
    return re.sub(
        r"[#0,]*0(?:\.[0#]*)?", lambda m: m.group(0).split(".")[0] + frac, pattern, count=1
    )


def number(value: Number | None, lang: str, digits: int | None = None) -> str:
    """A number with the language's separators: ``digits`` decimals exactly (rounded half
    up), or with ``None`` an integer as is and other numbers to at most 3 decimals.
    ``number(1234567, "fr")`` → ``"1 234 567"`` (narrow no-break spaces)."""
    if value is None or _nan(value):
        return DASH
    loc = _locale(lang)
    if digits is None:
        return format_decimal(value, locale=loc)
    pattern = _with_decimals(loc.decimal_formats[None].pattern, digits)
    return format_decimal(_rounded(value, digits), format=pattern, locale=loc)


def compact(value: Number | None, lang: str, digits: int = 1) -> str:
    """A headline figure in a few characters: 43,060,123 → ``"43.1M"`` / ``"43,1 M"``;
    below 1,000 once rounded to ``digits`` the number itself (``"987"``); 999.96 → ``"1K"``."""
    if value is None or _nan(value):
        return DASH
    shown = _rounded(value, digits)  # 999.96 is shown as 1K, not as "1,000.0"
    if abs(shown) < 1000:
        return number(value, lang, None if isinstance(value, int) else min(digits, 2))
    big = value if abs(_decimal(value)) >= 1000 else shown
    return format_compact_decimal(big, locale=_locale(lang), fraction_digits=digits)


def money(value: Number | None, lang: str, currency: str = "USD", digits: int | None = 2) -> str:
    """An amount with its currency: ``money(Decimal("1234.56"), "en")`` → ``"$1,234.56"``,
    ``"fr"`` → ``"1 234,56 $US"``. ``digits`` decimals, halves rounded up (a cent is never
    lost to banker's rounding; -0.004 is ``$0.00``, never ``-$0.00``); ``digits=None`` keeps
    every digit of the amount, at least two (a price of $0.000003 per token stays that)."""
    if value is None or _nan(value):
        return DASH
    loc = _locale(lang)
    if digits is None:
        amount = _decimal(value).normalize()
        exponent = amount.as_tuple().exponent
        places = max(2, -exponent) if isinstance(exponent, int) else 2
        amount = _rounded(amount, places)
    else:
        places, amount = digits, _rounded(value, digits)
    pattern = _with_decimals(loc.currency_formats["standard"].pattern, places)
    return format_currency(amount, currency, format=pattern, locale=loc, currency_digits=False)


def percent(ratio: Number | None, lang: str, digits: int = 1, signed: bool = False) -> str:
    """A ratio as a percentage: 0.1234 → ``"12.3%"`` / ``"12,3 %"``; ``signed`` puts a plus
    before a rise (``"+4.0%"``), as a change against a previous period is shown."""
    if ratio is None or _nan(ratio):
        return DASH
    loc = _locale(lang)
    pattern = _with_decimals(loc.percent_formats[None].pattern, digits)
    value = _rounded(_decimal(ratio) * 100, digits) / 100
    text = format_decimal(value, format=pattern, locale=loc)
    return ("+" + text) if signed and value > 0 else text


def day(value: date | datetime | None, lang: str, style: str = "medium") -> str:
    """A calendar day: ``"Jan 5, 2025"`` / ``"5 janv. 2025"`` (``style`` short, medium,
    long or full)."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, style, locale=_locale(lang))


def moment(
    value: datetime | None, lang: str, style: str = "short", tz: str | tzinfo = "UTC"
) -> str:
    """A date and time in the time zone ``tz`` (a naive datetime is taken as UTC):
    ``"1/5/25, 2:03 PM"`` / ``"05/01/2025 14:03"`` in the short style."""
    if value is None:
        return DASH
    zone = get_timezone(tz) if isinstance(tz, str) else tz
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_timezone("UTC"))
    return format_datetime(value, style, tzinfo=zone, locale=_locale(lang))


def seconds(value: Number | None, lang: str, digits: int = 2) -> str:
    """A duration in seconds: 2.314 → ``"2.31 s"`` / ``"2,31 s"``."""
    if value is None or _nan(value):
        return DASH
    return f"{number(value, lang, digits)}\u00a0s"


def integer(value: object, lang: str) -> str:
    """A count that may come as text, a float or ``None`` from a table cell: 1234.0 →
    ``"1,234"``; anything that is not a number → ``"—"``."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return DASH
    if not d.is_finite():
        return DASH
    return number(int(d.to_integral_value(rounding=ROUND_HALF_UP)), lang)
