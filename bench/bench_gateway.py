"""Added latency of the Tokenboard gateway, and of LiteLLM's proxy, over a local fake
upstream that answers at once (issue 11's speed targets: p50 ≤ 1 ms and p99 ≤ 5 ms added
for sequential requests; 200 concurrent streams without an error).

    python bench/bench_gateway.py [--requests 2000] [--streams 200] [--out bench/out/gateway]
                                  [--skip-litellm]

Each server runs in its own process on loopback: the fake upstream (tests/fake_upstream.py),
the gateway (``python -m lib.gateway``, a key snapshot with one key, its journal under
--out), and LiteLLM's proxy, installed from PyPI into a virtual environment of its own under
--out (never the app's), configured with a master key and the fake upstream as its OpenAI
base. Sequential requests (a small non-streamed chat completion over one keep-alive
connection) go in turn straight to the upstream and through each proxy; the added latency at
a percentile is the proxy's latency there minus the upstream's. Then 200 streamed chat
completions at once through each proxy: every one must end with ``[DONE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.keys.restrictions import Restrictions  # noqa: E402
from lib.keys.snapshot import KeyRecord, hash_secret, hint_of, write_snapshot  # noqa: E402
from tests.fake_upstream import OPENAI_KEY  # noqa: E402

SECRET = "tb-bench-" + "x" * 40
LITELLM_MASTER = "sk-bench-master-0123456789"
BODY = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                   "max_tokens": 5}).encode()  # fmt: skip
STREAM_BODY = json.dumps({"model": "gpt-4o-mini", "stream": True,
                          "messages": [{"role": "user", "content": "hi"}]}).encode()  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not start in {timeout:.0f} s")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


class Target:
    """One keep-alive connection to a server, with the headers its requests carry."""

    def __init__(self, name: str, port: int, headers: dict[str, str]) -> None:
        self.name, self.port = name, port
        self.headers = {"Content-Type": "application/json", **headers}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.times: list[float] = []
        self.errors = 0

    def once(self, record: bool = True) -> None:
        t0 = time.perf_counter()
        self.conn.request("POST", "/v1/chat/completions", body=BODY, headers=self.headers)
        res = self.conn.getresponse()
        data = res.read()
        dt = time.perf_counter() - t0
        if res.status != 200 or b"choices" not in data:
            self.errors += 1
        if record:
            self.times.append(dt * 1000)


def sequential(targets: list[Target], n: int) -> None:
    """``n`` requests to each target, in turn (a, b, c, a, b, c, …) after a warm-up."""
    for _ in range(50):
        for t in targets:
            t.once(record=False)
    for _ in range(n):
        for t in targets:
            t.once()


async def streams(port: int, headers: dict[str, str], count: int) -> tuple[int, int, float]:
    """``count`` streamed chat completions at once: (complete, errors, seconds)."""
    import httpx

    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one() -> bool:
            try:
                async with client.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions",
                                         content=STREAM_BODY,
                                         headers={"Content-Type": "application/json", **headers}) as res:  # fmt: skip
                    data = b"".join([c async for c in res.aiter_raw()])
                return res.status_code == 200 and data.rstrip().endswith(b"data: [DONE]")
            except Exception:
                return False

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(count)))
        dt = time.perf_counter() - t0
    ok = sum(results)
    return ok, count - ok, dt


def litellm_venv(out: Path) -> Path:
    """LiteLLM's proxy in its own virtual environment under ``out`` (made once)."""
    venv = out / "litellm-venv"
    exe = venv / "bin" / "litellm"
    if not exe.exists():
        print(f"installing litellm[proxy] into {venv} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "litellm[proxy]"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return exe


def start_litellm(out: Path, up_port: int) -> tuple[subprocess.Popen[bytes], int, str]:
    exe = litellm_venv(out)
    version = subprocess.run([str(exe.parent / "python"), "-c",
                              "import importlib.metadata as m; print(m.version('litellm'))"],
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
    port = free_port()
    cfg = out / "litellm.yaml"
    cfg.write_text(
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: http://127.0.0.1:{up_port}/v1\n"
        f"      api_key: {OPENAI_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_MASTER}\n"
    )
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
           "LITELLM_TELEMETRY": "False", "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
    log = (out / "litellm.log").open("wb")
    proc = subprocess.Popen([str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port),
                             "--num_workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    wait_up(port, "/health/liveliness", proc, timeout=180)
    return proc, port, version


def report(name: str, target: Target, direct: Target) -> tuple[float, float]:
    p50 = pct(target.times, 50) - pct(direct.times, 50)
    p99 = pct(target.times, 99) - pct(direct.times, 99)
    print(f"{name:<28} p50 {pct(target.times, 50):7.3f} ms  p99 {pct(target.times, 99):7.3f} ms   "
          f"added: p50 {p50:+.3f} ms, p99 {p99:+.3f} ms   errors {target.errors}")  # fmt: skip
    return p50, p99


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--requests", type=int, default=2000, help="sequential requests per target")
    ap.add_argument("--streams", type=int, default=200, help="concurrent streams per proxy")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "gateway"))
    ap.add_argument("--skip-litellm", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "journal", ignore_errors=True)
    procs: list[subprocess.Popen[bytes]] = []
    py = sys.executable
    try:
        up_port, gw_port = free_port(), free_port()
        procs.append(
            subprocess.Popen([py, "-m", "tests.fake_upstream", "--port", str(up_port)], cwd=ROOT)
        )
        write_snapshot(out / "keys.json", [KeyRecord(
            key_id="bench", name="bench", project="bench", owner=None, hash=hash_secret(SECRET),
            hint=hint_of(SECRET), restrictions=Restrictions(anywhere_ip=True, anywhere_origin=True))])  # fmt: skip
        env = {**os.environ, "OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": "unused"}
        procs.append(subprocess.Popen([py, "-m", "lib.gateway", "--port", str(gw_port), "--openai-base-url",
                                       f"http://127.0.0.1:{up_port}", "--keys-snapshot", str(out / "keys.json"),
                                       "--journal-dir", str(out / "journal"), "--instance", "bench",
                                       "--log-level", "warning"], cwd=ROOT, env=env))  # fmt: skip
        wait_up(up_port, "/v1/models", procs[0])
        wait_up(gw_port, "/healthz", procs[1])
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.requests} sequential "
              "requests per target (small non-streamed chat completion, one keep-alive connection)")  # fmt: skip
        direct = Target("upstream", up_port, {"Authorization": f"Bearer {OPENAI_KEY}"})
        ours = Target("gateway", gw_port, {"Authorization": f"Bearer {SECRET}"})
        sequential([direct, ours], args.requests)
        print(f"{'straight to the upstream':<28} p50 {pct(direct.times, 50):7.3f} ms  "
              f"p99 {pct(direct.times, 99):7.3f} ms   errors {direct.errors}")  # fmt: skip
        g50, g99 = report("through the gateway", ours, direct)
        verdict = "met" if g50 <= 1.0 and g99 <= 5.0 and ours.errors == 0 else "NOT met"
        print(f"  targets p50 <= 1 ms, p99 <= 5 ms added: {verdict}")
        # LiteLLM next, alone beside the upstream (its idle tasks would slow the gateway's run)
        lite: Target | None = None
        if not args.skip_litellm:
            try:
                proc, lport, version = start_litellm(out, up_port)
                procs.append(proc)
                lite = Target(
                    f"litellm {version}", lport, {"Authorization": f"Bearer {LITELLM_MASTER}"}
                )
            except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
                print(
                    f"LiteLLM could not be installed or started: {err} (see {out / 'litellm.log'})"
                )
        if lite is not None:
            direct2 = Target("upstream", up_port, {"Authorization": f"Bearer {OPENAI_KEY}"})
            sequential([direct2, lite], args.requests)
            print(f"{'straight to the upstream':<28} p50 {pct(direct2.times, 50):7.3f} ms  "
                  f"p99 {pct(direct2.times, 99):7.3f} ms   errors {direct2.errors}")  # fmt: skip
            l50, l99 = report(f"through {lite.name}", lite, direct2)
            print(f"  gateway's added latency lower than LiteLLM's: p50 {'yes' if g50 < l50 else 'no'}, "
                  f"p99 {'yes' if g99 < l99 else 'no'}")  # fmt: skip
        ok, bad, dt = asyncio.run(
            streams(gw_port, {"Authorization": f"Bearer {SECRET}"}, args.streams)
        )
        print(f"{args.streams} concurrent streams through the gateway: {ok} complete, {bad} errors, "
              f"{dt:.2f} s")  # fmt: skip
        if lite is not None:
            ok, bad, dt = asyncio.run(streams(lite.port, {"Authorization": f"Bearer {LITELLM_MASTER}"},
                                              args.streams))  # fmt: skip
            print(f"{args.streams} concurrent streams through {lite.name}: {ok} complete, {bad} errors, "
                  f"{dt:.2f} s")  # fmt: skip
        time.sleep(0.5)
        lines = (out / "journal" / "events-bench.jsonl").read_bytes().count(b"\n")
        print(f"gateway journal: {lines} lines")
        return 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
