"""The app server's background worker: one thread per process and database that, every
``interval_s`` seconds, evaluates the alert rules, polls the providers' status pages and,
when admin keys are set, runs the scheduled admin-API pulls. It also registers the alerts'
evaluation after every committed import (``lib.alerts.evaluate_after_imports``), once.

A round never raises: each part's failure is logged and kept in the round's report (codes,
for the pages), and the next round comes as planned. Rounds never overlap: ``run_once``
holds a lock, and a call made while a round is under way returns None at once. The clock and
the intervals are parameters (tests pass their own); ``stop()`` ends the thread.

What the status pages said last is kept in memory (``Worker.notices``): the Overview shows it
without fetching anything in its own run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from lib.alerts import EvalSummary, Notifier, evaluate, evaluate_after_imports
from lib.alerts.engine import Registration, send_notices
from lib.alerts.retry import due_retries
from lib.config import setting
from lib.ingest.retention import apply_due
from lib.notices import PollResult, poll
from lib.notify import Outbox
from lib.store import Store
from lib.worker.journal import JournalFollower, import_journal
from lib.worker.notifier import AlertNotifier
from lib.worker.weekly import send_due

log = logging.getLogger("tokenboard")

ENABLED_SETTING = "TOKENBOARD_WORKER"  # "0", "false", "no" or "off": no worker
MINUTES_SETTING = "TOKENBOARD_WORKER_MINUTES"  # minutes between rounds (default 5)
PULL_MINUTES_SETTING = "TOKENBOARD_PULL_MINUTES"  # minutes between admin-API pulls (60)
DEFAULT_MINUTES = 5
DEFAULT_PULL_MINUTES = 60
JOURNAL_SECONDS_SETTING = (
    "TOKENBOARD_JOURNAL_SECONDS"  # seconds between journal imports (5; 0: rounds only)
)
DEFAULT_JOURNAL_SECONDS = 5
PULL_FIRST_DAYS = 7  # a provider never pulled is pulled for the last 7 days
PULL_MAX_DAYS = 31  # never more than this many days in one scheduled pull
SYSTEM_ROLE = "admin"  # the role the scheduled pulls import with (set up by an admin's keys)


@dataclass
class PullOutcome:
    """One scheduled pull: the provider, the UTC days asked, and ``error`` (None when it
    went through; else the error's class name, never its text: it may quote a server)."""

    provider: str
    start: date
    end: date
    rows_new: int = 0
    error: str | None = None


@dataclass
class Round:
    """What one round did, at ``at`` (UTC): the evaluation (None when it failed: ``errors``
    says which parts failed, by name: ``journal``, ``evaluate``, ``retry``, ``summary``,
    ``retention``, ``status``, ``pull``), the status pages'
    answer (None when not polled this round) and the pulls made."""

    at: datetime
    evaluation: EvalSummary | None = None
    status: PollResult | None = None
    pulls: list[PullOutcome] = field(default_factory=list)
    summaries: int = 0  # weekly summaries sent this round
    retried: int = 0  # alert deliveries sent again (they had failed or were lost)
    errors: list[str] = field(default_factory=list)


def _minutes(name: str, default: int) -> int:
    raw = setting(name)
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if 1 <= value <= 24 * 60 else default


def _seconds(name: str, default: int) -> int:
    """A whole number of seconds ≥ 0 from setting ``name`` (``default`` when unset or bad)."""
    raw = setting(name)
    try:
        value = int(str(raw)) if raw is not None else default
    except ValueError:
        return default
    return value if value >= 0 else default


def enabled() -> bool:
    """The worker runs unless ``TOKENBOARD_WORKER`` says 0/false/no/off."""
    return (setting(ENABLED_SETTING) or "1").strip().lower() not in ("0", "false", "no", "off")


def _pull_due(store: Store, today: date) -> list[tuple[str, date, date]]:
    """The providers with an admin key and the days to pull for each: from the day before
    the newest day already pulled (its buckets are replaced) to today, at most
    ``PULL_MAX_DAYS``; the last ``PULL_FIRST_DAYS`` when never pulled."""
    from lib.pull.sources import configured, last_pulls

    keys = [p for p, ok in configured().items() if ok]
    if not keys:
        return []
    done = last_pulls(store)
    newest: dict[str, date] = {}
    for provider, data_to in zip(done["provider"], done["data_to"], strict=True):
        if data_to is not None and data_to == data_to:  # NaT is not equal to itself
            newest[str(provider)] = data_to.date() if isinstance(data_to, datetime) else data_to
    out = []
    for provider in keys:
        to = newest.get(provider)
        start = to - timedelta(days=1) if to else today - timedelta(days=PULL_FIRST_DAYS - 1)
        start = max(start, today - timedelta(days=PULL_MAX_DAYS - 1))
        out.append((provider, min(start, today), today))
    return out


def scheduled_pulls(store: Store, today: date) -> list[PullOutcome]:
    """Pull every provider that has an admin key (``lib.pull``); one failing pull never stops
    the others."""
    from lib.pull import sources

    outcomes = []
    for provider, start, end in _pull_due(store, today):
        out = PullOutcome(provider, start, end)
        try:
            result = sources.pull(store, provider, start, end, role=SYSTEM_ROLE, today=today)
            out.rows_new = sum(r.rows_new for r in result.imports)
        except Exception as err:  # logged with its class only: the text may quote a server
            out.error = type(err).__name__
            log.warning("scheduled %s pull failed: %s", provider, out.error)
        outcomes.append(out)
    return outcomes


class Worker:
    """The background worker of one database. ``interval_s``: seconds between rounds;
    ``pull_every_s``: between scheduled pulls (None: never). ``status_urls``: the status
    pages (None: ``lib.notices.status_page_urls()``; empty: none polled). ``clock``: the UTC
    now. ``notifier``: the alerts' notifier (default: the stored channels, sent in the
    background). ``poll_status`` and ``pull`` replace the status poll and the pulls (tests).
    ``after_imports``: also evaluate after every committed import of this process."""

    def __init__(
        self,
        store: Store,
        *,
        interval_s: float = DEFAULT_MINUTES * 60,
        pull_every_s: float | None = DEFAULT_PULL_MINUTES * 60,
        status_urls: tuple[str, ...] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        notifier: Notifier | None = None,
        poll_status: Callable[[], PollResult] | None = None,
        pull: Callable[[Store, date], list[PullOutcome]] | None = scheduled_pulls,
        after_imports: bool = True,
        journal_every_s: float | None = None,
    ) -> None:
        self.store = store
        # the gateway's journal, imported every few seconds so its requests show at once
        self._follower = JournalFollower(store, journal_every_s) if journal_every_s else None
        self.interval_s = interval_s
        self.pull_every_s = pull_every_s
        self.clock = clock
        self._outbox: Outbox | None = None
        if notifier is None:
            self._outbox = Outbox(workers=2)
            notifier = AlertNotifier(store, outbox=self._outbox)
        self.notifier = notifier
        self._poll = poll_status or (lambda: poll(status_urls))
        self._pull = pull
        self._after_imports = after_imports
        self._round_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._registration: Registration | None = None
        self._last_pull: datetime | None = None
        self.rounds = 0
        self.last: Round | None = None
        self.notices: PollResult | None = None  # the status pages' last answer

    # -- one round --------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> Round | None:
        """One round now (or at ``now``): evaluate, poll, pull when due. None when a round is
        already under way (rounds never overlap). Never raises."""
        if not self._round_lock.acquire(blocking=False):
            return None
        try:
            at = (now or self.clock()).astimezone(UTC)
            report = Round(at)
            try:  # the gateway's journal first: this round's alerts see its refusals
                if import_journal(self.store, republish=True).failed:
                    report.errors.append("journal")
            except Exception:
                log.exception("the gateway journal could not be imported")
                report.errors.append("journal")
            try:
                report.evaluation = evaluate(self.store, at, self.notifier)
            except Exception:
                log.exception("the alert rules could not be evaluated")
                report.errors.append("evaluate")
            try:  # deliveries that failed (or were lost) are sent again, with backoff
                report.retried = len(again := due_retries(self.store, at))
                send_notices(self.store, again, self.notifier)
            except Exception:
                log.exception("failed alert deliveries could not be retried")
                report.errors.append("retry")
            try:
                sent = send_due(self.store, at)
                report.summaries = sum(1 for _user, d in sent if d is not None and d.ok)
            except Exception:
                log.exception("the weekly summaries could not be sent")
                report.errors.append("summary")
            try:  # retention (Settings, Data), once a UTC day when an admin set it
                apply_due(self.store, at)
            except Exception:
                log.exception("retention could not be applied")
                report.errors.append("retention")
            try:
                report.status = self._poll()
                self.notices = report.status
            except Exception:
                log.exception("the status pages could not be polled")
                report.errors.append("status")
            if (
                self._pull is not None
                and self.pull_every_s is not None
                and (
                    self._last_pull is None
                    or (at - self._last_pull).total_seconds() >= self.pull_every_s
                )
            ):
                self._last_pull = at
                try:
                    report.pulls = self._pull(self.store, at.date())
                except Exception:
                    log.exception("the scheduled pulls could not run")
                    report.errors.append("pull")
                if any(p.error for p in report.pulls) and "pull" not in report.errors:
                    report.errors.append("pull")
            with self._state_lock:
                self.rounds += 1
                self.last = report
            return report
        except Exception:  # nothing above should get here; a worker never dies of it
            log.exception("a worker round failed")
            return None
        finally:
            self._round_lock.release()

    # -- the thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)

    def start(self) -> bool:
        """Start the thread (a first round at once) and the after-import evaluation; False
        when it was already running."""
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            if self._after_imports and self._registration is None:
                self._registration = evaluate_after_imports(
                    self.store, self.notifier, clock=self.clock
                )
            self._thread = threading.Thread(target=self._loop, name="tokenboard-worker",
                                            daemon=True)  # fmt: skip
            self._thread.start()
            if self._follower is not None:
                self._follower.start()
            return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread and the after-import evaluation (waiting at most ``timeout``
        seconds for a round under way) and close the outbox; True when stopped."""
        self._stop.set()
        with self._state_lock:
            registration, self._registration = self._registration, None
            thread = self._thread
        if registration is not None:
            registration.unregister()
            registration.wait(timeout)  # an evaluation after an import may be under way
        if thread is not None:
            thread.join(timeout)
        if self._follower is not None:
            self._follower.stop(timeout)
        if self._outbox is not None:
            self._outbox.close(timeout)
        return thread is None or not thread.is_alive()


# -- one worker per process and database ------------------------------------------------------
_workers: dict[str, Worker] = {}
_lock = threading.Lock()


def start_worker(store: Store, **options: object) -> Worker | None:
    """The running worker of ``store``'s database, started on the first call (``options`` go
    to ``Worker``; the interval defaults to ``TOKENBOARD_WORKER_MINUTES``, the pulls to
    ``TOKENBOARD_PULL_MINUTES``). None when ``TOKENBOARD_WORKER`` turns it off."""
    if not enabled():
        return None
    with _lock:
        found = _workers.get(store.key)
        if found is not None and found.running:
            return found
        options.setdefault("interval_s", _minutes(MINUTES_SETTING, DEFAULT_MINUTES) * 60)
        options.setdefault(
            "pull_every_s", _minutes(PULL_MINUTES_SETTING, DEFAULT_PULL_MINUTES) * 60
        )
        options.setdefault(
            "journal_every_s", _seconds(JOURNAL_SECONDS_SETTING, DEFAULT_JOURNAL_SECONDS)
        )
        # a new one, also in place of a stopped one (its outbox is closed)
        worker = Worker(store, **options)  # type: ignore[arg-type]
        worker.start()
        _workers[store.key] = worker
        return worker


_alone: dict[str, tuple[AlertNotifier, Outbox, Registration]] = {}


def app_notifier(store: Store) -> Notifier:
    """The notifier the app sends alerts with: the running worker's; with the worker off, one
    of the process's own (a background outbox: sending never holds a page or an import) that
    also evaluates the rules after every committed import, made once per process and
    database."""
    with _lock:
        running = _workers.get(store.key)
        if running is not None and running.running:
            return running.notifier
        found = _alone.get(store.key)
        if found is None:
            outbox = Outbox(workers=2)
            notifier = AlertNotifier(store, outbox=outbox)
            found = (notifier, outbox, evaluate_after_imports(store, notifier))
            _alone[store.key] = found
        return found[0]


def worker_for(path: str) -> Worker | None:
    """The worker started for the database at ``path`` (``Store.key``: the location; an
    in-memory store's key names the object too), if any."""
    with _lock:
        return _workers.get(path)


def stop_all(timeout: float = 10.0) -> None:
    """Stop every worker of this process, and the notifiers ``app_notifier`` made (tests)."""
    with _lock:
        found = list(_workers.values())
        _workers.clear()
        alone = list(_alone.values())
        _alone.clear()
    for _notifier, outbox, registration in alone:
        registration.unregister()
        registration.wait(timeout)
        outbox.close(timeout)
    for w in found:
        w.stop(timeout)
