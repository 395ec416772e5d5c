"""Words and formats in English and French: one gettext catalog (``locales/``) read with
Babel, and locale formatting of numbers, money, percentages and dates. No streamlit here:
``lib.ui.i18n`` binds these to the language of the page being drawn.

- ``translate(msgid, lang, **values)`` / ``translate_plural(singular, plural, n, lang)``
- ``N_(msgid)`` marks a word for the catalog where it is defined and translated later
- ``formats``: ``number``, ``compact``, ``money``, ``percent``, ``day``, ``moment``, ``seconds``
"""

from lib.i18n.catalog import (
    DEFAULT_LANG,
    LANGUAGES,
    N_,
    from_accept_language,
    normalize,
    translate,
    translate_plural,
)

__all__ = ["DEFAULT_LANG", "LANGUAGES", "N_", "from_accept_language", "normalize", "translate",
           "translate_plural"]  # fmt: skip
