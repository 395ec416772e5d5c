"""Status pages over real HTTP: a local server speaking the Statuspage v2 API (summary.json,
incidents/unresolved.json) with pages that work, one that is down, one that answers 500, one
that answers garbage, one that answers JSON of another shape, one that is too slow.

Fixtures: tests/fixtures/statuspage/ (README.md there says where their shape comes from).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from lib.http import RetryPolicy
from lib.notices import status
from lib.notices.status import (
    DEFAULT_STATUS_PAGES,
    Component,
    api_root,
    poll,
    read_page,
    status_page_urls,
)
from tests.local_server import LocalServer, QuietHandler

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "statuspage"


def doc(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class StatusServer(LocalServer):
    """Serves several status pages under path prefixes; counts the requests of each path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.flaky_left = 1  # /flaky answers 503 this many times, then its summary
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    flaky = server.flaky_left > 0 and self.path.startswith("/flaky/")
                    if flaky:
                        server.flaky_left -= 1
                if self.path == "/openai/api/v2/summary.json":
                    self.send_json(200, doc("openai_summary.json"))
                elif self.path == "/claude/api/v2/summary.json":
                    self.send_json(200, doc("claude_summary.json"))
                elif self.path == "/legacy/api/v2/incidents/unresolved.json":
                    self.send_json(200, doc("unresolved.json"))
                elif self.path.startswith("/err500/"):
                    self.send_json(500, {"error": "internal"})
                elif self.path.startswith("/garbage/"):
                    raw = b"<html><body>Service Unavailable</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                elif self.path.startswith("/othershape/"):
                    self.send_json(200, {"hello": "world"})
                elif self.path.startswith("/badlist/"):
                    self.send_json(200, {"page": {"name": "Bad"}, "incidents": "none"})
                elif self.path.startswith("/slow/"):
                    time.sleep(1.5)
                    self.send_json(200, doc("claude_summary.json"))
                elif self.path.startswith("/flaky/"):
                    if flaky:
                        self.send_json(503, {"error": "busy"}, {"Retry-After": "0"})
                    else:
                        self.send_json(200, doc("claude_summary.json"))
                elif self.path.startswith("/wait/"):
                    self.send_json(429, {"error": "slow down"}, {"Retry-After": "3600"})
                else:
                    self.send_json(404, {"error": "not found"})

        return Handler


@pytest.fixture
def server():
    with StatusServer() as s:
        yield s


