"""The import ledger, read for people: kept for callers of ``lib.ledger``; the ledger (the
only writer of the ``imports`` table, and its reads) is ``lib.ingest.ledger``."""

from __future__ import annotations

from lib.ingest.ledger import LedgerRow, history

__all__ = ["LedgerRow", "history"]
