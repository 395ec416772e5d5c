"""Step 4 of an import, planning: the SELECT that turns a table's columns into canonical
rows of one grain, every value converted by ``lib.importers.values`` and checked, so that a
value that cannot be read stops the import naming its line and column.
"""

from __future__ import annotations

from lib.importers import values
from lib.importers.base import FieldSource, Plan
from lib.importers.canonical import COLUMNS, SQL_TYPES, TOKEN_COLUMNS, Grain
from lib.importers.tabular import Tabular, quote_ident


def tabular_plan(
    fmt: str,
    source: str,
    grain: Grain,
    tab: Tabular,
    mapping: dict[str, FieldSource],
    style: values.Style,
    constants: dict[str, str] | None = None,
    notes: list[str] | None = None,
    skip_sql: str | None = None,
) -> Plan:
    """A plan that converts a tabular file's columns with SQL.

    ``mapping`` gives the raw source of each canonical field; ``constants`` gives SQL for
    fields that are the same on every row. Rows that are entirely empty, and a totals line
    (first column starting with Total/Somme/… and no readable timestamp), are skipped, and
    so are rows for which ``skip_sql`` is true.
    """
    constants = constants or {}
    cols = COLUMNS[grain]
    time_field = "ts" if grain == "request" else "bucket_start"
    inner: list[str] = []
    outer: list[str] = []
    fields: dict[str, tuple[FieldSource, str]] = {}
    for i, (name, kind) in enumerate(cols.items()):
        if name in mapping:
            src = mapping[name]
            fields[name] = (src, kind)
            parsed = values.parse(kind, src.raw_sql, src.raw_type, style, clean=src.clean)
            inner.append(f"{parsed} AS p{i}")
            expr = f"p{i}"
            if kind != "str" and not values.native_ok(kind, src.raw_type):
                inner.append(f"{src.raw_sql} AS r{i}")
                bad = values.invalid(f"r{i}", src.raw_type, f"p{i}")
                expr = f"CASE WHEN {bad} THEN error('tokenboard-invalid:{name}') ELSE p{i} END"
            if name == time_field:
                expr = f"coalesce({expr}, error('tokenboard-missing:{name}'))"
        elif name in constants:
            inner.append(f"{constants[name]} AS c{i}")
            expr = f"c{i}"
        else:
            expr = "NULL"
        if name in TOKEN_COLUMNS:
            expr = f"coalesce({expr}, 0)"
        outer.append(f"CAST({expr} AS {SQL_TYPES[kind]}) AS {name}")
    keep = _keep_rows_sql(tab, mapping.get(time_field), style)
    if skip_sql:  # lines the importer knows are not rows (counted in its notes)
        keep = f"({keep} AND NOT ({skip_sql}))"
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner) or '1 AS dummy'} "
        f"FROM {tab.read_sql} WHERE {keep})"
    )
    return Plan(
        format=fmt,
        source=source,
        grain=grain,
        display=tab.display,
        select_sql=sql,
        params=list(tab.read_params),
        tabular=tab,
        fields=fields,
        keep_sql=keep,
        notes=notes or [],
        style=style,
    )


def _keep_rows_sql(tab: Tabular, time_src: FieldSource | None, style: values.Style) -> str:
    """SQL that is false for an entirely blank row and for a spreadsheet totals line.

    Written so that the common row (a readable timestamp) is decided by the first test.
    """

    def blank(c: str) -> str:
        q = quote_ident(c)
        if tab.columns[c] == "VARCHAR":
            return f"({q} IS NULL OR trim({q}) = '')"
        return f"{q} IS NULL"

    not_blank = "NOT (" + " AND ".join(blank(c) for c in tab.columns) + ")"
    if time_src is None:
        return not_blank
    ts_parsed = values.parse("ts", time_src.raw_sql, time_src.raw_type, style)
    if time_src.raw_type != "VARCHAR":
        return f"({time_src.raw_sql} IS NOT NULL OR {not_blank})"
    # the totals word in the first column, or in the time column when columns were moved
    cells = [f"lower(trim(CAST({quote_ident(next(iter(tab.columns)))} AS VARCHAR)))"]
    if time_src.raw_sql != quote_ident(next(iter(tab.columns))):
        cells.append(f"lower(trim(CAST({time_src.raw_sql} AS VARCHAR)))")
    total_words = " OR ".join(f"{cell} LIKE '{w}%'" for cell in cells for w in values.TOTAL_WORDS)
    return f"(({ts_parsed}) IS NOT NULL OR ({not_blank} AND NOT coalesce({total_words}, false)))"
