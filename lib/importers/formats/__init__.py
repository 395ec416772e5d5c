"""The registry of source formats: every ``Importer`` the import pipeline knows.

Each format module declares ``IMPORTERS``, one ``lib.importers.base.Importer`` per kind of
input it reads (a table, JSON records, JSON documents, JSON Lines read line by line), with
its --format names, its ``looks_like`` test, its priority among importers of that kind and
its ``plan``. ``lib.importers.detect`` asks them in order. The order of this list is the
order of ``FORMATS`` (the --format choices); the priorities decide detection.
"""

from __future__ import annotations

from lib.importers.base import Importer, Reads
from lib.importers.formats import (
    anthropic_console,
    claude_code,
    cloud_billing,
    generic,
    helicone,
    langfuse,
    langfuse_observations,
    litellm,
    litellm_spend_report,
    provider_api,
)

REGISTRY: tuple[Importer, ...] = (
    *provider_api.IMPORTERS,
    *litellm.IMPORTERS,
    *helicone.IMPORTERS,
    *anthropic_console.IMPORTERS,
    *claude_code.IMPORTERS,
    *langfuse.IMPORTERS,
    *langfuse_observations.IMPORTERS,
    *cloud_billing.IMPORTERS,
    *litellm_spend_report.IMPORTERS,
    *generic.IMPORTERS,
)

# The --format choices: every name a listed importer answers to, in registry order.
FORMATS: tuple[str, ...] = tuple(
    dict.fromkeys(name for imp in REGISTRY if imp.listed for name in imp.names)
)


def ranked(reads: Reads) -> tuple[Importer, ...]:
    """The importers of one kind of input, in the order they are tried."""
    return tuple(sorted((i for i in REGISTRY if i.reads == reads), key=lambda i: i.priority))


RANKED: dict[Reads, tuple[Importer, ...]] = {
    kind: ranked(kind) for kind in ("table", "records", "docs", "lines")
}
