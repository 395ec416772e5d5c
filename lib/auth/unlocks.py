"""Unlock requests left beside a database the running app holds.

The failed sign-in counters live in the app's memory, and a local DuckDB file is held by the
app, so ``python -m lib.cli users unlock NAME`` cannot write to it while the app runs. It
then leaves a request in ``tokenboard-unlock.json`` beside the database (readable by its
owner only): ``{"username": unix seconds, ...}``. At the next sign-in attempt the app
records each request as an unlock (``lib.auth.admin.unlock``, audited with the actor
``command line``), forgets the failures on that username made before it, and removes the
file. Writing there needs the same access as writing the database itself.

Only a local database file is held by one program, so only beside one is a request left: a
``md:`` (MotherDuck) database takes the command line's writes while the app runs, and an
in-memory one belongs to its process; for those ``request_path`` is None and the command line
unlocks in the database directly.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from lib.config import is_local_file, resolve_db_path

FILE_NAME = "tokenboard-unlock.json"


def request_path(db_path: str | None = None) -> Path | None:
    """The request file beside a local database; ``None`` for ``md:`` or in-memory ones
    (the command line writes to those directly)."""
    path = resolve_db_path(db_path)
    if not is_local_file(path):
        return None
    return Path(os.path.dirname(os.path.abspath(path))) / FILE_NAME


def _read(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}


def request(db_path: str | None, username: str, now: datetime) -> Path:
    """Leave an unlock request for ``username`` at ``now``; returns the file. Raises
    ``OSError`` when it cannot be written."""
    path = request_path(db_path)
    if path is None:
        raise OSError("no local database folder to leave an unlock request in")
    found = _read(path)
    found[username.strip().lower()] = now.astimezone(UTC).timestamp()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(found, fh)
    tmp.replace(path)
    return path


def take(db_path: str | None = None) -> dict[str, datetime]:
    """The waiting requests (username → when, UTC), removed from disk; {} when none."""
    path = request_path(db_path)
    if path is None or not path.exists():
        return {}
    found = _read(path)
    with contextlib.suppress(OSError):
        path.unlink()
    return {k: datetime.fromtimestamp(v, UTC) for k, v in found.items()}
