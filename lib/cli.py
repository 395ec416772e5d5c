"""Command line: ``python -m lib.cli {import,summary,imports,undo,demo,alerts run,
backup,restore,retention,compact} …``.

Exit status 0 on success, 1 when an import or command fails (one line on stderr), 2 for
wrong arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TextIO

from lib.errors import TokenboardError, unexpected_error
from lib.importers.detect import FORMATS
from lib.money import money_str
from lib.store import Store

log = logging.getLogger("tokenboard")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """``text`` safe for a terminal: ANSI escape sequences and other control characters (and
    bidirectional overrides) from data shown as visible escapes such as ``\\x1b``."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))


def _print(*parts: object, file: TextIO | None = None, flush: bool = False) -> None:
    """``print`` with every part passed through ``clean``."""
    print(*(clean(p) for p in parts), file=file or sys.stdout, flush=flush)


def _err(msg: str) -> None:
    _print(f"error: {msg}", file=sys.stderr)


def _progress(msg: str) -> None:
    _print(f"… {msg}", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from lib.ingest import import_file

    mapping = None
    if args.map:
        mapping = {}
        for item in args.map:
            if "=" not in item:
                _err(f"--map takes FIELD=COLUMN, got {item!r}")
                return 2
            k, v = item.split("=", 1)
            mapping[k.strip()] = v.strip()
    status = 0
    with Store(args.db) as store:
        from lib.alerts import evaluate_after_imports
        from lib.notify import Outbox
        from lib.worker import AlertNotifier

        # the alert rules are evaluated after each committed import (never failing it); what
        # they raise is sent in the background, so a channel that is down never holds the next
        # file, and the command waits at most SEND_WAIT_S at its end for what is still going out
        outbox = Outbox(workers=4)
        evaluation = evaluate_after_imports(
            store, AlertNotifier(store, outbox=outbox), background=False
        )
        try:
            for path in args.paths:
                try:
                    result = import_file(
                        store,
                        path,
                        fmt=args.format,
                        mapping=mapping,
                        source=args.source,
                        progress=None if args.quiet else _progress,
                    )
                except TokenboardError as err:
                    _err(str(err))
                    status = 1
                    continue
                except Exception as err:  # never a traceback: one line, the details in the log
                    log.exception("unexpected error while importing %s", path)
                    _err(f"{unexpected_error(os.path.basename(path) or path, err)}{_log_hint()}")
                    status = 1
                    continue
                _print(result.summary_line())
        finally:
            evaluation.unregister()
            if not outbox.close(SEND_WAIT_S):
                _err(f"Some alert notifications were still being sent after {SEND_WAIT_S:.0f} s: "
                     "see the Alerts page's delivery log.")  # fmt: skip
    return status


def cmd_summary(args: argparse.Namespace) -> int:
    from lib.summary import totals

    with Store(args.db) as store:
        t = totals(store)
    if args.json:
        _print(json.dumps(t.as_json()))
        return 0

    def fmt(v: object) -> str:
        return (
            "n/a (no source states it)" if v is None else f"{v:,}" if isinstance(v, int) else str(v)
        )

    _print(f"Database: {store.display_path}")  # never a token from the query string
    _print(f"Stored fact rows:     {t.rows:,}")
    _print(f"Requests:             {fmt(t.requests)}")
    _print(f"Errors:               {fmt(t.errors)}")
    _print(f"Input tokens:         {fmt(t.input_tokens)} (cached {fmt(t.cached_input_tokens)})")
    _print(f"Output tokens:        {fmt(t.output_tokens)}")
    _print(f"Stated cost (USD):    {fmt(money_str(t.stated_cost_usd))}")
    _print(f"Estimated cost (USD): {fmt(money_str(t.estimated_cost_usd))}")
    for code, amount in t.billed_other_currencies.items():  # each apart, never converted
        label = f"Billed ({code}):"
        _print(f"{label:22}{money_str(amount)} (not converted, not in USD)")
    if t.unpriced_models:
        _print(f"Unpriced models (not in the estimate): {', '.join(t.unpriced_models)}")
    if t.streams:
        _print(
            "Counted streams (per provider: the source whose tokens are counted, and on how many days):"
        )
        for provider, stream, days in t.streams:
            label = "request logs" if stream == "*request" else stream
            _print(f"  {provider}: {label} ({days} day{'s' if days != 1 else ''})")
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    from lib.ingest.ledger import history

    with Store(args.db) as store:
        rows = list(reversed(history(store)))
    if not rows:
        _print("No imports yet. Load data with: python -m lib.cli import FILE…  (or: demo)")
        return 0

    def n(v: int | None) -> str:
        return "" if v is None else f"{v:,}"

    _print(f"{'id':>4}  {'status':7} {'started (UTC)':16}  {'origin':10} {'format':20} {'grain':7} "
          f"{'read':>10} {'new':>10} {'dup':>8} {'repl':>6}  name")  # fmt: skip
    for r in rows:
        line = (f"{r.import_id:>4}  {r.status:7} {r.started_at:%Y-%m-%d %H:%M}  {r.origin:10} "
                f"{r.format or '?':20} {r.grain or '?':7} {n(r.rows_read):>10} {n(r.rows_new):>10} "
                f"{n(r.rows_duplicate):>8} {n(r.rows_replaced):>6}  {r.file_name}")  # fmt: skip
        if r.error:
            line += f"\n      {r.error}"
        _print(line)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from lib.ingest import undo_import

    with Store(args.db) as store:
        result = undo_import(store, args.import_id)
    _print(result.summary_line())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from lib.demo import load_demo

    t0 = time.perf_counter()
    with Store(args.db) as store:
        results = load_demo(store, days=args.days, scale=args.scale, progress=_progress)
    for r in results:
        _print(r.summary_line())
    _print(f"Demo data loaded in {time.perf_counter() - t0:.1f} s.")
    return 0


SEND_WAIT_S = 30.0  # the longest an import command waits at its end for alert notifications


def cmd_alerts(args: argparse.Namespace) -> int:
    """``alerts run``: evaluate every enabled rule once now (or ``--now``), send what is due to
    the rules' channels (each bounded in time) and print one line of what changed."""
    from datetime import UTC, datetime

    from lib.alerts import evaluate
    from lib.alerts.engine import send_notices
    from lib.alerts.retry import due_retries
    from lib.worker import AlertNotifier

    now = datetime.now(UTC)
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            _err(f"--now takes a time such as 2026-05-04T12:00:00+00:00, got {args.now!r}")
            return 2
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    with Store(args.db) as store:
        notifier = AlertNotifier(store)
        summary = evaluate(store, now, notifier)
        send_notices(store, due_retries(store, now), notifier)  # what failed before, again
    _print(summary.line())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """``backup FOLDER``: every table to Parquet files and a manifest, in a new folder."""
    from lib.ingest.backups import backup

    with Store(args.db) as store:
        info = backup(store, args.folder, role="admin", actor="cli")
    _print(f"Backup written to {info.folder}: {len(info.tables)} tables, {info.rows:,} rows, "
           f"schema version {info.schema_version}, {info.bytes:,} bytes. It holds the password, "
           "key and session hashes: keep it private (the folder is readable by you only).")  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``restore FOLDER``: a backup into an empty database (a new file), all or nothing."""
    from lib.ingest.backups import restore
    from lib.store.backup import check

    with Store(args.db) as store:
        check(store, args.folder)  # a bad folder is refused before anything else
        info = restore(store, args.folder, role="admin", actor="cli")
        path = store.display_path
    _print(f"Restored {len(info.tables)} tables, {info.rows:,} rows (schema version "
           f"{info.schema_version}, backup of {info.created_at:%Y-%m-%d %H:%M} UTC) into {path}.")  # fmt: skip
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """``retention --days N [--apply]``: what goes (request rows before the UTC day N days
    ago), then, with --apply, remove it."""
    from lib.ingest import retention

    try:
        days = retention.check_days(args.days)
    except retention.RetentionError as err:
        _err(str(err))
        return 2
    with Store(args.db) as store:
        plan = retention.preview(store, days)
        result = retention.apply(store, days, role="admin", actor="cli") if args.apply else None
    if result is not None:
        plan = result.plan
    verb = "Removed" if result is not None else "Would remove"
    _print(f"{verb} {plan.rows:,} request rows dated before {plan.before_day} 00:00 UTC "
           f"({plan.tables.get('event_claims', 0):,} duplicate claims on them), from "
           f"{len(plan.imports)} import(s); the rollups and the pages' totals stay the same.")  # fmt: skip
    for cut in plan.imports:
        _print(f"  import #{cut.import_id} {cut.file_name}: {cut.rows:,} rows "
               f"({cut.first_ts:%Y-%m-%d} to {cut.last_ts:%Y-%m-%d}), {cut.rows_left:,} left")  # fmt: skip
    if result is not None and result.bytes_before is not None:
        _print(
            f"Database file: {result.bytes_before:,} bytes before, {result.bytes_after:,} after. "
            "To give freed space back to the disk, stop the app and run: python -m lib.cli "
            "compact --db PATH"
        )
    elif result is None and plan.rows:
        _print("Nothing was removed: add --apply to remove these rows.")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    """``compact``: rewrite the database file without the space deleted rows left."""
    from lib.config import resolve_db_path
    from lib.store.backup import compact

    before, after = compact(resolve_db_path(args.db), actor="cli")
    _print(f"Database file compacted: {before:,} bytes before, {after:,} after.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lib.cli", description="Tokenboard command line.")
    sub = p.add_subparsers(dest="command", required=True)
    db_help = "database path (default: $TOKENBOARD_DB, secrets, or data/tokenboard.duckdb)"

    s = sub.add_parser("import", help="import usage, cost or request exports")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--format", choices=FORMATS, help="force a format instead of detecting it")
    s.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="explicit column mapping for generic files (repeatable)",
    )
    s.add_argument("--source", help="name of the data stream for generic files")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("summary", help="totals over the whole database")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("imports", help="import history")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_imports)

    s = sub.add_parser("undo", help="remove one import's rows")
    s.add_argument("import_id", type=int)
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_undo)

    s = sub.add_parser("demo", help="load realistic demo data")
    s.add_argument("--days", type=int, default=90)
    s.add_argument("--scale", type=float, default=1.0, help="1 ≈ 50k requests over 90 days")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("alerts", help="alert rules")
    alerts = s.add_subparsers(dest="action", required=True)
    a = alerts.add_parser("run", help="evaluate every enabled alert rule once (for cron)")
    a.add_argument("--now", help="evaluate as at this ISO time (default: now; UTC if no zone)")
    a.add_argument("--db", help=db_help)
    a.set_defaults(func=cmd_alerts)

    s = sub.add_parser("backup", help="write every table to Parquet files in a new folder")
    s.add_argument("folder", metavar="FOLDER")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="restore a backup folder into an empty database")
    s.add_argument("folder", metavar="FOLDER")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("retention", help="remove request rows older than N days (rollups kept)")
    s.add_argument("--days", required=True, metavar="N", help="whole days of request rows kept")
    s.add_argument("--apply", action="store_true", help="remove them (default: preview only)")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_retention)

    s = sub.add_parser("compact", help="rewrite the database file smaller (the app stopped)")
    s.add_argument("--db", help=db_help)
    s.set_defaults(func=cmd_compact)

    from lib.auth.cli_users import add_parser as add_users_parser

    add_users_parser(sub, db_help, _print, _err)
    return p


_LOG_FILE: list[str] = []  # where unexpected errors were logged, once set up


def _log_to_file() -> None:
    """Send the ``tokenboard`` logger (tracebacks of unexpected errors) to a private file in
    the temporary folder instead of the terminal; nothing is logged if it cannot be opened."""
    logger = logging.getLogger("tokenboard")
    if logger.handlers:
        return
    logger.propagate = False  # Python's last-resort handler would print the traceback
    path = os.path.join(tempfile.gettempdir(), "tokenboard-cli.log")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        handler: logging.Handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        _LOG_FILE.append(path)
    except OSError:
        handler = logging.NullHandler()
    logger.addHandler(handler)


def _log_hint() -> str:
    return f" (details in {_LOG_FILE[0]})" if _LOG_FILE else ""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_to_file()
    try:
        return int(args.func(args))
    except TokenboardError as err:
        _err(str(err))
        return 1
    except KeyboardInterrupt:
        _err("interrupted; nothing partial was written")
        return 1
    except Exception as err:  # never a traceback: one line, the details in the log
        log.exception("unexpected error in %s", args.command)
        _err(f"{args.command} failed: an unexpected error occurred ({type(err).__name__}: "
             f"{str(err).splitlines()[0] if str(err) else ''}); nothing changed{_log_hint()}")  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
