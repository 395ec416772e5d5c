"""Alerts benchmark: 200 rules of every kind evaluated over the pages benchmark's database
(10M requests and 90 days of usage and cost reports at ``--scale 200``).

    python bench/bench_alerts.py [--scale 200] [--out bench/out] [--repeat 3]

The database is the one ``bench/bench_pages.py`` builds (``OUT/pages.duckdb``; built here when
missing), copied to ``OUT/alerts.duckdb`` so that rules and incidents never pile up in it. The
rules: every kind for every subject kind and window (budgets on actual spend and forecast,
spikes, error rate, 429 share, p95 latency, no data, keys unused/revoked/refused, retirement,
credit running low) plus budgets and error rates on single projects and keys, up to 200. The
clock is the data's last hour. Prints each evaluation's time and each kind's measuring time.
Target: one evaluation of the 200 rules ≤ 1 s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_pages import build  # noqa: E402

from lib.alerts import engine, evaluate, rules  # noqa: E402
from lib.alerts.credits import add_grant  # noqa: E402
from lib.alerts.rules import enabled_rules  # noqa: E402
from lib.store import Store  # noqa: E402

TARGET_S = 1.0
SUBJECT_KINDS = ("organisation", "provider", "project", "key", "model", "user")


def rule_specs(projects: list[str], keys: list[str]) -> list[dict[str, object]]:
    """200 rules: every kind × subject kind × window, then single-subject ones."""
    specs: list[dict[str, object]] = []
    for sk in SUBJECT_KINDS:
        specs += [dict(kind="budget", subject_kind=sk, window=w, threshold=t, basis=b)
                  for w in ("day", "week", "month") for b in ("actual", "forecast") for t in (5, 50)]  # fmt: skip
        spans = ("day",) if sk == "user" else ("hour", "day")  # users are rolled up per day
        specs += [dict(kind="spend_spike", subject_kind=sk, window=w) for w in spans]
        specs += [dict(kind=k, subject_kind=sk, window=w, min_volume=20)
                  for k in ("error_rate", "rate_limit_share", "p95_latency") for w in ("hour", "day", "week")]  # fmt: skip
        specs += [dict(kind="no_data", subject_kind=sk, threshold=2)]
        specs += [
            dict(kind=k, subject_kind=sk, window="day") for k in ("key_revoked_used", "key_refused")
        ]
    specs += [dict(kind="key_unused", subject_kind="key", threshold=3),
              dict(kind="model_retirement", subject_kind="model", threshold=120),
              dict(kind="credit_low", subject_kind="provider", threshold=60)]  # fmt: skip
    extra = itertools.cycle(
        [dict(kind="budget", subject_kind="project", subject=p, window="month", threshold=20) for p in projects]
        + [dict(kind="error_rate", subject_kind="key", subject=k, window="day", threshold=1) for k in keys]
    )  # fmt: skip
    while len(specs) < 200:
        specs.append(next(extra))
    return specs[:200]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    source = os.path.join(args.out, "pages.duckdb")
    build(source, args.scale)
    db = os.path.join(args.out, "alerts.duckdb")
    for suffix in ("", ".wal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(source, db)
    with Store(db) as store:
        rows = store.scalar("SELECT count(*) FROM request_events")
        errors = store.scalar("SELECT count(*) FROM request_events WHERE status = 'error'")
        now = store.scalar("SELECT max(ts) FROM request_events") + timedelta(minutes=1)
        providers = [r[0] for r in store.query("SELECT DISTINCT provider FROM agg_hourly")]
        projects = [
            r[0]
            for r in store.query(
                "SELECT DISTINCT project FROM agg_hourly WHERE project IS NOT NULL"
            )
        ]
        keys = [
            r[0]
            for r in store.query(
                "SELECT DISTINCT api_key FROM agg_hourly WHERE api_key IS NOT NULL"
            )
        ]
        for p in providers:
            add_grant(
                store,
                "admin",
                provider=p,
                amount_usd="5000",
                granted_on=date(now.year, now.month, 1),
            )
        specs = rule_specs(projects, keys)
        for spec in specs:
            rules.create(store, "admin", **spec)
        print(
            f"{rows:,} requests ({errors:,} errors); {len(specs)} rules: {dict(Counter(s['kind'] for s in specs))}"
        )
        times = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            summary = evaluate(store, now + timedelta(minutes=i))
            times.append(time.perf_counter() - t0)
            print(f"evaluation {i + 1}: {times[-1]:.2f} s · {summary.line()}")
        with store.read() as cur:
            by_kind: dict[str, list] = {}
            for r in enabled_rules(cur):
                by_kind.setdefault(r.kind, []).append(r)
            t0 = time.perf_counter()
            engine.prepare_spend(cur, *engine.spend_window(cur, now))
            print(
                f"  spend prepared once for budgets, spikes and credit  {time.perf_counter() - t0:.3f} s"
            )
            for kind, group in sorted(by_kind.items()):
                t0 = time.perf_counter()
                engine.MEASURES[kind](cur, group, now)
                print(f"  {kind:18} {len(group):3} rules  {time.perf_counter() - t0:.3f} s")
    best = min(times)
    print(f"\nbest of {args.repeat}: {best:.2f} s for 200 rules (target ≤ {TARGET_S:.0f} s) "
          f"{'OK' if best <= TARGET_S else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
