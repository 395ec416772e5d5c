"""Latency percentiles from the histograms, against latencies chosen by hand.

Unfiltered and provider/model views read the histograms, where a bucket spans 20 % (bucket
of x = floor(log base 1.2 of x)): the tests assert that the reported percentile falls in the
same bucket as the exact one. Project and key views read the hourly histograms by key, user
views the daily ones by user, the same way; a key and a user at once read the rows: exact
percentiles (tests/test_bounded_queries.py).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from lib.analytics.latency import latency_by, latency_series, latency_totals
from lib.analytics.usage import breakdown_table, series, totals
from lib.filters import Filters
from lib.ingest import import_file, undo_import
from lib.store import Store
from lib.store.migrations import V1, V2
from tests.conftest import older_copy, write

NOW = datetime(2026, 3, 3, 12, tzinfo=UTC)
BOTH_DAYS = Filters(
    preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2), granularity="day"
)


def _log() -> str:
    rows = ["timestamp,request_id,model,project,user,input_tokens,output_tokens,status,latency_ms"]
    # March 1: gpt-4o-mini for u1, 18 calls at 100 ms and 2 at 2000 ms
    for i in range(20):
        rows.append(f"2026-03-01T10:{i:02d}:00Z,a{i},gpt-4o-mini,alpha,u1,10,10,success,"
                    f"{100 if i < 18 else 2000}")  # fmt: skip
    # March 2: gpt-4o for u2, 10 calls at 1000 ms, and one call with no latency recorded
    for i in range(10):
        rows.append(f"2026-03-02T08:{i:02d}:00Z,b{i},gpt-4o,beta,u2,10,10,success,1000")
    rows.append("2026-03-02T09:00:00Z,c0,gpt-4o,beta,u2,10,10,success,")
    return "\n".join(rows) + "\n"


def _bucket(ms: float) -> int:
    return math.floor(math.log(ms) / math.log(1.2))


def _load(store, tmp_path):
    return import_file(store, write(tmp_path, "log.csv", _log()))


def test_percentiles_over_the_period(store, tmp_path):
    _load(store, tmp_path)
    t = latency_totals(store, BOTH_DAYS, NOW)
    # 30 latencies sorted: 18 × 100, 10 × 1000, 2 × 2000. The 50th percentile is the 15th
    # (100 ms); the 95th is the 28.5th, among the 2000 ms ones. The call without latency is ignored.
    assert _bucket(t["p50"]) == _bucket(100)
    assert _bucket(t["p95"]) == _bucket(2000)
    both = totals(store, BOTH_DAYS, NOW)
    assert both["requests"] == 31
    assert (both["p50_latency"], both["p95_latency"]) == (t["p50"], t["p95"])


def test_percentiles_per_day_per_model_and_per_user(store, tmp_path):
    _load(store, tmp_path)
    p95 = series(store, BOTH_DAYS, "p95_latency", now=NOW)
    # March 1: 20 calls, the 19th is 2000 ms; March 2: all 1000 ms
    assert [str(b.date()) for b in p95["bucket"]] == ["2026-03-01", "2026-03-02"]
    assert [_bucket(v) for v in p95["value"]] == [_bucket(2000), _bucket(1000)]
    p50 = series(store, BOTH_DAYS, "p50_latency", now=NOW)
    assert [_bucket(v) for v in p50["value"]] == [_bucket(100), _bucket(1000)]

    by_model = latency_by(store, BOTH_DAYS, "model", NOW).set_index("model")
    assert _bucket(by_model.loc["gpt-4o-mini", "p50_latency"]) == _bucket(100)
    assert _bucket(by_model.loc["gpt-4o-mini", "p95_latency"]) == _bucket(2000)
    assert _bucket(by_model.loc["gpt-4o", "p95_latency"]) == _bucket(1000)
    table = breakdown_table(store, BOTH_DAYS, "model", NOW).set_index("model")
    assert table.loc["gpt-4o", "requests"] == 11
    assert table.loc["gpt-4o", "p95_latency"] == by_model.loc["gpt-4o", "p95_latency"]

    # a user filter reads the daily histograms by user: u2 made only the 1000 ms calls; u1's
    # 20 calls sorted (18 × 100, then 2 × 2000): p95 falls among the 2000s, p50 among the 100s
    u2 = BOTH_DAYS.with_(dims={"user_id": ("u2",)})
    got = latency_totals(store, u2, NOW)
    assert (_bucket(got["p50"]), _bucket(got["p95"])) == (_bucket(1000), _bucket(1000))
    u1 = BOTH_DAYS.with_(dims={"user_id": ("u1",)})
    got = latency_totals(store, u1, NOW)
    assert (_bucket(got["p50"]), _bucket(got["p95"])) == (_bucket(100), _bucket(2000))
    projects = latency_by(store, BOTH_DAYS, "project", NOW).set_index("project")
    assert _bucket(projects.loc["beta", "p50_latency"]) == _bucket(1000)
    by_user = latency_series(store, BOTH_DAYS, 0.5, breakdown="user_id", now=NOW)
    assert sorted(by_user["series"]) == ["u1", "u2"]
    # top 1 by requests keeps u1 (20 calls with a latency) and merges u2 into "other"
    top1 = latency_series(store, BOTH_DAYS, 0.5, breakdown="model", top_n=1, now=NOW)
    # the top value by name, the rest merged into one row of its own (grp "other", no name)
    assert set(zip(top1["grp"], top1["series"].fillna("-"), strict=True)) == {
        ("top", "gpt-4o-mini"),
        ("other", "-"),
    }


def test_no_latency_gives_none_not_zero(store, tmp_path):
    _load(store, tmp_path)
    empty = Filters(preset="custom", start=date(2026, 2, 1), end=date(2026, 2, 2))
    assert latency_totals(store, empty, NOW) == {"p50": None, "p95": None}


def test_undo_removes_the_histogram_and_migrations_backfill_it(db_path, tmp_path):
    with Store(db_path) as s:
        first = _load(s, tmp_path)
        before = s.query("SELECT hour, model, lb, n FROM agg_latency_hourly ORDER BY ALL")
        assert sum(r[3] for r in before) == 30
        streams = s.query("SELECT * FROM token_streams ORDER BY ALL")
        # turn it into a version-2 database (no histograms, token_streams a view): migrations 3
        # and 4 then build the histograms from the rows and the streams table from the rollups
        with s.write() as cur:
            cur.execute("DROP TABLE agg_latency_hourly")
            cur.execute("DROP VIEW counted_user_daily")
            cur.execute("DROP VIEW counted_hourly")
            cur.execute("DROP TABLE token_streams")
            cur.execute(V1[V1.index("CREATE VIEW token_streams") :])
            cur.execute(V2)
            for later in (
                "TABLE presets",
                "TABLE playground_runs",
                "SEQUENCE preset_id_seq",
                "SEQUENCE run_id_seq",
            ):
                cur.execute(f"DROP {later}")  # what migrations after 4 made
            for table in ("auth_sessions", "event_claims"):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            for table in ("agg_hourly", "agg_user_daily", "agg_error_hourly"):  # migration 10
                cur.execute(f"UPDATE {table} SET model = snapshot")
                cur.execute(f"ALTER TABLE {table} DROP COLUMN snapshot")
            for table in ("agg_hourly", "agg_user_daily"):  # migrations 11 and 12
                cur.execute(f"ALTER TABLE {table} DROP COLUMN span_s")
                cur.execute(f"ALTER TABLE {table} DROP COLUMN cost_n")
            cur.execute("DROP VIEW requests_named")
            cur.execute("DROP VIEW costs_named")
            cur.execute("ALTER TABLE imports DROP COLUMN origin")  # migration 13
            cur.execute("ALTER TABLE request_events DROP COLUMN error_fingerprint")  # migration 14
            for later in ("TABLE alert_deliveries", "TABLE alert_incidents", "TABLE alert_rules",
                          "TABLE credit_grants", "TABLE rate_limits", "SEQUENCE alert_rule_id_seq",
                          "SEQUENCE alert_incident_id_seq", "SEQUENCE alert_delivery_id_seq",
                          "SEQUENCE credit_grant_id_seq", "SEQUENCE IF EXISTS alert_channel_id_seq"):  # fmt: skip
                cur.execute(f"DROP {later}")  # migrations 15 to 17
            cur.execute("DELETE FROM schema_version WHERE version >= 3")
    with Store(db_path) as s:
        assert s.schema_version() >= 4
        assert s.query("SELECT hour, model, lb, n FROM agg_latency_hourly ORDER BY ALL") == before
        assert s.query("SELECT * FROM token_streams ORDER BY ALL") == streams
        undo_import(s, first.import_id)
        assert s.scalar("SELECT count(*) FROM agg_latency_hourly") == 0


def test_usage_page_shows_latency(app_env, tmp_path):
    from lib.ui.widgets import ms
    from tests.conftest import app_test, login

    with Store(app_env) as s:
        _load(s, tmp_path)
        expected = latency_totals(s, BOTH_DAYS)
    at = app_test("pages/1_Usage.py")
    at.query_params.update(
        {"period": "custom", "from": "2026-03-01", "to": "2026-03-02", "gran": "day"}
    )
    at = login(at, "vic")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["p95 latency"] == ms(expected["p95"]) != "—"
    at.selectbox(key="usage_metric").select("p95_latency")
    at.run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[-1].value  # by model, last on the page
    assert "p95 latency (ms)" in table.columns
    # estimated from the histograms by default: gpt-4o's ten calls of 1000 ms read inside
    # their bucket (1.2^37 to 1.2^38 ms), not 1000 exactly
    assert at.radio(key="usage_pct").value == "estimate"
    estimated = sorted(table["p95 latency (ms)"])
    assert estimated[0] != 1000 and _bucket(estimated[0]) == _bucket(1000)
    # exact, from the rows: gpt-4o 1000 ms; gpt-4o-mini's 19th and 20th of 20 are 2000 ms
    at.radio(key="usage_pct").set_value("exact")
    at.run()
    assert not at.exception
    assert at.query_params["pct"] == "exact"
    assert sorted(at.dataframe[-1].value["p95 latency (ms)"]) == [1000.0, 2000.0]
    # the headline's p95 too: 30 latencies, 18 × 100, 10 × 1000, 2 × 2000 ms; at 0.95 × 29 =
    # 27.55 places up, between the 28th and 29th (1000 and 2000): 1000 + 0.55 × 1000 = 1550 ms
    values = {m.label: m.value for m in at.metric}
    assert values["p95 latency"] == ms(1550.0) != ms(expected["p95"])


def test_migration_27_builds_the_histograms_by_key_and_user_from_stored_rows(store, tmp_path):
    """Rows stored before migration 27 get the histograms by key and by user an import makes."""
    _load(store, tmp_path)
    tables = ("agg_latency_key_hourly", "agg_latency_user_daily")

    def histograms(s: Store) -> dict[str, list[tuple]]:
        return {
            t: s.query(
                f"SELECT * EXCLUDE (import_id, n), sum(n) FROM {t} GROUP BY ALL ORDER BY ALL"
            )
            for t in tables
        }

    made_at_import = histograms(store)
    # 31 calls, 30 with a latency: u1's 20 on March 1 (buckets 25 and 41), u2's 10 on March 2
    assert [r[-1] for r in made_at_import["agg_latency_user_daily"]] == [18, 2, 10]
    with Store(older_copy(store, str(tmp_path / "v26.duckdb"), 26)) as s:
        assert s.schema_version() >= 27
        assert histograms(s) == made_at_import


def test_migration_29_sums_the_daily_histogram_by_key_from_the_hourly_one(store, tmp_path):
    """The daily histogram by key is the hourly one summed per UTC day, at import and when
    migration 29 builds it from a database that had only the hourly one."""
    _load(store, tmp_path)

    def daily(s: Store) -> list[tuple]:
        return s.query(
            "SELECT * EXCLUDE (import_id, n), sum(n) FROM agg_latency_key_daily GROUP BY ALL ORDER BY ALL"
        )

    summed = store.query(
        """SELECT (hour // 86400) * 86400, provider, model, snapshot, project, api_key, lb, sum(n)
           FROM agg_latency_key_hourly GROUP BY ALL ORDER BY ALL"""
    )
    made_at_import = daily(store)
    assert [r[1:] for r in made_at_import] == [r for r in summed]
    # 30 calls with a latency: 20 on March 1, 10 on March 2
    assert sum(r[-1] for r in made_at_import) == 30
    with Store(older_copy(store, str(tmp_path / "v28.duckdb"), 28)) as s:
        assert s.schema_version() >= 29
        assert daily(s) == made_at_import


def test_a_crafted_percentiles_choice_in_the_link_falls_back_to_the_estimate(app_env, tmp_path):
    from tests.conftest import app_test, login

    with Store(app_env) as s:
        _load(s, tmp_path)
    for value in ("[x](javascript:alert(1))", "EXACT", "exact\x00", "x" * 5000):
        at = app_test("pages/1_Usage.py")
        at.query_params.update({"period": "custom", "from": "2026-03-01", "to": "2026-03-02",
                                "metric": "p95_latency", "pct": value})  # fmt: skip
        at = login(at, "vic")
        assert not at.exception
        assert at.radio(key="usage_pct").value == "estimate"
        assert "pct" not in at.query_params  # the default is not written into the link
        assert "javascript" not in " ".join(m.value for m in at.markdown)
