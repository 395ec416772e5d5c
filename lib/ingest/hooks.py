"""One hook after every committed import: callbacks registered with ``on_import_committed``
receive the ``ImportResult`` once the import's transaction has committed (never inside it,
and never for an import that failed). A callback that raises is logged and skipped: the
import stays committed and its caller gets its result as usual; later callbacks still run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from lib.ingest.result import ImportResult

ImportCallback = Callable[[ImportResult], None]

log = logging.getLogger("tokenboard")
_callbacks: list[ImportCallback] = []
_lock = threading.Lock()


def on_import_committed(callback: ImportCallback) -> Callable[[], None]:
    """Call ``callback(result)`` after every committed import of this process, in the thread
    that ran the import, in the order of registration. Returns a function that unregisters it
    (registering the same callback twice calls it twice)."""
    with _lock:
        _callbacks.append(callback)

    def unregister() -> None:
        with _lock:
            if callback in _callbacks:
                _callbacks.remove(callback)

    return unregister


def fire(result: ImportResult) -> None:
    """Run every registered callback on ``result`` (called by the engine after COMMIT)."""
    with _lock:
        callbacks = list(_callbacks)
    for callback in callbacks:
        try:
            callback(result)
        except Exception:  # a callback never fails or undoes the import
            log.exception(
                "a callback after import #%s (%s) failed; the import is kept",
                result.import_id,
                getattr(callback, "__qualname__", repr(callback)),
            )
