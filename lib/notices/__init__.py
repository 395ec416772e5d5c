"""Service notices: provider status pages (open incidents) and model retirements.

- ``lib.notices.status``: ``poll(urls)`` reads Statuspage-style status pages (OpenAI's and
  Anthropic's by default, ``TOKENBOARD_STATUS_PAGES`` to change them) and returns the open
  incidents, each page's state and the pages that could not be read, as values.
- ``lib.notices.retirements``: the bundled table of the providers' announced model
  retirements (``data/model_retirements.csv``) and ``retirements_for(models, today)``.

Pure Python (no UI, no database): the worker, the alert rules and the pages call it. Returns
values and codes; the words shown to people are made where they are shown.
"""

from lib.notices.retirements import (
    ModelRetirement,
    Retirement,
    load_table,
    retirements_for,
)
from lib.notices.status import (
    DEFAULT_STATUS_PAGES,
    Component,
    Incident,
    PageError,
    PageStatus,
    PollResult,
    poll,
    status_page_urls,
)

__all__ = [
    "DEFAULT_STATUS_PAGES",
    "Component",
    "Incident",
    "ModelRetirement",
    "PageError",
    "PageStatus",
    "PollResult",
    "Retirement",
    "load_table",
    "poll",
    "retirements_for",
    "status_page_urls",
]
