"""Evaluating the rules: ``evaluate(store, now)`` measures every enabled rule once (one query
per kind and subject kind, in one read snapshot), then in one write transaction opens,
escalates, updates and resolves incidents and claims the notifications due, then sends them
outside the transaction and records each delivery.

One unresolved incident per rule and subject: the ``UNIQUE (rule_id, open_subject)`` of
``alert_incidents`` holds it even against another connection or process; a write that loses
that race is applied again over the winner's incidents. A notification is claimed
(``notified_level``/``notified_at``) in the same transaction that makes it due, so two
evaluations of the same data (two imports finishing at once, an import done twice) notify
once. Notified: a new incident, a higher level (50 → 80 → 100 %), or, while the incident stays
open (not acknowledged, not snoozed), the same level again after the rule's cool-down.
An incident resolves by itself when its subject is back under every level; acknowledged and
snoozed incidents too. A kind whose query failed leaves its incidents as they were.
A delivery that failed is logged, not retried here (the sender retries with backoff; an
unacknowledged incident is sent again after the cool-down).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lib.alerts.credits import measure_credit_low
from lib.alerts.measure import (
    SPEND_KINDS,
    MeasureFn,
    measure_budget,
    measure_error_rate,
    measure_key_refused,
    measure_key_revoked_used,
    measure_key_unused,
    measure_no_data,
    measure_p95_latency,
    measure_rate_limit_share,
    measure_spend_spike,
    prepare_spend,
    spend_window,
)
from lib.alerts.model import (
    INCIDENT_COLUMNS,
    AlertNotice,
    DeliveryResult,
    Incident,
    Measure,
    Notifier,
    Rule,
)
from lib.alerts.retirement import measure_model_retirement
from lib.alerts.rules import enabled_rules
from lib.errors import StoreError
from lib.ingest.hooks import on_import_committed
from lib.ingest.result import ImportResult
from lib.store import Cursor, Store

log = logging.getLogger("tokenboard")

MEASURES: dict[str, MeasureFn] = {
    "budget": measure_budget,
    "spend_spike": measure_spend_spike,
    "error_rate": measure_error_rate,
    "rate_limit_share": measure_rate_limit_share,
    "p95_latency": measure_p95_latency,
    "no_data": measure_no_data,
    "key_unused": measure_key_unused,
    "key_revoked_used": measure_key_revoked_used,
    "key_refused": measure_key_refused,
    "model_retirement": measure_model_retirement,
    "credit_low": measure_credit_low,
}
APPLY_TRIES = 10  # a write that lost the race for an incident is applied again this often


@dataclass
class EvalSummary:
    """What one evaluation did: rules evaluated, incidents opened, escalated, resolved and
    still open, notifications due and deliveries that failed, kinds whose query failed
    (``failed_kinds``: codes) and the wall time in seconds."""

    rules: int = 0
    opened: int = 0
    escalated: int = 0
    resolved: int = 0
    open: int = 0
    notified: int = 0
    deliveries_failed: int = 0
    failed_kinds: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """One English line for the command line."""
        text = (f"{self.rules} rule{'s' if self.rules != 1 else ''} evaluated: {self.opened} opened, "
                f"{self.escalated} escalated, {self.resolved} resolved, {self.open} open; "
                f"{self.notified} notification{'s' if self.notified != 1 else ''}"
                f"{f' ({self.deliveries_failed} deliveries failed)' if self.deliveries_failed else ''}"
                f" in {self.seconds:.2f} s")  # fmt: skip
        if self.failed_kinds:
            text += f" (not evaluated: {', '.join(self.failed_kinds)})"
        return text


def incident_of_row(row: tuple) -> Incident:
    return Incident(*row)


def _measure_all(store: Store, rules: list[Rule], now: datetime) -> tuple[list[Measure], set[str]]:
    """Every rule's measures, and the kinds that could not be measured (logged). The kinds are
    measured in one read snapshot; a query that fails aborts DuckDB's transaction, so the
    kinds after a failed one are measured in a new one."""
    by_kind: dict[str, list[Rule]] = {}
    for r in rules:
        by_kind.setdefault(r.kind, []).append(r)
    found: list[Measure] = []
    failed: set[str] = {k for k in by_kind if k not in MEASURES}
    pending = [(k, g) for k, g in by_kind.items() if k in MEASURES]
    prepare = bool(SPEND_KINDS & by_kind.keys())
    while pending:
        with store.read() as cur:
            if prepare:
                prepare = False
                try:
                    prepare_spend(cur, *spend_window(cur, now))
                except Exception:  # each kind then reads the rollups itself
                    log.exception("the spend of the alert rules could not be prepared")
                    continue  # in a new transaction
            while pending:
                kind, group = pending.pop(0)
                try:
                    found.extend(MEASURES[kind](cur, group, now))
                except Exception:  # one broken kind never stops the others
                    log.exception("alert rules of kind %s could not be evaluated", kind)
                    failed.add(kind)
                    break  # the rest in a new transaction
    return found, failed


def _recently_notified(
    cur: Cursor, new: list[tuple[Measure, Rule, str]], now: datetime
) -> dict[tuple[int, str], tuple[int, datetime]]:
    """Per (rule, subject) about to open: the highest level notified by an incident of theirs
    that resolved within the rule's cool-down before ``now``, and when it was last notified."""
    rows = cur.execute(
        """SELECT i.rule_id, i.subject, max(i.notified_level), max(i.notified_at)
           FROM alert_incidents i
           JOIN (SELECT unnest(?::BIGINT[]) AS rule_id, unnest(?::VARCHAR[]) AS subject,
                        unnest(?::BIGINT[]) AS cooldown_s) n
             ON n.rule_id = i.rule_id AND n.subject = i.subject
           WHERE i.open_subject IS NULL AND i.notified_at IS NOT NULL
             AND i.notified_at > ?::TIMESTAMPTZ - to_seconds(n.cooldown_s)
           GROUP BY ALL""",
        [[r.rule_id for _, r, _ in new], [m.subject for m, _, _ in new],
         [r.cooldown_s for _, r, _ in new], now],
    ).fetchall()  # fmt: skip
    return {(int(r), str(subj)): (int(lv or 0), at) for r, subj, lv, at in rows}


