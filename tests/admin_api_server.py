"""A local HTTP server that speaks the OpenAI and Anthropic admin usage/cost APIs as documented
(query parameters, bucket pages with ``has_more``/``next_page`` cursors, error bodies), with
scripted failures, for the pull tests. It records every request it receives."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, QuietHandler

OPENAI_KEY = "sk-admin-test-0123456789"
ANTHROPIC_KEY = "sk-ant-admin01-test-0123456789"
DAY = 86400


def exact_json(doc: Any) -> bytes:
    """``doc`` as JSON, a ``Decimal`` written as the number it is with every digit (a real API
    may send more digits than a float holds; ``json.dumps`` would need floats)."""

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"@@number:{value}@@"
        raise TypeError(f"not JSON: {type(value).__name__}")

    text = json.dumps(doc, default=mark)
    return re.sub(r'"@@number:([-+.0-9eE]+)@@"', r"\1", text).encode()


class AdminApi(LocalServer):
    """Data per endpoint path: {day start (Unix s): [results]}; faults per path: a list of
    (status, headers, body) answered (and consumed) before the real answer."""

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.data: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(dict)
        self.faults: dict[str, list[tuple[int, dict[str, str], Any]]] = defaultdict(list)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with api.lock:
                    api.requests.append({"path": parts.path, "query": query,
                                         "headers": dict(self.headers.items())})  # fmt: skip
                    fault = api.faults[parts.path].pop(0) if api.faults[parts.path] else None
                if fault:
                    self._send(*fault)
                    return
                if parts.path.startswith("/v1/organization/"):
                    self._send(*api.openai(parts.path, query, self.headers))
                elif parts.path.startswith("/v1/organizations/"):
                    self._send(*api.anthropic(parts.path, query, self.headers))
                else:
                    self._send(404, {}, {"error": {"message": "Not found", "type": "invalid_request_error",
                                                   "param": None, "code": None}})  # fmt: skip

            def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
                raw = exact_json(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        return Handler

    # --- paging shared by both APIs ---------------------------------------------------------
    def _page(self, path: str, lo: int, hi: int, query: dict[str, list[str]], bucket) -> dict:
        limit = min(int((query.get("limit") or ["7"])[0]), self.page_size)
        cursor = (query.get("page") or [None])[0]
        first = int(base64.b64decode(cursor).decode()) if cursor else lo
        days = list(range(first, hi, DAY))
        shown, rest = days[:limit], days[limit:]
        return {
            "data": [bucket(d, self.data[path].get(d, [])) for d in shown],
            "has_more": bool(rest),
            "next_page": base64.b64encode(str(rest[0]).encode()).decode() if rest else None,
        }

    # --- OpenAI -------------------------------------------------------------------------------
    def openai(self, path: str, query: dict[str, list[str]], headers) -> tuple[int, dict, Any]:
        if headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            return 401, {}, {"error": {"message": "Incorrect API key provided: sk-admi*****6789.",
                                       "type": "invalid_request_error", "param": None,
                                       "code": "invalid_api_key"}}  # fmt: skip
        if "start_time" not in query:
            return 400, {}, {"error": {"message": "Missing required parameter: 'start_time'.",
                                       "type": "invalid_request_error", "param": "start_time",
                                       "code": "missing_required_parameter"}}  # fmt: skip
        lo = int(query["start_time"][0])
        hi = int((query.get("end_time") or [str(lo + 7 * DAY)])[0])
        page = self._page(path, lo, hi, query, lambda d, results: {
            "object": "bucket", "start_time": d, "end_time": d + DAY, "results": results})  # fmt: skip
        return 200, {}, {"object": "page", **page}

    # --- Anthropic ----------------------------------------------------------------------------
    def anthropic(self, path: str, query: dict[str, list[str]], headers) -> tuple[int, dict, Any]:
        if (
            headers.get("x-api-key") != ANTHROPIC_KEY
            or headers.get("anthropic-version") != "2023-06-01"
        ):
            return 401, {}, {"type": "error", "error": {"type": "authentication_error",
                                                        "message": "invalid x-api-key"}}  # fmt: skip

        def ts(name: str) -> int:
            return int(
                datetime.strptime(query[name][0], "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=UTC)
                .timestamp()
            )

        lo, hi = ts("starting_at"), ts("ending_at")

        def iso(d: int) -> str:
            return datetime.fromtimestamp(d, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        page = self._page(path, lo, hi, query, lambda d, results: {
            "starting_at": iso(d), "ending_at": iso(d + DAY), "results": results})  # fmt: skip
        return 200, {}, page
