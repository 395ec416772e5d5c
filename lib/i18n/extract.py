"""The catalog's upkeep, read from the code with ``ast``: which words the pages ask for, which
words they show without asking the catalog, and adding the new ones to the ``.po`` files.

``python -m lib.i18n.extract`` adds every message id used in the pages (``app.py``,
``pages/``, ``lib/ui/``) and marked in ``lib`` (``N_``) to ``locales/fr/.../tokenboard.po``
with an empty translation (and drops those no longer used), then prints the ids still
untranslated. Fill them in and run ``tests/test_i18n.py``.

Calls recognised: ``_("…")`` and ``t("…")`` (translate now), ``n_("one …", "{n} …", n)``
(plural), ``N_("…")`` (marked here, translated where shown).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from lib.config import PROJECT_ROOT
from lib.i18n.catalog import DEFAULT_LANG, DOMAIN, LANGUAGES, PLURAL_FORMS, po_path, read_catalog

SINGLE = ("_", "t", "N_", "Text")
PLURAL = ("n_",)
# Display calls of streamlit (on st, st.sidebar, a column, a form…) whose label or body is
# shown to people; "value" of a metric is its second argument.
DISPLAY_CALLS = frozenset({
    "title", "header", "subheader", "caption", "markdown", "write", "text", "code", "latex",
    "button", "download_button", "form_submit_button", "link_button", "page_link",
    "selectbox", "multiselect", "radio", "segmented_control", "pills", "checkbox", "toggle",
    "slider", "select_slider", "number_input", "text_input", "text_area", "date_input",
    "time_input", "datetime_input", "file_uploader", "chat_input", "color_picker",
    "camera_input", "metric", "tabs", "info", "warning", "error", "success", "toast",
    "expander", "popover", "status", "spinner", "set_page_config", "json", "badge",
})  # fmt: skip
SHOWN_KEYWORDS = ("label", "help", "placeholder", "body", "page_title", "caption")
# Words that are the same in every language (names, formats): allowed as literals.
SAME_IN_EVERY_LANGUAGE = ("Tokenboard", "CSV", "Excel", "Parquet", "PNG", "JSON", "HTTP", "USD")
_WRAPPERS = ("md", "code", "defuse")  # lib.ui.markup: their argument is shown
_NOT_SHOWN = ("log", "logger", "logging", "warnings")  # x.warning(…) that is not streamlit
# Modules whose ``message_ids()`` lists English sentences of another module that a page shows
# (lib.llm's parameter help and error advice): they are catalog entries too.
RUNTIME = ("lib.playground.words",)
HEADER = """\
# Tokenboard's words, language %s.
# Update with `python -m lib.i18n.extract` (adds new ids with an empty msgstr), fill in the
# empty msgstr, then run tests/test_i18n.py.
#"""


@dataclass(frozen=True)
class Found:
    msgid: str
    plural: str | None
    file: str
    line: int


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    text: str  # what is wrong, for the test's message


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def scan(
    path: Path, keywords: Iterable[str] = SINGLE + PLURAL
) -> tuple[list[Found], list[Problem]]:
    """The message ids asked for in ``path``, and the calls whose id is not a plain string
    (an f-string or a concatenation cannot be looked up; a variable holding a word marked
    elsewhere with ``N_`` is fine)."""
    wanted = set(keywords)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Found] = []
    problems: list[Problem] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in wanted:
            continue
        if isinstance(node.func, ast.Attribute) and _name(node.func) in ("t",):
            continue  # x.t(…) is someone else's method
        name = _name(node.func)
        count = 2 if name in PLURAL else 1
        args = node.args[:count]
        if len(args) < count:
            continue
        if all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            texts = [a.value for a in args]  # type: ignore[attr-defined]
            found.append(Found(texts[0], texts[1] if count == 2 else None, _rel(path), node.lineno))
        elif any(isinstance(a, ast.JoinedStr | ast.BinOp) for a in args):
            problems.append(Problem(_rel(path), node.lineno,
                                    f"{name}() of an f-string or a sum: put values in {{fields}}"))  # fmt: skip
    return found, problems


