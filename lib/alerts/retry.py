"""Deliveries that did not go through are sent again: a channel down for longer than one
send (``lib.notify`` retries for about 20 s) or a notification lost with a restart before it
went out. For each incident still open and notified, each channel of its rule (the in-app one
aside) whose deliveries since the incident was last notified all failed, or that has none
``LOST_AFTER_S`` after it, gets the same notice again (the same event id: a receiver that saw
it once can tell), ``RETRY_MAX`` times at most, waiting ``RETRY_FIRST_S`` × 2ⁿ between tries.
An acknowledged, snoozed or resolved incident is not sent again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from lib.alerts.engine import incident_of_row
from lib.alerts.model import INCIDENT_COLUMNS, AlertNotice, Rule
from lib.alerts.rules import get as get_rule
from lib.store import Store

IN_APP = "in_app"
RETRY_MAX = 4  # failed tries of one notice on one channel before giving up
RETRY_FIRST_S = 300  # the wait after the first failure; doubled after each
LOST_AFTER_S = 600  # no delivery logged this long after the notice: it was lost


def due_retries(store: Store, now: datetime) -> list[AlertNotice]:
    """The notices to send again at ``now``, each with its rule narrowed to the one channel
    to retry (the delivery log then gets a row per try)."""
    incidents = [
        incident_of_row(r)
        for r in store.query(
            f"""SELECT {INCIDENT_COLUMNS} FROM alert_incidents
                WHERE state = 'open' AND open_subject IS NOT NULL AND notified_at IS NOT NULL"""
        )
    ]
    if not incidents:
        return []
    logged = store.query(
        """SELECT d.incident_id, d.channel, count(*) FILTER (WHERE NOT d.ok),
                  bool_or(d.ok), max(d.sent_at), arg_max(d.reason, d.sent_at)
           FROM alert_deliveries d JOIN alert_incidents i USING (incident_id)
           WHERE list_contains(?, d.incident_id) AND d.sent_at >= i.notified_at
           GROUP BY ALL""",
        [[i.incident_id for i in incidents]],
    )
    tries = {(int(i), str(c)): (int(f), bool(ok), at, reason) for i, c, f, ok, at, reason in logged}
    out: list[AlertNotice] = []
    rules: dict[int, Rule | None] = {}
    for inc in incidents:
        rule = rules.setdefault(inc.rule_id, get_rule(store, inc.rule_id))
        if rule is None:
            continue
        assert inc.notified_at is not None
        for channel in rule.channels:
            if channel == IN_APP:
                continue
            failed, ok, last, reason = tries.get((inc.incident_id, channel), (0, False, None, None))
            if ok or failed >= RETRY_MAX:
                continue
            if last is None:  # never logged: lost, once it had time to go out
                due = now - inc.notified_at >= timedelta(seconds=LOST_AFTER_S)
            else:
                due = now - last >= timedelta(seconds=RETRY_FIRST_S * 2 ** max(0, failed - 1))
            if due:
                narrowed = replace(rule, channels=(channel,))
                out.append(AlertNotice(inc, narrowed, reason or "opened", inc.notified_at))
    return out
