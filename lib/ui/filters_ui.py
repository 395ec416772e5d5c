"""The global filters in the sidebar, kept in the URL query string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from lib.dimensions import dimension_values
from lib.filters import DIMENSIONS, GRANULARITIES, PRESETS, Filters
from lib.store import Store
from lib.summary import data_version

COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
                "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore",
                "Australia/Sydney")  # fmt: skip
DIM_LABELS = {"provider": "Provider", "project": "Project", "model": "Model", "api_key": "API key",
              "user_id": "User"}  # fmt: skip


@st.cache_data(show_spinner=False, ttl=600)
def _values(path: str, version: str) -> dict[str, list[str]]:
    from lib.ui.state import _store

    return dimension_values(_store(path))


def _init_state(f: Filters) -> None:
    """Widgets take their value from the URL whenever Streamlit has no state for them (the
    first run, and any run after a rerun in which they were not drawn, e.g. during login)."""
    values: dict[str, object] = {"f_period": f.preset, "f_gran": f.granularity, "f_tz": f.tz}
    if f.start and f.end:
        values["f_range"] = (f.start, f.end)
    for d in DIMENSIONS:
        values[f"f_{d}"] = list(f.dims.get(d, ()))
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def sidebar_filters(store: Store) -> Filters:
    """Draw the filters, write them to the URL, return them."""
    f = Filters.from_query(
        st.query_params.to_dict()
        | {d: st.query_params.get_all(d) for d in DIMENSIONS if st.query_params.get_all(d)}
    )
    _init_state(f)
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
    if query != {k: v for k, v in st.query_params.to_dict().items()}:
        st.query_params.from_dict(query)
    return result
