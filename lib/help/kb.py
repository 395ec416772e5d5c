"""The help's error pages, made from the knowledge base (``lib.error_kb``) when they are read,
so they never drift from what the Errors page and the playground say.

One section per advice of the knowledge base (``RULES`` and ``FALLBACK``), its id made from
the advice's English title (``error-rate-limit-reached``), in the reader's language through
the catalog (the words the Errors page shows), with the codes and HTTP statuses that lead to
it. Which codes lead where is asked of ``explain`` itself: the candidate codes are every code
the knowledge base names (its code lists, and the codes its rules compare), so a code added
there appears here.
"""

from __future__ import annotations

import dis
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from lib.error_kb import FALLBACK, RULES, Advice, ErrorFacts, classes, explain
from lib.error_kb.rules import KIND_CLASS, PROVIDER_DOCS
from lib.help.docs import Section
from lib.i18n import N_, translate

# Words the Errors page shows for an advice (same message ids, so one translation)
MEANS = N_("**What it means:** {text}")
FIX = N_("**How to fix it:** {text}")
RETRY = N_("**Retrying helps.**")
NO_RETRY = N_("**Retrying does not help.**")
DOC = N_("[The provider's documentation]({url})")
# Words of the help alone
CODES = N_("**Codes:** {codes}")
STATUSES = N_("**HTTP status alone:** {statuses}")
PAIRS = N_("**With an HTTP status:** {pairs}")
NO_CODE = N_(
    "No code leads here by itself: the message, the provider or the way the call failed decides."
)
PROVIDER_PAGES = N_("The providers' error pages: {links}")
PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Gemini",
                  "bedrock": "AWS Bedrock", "azure": "Azure OpenAI", "openrouter": "OpenRouter",
                  "litellm": "LiteLLM"}  # fmt: skip
# The code lists of lib.error_kb.classes (the status class of a row)
_CLASS_LISTS = ("NETWORK_CODES", "THROTTLE_CODES", "SPEND_CODES", "QUOTA_CODES",
                "OVERLOADED_CODES", "RATE_CODES", "SERVER_CODES", "CLIENT_CODES")  # fmt: skip


@dataclass(frozen=True)
class KbEntry:
    key: str  # the section id: error-<English title as a slug>
    advice: Advice
    codes: tuple[str, ...]  # codes that lead here by themselves
    statuses: tuple[int, ...]  # HTTP statuses that lead here without a code
    pairs: tuple[tuple[int, str], ...]  # (status, code) that lead here together only


def slug(text: str) -> str:
    """``"Rate limit reached"`` -> ``"rate-limit-reached"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _compared(rule: Callable[[ErrorFacts], bool]) -> tuple[set[str], set[int]]:
    """The codes a rule's test compares (the arguments of its ``_code`` calls, constants and
    tuples named there) and the HTTP statuses it compares ``status`` with."""
    codes: set[str] = set()
    statuses: set[int] = set()
    calling: str | None = None
    after_status = False
    for ins in dis.get_instructions(rule):
        if ins.opname == "LOAD_GLOBAL":
            name = str(ins.argval)
            if calling == "_code":
                value = rule.__globals__.get(name)
                if isinstance(value, tuple):
                    codes.update(v for v in value if isinstance(v, str))
            else:
                calling = name
        elif ins.opname == "LOAD_ATTR":
            after_status = ins.argval == "status"
        elif ins.opname == "LOAD_CONST":
            v = ins.argval
            if calling == "_code" and isinstance(v, str):
                codes.add(v)
            elif after_status and isinstance(v, int) and not isinstance(v, bool):
                statuses.add(v)
            elif after_status and isinstance(v, tuple):
                statuses.update(x for x in v if isinstance(x, int))
        elif ins.opname in ("CALL", "PRECALL"):
            calling = None
    return codes, statuses


def candidate_codes() -> tuple[str, ...]:
    """Every code the knowledge base names, sorted (not the kind and class words that
    Tokenboard itself writes: ``auth``, ``rate_limit``…)."""
    found: set[str] = set()
    for name in _CLASS_LISTS:
        found.update(getattr(classes, name))
    for rule, _advice in RULES:
        found |= _compared(rule)[0]
    return tuple(sorted(found - set(KIND_CLASS) - set(classes.STATUS_CLASSES)))


def _statuses() -> tuple[int, ...]:
    found: set[int] = {400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529}
    for rule, _advice in RULES:
        found |= _compared(rule)[1]
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def entries() -> tuple[KbEntry, ...]:
    """One entry per advice of the knowledge base, in its order, with what leads to it."""
    advices = list(dict.fromkeys([a for _r, a in RULES] + [FALLBACK]))
    codes: dict[str, list[str]] = {a.title: [] for a in advices}
    statuses: dict[str, list[int]] = {a.title: [] for a in advices}
    pairs: dict[str, list[tuple[int, str]]] = {a.title: [] for a in advices}
    alone: dict[str, str] = {}
    for c in candidate_codes():
        alone[c] = explain(ErrorFacts(code=c)).title
        codes[alone[c]].append(c)
    for s in _statuses():
        statuses[explain(ErrorFacts(status=s)).title].append(s)
    for rule, advice in RULES:
        rule_codes, rule_statuses = _compared(rule)
        for s in sorted(rule_statuses):
            for c in sorted(rule_codes):
                got = explain(ErrorFacts(status=s, code=c)).title
                if got == advice.title and alone.get(c) != got:
                    pairs[got].append((s, c))
    out = []
    for a in advices:
        t = a.title
        out.append(KbEntry("error-" + slug(t), a, tuple(codes[t]), tuple(statuses[t]),
                           tuple(dict.fromkeys(pairs[t]))))  # fmt: skip
    return tuple(out)


def _code(text: str) -> str:
    return f"`{text}`"


def _body(e: KbEntry, lang: str) -> str:
    a = e.advice
    lines = [
        translate(MEANS, lang, text=translate(a.meaning, lang)),
        translate(FIX, lang, text=translate(a.fix, lang)),
        translate(RETRY if a.retry else NO_RETRY, lang),
    ]
    if e.codes:
        lines.append(translate(CODES, lang, codes=", ".join(_code(c) for c in e.codes)))
    if e.statuses:
        lines.append(translate(STATUSES, lang, statuses=", ".join(str(s) for s in e.statuses)))
    if e.pairs:
        shown = ", ".join(f"{s} + {_code(c)}" for s, c in e.pairs)
        lines.append(translate(PAIRS, lang, pairs=shown))
    if not (e.codes or e.statuses or e.pairs):
        lines.append(translate(NO_CODE, lang))
    if a.doc_url:
        lines.append(translate(DOC, lang, url=a.doc_url))
    else:
        urls = dict.fromkeys(PROVIDER_DOCS.values())
        names = {u: PROVIDER_NAMES.get(k, k) for k, u in reversed(list(PROVIDER_DOCS.items()))}
        links = ", ".join(f"[{names[u]}]({u})" for u in urls)
        lines.append(translate(PROVIDER_PAGES, lang, links=links))
    return "\n\n".join(lines)


def kb_sections(lang: str, page_id: str) -> tuple[Section, ...]:
    """The knowledge base's sections in ``lang``, for the page ``page_id``."""
    return tuple(
        Section(e.key, translate(e.advice.title, lang), _body(e, lang), page_id, kb=e.advice.title)
        for e in entries()
    )
