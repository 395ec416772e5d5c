"""The language of the page being drawn, and the catalog and formats bound to it.

Which language, first that applies:
1. ``?lang=fr`` / ``?lang=en`` in the URL (a shared link opens in its language). Once seen,
   the tab keeps it (and puts it back in the URL when a page change drops the query string).
2. The language the user chose with the sidebar switch, saved with their account.
3. The organisation's default language (Settings → Reporting defaults), when an admin set one.
4. The browser's ``Accept-Language`` header.
5. English.

Pages write ``_("Costs")``, ``n_("{n} preset", "{n} presets", count)`` and format with
``money(…)``, ``number(…)``, ``compact(…)``… of this module: all use the current language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

import streamlit as st

from lib.i18n import formats
from lib.i18n.catalog import (
    DEFAULT_LANG,
    LANGUAGES,
    from_accept_language,
    normalize,
    translate,
    translate_plural,
)
from lib.text import N_, Text

URL_PARAM = "lang"  # the query-string parameter; the global filters leave it alone
_NOW = "tb_lang"  # this run's language
_EXPLICIT = "tb_lang_url"  # the language a link or the switch asked for in this tab
_USER = "tb_lang_user"  # the signed-in user's saved language
_PICK = "tb_lang_pick"  # the switch widget

__all__ = [
    "LANGUAGES",
    "N_",
    "URL_PARAM",
    "_",
    "adopt_user_language",
    "compact",
    "day",
    "integer",
    "lang",
    "language_switch",
    "moment",
    "money",
    "n_",
    "number",
    "percent",
    "resolve_language",
    "seconds",
    "t",
]  # fmt: skip


def _header_language() -> str | None:
    try:
        return from_accept_language(st.context.headers.get("Accept-Language"))
    except Exception:  # no request headers (tests, bare mode)
        return None


def _org_language() -> str | None:
    """The organisation's default language of the settings (None: not set, or the database
    cannot be read now: the browser's language decides)."""
    try:
        from lib.config import resolve_db_path
        from lib.settings import LANGUAGE, get
        from lib.ui.state import _store  # imported here: lib.ui.state imports this module

        return normalize(get(_store(resolve_db_path(None)), LANGUAGE))
    except Exception:  # the login form draws in the browser's language rather than not at all
        return None


def resolve_language() -> str:
    """Decide this run's language (before anything is drawn) and return it. Only the URL
    and this tab are known here; ``adopt_user_language`` adds the account's choice."""
    S = st.session_state
    raw = st.query_params.get(URL_PARAM)
    asked = normalize(raw)
    if asked:
        S[_EXPLICIT] = asked
    S[_NOW] = (
        S.get(_EXPLICIT) or S.get(_USER) or _org_language() or _header_language() or DEFAULT_LANG
    )
    return S[_NOW]


def keep_in_url(code: str | None = None) -> None:
    """Put the tab's chosen language back in the URL (a page change, which drops the query
    string, or a filter change that rewrote it). Called once the page's filters are drawn:
    before, a language alone in the URL would read as a link without filters."""
    code = code or st.session_state.get(_EXPLICIT)
    if code and st.query_params.get(URL_PARAM) != code:
        st.query_params[URL_PARAM] = code
    elif not code and URL_PARAM in st.query_params:  # a language we do not have leaves the URL
        del st.query_params[URL_PARAM]


def adopt_user_language(saved: str | None) -> str:
    """After sign-in: the account's saved language applies unless the URL or the switch
    chose one in this tab (an account that chose none keeps the organisation's default, else
    the browser's). Returns the language of this run."""
    S = st.session_state
    S[_USER] = normalize(saved)
    if not S.get(_EXPLICIT) and S[_USER]:
        S[_NOW] = S[_USER]
    return lang()


def lang() -> str:
    """The language of this run ("en" before ``resolve_language`` ran)."""
    return st.session_state.get(_NOW) or DEFAULT_LANG


def explicit_language() -> str | None:
    """The language the URL or the switch asked for in this tab, if any."""
    return st.session_state.get(_EXPLICIT)


def _(msgid: str, /, **values: object) -> str:
    """``msgid`` in the current language, with ``values`` put into its ``{fields}``."""
    return translate(msgid, lang(), **values)


t = _


def n_(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The singular or plural form for the count ``n`` (``{n}`` is filled in)."""
    return translate_plural(singular, plural, n, lang(), **values)


def say(text: str) -> str:
    """A sentence of lib in the current language: a ``Text`` (``N_`` with values) is
    translated with its values put in (numbers in the page's locale, nested ``Text``
    translated too); a plain ``str`` is translated when it is a catalog id (the constant texts
    lib marks with ``N_``) and shown as it is otherwise. Not escaped: wrap it in ``md()``."""
    if not isinstance(text, Text):
        return _(text) if text else text
    values = {k: _said_value(v) for k, v in text.values.items()}
    return _(text.template, **values)


def _said_value(value: object) -> object:
    if isinstance(value, Text):
        return say(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return integer(value)
    return value


def language_switch(container: Any, *, on_saved: Callable[[str], None] | None = None) -> None:
    """The language choice (each language named in itself). Choosing one puts it in the URL,
    keeps it for this tab and, through ``on_saved(code)``, saves it with the account."""
    S = st.session_state

    def changed() -> None:
        code = normalize(S.get(_PICK)) or DEFAULT_LANG
        S[_EXPLICIT] = S[_NOW] = code
        st.query_params[URL_PARAM] = code
        if on_saved is not None:
            on_saved(code)

    S[_PICK] = lang()
    container.segmented_control(
        _("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key=_PICK, on_change=changed,
        required=True, label_visibility="collapsed",
    )  # fmt: skip


# -- formats in the current language (see lib.i18n.formats) --------------------------------


def number(value: formats.Number | None, digits: int | None = None) -> str:
    return formats.number(value, lang(), digits)


def integer(value: object) -> str:
    return formats.integer(value, lang())


def compact(value: formats.Number | None, digits: int = 1) -> str:
    return formats.compact(value, lang(), digits)


def money(value: formats.Number | None, currency: str = "USD", digits: int | None = 2) -> str:
    return formats.money(value, lang(), currency, digits)


def percent(ratio: formats.Number | None, digits: int = 1, signed: bool = False) -> str:
    return formats.percent(ratio, lang(), digits, signed)


def day(value: date | datetime | None, style: str = "medium") -> str:
    return formats.day(value, lang(), style)


def moment(value: datetime | None, style: str = "short", tz: str | tzinfo = "UTC") -> str:
    return formats.moment(value, lang(), style, tz)


def seconds(value: formats.Number | None, digits: int = 2) -> str:
    return formats.seconds(value, lang(), digits)
