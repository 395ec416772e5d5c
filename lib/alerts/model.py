"""What an alert rule, an incident and a notification are: codes, defaults and dataclasses.

Only codes live here (kinds, subjects, windows, states, reasons): the pages word them.
Units per kind (``UNITS``): a budget's threshold is US dollars, a spike's a robust z-score, an
error rate's and a 429 share's a percentage, p95 latency milliseconds, no new data hours, an
unused key days, refused or revoked-key requests a count, a model retirement the days before
it, low credit the runway in days.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from lib.errors import TokenboardError

Kind = Literal[
    "budget",
    "spend_spike",
    "error_rate",
    "rate_limit_share",
    "p95_latency",
    "no_data",
    "key_unused",
    "key_revoked_used",
    "key_refused",
    "model_retirement",
    "credit_low",
]
KINDS: tuple[str, ...] = (
    "budget", "spend_spike", "error_rate", "rate_limit_share", "p95_latency", "no_data",
    "key_unused", "key_revoked_used", "key_refused", "model_retirement", "credit_low",
)  # fmt: skip
SubjectKind = Literal["organisation", "provider", "project", "key", "model", "user"]
SUBJECT_KINDS: tuple[str, ...] = ("organisation", "provider", "project", "key", "model", "user")
# The column of each subject in the rollups and request rows (None: the whole organisation).
SUBJECT_COLUMNS: dict[str, str | None] = {
    "organisation": None, "provider": "provider", "project": "project", "key": "api_key",
    "model": "model", "user": "user_id",
}  # fmt: skip
# The filter dimension of each subject (lib.filters.DIMENSIONS) for the link to the cause.
SUBJECT_DIMS: dict[str, str | None] = SUBJECT_COLUMNS
WINDOWS: tuple[str, ...] = ("hour", "day", "week", "month")
WINDOW_SECONDS: dict[str, int] = {
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
}
BASES: tuple[str, ...] = ("actual", "forecast")
STATES: tuple[str, ...] = ("open", "acknowledged", "snoozed", "resolved")
OPEN_STATES: tuple[str, ...] = ("open", "acknowledged", "snoozed")
# Why a notification went out: a new incident, a higher level, or a reminder after the cool-down.
REASONS: tuple[str, ...] = ("opened", "escalated", "reminder")
DEFAULT_LEVELS: tuple[int, ...] = (100,)
BUDGET_LEVELS: tuple[int, ...] = (50, 80, 100)
DEFAULT_COOLDOWN_S = 24 * 3600

UNITS: dict[str, str] = {
    "budget": "USD", "spend_spike": "z", "error_rate": "%", "rate_limit_share": "%",
    "p95_latency": "ms", "no_data": "hours", "key_unused": "days", "key_revoked_used": "requests",
    "key_refused": "requests", "model_retirement": "days", "credit_low": "days",
}  # fmt: skip
# Kinds where a smaller value is worse (the days left): they fire at or below the threshold.
LOWER_IS_WORSE: frozenset[str] = frozenset({"model_retirement", "credit_low"})
# The subjects each kind can watch (the data that measures it keeps these dimensions).
KIND_SUBJECTS: dict[str, tuple[str, ...]] = {
    "budget": SUBJECT_KINDS,
    "spend_spike": SUBJECT_KINDS,
    "error_rate": SUBJECT_KINDS,
    "rate_limit_share": SUBJECT_KINDS,
    "p95_latency": SUBJECT_KINDS,
    "no_data": SUBJECT_KINDS,
    "key_unused": ("key",),
    "key_revoked_used": ("organisation", "provider", "project", "key", "model", "user"),
    "key_refused": ("organisation", "provider", "project", "key", "model", "user"),
    "model_retirement": ("model",),
    "credit_low": ("provider",),
}
# The windows each kind takes: calendar periods for budgets, the bucket for spikes, a rolling
# span ending now for rates, latency and key events, the usage looked at for retirements.
KIND_WINDOWS: dict[str, tuple[str, ...]] = {
    "budget": ("day", "week", "month"),
    "spend_spike": ("hour", "day"),
    "error_rate": ("hour", "day", "week"),
    "rate_limit_share": ("hour", "day", "week"),
    "p95_latency": ("hour", "day", "week"),
    "no_data": ("hour",),
    "key_unused": ("day",),
    "key_revoked_used": ("hour", "day", "week"),
    "key_refused": ("hour", "day", "week"),
    "model_retirement": ("week",),
    "credit_low": ("week",),
}
# Codes of request events the gateway writes (issue 11) for the two key kinds.
REVOKED_CODES: tuple[str, ...] = ("key_revoked", "key_expired")
REFUSED_CODES: tuple[str, ...] = (
    "ip_not_allowed", "origin_not_allowed", "model_not_allowed", "endpoint_not_allowed",
    "budget_exceeded", "rate_limited",
)  # fmt: skip
# A threshold for each kind when the rule names none.
DEFAULT_THRESHOLDS: dict[str, Decimal] = {
    "spend_spike": Decimal("3.5"), "error_rate": Decimal(5), "rate_limit_share": Decimal(5),
    "p95_latency": Decimal(10000), "no_data": Decimal(24), "key_unused": Decimal(30),
    "key_revoked_used": Decimal(1), "key_refused": Decimal(1), "model_retirement": Decimal(30),
    "credit_low": Decimal(14),
}  # fmt: skip


class AlertError(TokenboardError):
    """A rule, incident or grant refused. ``code`` says which refusal (the page words it);
    ``values`` its details; ``str()`` is the English sentence (command line, logs)."""

    def __init__(self, code: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Rule:
    """One alert rule. ``subject`` None watches every value of ``subject_kind`` (one incident
    each); ``levels`` are percentages of ``threshold``, ascending."""

    rule_id: int
    name: str
    kind: str
    subject_kind: str
    subject: str | None
    window: str
    basis: str
    threshold: Decimal
    levels: tuple[int, ...]
    min_volume: int
    cooldown_s: int
    tz: str
    enabled: bool
    channels: tuple[str, ...]

    def level_of(self, value: Decimal | float | int | None) -> int | None:
        """The highest level ``value`` reaches, None below the first (or without a value):
        level L is reached at threshold × L / 100. For ``LOWER_IS_WORSE`` kinds (days left)
        it is reached at or below threshold × 100 / L (with a threshold of 14 days, level 50
        at 28 days left, level 100 at 14)."""
        if value is None:
            return None
        v = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if self.kind in LOWER_IS_WORSE:
            reached = [lv for lv in self.levels if v * lv <= self.threshold * 100]
        else:
            reached = [lv for lv in self.levels if v * 100 >= self.threshold * lv]
        return max(reached) if reached else None


@dataclass(frozen=True)
class Measure:
    """What one rule found for one subject: ``value`` (the kind's unit) at ``level``,
    ``detail`` (JSON-ready figures) and ``link`` (page?query of the filtered cause)."""

    rule_id: int
    subject: str
    value: Decimal
    level: int
    detail: dict[str, Any] = field(default_factory=dict)
    link: str = ""


@dataclass(frozen=True)
class Incident:
    """One incident as stored (``subject`` '' for the organisation)."""

    incident_id: int
    rule_id: int
    kind: str
    subject_kind: str
    subject: str
    state: str
    level: int
    value: Decimal | None
    threshold: Decimal | None
    detail: str | None
    link: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    snoozed_until: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    notified_level: int | None
    notified_at: datetime | None


INCIDENT_COLUMNS = (
    "incident_id, rule_id, kind, subject_kind, subject, state, level, value, threshold, detail, "
    "link, opened_at, updated_at, resolved_at, resolved_by, snoozed_until, acknowledged_by, "
    "acknowledged_at, notified_level, notified_at"
)


@dataclass(frozen=True)
class AlertNotice:
    """What a notifier receives: the incident (after the change), its rule, why it is sent
    (``reason``: one of ``REASONS``) and when."""

    incident: Incident
    rule: Rule
    reason: str
    at: datetime


@dataclass(frozen=True)
class DeliveryResult:
    """One channel's outcome: sent (``ok``) after ``attempts`` tries; ``detail`` what the
    channel said (a status, an error's name), never a secret."""

    channel: str
    ok: bool
    attempts: int = 1
    detail: str = ""


# A notifier sends one notice to the rule's channels and says how each went (the stored
# channels' one is lib.worker.AlertNotifier). It may raise: the evaluation then records a
# failed delivery and carries on.
Notifier = Callable[[AlertNotice], Sequence[DeliveryResult]]
