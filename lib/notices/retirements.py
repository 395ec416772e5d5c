"""Model retirements: the providers' announced retirement dates and replacements, bundled.

``data/model_retirements.csv`` holds one row per model name the providers retire, copied from
their deprecation pages (each row names its page). Columns:

- ``provider``: openai, anthropic, google, … (lower case);
- ``model``: the API model name as the provider writes it (``gpt-4o-2024-05-13``,
  ``claude-3-opus-20240229``), lower case. A name without a date suffix (``gpt-4-32k``, ``o1``)
  stands for its whole family: every dated snapshot of it retires with it, unless the table has
  a row of that snapshot itself;
- ``announced_on``: when the provider announced the deprecation (may be empty);
- ``retires_on``: the provider's retirement (shutdown) date: from that day on, requests to the
  model may fail;
- ``shutdown_on``: a later date on which the provider says the model is switched off for good,
  when it names one apart from the retirement date (usually empty);
- ``replacement``: the model the provider recommends instead (may be empty);
- ``source_url``: the provider's page that states the dates.

Lines starting with ``#`` are comments. ``load_table`` checks every row and refuses the file
with an ``InputError`` naming the line; ``retirements_for(models, today)`` finds the models
among ``models`` (names as stored in request events and usage: snapshots such as
``gpt-4o-2024-05-13`` or ``openai/gpt-4o-2024-05-13``, or families such as ``gpt-4``) that
retire within N days or already retired. The dates are the providers' own APIs'; names of
Amazon Bedrock, Vertex AI and Azure deployments are not matched (those platforms retire on
their own schedules).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn

from lib.config import PROJECT_ROOT
from lib.errors import InputError

TABLE_PATH = PROJECT_ROOT / "data" / "model_retirements.csv"
COLUMNS = (
    "provider",
    "model",
    "announced_on",
    "retires_on",
    "shutdown_on",
    "replacement",
    "source_url",
)
DEFAULT_WITHIN_DAYS = 90

_NAME = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates no provider page can hold: before the first LLM APIs, or far in the future.
_EARLIEST, _LATEST = date(2020, 1, 1), date(2100, 1, 1)

# How a stored model name is brought to the provider's API name. Gateway paths
# (``openai/``, ``anthropic/``, ``openrouter/openai/``) are dropped, as the ``model_family``
# macro of migration 10 drops them (lib/store/migrations.py). Names of partner platforms are
# not the provider's: Amazon Bedrock ids (``anthropic.…``, ``us.anthropic.…-v1:0``), Vertex
# AI's ``@date`` form, and paths through Azure, Bedrock or Vertex. Those platforms set their
# own retirement dates (Anthropic's deprecation page says so), so the table does not apply.
_PATH = re.compile(r"^([a-z0-9_.:-]+/)+")
_PARTNER_PATHS = frozenset(
    {"azure", "azure_ai", "bedrock", "bedrock_converse", "sagemaker", "vertex", "vertex_ai"}
)
_VENDOR = re.compile(
    r"^((us|eu|apac|global)[.])?(anthropic|amazon|meta|cohere|mistral|ai21|deepseek|openai)[.]"
)
_VERSION = re.compile(r"-v[0-9]+:[0-9]+$")
# The date suffixes the family drops (same patterns as the macro).
_DATE_SUFFIXES = (
    re.compile(r"-[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    re.compile(r"-20[0-9]{6}$"),
    re.compile(r"-(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"),
)


@dataclass(frozen=True)
class Retirement:
    """One row of the table (``line``: its line in the file, for messages)."""

    provider: str
    model: str
    announced_on: date | None
    retires_on: date
    shutdown_on: date | None
    replacement: str | None
    source_url: str
    line: int

    @property
    def family_wide(self) -> bool:
        """True when the row names a model without a date suffix: it stands for every dated
        snapshot of that name too."""
        return model_family(self.model) == self.model


State = Literal["retiring", "retired", "shut_down"]


@dataclass(frozen=True)
class ModelRetirement:
    """A model of ``retirements_for``'s list and the table row that retires it.

    ``days_left`` is ``retires_on - today`` in days (0: retires today; negative: retired that
    many days ago). ``state``: retiring (before ``retires_on``), retired (from ``retires_on``,
    before a later ``shutdown_on``), shut_down (from ``shutdown_on``, or from ``retires_on``
    when the row has no separate shutdown date).
    """

    model: str  # the name as given
    retirement: Retirement
    days_left: int
    state: State


def api_name(model: str) -> str | None:
    """A stored model name as the provider's own API names it, in lower case:
    ``openai/gpt-4o-2024-05-13`` → ``gpt-4o-2024-05-13``; None for a partner platform's name
    (``anthropic.claude-3-5-sonnet-20240620-v1:0``, ``claude-3-5-sonnet@20240620``,
    ``azure/gpt-4o-2024-05-13``, ``vertex_ai/gemini-2.0-flash-001``) and for an empty one."""
    name = model.strip().lower()
    path = _PATH.match(name)
    if path and path.group(0).split("/", 1)[0] in _PARTNER_PATHS:
        return None
    name = name[path.end() :] if path else name
    if not name or "@" in name or _VENDOR.match(name) or _VERSION.search(name):
        return None
    return name


def model_family(name: str) -> str:
    """The family of an API model name as migration 10's ``model_family`` macro computes it
    (``gpt-4o-2024-05-13`` → ``gpt-4o``, ``gpt-4-0613`` → ``gpt-4``, ``claude-3-opus-20240229``
    → ``claude-3-opus``); ``-latest`` and ``-preview`` stay."""
    family = name
    for suffix in _DATE_SUFFIXES:
        family = suffix.sub("", family)
    return family or name


def _refuse(file: str, line: int, field: str, problem: str, found: str, expected: str) -> NoReturn:
    raise InputError(file, problem, line=line, field=field, found=found, expected=expected)


def _date(file: str, line: int, field: str, value: str, required: bool) -> date | None:
    if not value:
        if required:
            _refuse(file, line, field, "a date is required", value, "a date as YYYY-MM-DD")
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        _refuse(file, line, field, "not a date", value, "a date as YYYY-MM-DD")
    if not _EARLIEST <= day < _LATEST:
        _refuse(file, line, field, "a date out of range", value, "a date from 2020 to 2099")
    return day


def parse_table(text: str, file: str = "model_retirements.csv") -> tuple[Retirement, ...]:
    """The rows of a retirement table in CSV ``text`` (``file`` names it in messages), checked:
    the header is ``COLUMNS``; provider and model are lower-case names; ``retires_on`` is a
    date, ``announced_on`` (if any) is not after it and ``shutdown_on`` (if any) after it;
    a replacement is not the model itself; ``source_url`` is an https URL; no (provider,
    model) appears twice. Raises ``InputError`` naming the line (1-based, physical) and field."""
    lines = text.splitlines()
    rows: list[Retirement] = []
    seen: dict[tuple[str, str], int] = {}
    header_seen = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader(io.StringIO(raw)))]
        if not header_seen:
            if tuple(cells) != COLUMNS:
                _refuse(file, number, "header", "unexpected columns", raw, ",".join(COLUMNS))
            header_seen = True
            continue
        if len(cells) != len(COLUMNS):
            _refuse(file, number, "row", f"{len(cells)} fields", raw, f"{len(COLUMNS)} fields")
        provider, model, announced, retires, shutdown, replacement, source = cells
        if not _PROVIDER.match(provider):
            _refuse(file, number, "provider", "not a provider name", provider,
                    "a lower-case name such as openai")  # fmt: skip
        if not _NAME.match(model) or api_name(model) != model:
            _refuse(file, number, "model", "not a model name as the API writes it", model,
                    "the API model name in lower case, without a provider path or version")  # fmt: skip
        announced_on = _date(file, number, "announced_on", announced, required=False)
        retires_on = _date(file, number, "retires_on", retires, required=True) or date.max
        shutdown_on = _date(file, number, "shutdown_on", shutdown, required=False)
        if announced_on and announced_on > retires_on:
            _refuse(file, number, "announced_on", "announced after the retirement", announced,
                    f"a date on or before {retires_on}")  # fmt: skip
        if shutdown_on and shutdown_on <= retires_on:
            _refuse(file, number, "shutdown_on", "not after the retirement date", shutdown,
                    f"a date after {retires_on}, or nothing when it is the same")  # fmt: skip
        if replacement and (not _NAME.match(replacement) or replacement == model):
            _refuse(file, number, "replacement", "not another model name", replacement,
                    "the recommended model's API name, or nothing")  # fmt: skip
        if not re.match(r"^https://[^\s/]+\.[^\s/]+/\S*$", source):
            _refuse(file, number, "source_url", "not a source address", source,
                    "the https address of the provider's page")  # fmt: skip
        if (provider, model) in seen:
            _refuse(file, number, "model", f"listed twice (first on line {seen[provider, model]})",
                    model, "one row per provider and model")  # fmt: skip
        seen[provider, model] = number
        rows.append(
            Retirement(provider, model, announced_on, retires_on, shutdown_on,
                       replacement or None, source, number)
        )  # fmt: skip
    if not header_seen:
        _refuse(file, len(lines) or 1, "header", "no header", "", ",".join(COLUMNS))
    return tuple(rows)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> tuple[Retirement, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Path(path).name, f"cannot be read ({type(exc).__name__})") from exc
    return parse_table(text, Path(path).name)


def load_table(path: Path | str | None = None) -> tuple[Retirement, ...]:
    """The bundled table (or the one at ``path``), checked by ``parse_table``; read again only
    when the file changes. Raises ``InputError`` when it is missing or refused."""
    file = Path(path) if path is not None else TABLE_PATH
    try:
        mtime = file.stat().st_mtime_ns
    except OSError as exc:
        raise InputError(file.name, f"cannot be read ({type(exc).__name__})") from exc
    return _load(str(file), mtime)


def _index(table: Iterable[Retirement]) -> dict[str, Retirement]:
    """Rows by model name; a name in two providers' rows keeps the earlier retirement."""
    out: dict[str, Retirement] = {}
    for row in table:
        kept = out.get(row.model)
        if kept is None or row.retires_on < kept.retires_on:
            out[row.model] = row
    return out