def _apply(
    cur: Cursor,
    rules: list[Rule],
    measures: list[Measure],
    failed: set[str],
    now: datetime,
    summary: EvalSummary,
    notify: bool = True,
) -> list[AlertNotice]:
    """Bring the incidents in line with ``measures`` (inside the caller's transaction, in
    three set-based statements: insert, update, resolve) and return the notices now due
    (already claimed). Without ``notify`` (no notifier to send them) nothing is claimed: the
    next evaluation that has a notifier sends what is due."""
    # a rule disabled or removed since it was measured opens nothing and keeps nothing open
    still = {
        int(r[0]) for r in cur.execute("SELECT rule_id FROM alert_rules WHERE enabled").fetchall()
    }
    rules = [r for r in rules if r.rule_id in still]
    by_id = {r.rule_id: r for r in rules}
    measures = [m for m in measures if m.rule_id in by_id]
    ids = [r.rule_id for r in rules if r.kind not in failed]
    current = {
        (i.rule_id, i.subject): i
        for i in map(incident_of_row, cur.execute(
            f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents "
            "WHERE open_subject IS NOT NULL AND list_contains(?, rule_id)",
            [ids],
        ).fetchall())
    }  # fmt: skip
    new: list[tuple[Measure, Rule, str]] = []
    changed: list[tuple[Incident, Measure, Rule, str, int, str, str | None]] = []
    seen: set[tuple[int, str]] = set()
    for m in measures:
        rule = by_id[m.rule_id]
        key = (m.rule_id, m.subject)
        if key in seen:
            continue
        seen.add(key)
        detail = json.dumps(m.detail, sort_keys=True, default=str)
        inc = current.get(key)
        if inc is None:
            new.append((m, rule, detail))
            continue
        state = inc.state
        if state == "snoozed" and (inc.snoozed_until is None or inc.snoozed_until <= now):
            state = "open"
        level = max(inc.level, m.level)
        if m.level > inc.level:
            summary.escalated += 1
            if state == "acknowledged":
                state = "open"  # a higher level is news, even to whoever acknowledged
        reason = None
        if state == "open" and notify:
            if level > (inc.notified_level or 0):
                reason = "escalated" if inc.notified_level is not None else "opened"
            elif inc.notified_at is None or now - inc.notified_at >= timedelta(
                seconds=rule.cooldown_s
            ):
                reason = "reminder"
        same = (state, level, m.value, rule.threshold, detail, m.link) == (
            inc.state, inc.level, inc.value, inc.threshold, inc.detail, inc.link)  # fmt: skip
        if same and reason is None:
            continue  # nothing changed: nothing written (``updated_at`` is the last change)
        changed.append((inc, m, rule, state, level, detail, reason))
    due: list[tuple[int, str]] = []
    # an incident that opens again soon after one of the same rule and subject resolved is not
    # news: notified only above the level already sent within the rule's cool-down (a value
    # hovering around its threshold would otherwise notify at every crossing)
    recent = _recently_notified(cur, new, now) if new and notify else {}
    # per new incident: the level and time to record as notified (None: not notified yet),
    # and whether it is sent now
    marks: list[tuple[int | None, datetime | None, bool]] = []
    for m, r, _ in new:
        before = recent.get((r.rule_id, m.subject))
        if not notify:
            marks.append((None, None, False))
        elif before is not None and m.level <= before[0]:
            marks.append((before[0], before[1], False))  # sent within the cool-down already
        else:
            marks.append((m.level, now, True))
    if new:
        rows = cur.execute(
            """INSERT INTO alert_incidents (incident_id, rule_id, kind, subject_kind, subject,
                   open_subject, state, level, value, threshold, detail, link, opened_at,
                   updated_at, notified_level, notified_at)
               SELECT nextval('alert_incident_id_seq'), rule_id, kind, subject_kind, subject,
                      open_subject, 'open', level, value, threshold, detail, link, ?, ?,
                      notified_level, notified_at
               FROM (SELECT unnest(?::BIGINT[]) AS rule_id, unnest(?::VARCHAR[]) AS kind,
                            unnest(?::VARCHAR[]) AS subject_kind, unnest(?::VARCHAR[]) AS subject,
                            unnest(?::VARCHAR[]) AS open_subject, unnest(?::INTEGER[]) AS level,
                            unnest(?::DECIMAL(38, 12)[]) AS value,
                            unnest(?::DECIMAL(38, 12)[]) AS threshold,
                            unnest(?::VARCHAR[]) AS detail, unnest(?::VARCHAR[]) AS link,
                            unnest(?::INTEGER[]) AS notified_level,
                            unnest(?::TIMESTAMPTZ[]) AS notified_at)
               RETURNING incident_id, rule_id, subject""",
            [now, now,
             [r.rule_id for _, r, _ in new], [r.kind for _, r, _ in new],
             [r.subject_kind for _, r, _ in new], [m.subject for m, _, _ in new],
             [m.subject for m, _, _ in new], [m.level for m, _, _ in new],
             [m.value for m, _, _ in new], [r.threshold for _, r, _ in new],
             [d for _, _, d in new], [m.link for m, _, _ in new],
             [k[0] for k in marks], [k[1] for k in marks]],
        ).fetchall()  # fmt: skip
        summary.opened += len(rows)
        sent_now = {(r.rule_id, m.subject) for (m, r, _), k in zip(new, marks, strict=True) if k[2]}
        due += [(int(r[0]), "opened") for r in rows if (int(r[1]), r[2]) in sent_now]
    if changed:
        cur.execute(
            """UPDATE alert_incidents AS t SET state = u.state, level = u.level, value = u.value,
                      threshold = u.threshold, detail = u.detail, link = u.link, updated_at = ?,
                      snoozed_until = CASE WHEN u.state = 'snoozed' THEN t.snoozed_until END,
                      notified_level = CASE WHEN u.notify THEN u.level ELSE t.notified_level END,
                      notified_at = CASE WHEN u.notify THEN ? ELSE t.notified_at END
               FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS state,
                            unnest(?::INTEGER[]) AS level, unnest(?::DECIMAL(38, 12)[]) AS value,
                            unnest(?::DECIMAL(38, 12)[]) AS threshold,
                            unnest(?::VARCHAR[]) AS detail, unnest(?::VARCHAR[]) AS link,
                            unnest(?::BOOLEAN[]) AS notify) u
               WHERE t.incident_id = u.id""",
            [now, now, [c[0].incident_id for c in changed], [c[3] for c in changed],
             [c[4] for c in changed], [c[1].value for c in changed],
             [c[2].threshold for c in changed], [c[5] for c in changed],
             [c[1].link for c in changed], [c[6] is not None for c in changed]],
        )  # fmt: skip
        due += [(c[0].incident_id, c[6]) for c in changed if c[6] is not None]
    gone = [inc.incident_id for key, inc in current.items() if key not in seen]
    if gone:
        cur.execute(
            """UPDATE alert_incidents SET state = 'resolved', open_subject = NULL,
                      resolved_at = ?, updated_at = ?
               WHERE list_contains(?, incident_id)""",
            [now, now, gone],
        )
        summary.resolved += len(gone)
    summary.notified += len(due)
    notices = []
    if due:
        reasons = dict(due)
        for row in cur.execute(
            f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE list_contains(?, incident_id) "
            "ORDER BY incident_id",
            [list(reasons)],
        ).fetchall():
            inc = incident_of_row(row)
            notices.append(AlertNotice(inc, by_id[inc.rule_id], reasons[inc.incident_id], now))
    summary.open = int(
        cur.execute("SELECT count(*) FROM alert_incidents WHERE open_subject IS NOT NULL").scalar()
    )
    return notices


