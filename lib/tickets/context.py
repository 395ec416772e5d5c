"""The context a ticket captures: the page and the link to the exact view (a RELATIVE link to
a page of the app with its query string, checked here: never an absolute URL, a
``javascript:`` link or ``//host``), the app's version and the data's version."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from urllib.parse import quote, urlsplit

from lib.config import PROJECT_ROOT

LINK_MAX = 2000  # characters of a view link
OVERVIEW = "Overview"  # the page at "/" (app.py)
_PAGE_FILE = re.compile(r"^\d+_(.+)\.py$")
_BAD_CHARS = re.compile(r"[\s\\<>\"'`\x00-\x1f\x7f]")


@cache
def app_version() -> str:
    """The app's version (``pyproject.toml``'s ``[project] version``), "unknown" when it
    cannot be read."""
    try:
        with open(PROJECT_ROOT / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def known_pages() -> dict[str, str]:
    """URL path name -> page name of every page of the app (``pages/2_Costs.py`` is
    ``/Costs``, ``pages/5_API_keys.py`` ``/API_keys`` named "API keys"; ``/`` is the Overview)."""
    out = {"": OVERVIEW}
    for path in sorted((PROJECT_ROOT / "pages").glob("*.py")):
        m = _PAGE_FILE.match(path.name)
        if m:
            out[m.group(1)] = m.group(1).replace("_", " ")
    return out


def view_link(text: str | None) -> tuple[str, str] | None:
    """``(page, link)`` for a relative link to a page of the app (``/Usage?period=30d``, or
    ``Usage?period=30d``, written ``/Usage?…``); None for anything else: an absolute URL, a
    scheme (``javascript:``), ``//host``, a backslash, spaces or control characters, an unknown
    page, more than ``LINK_MAX`` characters. A ``#fragment`` is dropped."""
    if not text or len(text) > LINK_MAX:
        return None
    text = text.strip()
    if _BAD_CHARS.search(text):
        return None
    if not text.startswith("/"):
        text = "/" + text
    if text.startswith("//"):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    name = parts.path[1:].rstrip("/")
    page = known_pages().get(name)
    if page is None:
        return None
    link = "/" + name + (f"?{parts.query}" if parts.query else "")
    return page, link


def href(link: str) -> str:
    """A checked view link made safe inside a Markdown link's parentheses (parentheses and
    anything outside the URL characters percent-encoded)."""
    return quote(link, safe="/?&=%-._~,+;:@!$*")
