"""The providers' API keys: the inventory (OpenAI project keys, admin keys and service accounts;
Anthropic API keys) joined with usage by key id, stale keys flagged, and the actions the
admin APIs allow (delete an OpenAI project key, create an OpenAI service account and its key,
deactivate / archive / rename an Anthropic key).

Every function requires the ``manage_keys`` right (admins) and every action is written to the
security audit log (``lib.keys.audit``) with who did it; a failed action is written too. A
created service account's secret is returned once and written nowhere (not in the audit log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lib.auth.roles import require
from lib.provider_keys import api
from lib.provider_keys.api import (
    CreatedServiceAccount,
    KeysClient,
    Provider,
    ProviderKey,
    ProviderKeyError,
)
from lib.provider_keys.usage import (
    DEFAULT_DAYS,
    DEFAULT_STALE_DAYS,
    KeyUsage,
    is_stale,
    key_usage,
    refusals,
)
from lib.pull.sources import configured
from lib.store import Store
from lib.store.audit import AuditAction, audit
from lib.text import N_

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_STALE_DAYS",
    "CreatedServiceAccount",
    "InventoryRow",
    "KeyUsage",
    "ProviderKey",
    "ProviderKeyError",
    "archive_or_deactivate",
    "configured",
    "create_service_account",
    "delete_project_key",
    "inventory",
    "key_usage",
    "refusals",
    "rename_anthropic_key",
]

PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic")
ClientFactory = Callable[[Provider], KeysClient]


@dataclass(frozen=True)
class InventoryRow:
    """A provider key with its usage over the window and whether it is stale. ``last_used`` is
    the newest of the provider's ``last_used_at`` and what the store saw."""

    key: ProviderKey
    usage: KeyUsage
    last_used: datetime | None
    stale: bool

    @property
    def spend_usd(self) -> Decimal | None:
        return self.usage.spend_usd

    @property
    def requests(self) -> int | None:
        return self.usage.requests


@dataclass(frozen=True)
class Inventory:
    """Every key of the providers asked, and per provider the error that kept its list away
    (a provider without an admin key is left out, its error code ``not_configured``)."""

    rows: list[InventoryRow]
    errors: dict[str, ProviderKeyError]


def _client(provider: Provider) -> KeysClient:
    return KeysClient(provider)


def _audit(store: Store, actor: str, action: AuditAction, subject: str, detail: dict[str, Any],
           from_ip: str | None, now: datetime | None) -> None:  # fmt: skip
    """One entry of the security audit log (``lib.keys.store``), in a transaction of its own."""
    with store.write() as cur:
        audit(cur, now or datetime.now(UTC), actor, action, subject, detail, from_ip)


def inventory(
    store: Store,
    role: str | None,
    now: datetime,
    *,
    providers: tuple[Provider, ...] = PROVIDERS,
    days: int = DEFAULT_DAYS,
    stale_days: int = DEFAULT_STALE_DAYS,
    client: ClientFactory = _client,
) -> Inventory:
    """The keys of ``providers`` (asked through their admin APIs), each joined with its usage
    over the ``days`` days up to ``now`` and flagged stale when not used for ``stale_days``
    days. Raises PermissionDeniedError for a role without ``manage_keys``."""
    require(role, "manage_keys")
    keys: list[ProviderKey] = []
    errors: dict[str, ProviderKeyError] = {}
    for provider in providers:
        try:
            with client(provider) as c:
                keys += api.openai_keys(c) if provider == "openai" else api.anthropic_keys(c)
        except ProviderKeyError as err:
            errors[provider] = err
    used: dict[tuple[str, str], KeyUsage] = {}
    for provider in {k.provider for k in keys}:
        ids = [k.key_id for k in keys if k.provider == provider]
        for key_id, u in key_usage(store, now, days=days, provider=provider, keys=ids).items():
            used[(provider, key_id)] = u
    rows = []
    for k in keys:
        u = used.get((k.provider, k.key_id), KeyUsage())
        seen = [t for t in (k.last_used_at, u.last_used) if t is not None]
        last = max(seen) if seen else None
        stale = k.status == "active" and is_stale(last, k.created_at, now, stale_days)
        rows.append(InventoryRow(k, u, last, stale))
    return Inventory(rows, errors)


