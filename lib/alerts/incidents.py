"""Incidents for people: list them, acknowledge, snooze, resolve (``manage_alerts``: admins
and analysts), and the delivery log. The Alerts page and the Overview call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lib.alerts.model import INCIDENT_COLUMNS, OPEN_STATES, STATES, AlertError, Incident
from lib.auth.roles import require
from lib.store import Store

MAX_SNOOZE = timedelta(days=90)


def list_incidents(
    store: Store, states: tuple[str, ...] = OPEN_STATES, limit: int = 200
) -> list[Incident]:
    """Incidents in ``states`` (default: not resolved), newest change first, at most ``limit``."""
    wanted = [s for s in states if s in STATES]
    rows = store.query(
        f"""SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE list_contains(?, state)
            ORDER BY updated_at DESC, incident_id DESC LIMIT ?""",
        [wanted, max(0, int(limit))],
    )
    return [Incident(*r) for r in rows]


def open_count(store: Store) -> int:
    """Incidents not resolved (the Overview's badge)."""
    return int(store.scalar("SELECT count(*) FROM alert_incidents WHERE open_subject IS NOT NULL"))


def get(store: Store, incident_id: int) -> Incident | None:
    rows = store.query(
        f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE incident_id = ?", [incident_id]
    )
    return Incident(*rows[0]) if rows else None


def _change(store: Store, incident_id: int, sql: str, params: list[object]) -> Incident:
    with store.write() as cur:
        state = cur.execute(
            "SELECT state FROM alert_incidents WHERE incident_id = ?", [incident_id]
        ).scalar()
        if state is None:
            raise AlertError("not_found", f"There is no incident #{incident_id}.",
                             incident_id=incident_id)  # fmt: skip
        if state == "resolved":
            raise AlertError("resolved", f"Incident #{incident_id} is already resolved.",
                             incident_id=incident_id)  # fmt: skip
        cur.execute(sql, [*params, incident_id])
    found = get(store, incident_id)
    assert found is not None
    return found


def acknowledge(
    store: Store, role: str | None, incident_id: int, user: str, now: datetime | None = None
) -> Incident:
    """Mark an incident as seen by ``user``: no reminders until it escalates. Raises
    ``AlertError`` (``not_found``, ``resolved``) or ``PermissionDeniedError``."""
    require(role, "manage_alerts")
    at = now or datetime.now(UTC)
    return _change(store, incident_id,
                   """UPDATE alert_incidents SET state = 'acknowledged', acknowledged_by = ?,
                          acknowledged_at = ?, snoozed_until = NULL, updated_at = ?
                      WHERE incident_id = ?""", [user, at, at])  # fmt: skip


def snooze(
    store: Store,
    role: str | None,
    incident_id: int,
    until: datetime,
    user: str,
    now: datetime | None = None,
) -> Incident:
    """Silence an incident until ``until`` (at most ``MAX_SNOOZE`` ahead): no notification,
    not even on escalation, until then. Raises ``AlertError`` (``snooze`` for a time in the
    past or too far, ``not_found``, ``resolved``)."""
    require(role, "manage_alerts")
    at = now or datetime.now(UTC)
    if until.tzinfo is None or until <= at or until - at > MAX_SNOOZE:
        raise AlertError("snooze", "Snooze until a time within the next 90 days.")
    return _change(store, incident_id,
                   """UPDATE alert_incidents SET state = 'snoozed', snoozed_until = ?,
                          acknowledged_by = ?, acknowledged_at = ?, updated_at = ?
                      WHERE incident_id = ?""", [until, user, at, at])  # fmt: skip


def resolve(
    store: Store, role: str | None, incident_id: int, user: str, now: datetime | None = None
) -> Incident:
    """Close an incident by hand. If its subject is still over the threshold at the next
    evaluation, a new incident opens (and is notified)."""
    require(role, "manage_alerts")
    at = now or datetime.now(UTC)
    return _change(store, incident_id,
                   """UPDATE alert_incidents SET state = 'resolved', open_subject = NULL,
                          resolved_at = ?, resolved_by = ?, snoozed_until = NULL, updated_at = ?
                      WHERE incident_id = ?""", [at, user, at])  # fmt: skip


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: int
    incident_id: int
    channel: str
    reason: str
    level: int
    at: datetime
    ok: bool
    attempts: int
    detail: str | None


def deliveries(store: Store, incident_id: int | None = None, limit: int = 200) -> list[DeliveryRow]:
    """The delivery log (of one incident, or all), newest first."""
    rows = store.query(
        """SELECT delivery_id, incident_id, channel, reason, level, sent_at, ok, attempts, detail
           FROM alert_deliveries WHERE ? IS NULL OR incident_id = ?
           ORDER BY sent_at DESC, delivery_id DESC LIMIT ?""",
        [incident_id, incident_id, max(0, int(limit))],
    )
    return [DeliveryRow(*r) for r in rows]


def value_share(incident: Incident) -> Decimal | None:
    """The value as a share of the threshold (1 = at the threshold), None without either."""
    if incident.value is None or not incident.threshold:
        return None
    return incident.value / incident.threshold
