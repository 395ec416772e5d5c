"""Data meets Markdown: payloads render as their text, never as an image, a link or markup.

Rendering is checked with the same CommonMark+GFM rules Streamlit's front end uses, through
markdown-it-py (the parser behind many Python tools), so the assertions are about HTML."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lib.ui.markup import code, defuse, md

RENDER = MarkdownIt("gfm-like", {"linkify": True, "html": False})

PAYLOADS = [
    "![b](http://127.0.0.1:9/beacon.png)",
    "[Login again](http://phish.example/login)",
    "<img src=http://127.0.0.1:9/x.png>",
    "<a href='http://phish.example'>x</a>",
    "http://phish.example/login",
    "www.phish.example",
    "![b][1]\n\n[1]: http://127.0.0.1:9/ref.png",
    ":red[alarm] :material/warning: **bold** _it_ `code`",
    "# Heading\n- item\n> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "a\\[b](http://phish.example)",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
    "$E=mc^2$",
    "\x1b[31mred\x1b[0m",
]


def _html(text: str) -> str:
    return RENDER.render(text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_shows_the_text_and_nothing_else(payload):
    html = _html(md(payload))
    assert "<img" not in html and "<a " not in html and "<h1" not in html and "<li" not in html
    assert "<strong" not in html and "<em" not in html and "<table" not in html
    assert "<code" not in html


def test_md_keeps_the_visible_text():
    html = _html(md("![b](http://host/x.png) & more")).replace("\u2060", "")
    assert "![b](http://host/x.png) &amp; more" in html
    assert md(None) == ""
    assert md("two\nlines") == "two lines"


def test_md_breaks_what_gfm_would_link_even_after_escapes():
    # Streamlit's renderer finds addresses in the text once escapes are resolved: what is
    # left after un-escaping must hold no address, no www. and no e-mail.
    for payload in ("http://phish.example/login", "see www.phish.example", "ops@phish.example"):
        text = re.sub(r"\\(.)", r"\1", md(payload))
        assert "://" not in text and "www." not in text and "@p" not in text
        assert text.replace("\u2060", "") == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_is_verbatim_and_inert(payload):
    html = _html(code(payload))
    assert "<img" not in html and "<a " not in html
    assert html.count("<code>") == 1
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_defuse_keeps_formatting_but_fetches_and_links_nothing(payload):
    html = _html(defuse(payload))
    assert "<img" not in html and "<a " not in html


def test_defuse_keeps_the_answer_readable():
    text = "Here is **the plan**:\n\n- see ![chart](http://x.example/c.png)\n- [docs](https://d.example)"
    html = _html(defuse(text))
    assert "<strong>the plan</strong>" in html and "<li>" in html
    assert "chart (<code>http://x.example/c.png</code>)" in html
    assert "docs (<code>https://d.example</code>)" in html


EVIL = "https://evil.example/p.png"
# each drew an image through the earlier regex version of defuse
DEFUSE_BYPASSES = [
    f"![x]( {EVIL})",
    f"![x](\n{EVIL})",
    f"![a [b] c]({EVIL})",
    f"![a\nb]({EVIL})",
    f"![x]({EVIL} 'a')",
    f"![x][r]\n\n> [r]: {EVIL}",
    f"![x][r]\n\n- [r]: {EVIL}",
    f"[x]( {EVIL})",
    "ops@phish.example and <mailto:ops@phish.example>",
]


@pytest.mark.parametrize("payload", DEFUSE_BYPASSES)
def test_defuse_stops_every_form_of_image_and_link(payload):
    for html in (
        _html(defuse(payload)),
        MarkdownIt("commonmark", {"html": True}).render(defuse(payload)),
    ):
        assert "<img" not in html and "<a " not in html, html


DEFUSE_MARKS = ["![", "[", "]", "(", ")", "<", ">", "'", '"', "`", "```", "\\", "*", "\n", " ",
                "    ", "> ", "- ", "[r]: ", "a", EVIL, "javascript:x", "www.x.com", "o@x.com",
                "//h.com", "<img src=x>", "&#33;"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DEFUSE_MARKS), max_size=30).map("".join))
def test_defused_text_never_renders_an_image_or_a_link(text):
    for html in (
        _html(defuse(text)),
        MarkdownIt("commonmark", {"html": True}).render(defuse(text)),
    ):
        assert "<img" not in html and "<a " not in html and "<script" not in html, html
