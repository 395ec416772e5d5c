"""The knowledge base of provider errors, shared by every feature (playground, Errors page,
alerts): what an error means, how to fix it, whether a retry helps, where the provider
documents it, and the status class the Errors page filters by.

Imports nothing of Tokenboard. Modules: ``rules`` (``explain``: the advice for one failed
call).
"""

from lib.error_kb.rules import FALLBACK, RULES, Advice, ErrorFacts, explain, facts_from_body

__all__ = ["FALLBACK", "RULES", "Advice", "ErrorFacts", "explain", "facts_from_body"]
