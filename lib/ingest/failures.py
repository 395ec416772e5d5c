"""What a failed import says: DuckDB errors met while writing a plan, turned into messages
that name the file, line or field, what was found and what was expected."""

from __future__ import annotations

import duckdb

from lib.errors import InputError, TokenboardError, disk_full_error, is_disk_full
from lib.i18n import N_, Text
from lib.importers import values
from lib.importers.base import Plan


def _locate(plan: Plan, field_name: str, missing: bool) -> InputError:
    """Find the first row whose ``field_name`` is unreadable (or missing) and describe it."""
    src, kind = plan.fields[field_name]
    tab = plan.tabular
    assert tab is not None
    parsed = values.parse(kind, src.raw_sql, src.raw_type, plan.style)
    bad = f"({parsed}) IS NULL" if missing else values.invalid(src.raw_sql, src.raw_type, parsed)
    sql = (
        f"SELECT rn, raw FROM (SELECT row_number() OVER () AS rn, "
        f"CAST(({src.raw_sql}) AS VARCHAR) AS raw, ({bad}) AS bad, ({plan.keep_sql}) AS keep "
        f"FROM {tab.read_sql}) WHERE keep AND bad ORDER BY rn LIMIT 1"
    )
    human = {"ts": N_("timestamp"), "bucket_start": N_("period start")}.get(
        field_name, field_name.replace("_", " ")
    )
    problem = (
        N_("the {field} is missing", field=Text(human)) if missing else N_("a value cannot be read")
    )
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(sql, tab.read_params).fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    if row is None:
        return InputError(plan.display, problem, field=src.label, expected=values.EXPECTED[kind])
    rn, raw = row
    return InputError(
        plan.display,
        problem,
        line=tab.physical_line(rn),
        field=src.label,
        found=None if missing else raw,
        expected=values.EXPECTED[kind],
    )


def translate_error(err: duckdb.Error, plan: Plan) -> TokenboardError:
    """A DuckDB error met while reading a plan, as a message (a full disk is not bad input)."""
    if is_disk_full(err):
        return disk_full_error(plan.display, err)
    text = str(err)
    for tag, missing in (("tokenboard-invalid:", False), ("tokenboard-missing:", True)):
        if tag in text:
            name = text.split(tag, 1)[1].split()[0].strip("'\".,")
            if name in plan.fields:
                return _locate(plan, name, missing)
    if plan.tabular is not None:
        return plan.tabular.wrap_error(err)
    return InputError(plan.display, N_("could not be imported: {why}", why=text.splitlines()[0]))


def closed_by_duckdb(err: BaseException | None) -> bool:
    """True when ``err`` (or what it wraps) is DuckDB's fatal error: the database was closed
    (for example when a commit could not write its checkpoint) and must be reopened."""
    while err is not None:
        if isinstance(err, duckdb.FatalException):
            return True
        err = err.__context__
    return False
