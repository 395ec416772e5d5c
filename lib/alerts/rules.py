"""Alert rules: create, change, enable or disable, delete and list (the rules editor calls
these). Changing rules needs the ``manage_alerts`` permission. Disabling or deleting a rule
resolves its open incidents (``resolved_by``: the user)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lib.alerts.model import (
    BASES,
    BUDGET_LEVELS,
    DEFAULT_COOLDOWN_S,
    DEFAULT_LEVELS,
    DEFAULT_THRESHOLDS,
    KIND_SUBJECTS,
    KIND_WINDOWS,
    KINDS,
    AlertError,
    Rule,
)
from lib.auth.roles import require
from lib.filters import valid_tz
from lib.settings import monthly_budget
from lib.store import Cursor, Store

RULE_COLUMNS = (
    "rule_id, name, kind, subject_kind, subject, time_window, basis, threshold, levels, "
    "min_volume, cooldown_s, tz, enabled, channels"
)
MAX_NAME = 200


def _rule(row: Sequence[Any]) -> Rule:
    (rule_id, name, kind, subject_kind, subject, window, basis, threshold, levels, min_volume,
     cooldown_s, tz, enabled, channels) = row  # fmt: skip
    return Rule(int(rule_id), name, kind, subject_kind, subject, window, basis, Decimal(threshold),
                tuple(int(x) for x in levels), int(min_volume), int(cooldown_s), tz, bool(enabled),
                tuple(channels))  # fmt: skip


def _levels(kind: str, levels: Sequence[int] | None) -> tuple[int, ...]:
    if levels is None:
        return BUDGET_LEVELS if kind == "budget" else DEFAULT_LEVELS
    try:
        out = tuple(sorted({int(x) for x in levels}))
    except (TypeError, ValueError):
        raise AlertError("levels", "Levels are whole percentages, such as 50, 80, 100.") from None
    if not out or out[0] <= 0 or out[-1] > 1000:
        raise AlertError("levels", "Levels are whole percentages between 1 and 1000.")
    return out


def _threshold(kind: str, threshold: Decimal | int | str | None) -> Decimal:
    if threshold is None:
        if kind not in DEFAULT_THRESHOLDS:
            raise AlertError("threshold", "A budget rule needs an amount in USD.", kind=kind)
        return DEFAULT_THRESHOLDS[kind]
    try:
        value = Decimal(str(threshold).strip())
    except InvalidOperation:
        raise AlertError("threshold", "The threshold is not a number.", kind=kind) from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e20"):
        raise AlertError("threshold", "The threshold is a positive number.", kind=kind)
    return value


def check(
    kind: str,
    subject_kind: str,
    window: str,
    basis: str = "actual",
) -> None:
    """Raise ``AlertError`` unless the kind, its subject, window and basis go together."""
    if kind not in KINDS:
        raise AlertError("kind", f"Unknown kind of rule: {kind}.", kind=kind)
    if subject_kind not in KIND_SUBJECTS[kind]:
        raise AlertError("subject_kind", f"A {kind} rule cannot watch a {subject_kind}.",
                         kind=kind, subject_kind=subject_kind)  # fmt: skip
    if window not in KIND_WINDOWS[kind]:
        raise AlertError("window", f"A {kind} rule takes one of: {', '.join(KIND_WINDOWS[kind])}.",
                         kind=kind, window=window)  # fmt: skip
    if kind == "spend_spike" and subject_kind == "user" and window != "day":
        raise AlertError("window", "Spend per user is kept per day: a user's spikes are daily.",
                         kind=kind, window=window)  # fmt: skip
    if basis not in BASES or (basis == "forecast" and kind != "budget"):
        raise AlertError("basis", "Only budgets can be watched on the forecast.", basis=basis)


def create(
    store: Store,
    role: str | None,
    *,
    kind: str,
    subject_kind: str = "organisation",
    subject: str | None = None,
    window: str | None = None,
    threshold: Decimal | int | str | None = None,
    levels: Sequence[int] | None = None,
    basis: str = "actual",
    min_volume: int = 0,
    cooldown_s: int = DEFAULT_COOLDOWN_S,
    tz: str = "UTC",
    channels: Sequence[str] = (),
    name: str | None = None,
    enabled: bool = True,
    user: str | None = None,
    now: datetime | None = None,
) -> Rule:
    """Add a rule; returns it. ``window`` defaults to the kind's first (``KIND_WINDOWS``), the
    threshold to ``DEFAULT_THRESHOLDS`` (a budget has none), the levels to 50/80/100 for
    budgets and 100 otherwise. ``subject`` None (or for the organisation) watches every value.
    Raises ``AlertError`` (code: kind, subject_kind, window, basis, threshold, levels, name,
    min_volume) or ``PermissionDeniedError``."""
    require(role, "manage_alerts")
    window = window or KIND_WINDOWS.get(kind, ("day",))[0]
    check(kind, subject_kind, window, basis)
    value = _threshold(kind, threshold)
    lv = _levels(kind, levels)
    if min_volume < 0 or cooldown_s < 0:
        raise AlertError("min_volume", "Volumes and cool-downs are not negative.")
    subject = None if subject_kind == "organisation" else (subject or None)
    label = (name or f"{kind} {subject_kind}{' ' + subject if subject else ''}").strip()
    if not label or len(label) > MAX_NAME:
        raise AlertError("name", f"A rule's name has 1 to {MAX_NAME} characters.")
    at = now or datetime.now(UTC)
    with store.write() as cur:
        rule_id = int(cur.execute("SELECT nextval('alert_rule_id_seq')").scalar())
        cur.execute(
            f"INSERT INTO alert_rules ({RULE_COLUMNS}, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rule_id, label, kind, subject_kind, subject, window, basis, value, list(lv),
             int(min_volume), int(cooldown_s), valid_tz(tz), enabled, list(channels), user, at,
             at],
        )  # fmt: skip
    return Rule(rule_id, label, kind, subject_kind, subject, window, basis, value, lv,
                int(min_volume), int(cooldown_s), valid_tz(tz), enabled, tuple(channels))  # fmt: skip


def get(store: Store, rule_id: int) -> Rule | None:
    rows = store.query(f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE rule_id = ?", [rule_id])
    return _rule(rows[0]) if rows else None


def list_rules(store: Store, *, enabled_only: bool = False) -> list[Rule]:
    """Every rule (or the enabled ones), by id."""
    where = "WHERE enabled" if enabled_only else ""
    rows = store.query(f"SELECT {RULE_COLUMNS} FROM alert_rules {where} ORDER BY rule_id")
    return [_rule(r) for r in rows]


def enabled_rules(cur: Cursor) -> list[Rule]:
    rows = cur.execute(
        f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE enabled ORDER BY rule_id"
    ).fetchall()
    return [_rule(r) for r in rows]


def _resolve_open(cur: Cursor, rule_id: int, user: str | None, at: datetime) -> None:
    cur.execute(
        """UPDATE alert_incidents SET state = 'resolved', open_subject = NULL, resolved_at = ?,
                  resolved_by = ?, updated_at = ?
           WHERE rule_id = ? AND open_subject IS NOT NULL""",
        [at, user or "rule_changed", at, rule_id],
    )


def update(
    store: Store,
    role: str | None,
    rule_id: int,
    *,
    user: str | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> Rule:
    """Change a rule's fields (``name``, ``subject``, ``window``, ``threshold``, ``levels``,
    ``basis``, ``min_volume``, ``cooldown_s``, ``tz``, ``channels``, ``enabled``); its kind
    and subject kind stay. Disabling it resolves its open incidents. Raises ``AlertError``
    (code ``not_found`` for an unknown rule)."""
    require(role, "manage_alerts")
    old = get(store, rule_id)
    if old is None:
        raise AlertError("not_found", f"There is no alert rule #{rule_id}.", rule_id=rule_id)
    allowed = {"name", "subject", "window", "threshold", "levels", "basis", "min_volume",
               "cooldown_s", "tz", "channels", "enabled"}  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise AlertError("field", f"Unknown fields: {', '.join(sorted(unknown))}.")
    window = changes.get("window", old.window)
    basis = changes.get("basis", old.basis)
    check(old.kind, old.subject_kind, window, basis)
    threshold = (
        _threshold(old.kind, changes["threshold"]) if "threshold" in changes else old.threshold
    )
    lv = _levels(old.kind, changes["levels"]) if "levels" in changes else old.levels
    subject = changes.get("subject", old.subject) if old.subject_kind != "organisation" else None
    name = str(changes.get("name", old.name)).strip()
    if not name or len(name) > MAX_NAME:
        raise AlertError("name", f"A rule's name has 1 to {MAX_NAME} characters.")
    min_volume = int(changes.get("min_volume", old.min_volume))
    cooldown_s = int(changes.get("cooldown_s", old.cooldown_s))
    if min_volume < 0 or cooldown_s < 0:
        raise AlertError("min_volume", "Volumes and cool-downs are not negative.")
    new = Rule(old.rule_id, name, old.kind, old.subject_kind, subject or None, window, basis,
               threshold, lv, min_volume, cooldown_s, valid_tz(changes.get("tz", old.tz)),
               bool(changes.get("enabled", old.enabled)),
               tuple(changes.get("channels", old.channels)))  # fmt: skip
    at = now or datetime.now(UTC)
    measured_differently = (new.subject, new.window, new.basis, new.threshold, new.levels) != (
        old.subject, old.window, old.basis, old.threshold, old.levels)  # fmt: skip
    with store.write() as cur:
        cur.execute(
            """UPDATE alert_rules SET name = ?, subject = ?, time_window = ?, basis = ?,
                      threshold = ?, levels = ?, min_volume = ?, cooldown_s = ?, tz = ?,
                      enabled = ?, channels = ?, updated_at = ?
               WHERE rule_id = ?""",
            [new.name, new.subject, new.window, new.basis, new.threshold, list(new.levels),
             new.min_volume, new.cooldown_s, new.tz, new.enabled, list(new.channels), at,
             rule_id],
        )  # fmt: skip
        if not new.enabled or measured_differently:
            _resolve_open(cur, rule_id, user, at)
    return new


def delete(
    store: Store, role: str | None, rule_id: int, *, user: str | None = None,
    now: datetime | None = None,
) -> bool:  # fmt: skip
    """Remove a rule (its incidents stay in the history, resolved); False when there was none."""
    require(role, "manage_alerts")
    at = now or datetime.now(UTC)
    with store.write() as cur:
        found = cur.execute(
            "SELECT count(*) FROM alert_rules WHERE rule_id = ?", [rule_id]
        ).scalar()
        if not found:
            return False
        _resolve_open(cur, rule_id, user, at)
        cur.execute("DELETE FROM alert_rules WHERE rule_id = ?", [rule_id])
    return True


def budget_rule_from_settings(
    store: Store, role: str | None, *, user: str | None = None, now: datetime | None = None
) -> Rule | None:
    """The organisation's monthly budget of the settings (``lib.settings.monthly_budget``) as a
    rule: month to date, actual spend, 50/80/100 %. Updates the first such rule when there is
    one (its amount follows the setting), else creates it; None when no budget is set."""
    amount = monthly_budget(store)
    if amount is None:
        return None
    for rule in list_rules(store):
        if (rule.kind, rule.subject_kind, rule.window, rule.basis) == (
            "budget", "organisation", "month", "actual"):  # fmt: skip
            if rule.threshold == amount:
                return rule
            return update(store, role, rule.rule_id, threshold=amount, user=user, now=now)
    return create(store, role, kind="budget", window="month", threshold=amount,
                  name="Monthly budget", user=user, now=now)  # fmt: skip
