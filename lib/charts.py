"""Chart builders: plain functions that take aggregated DataFrames and return Altair charts."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Readable, distinguishable colours for up to 12 series (the rest are grouped as "other").
PALETTE = ["#4F46E5", "#F59E0B", "#10B981", "#EF4444", "#06B6D4", "#8B5CF6", "#EC4899", "#84CC16",
           "#F97316", "#14B8A6", "#64748B", "#A855F7"]  # fmt: skip
OTHER_COLOUR = "#CBD5E1"
TIME_FORMAT = {"hour": "%b %d %H:%M", "day": "%b %d", "month": "%b %Y"}


def time_series(
    df: pd.DataFrame, *, label: str, unit: str, granularity: str, tz: str, stacked: bool = True
) -> alt.Chart:
    """``df`` has columns bucket (local time), series, value (and optionally span_h, the hours a
    row covers). Stacked bars for amounts, lines for rates; rows covering more than an hour are
    bands over their whole span; the legend filters the series; tooltips give exact values
    with units."""
    df = df.assign(
        value=pd.to_numeric(df["value"], errors="coerce").astype(float)
    )  # Decimal → float for Vega
    names = [s for s in dict.fromkeys(df["series"]) if s != "other"]
    domain = names + (["other"] if "other" in set(df["series"]) else [])
    colours = PALETTE[: len(names)] + ([OTHER_COLOUR] if "other" in domain else [])
    pick = alt.selection_point(fields=["series"], bind="legend")
    fmt = ",.2f" if unit in ("USD", "%") else ",.0f"
    base = alt.Chart(df).encode(
        x=alt.X("bucket:T", title=f"Time ({tz})", axis=alt.Axis(format=TIME_FORMAT.get(granularity, "%b %d"))),
        y=alt.Y("value:Q", title=f"{label} ({unit})", stack="zero" if stacked else None,
                axis=alt.Axis(format="~s" if unit not in ("USD", "%") else ",.2f")),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=colours),
                        legend=alt.Legend(orient="bottom", columns=4) if len(domain) > 1 else None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[alt.Tooltip("bucket:T", title="Time", format=TIME_FORMAT.get(granularity, "%b %d")),
                 alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("value:Q", title=f"{label} ({unit})", format=fmt)],
    )  # fmt: skip
    wide = df["span_h"] > 1 if "span_h" in df else pd.Series(False, index=df.index)
    if not stacked or (granularity != "hour" and not wide.any()):
        mark = base.mark_bar() if stacked else base.mark_line(point=True)
        return mark.add_params(pick).properties(height=360)
    # Per hour every bar is as wide as the time it covers: an hour, or the whole day (or more)
    # of a daily source, drawn as a lighter band behind the hourly bars, never as a spike in
    # its first hour. Ranged bars do not stack by themselves: the stack is computed here.
    ranged = _stacked_ranges(df, wide, domain)
    y = alt.Y(
        "y1:Q",
        title=f"{label} ({unit} per hour)",
        axis=alt.Axis(format="~s" if unit not in ("USD", "%") else ",.2f"),
    )
    tip = [
        alt.Tooltip("bucket:T", title="From", format=TIME_FORMAT["hour"]),
        alt.Tooltip("bucket_end:T", title="To", format=TIME_FORMAT["hour"]),
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("value:Q", title=f"{label} ({unit}, whole bar)", format=fmt),
        alt.Tooltip("per_hour:Q", title=f"{label} ({unit} per hour)", format=fmt),
    ]
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=domain, range=colours),
        legend=alt.Legend(orient="bottom", columns=4) if len(domain) > 1 else None,
    )

    def layer(data: pd.DataFrame, opacity: float, **style: object) -> alt.Chart:
        return alt.Chart(data).mark_bar(**style).encode(
            x=alt.X("bucket:T", title=f"Time ({tz})", axis=alt.Axis(format=TIME_FORMAT["hour"])),
            x2="bucket_end:T", y=y, y2="y0:Q", color=colour, tooltip=tip,
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


def billed_vs_estimated(df: pd.DataFrame) -> alt.Chart:
    """Daily bars of the bill with the estimate as a line; ``df``: day, billed, estimated (USD)."""
    long = df.melt(
        id_vars=["day"], value_vars=["billed", "estimated"], var_name="kind", value_name="usd"
    )
    long["usd"] = pd.to_numeric(long["usd"], errors="coerce").astype(float)
    long["kind"] = long["kind"].map(
        {"billed": "Billed (cost reports)", "estimated": "Estimated (tokens × prices)"}
    )
    colours = alt.Scale(
        domain=["Billed (cost reports)", "Estimated (tokens × prices)"],
        range=[PALETTE[0], PALETTE[1]],
    )
    x = alt.X("day:T", title="Day (UTC)", axis=alt.Axis(format="%b %d"))
    y = alt.Y("usd:Q", title="Cost (USD)", axis=alt.Axis(format="$,.2f"))
    tip = [alt.Tooltip("day:T", title="Day", format="%Y-%m-%d"), alt.Tooltip("kind:N", title=""),
           alt.Tooltip("usd:Q", title="USD", format="$,.2f")]  # fmt: skip
    bars = (
        alt.Chart(long[long["kind"].str.startswith("Billed")])
        .mark_bar(opacity=0.85)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N", title=None, scale=colours, legend=alt.Legend(orient="bottom")
            ),
            tooltip=tip,
        )
    )
    line = alt.Chart(long[long["kind"].str.startswith("Estimated")]).mark_line(point=True).encode(
        x=x, y=y, color=alt.Color("kind:N", title=None, scale=colours), tooltip=tip)  # fmt: skip
    return (bars + line).properties(height=340)


def trend_chart(df: pd.DataFrame, *, label: str, unit: str, granularity: str, tz: str) -> alt.Chart:
    """``df`` from ``add_trends``: the values as bars, the 7-day moving average as a line and
    spikes as red points (tooltips give the usual level)."""
    fmt = ",.2f" if unit in ("USD", "%") else ",.0f"
    tfmt = TIME_FORMAT.get(granularity, "%b %d")
    x = alt.X("bucket:T", title=f"Time ({tz})", axis=alt.Axis(format=tfmt))
    y_title = f"{label} ({unit})"
    tip = [alt.Tooltip("bucket:T", title="Time", format=tfmt), alt.Tooltip("value:Q", title=y_title, format=fmt),
           alt.Tooltip("ma7:Q", title="7-day average", format=fmt),
           alt.Tooltip("usual:Q", title="Usual for this weekday/hour", format=fmt)]  # fmt: skip
    base = alt.Chart(df).encode(x=x)
    bars = base.mark_bar(color=PALETTE[0], opacity=0.75).encode(
        y=alt.Y("value:Q", title=y_title), tooltip=tip
    )
    avg = base.mark_line(color=PALETTE[1], strokeDash=[6, 3], strokeWidth=2).encode(
        y="ma7:Q", tooltip=tip
    )
    spikes = (
        alt.Chart(df[df["spike"]]).mark_point(color=PALETTE[3], size=120, filled=True, shape="triangle-up")
        .encode(x=x, y="value:Q", tooltip=tip)
    )  # fmt: skip
    return (bars + avg + spikes).properties(height=360)


def png_bytes(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG image (rendered without a browser by vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)
