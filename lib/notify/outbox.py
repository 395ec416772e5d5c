"""Sending without waiting: a bounded queue and a few worker threads, so an import (or an
alert evaluation) that raises a notification never waits for a channel, even one that is
down.

``Outbox.submit`` returns at once with ``queued``, ``duplicate`` (the same event for the same
channel is already waiting or being sent: two imports finishing at once notify once),
``full`` (the queue holds ``max_queue`` items: dropped, the caller logs it) or ``closed``.
Each item is sent with ``deliver`` (so bounded by its ``total`` seconds) and its ``Delivery``
handed to ``on_done`` in the worker thread (the alerts engine writes its delivery log there);
an exception in ``on_done`` is logged (its type only) and the worker goes on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Literal

from lib.notify.model import Channel, Delivery, Notification
from lib.notify.send import deliver

log = logging.getLogger(__name__)

Submitted = Literal["queued", "duplicate", "full", "closed"]
OnDone = Callable[[Channel, Notification, Delivery], None]

MAX_WORKERS = 4
_Item = tuple[Channel, Notification, tuple[Channel, str], OnDone | None]


class Outbox:
    """A bounded queue of (channel, notification) drained by ``workers`` daemon threads
    (1 to 4). ``deliver_options`` (``timeout``, ``retries``, ``total``…) go to ``deliver``."""

    def __init__(
        self,
        *,
        on_done: OnDone | None = None,
        max_queue: int = 100,
        workers: int = 1,
        **deliver_options: Any,
    ) -> None:
        self._on_done = on_done
        self._options = deliver_options
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=max(1, max_queue))
        self._pending: set[tuple[Channel, str]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"tokenboard-notify-{i}", daemon=True)
            for i in range(min(MAX_WORKERS, max(1, workers)))
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _key(channel: Channel, notification: Notification) -> tuple[Channel, str]:
        # channels are frozen dataclasses: equal settings, equal key
        return (channel, notification.event_id)

    def submit(
        self, channel: Channel, notification: Notification, on_done: OnDone | None = None
    ) -> Submitted:
        """Queue one delivery; never blocks, never raises. ``on_done``, if given, is called
        for this item instead of the outbox's own callback."""
        key = self._key(channel, notification)
        with self._lock:
            if self._closed:
                return "closed"
            if key in self._pending:
                return "duplicate"
            try:
                self._queue.put_nowait((channel, notification, key, on_done or self._on_done))
            except queue.Full:
                log.warning("notification outbox full: %s on %s dropped",
                            notification.event_id, channel.kind)  # fmt: skip
                return "full"
            self._pending.add(key)
        return "queued"

    def pending(self) -> int:
        """Deliveries queued or being sent."""
        with self._lock:
            return len(self._pending)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every queued delivery is done (at most ``timeout`` seconds); True when
        the outbox is empty."""
        done = threading.Event()

        def watch() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=watch, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new items, let the workers finish what is queued, stop them (waiting at
        most ``timeout`` seconds); True when every worker stopped."""
        with self._lock:
            if self._closed:
                return all(not t.is_alive() for t in self._threads)
            self._closed = True
        for _ in self._threads:
            while True:  # a full queue is emptied of what was not sent: close never blocks
                try:
                    self._queue.put(None, timeout=0.05)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        self._queue.get_nowait()
        for t in self._threads:
            t.join(timeout)
        return all(not t.is_alive() for t in self._threads)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                channel, notification, key, callback = item
                try:
                    result = deliver(channel, notification, **self._options)
                    if callback is not None:
                        callback(channel, notification, result)
                except Exception as exc:  # a failing callback never stops the worker
                    log.error("notification callback failed: %s", type(exc).__name__)
                finally:
                    with self._lock:
                        self._pending.discard(key)
            finally:
                self._queue.task_done()


_default: Outbox | None = None
_default_lock = threading.Lock()


def default_outbox() -> Outbox:
    """The process's shared outbox (one worker, 100 items), started on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Outbox()
        return _default


def deliver_in_background(
    channel: Channel,
    notification: Notification,
    on_done: OnDone | None = None,
    *,
    outbox: Outbox | None = None,
) -> Submitted:
    """Queue ``notification`` for ``channel`` on ``outbox`` (default: the shared one) and
    return at once. ``on_done`` (if given) receives the ``Delivery`` in the worker thread,
    instead of the outbox's own callback."""
    return (outbox or default_outbox()).submit(channel, notification, on_done)
