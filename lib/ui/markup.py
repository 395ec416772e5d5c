"""Data meets Markdown here: every value that came from a file, an API or a user (provider,
model, project, key and user names, preset names, file names, cell values in messages) is
passed through ``md`` before it is put into text that Streamlit renders as Markdown.

Streamlit renders Markdown in ``st.markdown``/``st.write``/``st.caption``, in alerts
(``st.error``…), in titles, and in widget and expander labels. An imported model called
``![b](http://host/beacon.png)`` would otherwise make every viewer's browser fetch an external
image, and ``[Login again](http://phish)`` would become a link.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all
# also stops GitHub-style autolinks (``http://…``, ``www.…``), Streamlit's ``:color[…]`` and
# ``:material/…:`` directives, tables, headings, lists and emphasis.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_SPACE = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


# Streamlit's Markdown (remark-gfm) turns addresses into links after escapes are resolved, so
# escaping is not enough there: an invisible word joiner (U+2060) breaks ``://``, ``www.`` and
# ``@`` so that no address or e-mail is recognised, while the text reads the same.
_AUTOLINK = re.compile(r"://|(?i:www)\.|@")
_JOINER = "\u2060"


def _unlink(m: re.Match[str]) -> str:
    found = m.group(0)
    if found == "://":
        return ":" + _JOINER + "//"
    if found == "@":
        return "@" + _JOINER
    return found[:3] + _JOINER + found[3:]  # www.


def md(value: object) -> str:
    """``value`` as Markdown that shows exactly its text and nothing else: punctuation
    escaped, addresses kept from becoming links, line breaks folded into one space, control
    characters dropped. ``None`` becomes an empty string."""
    if value is None:
        return ""
    text = _CONTROL.sub("", _SPACE.sub(" ", str(value)))
    text = _AUTOLINK.sub(_unlink, text)
    return _PUNCT.sub(r"\\\1", text)


def code(value: object) -> str:
    """``value`` as inline code: shown verbatim (no link, no image), backticks made harmless."""
    text = _CONTROL.sub("", _SPACE.sub(" ", "" if value is None else str(value)))
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def defuse(text: str | None) -> str:
    """Markdown written by someone else (a model's answer, a shared conversation) with its
    formatting kept but nothing that makes the browser fetch or link anywhere: images and
    links become their text followed by the address as inline code, bare addresses become
    inline code, e-mail addresses are kept from becoming links, raw HTML shows as text. The
    text is parsed as CommonMark and written back (``lib.tickets.text.render_safe``), so no
    spelling of a link or an image (spaces, line breaks, nested brackets, titles, link
    definitions in quotes or lists) gets through."""
    from lib.tickets.text import render_safe  # markdown-it-py, loaded by the pages that use it

    return render_safe(text, keep_links=False, bare_as_code=True)
