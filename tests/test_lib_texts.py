"""Sentences of lib that a page shows are said in the page's language: every refusal of an
import (``InputError``'s problem and expected texts, a ``fail`` of the JSON readers), every
note of an import or a preview, and the messages of Tokenboard's own errors are written with
``N_`` (a constant id, or a ``Text`` with its values), never as an f-string or a bare literal
that the catalog cannot hold. Read from the code with ``ast``, so a new refusal written the
old way fails here before it reaches a French page in English."""

from __future__ import annotations

import ast

import pytest

from lib.i18n import N_, Text
from lib.i18n.catalog import missing
from lib.i18n.extract import all_messages
from tests.conftest import ROOT

ERRORS = {"InputError", "PullError", "DiskFullError", "UnexpectedImportError", "NotFoundError",
          "StoreError", "DatabaseBusyError", "TokenboardError", "WriteBusyError"}  # fmt: skip
# call name -> positions of its text arguments (keywords "problem"/"expected" too)
TEXT_ARGS = {"fail": (1, 3), "amount": (2,), "money": (2,), "InputError": (1,)}
TEXT_KEYWORDS = ("problem", "expected")
# variables that hold a sentence about to become one of the texts above
TEXT_NAMES = {"problem", "expected", "note", "partial", "byok", "then", "why_text"}
FOLDERS = ("lib/importers", "lib/ingest", "lib/pull", "lib/preview.py", "lib/errors.py",
           "lib/store/db.py", "lib/settings.py")  # fmt: skip


def _loose(node: ast.expr | None) -> bool:
    """A sentence the catalog cannot hold: an f-string, a non-blank literal, or a sum or a
    choice of them (``N_(…)`` and ``Text(…)`` calls are fine)."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(node.value.strip())
    if isinstance(node, ast.BinOp):
        return _loose(node.left) or _loose(node.right)
    if isinstance(node, ast.IfExp):
        return _loose(node.body) or _loose(node.orelse)
    return False


def _called(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _texts(node: ast.Call) -> list[ast.expr]:
    name = _called(node)
    out: list[ast.expr] = []
    if name in ERRORS and name != "InputError":
        out += node.args[:1]
    if name in TEXT_ARGS:
        out += [a for i, a in enumerate(node.args) if i in TEXT_ARGS[name]]
    if name in ERRORS or name == "fail":
        out += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
    f = node.func
    if (name in ("append", "extend") and isinstance(f, ast.Attribute)
            and ((isinstance(f.value, ast.Name) and f.value.id == "notes")
                 or (isinstance(f.value, ast.Attribute) and f.value.attr == "notes"))):  # fmt: skip
        out += node.args
    return out


def loose_sentences() -> list[str]:
    found = []
    files = [
        p for f in FOLDERS for p in ([ROOT / f] if f.endswith(".py") else (ROOT / f).rglob("*.py"))
    ]
    for path in sorted(files):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            exprs: list[ast.expr] = []
            if isinstance(node, ast.Call):
                exprs = _texts(node)
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in TEXT_NAMES for t in node.targets
            ):
                exprs = [node.value]
            elif isinstance(node, ast.List | ast.Tuple) and False:
                exprs = []
            for e in exprs:
                if _loose(e):
                    rel = path.relative_to(ROOT).as_posix()
                    found.append(f"{rel}:{e.lineno}: {ast.unparse(e)[:80]}")
    return found


def test_every_sentence_of_an_import_is_a_catalog_entry():
    loose = loose_sentences()
    assert not loose, "write these with N_(…) (values as fields):\n" + "\n".join(loose)


def test_the_catalog_translates_every_marked_sentence_of_lib():
    found, _problems = all_messages()
    lib = ("lib/importers", "lib/ingest", "lib/pull", "lib/errors", "lib/store")
    ids = [m.msgid for m in found if m.file.startswith(lib)]
    assert len(ids) > 150  # the importers' refusals and notes are there, not an empty scan
    assert not missing(ids, "fr"), missing(ids, "fr")


def test_a_text_is_its_english_sentence_and_keeps_its_parts():
    t = N_("{n} rows of {name!r} skipped", n=12345, name="a.csv")
    assert isinstance(t, Text) and t == "12,345 rows of 'a.csv' skipped"
    assert (t.template, t.values) == ("{n} rows of {name!r} skipped", {"n": 12345, "name": "a.csv"})
    assert N_("plain") == "plain" and not isinstance(N_("plain"), Text)
    import pickle

    back = pickle.loads(pickle.dumps(t))
    assert isinstance(back, Text) and back == t and back.values == t.values


@pytest.mark.parametrize("folder", ["lib/importers"])
def test_the_scan_sees_an_fstring_refusal(tmp_path, folder, monkeypatch):
    # the scan is not blind: an f-string problem in a file it reads is reported
    bad = ROOT / folder / "zz_scan_probe.py"
    bad.write_text('from lib.errors import InputError\n'
                   'def f(x):\n    raise InputError("a.csv", f"bad {x}")\n')  # fmt: skip
    try:
        assert any("zz_scan_probe.py:3" in s for s in loose_sentences())
    finally:
        bad.unlink()