def _literal_texts(node: ast.AST) -> Iterator[str]:
    """The literal text a displayed expression carries outside the catalog."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for v in node.values:
            if isinstance(v, ast.Constant):
                yield from _literal_texts(v)
            elif isinstance(v, ast.FormattedValue):
                yield from _literal_texts(v.value)
    elif isinstance(node, ast.BinOp):
        yield from _literal_texts(node.left)
        yield from _literal_texts(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literal_texts(node.body)
        yield from _literal_texts(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _literal_texts(v)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for v in node.elts:
            yield from _literal_texts(v)
    elif isinstance(node, ast.Call):
        name = _name(node.func)
        if name in SINGLE + PLURAL:
            return
        if name in ("format", "join") and isinstance(node.func, ast.Attribute):
            yield from _literal_texts(node.func.value)
            if name == "join":
                for a in node.args:
                    yield from _literal_texts(a)
        elif name in _WRAPPERS:
            for a in node.args:
                yield from _literal_texts(a)


def has_words(text: str) -> bool:
    """True when ``text`` holds a letter outside the names that read the same everywhere
    (punctuation, numbers, emoji, ``:material/…:`` icons and Markdown do not count; nor does
    a JSON example, which is code)."""
    import json
    import re

    try:
        if isinstance(json.loads(text), dict | list):
            return False
    except ValueError:
        pass
    text = re.sub(r":material/[a-z_]+:", " ", text)
    for word in SAME_IN_EVERY_LANGUAGE:
        text = text.replace(word, " ")
    return any(ch.isalpha() for ch in text)


def is_example(text: str) -> bool:
    """True when a placeholder ``text`` is an example of a value rather than a sentence: no two
    words in a row ("https://app.example.com", "gpt-4o", "ops-alerts", "a@example.com, …")."""
    import re

    return re.search(r"[^\W\d_]+ +[^\W\d_]+", text) is None


def raw_text(path: Path) -> list[Problem]:
    """The streamlit display calls in ``path`` that show literal words without the catalog:
    ``st.title("Costs")``, ``col.metric(f"Tokens in {x}")``, ``st.tabs(["Chat", …])``…"""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[Problem] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        call = node.func.attr
        if call not in DISPLAY_CALLS or not (node.args or node.keywords):
            continue
        if isinstance(node.func.value, ast.Name) and node.func.value.id in _NOT_SHOWN:
            continue  # log.warning(…): the server's log, not the page
        shown: list[ast.AST] = list(node.args[:1])
        if call == "metric":
            shown += node.args[1:2]
        shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        examples = {id(k.value) for k in node.keywords if k.arg == "placeholder"}
        for expr in shown:
            for text in _literal_texts(expr):
                if id(expr) in examples and is_example(text):
                    continue  # a placeholder that is a value to type: an address, a name, a model
                if has_words(text):
                    out.append(Problem(_rel(path), node.lineno, f"st.{call}(…) shows {text!r}"))
    return out


# Widgets that show Streamlit's own English words unless given a placeholder: a multiselect
# ("Choose options"; ``url.many`` draws one) and a selectbox that starts empty ("Choose an
# option").
_OWN_PLACEHOLDER = {"multiselect", "many"}


def english_defaults(path: Path) -> list[Problem]:
    """The widget calls in ``path`` that would show Streamlit's English placeholder: a
    multiselect without ``placeholder=``, a selectbox with ``index=None`` without one. A call
    that passes ``**kwargs`` is its callers' to check."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[Problem] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        names = {k.arg for k in node.keywords}
        if "placeholder" in names or None in names:  # None: **kwargs
            continue
        starts_empty = node.func.attr == "selectbox" and any(
            k.arg == "index" and isinstance(k.value, ast.Constant) and k.value.value is None
            for k in node.keywords
        )
        if node.func.attr in _OWN_PLACEHOLDER or starts_empty:
            out.append(Problem(_rel(path), node.lineno,
                               f"{node.func.attr}(…) without a placeholder shows Streamlit's English one"))  # fmt: skip
    return out


