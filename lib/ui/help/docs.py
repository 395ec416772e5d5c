"""The Help page's "Documentation" tab: a search box (kept in the URL as ``q``), the table of
contents, and the page or section a link names (``Help?topic=costs``), in the page's
language (``lib.help``).

The help's Markdown is our own text and is shown as it is written (no HTML is ever allowed);
what a reader typed (the search, an unknown topic) is escaped with ``md`` wherever it is
shown. Links between help pages (``[words](?topic=…)`` in the Markdown) are drawn as in-app
links under their section, keeping the tab's language.
"""

from __future__ import annotations

import re

import streamlit as st

from lib.help import Docs, HelpError, HelpPage, Hit, Section, docs, search
from lib.help.search import MAX_QUERY
from lib.i18n import N_
from lib.ui import url
from lib.ui.frame import PageContext, help_params
from lib.ui.i18n import _, explicit_language, n_
from lib.ui.markup import md
from lib.ui.nav import HELP_PAGE

SEARCH_KEY = "help_q"
DEFAULT_TOPIC = "quickstart"
# Words to try when a search finds nothing (message ids: said in the page's language)
SUGGESTIONS = (N_("billed"), N_("counted stream"), N_("time zone"), N_("gateway"), N_("price"),
               N_("error"))  # fmt: skip
_TOPIC_LINK = re.compile(r"\[([^\]]+)\]\(\?topic=([a-z0-9-]+)\)")


def _read_query(text: str) -> str | None:
    text = " ".join(text.split())[:MAX_QUERY]
    return text or None


def _section(d: Docs, section: Section) -> None:
    """A section's Markdown; its links to other help topics become in-app links below it
    (a Markdown link would open a new browser tab), their words kept in the text in bold."""
    seen: dict[str, str] = {}

    def bold(m: re.Match[str]) -> str:
        words = " ".join(m.group(1).split())
        seen.setdefault(m.group(2), words)
        return f"**{words}**"

    st.markdown(_TOPIC_LINK.sub(bold, section.body))
    found = [(topic, d.find(topic)) for topic in seen]
    targets = [(topic, f) for topic, f in found if f is not None]
    if targets:
        row = st.container(horizontal=True)
        for topic, (page, sec) in targets:
            title = sec.title if sec is not None else page.title
            row.page_link(HELP_PAGE, label=md(title), icon=":material/arrow_forward:",
                          query_params=help_params(topic))  # fmt: skip


def _highlighted(hit: Hit) -> str:
    """The snippet as Markdown: the reader's words in bold, everything escaped."""
    text, out, at = hit.snippet.text, [], 0
    for start, end in hit.snippet.marks:
        if start < at:
            continue
        out += [md(text[at:start]), "**" + md(text[start:end]) + "**"]
        at = end
    out.append(md(text[at:]))
    return "".join(out)


def _contents(d: Docs, current: str | None) -> None:
    st.caption(_("Contents"))
    for p in d.pages:
        st.page_link(HELP_PAGE, label=md(p.title), query_params=help_params(p.id),
                     disabled=p.id == current, width="stretch")  # fmt: skip


def _results(d: Docs, query: str) -> None:
    hits = search(d, query)
    if not hits:
        st.info(_("No section holds every word of “{query}”.", query=md(query)),
                icon=":material/search_off:")  # fmt: skip
        st.markdown(_("Try fewer words, or one of these:"))
        row = st.container(horizontal=True)
        for word in SUGGESTIONS:
            said = _(word)
            params = {"q": said, **({"lang": c} if (c := explicit_language()) else {})}
            row.page_link(HELP_PAGE, label=md(said), icon=":material/search:", query_params=params)
        return
    st.caption(n_("{n} section holds every word", "{n} sections hold every word", len(hits)))
    for hit in hits:
        with st.container(border=True):
            label = (
                f"{md(hit.page_title)} › {md(hit.title)}"
                if hit.section != hit.page
                else md(hit.title)
            )
            st.page_link(HELP_PAGE, label=label, icon=":material/article:",
                         query_params=help_params(hit.section))  # fmt: skip
            st.markdown(_highlighted(hit))


def _show(d: Docs, page: HelpPage, section: Section | None) -> None:
    if section is None:
        st.header(md(page.title), anchor=page.id)
        for s in page.sections:
            if s.id != page.id:
                st.subheader(md(s.title), anchor=s.id)
            _section(d, s)
        return
    st.caption(md(page.title))
    st.header(md(section.title), anchor=section.id)
    _section(d, section)
    st.page_link(HELP_PAGE, label=_("The whole page: {title}", title=md(page.title)),
                 icon=":material/menu_book:", query_params=help_params(page.id))  # fmt: skip


def _show_address() -> None:
    """Have the browser show this run's address. A link to the page the reader is on (a
    result, the contents, a suggestion) reruns it with the link's query string, but the
    browser's address only follows when the run writes a parameter: write one back."""
    for param in ("topic", "q"):
        value = st.query_params.get(param)
        if value is not None:
            st.query_params[param] = value
            return


def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx``: search results when the URL holds a
    search, else the topic the URL names (the quick start by default)."""
    try:
        d = docs(ctx.lang)
    except (HelpError, OSError):
        st.error(_("The help pages could not be read. Ask an admin to check the installation."))
        return
    _show_address()
    query = url.resolve(SEARCH_KEY, "q", "", _read_query) or ""
    topic = st.query_params.get("topic")
    found = d.find(topic) if topic else None
    side, main = st.columns([1.25, 3], gap="large")
    with main:
        st.text_input(_("Search the help"), key=SEARCH_KEY, max_chars=MAX_QUERY,
                      placeholder=_("e.g. counted stream, 429, time zone"),
                      **url.on_change(SEARCH_KEY))  # fmt: skip
        if query:
            _results(d, query)
        else:
            if topic and found is None:
                st.warning(_("There is no help topic “{topic}”: here is the quick start.",
                             topic=md(topic[:80])))  # fmt: skip
            page, section = found or d.find(DEFAULT_TOPIC) or (d.pages[0], None)
            _show(d, page, section)
    with side:
        shown = None if query else (found[0].id if found else DEFAULT_TOPIC)
        _contents(d, shown)
