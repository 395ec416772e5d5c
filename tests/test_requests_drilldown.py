"""Paged request rows behind a chart."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lib.analytics.requests import request_rows
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import fixture, write


def test_paging_and_where(store, tmp_path):
    head = "timestamp,request_id,model,user,input_tokens\n"
    rows = "".join(
        f"2026-01-01T00:{i:02d}:00Z,r{i:02d},{'gpt-4o' if i % 2 else 'o3'},u{i % 3},{i}\n"
        for i in range(25)
    )
    import_file(store, write(tmp_path, "r.csv", head + rows))
    f = Filters(preset="custom", start=date(2026, 1, 1), end=date(2026, 1, 1))
    first, total = request_rows(
        store, f, page=0, page_size=10, now=datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert total == 25 and len(first) == 10
    assert list(first["request_id"][:3]) == ["r24", "r23", "r22"]  # newest first
    last, _ = request_rows(store, f, page=2, page_size=10)
    assert list(last["request_id"]) == ["r04", "r03", "r02", "r01", "r00"]
    odd, n_odd = request_rows(store, f, where={"model": "gpt-4o"}, page_size=100)
    assert n_odd == 12 and set(odd["model"]) == {"gpt-4o"}
    u0, n_u0 = request_rows(store, f.with_(dims={"user_id": ("u0",)}), page_size=100)
    assert n_u0 == 9 and set(u0["user_id"]) == {"u0"}
    none, n_none = request_rows(store, f, where={"project": None}, page_size=1)
    assert n_none == 25 and len(none) == 1


def test_injection_attempts_are_just_values(store):
    import_file(store, fixture("helicone_export.csv"))
    f = Filters(preset="custom", start=date(2025, 4, 1), end=date(2025, 4, 2))
    rows, total = request_rows(store, f, where={"model": "x' OR '1'='1"})
    assert total == 0 and rows.empty
