"""Search the help by word: case and accents ignored (``Cout`` finds « coût », ``œ`` reads
``oe``), every word of the query must be in the section (its title, its page's title or its
text), a word matching the start of a word (``cost`` finds ``costs``, never ``accost``).
Results are ranked: words in the section's title first, then how often the words occur, then
reading order; each comes with a snippet of the section's text around the first match and
where the matched words are in it, for highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from lib.help.docs import Docs, Section

_WORD = re.compile(r"\w+")
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'"}
MAX_QUERY = 200  # characters of a query that are read
MAX_WORDS = 8
SNIPPET = 180  # characters of text around the first match


@dataclass(frozen=True)
class Snippet:
    text: str  # plain text (not Markdown): escape it before showing it as Markdown
    marks: tuple[tuple[int, int], ...]  # [start, end) of each matched word in ``text``


@dataclass(frozen=True)
class Hit:
    page: str
    page_title: str
    section: str  # the section's id (the page id for its introduction)
    title: str
    snippet: Snippet
    score: int


def fold(text: str) -> str:
    """``text`` without case or accents, one character for one (ligatures excepted)."""
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    if c in _LIGATURES:
        return _LIGATURES[c]
    base = unicodedata.normalize("NFKD", c)
    return "".join(x for x in base if not unicodedata.combining(x)).casefold()


def query_words(query: str) -> list[str]:
    """The words searched for (folded, at most ``MAX_WORDS``; one-letter words dropped when
    there are others)."""
    words = list(dict.fromkeys(_WORD.findall(fold(query[:MAX_QUERY]))))
    longer = [w for w in words if len(w) > 1]
    return (longer or words)[:MAX_WORDS]


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"[*`]+")
_MARKUP = re.compile(r"[#>|]+|^\s*[-+]\s+|^\s*:?-{3,}:?.*$", re.M)


def plain(markdown: str) -> str:
    """Markdown's text as a reader sees it: links as their words, no emphasis, code ticks,
    headings or table bars; lines joined."""
    text = _LINK.sub(r"\1", markdown)
    text = _MARKUP.sub(" ", _EMPHASIS.sub("", text))
    text = text.replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class _Folded:
    """A text folded with a map from each folded character back to the original."""

    original: str
    folded: str
    back: tuple[int, ...]

    @staticmethod
    def of(text: str) -> _Folded:
        out: list[str] = []
        back: list[int] = []
        for i, c in enumerate(text):
            f = _fold_char(c)
            out.append(f)
            back.extend([i] * len(f))
        return _Folded(text, "".join(out), tuple(back))

    def matches(self, words: list[str]) -> list[tuple[int, int, str]]:
        """(start, end) in the original text of each word that starts with a query word, and
        which query word it matched."""
        found = []
        for m in _WORD.finditer(self.folded):
            token = m.group(0)
            w = next((w for w in words if token.startswith(w)), None)
            if w is not None:
                start = self.back[m.start()]
                end = self.back[m.start() + len(w) - 1] + 1
                found.append((start, end, w))
        return found


def _snippet(text: _Folded, found: list[tuple[int, int, str]]) -> Snippet:
    if not found:
        short = text.original[:SNIPPET]
        return Snippet(short + ("…" if len(text.original) > SNIPPET else ""), ())
    first = found[0][0]
    start = max(0, first - SNIPPET // 3)
    if start > 0:
        space = text.original.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and first - space < SNIPPET // 2 else start
    end = min(len(text.original), start + SNIPPET)
    if end < len(text.original):
        space = text.original.rfind(" ", start, end)
        end = space if space > first else end
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text.original) else ""
    marks = tuple(
        (s - start + len(lead), e - start + len(lead))
        for s, e, _w in found
        if s >= start and e <= end
    )
    return Snippet(lead + text.original[start:end] + tail, marks)


def search(docs: Docs, query: str, limit: int = 30) -> list[Hit]:
    """The sections holding every word of ``query``, best first (at most ``limit``); [] for a
    query without words."""
    words = query_words(query)
    if not words:
        return []
    hits: list[tuple[int, int, Hit]] = []
    order = 0
    for page in docs.pages:
        for s in page.sections:
            order += 1
            hit = _score(page.title, s, words)
            if hit is not None:
                hits.append((-hit.score, order, hit))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [h for _s, _o, h in hits[:limit]]


@lru_cache(maxsize=2048)
def _texts(page_title: str, s: Section) -> tuple[_Folded, _Folded, _Folded]:
    """A section's title, its page's title and its text, folded once (sections are frozen)."""
    return _Folded.of(s.title), _Folded.of(page_title), _Folded.of(plain(s.body))


def _score(page_title: str, s: Section, words: list[str]) -> Hit | None:
    title, head, body = _texts(page_title, s)
    in_title = {w for _a, _b, w in title.matches(words)}
    in_head = set() if s.id == s.page else {w for _a, _b, w in head.matches(words)}
    found = body.matches(words)
    in_body = {w for _a, _b, w in found}
    if any(w not in in_title | in_head | in_body for w in words):
        return None
    score = 10 * len(in_title) + 3 * len(in_head)
    score += sum(min(5, sum(1 for f in found if f[2] == w)) for w in words)
    return Hit(s.page, page_title, s.id, s.title, _snippet(body, found), score)
