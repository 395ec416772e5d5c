"""Sentences of lib that a page can still say in its own language.

``N_("…")`` marks a constant text for the catalog (``lib.i18n``; translated where it is
shown). ``N_("{n} rows skipped", n=3)`` returns a ``Text``: the English ``str`` that the
command line, logs and the ledger use, which keeps its message id and values. Low in the
layers (imports nothing of Tokenboard) so that every module, ``lib.errors`` included, can
write its sentences this way.
"""

from __future__ import annotations


class Text(str):
    """An English sentence of lib that keeps its message id and values, so a page can say it
    in its own language: ``N_("{n} rows skipped", n=3)`` is the ``str`` "3 rows skipped" (for
    the command line, logs and the ledger) whose ``template`` is the catalog's id and whose
    ``values`` are put into the translation. Values are shown as they are, except numbers
    (thousands separated; in a page, in the page's locale) and other ``Text`` (translated too).
    """

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, values: dict[str, object] | None = None) -> Text:
        if isinstance(template, Text) and not values:
            return template  # already a Text: Text(Text) is itself
        values = dict(values or {})
        english = (
            template.format(**{k: english_value(v) for k, v in values.items()})
            if values
            else template
        )
        obj = super().__new__(cls, english)
        obj.template = template
        obj.values = values
        return obj

    def __reduce__(self) -> tuple[object, ...]:  # pickled (st.cache_data) with its parts
        return (Text, (self.template, self.values))


def english_value(value: object) -> object:
    """``value`` as an English sentence shows it: whole numbers with thousands separators."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


def N_(msgid: str, /, **values: object) -> str:  # gettext's name for a no-op marker
    """Mark ``msgid`` for the catalog without translating it now (module-level tables whose
    words are translated when shown: ``_(item.label)``). With ``values``, a ``Text``: the
    English sentence that a page can still translate (``lib.ui.i18n.say``)."""
    return Text(msgid, values) if values else msgid
