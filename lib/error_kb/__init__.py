"""The knowledge base of provider errors, shared by every feature (playground, Errors page,
alerts): what an error means, how to fix it, whether a retry helps, where the provider
documents it, and the status class the Errors page filters by.

Imports nothing of Tokenboard. Modules: ``rules`` (``explain``: the advice for one failed call
or one imported error row), ``classes`` (``classify`` and ``STATUS_CLASS_SQL``: the status
class of a row, the same in Python and in SQL).
"""

from lib.error_kb.classes import STATUS_CLASS_SQL, STATUS_CLASSES, StatusClass, classify
from lib.error_kb.rules import (
    FALLBACK,
    RULES,
    Advice,
    ErrorFacts,
    explain,
    facts_from_body,
    facts_from_row,
)

__all__ = [
    "FALLBACK",
    "RULES",
    "STATUS_CLASSES",
    "STATUS_CLASS_SQL",
    "Advice",
    "ErrorFacts",
    "StatusClass",
    "classify",
    "explain",
    "facts_from_body",
    "facts_from_row",
]
