"""An import reads straight: the path of an uploaded file through ``lib.importers`` goes one
way (detect → read → the format's importer → match → plan), and the modules import each
other in that order only.

The path is traced with ``sys.setprofile``: every call from one module into another module
of ``lib.importers`` (the caller may be outside, e.g. ``lib.ingest``) appends the callee's
module, repeats in a row collapsed. A module that appears again after the path moved on is a
return to a module it had left. The shared low modules (``LOW``) are called from every step
and are left out of the path.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

from lib.importers.detect import FORMATS
from lib.importers.formats import RANKED
from lib.ingest import import_file
from tests.conftest import ROOT, fixture

PACKAGE = "lib.importers"
# Shared by every step: value rules, the stored columns, SQL for values, the Tabular type and
# the types handed along (Plan, FieldSource, Importer, Asked), the synonyms' data.
LOW = ("rules", "canonical", "values", "tabular", "base", "synonyms")
STEPS = ("detect", "read", "match", "plan")


def import_path(store: Any, path: str) -> list[str]:
    """The modules of ``lib.importers`` (without the package prefix) an import of ``path``
    calls into, in order, repeats in a row collapsed, the low modules left out."""
    seq: list[str] = []

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith(PACKAGE + "."):
            return
        back = frame.f_back
        caller = back.f_globals.get("__name__", "") if back is not None else ""
        name = callee.removeprefix(PACKAGE + ".")
        if caller != callee and name not in LOW and (not seq or seq[-1] != name):
            seq.append(name)

    sys.setprofile(profile)
    try:
        import_file(store, path)
    finally:
        sys.setprofile(None)
    return seq


def returns(path: list[str]) -> list[str]:
    """The modules the path comes back to after leaving them, in order."""
    seen: set[str] = set()
    back = []
    for name in path:
        if name in seen:
            back.append(name)
        seen.add(name)
    return back


def test_a_generic_csv_goes_one_way(store):
    path = import_path(store, fixture("generic_fr.csv"))
    assert returns(path) == []
    # the steps in pipeline order; between read and match, each table importer is asked in
    # priority order whether the file looks like its own, and generic (last) plans it
    assert [m for m in path if m in STEPS] == ["detect", "read", "match", "plan"]
    assert [m for m in path if m.startswith("formats.")] == [
        "formats.cloud_billing",  # Azure, Google Cloud
        "formats.anthropic_console",
        "formats.litellm",
        "formats.helicone",
        "formats.langfuse_observations",
        "formats.generic",
    ]
    assert path.index("read") < path.index("formats.cloud_billing")
    assert path.index("formats.generic") < path.index("match") < path.index("plan")


def test_an_openai_usage_json_goes_one_way(store):
    path = import_path(store, fixture("openai_usage_completions.json"))
    assert returns(path) == []
    # read parses the pages; the importers of documents that tell theirs by its shape say no,
    # then the provider API pages plan them (rows built in Python: base.arrow_plan, low)
    assert path == [
        "detect",
        "read",
        "formats.cloud_billing",
        "formats.claude_code",
        "formats.langfuse",
        "formats.litellm_spend_report",
        "formats.provider_api",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "litellm_spend_logs.csv",
        "anthropic_console_usage.csv",
        "azure_cost_ea_openai.csv",
        "gcp_billing_vertex.jsonl",
        "claude_code_docs_example.json",
        "litellm_spend_logs_ui_page.json",
    ],
)
def test_other_formats_go_one_way(store, name):
    assert returns(import_path(store, fixture(name))) == []


def test_json_records_come_back_to_read_once(store):
    """JSON records are told from reports by the importers of documents first; only then are
    they opened as a table (read, again) and recognised like one."""
    path = import_path(store, fixture("generic_requests.jsonl"))
    assert returns(path) == ["read"]
    assert path[-3:] == ["formats.generic", "match", "plan"]


# -- the imports between modules -------------------------------------------------------------
def _rank(module: str) -> int:
    """Where a module sits: low modules first, then the steps, the formats, the registry and
    the entry. A module may import only modules of a lower rank."""
    order = {
        "rules": 0,
        "canonical": 0,
        "synonyms": 0,
        "values": 1,
        "tabular": 2,
        "base": 3,
        "read": 4,
        "match": 5,
        "plan": 6,
        "formats": 8,  # the registry
        "detect": 9,
    }
    return 7 if module.startswith("formats.") else order[module]


def _modules() -> dict[str, Path]:
    base = ROOT / "lib" / "importers"
    out = {}
    for file in sorted(base.rglob("*.py")):
        parts = file.relative_to(base).with_suffix("").parts
        name = ".".join(p for p in parts if p != "__init__")
        if name:
            out[name] = file
    return out


def _imports(file: Path) -> set[str]:
    """The ``lib.importers`` modules ``file`` imports (without the prefix)."""
    out: set[str] = set()
    known = _modules()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            mod = node.module.removeprefix(PACKAGE).lstrip(".")
            for alias in node.names:  # `from lib.importers.formats import litellm`
                sub = f"{mod}.{alias.name}" if mod else alias.name
                out.add(sub if sub in known else mod)
        elif isinstance(node, ast.Import):
            out |= {
                a.name.removeprefix(PACKAGE + ".")
                for a in node.names
                if a.name.startswith(PACKAGE + ".")
            }
    return out - {""}


def test_modules_import_only_the_ones_before_them():
    modules = _modules()
    assert set(LOW) | set(STEPS) | {"formats", "formats.generic"} <= set(modules)
    wrong = []
    for name, file in modules.items():
        for target in _imports(file):
            if target.startswith("formats.") and name.startswith("formats."):
                wrong.append(f"{name} imports {target}: a format never imports another")
            elif _rank(target) >= _rank(name):
                wrong.append(f"{name} imports {target}, which comes after it")
    assert wrong == []


# -- the registry ------------------------------------------------------------------------------
def test_the_registry_keeps_the_formats_and_their_order():
    assert FORMATS == (
        "openai_usage", "openai_costs", "anthropic_usage", "anthropic_cost",
        "openai_legacy_usage", "litellm", "helicone", "anthropic_console", "claude_code",
        "langfuse", "langfuse_observations", "azure_cost", "gcp_billing", "generic",
    )  # fmt: skip
    names = {kind: [i.name for i in importers] for kind, importers in RANKED.items()}
    assert names["table"] == [
        "azure_cost", "gcp_billing", "anthropic_console", "litellm", "helicone",
        "langfuse_observations", "generic",
    ]  # fmt: skip
    assert names["records"] == ["langfuse_observations", "litellm", "helicone", "generic"]
    assert names["docs"] == [
        "gcp_billing", "claude_code", "langfuse", "litellm_spend_report", "openai_usage",
        "openai_legacy_usage", "openai_legacy_billing", "litellm",
    ]  # fmt: skip
    assert names["lines"] == ["gcp_billing"]
