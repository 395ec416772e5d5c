"""The global filters in the sidebar, kept in the URL query string.

One rule decides the filters of a run, and the sidebar, the URL and the page all follow it:

1. a run that follows a change in the sidebar (a widget's ``on_change`` marked it) takes the
   values the browser sent;
2. else a run whose URL holds filters takes them (a shared link, a reload, the back button);
3. else the filters of the session's previous run (Streamlit's page navigation drops the
   query string), or the defaults in a new session.

The result is written back on every run, before anything is drawn: into the URL (keeping the
page's own parameters, ``lib.ui.url.PAGE_PARAMS``) and into every filter widget's state, so
the browser shows what the page computes with. Setting a widget's state only once is not
enough: when a run is interrupted (the sign-in cookie's answer reruns the page while its
first run is still drawing), the next run finds the state already set and Streamlit does not
send it again, so the browser showed the widgets' first options ("Last 24 hours", "Hour")
beside a page computed for the last 30 days, and adopted them at the next click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

import streamlit as st

from lib.dimensions import dimension_values
from lib.filters import DIMENSIONS, GRANULARITIES, PRESETS, Filters, QueryIssue, valid_tz
from lib.i18n import DEFAULT_LANG
from lib.settings import reporting_defaults
from lib.store import Store
from lib.ui.i18n import _, lang
from lib.ui.markup import md
from lib.ui.state import cached, now
from lib.ui.url import PAGE_PARAMS, on_change, touched
from lib.ui.words import DIMENSION_LABELS, dimension, granularity, issue, preset

COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
                "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore",
                "Australia/Sydney")  # fmt: skip
DIM_LABELS = DIMENSION_LABELS  # kept for callers of the old name
FILTER_PARAMS = ("period", "from", "to", "gran", "tz", *DIMENSIONS)
_TOUCH = "filters"  # the one change mark all filter widgets share


def _words(word: Callable[[str], str], codes: Iterable[str]) -> Callable[[str], str]:
    """A widget's ``format_func`` with the words of this run's language fixed (a test's
    AppTest calls it outside the page's run, where the language is not known)."""
    table = {c: word(c) for c in codes}
    return lambda c: table.get(c, c)


def worded_key(name: str) -> str:
    """The key of a filter widget whose options are shown as words (the period, the
    granularity): one key per language. Streamlit keeps a radio's or a selectbox's value in the
    browser as the words shown; under one key, a page drawn again in another language could
    keep the old words as its value, which none of the new options match (the granularity
    then showed no choice at all). English keeps the plain key."""
    code = lang()
    return name if code == DEFAULT_LANG else f"{name}_{code}"


def show_query_notice(issues: list[QueryIssue]) -> None:
    """Say which parameters of the link were refused and that their defaults are used."""
    if issues:
        st.warning(
            _(
                "This link had values that cannot be used, so the defaults are shown instead: "
                "{problems}.",
                problems="; ".join(issue(i) for i in issues),
            ),
            icon=":material/link_off:",
        )


def _url_query() -> dict[str, object]:
    """The filter parameters of the URL (repeated dimension parameters as lists)."""
    out: dict[str, object] = {}
    for k in FILTER_PARAMS:
        values = st.query_params.get_all(k)
        if values:
            out[k] = values if k in DIMENSIONS else values[-1]
    return out


def _from_widgets(previous: Filters) -> Filters:
    """The filters the sidebar's widgets hold (the values the browser sent). A custom period
    still being picked (one day chosen of two) keeps the previous period."""
    S = st.session_state
    chosen = S.get(worded_key("f_period"), previous.preset)
    start = end = None
    if chosen == "custom":
        picked = S.get("f_range")
        if picked is None:  # the period was just switched to custom: the last 30 days
            today = now().date()
            start, end = today - timedelta(days=29), today
        elif isinstance(picked, tuple | list) and len(picked) == 2 and all(picked):
            start, end = sorted(picked)
        else:  # one day picked of two: the page keeps the period it had
            chosen = previous.preset
            start, end = previous.start, previous.end
    g = S.get(worded_key("f_gran"))
    gran = str(g) if g in GRANULARITIES else previous.granularity
    tz = valid_tz(S.get("f_tz"))
    dims = {d: tuple(sorted(map(str, S.get(f"f_{d}") or ()))) for d in DIMENSIONS}
    f = Filters(chosen if chosen in PRESETS else previous.preset, start, end, gran, tz,
                {d: v for d, v in dims.items() if v}, previous.default_tz)  # fmt: skip
    # what the URL would give back: the same values, cleaned the same way
    return Filters.parse_query(f.to_query(), previous.default_tz)[0]


def _write_url(f: Filters) -> None:
    """The filters into the URL, the page's own parameters kept, only when it changes."""
    keep = {k: st.query_params.get_all(k) for k in PAGE_PARAMS if k in st.query_params}
    query: dict[str, str] = {**f.to_query(), **{k: v[-1] for k, v in keep.items() if v}}
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != query:
        st.query_params.from_dict(query)


def _set_widgets(f: Filters, picking_range: bool) -> None:
    """Every filter widget's state from ``f`` (sent to the browser with the widget), except
    the period and its days while a custom period is being picked."""
    S = st.session_state
    if not picking_range:
        S[worded_key("f_period")] = f.preset
        if f.preset == "custom" and f.start and f.end:
            S["f_range"] = (f.start, f.end)
    S[worded_key("f_gran")], S["f_tz"] = f.granularity, f.tz
    for d in DIMENSIONS:
        S[f"f_{d}"] = list(f.dims.get(d, ()))


def current_filters(page: str, default_tz: str = "UTC") -> tuple[Filters, list[QueryIssue], bool]:
    """This run's filters (see the module's rule), the URL parameters refused, and whether a
    custom period is still being picked in the sidebar. ``default_tz``: the zone of a URL
    that names none (the reporting defaults')."""
    S = st.session_state
    last = S.get("tb_filters")
    previous = (
        Filters.parse_query(last, default_tz)[0]
        if last is not None
        else Filters(tz=default_tz, default_tz=default_tz)
    )
    issues: list[QueryIssue] = []
    picking = False
    if touched(_TOUCH):
        f = _from_widgets(previous)
        picking = S.get(worded_key("f_period")) == "custom" and f.preset != "custom"
    else:
        url = _url_query()
        if url or last is None:
            f, issues = Filters.parse_query(url, default_tz)
        else:
            f = previous
    S["tb_filters"], S["tb_filters_page"] = f.to_query(), page
    return f, issues, picking


def sidebar_filters(store: Store, page: str) -> Filters:
    """Draw the filters for ``page``, write them to the URL, return them. Without a zone in
    the URL, days are cut in the reporting defaults' time zone (Settings)."""
    f, issues, picking = current_filters(
        page, cached(reporting_defaults, store, None, None).time_zone
    )
    _write_url(f)
    _set_widgets(f, picking)
    show_query_notice(issues)
    sb = st.sidebar
    sb.subheader(_("Filters"))
    touch = on_change(_TOUCH)
    sb.selectbox(
        _("Period"),
        list(PRESETS),
        format_func=_words(preset, PRESETS),
        key=worded_key("f_period"),
        **touch,
    )
    if st.session_state.get(worded_key("f_period")) == "custom":
        sb.date_input(_("From – to"), key="f_range", **touch)
    sb.radio(_("Granularity"), GRANULARITIES, horizontal=True, key=worded_key("f_gran"), format_func=_words(granularity, GRANULARITIES),
             **touch)  # fmt: skip
    zones = list(dict.fromkeys([f.tz, *COMMON_ZONES]))
    sb.selectbox(_("Reporting time zone"), zones, key="f_tz", help=_("Days and months are cut in this zone."),
                 **touch)  # fmt: skip
    options = cached(dimension_values, store, None, None)
    for d in DIMENSIONS:
        chosen = list(f.dims.get(d, ()))
        opts = sorted(set(options.get(d, [])) | set(chosen))
        sb.multiselect(dimension(d), opts, key=f"f_{d}", placeholder=_("All"), **touch)
    return f


__all__ = ["COMMON_ZONES", "DIM_LABELS", "md", "show_query_notice", "sidebar_filters"]
