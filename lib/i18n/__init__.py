"""Words and formats in English and French: one gettext catalog (``locales/``) read with
Babel, and locale formatting of numbers, money, percentages and dates. No streamlit here:
``lib.ui.i18n`` binds these to the language of the page being drawn.

- ``translate(msgid, lang, **values)`` / ``translate_plural(singular, plural, n, lang)``
- ``N_(msgid)`` marks a word for the catalog where it is defined and translated later
- ``formats``: ``number``, ``compact``, ``money``, ``percent``, ``day``, ``moment``, ``seconds``

Translating a page
------------------
1. In the page, ``from lib.ui.i18n import _, n_`` (and ``money``, ``number``, ``compact``,
   ``percent``, ``day``, ``moment`` for figures). Every word shown goes through ``_``:
   ``st.title(_("Costs"))``, ``st.metric(_("Spend"), money(total))``. Values go into
   ``{fields}``, never into an f-string around the id: ``_("{n} rows imported", n=number(k))``;
   counts that change the wording use ``n_("{n} row", "{n} rows", k)``. Markdown stays in
   the id (``"**{name}** · {role}"``); values from data go through ``md()`` as before.
   Do not use ``_`` as a throwaway variable in a page (``for _ in …``, ``_, col = …``).
2. Words kept in tables outside the page (labels of a ``dict``, codes lib returns) are
   marked where they are written with ``N_("Usage")`` and shown with ``_(label)``. English
   sentences of lib that a page shows as they are belong in a ``message_ids()`` list of a
   module named in ``lib.i18n.extract.RUNTIME``.
3. ``python -m lib.i18n.extract`` adds the new ids to ``locales/fr/LC_MESSAGES/
   tokenboard.po`` with an empty ``msgstr`` and lists them; fill each one in French (product
   words: jetons, coût, dépense, requêtes, clé d'API, tableau de bord; a no-break space
   before ``: ; ? !`` and inside « »).
4. Add the page to ``TRANSLATED`` in ``tests/test_i18n.py`` and run that file: it fails on
   an id without a French translation (or with other ``{fields}``), on a word shown by a
   streamlit call without the catalog, and on French typography.
"""

from lib.i18n.catalog import (
    DEFAULT_LANG,
    LANGUAGES,
    from_accept_language,
    normalize,
    translate,
    translate_plural,
)
from lib.text import N_, Text

__all__ = ["DEFAULT_LANG", "LANGUAGES", "N_", "Text", "from_accept_language", "normalize", "translate",
           "translate_plural"]  # fmt: skip
