"""Anthropic Console usage/cost CSV exports and the Claude Code usage report.

Every figure is worked out by hand from the fixtures (see tests/fixtures/README.md).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lib.analytics.costs import by_model
from lib.errors import InputError
from lib.filters import Filters
from lib.importers.formats.anthropic_console import api_model_id
from lib.ingest import import_file, undo_import
from lib.store import Store
from lib.summary import totals
from tests.conftest import fixture, run_cli, snapshot, write

USAGE_HEADER = (
    "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,"
    "usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,"
    "usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,"
    "web_search_count,inference_geo,speed"
)


def _text(name: str) -> str:
    with open(fixture(name), encoding="utf-8") as fh:
        return fh.read()


def _refused(store, path: str, *words: str) -> str:
    """Import ``path``, expect an InputError naming the file and ``words``; nothing changes."""
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, path)
    msg = str(err.value)
    assert msg.startswith(path.rsplit("/", 1)[-1]), msg
    for w in words:
        assert w in msg, msg
    assert snapshot(store) == before
    return msg


# -- Console usage export -----------------------------------------------------------------
def test_console_usage_export_counts_every_input_kind_and_no_requests(store):
    r = import_file(store, fixture("anthropic_console_usage.csv"))
    # the two 2026-09-28 rows differ only in inference_geo/speed: added into one bucket
    assert (r.format, r.source, r.grain, r.rows_read, r.rows_new) == (
        "anthropic_console_usage", "anthropic_console", "usage", 2, 2,
    )  # fmt: skip
    t = totals(store)
    # 09-28: uncached 189 + 10, 5m writes 61624, 1h writes 0, reads 61624 → 123447
    # 09-29: uncached 1000 + 5m 200 + 1h 100 + reads 300 → 1600
    assert t.input_tokens == 123447 + 1600 == 125047
    assert t.cached_input_tokens == 61624 + 300
    assert t.output_tokens == (675 + 5) + 400
    assert t.requests is None  # the export has no request count: NULL, never 0
    assert t.streams == [("anthropic", "anthropic_console", 2)]
    rows = store.query(
        """SELECT CAST(bucket_start AS DATE), bucket_end - bucket_start, model, project, api_key,
                  service_tier, batch, requests, cache_write_tokens, cache_write_1h_tokens,
                  quantity, quantity_unit
           FROM usage_buckets ORDER BY bucket_start"""
    )
    day = rows[0][1]
    assert [r[:1] + r[2:] for r in rows] == [
        (rows[0][0], "fixture-anthropic-v1", "demo-ws", "demo-key", "standard", False, None,
         61624, 0, 2.0, "web_searches"),
        (rows[1][0], "claude-sonnet-4-5-20250929", "demo-ws", "demo-key", "batch", True, None,
         200 + 100, 100, None, None),
    ]  # fmt: skip
    assert str(rows[0][0]) == "2026-09-28" and str(day) == "1 day, 0:00:00"
    # re-importing the same file adds nothing
    again = import_file(store, fixture("anthropic_console_usage.csv"))
    assert (again.rows_new, again.rows_duplicate) == (0, 2)
    assert totals(store).input_tokens == 125047


def test_console_usage_through_the_cli(tmp_path, db_path):
    res = run_cli("import", fixture("anthropic_console_usage.csv"), "--db", db_path, "--quiet")
    assert res.returncode == 0, res.stderr
    assert "anthropic_console_usage" in res.stdout
    data = json.loads(run_cli("summary", "--json", "--db", db_path).stdout)
    assert (data["input_tokens"], data["output_tokens"], data["requests"]) == (125047, 1080, None)
    res = run_cli("import", fixture("anthropic_console_usage.csv"), "--db", db_path, "--quiet")
    assert res.returncode == 0 and "0 new" in res.stdout


def test_console_usage_older_header_and_hourly_rows(store, tmp_path):
    # The header of 2025 exports (no context_window/inference_geo/speed), with an hourly row
    # as the Console writes it when the chart is narrowed to a day.
    old = (
        "usage_date_utc,model_version,api_key,workspace,usage_type,usage_input_tokens_no_cache,"
        "usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,"
        "usage_input_tokens_cache_read,usage_output_tokens,web_search_count\n"
        "2025-06-12 02:00,claude-3-5-haiku-20241022,claude_code_key_user_abc,Claude Code,"
        "standard,8,0,0,0,1,0\n"
    )
    r = import_file(store, write(tmp_path, "old.csv", old))
    assert r.rows_new == 1 and r.notes == []
    assert store.query(
        "SELECT strftime(bucket_start, '%Y-%m-%d %H:%M'), strftime(bucket_end, '%H:%M'), "
        "input_tokens, output_tokens, project FROM usage_buckets"
    ) == [("2025-06-12 02:00", "03:00", 8, 1, "Claude Code")]
    # an export without the 1h column: counted as 0, and said so
    no_1h = old.replace("usage_input_tokens_cache_write_1h,", "").replace(",0,0,0,1,0", ",0,0,1,0")
    no_1h = no_1h.replace("2025-06-12 02:00", "2025-06-13")
    r = import_file(store, write(tmp_path, "no1h.csv", no_1h))
    assert r.notes == [
        "no usage_input_tokens_cache_write_1h column (an older export): counted as 0"
    ]


def test_console_usage_bad_files_are_refused_and_change_nothing(store, tmp_path):
    import_file(store, fixture("anthropic_console_usage.csv"))
    src = _text("anthropic_console_usage.csv").replace("2026-09-2", "2026-10-2")
    # an empty token count is not a zero
    _refused(store, write(tmp_path, "empty.csv", src.replace(",189,", ",,")),
             "line 2", "usage_input_tokens_no_cache", "(empty)")  # fmt: skip
    _refused(store, write(tmp_path, "nan.csv", src.replace(",675,", ",6x5,")),
             "line 2", "usage_output_tokens", "6x5")  # fmt: skip
    # a file cut in the middle of its last line
    _refused(store, write(tmp_path, "cut.csv", src[: src.rindex(",400")]), "line 4", "fields")
    # a day's row beside hourly rows of the same export would count that day twice
    mixed = src.replace("2026-10-28,", "2026-10-28 02:00,", 1)
    _refused(store, write(tmp_path, "mixed.csv", mixed), "usage_date_utc", "hourly")
    no_output = (
        src.replace(",usage_output_tokens", "").replace(",675,", ",").replace(",5,2,", ",2,")
    )
    no_output = no_output.replace(",400,", ",")
    _refused(store, write(tmp_path, "nooutput.csv", no_output), "usage_output_tokens")
    # --format forces it: a CSV that is something else is named
    with pytest.raises(InputError, match="model_version"):
        import_file(
            store,
            write(tmp_path, "other.csv", "usage_date_utc,tokens\n2026-01-01,5\n"),
            fmt="anthropic_console",
        )


# -- Console cost export ------------------------------------------------------------------
def test_console_cost_export_is_exact_dollars(store):
    r = import_file(store, fixture("anthropic_console_cost.csv"))
    assert (r.format, r.source, r.grain, r.rows_new) == (
        "anthropic_console_cost", "anthropic_cost", "cost", 4,
    )  # fmt: skip
    t = totals(store)
    assert t.stated_cost_usd == Decimal("0.05") + Decimal("0.02") + Decimal("0.10") + Decimal(
        "0.30"
    )
    assert t.stated_cost_usd == Decimal("0.47")
    assert t.input_tokens is None and t.requests is None  # cost rows hold no usage
    by_day = store.query(
        "SELECT CAST(bucket_start AS DATE)::VARCHAR, sum(amount) FROM cost_items GROUP BY 1 ORDER BY 1"
    )
    assert by_day == [("2026-08-04", Decimal("0.07")), ("2026-08-05", Decimal("0.40"))]
    # cost_usd is read, not list_price_usd (1.00 on the cache-read row)
    assert store.query(
        "SELECT model, token_type, cost_type, line_item, project, api_key, amount, currency "
        "FROM cost_items WHERE token_type = 'input_cache_read'"
    ) == [("claude-sonnet-4-5", "input_cache_read", "token", "message, input_cache_read",
           "Default", "demo-key", Decimal("0.10"), "USD")]  # fmt: skip
    again = import_file(store, fixture("anthropic_console_cost.csv"))
    assert again.rows_new == 0 and totals(store).stated_cost_usd == Decimal("0.47")


def test_console_cost_export_of_2024(store):
    # the 2024 export had fewer columns and an empty workspace; 0.00 + 3.57 + 5.20 + 3.17
    import_file(store, fixture("anthropic_console_cost_2024.csv"))
    assert totals(store).stated_cost_usd == Decimal("11.94")
    assert store.scalar("SELECT count(*) FROM cost_items WHERE project IS NULL") == 4


def test_console_cost_names_models_by_their_api_id(store, tmp_path):
    """The cost export's display names ("Claude Haiku 4.5") are stored as API ids, so the
    bill and the usage report's estimate of one model are one row of the Costs page."""
    import_file(store, fixture("anthropic_console_cost.csv"))
    assert store.query("SELECT DISTINCT model, snapshot FROM costs_named ORDER BY 1") == [
        ("claude-haiku-4-5", "claude-haiku-4-5"),
        ("claude-opus-4-5", "claude-opus-4-5"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ]
    usage_report = {
        "data": [
            {
                "starting_at": "2026-08-04T00:00:00Z",
                "ending_at": "2026-08-05T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": 1000,
                        "output_tokens": 200,
                        "model": "claude-haiku-4-5-20251001",
                        "service_tier": "standard",
                    }
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    import_file(store, write(tmp_path, "usage_report.json", usage_report))
    f = Filters(preset="custom", start=date(2026, 8, 1), end=date(2026, 8, 31))
    rows = by_model(store, f, datetime(2026, 9, 1, tzinfo=UTC))
    haiku = rows[rows["model"] == "claude-haiku-4-5"]
    assert len(haiku) == 1  # billed and estimated on one row, not "Claude Haiku 4.5" apart
    # billed: 0.05 + 0.02 on 08-04; estimated: 1000 × $1/MTok + 200 × $5/MTok = 0.002
    assert Decimal(str(haiku["billed"].iloc[0])) == Decimal("0.07")
    assert Decimal(str(haiku["estimated"].iloc[0])) == Decimal("0.002")
    assert int(haiku["tokens"].iloc[0]) == 1000 + 200
    assert not any(m.startswith("Claude") or " " in m for m in rows["model"] if m)


def test_console_cost_of_2024_names_the_snapshot(store):
    # "Claude 3.5 Sonnet 2024-10-22": the date is the id's snapshot suffix, the family stays
    import_file(store, fixture("anthropic_console_cost_2024.csv"))
    assert store.query("SELECT DISTINCT model, snapshot FROM costs_named") == [
        ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022")
    ]


@pytest.mark.parametrize(
    ("shown", "api_id"),
    [
        # names in real cost exports (tests/fixtures/README.md: M5stackHuskyLens, 2024)
        ("Claude 3 Opus", "claude-3-opus"),
        ("Claude 3 Sonnet", "claude-3-sonnet"),
        ("Claude 3 Haiku", "claude-3-haiku"),
        ("Claude 3.5 Sonnet 2024-06-20", "claude-3-5-sonnet-20240620"),
        ("Claude 3.5 Sonnet 2024-10-22", "claude-3-5-sonnet-20241022"),
        ("Claude 2", "claude-2"),  # the API's alias of the Claude 2 family
        ("Claude Instant", "claude-instant-1"),  # the table: the rule would say claude-instant
        # names of a newer export (axigate-finops), and later models by the same rule
        ("Claude Haiku 4.5", "claude-haiku-4-5"),
        ("Claude Sonnet 4.5", "claude-sonnet-4-5"),
        ("Claude Opus 4.6", "claude-opus-4-6"),
        ("Claude Opus 5", "claude-opus-5"),
        # the docs' names of older models: the id keeps its version first, or its dot
        ("Claude Sonnet 3.7", "claude-3-7-sonnet"),
        ("Claude Haiku 3.5", "claude-3-5-haiku"),
        ("Claude 2.1", "claude-2.1"),
        ("Claude Instant 1.2", "claude-instant-1.2"),
        # API ids and other names are kept as written
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("fixture-anthropic-v1", "fixture-anthropic-v1"),
        ("Claude Opus 5, preview", "Claude Opus 5, preview"),
    ],
)
def test_console_display_names_to_api_ids(shown, api_id):
    assert api_model_id(shown) == api_id


def test_console_usage_export_names_models_by_api_id_too(store, tmp_path):
    # the usage export writes API ids (kept); a display name there would be mapped the same way
    text = _text("anthropic_console_usage.csv").replace(
        "2026-09-28,fixture-anthropic-v1,", "2026-09-28,Claude Haiku 4.5,"
    )
    import_file(store, write(tmp_path, "usage.csv", text))
    assert store.query("SELECT model FROM usage_buckets ORDER BY bucket_start") == [
        ("claude-haiku-4-5",), ("claude-sonnet-4-5-20250929",),
    ]  # fmt: skip


def test_console_cost_replaces_the_cost_report_of_the_same_day(store, tmp_path):
    """The Console's cost export and the Admin API cost report are the same bill: a day
    imported from both is counted once (the later import replaces the earlier)."""
    report = {
        "data": [
            {
                "starting_at": "2026-08-04T00:00:00Z",
                "ending_at": "2026-08-05T00:00:00Z",
                "results": [{"amount": "7", "currency": "USD", "model": "claude-haiku-4-5"}],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    import_file(store, write(tmp_path, "cost_report.json", report))
    assert totals(store).stated_cost_usd == Decimal("0.07")  # 7 cents
    r = import_file(store, fixture("anthropic_console_cost.csv"))
    assert r.rows_replaced == 1
    # 08-04: the export's 0.05 + 0.02 instead of the report's 0.07 on top; 08-05: 0.40
    assert totals(store).stated_cost_usd == Decimal("0.47")


def test_console_cost_bad_amount_is_refused(store, tmp_path):
    src = _text("anthropic_console_cost.csv")
    _refused(store, write(tmp_path, "c.csv", src.replace(",0.30,0.30,", ",abc,0.30,")),
             "line 5", "cost_usd", "abc")  # fmt: skip
    _refused(store, write(tmp_path, "e.csv", src.replace(",0.30,0.30,", ",,0.30,")),
             "line 5", "cost_usd", "(empty)")  # fmt: skip


# -- Claude Code usage report ---------------------------------------------------------------
def test_claude_code_report_one_bucket_per_day_actor_and_model(store):
    r = import_file(store, fixture("claude_code_docs_example.json"))
    assert (r.format, r.source, r.rows_new) == ("claude_code", "claude_code", 2)
    assert any("has_more" in n for n in r.notes)  # the docs' page says more follow
    t = totals(store)
    # sonnet: 45230 input + 2340 cache creation + 8790 cache read = 56360
    # haiku:  23100 + 890 + 3420 = 27410
    assert t.input_tokens == 56360 + 27410 == 83770
    assert t.cached_input_tokens == 8790 + 3420
    assert t.output_tokens == 12450 + 5680
    assert t.requests is None
    # estimated cost 186 + 42 cents
    assert t.stated_cost_usd == Decimal("2.28")
    rows = store.query(
        """SELECT model, user_id, api_key, kind, provider, cache_write_tokens, cost_usd
           FROM usage_buckets ORDER BY model"""
    )
    assert rows == [
        ("claude-3-5-haiku-20241022", "user@emaildomain.com", None, "claude_code", "anthropic",
         890, Decimal("0.42")),
        ("claude-sonnet-4-20250514", "user@emaildomain.com", None, "claude_code", "anthropic",
         2340, Decimal("1.86")),
    ]  # fmt: skip
    assert (
        store.query(
            "SELECT strftime(bucket_start, '%Y-%m-%d %H:%M'), bucket_end - bucket_start FROM usage_buckets LIMIT 1"
        )[0][0]
        == "2025-08-08 00:00"
    )
    again = import_file(store, fixture("claude_code_docs_example.json"))
    assert again.rows_new == 0 and totals(store).input_tokens == 83770


def _docs_page() -> dict:
    with open(fixture("claude_code_docs_example.json"), encoding="utf-8") as fh:
        return json.load(fh)


@pytest.mark.parametrize("shape", ["array_of_pages", "pages_jsonl", "records", "records_jsonl"])
def test_claude_code_saved_shapes(store, tmp_path, shape):
    page1 = _docs_page()
    page2 = _docs_page()
    rec = page2["data"][0]
    rec["actor"] = {"type": "api_actor", "api_key_name": "ci-key"}
    rec["model_breakdown"] = rec["model_breakdown"][:1]
    rec["model_breakdown"][0]["estimated_cost"]["amount"] = 186.5  # half a cent, kept exactly
    page2["has_more"], page2["next_page"] = False, None
    pages = [page1, page2]
    records = [page1["data"][0], page2["data"][0]]
    content = {
        "array_of_pages": json.dumps(pages),
        "pages_jsonl": "\n".join(json.dumps(p) for p in pages) + "\n",
        "records": json.dumps(records),
        "records_jsonl": "\n".join(json.dumps(r) for r in records) + "\n",
    }[shape]
    r = import_file(store, write(tmp_path, "cc.json", content))
    assert (r.format, r.rows_new) == ("claude_code", 3)
    # the docs' user (56360 + 27410) and the API key's sonnet (56360 again)
    assert totals(store).input_tokens == 83770 + 56360
    # 186 + 42 + 186.5 cents
    assert totals(store).stated_cost_usd == Decimal("4.145")
    assert store.query(
        "SELECT user_id, api_key, cost_usd FROM usage_buckets WHERE api_key IS NOT NULL"
    ) == [("ci-key", "ci-key", Decimal("1.865"))]


def test_claude_code_pages_saved_as_separate_files_add_up(store, tmp_path):
    """The report pages over users within one day: each page file replaces only its own users'
    buckets, so pages add up, a page imported again adds nothing, and a newer pull of a page
    replaces only that page's users (undo included)."""
    page1 = _docs_page()  # user@emaildomain.com, has_more: true
    page2 = _docs_page()
    page2["data"][0]["actor"] = {"type": "api_actor", "api_key_name": "ci-key"}
    page2["has_more"], page2["next_page"] = False, None
    p1 = write(tmp_path, "cc_page1.json", page1)
    first = import_file(store, p1)
    assert any("has_more" in n for n in first.notes)
    second = import_file(store, write(tmp_path, "cc_page2.json", page2))
    assert (second.rows_new, second.rows_replaced) == (2, 0)
    # both users, the same day: 83770 each (56360 sonnet + 27410 haiku)
    assert totals(store).input_tokens == 83770 + 83770 == 167540
    assert (second.period_start, second.period_end) == (first.period_start, first.period_end)
    again = import_file(store, p1)
    assert (again.rows_new, again.rows_duplicate, again.rows_replaced) == (0, 2, 0)
    assert totals(store).input_tokens == 167540
    # a newer pull of page 1: the user's sonnet input 45230 → 50000
    newer = _docs_page()
    newer["data"][0]["model_breakdown"][0]["tokens"]["input"] = 50000
    r = import_file(store, write(tmp_path, "cc_page1_newer.json", newer))
    assert (r.rows_new, r.rows_duplicate, r.rows_replaced) == (1, 1, 1)  # haiku unchanged
    # user: sonnet 50000 + 2340 + 8790 = 61130, haiku 27410; ci-key untouched: 83770
    assert totals(store).input_tokens == 61130 + 27410 + 83770 == 172310
    by_user = store.query("SELECT user_id, sum(input_tokens) FROM live_usage GROUP BY 1 ORDER BY 1")
    assert by_user == [("ci-key", 83770), ("user@emaildomain.com", 88540)]
    # undoing the re-import of page 1 keeps the newer pull: page 1's first rows stay replaced
    undo_import(store, again.import_id)
    assert totals(store).input_tokens == 172310
    # undoing the newer pull brings page 1's first figures back, page 2 still beside them
    undo_import(store, r.import_id)
    assert totals(store).input_tokens == 167540
    undo_import(store, second.import_id)
    assert totals(store).input_tokens == 83770


def test_claude_code_records_of_one_actor_and_day_are_added(store, tmp_path):
    page = _docs_page()
    other_terminal = json.loads(json.dumps(page["data"][0]))
    other_terminal["terminal_type"] = "vscode"
    page["data"].append(other_terminal)
    r = import_file(store, write(tmp_path, "two_terminals.json", page))
    assert r.rows_new == 2  # still one bucket per day, actor and model
    assert totals(store).input_tokens == 2 * 83770
    assert totals(store).stated_cost_usd == Decimal("4.56")


def test_claude_code_and_the_usage_report_of_the_same_day_count_tokens_once(store, tmp_path):
    usage_report = {
        "data": [
            {
                "starting_at": "2025-08-08T00:00:00Z",
                "ending_at": "2025-08-09T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": 45230,
                        "cache_creation": {"ephemeral_5m_input_tokens": 2340},
                        "cache_read_input_tokens": 8790,
                        "output_tokens": 12450,
                        "model": "claude-sonnet-4-20250514",
                    }
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    report = write(tmp_path, "messages_usage.json", usage_report)
    import_file(store, fixture("claude_code_docs_example.json"))
    import_file(store, report)
    t = totals(store)
    # the usage report (56360 input, 12450 output) is counted; Claude Code's is not added
    assert (t.input_tokens, t.output_tokens) == (56360, 12450)
    assert t.streams == [("anthropic", "anthropic_usage", 1)]
    # the other order, in another database, gives the same
    s2 = Store(str(tmp_path / "other.duckdb"))
    try:
        import_file(s2, report)
        import_file(s2, fixture("claude_code_docs_example.json"))
        t2 = totals(s2)
        assert (t2.input_tokens, t2.output_tokens) == (56360, 12450)
    finally:
        s2.close()


def test_claude_code_bad_reports_are_refused_and_change_nothing(store, tmp_path):
    import_file(store, fixture("anthropic_console_usage.csv"))
    page = _docs_page()
    no_output = json.loads(json.dumps(page))
    del no_output["data"][0]["model_breakdown"][1]["tokens"]["output"]
    _refused(store, write(tmp_path, "a.json", no_output),
             "data[0].model_breakdown[1].tokens.output", "missing")  # fmt: skip
    text_count = json.loads(json.dumps(page))
    text_count["data"][0]["model_breakdown"][0]["tokens"]["input"] = "45230"
    _refused(store, write(tmp_path, "b.json", text_count),
             "data[0].model_breakdown[0].tokens.input", "not a count")  # fmt: skip
    euros = json.loads(json.dumps(page))
    euros["data"][0]["model_breakdown"][0]["estimated_cost"]["currency"] = "EUR"
    _refused(store, write(tmp_path, "c.json", euros), "currency", "EUR")
    no_actor = json.loads(json.dumps(page))
    no_actor["data"][0]["actor"] = {"type": "user_actor"}
    _refused(store, write(tmp_path, "d.json", no_actor), "actor.email_address")
    whole = json.dumps(page, indent=2)
    _refused(store, write(tmp_path, "e.json", whole[: whole.rindex("}")]), "ends early")
    # forced as something else, it is named
    with pytest.raises(InputError, match="claude_code data, not langfuse"):
        import_file(store, fixture("claude_code_docs_example.json"), fmt="langfuse")
