"""What the help covers, and what it misses: the pages of the app (each names its help topic),
the importer formats of the registry, the entries and codes of the error knowledge base, and
whether every language holds the same files and sections.

``problems`` lists every gap as a sentence for the developer (the test prints them); the
caller passes the app's pages (``lib.ui.nav`` lives above this layer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from lib.help.docs import HELP_ROOT, Docs, HelpError, load_docs, page_files
from lib.help.kb import candidate_codes, entries
from lib.i18n import LANGUAGES


def all_format_names() -> tuple[str, ...]:
    """Every name an importer of the registry answers to (listed as a --format or not)."""
    from lib.importers.formats import REGISTRY

    return tuple(dict.fromkeys(n for imp in REGISTRY for n in imp.names))


def covered_formats(docs: Docs) -> dict[str, list[str]]:
    """Format name -> the ids of the sections that explain it (``<!-- formats: … -->``)."""
    found: dict[str, list[str]] = {}
    for s in docs.sections():
        for name in s.formats:
            found.setdefault(name, []).append(s.id)
    return found


def _shape(docs: Docs) -> list[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    return [(p.id, tuple(s.id for s in p.sections), tuple(s.formats for s in p.sections))
            for p in docs.pages]  # fmt: skip


def problems(
    page_topics: Mapping[str, str],
    formats: Iterable[str] | None = None,
    root: Path = HELP_ROOT,
    languages: Iterable[str] = tuple(LANGUAGES),
) -> list[str]:
    """Every gap of the help under ``root``: a page (path -> its help topic) whose topic no
    section holds, a format without a section, a knowledge base entry or code without its
    section, files or sections of one language that the others lack. [] when none."""
    out: list[str] = []
    formats = tuple(all_format_names() if formats is None else formats)
    loaded: dict[str, Docs] = {}
    for lang in languages:
        try:
            loaded[lang] = load_docs(lang, root)
        except HelpError as err:
            out.append(str(err))
            continue
        docs = loaded[lang]
        if not docs.pages:
            out.append(f"{lang}: no help pages")
            continue
        for path, topic in page_topics.items():
            if docs.find(topic) is None:
                out.append(
                    f"{lang}: page {path} links to help topic #{topic}, which no section holds"
                )
        have = covered_formats(docs)
        out += [f"{lang}: importer format {f} has no help section (<!-- formats: {f} -->)"
                for f in formats if f not in have]  # fmt: skip
        kb_ids = {s.kb for s in docs.sections() if s.kb}
        out += [f"{lang}: error knowledge base entry {e.advice.title!r} has no help section"
                for e in entries() if e.advice.title not in kb_ids]  # fmt: skip
        shown = " ".join(s.body for s in docs.sections() if s.kb)
        out += [f"{lang}: error code {c} is in no help section" for c in candidate_codes()
                if f"`{c}`" not in shown]  # fmt: skip
    langs = list(loaded)
    for other in langs[1:]:
        first = langs[0]
        a, b = page_files(first, root), page_files(other, root)
        if set(a) != set(b) or any(a[k][0] != b[k][0] for k in a if k in b):
            out.append(f"help files differ: {first} has {sorted(p.name for _o, p in a.values())}, "
                       f"{other} has {sorted(p.name for _o, p in b.values())}")  # fmt: skip
        for (pa, sa, fa), (pb, sb, fb) in zip(
            _shape(loaded[first]), _shape(loaded[other]), strict=False
        ):
            if pa != pb:
                continue
            if sa != sb:
                out.append(f"page {pa}: sections differ: {first} {list(sa)}, {other} {list(sb)}")
            elif fa != fb:
                out.append(
                    f"page {pa}: the formats of its sections differ between {first} and {other}"
                )
    return out
