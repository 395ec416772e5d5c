"""Alerts: rules over spend, errors, latency, data and keys; incidents that open, escalate and
resolve by themselves; notifications through a pluggable notifier; prepaid credits and rate
limits. Pure Python over the database (no streamlit).

Modules: ``model`` (codes, dataclasses, the ``Notifier`` interface), ``rules`` (the rules
editor's functions), ``measure`` (one query per kind over every subject), ``retirement``
(model retirements), ``credits`` (grants, remaining credit and runway), ``limits`` (rate
limits, peak use per minute), ``engine`` (``evaluate(store, now)``, the after-import
registration), ``incidents`` (acknowledge, snooze, resolve, the delivery log).
"""

from lib.alerts.engine import EvalSummary, evaluate, evaluate_after_imports, record_deliveries
from lib.alerts.model import (
    KINDS,
    SUBJECT_KINDS,
    AlertError,
    AlertNotice,
    DeliveryResult,
    Incident,
    Notifier,
    Rule,
)

__all__ = [
    "KINDS",
    "SUBJECT_KINDS",
    "AlertError",
    "AlertNotice",
    "DeliveryResult",
    "EvalSummary",
    "Incident",
    "Notifier",
    "Rule",
    "evaluate",
    "evaluate_after_imports",
    "record_deliveries",
]
