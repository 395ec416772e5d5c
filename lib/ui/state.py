"""Process-wide resources for the pages: the store (``st.cache_resource``) and the demo
data loader. Query results are cached by the pages with ``st.cache_data`` keyed by the data
version (``lib.summary.data_version``), so an import shows at once and nothing stale lingers."""

from __future__ import annotations

import os

import streamlit as st

from lib.config import resolve_db_path
from lib.errors import TokenboardError
from lib.store import Store
from lib.summary import ever_imported
from lib.ui.markup import md


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The shared store for ``TOKENBOARD_DB`` (or the default); stops the page with a plain
    message when the database cannot be opened."""
    path = resolve_db_path(None)
    try:
        store = _store(path)
        store.reopen_if_closed()  # after DuckDB closed it on a fatal error (a full disk)
        return store
    except TokenboardError as err:
        st.error(md(err))
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def demo_autoload_enabled() -> bool:
    """Demo data loads on first start unless ``TOKENBOARD_DEMO=0``."""
    return os.environ.get("TOKENBOARD_DEMO", "1") not in ("0", "false", "no")


def load_demo_into(store: Store) -> None:
    from lib.demo import load_demo

    with st.status("Loading demo data (90 days of synthetic traffic)…", expanded=False) as status:
        results = load_demo(store, progress=status.write)
        status.update(
            label=f"Demo data loaded: {sum(r.rows_new for r in results):,} rows", state="complete"
        )


def ensure_demo_on_first_start(store: Store) -> None:
    """Load demo data once when the database has never had an import."""
    if demo_autoload_enabled() and not ever_imported(store):
        load_demo_into(store)
