"""Page controls kept in the URL, so a copied link reopens the same view: the Usage metric and
breakdown, the Costs what-if, the selected tab.

Each control follows one rule, the same as the sidebar filters (``lib.ui.filters_ui``):

- a run that follows a change of the control (its ``on_change`` marked it) takes the value
  the browser sent;
- any other run takes the value from the URL (a bad or missing one falls back to the
  default);
- the value is then written back into the widget's state on every run, before the widget is
  drawn, so the browser always shows what the page computes with (a widget whose state
  was set in a run that got interrupted would otherwise show its first option), and into
  the URL (a default value leaves the URL).

The sidebar filters rewrite the URL with their own parameters and keep these (``PAGE_PARAMS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")
# Parameters that belong to page controls (and the language): the filters leave them alone.
PAGE_PARAMS: tuple[str, ...] = (
    "metric",
    "by",
    "top",
    "pct",
    "tab",
    "tops",
    "move",
    "into",
    "share",
    "show",
    "class",
    "code",
    "page",
    "lang",
)
_TOUCHED = "tb_touched_"


def _touch(key: str) -> None:
    st.session_state[_TOUCHED + key] = True


def touched(key: str) -> bool:
    """True (once) when this run follows a change of the widget ``key`` in the browser."""
    return bool(st.session_state.pop(_TOUCHED + key, False))


def on_change(key: str) -> dict[str, Any]:
    """The ``on_change``/``args`` of a widget whose changes ``touched`` reports."""
    return {"on_change": _touch, "args": (key,)}


def write_param(param: str, text: str | None) -> None:
    """Set (or, with None, remove) one URL parameter, only when it changes."""
    if text is None:
        if param in st.query_params:
            del st.query_params[param]
            changed()
    elif st.query_params.get(param) != text:
        st.query_params[param] = text
        changed()


_WATCH = "tb_url_watch"


def watch(redraw: Callable[[], None] | None) -> None:
    """Call ``redraw`` whenever a control of this run changes the URL (the frame's links that
    carry the current view)."""
    st.session_state[_WATCH] = redraw


def changed() -> None:
    """Tell the watcher (``watch``) that the URL changed."""
    redraw = st.session_state.get(_WATCH)
    if redraw is not None:
        redraw()


def resolve(
    key: str,
    param: str,
    default: T,
    parse: Callable[[str], T | None],
    write: Callable[[T], str] = str,
) -> T:
    """The control's value this run (see the module's rule), written to the widget's state
    and the URL. ``parse`` reads the URL's text (None when it is not a valid value)."""
    if touched(key) and key in st.session_state:
        value = st.session_state[key]
        value = value if value is not None else default
    else:
        raw = st.query_params.get(param)
        value = parse(raw) if raw not in (None, "") else None
        value = default if value is None else value
    st.session_state[key] = value
    write_param(param, None if value == default else write(value))
    return value


def choice(
    container: Any,
    label: str,
    options: Sequence[T],
    *,
    key: str,
    param: str,
    default: T | None = None,
    format_func: Callable[[T], str] = str,
    write: Callable[[T], str] = str,
    widget: str = "selectbox",
    **kwargs: Any,
) -> T:
    """A selectbox (or ``widget``: radio, segmented_control…) kept in the URL as ``param``
    (the option written by ``write``, matched back against ``options``)."""
    opts = list(options)
    fallback = default if default is not None and default in opts else opts[0]
    by_text = {write(o): o for o in opts}
    value = resolve(key, param, fallback, by_text.get, write)
    if value not in opts:  # the options changed under a value picked before
        value = st.session_state[key] = fallback
        write_param(param, None)
    draw = getattr(container, widget)
    draw(label, opts, format_func=format_func, key=key, **on_change(key), **kwargs)
    return value


def number(
    container: Any,
    label: str,
    *,
    key: str,
    param: str,
    default: int,
    lo: int,
    hi: int,
    widget: str = "number_input",
    **kwargs: Any,
) -> int:
    """A whole number in [lo, hi] (number_input or slider) kept in the URL as ``param``."""

    def parse(text: str) -> int | None:
        try:
            v = int(text)
        except ValueError:
            return None
        return v if lo <= v <= hi else None

    value = resolve(key, param, default, parse)
    getattr(container, widget)(
        label, min_value=lo, max_value=hi, key=key, **on_change(key), **kwargs
    )
    return int(value)


def tabs(
    labels: dict[str, str], *, key: str, param: str = "tab", default: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Tabs kept in the URL as ``param`` (the tab's code, not its words). Returns the open
    tab's code and the tab containers by code; only the open tab needs drawing (the others
    are empty until chosen, which reruns the page)."""
    codes = list(labels)
    first = default if default in labels else codes[0]
    by_label = {v: k for k, v in labels.items()}

    def parse(text: str) -> str | None:
        return text if text in labels else None

    code: str = first
    if touched(key) and key in st.session_state:
        code = by_label.get(st.session_state[key], first)
    else:
        raw = st.query_params.get(param)
        code = (parse(raw) if raw else None) or first
    st.session_state[key] = labels[code]
    write_param(param, None if code == first else code)
    containers = st.tabs(list(labels.values()), key=key, **on_change(key))
    return code, dict(zip(codes, containers, strict=True))


def many(
    container: Any,
    label: str,
    options: Sequence[str],
    *,
    key: str,
    param: str,
    format_func: Callable[[str], str] = str,
    **kwargs: Any,
) -> list[str]:
    """A multiselect kept in the URL as ``param`` (the chosen options joined by commas, in the
    order of ``options``); values the options do not hold are dropped."""
    opts = list(options)

    def parse(text: str) -> list[str] | None:
        picked = [o for o in opts if o in set(text.split(","))]
        return picked or None

    empty: list[str] = []
    value = resolve(key, param, empty, parse, ",".join)
    kept = [o for o in opts if o in value]
    if kept != value:
        st.session_state[key] = kept
        write_param(param, ",".join(kept) or None)
    container.multiselect(label, opts, format_func=format_func, key=key, **on_change(key), **kwargs)
    return kept
