"""lib.notify over real sockets: a webhook server on loopback (records requests, checks the
HMAC signature, answers 500 then 200, 429 with Retry-After, 400, a redirect), a server that
never answers, a closed port, and a real SMTP server (aiosmtpd) with STARTTLS and a
self-signed certificate made here, login and a wrong password. Secrets never reach a log
line, a ``Delivery`` or an error text."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from lib.http import RetryPolicy
from lib.notify import (
    EmailChannel,
    InAppChannel,
    Notification,
    Outbox,
    Severity,
    SignedWebhookChannel,
    SlackChannel,
    TeamsChannel,
    deliver,
    deliver_in_background,
    verify_request,
)
from lib.notify.payloads import message_id
from tests.local_server import LocalServer, QuietHandler

NOTE = Notification(
    title="Error rate 12% on gpt-4o",
    text="**120** errors in **1,000** requests (12.0%) in the last hour.",
    event_id="error-rate:model:gpt-4o:2026-11-30T09",
    severity=Severity.CRITICAL,
    link="https://tb.example/errors?model=gpt-4o",
    fields=(("Value", "12.0%"), ("Threshold", "5.0%"), ("Subject", "model gpt-4o")),
)
SIGNING_SECRET = "whsec_Sup3rS3cretSigningKey_0042"
SMTP_PASSWORD = "smtp-Pa55word-never-shown-9876"
HOOK_TOKEN = "hOoKt0k3nXYZsecret4242"
NO_JITTER = RetryPolicy(base_delay=0.2, max_delay=1.0, max_retry_after=60.0)


# -- a webhook server that records and answers from a script -------------------------------
class Hook(LocalServer):
    """POSTs recorded as (path, headers, body); answers taken in order from ``script``
    ((status, headers, body) each), 200 "ok" once it is empty."""

    def __init__(self, *script: tuple[int, dict[str, str], str]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__()

    def _handler(self):
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook.lock:
                    hook.requests.append((self.path, dict(self.headers.items()), body))
                    status, headers, text = hook.script.pop(0) if hook.script else (200, {}, "ok")
                raw = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        return Handler


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Sleeps:
    """Records the waits ``deliver`` asks for and takes them for real."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


# -- webhooks ------------------------------------------------------------------------------
def test_slack_webhook_receives_text_and_blocks():
    with Hook() as hook:
        d = deliver(
            SlackChannel(url=f"{hook.url}/services/T0/B0/{HOOK_TOKEN}"), NOTE, timeout=2, retries=0
        )
    assert d.ok and d.code == "sent" and d.status == 200 and d.attempts == 1 and d.error is None
    assert d.channel == "slack" and d.event_id == NOTE.event_id and d.target.endswith("4242")
    assert HOOK_TOKEN not in d.target
    ((path, headers, body),) = hook.requests
    assert path == f"/services/T0/B0/{HOOK_TOKEN}"
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Tokenboard-Event-Id"] == NOTE.event_id
    doc = json.loads(body)
    assert doc["text"] == "Critical: Error rate 12% on gpt-4o"
    assert [b["type"] for b in doc["blocks"]] == [
        "header",
        "section",
        "section",
        "actions",
        "context",
    ]
    assert (
        doc["blocks"][1]["text"]["text"]
        == "*120* errors in *1,000* requests (12.0%) in the last hour."
    )


