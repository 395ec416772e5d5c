"""Pages benchmark: every analysis page over 10M request rows and 90 days of usage and cost
reports, timed through AppTest and through a real ``streamlit run`` server in chromium.

    python bench/bench_pages.py [--scale 200] [--out bench/out] [--skip-browser] [--skip-apptest]

The database (demo traffic: a LiteLLM request log plus OpenAI/Anthropic usage and cost
reports that agree, ``--scale`` × 50,000 requests over 90 days) is built once into
``OUT/pages.duckdb`` and reused. Per page:

- cold: the first view after an import (query caches empty; the connection is open);
- warm: the same view again (cached);
- filter change: the period switched from 30 to 7 days (re-queries).

Targets: server time per run (AppTest) warm ≤ 0.15 s, filter change ≤ 0.4 s, cold < 2 s; in
chromium, click to idle warm ≤ 0.5 s, filter change < 0.6 s, cold < 2 s; server memory < 1 GB.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.demo import load_demo  # noqa: E402
from lib.store import Store  # noqa: E402

PAGES = {"Overview": "app.py", "Usage": "pages/1_Usage.py", "Costs": "pages/2_Costs.py",
         "Errors": "pages/3_Errors.py", "Data": "pages/7_Data.py"}  # fmt: skip
LINKS = {
    "Overview": "Overview",
    "Usage": "Usage",
    "Costs": "Costs",
    "Errors": "Errors",
    "Data": "Data",
}
USER, PASSWORD = "bench", "bench-password-1"
COOKIE_KEY = secrets.token_urlsafe(48)  # a key written in the repository is refused
# seconds: a real server in chromium (click to idle), and the server's own time (AppTest)
BROWSER_TARGETS = {"warm": 0.5, "cold": 2.0, "filter": 0.6}
SERVER_TARGETS = {"warm": 0.15, "cold": 2.0, "filter": 0.4}


def build(db: str, scale: float) -> None:
    if os.path.exists(db):
        with Store(db) as s:
            rows = s.scalar("SELECT count(*) FROM request_events")
        print(f"reusing {db}: {rows:,} request rows")
        return
    import resource

    t0 = time.perf_counter()
    # generated and imported day by day in time order, under the store's default memory limit
    with Store(db) as s:
        load_demo(
            s, days=90, scale=scale, end=datetime.now(UTC), progress=lambda m: print("  " + m)
        )
        rows = s.scalar("SELECT count(*) FROM request_events")
        usage = s.scalar("SELECT count(*) FROM usage_buckets")
        costs = s.scalar("SELECT count(*) FROM cost_items")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(f"built {db}: {rows:,} request rows, {usage:,} usage buckets, {costs:,} cost lines "
          f"in {time.perf_counter() - t0:.0f} s, peak memory {peak_mb:,.0f} MB")  # fmt: skip


def env_for(db: str, tmp: str) -> dict[str, str]:
    import bcrypt
    import yaml

    users = Path(tmp) / "users.yaml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    users.write_text(yaml.safe_dump({"credentials": {"usernames": {USER: {
        "name": "Bench", "email": "bench@example.com", "roles": ["analyst"], "password": hashed}}}}))  # fmt: skip
    return {"TOKENBOARD_DB": db, "TOKENBOARD_USERS": str(users), "TOKENBOARD_COOKIE_KEY": COOKIE_KEY,
            "TOKENBOARD_DEMO": "0"}  # fmt: skip


def _timed(at) -> float:
    t0 = time.perf_counter()
    at.run()
    took = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return took


def apptest(env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per page: cold, warm and filter-change times of one AppTest run (seconds)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ.update(env)
    out: dict[str, dict[str, float]] = {}
    for name, script in PAGES.items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        if script != "app.py":
            at.switch_page(script)
        at.run()
        fields = {t.label: t for t in at.text_input}
        fields["Username"].input(USER)
        fields["Password"].input(PASSWORD)
        next(b for b in at.button if b.label == "Log in").click()
        st.cache_data.clear()  # as after an import: nothing cached but the connection
        cold = _timed(at)
        warm = min(_timed(at) for _ in range(3))
        times = {"cold": cold, "warm": warm}
        if any(s.key == "f_period" for s in at.selectbox):
            at.selectbox(key="f_period").select("7d")
            times["filter"] = _timed(at)
        out[name] = times
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(env: dict[str, str], out_dir: str) -> tuple[dict[str, dict[str, float]], float]:
    """Per page through a real server and chromium: seconds until the page is idle; and the
    server's peak memory (MB, RSS sampled every 50 ms)."""
    import urllib.request

    from playwright.sync_api import sync_playwright

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                rss = p.memory_info().rss + sum(
                    c.memory_info().rss for c in p.children(recursive=True)
                )
            except psutil.Error:
                break
            peak[0] = max(peak[0], rss / 1e6)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    out: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                   args=["--no-sandbox", "--disable-gpu", "--no-first-run"])  # fmt: skip
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base)
            page.wait_for_selector("input[aria-label='Username']", timeout=120000)
            page.fill("input[aria-label='Username']", USER)
            page.fill("input[aria-label='Password']", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            try:
                page.wait_for_selector("[data-testid='stMetric']", timeout=120000)
            except Exception:
                page.screenshot(
                    path=os.path.join(out_dir, "bench_pages_failure.png"), full_page=True
                )
                raise
            _idle(page)

            def visit(name: str) -> float:
                t0 = time.perf_counter()
                page.get_by_role("link", name=LINKS[name]).first.click()
                page.locator("h1", has_text=name).first.wait_for(timeout=120000)
                _idle(page)
                return time.perf_counter() - t0

            page.on("pageerror", lambda e: print("page error:", e))
            for name in PAGES:
                print(f"  browser: {name}", flush=True)
                times = {"cold": visit(name)}
                visit("Data" if name != "Data" else "Overview")
                times["warm"] = visit(name)
                if name != "Data":
                    _idle(page)
                    t0 = time.perf_counter()
                    _period(page, "Last 7 days")
                    page.wait_for_timeout(50)
                    _idle(page)
                    times["filter"] = time.perf_counter() - t0
                    _period(page, "Last 30 days")
                    page.wait_for_timeout(300)
                    _idle(page)
                out[name] = times
            b.close()
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
    return out, peak[0]


def _period(page, option: str) -> None:
    """Pick a period in the sidebar (retried while a rerun redraws the widget)."""
    for _ in range(20):
        try:
            page.locator("[data-testid='stSelectbox']", has_text="Period").click(timeout=3000)
            page.get_by_role("option", name=option).click(timeout=3000)
            return
        except Exception as exc:
            print("   retry:", str(exc).splitlines()[0])
            page.wait_for_timeout(200)
    page.screenshot(path=str(ROOT / "bench" / "out" / "bench_pages_failure.png"), full_page=True)
    raise RuntimeError(f"could not pick {option!r} (screenshot: bench/out/bench_pages_failure.png)")


def _idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120000
    )