def match(model: str, table: Iterable[Retirement]) -> Retirement | None:
    """The row that retires ``model`` (a stored name): the row of its exact API name, else the
    family-wide row of its family; None when the table does not retire it or the name is a
    partner platform's (see ``api_name``)."""
    by_name = _index(table)
    return _match(model, by_name)


def _match(model: str, by_name: dict[str, Retirement]) -> Retirement | None:
    name = api_name(model)
    if name is None:
        return None
    row = by_name.get(name)
    if row is not None:
        return row
    family = by_name.get(model_family(name))
    return family if family is not None and family.family_wide else None


def retirements_for(
    models: Iterable[str],
    today: date,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    table: Iterable[Retirement] | None = None,
) -> list[ModelRetirement]:
    """The models among ``models`` that retire within ``within_days`` days of ``today``
    (``retires_on <= today + within_days``) or already retired, each once (as first given),
    soonest retirement first, then by name. ``table``: the rows to use (default: the bundled
    table, ``load_table()``). Names the table does not retire are left out."""
    if within_days < 0:
        raise ValueError("within_days is a number of days, 0 or more")
    by_name = _index(load_table() if table is None else table)
    out: list[ModelRetirement] = []
    done: set[str] = set()
    for model in models:
        if not isinstance(model, str) or not model.strip() or model in done:
            continue
        done.add(model)
        row = _match(model, by_name)
        if row is None:
            continue
        days_left = (row.retires_on - today).days
        if days_left > within_days:
            continue
        state: State
        if days_left > 0:
            state = "retiring"
        elif row.shutdown_on is not None and today < row.shutdown_on:
            state = "retired"
        else:
            state = "shut_down"
        out.append(ModelRetirement(model, row, days_left, state))
    out.sort(key=lambda r: (r.retirement.retires_on, r.model))
    return out
