"""The one catalog of words: gettext ``.po`` files under ``locales/``, read with Babel.

Messages are written in English in the code (the English text is the message id), and
``locales/<lang>/LC_MESSAGES/tokenboard.po`` gives each one in another language. A ``.po``
file is compiled in memory the first time a language is asked for (no build step; the
result is cached for the process, and read again when the file changes). An entry that is
missing, empty or marked fuzzy falls back to the English text, so a page never shows an
empty label.

Placeholders are ``str.format`` fields: ``translate("Signed in as {name}", "fr", name=…)``.
A translation whose fields do not match its message id is not used (the English text is
formatted instead), so a slip in a ``.po`` file never breaks a page.
"""

from __future__ import annotations

import gettext
import io
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from lib.config import PROJECT_ROOT

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}  # code -> its own name
DEFAULT_LANG = "en"
DOMAIN = "tokenboard"
LOCALES_DIR = PROJECT_ROOT / "locales"
# gettext's plural rule per language (Babel's CLDR default for French has a third form for
# millions, which no one writes by hand): French uses the singular for 0 and 1.
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}

_lock = threading.Lock()
# per language: (the file's mtime, when it was last looked at (monotonic s), the catalog)
_loaded: dict[str, tuple[float | None, float, gettext.NullTranslations]] = {}
RECHECK_S = 2.0  # a page asks for hundreds of words: the file is looked at once in this time


def normalize(code: object) -> str | None:
    """A supported language code from ``code`` ("fr", "FR", "fr-CA", "fr_FR" → "fr"), or
    ``None`` when it is not one we have."""
    if not isinstance(code, str):
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most, from an ``Accept-Language`` header
    ("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5" → "fr"); ``None`` when it names none of ours.
    Entries with ``q=0`` are refusals; malformed ``q`` values count as 1."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 1.0
        lang = normalize(tag)
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog | None:
    """The parsed ``.po`` file of ``lang`` (``None`` when there is none, as for English)."""
    path = po_path(lang)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def _compile(catalog: Catalog) -> gettext.NullTranslations:
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out, as msgfmt does
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English, or a language without a file: the message
    ids themselves). Compiled once per process and again when the ``.po`` file changes
    (looked at no more than once every ``RECHECK_S`` seconds, not on every word)."""
    now = time.monotonic()
    with _lock:
        cached = _loaded.get(lang)
    if cached and now - cached[1] < RECHECK_S:
        return cached[2]
    path = po_path(lang)
    try:
        mtime: float | None = path.stat().st_mtime_ns
    except OSError:
        mtime = None
    if cached and cached[0] == mtime:
        compiled = cached[2]
    else:
        catalog = read_catalog(lang) if mtime is not None else None
        compiled = _compile(catalog) if catalog is not None else gettext.NullTranslations()
    with _lock:
        _loaded[lang] = (mtime, now, compiled)
    return compiled


_FIELD = re.compile(r"(?<!\{)\{([^{}!:]*)[^{}]*\}(?!\})")


def fields(text: str) -> set[str]:
    """The ``str.format`` field names in ``text`` ("{n:,} rows for {name}" → {"n", "name"})."""
    return set(_FIELD.findall(text))


def _format(text: str, fallback: str, values: dict[str, object]) -> str:
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a slip in the .po file: show the English
        return fallback.format(**values)


def translate(msgid: str, lang: str, /, **values: object) -> str:
    """``msgid`` in ``lang``, with ``values`` put into its ``{fields}``."""
    lang = normalize(lang) or DEFAULT_LANG
    text = msgid if lang == DEFAULT_LANG else translations(lang).gettext(msgid)
    return _format(text, msgid, values)


def translate_plural(singular: str, plural: str, n: int, lang: str, /, **values: object) -> str:
    """The form of ``singular``/``plural`` for the count ``n`` in ``lang`` (French uses the
    singular for 0 and 1, English only for 1); ``n`` is also available as ``{n}``."""
    lang = normalize(lang) or DEFAULT_LANG
    if lang == DEFAULT_LANG:
        text = singular if n == 1 else plural
    else:
        text = translations(lang).ngettext(singular, plural, n)
    english = singular if n == 1 else plural
    return _format(text, english, {"n": n, **values})


def missing(msgids: Iterable[str], lang: str) -> list[str]:
    """The message ids among ``msgids`` that ``lang``'s ``.po`` file does not translate (no
    entry, an empty or fuzzy one, or one whose fields differ from the message id's)."""
    catalog = read_catalog(lang)
    out = []
    for msgid in dict.fromkeys(msgids):
        m = catalog.get(msgid) if catalog is not None else None
        strings = [m.string] if m is not None and isinstance(m.string, str) else []
        if m is not None and isinstance(m.string, tuple):
            strings = list(m.string)
        if m is None or m.fuzzy or not strings or not all(s.strip() for s in strings):
            out.append(msgid)
        elif m.pluralizable:  # each form may drop {n} ("une ligne") but add no other field
            allowed = fields(m.id[0]) | fields(m.id[1]) | {"n"}
            if any(not fields(s) <= allowed for s in strings):
                out.append(msgid)
        elif any(fields(s) != fields(msgid) for s in strings):
            out.append(msgid)
    return out
