"""Thin pages: the Overview (app.py), Usage, Costs and Data read filters, call lib and draw.

``tests/test_layers.py`` already proves that no page holds SQL, imports the store or DuckDB,
or opens a store transaction (its ``_page_offences``). This adds what a thin page must not do
either, found by parsing the files with ``ast``: compute with money, keep a cache of its own,
read the machine's clock, reach a cursor or an importer's internals, search an error's text,
or stand in for NULL with a word.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT
from tests.test_layers import _page_offences

THIN = [ROOT / "app.py", *(ROOT / "pages" / p for p in ("1_Usage.py", "2_Costs.py", "7_Data.py"))]
MONEY = re.compile(
    r"usd|cost|billed|estimated|spend|price|amount|budget|gap|saved|moved|monthly|per_1|per_user",
    re.I,
)
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
NUMBER_CALLS = {"sum", "Decimal", "float", "round"}  # money is added up and rounded in lib
CLOCKS = {"datetime.now", "datetime.utcnow", "date.today", "time.time", "time.monotonic"}
CACHES = {"cache_data", "cache_resource"}
CURSORS = {"cur", "cursor", "_cursor"}
NULL_WORDS = {"(none)", "(all)", "(no model)", "(not itemised)"}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    """What in one page computes, caches or reads below lib (see the module docstring)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root).as_posix()
    found: dict[tuple[int, str], None] = {}

    def hit(node: ast.AST, what: str) -> None:
        found[(getattr(node, "lineno", 0), what)] = None

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ARITHMETIC):
            parts = (
                [node.left, node.right]
                if isinstance(node, ast.BinOp)
                else [node.target, node.value]
            )
            if not any(_is_text(p) for p in parts) and any(
                MONEY.search(ast.unparse(p)) for p in parts
            ):
                hit(node, f"computes with money: {ast.unparse(node)[:60]}")
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in NUMBER_CALLS:
                hit(node, f"calls {name}()")
            elif name in CLOCKS:
                hit(node, f"reads the clock: {name}()")
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "df":
                hit(node, f"calls {name}()")
        elif isinstance(node, ast.Attribute) and node.attr in CACHES:
            hit(node, f"keeps a cache of its own: {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr in CURSORS:
            hit(node, f"reaches a cursor: {ast.unparse(node)}")
        elif isinstance(node, ast.Name) and node.id in CURSORS:
            hit(node, f"reaches a cursor: {node.id}")
        elif isinstance(node, ast.Compare) and any(
            isinstance(o, ast.In | ast.NotIn) for o in node.ops
        ):
            if any(
                isinstance(c, ast.Call) and ast.unparse(c.func) == "str" for c in node.comparators
            ):
                hit(node, f"searches an error's text: {ast.unparse(node)[:60]}")
        elif isinstance(node, ast.Constant) and node.value in NULL_WORDS:
            hit(node, f"stands in for NULL with {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lib.importers"):
            hit(node, f"imports {node.module}")
        elif isinstance(node, ast.Import) and any(
            a.name in ("time", "decimal") for a in node.names
        ):
            hit(node, "imports " + ", ".join(a.name for a in node.names))
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "decimal"):
            hit(node, f"imports {node.module}")
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


def test_the_thin_pages_hold_no_sql_and_reach_the_store_only_through_lib():
    assert [o for page in THIN for o in _page_offences(page)] == []


def test_the_thin_pages_compute_nothing_lib_should():
    assert [o for page in THIN for o in _offences(page)] == []


def test_the_check_sees_what_a_page_should_not_do(tmp_path):
    page = tmp_path / "pages" / "9_Fat.py"
    page.parent.mkdir()
    page.write_text(
        "import time\n"
        "from decimal import Decimal\n"
        "from lib.importers.generic import SYNONYMS\n"
        "billed = sum(x for x in d['billed'])\n"
        "gap = float(billed) - float(estimated)\n"
        "@st.cache_data\n"
        "def _q(): return 1\n"
        "today = datetime.now(UTC).date()\n"
        "with ctx.store.read() as cur:\n"
        "    rows = cur.df(q)\n"
        "if 'unrecognised columns' in str(err): pass\n"
        "pick = None if series_pick == '(none)' else series_pick\n"
        "label = f'{n} rows' + ' more'\n"  # words are not money
        "pages = total // 100 + 1\n",  # nor are page counts
        encoding="utf-8",
    )
    assert _offences(page, tmp_path) == [
        "pages/9_Fat.py:1 imports time",
        "pages/9_Fat.py:2 imports decimal",
        "pages/9_Fat.py:3 imports lib.importers.generic",
        "pages/9_Fat.py:4 calls sum()",
        "pages/9_Fat.py:5 calls float()",
        "pages/9_Fat.py:5 computes with money: float(billed) - float(estimated)",
        "pages/9_Fat.py:6 keeps a cache of its own: st.cache_data",
        "pages/9_Fat.py:8 reads the clock: datetime.now()",
        "pages/9_Fat.py:9 reaches a cursor: cur",
        "pages/9_Fat.py:10 calls cur.df()",
        "pages/9_Fat.py:10 reaches a cursor: cur",
        "pages/9_Fat.py:11 searches an error's text: 'unrecognised columns' in str(err)",
        "pages/9_Fat.py:12 stands in for NULL with '(none)'",
    ]
