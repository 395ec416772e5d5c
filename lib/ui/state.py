"""Process-wide resources for the pages: the store (``st.cache_resource``), the page clock
(``now``), the one cache of query results (``cached``) and the demo data loader.

``cached`` keys every result by the data version, the price-catalog version, the settings
version, the filters and their window (``lib.analytics.versions``), so an import, a price
change or a saved budget shows at once and nothing stale lingers."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import streamlit as st

from lib.analytics.versions import versions
from lib.config import resolve_db_path
from lib.errors import TokenboardError
from lib.filters import Filters
from lib.ingest.ledger import ever_imported
from lib.store import Store
from lib.ui.i18n import _, integer
from lib.ui.markup import md

T = TypeVar("T")
NOW_ENV = "TOKENBOARD_NOW"  # tests only: the page clock of a served app
NOW_KEY = "tb_now"  # tests only: the page clock of one session (AppTest)


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


def _parse_now(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def now() -> datetime:
    """The page clock, in UTC, to the minute (so "the last 24 hours" is one window, and one
    cache entry, for a minute). Tests set it: ``st.session_state["tb_now"]`` in AppTest, or
    ``TOKENBOARD_NOW`` for a served app, as an ISO datetime (``2025-01-02T10:30:00Z``; naive
    means UTC). A value that cannot be read is ignored."""
    override = _parse_now(st.session_state.get(NOW_KEY)) or _parse_now(os.environ.get(NOW_ENV))
    moment = override or datetime.now(UTC)
    return moment.replace(second=0, microsecond=0)


def _keyable(value: Any) -> Any:
    """``value`` as something Streamlit's cache hashes the same way whenever it means the
    same (dicts and lists as sorted tuples, filters as their query string)."""
    if isinstance(value, Filters):
        return ("filters", tuple(sorted(value.to_query().items())))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _keyable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_keyable(v) for v in value]
        return (
            tuple(sorted(items, key=repr)) if isinstance(value, set | frozenset) else tuple(items)
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


@st.cache_data(show_spinner=False, max_entries=400)
def _run(key: tuple, _fn: Callable[..., Any], _store: Store, _args: tuple, _kwargs: dict) -> Any:
    return _fn(_store, *_args, **_kwargs)


def cached(
    fn: Callable[..., T],
    store: Store,
    f: Filters | None,
    now: datetime | None,
    *args: Any,
    also: object = None,
    **kwargs: Any,
) -> T:
    """``fn(store, f, *args, now=now, **kwargs)`` (or ``fn(store, *args, **kwargs)`` when ``f``
    is None), computed once per key: ``fn``, the database, the data version, the price-catalog
    version, the settings version, the filters, their window at ``now``, the other arguments
    and ``also``. ``now`` itself is not in the key, only the window it gives: pass ``also``
    (e.g. the day) when ``fn`` uses ``now`` for more than the window (days elapsed, today's
    price)."""
    v = versions(store)
    window = f.window(now) if f is not None else None
    key = (fn.__module__, fn.__qualname__, store.path, v.data, v.prices, v.settings, _keyable(f),
           _keyable(window), _keyable(args), _keyable(kwargs), _keyable(also))  # fmt: skip
    if f is not None:
        return _run(key, fn, store, (f, *args), {**kwargs, "now": now})
    return _run(key, fn, store, args, kwargs)


def demo_autoload_enabled() -> bool:
    """Demo data loads on first start unless ``TOKENBOARD_DEMO=0``."""
    return os.environ.get("TOKENBOARD_DEMO", "1") not in ("0", "false", "no")


def load_demo_into(store: Store) -> None:
    from lib.demo import load_demo

    with st.status(
        _("Loading demo data (90 days of synthetic traffic)…"), expanded=False
    ) as status:
        results = load_demo(store, progress=status.write)
        rows = integer(sum(r.rows_new for r in results))
        status.update(label=_("Demo data loaded: {rows} rows", rows=rows), state="complete")


def ensure_demo_on_first_start(store: Store) -> None:
    """Load demo data once when the database has never had an import."""
    if demo_autoload_enabled() and not ever_imported(store):
        load_demo_into(store)
