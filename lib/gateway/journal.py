"""The gateway's journal: one JSON line per request, appended to ``events-<instance>.jsonl``
in the journal directory, for the app's worker to import (``lib.worker.journal``).

A line is one canonical request row (the keys of ``lib.importers.canonical.REQUEST_COLUMNS``
plus ``ttft_ms``) and is complete only with its trailing newline. Lines are written by one
background thread, in batches of whatever is waiting, each batch with a single ``write`` then
``fsync``: the event loop only puts a record on a queue, and a killed process loses at most
the records not yet written (the requests in flight, a few milliseconds' worth).

A partial last line left by a crash (no trailing newline: never imported) is cut off when the
journal is opened again, so the next line starts on a line of its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("lib.gateway")

_SAFE_INSTANCE = re.compile(r"[^A-Za-z0-9_.-]")
_STOP = object()


def journal_file(directory: Path, instance: str) -> Path:
    """``<directory>/events-<instance>.jsonl``; characters other than letters, digits, ``_``,
    ``.`` and ``-`` in the instance name become ``_``."""
    return directory / f"events-{_SAFE_INSTANCE.sub('_', instance) or 'gateway'}.jsonl"


def _cut_partial_tail(fd: int) -> None:
    """Truncate the file after its last newline (a crash's half-written line)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    pos = size
    step = 64 * 1024
    while pos > 0:
        start = max(0, pos - step)
        chunk = os.pread(fd, pos - start, start)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            end = start + nl + 1
            if end != size:
                os.ftruncate(fd, end)
            return
        pos = start
    os.ftruncate(fd, 0)


class Journal:
    """Appends records to the journal file from a writer thread. ``append`` never blocks
    (an unbounded queue); ``close`` writes what is waiting, then stops the thread."""

    def __init__(self, directory: Path, instance: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = journal_file(directory, instance)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        _cut_partial_tail(self._fd)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._written = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="gateway-journal", daemon=True)
        self._thread.start()

    def append(self, record: dict[str, Any]) -> None:
        """Queue one record (a dict of JSON-able values) to be written."""
        self._queue.put(record)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < 512:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(b is _STOP for b in batch)
            lines = [
                json.dumps(b, separators=(",", ":"), default=str) + "\n"
                for b in batch
                if b is not _STOP
            ]
            if lines:
                self._write("".join(lines).encode())
            with self._idle:
                self._written += len(lines)
                self._idle.notify_all()
            if stop:
                return

    def _write(self, data: bytes) -> None:
        start = None
        try:
            start = os.lseek(self._fd, 0, os.SEEK_END)
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fsync(self._fd)
        except OSError as err:  # a full disk: the lines are lost, the gateway goes on
            log.error("journal %s: could not write %d bytes: %s", self.path.name, len(data), err)
            if start is not None:  # no fragment left for the next line to be glued onto
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, start)

    def written(self) -> int:
        """Records written so far (for tests and the shutdown wait)."""
        with self._idle:
            return self._written

    def wait_written(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` records are written; False after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._written >= count, timeout)

    def close(self) -> None:
        """Write every queued record, then close the file."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
        with contextlib.suppress(OSError):
            os.close(self._fd)
