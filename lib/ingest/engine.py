"""The import engine, the only way facts are written: one import, one transaction, all or
nothing, whatever the facts came from.

Flow: plan (an importer detects a file's format and maps its columns, or the caller hands
over records of a format it knows, or a plan it made) → write the rows of the plan's grain in
one transaction (``requests``: drop exact duplicates; ``buckets``: replace covered buckets) →
maintain rollups → record the import in the ledger (``ledger``) → COMMIT → run the callbacks
registered with ``hooks.on_import_committed``. Any failure rolls everything back and is
recorded as a failed import with a message naming the file, line or field, what was found and
what was expected.

Entry points: ``import_file`` (a file on disk: the command line, an upload, the demo),
``import_records`` (records already in memory: a pull's API pages, a playground run, the
gateway's journal) and ``import_plan`` (a plan an importer already made).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb

from lib.auth.roles import require
from lib.errors import TokenboardError, disk_full_error, is_disk_full, unexpected_error
from lib.importers.base import Plan, arrow_plan
from lib.importers.canonical import Grain
from lib.importers.detect import plan_file
from lib.importers.formats import claude_code, langfuse, provider_api
from lib.importers.tabular import TypedReadMismatch
from lib.ingest import hooks, ledger
from lib.ingest.buckets import grains_note, write_also, write_buckets
from lib.ingest.failures import closed_by_duckdb, translate_error
from lib.ingest.fingerprint import Hasher
from lib.ingest.progress import Progress, ProgressLine, quiet
from lib.ingest.requests import write_requests
from lib.ingest.result import ImportResult
from lib.store import Cursor, Store

log = logging.getLogger("tokenboard")

# Work done inside an import's transaction once its facts are written, before the ledger
# records it: ``within(cur, import_id)`` (the playground stores its run there, so a run is
# kept exactly when it is counted). Raising rolls the whole import back.
Within = Callable[[Cursor, int], None]

# Saved reports whose records (their pages, as ``json.loads`` gives them) are planned without
# a file: format -> planner(display, docs).
REPORT_PLANNERS: dict[str, Callable[[str, list[Any]], Plan]] = {
    **provider_api.PLANNERS,
    "openai_legacy_usage": provider_api.plan_openai_legacy,
    "claude_code": claude_code.plan,
    "langfuse": langfuse.plan,
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Job:
    """One import under way: what the failure record needs if it fails."""

    store: Store
    display: str
    origin: str
    say: Progress
    started: datetime = field(default_factory=_now)
    t0: float = field(default_factory=time.perf_counter)
    plan: Plan | None = None


def _guarded(
    job: _Job, run: Callable[[], ImportResult], digest: Callable[[], str | None]
) -> ImportResult:
    """``run()`` the import; on any failure record it in the ledger and raise a message (never
    a traceback); on success run the after-commit callbacks, then return the result."""
    try:
        result = run()
    except Exception as err:  # anything else is wrapped: a message, never a traceback
        failure = err
        if not isinstance(err, TokenboardError) or is_disk_full(err):
            failure = unexpected_error(job.display, err)
            if not is_disk_full(err):
                log.exception("unexpected error while importing %s", job.display)
            elif closed_by_duckdb(err):
                failure = disk_full_error(job.display, err, reopen=True)
        ledger.record_failure(
            job.store, job.display, job.origin, digest(), job.plan, job.started, _now(),
            str(failure),
        )  # fmt: skip
        if failure is err:
            raise
        raise failure from None
    hooks.fire(result)  # after COMMIT; a failing callback is logged, never raised
    return result


def import_file(
    store: Store,
    path: str,
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    display: str | None = None,
    origin: str = "file",
    progress: Progress | None = None,
    role: str | None = "admin",
) -> ImportResult:
    """Import one file into the store, all or nothing, on behalf of a user with ``role``
    (the command line acts as a local admin). Its format is detected from its content
    (``fmt`` forces one); ``origin`` is ``file`` (the command line), ``upload`` (the Data page)
    or ``demo`` (see ``ORIGINS``).

    Raises ``PermissionDeniedError`` (the role may not import), ``InputError`` (bad content;
    nothing written) or ``StoreError``.
    """
    require(role, "import")
    ledger.check_origin(origin)
    job = _Job(store, display or os.path.basename(path), origin, progress or quiet)
    hasher = Hasher(path)
    hasher.start()

    def attempt(text_only: bool) -> ImportResult:
        with store.read() as cur:
            job.plan = plan_file(
                path,
                cur,
                display=job.display,
                fmt=fmt,
                mapping=mapping,
                source=source,
                text_only=text_only,
            )
        size = os.path.getsize(path)
        job.say(ProgressLine("recognised", display=job.display, format=job.plan.format,
                             mb=size / 1e6))  # fmt: skip
        return _write(job, job.plan, hasher.digest, None)

    def run() -> ImportResult:
        try:
            return attempt(text_only=False)
        except TypedReadMismatch:
            job.say(ProgressLine("text_reader", display=job.display))
            return attempt(text_only=True)

    return _guarded(job, run, hasher.digest)


def import_records(
    store: Store,
    records: Sequence[Any],
    *,
    fmt: str,
    display: str,
    origin: str,
    grain: Grain | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    role: str | None = "admin",
    permission: str = "import",
    within: Within | None = None,
) -> ImportResult:
    """Import records already in memory whose format the caller knows: no file, no detection.

    Without ``grain``, ``fmt`` names a saved report of ``REPORT_PLANNERS`` and ``records`` are
    its documents (an API's pages as decoded JSON: a ``Decimal`` keeps every digit, as when
    ``lib.pull`` decodes with ``parse_float=Decimal`` or a saved file of the pages is read; a
    float is read as the digits it prints as). With ``grain``, ``records`` are
    canonical rows of that grain (dicts keyed by ``lib.importers.canonical.COLUMNS[grain]``,
    already typed and checked: money as ``Decimal`` at the column's scale, times as aware
    datetimes), stored under ``source`` (default: ``fmt``), e.g. one playground run.
    ``display`` names the import in the ledger; ``origin`` is one of ``ORIGINS``. The user's
    ``role`` must allow ``permission``. Raises like ``import_file``; an unknown ``fmt`` is a
    ``ValueError``.
    """
    require(role, permission)
    ledger.check_origin(origin)
    if grain is None and fmt not in REPORT_PLANNERS:
        raise ValueError(f"no planner for records of format {fmt!r}; give their grain instead")
    job = _Job(store, display, origin, progress or quiet)

    def run() -> ImportResult:
        if grain is not None:
            job.plan = arrow_plan(fmt, source or fmt, grain, display, list(records), None)
        else:
            job.plan = REPORT_PLANNERS[fmt](display, [_as_saved(d) for d in records])
        job.say(ProgressLine("records", display=display, format=fmt, n=len(records)))
        return _write(job, job.plan, lambda: None, within)

    return _guarded(job, run, lambda: None)


def import_plan(
    store: Store,
    plan: Plan,
    *,
    origin: str,
    progress: Progress | None = None,
    role: str | None = "admin",
    permission: str = "import",
    within: Within | None = None,
) -> ImportResult:
    """Import a plan an importer already made (``plan.display`` names it in the ledger);
    otherwise as ``import_records``."""
    require(role, permission)
    ledger.check_origin(origin)
    job = _Job(store, plan.display, origin, progress or quiet, plan=plan)
    return _guarded(job, lambda: _write(job, plan, lambda: None, within), lambda: None)


def _as_saved(value: Any) -> Any:
    """``value`` as ``json.loads(json.dumps(value), parse_float=Decimal)`` gives it back (the
    way the importers read a saved file), without the text in between: floats become the
    ``Decimal`` of the digits they print as; other values are kept."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _as_saved(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_saved(v) for v in value]
    return value


