"""The words of an import in the page's language: its progress lines (``ProgressLine``: a
code and values) and why a file was refused (``InputError``'s parts). lib keeps its English
sentences for the command line and the ledger; this module words the same parts through the
catalog. A line without a code (a plain ``str``) or a code it does not know is shown as lib
wrote it, escaped for Markdown. Every function returns Markdown with the values escaped."""

from __future__ import annotations

from lib.errors import InputError
from lib.i18n import N_, Text
from lib.ingest.progress import ProgressLine
from lib.ui.i18n import _, integer, n_, number, say
from lib.ui.markup import md

PROGRESS: dict[str, str] = {
    "recognised": N_("{display}: {format} recognised; importing {mb} MB"),
    "text_reader": N_("{display}: some values need the text reader; reading again"),
    "reading_rows": N_("{display}: reading rows {percent}% ({seconds} s)"),
    "rows_read": N_("{display}: {rows} rows read; checking duplicates"),
    "committing": N_("{display}: committing"),
    "pull_fetching": N_("{api}: fetching {endpoint} {start} → {end}"),
    "pull_page": N_("{endpoint}: page {n}"),
    "pull_importing": N_("importing {endpoint}"),
    "demo_generating": N_("generating {n} demo requests over {days} days"),
}


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _num(value: object, digits: int) -> str:
    return number(value, digits) if isinstance(value, int | float) else md(value)


def progress(line: str) -> str:
    """One progress line of an import, a pull or the demo loader (Markdown)."""
    if not isinstance(line, ProgressLine):
        return md(line)
    v = {k: md(say(x) if isinstance(x, Text) else x) if isinstance(x, str) else x
         for k, x in line.values.items()}  # fmt: skip
    code = line.code
    if code == "records":
        count = _int(line.values.get("n"))
        return n_("{display}: {format}; importing {n} record",
                  "{display}: {format}; importing {n} records", count,
                  display=v.get("display"), format=v.get("format"), n=integer(count))  # fmt: skip
    if code not in PROGRESS:
        return md(line)
    if "mb" in v:
        v["mb"] = _num(line.values["mb"], 1)
    if "percent" in v:
        v["percent"] = _num(line.values["percent"], 0)
    if "seconds" in v:
        v["seconds"] = _num(line.values["seconds"], 0)
    for key in ("rows", "n"):
        if key in v:
            v[key] = integer(line.values[key])
    for key in ("start", "end"):
        if key in v:
            v[key] = md(f"{line.values[key]}")
    return _(PROGRESS[code], **v)


def _quoted(text: str, limit: int | None = None) -> str:
    """``text`` quoted as ``InputError`` quotes it (Python's repr), cut to ``limit``."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return md(repr(text))


def refusal(err: BaseException) -> str:
    """Why a file was refused or an import failed (Markdown), in the page's language.

    An ``InputError`` is composed from its parts as its ``str()`` composes them ("FILE, line N,
    field 'F': PROBLEM; found 'X'; expected Y"), its problem and expected texts translated
    (``say``: the importers mark them with ``N_``, with their values when they carry some).
    Other errors are said from their one argument when it is a ``Text``, as lib wrote them
    otherwise."""
    if not isinstance(err, InputError):
        said = err.args[0] if len(err.args) == 1 and isinstance(err.args[0], Text) else str(err)
        return md(say(said))
    where = [md(err.file)]
    if err.line is not None:
        where.append(_("line {n}", n=err.line))
    if err.field:
        where.append(_("field {field}", field=_quoted(err.field)))
    text = _("{where}: {problem}", where=", ".join(where), problem=md(say(err.problem)))
    if err.found is not None:
        text += _("; found {found}", found=_quoted(err.found, 80))
    if err.expected:
        text += _("; expected {expected}", expected=md(say(err.expected)))
    return text