def report(title: str, rows: dict[str, dict[str, float]], targets: dict[str, float]) -> bool:
    print(f"\n{title}")
    ok = True
    for name, times in rows.items():
        cells = []
        for kind in ("cold", "warm", "filter"):
            if kind in times:
                hit = times[kind] <= targets[kind]
                ok &= hit
                cells.append(f"{kind} {times[kind]:5.2f} s{'' if hit else ' (MISSED)'}")
        print(f"  {name:<9} " + "  ".join(cells))
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--skip-apptest", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    db = os.path.join(args.out, "pages.duckdb")
    build(db, args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(db, tmp)
        ok = True
        # the real server first: an AppTest in this process keeps the database file open
        if not args.skip_browser:
            rows, peak = browser(env, args.out)
            title = "streamlit run + chromium (seconds from click until the page is idle)"
            ok &= report(title, rows, BROWSER_TARGETS)
            print(
                f"\nserver peak memory: {peak:,.0f} MB (target < 1000 MB) {'OK' if peak < 1000 else 'MISSED'}"
            )
            ok &= peak < 1000
        if not args.skip_apptest:
            title = "AppTest (server seconds per run; targets: cold < 2, warm ≤ 0.15, filter ≤ 0.4)"
            ok &= report(title, apptest(env), SERVER_TARGETS)
    print("\nall targets met" if ok else "\nsome targets missed")


if __name__ == "__main__":
    main()
