"""Support tickets: filed by any signed-in user, triaged by admins.

- ``service``: file, list one's own, read one (with its thread), comment, change status,
  assign, merge, search, CSV export, time to first response; roles and visibility checked
  in every function (a user reaches their own tickets only)
- ``files``: attachments checked by content and extension, sizes bounded, names made safe
- ``context``: the view link (a relative link to a page of the app), the app's version
- ``text``: users' Markdown made safe to render (no HTML, only http(s) links, no images)
- ``notify``: e-mail and webhooks through ``lib.notify``, in the background
- ``model``: the codes and values
"""

from lib.tickets.model import (
    CATEGORIES,
    SEVERITIES,
    STATUSES,
    Attachment,
    Comment,
    Draft,
    HistoryEntry,
    ResponseTimes,
    Thread,
    Ticket,
    TicketError,
    Upload,
)

__all__ = [
    "CATEGORIES", "SEVERITIES", "STATUSES", "Attachment", "Comment", "Draft", "HistoryEntry",
    "ResponseTimes", "Thread", "Ticket", "TicketError", "Upload",
]  # fmt: skip
