"""The global filters in the sidebar, kept in the URL query string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from lib.dimensions import dimension_values
from lib.filters import (
    DIMENSIONS,
    GRANULARITIES,
    MAX_DATE,
    MAX_VALUE_LEN,
    MAX_VALUES,
    MIN_DATE,
    PRESETS,
    Filters,
    QueryIssue,
)
from lib.store import Store
from lib.summary import data_version
from lib.ui.i18n import URL_PARAM
from lib.ui.markup import md

COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
                "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore",
                "Australia/Sydney")  # fmt: skip
DIM_LABELS = {"provider": "Provider", "project": "Project", "model": "Model", "snapshot": "Model snapshot", "api_key": "API key",
              "user_id": "User"}  # fmt: skip


@st.cache_data(show_spinner=False, ttl=600)
def _values(path: str, version: str) -> dict[str, list[str]]:
    from lib.ui.state import _store

    return dimension_values(_store(path))


def issue_text(issue: QueryIssue) -> str:
    """One refused URL parameter in words (Markdown; the value escaped)."""
    value = md(issue.value)
    name = DIM_LABELS.get(issue.param, issue.param)
    return {
        "period": f"the period “{value}” is not one of {', '.join(PRESETS.values())}",
        "dates": f"the custom period “{value}” needs two days written YYYY-MM-DD",
        "date_range": f"the custom period “{value}” must lie between {MIN_DATE:%Y-%m-%d} and "
        f"{MAX_DATE:%Y-%m-%d}",
        "granularity": f"the granularity “{value}” is not one of {', '.join(GRANULARITIES)}",
        "tz": f"the time zone “{value}” is not a zone name the reports know (e.g. Europe/Paris)",
        "dimension": f"the {name.lower()} filter “{value}” has values that are too long, too many "
        f"(over {MAX_VALUES}, or over {MAX_VALUE_LEN} characters) or contain control characters",
    }.get(issue.code, f"the parameter “{md(issue.param)}” could not be read")


def show_query_notice(issues: list[QueryIssue]) -> None:
    """Say which parameters of the link were refused and that their defaults are used."""
    if issues:
        st.warning(
            "This link had values that cannot be used, so the defaults are shown instead: "
            + "; ".join(issue_text(i) for i in issues)
            + ".",
            icon=":material/link_off:",
        )


def _init_state(f: Filters, force: bool) -> None:
    """Set the widgets' values from ``f``: all of them when ``force`` (the first run of a page:
    Streamlit drops the previous page's widget values, so the widgets would fall back to their
    first option), else only those Streamlit has no state for (e.g. after a login run)."""
    values: dict[str, object] = {"f_period": f.preset, "f_gran": f.granularity, "f_tz": f.tz}
    if f.start and f.end:
        values["f_range"] = (f.start, f.end)
    for d in DIMENSIONS:
        values[f"f_{d}"] = list(f.dims.get(d, ()))
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value


def _url_query() -> dict[str, object]:
    """The filters' part of the URL (the language, ``lib.ui.i18n.URL_PARAM``, is not theirs)."""
    return {k: v for k, v in st.query_params.to_dict().items() if k != URL_PARAM} | {
        d: st.query_params.get_all(d) for d in DIMENSIONS if st.query_params.get_all(d)
    }


def sidebar_filters(store: Store, page: str) -> Filters:
    """Draw the filters for ``page``, write them to the URL, return them.

    The URL is the source of truth; moving to another page drops it (Streamlit's navigation
    keeps no query string), so the session keeps a copy that the next page starts from."""
    url = _url_query()
    first_run_here = st.session_state.get("tb_filters_page") != page
    query = url if (url or not first_run_here) else st.session_state.get("tb_filters", {})
    f, issues = Filters.parse_query(query)
    show_query_notice(issues)
    _init_state(f, force=first_run_here)
    st.session_state["tb_filters_page"] = page
    sb = st.sidebar
    sb.subheader("Filters")
    preset = sb.selectbox("Period", list(PRESETS), format_func=PRESETS.get, key="f_period")
    start = end = None
    if preset == "custom":
        today = datetime.now(UTC).date()
        default = st.session_state.get("f_range") or (today - timedelta(days=29), today)
        picked = sb.date_input("From – to", value=default, key="f_range")
        if isinstance(picked, tuple | list) and len(picked) == 2:
            start, end = picked
    gran = sb.radio(
        "Granularity", GRANULARITIES, horizontal=True, key="f_gran", format_func=str.capitalize
    )
    zones = list(dict.fromkeys([st.session_state.get("f_tz", "UTC"), *COMMON_ZONES]))
    tz = sb.selectbox(
        "Reporting time zone", zones, key="f_tz", help="Days and months are cut in this zone."
    )
    options = _values(store.path, data_version(store))
    dims: dict[str, tuple[str, ...]] = {}
    for d in DIMENSIONS:
        chosen = st.session_state.get(f"f_{d}", [])
        opts = sorted(set(options.get(d, [])) | set(chosen))
        picked = sb.multiselect(DIM_LABELS[d], opts, key=f"f_{d}", placeholder="All")
        if picked:
            dims[d] = tuple(sorted(picked))
    if preset == "custom" and not (start and end):
        preset = f.preset if f.preset != "custom" else "30d"
    result = Filters(preset, start, end, gran, tz, dims)
    query = result.to_query()
    st.session_state["tb_filters"] = query
    kept = {k: v for k, v in st.query_params.to_dict().items() if k == URL_PARAM}
    if query | kept != st.query_params.to_dict():
        st.query_params.from_dict(query | kept)
    return result