def record_deliveries(
    store: Store, notice: AlertNotice, results: list[DeliveryResult], at: datetime | None = None
) -> None:
    """Write the delivery log rows of one notice (a notifier that sends in the background
    calls this when its deliveries are done)."""
    if not results:
        return
    when = at or notice.at
    with store.write() as cur:
        for r in results:
            delivery_id = int(cur.execute("SELECT nextval('alert_delivery_id_seq')").scalar())
            cur.execute(
                "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [delivery_id, notice.incident.incident_id, r.channel[:200], notice.reason,
                 notice.incident.level, when, r.ok, int(r.attempts), (r.detail or "")[:500]],
            )  # fmt: skip


def send_notices(store: Store, notices: list[AlertNotice], notifier: Notifier | None) -> int:
    """Hand each notice to ``notifier`` and log its deliveries; returns the failed ones."""
    failed = 0
    if notifier is None:
        return 0
    for notice in notices:
        try:
            results = list(notifier(notice))
        except Exception as err:  # a channel never breaks the evaluation
            log.exception("notifying incident #%s failed", notice.incident.incident_id)
            results = [DeliveryResult("notifier", False, 1, type(err).__name__)]
        failed += sum(1 for r in results if not r.ok)
        try:
            record_deliveries(store, notice, results)
        except StoreError:
            log.exception("the delivery log of incident #%s was not written",
                          notice.incident.incident_id)  # fmt: skip
    return failed


