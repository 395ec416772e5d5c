"""The help pages: Markdown files in ``data/help/<lang>/``, one page a file, read into pages and
sections with stable ids.

A file ``NN_<id>.md`` (``NN`` orders the pages; ``<id>`` is the page's id, the same in every
language) holds::

    # Page title
    Introduction (the page's first section, whose id is the page id).

    ## Section title {#section-id}
    <!-- formats: openai_usage openai_costs -->   (the importer formats it explains)
    Text…

Section ids are written, never made from the words, so a link (``Help?topic=counted-stream``)
opens the same section in English and in French; they are unique across all pages and differ
from every page id (``Help?topic=costs`` opens the whole page). A page that
holds the line ``<!-- kb -->`` gets one section per entry of the error knowledge base
(``lib.help.kb``) after its own. HTML comments are never shown. Lines inside fenced code
blocks are text, not headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lib.config import PROJECT_ROOT
from lib.errors import TokenboardError

HELP_ROOT = PROJECT_ROOT / "data" / "help"
_FILE = re.compile(r"^(\d+)_([a-z0-9][a-z0-9-]*)\.md$")
_SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*\{#(?P<id>[a-z0-9][a-z0-9-]*)\}\s*$")
_BAD_SECTION = re.compile(r"^##\s")
_PAGE = re.compile(r"^#\s+(?P<title>.+?)\s*$")
_FORMATS = re.compile(r"<!--\s*formats:\s*(?P<names>[^>]*?)\s*-->")
_KB = re.compile(r"^<!--\s*kb\s*-->\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")


class HelpError(TokenboardError):
    """A help file that does not follow the layout above (names the file and line)."""


@dataclass(frozen=True)
class Section:
    id: str  # stable across languages: the link target
    title: str
    body: str  # Markdown, comments removed
    page: str  # the id of the page that holds it
    formats: tuple[str, ...] = ()  # importer format names it explains
    kb: str | None = None  # the knowledge base entry it shows (generated sections)


@dataclass(frozen=True)
class HelpPage:
    id: str
    title: str
    order: int
    sections: tuple[Section, ...]
    has_kb: bool = False  # holds the error knowledge base's sections


@dataclass(frozen=True)
class Docs:
    """Every help page of one language, in reading order."""

    lang: str
    pages: tuple[HelpPage, ...]
    _by_id: dict[str, tuple[HelpPage, Section | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for p in self.pages:
            self._by_id[p.id] = (p, None)
        for p in self.pages:
            for s in p.sections:
                if s.id != p.id:
                    self._by_id.setdefault(s.id, (p, s))

    def sections(self) -> list[Section]:
        return [s for p in self.pages for s in p.sections]

    def find(self, topic: str | None) -> tuple[HelpPage, Section | None] | None:
        """The page (and section, None for a whole page) a topic names; None when unknown."""
        if not topic:
            return None
        return self._by_id.get(topic.strip().lower())

    def ids(self) -> set[str]:
        return set(self._by_id)


def _parse(path: Path, page_id: str, order: int) -> HelpPage:
    """One help file as a page (``HelpError`` names the file and line of a layout fault)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    name = f"{path.parent.name}/{path.name}"
    title: str | None = None
    has_kb = False
    parts: list[tuple[str, str, list[str]]] = []  # (id, title, body lines)
    in_fence = False
    for no, line in enumerate(lines, 1):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence:
            if title is None:
                if not line.strip():
                    continue
                m = _PAGE.match(line)
                if not m:
                    raise HelpError(f"{name} line {no}: expected '# Page title' first")
                title = m.group("title")
                parts.append((page_id, title, []))
                continue
            m = _SECTION.match(line)
            if m and m.group("id") == page_id:
                raise HelpError(f"{name} line {no}: #{page_id} is the page's own id")
            if m:
                parts.append((m.group("id"), m.group("title"), []))
                continue
            if _BAD_SECTION.match(line):
                raise HelpError(f"{name} line {no}: a section needs an id: '## Title {{#id}}'")
            if _KB.match(line):
                has_kb = True
                continue
        parts[-1][2].append(line)
    if title is None:
        raise HelpError(f"{name}: empty help file")
    sections = []
    for sid, stitle, body_lines in parts:
        raw = "\n".join(body_lines)
        formats = tuple(n for m in _FORMATS.finditer(raw) for n in m.group("names").split())
        body = _COMMENT.sub("", raw).strip("\n")
        if sid == page_id and not body.strip():
            continue  # a page without an introduction
        sections.append(Section(sid, stitle, body, page_id, formats))
    return HelpPage(page_id, title, order, tuple(sections), has_kb)


def page_files(lang: str, root: Path = HELP_ROOT) -> dict[str, tuple[int, Path]]:
    """The help files of ``lang``: page id -> (order, path). Files not named ``NN_<id>.md``
    are refused."""
    folder = root / lang
    found: dict[str, tuple[int, Path]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.md")):
        m = _FILE.match(path.name)
        if not m:
            raise HelpError(f"{lang}/{path.name}: expected a name like 10_quickstart.md")
        found[m.group(2)] = (int(m.group(1)), path)
    return found


def load_docs(lang: str, root: Path = HELP_ROOT) -> Docs:
    """Every help page of ``lang`` (with the knowledge base's sections in its words), in
    reading order. Raises ``HelpError`` on a file that breaks the layout or a section id used
    twice."""
    from lib.help.kb import kb_sections

    pages = []
    for pid, (order, path) in page_files(lang, root).items():
        page = _parse(path, pid, order)
        if page.has_kb:
            page = HelpPage(page.id, page.title, page.order,
                            page.sections + kb_sections(lang, page.id), True)  # fmt: skip
        pages.append(page)
    pages.sort(key=lambda p: (p.order, p.id))
    seen: dict[str, str] = {p.id: p.id for p in pages}
    for p in pages:
        for s in p.sections:
            if s.id == p.id:
                continue  # the page's introduction
            if s.id in seen:
                raise HelpError(f"{lang}: section id #{s.id} used twice ({seen[s.id]}, {p.id})")
            seen[s.id] = p.id
    return Docs(lang, tuple(pages))


@lru_cache(maxsize=4)
def _cached(lang: str, stamp: tuple[tuple[str, float], ...]) -> Docs:
    return load_docs(lang)


def docs(lang: str) -> Docs:
    """``load_docs`` for the app: read again only when a file of ``lang`` changed."""
    folder = HELP_ROOT / lang
    stamp = tuple(
        (p.name, p.stat().st_mtime) for p in sorted(folder.glob("*.md"))
    ) if folder.is_dir() else ()  # fmt: skip
    return _cached(lang, stamp)