def test_teams_webhook_receives_one_adaptive_card_and_202_is_success():
    with Hook((202, {}, "")) as hook:
        d = deliver(
            TeamsChannel(url=f"{hook.url}/workflows/{HOOK_TOKEN}"), NOTE, timeout=2, retries=0
        )
    assert d.ok and d.status == 202
    doc = json.loads(hook.requests[0][2])
    assert doc["type"] == "message"
    card = doc["attachments"][0]["content"]
    assert doc["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["body"][0]["color"] == "Attention"
    assert card["actions"][0]["url"] == NOTE.link


def test_signed_webhook_500_then_200_is_retried_and_each_try_is_signed():
    sleeps = Sleeps()
    with Hook((500, {}, "boom")) as hook:
        d = deliver(SignedWebhookChannel(url=f"{hook.url}/in", secret=SIGNING_SECRET), NOTE,
                    timeout=2, retries=3, policy=NO_JITTER, sleep=sleeps)  # fmt: skip
    assert d.ok and d.attempts == 2 and d.status == 200
    # one backoff: base 0.2 s × 2^0, times the jitter factor in [0.5, 1]
    assert len(sleeps.waits) == 1 and 0.1 <= sleeps.waits[0] <= 0.2
    assert len(hook.requests) == 2
    for _, headers, body in hook.requests:
        assert verify_request(SIGNING_SECRET, headers, body)
        assert not verify_request("another-secret", headers, body)
        assert not verify_request(SIGNING_SECRET, headers, body.replace(b"12.0", b"13.0"))
        assert headers["X-Tokenboard-Event-Id"] == NOTE.event_id
        assert headers["X-Tokenboard-Signature"].startswith("sha256=")
    assert json.loads(hook.requests[1][2])["event_id"] == NOTE.event_id
    assert d.duration_ms >= 100


def test_429_with_retry_after_waits_what_the_server_says():
    sleeps = Sleeps()
    with Hook((429, {"Retry-After": "1"}, "rate limited")) as hook:
        t0 = time.monotonic()
        d = deliver(
            SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}"), NOTE, timeout=2, retries=2, sleep=sleeps
        )
        elapsed = time.monotonic() - t0
    assert d.ok and d.attempts == 2
    assert sleeps.waits == [1.0] and elapsed >= 1.0 and d.duration_ms >= 1000


def test_retry_after_longer_than_the_time_left_is_not_waited_for():
    for retry_after, code_hint in [("120", "too long"), ("8", "would pass the time limit")]:
        sleeps = Sleeps()
        with Hook((503, {"Retry-After": retry_after}, "down")) as hook:
            d = deliver(SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}"), NOTE, timeout=1, retries=3,
                        total=5, sleep=sleeps)  # fmt: skip
        assert not d.ok and d.code == "deadline" and d.status == 503 and d.attempts == 1
        assert sleeps.waits == [] and len(hook.requests) == 1
        assert (
            d.error is not None and d.error.startswith("HTTP 503: down;") and code_hint in d.error
        )


def test_a_refusal_is_not_retried_and_says_what_the_server_said():
    with Hook((400, {}, "invalid_payload")) as hook:
        d = deliver(SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}"), NOTE, timeout=2, retries=3)
    assert not d.ok and d.code == "http_status" and d.status == 400 and d.attempts == 1
    assert d.error == "HTTP 400: invalid_payload" and len(hook.requests) == 1


def test_a_redirect_is_not_followed():
    with Hook((302, {"Location": "http://127.0.0.1:9/elsewhere"}, "")) as hook:
        d = deliver(SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}"), NOTE, timeout=2, retries=3)
    assert not d.ok and d.code == "redirect" and d.status == 302 and len(hook.requests) == 1


def test_a_server_that_never_answers_costs_at_most_the_total_time():
    with silent_server() as addr:
        t0 = time.monotonic()
        d = deliver(SlackChannel(url=f"http://{addr}/s/{HOOK_TOKEN}"), NOTE, timeout=0.4, retries=10,
                    total=1.5, policy=NO_JITTER)  # fmt: skip
        elapsed = time.monotonic() - t0
    assert not d.ok and d.code in ("timeout", "deadline") and d.status is None
    # tries of 0.4 s and backoffs of 0.1–0.2 s, 0.2–0.4 s… fit 2 or 3 tries in 1.5 s
    assert 2 <= d.attempts <= 3
    assert 0.8 <= elapsed < 2.0, elapsed
    assert d.error is not None and "no answer before the timeout" in d.error


def test_a_closed_port_is_retried_then_reported():
    sleeps = Sleeps()
    d = deliver(SlackChannel(url=f"http://127.0.0.1:{closed_port()}/s/{HOOK_TOKEN}"), NOTE,
                timeout=1, retries=2, policy=NO_JITTER, sleep=sleeps)  # fmt: skip
    assert not d.ok and d.code == "connection" and d.attempts == 3 and len(sleeps.waits) == 2
    assert d.error is not None and d.error.startswith("connection failed (ConnectionRefusedError")


