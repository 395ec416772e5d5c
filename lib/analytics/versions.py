"""What query results depend on besides their filters and window: the data (imports landed
or undone, playground runs counted), the price catalog (estimates are tokens × prices) and
the settings (the monthly budget). All go into every cache key, so an import, a price change
or a saved budget shows at once."""

from __future__ import annotations

from dataclasses import dataclass

from lib.ingest.ledger import data_version
from lib.pricing.catalog import catalog_version
from lib.settings import settings_version
from lib.store import Store


@dataclass(frozen=True)
class Versions:
    """``data``: changes with every import, undo or counted playground run; ``prices``:
    changes with every price added, edited or removed; ``settings``: changes with every
    setting set, changed or cleared (the monthly budget)."""

    data: str
    prices: str
    settings: str


def versions(store: Store) -> Versions:
    """The current data, price-catalog and settings versions (three small queries)."""
    with store.read() as cur:
        prices = catalog_version(cur)
        settings = settings_version(cur)
    return Versions(data_version(store), prices, settings)