def page_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """Where pages ask for words: ``app.py``, ``pages/*.py`` and ``lib/ui/**/*.py`` (the
    settings' and help's tabs included)."""
    return [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "lib" / "ui").rglob("*.py"))]  # fmt: skip


def marked_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """Modules of ``lib`` outside ``lib/ui`` that mark words with ``N_``."""
    out = []
    for p in sorted((root / "lib").rglob("*.py")):
        if "ui" in p.relative_to(root / "lib").parts[:1]:
            continue
        if "N_(" in p.read_text(encoding="utf-8") and p.name != "catalog.py":
            out.append(p)
    return out


def runtime_messages() -> list[Found]:
    """The message ids listed by the ``RUNTIME`` modules."""
    import importlib

    out = []
    for name in RUNTIME:
        where = name.replace(".", "/") + ".py"
        out += [Found(m, None, where, 0) for m in importlib.import_module(name).message_ids()]
    return out


def all_messages(root: Path = PROJECT_ROOT) -> tuple[list[Found], list[Problem]]:
    """Every message id of the pages, of ``lib``'s marked tables and of the ``RUNTIME``
    lists."""
    found: list[Found] = []
    problems: list[Problem] = []
    for p in page_files(root):
        if p.exists():
            f, pr = scan(p)
            found += f
            problems += pr
    for p in marked_files(root):
        f, pr = scan(p, ("N_", "Text"))
        found += f
        problems += pr
    return found + runtime_messages(), problems


def update_po(lang: str, found: list[Found]) -> list[str]:
    """Write ``lang``'s ``.po`` file with the message ids of ``found``, in the order of the
    code: the translations already made kept, new ids with an empty one, ids no longer used
    left out. Returns the ids untranslated."""
    old = read_catalog(lang) or Catalog(locale=lang, domain=DOMAIN)
    new = Catalog(locale=lang, domain=DOMAIN, project="Tokenboard", creation_date=old.creation_date,
                  revision_date=old.revision_date, fuzzy=False, header_comment=HEADER % lang)  # fmt: skip
    if lang in PLURAL_FORMS:
        new.mime_headers = [("Plural-Forms", PLURAL_FORMS[lang])]
    seen: set[str] = set()
    for f in found:
        if f.msgid in seen:
            new[f.msgid].locations.append((f.file, f.line))
            continue
        seen.add(f.msgid)
        before = old.get(f.msgid)
        msg_id: str | tuple[str, str] = (f.msgid, f.plural) if f.plural else f.msgid
        kept = before.string if before is not None else None
        string: str | tuple[str, ...]
        if f.plural:  # both forms; a singular entry become plural keeps its text in both
            if isinstance(kept, tuple | list):
                string = tuple(str(x) for x in kept)
            else:
                string = (kept, kept) if isinstance(kept, str) and kept else ("", "")
        else:
            string = kept if isinstance(kept, str) else ""
        flags = before.flags if before is not None else ()
        auto = ["python-brace-format"] if "{" in f.msgid else []
        new.add(msg_id, string, locations=[(f.file, f.line)], flags=set(flags) | set(auto),
                user_comments=before.user_comments if before is not None else [])  # fmt: skip
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(
            fh, new, width=100, sort_output=False, include_previous=False, include_lineno=False
        )
    untranslated = []
    for m in new:
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.id and (not all(strings) or m.fuzzy):
            untranslated.append(str(m.id[0]) if isinstance(m.id, tuple | list) else str(m.id))
    return untranslated


def main(argv: list[str] | None = None) -> int:
    found, problems = all_messages()
    for p in problems:
        print(f"{p.file}:{p.line}: {p.text}", file=sys.stderr)
    for lang in LANGUAGES:
        if lang == DEFAULT_LANG:
            continue
        todo = update_po(lang, found)
        print(f"{po_path(lang).relative_to(PROJECT_ROOT)}: {len(set(f.msgid for f in found))} "
              f"messages, {len(todo)} to translate")  # fmt: skip
        for msgid in todo:
            print(f"  {msgid}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
