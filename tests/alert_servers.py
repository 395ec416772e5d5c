"""Loopback servers for the alert tests: a webhook receiver that records what it is sent, and
a Statuspage-style status page serving the fixtures of tests/fixtures/statuspage."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.local_server import LocalServer, QuietHandler

STATUSPAGE = Path(__file__).resolve().parent / "fixtures" / "statuspage"


class Receiver(LocalServer):
    """Records every POST as (path, headers, JSON body or raw text) and answers 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], object]] = []
        self.lock = threading.Lock()
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rec = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body: object = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with rec.lock:
                    rec.posts.append((self.path, dict(self.headers.items()), body))
                self.send_json(200, {"ok": True})

        return Handler

    def wait_for(self, n: int, timeout: float = 20.0) -> list[tuple[str, dict[str, str], object]]:
        """The posts once there are ``n`` (or what came within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= n:
                    return list(self.posts)
            time.sleep(0.05)
        with self.lock:
            return list(self.posts)


class StatusPage(LocalServer):
    """``/openai/api/v2/summary.json`` and ``/claude/api/v2/summary.json`` from the fixtures;
    counts the requests."""

    def __init__(self) -> None:
        self.hits = 0
        super().__init__()

    @property
    def urls(self) -> tuple[str, ...]:
        return (f"{self.url}/openai/api/v2/summary.json", f"{self.url}/claude/api/v2/summary.json")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        page = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                page.hits += 1
                name = {"/openai/api/v2/summary.json": "openai_summary.json",
                        "/claude/api/v2/summary.json": "claude_summary.json"}.get(self.path)  # fmt: skip
                if name is None:
                    self.send_json(404, {"error": "not found"})
                else:
                    self.send_json(200, json.loads((STATUSPAGE / name).read_text("utf-8")))

        return Handler