def test_in_app_and_unusable_channels_never_raise():
    d = deliver(InAppChannel(), NOTE)
    assert (d.ok, d.code, d.attempts, d.channel, d.target, d.error) == (
        True,
        "in_app",
        0,
        "in_app",
        "",
        None,
    )
    for bad in (SlackChannel(url="ftp://example.com/x"), TeamsChannel(url="https://"),
                SlackChannel(url=f"https://example.com/s/{HOOK_TOKEN}\x01"),
                SignedWebhookChannel(url="https://example.com/h", secret=""),
                EmailChannel(host="", sender="a@example.com", to=("b@example.com",))):  # fmt: skip
        d = deliver(bad, NOTE)
        assert not d.ok and d.code == "invalid_channel" and d.attempts == 0, bad
    d = deliver("https://example.com/hook", NOTE)  # type: ignore[arg-type]  # not a channel
    assert not d.ok and d.code in ("invalid_channel", "internal")


def test_no_secret_in_logs_deliveries_or_error_texts(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    url_secret = f"/services/T0/B0/{HOOK_TOKEN}"
    results = []
    # the server echoes the path (the secret) in its refusal
    with Hook((404, {}, f"no_such_hook {url_secret}"), (500, {}, f"oops {SIGNING_SECRET}")) as hook:
        results.append(
            deliver(SlackChannel(url=f"{hook.url}{url_secret}"), NOTE, timeout=1, retries=0)
        )
        results.append(deliver(SignedWebhookChannel(url=f"{hook.url}{url_secret}", secret=SIGNING_SECRET),
                               NOTE, timeout=1, retries=0))  # fmt: skip
    results.append(deliver(SlackChannel(url=f"http://127.0.0.1:{closed_port()}{url_secret}"), NOTE,
                           timeout=1, retries=0))  # fmt: skip
    with silent_server() as addr:
        results.append(
            deliver(TeamsChannel(url=f"http://{addr}{url_secret}"), NOTE, timeout=0.3, retries=0)
        )
    results.append(deliver(EmailChannel(host="127.0.0.1", port=closed_port(), sender="a@example.com",
                                        to=("b@example.com",), user="a", password=SMTP_PASSWORD),
                           NOTE, timeout=1, retries=0))  # fmt: skip
    assert [r.code for r in results] == [
        "http_status",
        "http_status",
        "connection",
        "timeout",
        "connection",
    ]
    assert results[0].error == "HTTP 404: no_such_hook ****"  # the whole path masked
    assert results[1].error == "HTTP 500: oops ****"
    text = caplog.text + "\n".join(str(r) for r in results)
    for secret in (HOOK_TOKEN, SIGNING_SECRET, SMTP_PASSWORD):
        assert secret not in text
        assert all(
            secret not in str(rec.args) and secret not in rec.getMessage() for rec in caplog.records
        )
    assert "notification error-rate:model:gpt-4o:2026-11-30T09 on slack" in caplog.text


# -- the outbox ----------------------------------------------------------------------------
def test_the_outbox_returns_at_once_and_delivers_in_the_background():
    done: list[Any] = []
    ready = threading.Event()

    def on_done(channel, notification, delivery):
        done.append((channel.kind, notification.event_id, delivery.ok, delivery.code))
        if len(done) == 3:
            ready.set()

    with Hook() as hook, silent_server() as addr:
        box = Outbox(on_done=on_done, max_queue=3, workers=1, timeout=0.5, retries=0, total=1.0)
        down = SlackChannel(url=f"http://{addr}/s/{HOOK_TOKEN}")
        up = SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}")
        t0 = time.monotonic()
        assert box.submit(down, NOTE) == "queued"
        second = Notification(title="t", text="x", event_id="second")
        assert box.submit(up, NOTE) == "queued"
        assert box.submit(down, NOTE) == "duplicate"  # the same event on the same channel
        assert box.submit(up, second) == "queued"
        third = Notification(title="t", text="x", event_id="third")
        # the worker holds the first item (up to 1 s); 3 more fill the queue of 3
        verdicts = [
            box.submit(up, third),
            box.submit(up, Notification(title="t", text="x", event_id="fourth")),
        ]
        assert time.monotonic() - t0 < 0.2  # nothing waited for the channel that is down
        assert verdicts.count("full") >= 1
        assert ready.wait(5)
        assert box.join(5) and box.close(5)
        assert box.submit(up, NOTE) == "closed"
    assert done[0] == ("slack", NOTE.event_id, False, "timeout")
    assert ("slack", NOTE.event_id, True, "sent") in done and (
        "slack",
        "second",
        True,
        "sent",
    ) in done
    assert [json.loads(b)["text"] for _, _, b in hook.requests].count(
        "Critical: Error rate 12% on gpt-4o"
    ) == 1


