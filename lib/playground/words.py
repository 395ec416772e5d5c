"""The playground's words that ``lib.llm`` writes in English (parameter names and help, why
a model does not take a parameter, what an error means and how to fix it), in the page's
language through the catalog. ``lib.llm`` keeps its English sentences as message ids;
``message_ids()`` lists them for the catalog's upkeep and its test, so a sentence changed
there shows up as untranslated instead of silently staying English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lib.error_kb import FALLBACK, RULES, Advice
from lib.i18n import N_, translate
from lib.i18n.formats import number
from lib.llm.params import PARAMS, ParamError
from lib.llm.providers import PROVIDERS
from lib.llm.types import NotTaken
from lib.playground.presets import PresetError, PresetNotFound

Escape = Callable[[str], str]  # makes a value from the user or a file safe where it is shown


def _same(text: str) -> str:
    return text


# Why a model does not take a parameter, by ``lib.llm.types.NotTaken.code`` ({model}, {api}).
REASONS = {
    "reasoning_sampling": N_("{model} is a reasoning model: it takes only the default sampling."),
    "no_stop": N_("{model} does not take stop sequences."),
    "no_such_param": N_("{api} has no such parameter."),
    "no_response_format": N_("{api} has no response format: ask for JSON in the system prompt."),
}
APIS = {"Anthropic's Messages API": N_("Anthropic's Messages API")}  # NotTaken.api, named
# A parameter refused, by ``lib.llm.params.ParamError.code`` ({param} is its name).
PARAM_ERRORS = {
    "unknown_parameter": N_("{param}: unknown parameter"),
    "not_taken": N_("{param}: {reason}"),
    "not_a_number": N_("{param}: expected a number, found {found}"),
    "out_of_range": N_("{param}: expected {low} to {high}, found {found}"),
    "too_many_stops": N_("{param}: at most {limit} stop sequences, found {found}"),
    "bad_response_format": N_("{param}: expected one of {formats}, found {found}"),
    "schema_not_json": N_("{param}: the JSON schema is not valid JSON ({error}, line {line})"),
    "schema_shape": N_(
        '{param}: expected a schema object like {{"name": "...", "schema": {{...}}}}'
    ),
}
# A preset refused, by ``lib.playground.presets.PresetError.preset_code`` and
# ``PresetNotFound.code`` ({where} names the file and preset).
PRESET_ERRORS = {
    "not_an_object": N_("{where}: a preset must be a JSON object (provider, model, system, params)"),
    "unknown_provider": N_("{where}: unknown provider {found}; expected {providers}"),
    "model_missing": N_("{where}: the model is missing"),
    "bad_param": N_("{where}: {reason}"),
    "bad_messages": N_("{where}: messages must be a list of {{role: user|assistant, content: text}}"),
    "name_empty": N_("Give the preset a name."),
    "name_taken": N_("{owner} already has a preset named “{name}”."),
    "not_json": N_("{where}: not valid JSON ({error}, line {line})"),
    "too_deep": N_("{where}: not valid JSON (nested too deeply)"),
    "not_presets_file": N_("{where}: not a Tokenboard presets file (format {found}, expected {expected})"),
    "needs_name": N_("{where}: a preset needs a name"),
    "missing": N_("Preset #{preset_id} does not exist or is not shared with you."),
    "not_owner": N_("Preset “{name}” belongs to {owner}: only they (or an admin) can change it."),
}  # fmt: skip
WAIT = "The provider asks to wait {s} s. "  # lib.error_kb.Advice.with_wait's prefix
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


def reason(why: NotTaken, lang: str, esc: Escape = _same) -> str:
    """Why a model does not take a parameter (``lib.llm.params.unsupported``), in ``lang``."""
    msgid = REASONS.get(why.code)
    if msgid is None:  # a code added to lib.llm and not worded here yet
        return esc(str(why))
    api = translate(APIS[why.api], lang) if why.api in APIS else esc(why.api)
    return translate(msgid, lang, model=esc(why.model), api=api)


def param_error(err: ParamError, lang: str, esc: Escape = _same) -> str:
    """A parameter refused by ``lib.llm.params.validate``, in ``lang``; ``esc`` makes text
    from the user or the file safe where it is shown (the page's ``md``)."""
    label = param_label(err.field, lang) if err.field in PARAMS else esc(err.field)
    if err.code == "not_taken" and err.not_taken is not None:
        why = reason(err.not_taken, lang, esc)
        return translate(PARAM_ERRORS["not_taken"], lang, param=label, reason=why)
    msgid = PARAM_ERRORS.get(err.code)
    if msgid is None:
        return esc(str(err))
    v = err.values
    fields: dict[str, object] = {"param": label}
    for k in ("low", "high"):
        if k in v:
            fields[k] = number(v[k], lang)
    if err.code == "out_of_range":
        fields["found"] = number(v["found"], lang)
    elif err.code == "too_many_stops":
        fields |= {"limit": v["limit"], "found": v["found"]}
    elif "found" in v:
        fields["found"] = esc(str(v["found"]))
    for k in ("formats", "error", "line"):
        if k in v:
            fields[k] = esc(str(v[k])) if isinstance(v[k], str) else v[k]
    return translate(msgid, lang, **fields)


def preset_error(err: PresetError | PresetNotFound, lang: str, esc: Escape = _same) -> str:
    """A preset refused (saving, renaming, deleting, importing), in ``lang``."""
    code = err.preset_code if isinstance(err, PresetError) else err.code
    msgid = PRESET_ERRORS.get(code)
    if msgid is None:
        return esc(str(err))
    fields: dict[str, object] = {
        k: esc(str(v)) if isinstance(v, str) else v for k, v in err.values.items()
    }
    if isinstance(err, PresetError) and err.param_error is not None:
        fields["reason"] = param_error(err.param_error, lang, esc)
    return translate(msgid, lang, **fields)


def error(err: Exception, lang: str, esc: Escape = _same) -> str:
    """Any refusal the playground meets (a parameter, a preset), in ``lang``; another error
    keeps its English sentence."""
    if isinstance(err, ParamError):
        return param_error(err, lang, esc)
    if isinstance(err, PresetError | PresetNotFound):
        return preset_error(err, lang, esc)
    return esc(str(err))


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
