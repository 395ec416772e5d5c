"""What a support ticket is: its categories, severities and statuses (codes: the page words
them), the values the functions return, and ``TicketError`` (a code, the field, values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from lib.errors import TokenboardError

CATEGORIES: tuple[str, ...] = ("data", "billing", "access", "bug", "question")
# low: a question that can wait; normal: the default; high: a page or a figure is wrong for
# the team; urgent: nobody can work (sign-in, every page failing, a bill badly wrong)
SEVERITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
# waiting: waiting for the reporter ("waiting for you" on their side)
STATUSES: tuple[str, ...] = ("open", "in_progress", "waiting", "resolved", "closed")
OPEN_STATUSES: tuple[str, ...] = ("open", "in_progress", "waiting")

SUBJECT_MAX = 200  # characters
BODY_MAX = 20_000  # characters, a description or a comment

# Why a call was refused (``TicketError.code``): not_found (no such ticket, or not one the
# caller may see: the same answer, so a number tells nothing), subject (empty or too long),
# body (empty or too long), category, severity, status, transition (the caller may not move
# the ticket to that status), merged (a merged ticket takes no change), merge_self,
# assignee (not an admin), attachment_type, attachment_size, attachment_empty, ticket_size.
TicketCode = Literal[
    "not_found", "subject", "body", "category", "severity", "status", "transition", "merged",
    "merge_self", "assignee", "attachment_type", "attachment_size", "attachment_empty",
    "ticket_size",
]  # fmt: skip


class TicketError(TokenboardError):
    """A ticket action refused; nothing was changed. ``code`` says why, ``field`` which
    input, ``values`` what the page needs to word it (a file name, a limit in bytes…)."""

    def __init__(self, code: TicketCode, field: str | None = None, **values: object) -> None:
        detail = ", ".join(f"{k}={v}" for k, v in values.items())
        super().__init__(
            f"ticket refused: {code}" + (f" ({field})" if field else "")
            + (f": {detail}" if detail else "")
        )  # fmt: skip
        self.code = code
        self.field = field
        self.values = values


@dataclass(frozen=True)
class Upload:
    """A file given with a ticket or a comment: its name as the user's browser sent it and
    its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    """What a user files. ``view_link`` is checked (``lib.tickets.context.view_link``) and
    dropped when it is not a relative link to a page of the app."""

    subject: str
    body: str
    category: str = "question"
    severity: str = "normal"
    view_link: str | None = None


@dataclass(frozen=True)
class Ticket:
    """One ticket as its reader may see it; times in UTC. ``number`` is shown as ``#n``.
    ``first_response_s``: seconds from filing to the first reply by someone other than the
    reporter (None while there is none)."""

    number: int
    subject: str
    body: str
    category: str
    severity: str
    status: str
    reporter: str
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    merged_into: int | None
    page: str | None
    view_link: str | None
    app_version: str | None
    data_version: str | None
    comments: int = 0
    attachments: int = 0

    @property
    def first_response_s(self) -> int | None:
        if self.first_response_at is None:
            return None
        return int((self.first_response_at - self.created_at).total_seconds())


@dataclass(frozen=True)
class Comment:
    """One comment; ``internal`` notes are seen by admins only."""

    id: int
    ticket: int
    author: str
    at: datetime
    body: str
    internal: bool


@dataclass(frozen=True)
class Attachment:
    """An attachment's description (the bytes come from ``attachment_bytes``)."""

    id: int
    ticket: int
    comment: int | None
    filename: str
    media_type: str
    size: int  # bytes
    uploaded_by: str
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a ticket: ``kind`` status (``old`` → ``new`` status), assign (assignee),
    merge (``new`` is the ticket number merged into) or merged_from (``new``: the duplicate)."""

    at: datetime
    actor: str
    kind: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Thread:
    """A ticket with what its reader may see of it."""

    ticket: Ticket
    comments: list[Comment]
    attachments: list[Attachment]
    history: list[HistoryEntry]
    merged_from: list[int]


@dataclass(frozen=True)
class ResponseTimes:
    """Time to first response over tickets filed in a period: how many were filed, how many
    got a first response, and the median of those responses in seconds (None when none)."""

    tickets: int
    answered: int
    median_s: float | None