def test_deliver_in_background_with_a_callback_and_a_failing_callback(caplog):
    got = threading.Event()
    box = Outbox(timeout=1, retries=0)
    with Hook() as hook:
        ch = SlackChannel(url=f"{hook.url}/s/{HOOK_TOKEN}")

        def boom(channel, notification, delivery):
            raise RuntimeError(f"callback broke {channel.target}")

        assert deliver_in_background(ch, NOTE, boom, outbox=box) == "queued"
        other = Notification(title="t", text="x", event_id="after")
        assert deliver_in_background(ch, other, lambda c, n, d: got.set(), outbox=box) == "queued"
        assert got.wait(5)  # the worker went on after the failing callback
        assert box.close(5)
    assert "notification callback failed: RuntimeError" in caplog.text
    assert len(hook.requests) == 2


# -- e-mail over a real SMTP server --------------------------------------------------------
def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


class Mailbox:
    """The SMTP server's handler: keeps each message with its envelope and whether the
    session was encrypted."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
        })  # fmt: skip
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == SMTP_PASSWORD, handled=False)  # 535 when refused


@contextmanager
def smtp_server(
    tls_context: ssl.SSLContext | None = None, *, auth: bool = True, implicit_tls: bool = False
) -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    port = closed_port()
    options: dict[str, Any] = {}
    if tls_context is not None and implicit_tls:
        options.update(ssl_context=tls_context)
    elif tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    if auth:
        options.update(authenticator=box.authenticate, auth_required=True,
                       auth_require_tls=tls_context is not None)  # fmt: skip
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, ssl.SSLContext]:
    cert_file, key_file = make_certificate(tmp_path_factory.mktemp("tls"))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_file, key_file)
    return cert_file, ctx


def mail_channel(port: int, cafile: Path | None, **kw: Any) -> EmailChannel:
    base: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "sender": "Tokenboard <alerts@example.com>",
        "to": ("finops@example.com", "oncall@example.com"), "user": "alerts@example.com",
        "password": SMTP_PASSWORD, "cafile": str(cafile) if cafile else None,
    }  # fmt: skip
    return EmailChannel(**{**base, **kw})


def test_email_over_starttls_with_login(certificate, caplog):
    caplog.set_level(logging.DEBUG)
    cert_file, ctx = certificate
    with smtp_server(ctx) as (port, box):
        d = deliver(mail_channel(port, cert_file), NOTE, timeout=5, retries=0)
    assert d.ok and d.code == "sent" and d.status == 250 and d.attempts == 1, d
    assert box.logins == [("alerts@example.com", SMTP_PASSWORD)]
    (got,) = box.messages
    assert got["tls"] is True  # the message went after STARTTLS
    assert got["from"] == "alerts@example.com" and got["to"] == [
        "finops@example.com",
        "oncall@example.com",
    ]
    msg = got["message"]
    assert msg["Subject"] == "[Tokenboard] Critical: Error rate 12% on gpt-4o"
    assert msg["Message-ID"] == message_id(NOTE.event_id, "Tokenboard <alerts@example.com>")
    assert msg["X-Tokenboard-Event-Id"] == NOTE.event_id
    body = msg.get_content().replace("\r\n", "\n")  # lines end in CRLF on the wire
    assert body.startswith("**120** errors in **1,000** requests (12.0%) in the last hour.\n\n")
    assert "Value: 12.0%\nThreshold: 5.0%\nSubject: model gpt-4o" in body
    assert "Open in Tokenboard: https://tb.example/errors?model=gpt-4o" in body
    assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD not in str(d)


def test_email_wrong_password_is_not_retried(certificate):
    cert_file, ctx = certificate
    with smtp_server(ctx) as (port, box):
        d = deliver(
            mail_channel(port, cert_file, password="wrong-password-1234"),
            NOTE,
            timeout=5,
            retries=3,
        )
    assert not d.ok and d.code == "smtp_auth" and d.status == 535 and d.attempts == 1
    assert box.messages == [] and d.error is not None and "wrong-password" not in d.error


def test_email_certificate_not_trusted_is_refused(certificate):
    _, ctx = certificate
    with smtp_server(ctx) as (port, box):
        d = deliver(mail_channel(port, None), NOTE, timeout=5, retries=3)  # the system's CAs only
    assert (
        not d.ok and d.code == "tls" and d.attempts == 1 and box.logins == [] and box.messages == []
    )
    assert d.error is not None and d.error.startswith("certificate refused")


def test_email_starttls_required_but_not_offered():
    with smtp_server(None, auth=False) as (port, box):
        d = deliver(mail_channel(port, None, user=None, password=None), NOTE, timeout=5, retries=3)
        assert not d.ok and d.code == "tls" and d.error == "the server does not offer STARTTLS"
        # a local relay without TLS, when chosen explicitly
        plain = deliver(
            mail_channel(port, None, user=None, password=None, security="none"), NOTE, timeout=5
        )
    assert plain.ok and len(box.messages) == 1 and box.messages[0]["tls"] is False


def test_an_smtp_server_that_never_answers_is_bounded():
    with silent_server() as addr:
        port = int(addr.rsplit(":", 1)[1])
        t0 = time.monotonic()
        d = deliver(
            mail_channel(port, None), NOTE, timeout=0.3, retries=5, total=1.0, policy=NO_JITTER
        )
        elapsed = time.monotonic() - t0
    assert not d.ok and d.code in ("timeout", "deadline") and elapsed < 1.6, (d, elapsed)


def test_email_over_implicit_tls_and_a_refused_recipient(certificate):
    cert_file, ctx = certificate
    with smtp_server(ctx, implicit_tls=True, auth=False) as (port, box):
        ch = mail_channel(port, cert_file, user=None, password=None, security="ssl",
                          to=("finops@example.com", "nobody@example.com"))  # fmt: skip
        d = deliver(ch, NOTE, timeout=5, retries=0)
    # sent to the one accepted; the refused one is named
    assert d.ok and d.code == "sent" and d.error == "1 recipient(s) refused: nobody@example.com"
    assert box.messages[0]["to"] == ["finops@example.com"] and box.messages[0]["tls"] is True


def test_a_login_is_never_sent_without_tls():
    with smtp_server(None, auth=False) as (port, box):
        d = deliver(mail_channel(port, None, security="none"), NOTE, timeout=5)
    assert not d.ok and d.code == "invalid_channel" and d.attempts == 0 and box.messages == []
    assert d.error == "a login is never sent without TLS: use starttls or ssl"


def test_the_outbox_tells_channels_apart_by_their_whole_settings():
    started, release = threading.Event(), threading.Event()

    def hold(channel, notification, delivery):
        started.set()
        release.wait(5)

    box = Outbox(on_done=hold, max_queue=10, timeout=0.2, retries=0, total=0.3)
    try:
        # same host and last 4 characters (one masked target), different URLs
        port = closed_port()
        a = SlackChannel(url=f"http://127.0.0.1:{port}/services/AAAAAAAA/{HOOK_TOKEN}")
        b = SlackChannel(url=f"http://127.0.0.1:{port}/services/BBBBBBBB/{HOOK_TOKEN}")
        assert a.target == b.target
        assert box.submit(a, NOTE) == "queued"
        assert started.wait(5)  # a is being handled (held in its callback)
        assert box.submit(b, NOTE) == "queued"
        assert box.submit(SlackChannel(url=a.url), NOTE) == "duplicate"
        assert box.pending() == 2
    finally:
        release.set()
        assert box.close(5)
