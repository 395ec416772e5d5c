"""The app server's background worker and what it sends with: alert rules evaluated on a
schedule and after every import, status pages polled, scheduled admin-API pulls; the alert
channels kept in the database and the notifier that sends to them. Plain Python (no
streamlit): the page frame starts it (``lib.ui.alerts_ui``), tests drive it with their own
clock and intervals.

- ``loop``: ``Worker`` (one round: ``run_once``; ``start``/``stop``), ``start_worker`` (one
  per process and database), ``worker_for``, ``stop_all``
- ``channels``: save, list (masked), load, delete a channel; ``send_test``
- ``notifier``: ``AlertNotifier`` (an incident's notice to its rule's channels, in the
  background, each delivery logged)
"""

from lib.worker.channels import ChannelError, ChannelView
from lib.worker.loop import (
    PullOutcome,
    Round,
    Worker,
    app_notifier,
    start_worker,
    stop_all,
    worker_for,
)
from lib.worker.notifier import AlertNotifier

__all__ = [
    "AlertNotifier", "ChannelError", "ChannelView", "PullOutcome", "Round", "Worker",
    "app_notifier", "start_worker", "stop_all", "worker_for",
]  # fmt: skip
