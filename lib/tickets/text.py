"""Markdown written by users (a ticket's description, comments) made safe to render: its
formatting kept, but no HTML and no link that runs or fetches anything.

- Raw HTML never renders: every ``<`` outside code is escaped (``<script>``, ``<img
  onerror=…>`` show as the text typed). Streamlit is never asked for ``unsafe_allow_html``
  either.
- Links are kept only when they go to ``http://`` or ``https://`` with a host; any other
  (``javascript:``, ``data:``, ``vbscript:``, relative, entity-encoded tricks) becomes its
  label followed by the address as inline code.
- Images never load (a tracking pixel would tell a third party who read the ticket): each
  becomes its text and address as code. Link reference definitions become code too.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<label>[^\]\n]*)\]\((?P<url>[^)\s]*\)?)(?P<title>\s+\"[^\"\n]*\")?\)"
)
_REFDEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_WEB = re.compile(r"^https?://[^\s<>()\"'`\\]+$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def code(value: str) -> str:
    """``value`` as inline code (shown verbatim), whatever backticks it holds."""
    text = " ".join(value.split())
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _links(text: str) -> str:
    def swap(m: re.Match[str]) -> str:
        url, label = m.group("url"), m.group("label")
        if not m.group("bang") and _WEB.match(url):
            return f"[{label}]({url})"
        return f"{label} ({code(url)})" if label else code(url)

    text = _LINK.sub(swap, text)
    return _REFDEF.sub(lambda m: code(m.group(0).strip()), text)


def _plain(text: str) -> str:
    """Outside fenced code: links checked, every ``<`` escaped (inline code too: telling a
    code span from escaped backticks is Markdown's job, and a ``\\<`` shown in code is
    harmless)."""
    return _links(text).replace("<", "\\<")


def safe_markdown(text: str | None) -> str:
    """``text`` as Markdown that renders its formatting and nothing unsafe (see the module).
    Control characters are dropped; fenced code blocks are kept verbatim (Markdown shows
    them as text)."""
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    fence: str | None = None
    block: list[str] = []
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            if block:
                out.append(_plain("\n".join(block)))
                block = []
            fence = m.group(1)
            out.append(line)
            continue
        block.append(line)
    if block:
        out.append(_plain("\n".join(block)))
    if fence is not None:  # an unclosed fence: close it, so nothing after it is read as code
        out.append(fence)
    return "\n".join(out)
