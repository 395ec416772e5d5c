"""What query results depend on besides their filters and window: the data (imports landed
or undone, playground runs counted) and the price catalog (estimates are tokens × prices).
Both go into every cache key, so an import or a price change shows at once."""

from __future__ import annotations

from dataclasses import dataclass

from lib.ingest.ledger import data_version
from lib.pricing.catalog import catalog_version
from lib.store import Store


@dataclass(frozen=True)
class Versions:
    """``data``: changes with every import, undo or counted playground run; ``prices``:
    changes with every price added, edited or removed."""

    data: str
    prices: str


def versions(store: Store) -> Versions:
    """The current data and price-catalog versions (two small queries)."""
    with store.read() as cur:
        prices = catalog_version(cur)
    return Versions(data_version(store), prices)
