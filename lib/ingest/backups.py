"""Backups and restores on behalf of a user: the role is checked here (admins only), the work
is ``lib.store.backup``'s (Parquet files and a manifest; a restore only into an empty database,
all or nothing)."""

from __future__ import annotations

from datetime import datetime

from lib.auth.roles import require
from lib.store import Store
from lib.store.backup import BackupInfo, restore_into, write_backup


def backup(
    store: Store,
    folder: str,
    *,
    role: str | None,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
) -> BackupInfo:
    """Write a full backup of ``store`` into ``folder`` (new or empty); admins only. Raises
    ``PermissionDeniedError`` or ``lib.store.backup.BackupError`` (nothing written)."""
    require(role, "settings")
    return write_backup(store, folder, actor=actor, from_ip=from_ip, now=now)


def restore(
    store: Store,
    folder: str,
    *,
    role: str | None,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
    but_sign_in: bool = False,
    max_rows: int | None = None,
) -> BackupInfo:
    """Restore the backup in ``folder`` into ``store`` (empty; ``but_sign_in``: but for its
    users, sessions and audit log, replaced too), all or nothing, at most ``max_rows`` rows
    (None: any number); admins only.
    Raises ``PermissionDeniedError`` or ``lib.store.backup.BackupError`` (nothing written)."""
    require(role, "settings")
    return restore_into(
        store,
        folder,
        actor=actor,
        from_ip=from_ip,
        now=now,
        but_sign_in=but_sign_in,
        max_rows=max_rows,
    )
