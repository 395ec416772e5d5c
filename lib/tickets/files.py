"""Attachments: what may be attached, checked by the content's first bytes AND the file name's
extension (both must agree), with sizes bounded and the name made harmless. The bytes are
kept in the database (a Streamlit Community Cloud disk does not keep files).

Allowed: PNG, JPEG, GIF, WebP images, PDF, and text (``.txt``, ``.csv``, ``.json``,
``.log``: UTF-8 without NUL or other control bytes). Anything else (an executable renamed
``.png``, a PNG named ``.txt``, a ZIP, HTML, SVG) is refused with a ``TicketError`` naming
the file and what is allowed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lib.tickets.model import TicketError, Upload

MAX_FILE_BYTES = 5 * 1024 * 1024  # one attachment
MAX_TICKET_BYTES = 20 * 1024 * 1024  # every attachment of a ticket, its comments' included
NAME_MAX = 100  # characters of a stored file name

# extension -> (kind, media type)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "pdf": ("pdf", "application/pdf"),
    "txt": ("text", "text/plain"),
    "log": ("text", "text/plain"),
    "csv": ("text", "text/csv"),
    "json": ("text", "application/json"),
}
ALLOWED = "PNG, JPEG, GIF, WebP, PDF, TXT, CSV, JSON, LOG"
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]", re.UNICODE)


@dataclass(frozen=True)
class CheckedFile:
    """An attachment accepted: its safe name, media type, size in bytes and bytes."""

    filename: str
    media_type: str
    size: int
    data: bytes


def sniff(data: bytes) -> str | None:
    """The kind the content's first bytes say (png, jpeg, gif, webp, pdf, text), None for
    anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if _is_text(data):
        return "text"
    return None


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _TEXT_CONTROL.search(data) is None


def safe_name(name: str) -> str:
    """The file name without any folder, control character or character a file system or a
    download header could misread (replaced by ``_``), no leading dot, at most ``NAME_MAX``
    characters with its extension kept; ``attachment`` when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:10]
    stem = stem[: NAME_MAX - len(ext) - 1].strip(" .") or "attachment"
    return f"{stem}.{ext}" if ext else stem


def extension(name: str) -> str:
    """The lower-case extension of ``name`` (without the dot), "" when none."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check(upload: Upload) -> CheckedFile:
    """Accept one file or raise ``TicketError`` (attachment_empty, attachment_size with
    ``limit`` in bytes, attachment_type with ``allowed``; ``filename`` always names it)."""
    name = safe_name(upload.filename)
    data = bytes(upload.data)
    if not data:
        raise TicketError("attachment_empty", "attachments", filename=name)
    if len(data) > MAX_FILE_BYTES:
        raise TicketError("attachment_size", "attachments", filename=name, limit=MAX_FILE_BYTES)
    declared = EXTENSIONS.get(extension(name))
    found = sniff(data)
    if declared is None or found is None or declared[0] != found:
        raise TicketError("attachment_type", "attachments", filename=name, allowed=ALLOWED)
    return CheckedFile(name, declared[1], len(data), data)


def check_all(uploads: list[Upload], already: int = 0) -> list[CheckedFile]:
    """Check every file (the first refused raises); ``already``: bytes the ticket holds. The
    total may not pass ``MAX_TICKET_BYTES`` (ticket_size, with ``limit``)."""
    checked = [check(u) for u in uploads]
    if already + sum(c.size for c in checked) > MAX_TICKET_BYTES:
        raise TicketError("ticket_size", "attachments", limit=MAX_TICKET_BYTES)
    return checked