def evaluate(store: Store, now: datetime, notifier: Notifier | None = None) -> EvalSummary:
    """Evaluate every enabled rule once at ``now`` (an aware datetime: the clock is the
    caller's) and notify through ``notifier`` (None: in the app only). Never raises for a
    rule that cannot be measured (its kind is listed in ``failed_kinds``); raises
    ``StoreError`` when the database cannot be written."""
    t0 = time.perf_counter()
    summary = EvalSummary()
    now = now.astimezone(UTC)
    with store.read() as cur:
        rules = enabled_rules(cur)
        if not rules:  # nothing to measure and nothing to write (the usual case of an import)
            summary.open = int(cur.execute(
                "SELECT count(*) FROM alert_incidents WHERE open_subject IS NOT NULL").scalar())  # fmt: skip
            summary.seconds = time.perf_counter() - t0
            return summary
    measures, failed = _measure_all(store, rules, now)
    summary.rules = len(rules)
    summary.failed_kinds = sorted(failed)
    notices: list[AlertNotice] = []
    for attempt in range(APPLY_TRIES):
        tried = EvalSummary(rules=summary.rules, failed_kinds=summary.failed_kinds)
        try:
            with store.write() as cur:
                notices = _apply(cur, rules, measures, failed, now, tried, notifier is not None)
        except StoreError as err:  # another connection opened the same incident first
            if attempt + 1 == APPLY_TRIES or not _is_race(err):
                raise
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # let the winner finish
            continue
        summary = tried
        break
    summary.deliveries_failed = send_notices(store, notices, notifier)
    summary.seconds = time.perf_counter() - t0
    return summary


def _is_race(err: StoreError) -> bool:
    text = str(err).lower()
    return "constraint" in text or "conflict" in text


class _Background:
    """Runs ``run`` in one daemon thread; calls made while it runs fold into one more run."""

    def __init__(self, run: Callable[[], None]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def trigger(self) -> None:
        with self._lock:
            self._pending = True
            self._idle.clear()
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="tokenboard-alerts",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    self._idle.set()
                    return
                self._pending = False
            try:
                self._run()
            except Exception:
                log.exception("alert evaluation after an import failed")

    def wait(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)


@dataclass
class Registration:
    """What ``evaluate_after_imports`` set up: ``unregister()`` stops it; ``wait(timeout)``
    waits until no evaluation is under way or pending (True when idle)."""

    unregister: Callable[[], None]
    wait: Callable[[float | None], bool]


def evaluate_after_imports(
    store: Store,
    notifier: Notifier | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    background: bool = True,
) -> Registration:
    """Evaluate the rules after every committed import of this process (the app and the
    command line call this once; importing the module registers nothing). With
    ``background`` the evaluation runs in a thread of its own, so an import never waits for
    it (imports finishing during a run fold into one more run); else in the importing thread,
    after its commit. A failing evaluation is logged, never raised into the import."""

    def run() -> None:
        evaluate(store, clock(), notifier)

    if background:
        worker = _Background(run)

        def on_import(_result: ImportResult) -> None:
            worker.trigger()

        return Registration(on_import_committed(on_import), worker.wait)

    def on_import_now(_result: ImportResult) -> None:
        try:
            run()
        except Exception:
            log.exception("alert evaluation after an import failed")

    def idle(_timeout: float | None = None) -> bool:
        return True

    return Registration(on_import_committed(on_import_now), idle)
