"""The DuckDB store: connection, migrations, transactions."""

from lib.store.db import Cursor, Store

__all__ = ["Cursor", "Store"]
