"""``deliver``: send one notification on one channel, retried, bounded in time, never raising.

Retried: connection failures, timeouts, the HTTP statuses of ``lib.http.RETRIED`` (408, 409,
429, 5xx, 529) and SMTP's transient 4xx replies. The wait before a retry is the server's
``Retry-After`` when it sends one (``lib.http.retry_after_seconds``), else exponential
backoff with jitter (``lib.http.RetryPolicy``). Every network wait (connect, each read or
write) is at most ``timeout`` seconds and never beyond ``total`` seconds from the start: a
try, a backoff or a Retry-After that would pass ``total`` is not taken, so a channel that is
down (refusing, silent, failing) costs at most ``total`` seconds. A server that answers but
trickles its bytes slower than one per ``timeout`` can hold a try longer (the answer read is
capped at 800 bytes); ``lib.notify.outbox`` is what keeps an import from ever waiting.

Webhooks are posted with the standard library (``urllib``), not httpx: httpx logs every
request's URL at INFO, and a webhook URL is itself the secret. Redirects are not followed
(the payload would go to another address). Nothing here logs or returns a URL, a signing
secret or a password: the log lines and ``Delivery.error`` carry the masked target only, and
every text from a server or an exception goes through ``masking.scrub``.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from http.client import HTTPException
from urllib.parse import urlsplit

from lib.http import RETRIED, USER_AGENT, RetryPolicy, retry_after_seconds
from lib.notify import payloads, signing
from lib.notify.masking import scrub
from lib.notify.model import (
    Channel,
    Delivery,
    DeliveryCode,
    EmailChannel,
    InAppChannel,
    Notification,
    SignedWebhookChannel,
    SlackChannel,
    TeamsChannel,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3
DEFAULT_TOTAL_S = 20.0
# Backoff of notifications: 0.5 s, 1 s, 2 s… (× jitter 0.5–1), at most 10 s; a Retry-After
# longer than a minute is not waited for.
DEFAULT_POLICY = RetryPolicy(base_delay=0.5, max_delay=10.0, max_retry_after=60.0)
ERROR_BODY_CHARS = 200  # how much of a refusing server's body goes into the error text


@dataclass(frozen=True)
class _Try:
    """The outcome of one attempt."""

    ok: bool
    code: DeliveryCode
    status: int | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


Attempt = Callable[[float], _Try]


def deliver(
    channel: Channel,
    notification: Notification,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    total: float = DEFAULT_TOTAL_S,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Send ``notification`` on ``channel``: up to ``1 + retries`` tries, each network wait
    at most ``timeout`` s, the whole call at most about ``total`` s (waits included). Returns
    a ``Delivery``; never raises (an unusable channel or an unexpected failure is a
    ``Delivery`` with ``ok=False`` and code ``invalid_channel`` or ``internal``)."""
    start = clock()
    kind = str(getattr(channel, "kind", type(channel).__name__))
    event_id = str(getattr(notification, "event_id", ""))
    secrets: list[str] = []
    target = ""
    attempts = 0
    last = _Try(ok=False, code="internal", error="not tried")

    def done(result: _Try) -> Delivery:
        delivery = Delivery(
            ok=result.ok,
            code=result.code,
            channel=kind,
            event_id=event_id,
            attempts=attempts,
            duration_ms=round((clock() - start) * 1000),
            target=target,
            status=result.status,
            error=scrub(result.error, secrets) if result.error else None,
        )
        level = logging.INFO if delivery.ok else logging.WARNING
        log.log(level, "notification %s on %s %s: %s after %d attempt(s) in %d ms",
                scrub(event_id, secrets), kind, target, delivery.code, attempts,
                delivery.duration_ms)  # fmt: skip
        return delivery

    try:
        secrets = list(channel.secrets())
        target = channel.target
        if isinstance(channel, InAppChannel):
            return done(_Try(ok=True, code="in_app"))
        attempt = _attempt_for(channel, notification)
        if attempt is None:
            return done(_Try(ok=False, code="invalid_channel", error=_invalid(channel)))
        for n in range(max(0, retries) + 1):
            remaining = total - (clock() - start)
            if remaining <= 0.05:
                last = _Try(ok=False, code="deadline", status=last.status,
                            error=_join(last.error, f"time limit of {total:g} s reached"))  # fmt: skip
                break
            attempts += 1
            last = attempt(min(timeout, remaining))
            if last.ok or not last.retryable or n == max(0, retries):
                break
            if last.retry_after is not None and last.retry_after > policy.max_retry_after:
                last = _Try(ok=False, code="deadline", status=last.status,
                            error=_join(last.error, f"Retry-After {last.retry_after:.0f} s is too long to wait"))  # fmt: skip
                break
            wait = last.retry_after if last.retry_after is not None else policy.backoff(n)
            if clock() - start + wait >= total:
                last = _Try(ok=False, code="deadline", status=last.status,
                            error=_join(last.error, f"the next try (in {wait:.1f} s) would pass the time limit of {total:g} s"))  # fmt: skip
                break
            sleep(wait)
        return done(last)
    except Exception as exc:  # never raise to the caller; the text is scrubbed in done()
        return done(
            _Try(ok=False, code="internal", error=f"unexpected {type(exc).__name__}: {exc}")
        )


