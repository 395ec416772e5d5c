"""The import engine: the only way facts (request events, usage buckets, cost lines) and the
import ledger are written.

Modules, by what they hold: ``engine`` (the entry points and the one transaction),
``requests`` (request events: event keys, duplicates, claims), ``buckets`` (usage and cost
buckets: coverage and replacement), ``undo``, ``ledger`` (the ``imports`` table: its only
writer, and its reads), ``hooks`` (callbacks after every committed import), ``failures``
(errors as messages), ``fingerprint`` (content hashes), ``result`` (``ImportResult``).
"""

from lib.ingest.engine import REPORT_PLANNERS, import_file, import_plan, import_records
from lib.ingest.failures import translate_error
from lib.ingest.fingerprint import FULL_HASH_LIMIT, content_hash
from lib.ingest.hooks import ImportCallback, on_import_committed
from lib.ingest.result import ORIGINS, ImportResult
from lib.ingest.undo import UndoResult, undo_import

__all__ = [
    "FULL_HASH_LIMIT",
    "ORIGINS",
    "REPORT_PLANNERS",
    "ImportCallback",
    "ImportResult",
    "UndoResult",
    "content_hash",
    "import_file",
    "import_plan",
    "import_records",
    "on_import_committed",
    "translate_error",
    "undo_import",
]
