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


def test_a_code_sets_httponly_strict_cookies_once():
    handoffs = Handoffs()
    code = handoffs.issue({COOKIE_NAME: ("tok.sig", 3600), "tokenboard_device": ("d.ada.s", 86400)})
    client = _client(handoffs)
    r = client.post("/auth/session", json={"code": code})
    assert r.status_code == 204
    session, dev = r.headers.get_list("set-cookie")
    assert session.startswith(f"{COOKIE_NAME}=tok.sig;") and "Max-Age=3600" in session
    assert dev.startswith("tokenboard_device=d.ada.s;") and "Max-Age=86400" in dev
    for header in (session, dev):
        for part in ("HttpOnly", "Path=/", "SameSite=strict"):
            assert part in header
        assert "Secure" not in header  # plain http
    assert client.post("/auth/session", json={"code": code}).status_code == 400  # used up


def test_secure_over_https_and_behind_a_tls_proxy():
    handoffs = Handoffs()
    r = _client(handoffs, "https://tb.example").post(
        "/auth/session", json={"code": handoffs.issue({COOKIE_NAME: ("v", 60)})}
    )
    assert "Secure" in r.headers["set-cookie"]
    r = _client(handoffs).post(
        "/auth/session",
        json={"code": handoffs.issue({COOKIE_NAME: ("v", 60)})},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'{"code": 5}', b'{"code": "guess"}'],
)
def test_bad_or_unknown_codes_set_nothing(body):
    r = _client(Handoffs()).post(
        "/auth/session", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "set-cookie" not in r.headers


def test_codes_expire():
    handoffs = Handoffs()
    code = handoffs.issue({"c": ("v", 60)}, now=1000.0)
    assert handoffs.redeem(code, now=1000.0 + TTL_S + 1) is None
    code = handoffs.issue({"c": ("v", 60)}, now=1000.0)
    assert handoffs.redeem(code, now=1000.0 + TTL_S - 1) == {"c": ("v", 60)}


def test_logout_deletes_the_cookie_and_get_is_refused():
    client = _client(Handoffs())
    r = client.post("/auth/logout", json={})
    assert r.status_code == 204
    assert (
        r.headers["set-cookie"].startswith(f'{COOKIE_NAME}="";')
        and "Max-Age=0" in r.headers["set-cookie"]
    )
    assert client.get("/auth/session").status_code == 405


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example", "Content-Type": "application/json"}, 403),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, 403),
        ({"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, 403),
        ({"Content-Type": "text/plain"}, 415),  # what a cross-site HTML form can send
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Content-Length": "5000"}, 413),
    ],
)
def test_only_same_site_json_posts_are_taken(headers, status):
    """Another site cannot sign a visitor in as someone else (login CSRF) or out."""
    handoffs = Handoffs()
    client = _client(handoffs)
    for path in ("/auth/session", "/auth/logout"):
        code = handoffs.issue({COOKIE_NAME: ("attacker-session", 60)})
        body = '{"code": "' + code + '"}'
        r = client.post(path, content=body, headers=headers)
        assert r.status_code == status and "set-cookie" not in r.headers, path
    # the same post from the app's own page is taken
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    r = client.post(
        "/auth/session", json={"code": handoffs.issue({COOKIE_NAME: ("v", 60)})}, headers=same
    )
    assert r.status_code == 204


def test_a_long_body_without_a_length_is_cut_off():
    def chunks():
        for _ in range(1000):
            yield b"x" * 1024

    r = _client(Handoffs()).post(
        "/auth/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413


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
                base + path,
                data=b"{}" if method == "POST" else None,
                method=method,
                headers={"Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            assert err.value.code == want, path
