"""The HTTP side of sign-in (lib/auth/web.py), in-process through Starlette's test client, and
the real server's private endpoints over loopback."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lib.auth.handoff import TTL_S, Handoffs
from lib.auth.web import COOKIE_NAME, HidePrivateEndpoints, session_routes
from tests.app_server import serve_app


def _client(handoffs: Handoffs, base_url: str = "http://testserver") -> TestClient:
    async def metrics(request):
        return PlainTextResponse("secret stats")

    app = Starlette(
        routes=[
            *session_routes(handoffs),
            Route("/_stcore/metrics", metrics),
            Route("/x/_stcore/metrics", metrics),
        ],
        middleware=[Middleware(HidePrivateEndpoints)],
    )
    return TestClient(app, base_url=base_url)


def test_a_code_sets_an_httponly_strict_cookie_once():
    handoffs = Handoffs()
    code = handoffs.issue("tok.sig", 3600)
    client = _client(handoffs)
    r = client.post("/auth/session", json={"code": code})
    assert r.status_code == 204
    header = r.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=tok.sig;")
    for part in ("HttpOnly", "Max-Age=3600", "Path=/", "SameSite=strict"):
        assert part in header
    assert "Secure" not in header  # plain http
    assert client.post("/auth/session", json={"code": code}).status_code == 400  # used up


def test_secure_over_https_and_behind_a_tls_proxy():
    handoffs = Handoffs()
    r = _client(handoffs, "https://tb.example").post(
        "/auth/session", json={"code": handoffs.issue("v", 60)}
    )
    assert "Secure" in r.headers["set-cookie"]
    r = _client(handoffs).post(
        "/auth/session",
        json={"code": handoffs.issue("v", 60)},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'{"code": 5}', b'{"code": "guess"}', b'{"code": "' + b"x" * 5000 + b'"}'],
)
def test_bad_or_unknown_codes_set_nothing(body):
    r = _client(Handoffs()).post(
        "/auth/session", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "set-cookie" not in r.headers


def test_codes_expire():
    handoffs = Handoffs()
    code = handoffs.issue("v", 60, now=1000.0)
    assert handoffs.redeem(code, now=1000.0 + TTL_S + 1) is None
    code = handoffs.issue("v", 60, now=1000.0)
    assert handoffs.redeem(code, now=1000.0 + TTL_S - 1) == ("v", 60)


def test_logout_deletes_the_cookie_and_get_is_refused():
    client = _client(Handoffs())
    r = client.post("/auth/logout")
    assert r.status_code == 204
    assert (
        r.headers["set-cookie"].startswith(f'{COOKIE_NAME}="";')
        and "Max-Age=0" in r.headers["set-cookie"]
    )
    assert client.get("/auth/session").status_code == 405


def test_metrics_are_hidden_under_any_base_path():
    client = _client(Handoffs())
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/x/_stcore/metrics"):
        assert client.get(path).status_code == 404


@pytest.mark.browser
@pytest.mark.slow
def test_the_real_server_hides_metrics_and_serves_the_routes(tmp_path):
    with serve_app(tmp_path, str(tmp_path / "w.duckdb")) as base:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as r:
            assert r.status == 200
        for path, method, want in (
            ("/_stcore/metrics", "GET", 404),
            ("/auth/session", "POST", 400),
        ):
            req = urllib.request.Request(
                base + path, data=b"{}" if method == "POST" else None, method=method
            )
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            assert err.value.code == want, path