def closed_port_url() -> str:
    """An address on loopback where nothing listens (a port taken, then given back)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/api/v2/summary.json"


FAST = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.01, max_retry_after=10.0)


def test_open_incidents_of_two_pages_and_nothing_resolved(server: StatusServer) -> None:
    waits: list[float] = []
    urls = [f"{server.url}/openai/api/v2/summary.json", f"{server.url}/claude"]
    result = poll(urls, timeout=5, policy=FAST, sleep=waits.append)

    assert result.errors == ()
    assert waits == []
    # OpenAI: 1 open incident + 1 scheduled maintenance (the resolved incident and the
    # completed maintenance are left out); Claude: 1 open incident. 3 in all.
    names = [i.name for i in result.incidents]
    assert names == [
        "Elevated error rates on Chat Completions and Responses",  # started 17:52 UTC
        "Elevated errors on Claude Opus",  # 09:47:12.797-08:00 = 17:47:12.797 UTC
        "Fine-tuning job queue maintenance",  # started_at 2026-11-28 12:00 UTC
    ]
    assert "Increased latency for file uploads" not in names
    assert "Database upgrade" not in names

    openai, claude, maintenance = result.incidents
    assert openai.page == "OpenAI"
    assert openai.page_url == urls[0]
    assert openai.kind == "incident"
    assert openai.status == "identified"
    assert openai.impact == "major"
    assert openai.started_at == datetime(2026, 11, 30, 17, 52, tzinfo=UTC)
    assert openai.updated_at == datetime(2026, 11, 30, 18, 40, 2, tzinfo=UTC)
    assert openai.components == (
        Component("Chat Completions", "partial_outage"),
        Component("Responses", "degraded_performance"),
    )
    assert openai.shortlink == ("https://status.openai.com/incidents/01KB2YQ4T1VZ5QXW0C8M3D9R7A")
    assert openai.latest_update == (
        "We have identified the cause of the elevated error rates and are rolling out a fix."
    )

    # Claude's incident has no components list: they come from the updates, the newest
    # update's new_status first (the API: degraded now), claude.ai from the older update.
    assert claude.page == "Claude"
    assert claude.status == "monitoring"
    assert claude.impact == "minor"
    assert claude.started_at == datetime(2026, 11, 30, 17, 47, 12, 797000, tzinfo=UTC)
    assert claude.updated_at == datetime(2026, 11, 30, 18, 31, 47, 524000, tzinfo=UTC)
    assert claude.components == (
        Component("Claude API (api.anthropic.com)", "degraded_performance"),
        Component("claude.ai", "partial_outage"),
    )
    assert claude.shortlink == "https://stspg.io/x7k2m9p4q1"

    assert maintenance.kind == "maintenance"
    assert maintenance.status == "scheduled"
    assert maintenance.scheduled_for == datetime(2026, 12, 2, 6, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 12, 2, 7, tzinfo=UTC)
    assert maintenance.components == (Component("Fine-tuning", "operational"),)

    # Page states: the degraded components, without the group "APIs" (it repeats its members).
    pages = {p.name: p for p in result.pages}
    assert pages["OpenAI"].indicator == "major"
    assert pages["OpenAI"].degraded == (
        Component("Chat Completions", "partial_outage"),
        Component("Responses", "degraded_performance"),
    )
    assert pages["Claude"].indicator == "minor"
    assert pages["Claude"].degraded == (
        Component("Claude API (api.anthropic.com)", "degraded_performance"),
    )
    # One request each: the summary answered, no fallback asked.
    assert server.hits["/openai/api/v2/summary.json"] == 1
    assert server.hits["/claude/api/v2/summary.json"] == 1


def test_a_page_without_summary_is_read_from_unresolved_incidents(server: StatusServer) -> None:
    result = poll([f"{server.url}/legacy/"], timeout=5, policy=FAST, sleep=lambda s: None)
    assert result.errors == ()
    (incident,) = result.incidents
    assert incident.page == "Example Gateway"
    assert incident.impact == "critical"
    assert incident.status == "investigating"
    # no started_at: created_at; no components anywhere: none
    assert incident.started_at == datetime(2026, 11, 30, 15, 20, tzinfo=UTC)
    assert incident.components == ()
    assert incident.shortlink == "http://stspg.io/abc123def"
    assert server.hits["/legacy/api/v2/summary.json"] == 1  # 404, not retried
    assert server.hits["/legacy/api/v2/incidents/unresolved.json"] == 1
    (page,) = result.pages
    assert page.indicator is None  # unresolved.json has no status block
    assert page.degraded == ()


def test_broken_pages_are_values_that_name_the_url_and_why(server: StatusServer) -> None:
    good = f"{server.url}/claude/api/v2/summary.json"
    down = closed_port_url()
    urls = [
        down,
        f"{server.url}/err500/api/v2/summary.json",
        f"{server.url}/garbage/api/v2/summary.json",
        f"{server.url}/othershape/api/v2/summary.json",
        f"{server.url}/badlist/api/v2/summary.json",
        f"{server.url}/nowhere/api/v2/summary.json",
        "ftp://status.example.com/api/v2/summary.json",
        good,
    ]
    waits: list[float] = []
    result = poll(urls, timeout=5, policy=FAST, sleep=waits.append)

    # The good page still gives its incident.
    assert [i.name for i in result.incidents] == ["Elevated errors on Claude Opus"]
    errors = {e.url: e for e in result.errors}
    assert [e.url for e in result.errors] == urls[:-1]  # in the order asked, one each
    assert errors[down].code == "unreachable"
    e500 = errors[urls[1]]
    assert (e500.code, e500.status) == ("http_status", 500)
    assert e500.detail.startswith("HTTP 500")
    assert server.hits["/err500/api/v2/summary.json"] == 2  # 500 is retried once
    assert errors[urls[2]].code == "not_json"
    assert "<html>" in errors[urls[2]].detail
    assert errors[urls[3]].code == "bad_shape"
    assert errors[urls[4]].code == "bad_shape"
    assert "incidents is not a list" in errors[urls[4]].detail
    # 404 on the summary, then 404 on the unresolved incidents: the page has neither
    e404 = errors[urls[5]]
    assert (e404.code, e404.status) == ("http_status", 404)
    assert errors[urls[6]].code == "bad_url"
    # one backoff wait for the down page and one for the 500 (FAST: 0.01 s × jitter)
    assert len(waits) == 2
    assert all(0.005 <= w <= 0.01 for w in waits)


def test_a_slow_page_times_out_without_holding_the_others(server: StatusServer) -> None:
    urls = [f"{server.url}/slow/", f"{server.url}/openai/"]
    started = time.monotonic()
    no_retry = RetryPolicy(max_retries=0)
    result = poll(urls, timeout=0.3, policy=no_retry, sleep=lambda s: None)
    took = time.monotonic() - started
    (error,) = result.errors
    assert error.url == urls[0]
    assert error.code == "timeout"
    assert len(result.incidents) == 2  # OpenAI's incident and maintenance
    assert took < 1.4  # the slow page answers after 1.5 s; the poll did not wait for it


def test_retry_after_is_honoured_then_the_page_is_read(server: StatusServer) -> None:
    waits: list[float] = []
    result = poll([f"{server.url}/flaky/"], timeout=5, policy=FAST, sleep=waits.append)
    assert result.errors == ()
    assert waits == [0.0]  # the 503's Retry-After: 0
    assert [i.name for i in result.incidents] == ["Elevated errors on Claude Opus"]
    assert server.hits["/flaky/api/v2/summary.json"] == 2


def test_a_long_retry_after_is_not_waited_for(server: StatusServer) -> None:
    waits: list[float] = []
    result = poll([f"{server.url}/wait/"], timeout=5, policy=FAST, sleep=waits.append)
    (error,) = result.errors
    assert (error.code, error.status) == ("http_status", 429)
    assert waits == []  # 3600 s asked, more than a poll waits (10 s): given up at once
    assert server.hits["/wait/api/v2/summary.json"] == 1


def test_a_body_over_the_limit_is_refused(server: StatusServer, monkeypatch) -> None:
    monkeypatch.setattr(status, "MAX_BODY_BYTES", 1000)
    result = poll([f"{server.url}/openai/"], timeout=5, policy=FAST, sleep=lambda s: None)
    (error,) = result.errors
    assert error.code == "too_large"
    assert result.incidents == ()


def test_no_pages_polls_nothing() -> None:
    result = poll([], timeout=1)
    assert (result.incidents, result.pages, result.errors) == ((), (), ())


def test_unreadable_incidents_are_skipped_and_said() -> None:
    page = doc("claude_summary.json")
    assert isinstance(page, dict)
    page["incidents"] = [*page["incidents"], "not an incident", {"id": "x", "status": "identified"}]
    got = read_page(page, "https://status.claude.com")
    assert not isinstance(got, status.PageError)
    assert [i.name for i in got.incidents] == ["Elevated errors on Claude Opus"]
    assert [(e.code, e.detail) for e in got.errors] == [
        ("bad_item", "incidents[2]: an incident that is not an object; skipped"),
        ("bad_item", "incidents[3]: an incident without a name; skipped"),
    ]


def test_api_root_accepts_page_addresses_and_endpoint_urls() -> None:
    root = "https://status.openai.com/api/v2"
    assert api_root("https://status.openai.com") == root
    assert api_root("https://status.openai.com/") == root
    assert api_root("https://status.openai.com/api/v2/summary.json") == root
    assert api_root("https://status.openai.com/api/v2/incidents/unresolved.json") == root
    assert api_root("https://user:secret@status.openai.com/api/v2?x=1") == root
    assert api_root("http://127.0.0.1:8080/page") == "http://127.0.0.1:8080/page/api/v2"
    assert api_root("status.openai.com") is None
    assert api_root("javascript:alert(1)") is None


def test_a_url_with_a_password_is_never_repeated_with_it() -> None:
    result = poll(["https://user:hunter22@127.0.0.1:1/x"], timeout=0.5, policy=FAST,
                  sleep=lambda s: None)  # fmt: skip
    (error,) = result.errors
    assert "hunter22" not in error.url
    assert error.url == "https://127.0.0.1:1/x"


def test_status_page_urls_from_the_setting(monkeypatch) -> None:
    assert DEFAULT_STATUS_PAGES == (
        "https://status.openai.com/api/v2/summary.json",
        "https://status.claude.com/api/v2/summary.json",
    )
    assert status_page_urls("https://a.example/, https://b.example/\nhttps://a.example/") == (
        "https://a.example/",
        "https://b.example/",
    )
    assert status_page_urls("none") == ()
    assert status_page_urls("  ") == DEFAULT_STATUS_PAGES
    monkeypatch.setenv(status.STATUS_PAGES_SETTING, "https://c.example/ https://d.example/")
    assert status_page_urls() == ("https://c.example/", "https://d.example/")
    monkeypatch.setenv(status.STATUS_PAGES_SETTING, "off")
    assert status_page_urls() == ()
    assert poll(timeout=1).incidents == ()  # nothing configured: nothing asked


def test_components_and_maintenance_documents_are_read_too() -> None:
    summary = doc("openai_summary.json")
    assert isinstance(summary, dict)
    # GET /api/v2/components.json: page and components only
    got = read_page({"page": summary["page"], "components": summary["components"]}, "u")
    assert not isinstance(got, status.PageError)
    assert got.incidents == ()
    assert [c.name for c in got.page.degraded] == ["Chat Completions", "Responses"]
    # GET /api/v2/scheduled-maintenances/upcoming.json: the scheduled one is kept, the
    # completed one is not
    maint = {"page": summary["page"], "scheduled_maintenances": summary["scheduled_maintenances"]}
    got = read_page(maint, "u")
    assert not isinstance(got, status.PageError)
    assert [(i.kind, i.name) for i in got.incidents] == [
        ("maintenance", "Fine-tuning job queue maintenance")
    ]