def _act(store: Store, role: str | None, actor: str, action: AuditAction, subject: str,
         detail: dict[str, Any], call: Callable[[], Any], from_ip: str | None,
         now: datetime | None) -> Any:  # fmt: skip
    """Run ``call`` for an admin and audit it, failed or done (``outcome``, and the error's
    ``code`` when it failed)."""
    require(role, "manage_keys")
    try:
        result = call()
    except ProviderKeyError as err:
        _audit(store, actor, action, subject, {**detail, "outcome": "failed", "code": err.code},
               from_ip, now)  # fmt: skip
        raise
    _audit(store, actor, action, subject, {**detail, "outcome": "done"}, from_ip, now)
    return result


def delete_project_key(
    store: Store, role: str | None, actor: str, project_id: str, key_id: str,
    *, client: ClientFactory = _client, from_ip: str | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """Delete the OpenAI project key ``key_id`` of ``project_id`` (irreversible)."""

    def call() -> None:
        with client("openai") as c:
            api.delete_openai_key(c, project_id, key_id)

    _act(store, role, actor, "provider_key_deleted", f"openai:{key_id}",
         {"provider": "openai", "project_id": project_id}, call, from_ip, now)  # fmt: skip


def create_service_account(
    store: Store, role: str | None, actor: str, project_id: str, name: str,
    *, client: ClientFactory = _client, from_ip: str | None = None, now: datetime | None = None,
) -> CreatedServiceAccount:  # fmt: skip
    """Create an OpenAI service account named ``name`` in ``project_id``; its key's secret is
    in the answer only (show it once; it is not written to the audit log)."""
    name = name.strip()
    require(role, "manage_keys")
    if not name:
        raise ProviderKeyError(N_("A service account needs a name."), "invalid")

    def call() -> CreatedServiceAccount:
        with client("openai") as c:
            return api.create_openai_service_account(c, project_id, name)

    made: CreatedServiceAccount = _act(
        store, role, actor, "provider_service_account_created", f"openai:{project_id}",
        {"provider": "openai", "project_id": project_id, "name": name}, call, from_ip, now,
    )  # fmt: skip
    return made


def archive_or_deactivate(
    store: Store, role: str | None, actor: str, key_id: str, status: str,
    *, client: ClientFactory = _client, from_ip: str | None = None, now: datetime | None = None,
) -> ProviderKey:  # fmt: skip
    """Set the Anthropic key ``key_id``'s status: ``inactive``, ``archived`` (final on
    Anthropic's side) or ``active`` again."""

    def call() -> ProviderKey:
        with client("anthropic") as c:
            return api.update_anthropic_key(c, key_id, status=status)

    key: ProviderKey = _act(store, role, actor, "provider_key_status", f"anthropic:{key_id}",
                            {"provider": "anthropic", "status": status}, call, from_ip, now)  # fmt: skip
    return key


def rename_anthropic_key(
    store: Store, role: str | None, actor: str, key_id: str, name: str,
    *, client: ClientFactory = _client, from_ip: str | None = None, now: datetime | None = None,
) -> ProviderKey:  # fmt: skip
    """Rename the Anthropic key ``key_id`` (1 to 500 characters)."""

    def call() -> ProviderKey:
        with client("anthropic") as c:
            return api.update_anthropic_key(c, key_id, name=name)

    key: ProviderKey = _act(store, role, actor, "provider_key_renamed", f"anthropic:{key_id}",
                            {"provider": "anthropic", "name": name.strip()}, call, from_ip, now)  # fmt: skip
    return key
