"""The playground's words that ``lib.llm`` writes in English (parameter names and help, why
a model does not take a parameter, what an error means and how to fix it), in the page's
language through the catalog. ``lib.llm`` keeps its English sentences as message ids;
``message_ids()`` lists them for the catalog's upkeep and its test, so a sentence changed
there shows up as untranslated instead of silently staying English.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.i18n import N_, translate
from lib.i18n.formats import number
from lib.llm.error_kb import FALLBACK, RULES, Advice
from lib.llm.params import PARAMS
from lib.llm.providers import PROVIDERS

# What lib.llm.adapters says when a model does not take a parameter ({model} filled in).
REASONS = (
    N_("{model} is a reasoning model: it takes only the default sampling."),
    N_("{model} does not take stop sequences."),
    N_("Anthropic's Messages API has no such parameter."),
    N_("Anthropic's Messages API has no response format: ask for JSON in the system prompt."),
)
WAIT = "The provider asks to wait {s} s. "  # lib.llm.error_kb.Advice.with_wait's prefix
WAIT_ID = N_("The provider asks to wait {s} s.")
FORMATS = {"text": N_("Text"), "json_object": N_("JSON object"), "json_schema": N_("JSON following a schema")}  # fmt: skip


def message_ids() -> list[str]:
    """The English words of ``lib.llm`` the playground shows (for the catalog): provider
    names, parameter names and help, every error advice."""
    ids = list(PROVIDERS.values())
    ids += [p.label for p in PARAMS.values()] + [p.help for p in PARAMS.values() if p.help]
    for advice in [a for _rule, a in RULES] + [FALLBACK]:
        ids += [advice.title, advice.meaning, advice.fix]
    return ids


def param_label(name: str, lang: str) -> str:
    """A parameter's name ("temperature" → "Temperature" / "Température")."""
    spec = PARAMS.get(name)
    return translate(spec.label, lang) if spec else name


def param_help(name: str, lang: str) -> str:
    spec = PARAMS.get(name)
    return translate(spec.help, lang) if spec and spec.help else ""


def reason(why: str, model: str, lang: str) -> str:
    """Why ``model`` does not take a parameter, from ``lib.llm.params.unsupported``'s
    sentence (a sentence not known here is shown as it is)."""
    for template in REASONS:
        if template.format(model=model) == why:
            return translate(template, lang, model=model)
    return why


@dataclass(frozen=True)
class AdviceWords:
    title: str
    meaning: str
    fix: str


def advice(a: Advice, retry_after: float | None, lang: str) -> AdviceWords:
    """An error's advice in ``lang``; the wait the provider asked for (``retry_after``
    seconds) is said first in the fix, as ``Advice.with_wait`` does."""
    fix = a.fix
    wait = ""
    if retry_after is not None and a.retry and fix.startswith(WAIT.format(s=f"{retry_after:g}")):
        fix = fix[len(WAIT.format(s=f"{retry_after:g}")) :]
        wait = translate(WAIT_ID, lang, s=number(retry_after, lang)) + " "
    return AdviceWords(
        translate(a.title, lang), translate(a.meaning, lang), wait + translate(fix, lang)
    )


def response_format(code: str, lang: str) -> str:
    """A response format's name ("json_object" → "JSON object" / "Objet JSON")."""
    return translate(FORMATS[code], lang) if code in FORMATS else code