def _period(cur: Cursor, plan: Plan, import_id: int) -> tuple[datetime | None, datetime | None]:
    if plan.grain == "request":
        row = cur.execute(
            "SELECT min(ts), max(ts) FROM request_events WHERE import_id = ?", [import_id]
        ).fetchone()
    else:
        row = cur.execute(
            "SELECT min(bucket_start), max(bucket_end) FROM bucket_coverage WHERE import_id = ?",
            [import_id],
        ).fetchone()
    return (None, None) if row is None else (row[0], row[1])


def _write(
    job: _Job, plan: Plan, digest: Callable[[], str | None], within: Within | None
) -> ImportResult:
    """Write one plan in one transaction and record it in the ledger."""
    display, say = plan.display, job.say
    with job.store.write() as cur:
        import_id = ledger.new_import_id(cur)
        try:
            if plan.arrow is not None:
                cur.register("plan_src", plan.arrow)
            grain_notes: list[str] = []  # first in the notes: what each grain stored
            if plan.grain == "request":
                read, new, dup, dup_notes = write_requests(cur, plan, import_id, say)
                replaced = 0
            else:
                read, new, dup, replaced = write_buckets(cur, plan, import_id)
                dup_notes = []
                if plan.also:
                    more = write_also(cur, plan, import_id)
                    grain_notes = [grains_note(plan, (read, new), more)]
                    read, new, dup, replaced = (
                        a + b for a, b in zip((read, new, dup, replaced), more, strict=True)
                    )
            if plan.rows_read is not None:
                read = plan.rows_read  # the file's lines; new/duplicate/replaced count rows kept
            say(ProgressLine("committing", display=display))
            start, end = _period(cur, plan, import_id)
        except duckdb.Error as err:
            raise translate_error(err, plan) from None
        finally:
            if plan.arrow is not None or any(p.arrow is not None for p in plan.also):
                cur.unregister("plan_src")
        if within is not None:
            within(cur, import_id)
        content_hash = digest()  # computed beside the import; waited for only now
        result = ImportResult(
            import_id, display, plan.format, plan.source, plan.grains, read, new, dup, replaced,
            start, end, time.perf_counter() - job.t0, [*grain_notes, *plan.notes, *dup_notes],
            job.origin,
        )  # fmt: skip
        ledger.record_ok(
            cur, result, content_hash=content_hash, started=job.started, finished=_now()
        )
    return result
