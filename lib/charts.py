"""Chart builders: plain functions that take aggregated DataFrames and return Altair charts.

Time buckets come as local wall times of the reporting zone (naive timestamps). They are
drawn as if they were UTC, on UTC scales and time units, so the browser's own time zone
never shifts a bar or repeats a day: the axis reads the reporting zone's days and hours.
Bars span their bucket (a day, an hour, a month) and the axis ticks at whole buckets.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import pandas as pd

# Readable, distinguishable colours for up to 12 series (the rest are grouped as "other").
PALETTE = ["#4F46E5", "#F59E0B", "#10B981", "#EF4444", "#06B6D4", "#8B5CF6", "#EC4899", "#84CC16",
           "#F97316", "#14B8A6", "#64748B", "#A855F7"]  # fmt: skip
OTHER_COLOUR = "#CBD5E1"
TIME_FORMAT = {"hour": "%b %d %H:%M", "day": "%b %d", "month": "%b %Y"}
TIME_UNIT = {"hour": "utcyearmonthdatehours", "day": "utcyearmonthdate", "month": "utcyearmonth"}
_INTERVAL = {"hour": ("hour", 3600), "day": ("day", 86400), "month": ("month", 86400 * 30.44)}
MAX_TICKS = 12


def _as_utc(values: pd.Series) -> pd.Series:
    """Local wall times (naive) labelled UTC, so the browser draws them as they are."""
    t = pd.to_datetime(values)
    return t.dt.tz_localize("UTC") if t.dt.tz is None else t.dt.tz_convert("UTC")


def _ticks(times: pd.Series, granularity: str) -> dict[str, object]:
    """Axis ticks at whole buckets, at most ``MAX_TICKS``: every day (or every n days)."""
    interval, seconds = _INTERVAL.get(granularity, _INTERVAL["day"])
    if times.empty:
        return {"interval": interval, "step": 1}
    span = (times.max() - times.min()).total_seconds() / seconds + 1
    step = max(1, math.ceil(span / MAX_TICKS))
    if granularity == "hour":  # whole numbers of hours that divide a day
        step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 48, 72, 168) if s >= step or s == 168)
    return {"interval": interval, "step": step}


def _x(
    field: str, granularity: str, times: pd.Series, title: str, unit: bool = True, mid: bool = False
) -> alt.X:
    """A time axis over ``field`` on a UTC scale, ticking at whole buckets; with ``unit`` the
    field is binned by the granularity's time unit (so a bar spans its bucket); ``mid`` puts
    points and lines in the middle of their bucket (over its bar)."""
    fmt = TIME_FORMAT.get(granularity, "%b %d")
    axis = alt.Axis(format=fmt, tickCount=_ticks(times, granularity), labelOverlap=True,
                    labelAngle=0, grid=False)  # fmt: skip
    spec = f"{TIME_UNIT.get(granularity, TIME_UNIT['day'])}({field}):T" if unit else f"{field}:T"
    extra: dict[str, Any] = {"bandPosition": 0.5} if mid else {}
    return alt.X(spec, title=title, axis=axis, scale=alt.Scale(type="utc"), **extra)


def _tip(field: str, granularity: str, title: str) -> alt.Tooltip:
    return alt.Tooltip(f"{TIME_UNIT.get(granularity, TIME_UNIT['day'])}({field}):T", title=title,
                       format=TIME_FORMAT.get(granularity, "%b %d"))  # fmt: skip


def time_series(
    df: pd.DataFrame,
    *,
    label: str,
    unit: str,
    granularity: str,
    tz: str,
    stacked: bool = True,
    words: dict[str, str] | None = None,
) -> alt.TopLevelMixin:
    """``df`` has columns bucket (local time), series (the name shown), value and optionally
    grp (rows of grp "other" are drawn last, in grey) and span_h (the hours a row covers).
    Stacked bars for amounts, lines for rates; rows covering more than an hour are bands over
    their whole span; the legend filters the series; tooltips give exact values with units.
    ``words`` names the axes and tooltips: keys time, series, per_hour, whole_bar, from, to
    (English by default); ``label`` and ``unit`` are shown as given."""
    w = {"time": "Time", "series": "Series", "per_hour": "per hour", "whole_bar": "whole bar",
         "from": "From", "to": "To", **(words or {})}  # fmt: skip
    df = df.assign(
        value=pd.to_numeric(df["value"], errors="coerce").astype(float),  # Decimal → float for Vega
        bucket=_as_utc(df["bucket"]),
    )
    other = set(df.loc[df["grp"] == "other", "series"]) if "grp" in df else set()
    names = [s for s in dict.fromkeys(df["series"]) if s not in other]
    domain = names + sorted(other)
    colours = PALETTE[: len(names)] + [OTHER_COLOUR] * len(other)
    pick = alt.selection_point(fields=["series"], bind="legend")
    fmt = ",.2f" if unit in ("USD", "%") else ",.0f"
    with_unit = f"{label} ({unit})" if unit else label
    base = alt.Chart(df).encode(
        x=_x("bucket", granularity, df["bucket"], f"{w['time']} ({tz})"),
        y=alt.Y("value:Q", title=with_unit, stack="zero" if stacked else None,
                axis=alt.Axis(format="~s" if unit not in ("USD", "%") else ",.2f")),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=colours),
                        legend=alt.Legend(orient="bottom", columns=4) if len(domain) > 1 else None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[_tip("bucket", granularity, w["time"]), alt.Tooltip("series:N", title=w["series"]),
                 alt.Tooltip("value:Q", title=with_unit, format=fmt)],
    )  # fmt: skip
    wide = df["span_h"] > 1 if "span_h" in df else pd.Series(False, index=df.index)
    if not stacked or (granularity != "hour" and not wide.any()):
        mark = base.mark_bar(binSpacing=1) if stacked else base.mark_line(point=True)
        return mark.add_params(pick).properties(height=360)
    # Per hour every bar is as wide as the time it covers: an hour, or the whole day (or more)
    # of a daily source, drawn as a lighter band behind the hourly bars, never as a spike in
    # its first hour. Ranged bars do not stack by themselves: the stack is computed here.
    ranged = _stacked_ranges(df, wide, domain)
    per_hour = f"{label} ({unit} {w['per_hour']})" if unit else f"{label} ({w['per_hour']})"
    y = alt.Y(
        "y1:Q",
        title=per_hour,
        axis=alt.Axis(format="~s" if unit not in ("USD", "%") else ",.2f"),
    )
    tip = [
        _tip("bucket", "hour", w["from"]),
        _tip("bucket_end", "hour", w["to"]),
        alt.Tooltip("series:N", title=w["series"]),
        alt.Tooltip(
            "value:Q", title=f"{label} ({unit + ', ' if unit else ''}{w['whole_bar']})", format=fmt
        ),
        alt.Tooltip("per_hour:Q", title=per_hour, format=fmt),
    ]
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=domain, range=colours),
        legend=alt.Legend(orient="bottom", columns=4) if len(domain) > 1 else None,
    )

    x = _x("bucket", "hour", ranged["bucket"], f"{w['time']} ({tz})", unit=False)

    def layer(data: pd.DataFrame, opacity: float, **style: Any) -> alt.Chart:
        return alt.Chart(data).mark_bar(**style).encode(
            x=x, x2="bucket_end:T", y=y, y2="y0:Q", color=colour, tooltip=tip,
            opacity=alt.condition(pick, alt.value(opacity), alt.value(0.1)),
        )  # fmt: skip

    hourly = layer(ranged[~ranged["wide"]], opacity=1.0).add_params(pick)
    if not wide.any():
        return hourly.properties(height=360)
    band = layer(ranged[ranged["wide"]], opacity=0.35, strokeDash=[4, 3], strokeWidth=1)
    return alt.layer(band, hourly).properties(height=360)


def _stacked_ranges(df: pd.DataFrame, wide: pd.Series, order: list[str]) -> pd.DataFrame:
    """Rows with ``bucket_end`` (bucket + span_h hours, or one hour), ``per_hour`` (the value per
    hour it covers) and the stack's ``y0``/``y1`` of ``per_hour``: hourly rows stack per hour and
    wide rows per span start, series in ``order``."""
    span = df["span_h"] if "span_h" in df else pd.Series(1, index=df.index)
    hours = span.clip(lower=1)
    out = df.assign(
        wide=wide.to_numpy(),
        bucket_end=df["bucket"] + pd.to_timedelta(hours, unit="h"),
        # a wide bar is as high as its average per hour, so its area is its total and it reads
        # on the same per-hour axis as the hourly bars
        per_hour=df["value"] / hours,
        _rank=df["series"].map({s: i for i, s in enumerate(order)}),
    ).sort_values(["wide", "bucket", "_rank"])
    out["y1"] = out.groupby(["wide", "bucket"])["per_hour"].cumsum()
    out["y0"] = out["y1"] - out["per_hour"].fillna(0)
    return out.drop(columns="_rank").reset_index(drop=True)


def billed_vs_estimated(df: pd.DataFrame, words: dict[str, str] | None = None) -> alt.TopLevelMixin:
    """Daily bars of the bill with the estimate as a line; ``df``: day, billed, estimated (USD,
    None on a day without one). ``words`` names the parts: keys billed, estimated, day, cost
    (English by default)."""
    w = {"billed": "Billed (cost reports)", "estimated": "Estimated (tokens × prices)",
         "day": "Day (UTC)", "cost": "Cost (USD)", **(words or {})}  # fmt: skip
    long = df.melt(
        id_vars=["day"], value_vars=["billed", "estimated"], var_name="kind", value_name="usd"
    )
    long["usd"] = pd.to_numeric(long["usd"], errors="coerce").astype(float)
    long["day"] = _as_utc(long["day"])
    long["kind"] = long["kind"].map({"billed": w["billed"], "estimated": w["estimated"]})
    colours = alt.Scale(domain=[w["billed"], w["estimated"]], range=[PALETTE[0], PALETTE[1]])
    x = _x("day", "day", long["day"], w["day"])
    y = alt.Y("usd:Q", title=w["cost"], axis=alt.Axis(format="$,.2f"))
    tip = [_tip("day", "day", w["day"]), alt.Tooltip("kind:N", title=""),
           alt.Tooltip("usd:Q", title=w["cost"], format="$,.2f")]  # fmt: skip
    bars = (
        alt.Chart(long[long["kind"] == w["billed"]])
        .mark_bar(opacity=0.85, binSpacing=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N", title=None, scale=colours, legend=alt.Legend(orient="bottom")
            ),
            tooltip=tip,
        )
    )
    line = alt.Chart(long[long["kind"] == w["estimated"]]).mark_line(point=True).encode(
        x=_x("day", "day", long["day"], w["day"], mid=True),
        y=y, color=alt.Color("kind:N", title=None, scale=colours), tooltip=tip)  # fmt: skip
    return (bars + line).properties(height=340)


def trend_chart(
    df: pd.DataFrame,
    *,
    label: str,
    unit: str,
    granularity: str,
    tz: str,
    words: dict[str, str] | None = None,
) -> alt.TopLevelMixin:
    """``df`` from ``add_trends``: the values as bars, the 7-day moving average as a line and
    spikes as red points (tooltips give the usual level). ``words``: keys time, average,
    usual (English by default)."""
    w = {"time": "Time", "average": "7-day average", "usual": "Usual for this weekday/hour",
         **(words or {})}  # fmt: skip
    df = df.assign(bucket=_as_utc(df["bucket"]))
    fmt = ",.2f" if unit in ("USD", "%") else ",.0f"
    x = _x("bucket", granularity, df["bucket"], f"{w['time']} ({tz})")
    mid = _x("bucket", granularity, df["bucket"], f"{w['time']} ({tz})", mid=True)
    y_title = f"{label} ({unit})" if unit else label
    tip = [_tip("bucket", granularity, w["time"]), alt.Tooltip("value:Q", title=y_title, format=fmt),
           alt.Tooltip("ma7:Q", title=w["average"], format=fmt),
           alt.Tooltip("usual:Q", title=w["usual"], format=fmt)]  # fmt: skip
    bars = (
        alt.Chart(df)
        .mark_bar(color=PALETTE[0], opacity=0.75, binSpacing=1)
        .encode(x=x, y=alt.Y("value:Q", title=y_title), tooltip=tip)
    )
    avg = (
        alt.Chart(df)
        .mark_line(color=PALETTE[1], strokeDash=[6, 3], strokeWidth=2)
        .encode(x=mid, y="ma7:Q", tooltip=tip)
    )
    spikes = (
        alt.Chart(df[df["spike"]]).mark_point(color=PALETTE[3], size=120, filled=True, shape="triangle-up")
        .encode(x=mid, y="value:Q", tooltip=tip)
    )  # fmt: skip
    return (bars + avg + spikes).properties(height=360)


def png_bytes(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG image (rendered without a browser by vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def daily_bars(days: list[str], counts: list[int], title: str) -> alt.Chart:
    """A small bar chart of a count per day: ``days`` are the words of each day (in order,
    drawn as categories, never parsed as times), ``title`` names the count (its unit)."""
    df = pd.DataFrame({"day": days, "count": counts})
    return (
        alt.Chart(df)
        .mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("day:O", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
            y=alt.Y("count:Q", title=title, axis=alt.Axis(format="d", tickMinStep=1)),
            tooltip=[alt.Tooltip("day:O", title=None), alt.Tooltip("count:Q", title=title)],
        )
        .properties(height=140)
    )
