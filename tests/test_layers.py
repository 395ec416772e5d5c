"""The layers hold at run time and where import-linter cannot look.

import-linter (``lint-imports``, contracts in pyproject.toml) checks the imports written in
``lib``. Two things it cannot see are checked here: what importing the engine really loads
(imports made by third-party packages or by ``importlib``), and the pages and ``app.py``,
which are scripts, not a package.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LIB = ROOT / "lib"
PAGES = [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]

# Below the UI only: a page reads filters, calls lib, draws.
FORBIDDEN_IN_PAGES = ("lib.store", "duckdb")
SQL_CALLS = {"execute", "executemany", "sql", "query", "scalar"}  # on a store or a cursor
STORE_TRANSACTIONS = {"read", "write"}  # ``with store.read() as cur``
SQL_TEXT = re.compile(
    r"\b(?:SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(?:TABLE|VIEW)"
    r"|WITH\s+\w+\s+AS\s*\()"
)  # written as the code base writes SQL: keywords in capitals


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _engine_modules() -> list[str]:
    """Every module of lib outside lib.ui."""
    return sorted(
        _module(p)
        for p in LIB.rglob("*.py")
        if "__pycache__" not in p.parts and p.relative_to(LIB).parts[0] != "ui"
    )


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import, ``from a import b`` counted as ``a`` and ``a.b``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_lib_outside_ui_never_imports_streamlit_in_source():
    offenders = []
    for name in _engine_modules():
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{name}:{line} imports {mod}"
            for line, mod in _imported_names(tree)
            if _under(mod, "streamlit") or _under(mod, "lib.ui")
        ]
    assert offenders == []


def test_importing_every_engine_module_loads_neither_streamlit_nor_the_ui():
    modules = _engine_modules()
    assert "lib.store.db" in modules and "lib.http" in modules and len(modules) > 40
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] == 'streamlit' or m.startswith('lib.ui'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _page_offences(path: Path, root: Path = ROOT) -> list[str]:
    """What in one page or app.py reaches below lib: imports of the store or DuckDB, calls
    that run SQL or open a store transaction, SQL text; in line order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root).as_posix()
    found: dict[tuple[int, str], None] = {}
    for line, mod in _imported_names(tree):
        hit = next((f for f in FORBIDDEN_IN_PAGES if _under(mod, f)), None)
        if hit:
            found[(line, f"imports {hit}")] = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, receiver = node.func.attr, ast.unparse(node.func.value)
            if attr in SQL_CALLS or (attr in STORE_TRANSACTIONS and "store" in receiver.lower()):
                found[(node.lineno, f"calls {receiver}.{attr}()")] = None
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.search(node.value)
        ):
            found[(node.lineno, f"holds SQL: {node.value[:60]!r}")] = None
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


def test_pages_hold_no_sql_and_reach_the_store_only_through_lib():
    assert len(PAGES) >= 5
    offences = [o for page in PAGES for o in _page_offences(page)]
    assert offences == []


def test_the_page_check_sees_sql_and_store_imports(tmp_path):
    """The check above would catch a page that queries the database itself."""
    page = tmp_path / "pages" / "9_Bad.py"
    page.parent.mkdir()
    page.write_text(
        "import duckdb\n"
        "from lib.store import Store\n"
        "from lib import store as st_store\n"
        "with ctx.store.read() as cur:\n"
        "    rows = cur.execute('SELECT model, sum(cost) FROM costs GROUP BY 1').fetchall()\n"
        "n = ctx.store.scalar(q)\n"
        "st.caption('Select a model from the list')\n"  # words for people are not SQL
        "text = uploaded.read()\n",  # reading an upload is not a store transaction
        encoding="utf-8",
    )
    assert _page_offences(page, tmp_path) == [
        "pages/9_Bad.py:1 imports duckdb",
        "pages/9_Bad.py:2 imports lib.store",
        "pages/9_Bad.py:3 imports lib.store",
        "pages/9_Bad.py:4 calls ctx.store.read()",
        "pages/9_Bad.py:5 calls cur.execute()",
        "pages/9_Bad.py:5 holds SQL: 'SELECT model, sum(cost) FROM costs GROUP BY 1'",
        "pages/9_Bad.py:6 calls ctx.store.scalar()",
    ]
