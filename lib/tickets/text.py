"""Markdown written by users (a ticket's description, comments) made safe to render: its
formatting kept, but no HTML and no link that runs or fetches anything.

The text is parsed by a CommonMark parser (markdown-it-py, with GFM tables and
strikethrough) and written back as Markdown from its syntax tree, so what a renderer finds is
only what is written back here, whatever the input's tricks (spaces or line breaks in a
link's parts, brackets inside labels, titles in any quotes, link definitions inside quotes or
lists, entities):

- Every piece of text is written with the punctuation that Markdown reads backslash-escaped
  (``\\ ` * _ [ ] ~ |`` anywhere, ``& < >`` as entities, ``# + = -`` and a number's ``.``/``)`` at a line's
  start): nothing in it can open a link, an image, HTML, a heading or a list. Raw HTML is shown as the text typed
  (``<script>``, ``<img onerror=…>``); Streamlit is never asked for ``unsafe_allow_html``.
- Links are kept only when they go to ``http://`` or ``https://`` with a host (written back
  as ``[label](<address>)``); any other (``mailto:``, ``ftp:``, relative) becomes its label
  followed by the address as inline code. ``javascript:``, ``data:``… are not links to the
  parser: they stay text.
- Images never load (a tracking pixel would tell a third party who read the ticket): each
  becomes its alternative text followed by its address as inline code.
- Addresses in the text that a GFM renderer would turn into links by itself (Streamlit's
  does) are kept from it unless they are web addresses: an invisible word joiner (U+2060)
  before ``@`` (e-mail, ``mailto:``) and inside any ``//`` not after ``http:``/``https:``.
- Code (inline, fenced, indented) is kept verbatim: Markdown shows it as text.

``render_safe`` is the engine; ``lib.ui.markup.defuse`` uses it without keeping any link.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Escaped wherever they are: what could open a link, an image, HTML, an entity, code or
# emphasis; at a line's start also what could open a heading, a quote, a list or a setext
# underline. Other punctuation is left as typed (``$`` math, ``:`` emoji: nothing fetched).
_ALWAYS = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = re.compile(r"^([ \t]*)(?:([#+=-])|(\d{1,9})([.)]))", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JOINER = "\u2060"
_NOT_WEB = re.compile(r"@|(?<!http:)(?<!https:)//", re.I)
_BARE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>`]+|www\.[^\s<>`]+")
_WEB_BARE = re.compile(r"(?i)\bhttps?://[^\s<>`\[\]\\\"']+")
_BAD_URL_CHAR = re.compile(r"[\s<>\\`\"']")
_INFO = re.compile(r"[\w.+#-]+")


def code(value: str) -> str:
    """``value`` as inline code (shown verbatim), whatever backticks it holds."""
    text = " ".join(value.split())
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def web_address(href: str) -> bool:
    """True for an ``http(s)://`` address with a host and nothing that could break out of a
    Markdown link's ``<…>`` destination."""
    if _BAD_URL_CHAR.search(href):
        return False
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _escape_start(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


class _Writer:
    """Markdown written back from markdown-it's tokens (see the module)."""

    def __init__(self, keep_links: bool, bare_as_code: bool) -> None:
        self.keep_links = keep_links
        self.bare_as_code = bare_as_code

    # -- inline ------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        if self.bare_as_code:
            parts: list[str] = []
            last = 0
            for m in _BARE.finditer(value):
                parts += [self.text_only(value[last : m.start()]), code(m.group(0))]
                last = m.end()
            parts.append(self.text_only(value[last:]))
            return "".join(parts)
        return self._bare_links(value)

    def _bare_links(self, value: str) -> str:
        """Web addresses written in the text become explicit links (a renderer's own address
        finding runs across the escapes that follow an address); others stay text."""
        parts: list[str] = []
        last = 0
        for m in _WEB_BARE.finditer(value):
            url = m.group(0)
            while url and (
                url[-1] in ".,:;!?*_~" or (url[-1] == ")" and url.count(")") > url.count("("))
            ):
                url = url[:-1]
            end = m.start() + len(url)
            if not web_address(url):
                continue
            parts += [self.text_only(value[last : m.start()]), f"[{self.text_only(url)}](<{url}>)"]
            last = end
        parts.append(self.text_only(value[last:]))
        return "".join(parts)

    def text_only(self, value: str) -> str:
        value = _NOT_WEB.sub(
            lambda m: _JOINER + "@" if m.group(0) == "@" else "/" + _JOINER + "/", value
        )
        value = _ALWAYS.sub(r"\\\1", value)
        # as entities, not escapes: a GFM renderer's address may swallow a backslash
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # a "!" just before a link written back would make it an image
        return value[:-1] + "\\!" if value.endswith("!") else value

    def inline(self, tokens: list[Token]) -> str:
        out: list[str] = []
        links: list[tuple[str, int]] = []  # (the open links' addresses, where their label starts)
        for t in tokens:
            kind = t.type
            if kind == "text":  # inside a link's label no address becomes another link
                out.append(
                    self.text_only(t.content) if links and self.keep_links else self.text(t.content)
                )
            elif kind == "code_inline":
                out.append(self._code_span(t.content))
            elif kind == "softbreak":
                out.append("\n")
            elif kind == "hardbreak":
                out.append("\\\n")
            elif kind in ("em_open", "em_close", "strong_open", "strong_close"):
                out.append(t.markup)
            elif kind in ("s_open", "s_close"):
                out.append("~~")
            elif kind == "link_open":
                href = str(t.attrs.get("href", ""))
                links.append((href, len(out)))
            elif kind == "link_close" and links:
                addr, start = links.pop()
                label = "".join(out[start:])
                del out[start:]
                out.append(self._link(label, addr))
            elif kind == "image":
                alt = self.inline(t.children or [])
                src = code(str(t.attrs.get("src", "")))
                out.append(f"{alt} ({src})" if alt.strip() else src)
            else:  # html_inline and anything unknown: shown as the text typed
                out.append(self.text(t.content))
        return _LINE_START.sub(_escape_start, "".join(out))

    def _link(self, label: str, href: str) -> str:
        if self.keep_links and web_address(href):
            return f"[{label}](<{href}>)"
        if not href:
            return label
        return f"{label} ({code(href)})" if label.strip() else code(href)

    @staticmethod
    def _code_span(content: str) -> str:
        ticks = max((len(m) for m in re.findall(r"`+", content)), default=0)
        fence = "`" * (ticks + 1)
        pad = " " if content[:1] in ("`", " ") or content[-1:] in ("`", " ") else ""
        return f"{fence}{pad}{content}{pad}{fence}"

    # -- blocks ------------------------------------------------------------------------------
    def blocks(self, nodes: list[SyntaxTreeNode], tight: bool = False) -> list[str]:
        lines: list[str] = []
        for i, node in enumerate(nodes):
            if i and not tight:
                lines.append("")
            lines += self.block(node)
        return lines

    def block(self, node: SyntaxTreeNode) -> list[str]:
        kind = node.type
        if kind == "paragraph":
            return self._lines(node)
        if kind == "heading":
            level = int(node.tag[1:]) if node.tag[1:].isdigit() else 1
            return ["#" * level + " " + self._lines(node, one_line=True)[0]]
        if kind == "blockquote":
            return [("> " + line).rstrip() for line in self.blocks(node.children)]
        if kind in ("bullet_list", "ordered_list"):
            return self._list(node)
        if kind in ("fence", "code_block"):
            return self._fence(node)
        if kind == "hr":
            return ["***"]
        if kind == "table":
            return self._table(node)
        if kind == "html_block":
            lines = node.content.rstrip("\n").split("\n")
            return [self.text(line.strip()) for line in lines if line.strip()] or [""]
        return self.blocks(node.children)

    def _lines(self, node: SyntaxTreeNode, one_line: bool = False) -> list[str]:
        inline = node.children[0] if node.children else None
        tokens = (inline.token.children if inline is not None and inline.token else None) or []
        if one_line:  # a heading, a table cell: its line breaks become spaces
            tokens = [Token("text", "", 0, content=" ") if t.type in ("softbreak", "hardbreak")
                      else t for t in tokens]  # fmt: skip
        return self.inline(tokens).split("\n")

    def _list(self, node: SyntaxTreeNode) -> list[str]:
        tight = any(
            c.type == "paragraph" and c.nester_tokens is not None and c.nester_tokens.opening.hidden
            for item in node.children
            for c in item.children
        )
        start = int(str(node.attrs.get("start", 1))) if node.type == "ordered_list" else 1
        lines: list[str] = []
        for i, item in enumerate(node.children):
            if i and not tight:
                lines.append("")
            if node.type == "ordered_list":
                marker = f"{start + i}{node.markup or '.'} "
            else:
                marker = f"{node.markup or '-'} "
            body = self.blocks(item.children, tight) or [""]
            pad = " " * len(marker)
            lines.append((marker + body[0]).rstrip())
            lines += [(pad + line) if line else "" for line in body[1:]]
        return lines

    @staticmethod
    def _fence(node: SyntaxTreeNode) -> list[str]:
        content = node.content[:-1] if node.content.endswith("\n") else node.content
        ticks = max((len(m) for m in re.findall(r"`+", content)), default=0)
        fence = "`" * max(3, ticks + 1)
        found = _INFO.match(node.info.strip()) if node.type == "fence" else None
        info = found.group(0) if found else ""
        return [fence + info, *content.split("\n"), fence] if content else [fence + info, fence]

    def _table(self, node: SyntaxTreeNode) -> list[str]:
        rows: list[list[str]] = []
        aligns: list[str] = []
        for section in node.children:
            for tr in section.children:
                cells = []
                for cell in tr.children:
                    cells.append(self._lines(cell, one_line=True)[0])
                    if section.type == "thead":
                        style = str(cell.attrs.get("style", ""))
                        aligns.append(
                            {"text-align:left": ":--", "text-align:right": "--:",
                             "text-align:center": ":-:"}.get(style, "---")
                        )  # fmt: skip
                rows.append(cells)
        if not rows:
            return []
        out = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(aligns) + " |"]
        return out + ["| " + " | ".join(r) + " |" for r in rows[1:]]


def render_safe(text: str | None, *, keep_links: bool = True, bare_as_code: bool = False) -> str:
    """``text`` parsed as Markdown and written back with nothing unsafe (see the module).
    ``keep_links``: web links stay links (else every link is its label and its address as
    code); ``bare_as_code``: addresses written in the text become inline code. Control
    characters are dropped. ``None`` or empty: an empty string."""
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return ""
    tree = SyntaxTreeNode(_PARSER.parse(text))
    writer = _Writer(keep_links, bare_as_code)
    return "\n".join(writer.blocks(tree.children)).strip("\n")


def safe_markdown(text: str | None) -> str:
    """A user's ``text`` as Markdown that renders its formatting and nothing unsafe: web links
    kept, no image, no HTML (see the module)."""
    return render_safe(text, keep_links=True)
