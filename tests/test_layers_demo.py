"""The engine never imports the UI; the demo data's three grains agree with each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from lib.demo import load_demo
from lib.summary import totals
from tests.conftest import ROOT

LIB = ROOT / "lib"


def _engine_modules() -> list[Path]:
    return [p for p in LIB.rglob("*.py") if "ui" not in p.relative_to(LIB).parts[:1]]


def test_lib_outside_ui_never_imports_streamlit_in_source():
    offenders = []
    for path in _engine_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_importing_every_engine_module_loads_no_streamlit():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _engine_modules()
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('streamlit' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_demo_grains_agree(store):
    results = load_demo(store, days=14, scale=0.3, end=datetime(2026, 11, 1, tzinfo=UTC))
    assert [r.format for r in results] == [
        "litellm_spend_logs",
        "openai_usage",
        "openai_costs",
        "anthropic_usage",
        "anthropic_cost",
    ]
    assert store.scalar("SELECT bool_and(is_demo) FROM imports") is True
    # Usage pulls and the gateway log describe the same traffic: same tokens per provider.
    rows = store.query(
        """SELECT provider, grain, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens)
           FROM agg_hourly GROUP BY ALL ORDER BY 1, 2"""
    )
    by = {(p, g): (i, c, o) for p, g, i, c, o in rows}
    for provider in ("openai", "anthropic"):
        assert by[(provider, "request")] == by[(provider, "usage")]
    # OpenAI's usage pull counts requests, failed ones included, like the gateway log.
    assert store.scalar(
        "SELECT sum(requests) FROM agg_hourly WHERE grain='usage' AND provider='openai'"
    ) == store.scalar("SELECT count(*) FROM request_events WHERE provider = 'openai'")
    # The bill agrees with the gateway's stated cost to within the rounding of each line item.
    billed = store.scalar("SELECT sum(amount) FROM live_costs")
    stated = store.scalar("SELECT sum(cost_usd) FROM request_events")
    lines = store.scalar("SELECT count(*) FROM live_costs")
    assert abs(billed - stated) <= Decimal("0.005") * lines
    t = totals(store)
    # ...and the estimate from the price catalog agrees with the bill within 1 %.
    assert abs(t.estimated_cost_usd - t.stated_cost_usd) < t.stated_cost_usd * Decimal("0.01")
    assert t.unpriced_models == []
    assert 0.005 < t.errors / store.scalar("SELECT count(*) FROM request_events") < 0.08
    assert {s for _p, s, _d in t.streams} == {"openai_usage", "anthropic_usage"}
