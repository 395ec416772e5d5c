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
        # keys (see ``keys_answer``): OpenAI projects, their keys and service accounts, admin
        # keys; Anthropic keys. Each a list of the API's objects, in creation order.
        self.projects: list[dict[str, Any]] = []
        self.project_keys: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.service_accounts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.admin_keys: list[dict[str, Any]] = []
        self.anthropic_keys: list[dict[str, Any]] = []
        self.created = 0
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
                keys = api.keys_answer("GET", parts.path, query, self.headers, None)
                if keys is not None:
                    self._send(*keys)
                elif parts.path.startswith("/v1/organization/"):
                    self._send(*api.openai(parts.path, query, self.headers))
                elif parts.path.startswith("/v1/organizations/"):
                    self._send(*api.anthropic(parts.path, query, self.headers))
                else:
                    self._send(404, {}, {"error": {"message": "Not found", "type": "invalid_request_error",
                                                   "param": None, "code": None}})  # fmt: skip

            def _write(self, method: str) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                with api.lock:
                    api.requests.append({"method": method, "path": parts.path, "body": body,
                                         "headers": dict(self.headers.items())})  # fmt: skip
                    fault = api.faults[parts.path].pop(0) if api.faults[parts.path] else None
                if fault:
                    self._send(*fault)
                    return
                answer = api.keys_answer(method, parts.path, {}, self.headers, body)
                self._send(*(answer or (404, {}, {"error": {"message": "Not found",
                                                           "type": "invalid_request_error"}})))  # fmt: skip

            def do_POST(self) -> None:
                self._write("POST")

            def do_DELETE(self) -> None:
                self._write("DELETE")

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

    # --- keys (OpenAI Administration API, Anthropic Admin API) -------------------------------
    def _list(self, items: list[dict[str, Any]], query: dict[str, list[str]], cursor: str,
              cap: int) -> dict[str, Any]:  # fmt: skip
        """A page of ``items`` after the id ``query[cursor]``, at most ``limit`` (the API's
        default 20, at most ``cap``) and the server's ``page_size``."""
        limit = min(int((query.get("limit") or ["20"])[0]), cap, self.page_size)
        after = (query.get(cursor) or [None])[0]
        ids = [i["id"] for i in items]
        start = ids.index(after) + 1 if after in ids else 0
        shown = items[start : start + limit]
        return {"data": shown, "first_id": shown[0]["id"] if shown else None,
                "last_id": shown[-1]["id"] if shown else None,
                "has_more": start + limit < len(items)}  # fmt: skip

    def keys_answer(self, method: str, path: str, query: dict[str, list[str]], headers,
                    body: Any) -> tuple[int, dict, Any] | None:  # fmt: skip
        """The answer of a keys endpoint, or None when ``path`` is not one."""
        openai = re.fullmatch(r"/v1/organization/(projects|admin_api_keys)"
                              r"(?:/([^/]+)/(api_keys|service_accounts)(?:/([^/]+))?)?", path)  # fmt: skip
        anthropic = re.fullmatch(r"/v1/organizations/api_keys(?:/([^/]+))?", path)
        if openai is None and anthropic is None:
            return None
        with self.lock:
            if openai is not None:
                if headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
                    return 401, {}, {"error": {"message": "Incorrect API key provided: sk-admi*****6789.",
                                               "type": "invalid_request_error", "param": None,
                                               "code": "invalid_api_key"}}  # fmt: skip
                return self._openai_keys(method, openai.groups(), query, body)
            if (
                headers.get("x-api-key") != ANTHROPIC_KEY
                or headers.get("anthropic-version") != "2023-06-01"
            ):
                return 401, {}, {"type": "error", "error": {"type": "authentication_error",
                                                            "message": "invalid x-api-key"}}  # fmt: skip
            return self._anthropic_keys(method, anthropic.group(1), query, body)  # type: ignore[union-attr]

    def _openai_keys(self, method: str, groups: tuple, query: dict[str, list[str]],
                     body: Any) -> tuple[int, dict, Any]:  # fmt: skip
        top, project, sub, item = groups
        missing = (404, {}, {"error": {"message": "No such object.", "type": "invalid_request_error",
                                       "param": None, "code": None}})  # fmt: skip
        if top == "admin_api_keys" and method == "GET" and project is None:
            return 200, {}, {"object": "list", **self._list(self.admin_keys, query, "after", 100)}
        if top != "projects":
            return missing
        if project is None:
            return 200, {}, {"object": "list", **self._list(self.projects, query, "after", 100)}
        if project not in {p["id"] for p in self.projects}:
            return missing
        if sub == "api_keys" and method == "GET" and item is None:
            return (
                200,
                {},
                {"object": "list", **self._list(self.project_keys[project], query, "after", 100)},
            )
        if sub == "api_keys" and method == "DELETE" and item is not None:
            kept = [k for k in self.project_keys[project] if k["id"] != item]
            if len(kept) == len(self.project_keys[project]):
                return missing
            self.project_keys[project] = kept
            return (
                200,
                {},
                {"object": "organization.project.api_key.deleted", "id": item, "deleted": True},
            )
        if sub == "service_accounts" and method == "GET" and item is None:
            return 200, {}, {"object": "list",
                             **self._list(self.service_accounts[project], query, "after", 100)}  # fmt: skip
        if sub == "service_accounts" and method == "POST" and item is None:
            if not isinstance(body, dict) or not body.get("name"):
                return 400, {}, {"error": {"message": "Missing required parameter: 'name'.",
                                           "type": "invalid_request_error", "param": "name",
                                           "code": "missing_required_parameter"}}  # fmt: skip
            self.created += 1
            n, now = self.created, 1_780_000_000 + self.created
            account = {"object": "organization.project.service_account", "id": f"svc_acct_new{n}",
                       "name": body["name"], "role": "member", "created_at": now}  # fmt: skip
            secret = f"sk-svcacct-NEWSECRET{n:04d}abcdefghijklmnopqrstuv"
            self.service_accounts[project].append(account)
            self.project_keys[project].append({
                "object": "organization.project.api_key", "id": f"key_new{n}", "name": "Secret Key",
                "redacted_value": f"sk-svcacct-****{secret[-4:]}", "created_at": now, "last_used_at": None,
                "owner": {"type": "service_account", "service_account": account}})  # fmt: skip
            return 200, {}, {**account, "api_key": {
                "object": "organization.project.service_account.api_key", "value": secret,
                "name": "Secret Key", "created_at": now, "id": f"key_new{n}"}}  # fmt: skip
        return missing

    def _anthropic_keys(self, method: str, item: str | None, query: dict[str, list[str]],
                        body: Any) -> tuple[int, dict, Any]:  # fmt: skip
        if item is None and method == "GET":
            return 200, {}, self._list(self.anthropic_keys, query, "after_id", 1000)
        key = next((k for k in self.anthropic_keys if k["id"] == item), None)
        if key is None:
            return 404, {}, {"type": "error", "error": {"type": "not_found_error",
                                                        "message": f"API key {item} not found"}}  # fmt: skip
        if method == "GET":
            return 200, {}, key
        if method != "POST" or not isinstance(body, dict):
            return 405, {}, {"type": "error", "error": {"type": "invalid_request_error",
                                                        "message": "Method not allowed"}}  # fmt: skip
        if "status" in body and body["status"] not in ("active", "inactive", "archived"):
            return 400, {}, {"type": "error", "error": {"type": "invalid_request_error",
                                                        "message": "status: invalid value"}}  # fmt: skip
        if key["status"] == "archived":
            return 400, {}, {"type": "error", "error": {"type": "invalid_request_error",
                                                        "message": "An archived API key cannot be changed."}}  # fmt: skip
        key.update({k: body[k] for k in ("status", "name") if body.get(k)})
        return 200, {}, key
