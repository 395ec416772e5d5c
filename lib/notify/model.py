"""What a notification is, where it can go, and what came of sending it. Plain values: no
network, no database (the alerts engine keeps the delivery log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from lib.notify import words
from lib.notify.masking import mask_secret, mask_url, secret_parts


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        """The English word for the severity (``words.SEVERITY_*``)."""
        return {
            Severity.INFO: words.SEVERITY_INFO,
            Severity.WARNING: words.SEVERITY_WARNING,
            Severity.CRITICAL: words.SEVERITY_CRITICAL,
        }[self]


@dataclass(frozen=True)
class Notification:
    """One message for people.

    ``text`` is Markdown (``**bold**``, ``[label](url)``, ``- `` lists); each channel renders
    it its own way. ``fields`` are ordered ``(label, value)`` pairs (value, threshold,
    subject…) shown as facts. ``link`` opens the filtered view that shows the cause.
    ``event_id`` is the same for every send of the same event (an incident's level, a week's
    summary): it is sent along (``X-Tokenboard-Event-Id``, the e-mail's ``Message-ID``) so a
    receiver can drop a repeat, and the background outbox never queues it twice at once.
    """

    title: str
    text: str
    event_id: str
    severity: Severity = Severity.INFO
    link: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    occurred_at: datetime | None = None  # when the event happened (UTC); None: not stated

    def __post_init__(self) -> None:
        # "warning" as stored by a caller becomes Severity.WARNING; an unknown one raises
        # ValueError here, when the notification is made, not when it is sent
        object.__setattr__(self, "severity", Severity(self.severity))


# -- channels ------------------------------------------------------------------------------
# Each channel's ``repr``/``str`` and ``target`` are masked, so a channel logged or shown by
# mistake never gives its URL, signing secret or password away.


class _Masked:
    kind: str

    @property
    def target(self) -> str:
        """Where it sends, masked for display."""
        return ""

    def secrets(self) -> list[str]:
        """The strings that must never appear in a log line or an error text."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class InAppChannel(_Masked):
    """Shown on the Alerts page and the Overview: nothing to send."""

    kind: Literal["in_app"] = field(default="in_app", init=False)


@dataclass(frozen=True, repr=False)
class _WebhookChannel(_Masked):
    url: str

    @property
    def target(self) -> str:
        return mask_url(self.url)

    def secrets(self) -> list[str]:
        return secret_parts(self.url)


@dataclass(frozen=True, repr=False)
class SlackChannel(_WebhookChannel):
    """A Slack incoming webhook (or a Slack-compatible one: Mattermost, Rocket.Chat…): JSON
    with a plain ``text`` fallback and Block Kit ``blocks``."""

    kind: Literal["slack"] = field(default="slack", init=False)


@dataclass(frozen=True, repr=False)
class TeamsChannel(_WebhookChannel):
    """A Microsoft Teams Workflows webhook ("When a Teams webhook request is received" → "Post
    card in a chat or channel"): a message with one Adaptive Card attachment."""

    kind: Literal["teams"] = field(default="teams", init=False)


@dataclass(frozen=True, repr=False)
class SignedWebhookChannel(_WebhookChannel):
    """Any HTTPS endpoint: a JSON document signed with HMAC-SHA256 over the timestamp and the
    body (``lib.notify.signing``) with ``secret``."""

    secret: str
    kind: Literal["webhook"] = field(default="webhook", init=False)

    @property
    def target(self) -> str:
        return f"{mask_url(self.url)} (secret {mask_secret(self.secret)})"

    def secrets(self) -> list[str]:
        return [*secret_parts(self.url), self.secret]


SmtpSecurity = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True, repr=False)
class EmailChannel(_Masked):
    """E-mail over SMTP. ``security``: ``starttls`` (default: plain connection upgraded with
    STARTTLS, refused if the server does not offer it), ``ssl`` (TLS from the start, port
    465) or ``none`` (a local relay only). The certificate is always verified, against the
    system's authorities or ``cafile`` (a private relay's CA). ``port`` 0 means the usual
    port of the security chosen (587, 465, 25)."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 0
    user: str | None = None
    password: str | None = None
    security: SmtpSecurity = "starttls"
    cafile: str | None = None
    kind: Literal["email"] = field(default="email", init=False)

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    @property
    def target(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"smtp://{who}{self.host}:{self.effective_port} → {', '.join(self.to)}"

    def secrets(self) -> list[str]:
        return [self.password] if self.password else []


Channel = InAppChannel | SlackChannel | TeamsChannel | SignedWebhookChannel | EmailChannel


# -- the outcome ---------------------------------------------------------------------------
# Machine codes of a delivery (callers branch on these, never on ``error``'s words):
# sent, in_app (nothing to send), http_status (the server refused: status says which),
# timeout, connection, tls (certificate or TLS refused), redirect (not followed: the payload
# would go elsewhere), smtp_auth, smtp_refused (the server refused sender, recipients or
# message), deadline (the next try would pass the time limit, or a Retry-After does),
# invalid_channel (the configuration cannot be used), internal (an unexpected failure).
DeliveryCode = Literal[
    "sent", "in_app", "http_status", "timeout", "connection", "tls", "redirect", "smtp_auth",
    "smtp_refused", "deadline", "invalid_channel", "internal",
]  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """What came of one ``deliver`` call.

    ``attempts`` counts the tries made (0 for in-app or an unusable channel); ``status`` is
    the last HTTP status or SMTP reply code seen (None when no answer came); ``error`` is a
    short English description of the last failure with every secret masked (None when
    sent, except an e-mail that some recipients refused: it names them); ``duration_ms`` is the wall time of the whole call, waits included; ``target`` is
    the masked destination, fit for the delivery log."""

    ok: bool
    code: DeliveryCode
    channel: str
    event_id: str
    attempts: int
    duration_ms: int
    target: str = ""
    status: int | None = None
    error: str | None = None