def _join(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _invalid(channel: object) -> str:
    if isinstance(channel, SlackChannel | TeamsChannel | SignedWebhookChannel):
        if isinstance(channel, SignedWebhookChannel) and not channel.secret:
            return "the signed webhook has no secret"
        return "the webhook URL must start with https:// or http:// and name a host"
    if isinstance(channel, EmailChannel):
        if channel.user and channel.security == "none":
            return "a login is never sent without TLS: use starttls or ssl"
        return "the e-mail channel needs a host, a sender and at least one recipient"
    return f"not a channel: {type(channel).__name__}"


def _attempt_for(channel: Channel, n: Notification) -> Attempt | None:
    """The function that makes one try on ``channel``, the payload built once; None when the
    channel's configuration cannot be used."""
    if isinstance(channel, SlackChannel | TeamsChannel | SignedWebhookChannel):
        if not _usable_url(channel.url):
            return None
        headers = {signing.EVENT_ID_HEADER: n.event_id}
        if isinstance(channel, SlackChannel):
            body = payloads.json_body(payloads.slack_payload(n))
            return lambda t: _post(channel.url, body, headers, t, teams=False)
        if isinstance(channel, TeamsChannel):
            body = payloads.json_body(payloads.teams_payload(n))
            return lambda t: _post(channel.url, body, headers, t, teams=True)
        if not channel.secret:
            return None
        body = payloads.json_body(payloads.generic_payload(n))
        secret = channel.secret
        # signed at each try: a retry carries a fresh timestamp within the receiver's window
        return lambda t: _post(
            channel.url, body, {**headers, **signing.signed_headers(secret, body)}, t, teams=False
        )
    if isinstance(channel, EmailChannel):
        if not channel.host or not channel.sender or not channel.to:
            return None
        if channel.user and channel.security == "none":
            return None  # a password is never sent in clear text
        message = payloads.email_message(channel, n)
        return lambda t: _smtp(channel, message, t)
    return None


def _usable_url(url: str) -> bool:
    if not url.isprintable() or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname)


# -- HTTP ----------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def _post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float, *, teams: bool
) -> _Try:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **headers},
    )  # fmt: skip
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            text = response.read(ERROR_BODY_CHARS * 4).decode("utf-8", "replace")
        # The retired Teams connectors answered 200 with the throttling in the body.
        if teams and "HTTP error 429" in text:
            return _Try(ok=False, code="http_status", status=429, retryable=True,
                        error="HTTP 429 (reported in the body)")  # fmt: skip
        return _Try(ok=True, code="sent", status=status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        retry_after = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
        try:
            text = exc.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        except Exception:
            text = ""
        finally:
            exc.close()
        if 300 <= status < 400:
            return _Try(ok=False, code="redirect", status=status,
                        error=f"HTTP {status}: redirect not followed")  # fmt: skip
        detail = f"HTTP {status}" + (
            f": {' '.join(text.split())[:ERROR_BODY_CHARS]}" if text else ""
        )
        return _Try(ok=False, code="http_status", status=status, error=detail,
                    retryable=status in RETRIED, retry_after=retry_after)  # fmt: skip
    except urllib.error.URLError as exc:
        return _network_failure(exc.reason if isinstance(exc.reason, BaseException) else exc)
    except (OSError, HTTPException) as exc:
        return _network_failure(exc)


def _network_failure(exc: object) -> _Try:
    if isinstance(exc, TimeoutError | socket.timeout):
        return _Try(ok=False, code="timeout", error="no answer before the timeout", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Try(ok=False, code="tls", error=f"certificate refused: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError):
        return _Try(ok=False, code="tls", error=f"TLS failed ({exc.reason})")
    return _Try(ok=False, code="connection", retryable=True,
                error=f"connection failed ({type(exc).__name__}: {exc})")  # fmt: skip


# -- SMTP ----------------------------------------------------------------------------------
def _tls_context(channel: EmailChannel) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=channel.cafile)


def _smtp(channel: EmailChannel, message: EmailMessage, timeout: float) -> _Try:
    try:
        server: smtplib.SMTP
        if channel.security == "ssl":
            server = smtplib.SMTP_SSL(channel.host, channel.effective_port, timeout=timeout,
                                      context=_tls_context(channel))  # fmt: skip
        else:
            server = smtplib.SMTP(channel.host, channel.effective_port, timeout=timeout)
        with server:
            server.ehlo()
            if channel.security == "starttls":
                if not server.has_extn("starttls"):
                    return _Try(ok=False, code="tls", error="the server does not offer STARTTLS")
                server.starttls(context=_tls_context(channel))
                server.ehlo()
            if channel.user:
                server.login(channel.user, channel.password or "")
            refused = server.send_message(message)
        if refused:  # some recipients refused, the others accepted
            return _Try(ok=True, code="sent", status=250,
                        error=f"{len(refused)} recipient(s) refused: {', '.join(sorted(refused))}")  # fmt: skip
        return _Try(ok=True, code="sent", status=250)
    except smtplib.SMTPAuthenticationError as exc:
        return _Try(ok=False, code="smtp_auth", status=exc.smtp_code,
                    error=f"login refused ({exc.smtp_code})")  # fmt: skip
    except smtplib.SMTPRecipientsRefused as exc:
        return _Try(
            ok=False, code="smtp_refused", error=f"every recipient refused ({len(exc.recipients)})"
        )
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return _Try(ok=False, code="smtp_refused", status=exc.smtp_code,
                    error=f"SMTP {exc.smtp_code}: {' '.join(reply.split())[:ERROR_BODY_CHARS]}",
                    retryable=400 <= exc.smtp_code < 500)  # fmt: skip
    except smtplib.SMTPNotSupportedError as exc:
        return _Try(ok=False, code="smtp_refused", error=f"not supported by the server: {exc}")
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPException) as exc:
        return _Try(ok=False, code="connection", retryable=True,
                    error=f"SMTP connection failed ({type(exc).__name__}: {exc})")  # fmt: skip
    except OSError as exc:
        return _network_failure(exc)
