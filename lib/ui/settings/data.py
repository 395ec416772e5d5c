"""The data tab: where the data lives (admins see the path), its size, rows per table and per
import; retention (the setting, a preview of what goes, removal with a confirmation); backups
to a folder on the server or as a .zip download, and a restore from an uploaded .zip into an
empty database. Analysts read the facts and preview retention; admins act. The checks, the
role and the audit are lib's (``lib.store.facts``, ``lib.ingest.retention``,
``lib.ingest.backups``, ``lib.store.backup``); this module only words them."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace

import pandas as pd
import streamlit as st

from lib.config import state_dir
from lib.errors import TokenboardError
from lib.ingest import retention
from lib.ingest.backups import backup, restore
from lib.store.backup import (
    UPLOAD_MAX_MB,
    ZIP_MAX_ROWS_PER_BYTE,
    BackupError,
    is_empty,
    unzip_to,
    zip_bytes,
)
from lib.store.facts import StorageFacts, facts, import_rows
from lib.text import Text
from lib.ui import words
from lib.ui.frame import PageContext
from lib.ui.i18n import _, day, integer, moment, n_, say
from lib.ui.markup import code, md
from lib.ui.state import cached
from lib.ui.widgets import Col, size, table

FLASH = "data_flash"
PLAN = "data_retention_plan"
ZIP = "data_backup_zip"


def _said(err: BaseException) -> str:
    """A refusal of lib in the page's language (Markdown-safe)."""
    text = err.args[0] if len(err.args) == 1 and isinstance(err.args[0], Text) else str(err)
    return md(say(text))


def _from_ip() -> str | None:
    ip = st.context.ip_address
    return ip if isinstance(ip, str) else None


def _done(text: str) -> None:
    st.session_state[FLASH] = text
    st.rerun()


def _bytes(n: int | None) -> str:
    return _("not a local file") if n is None else size(n)


# -- where the data lives ----------------------------------------------------------------------
def _where(ctx: PageContext, f: StorageFacts, is_admin: bool) -> None:
    st.subheader(_("Where the data lives"))
    kinds = {"file": _("a DuckDB file on the server"), "memory": _("in memory (lost at restart)"),
             "motherduck": _("a MotherDuck database")}  # fmt: skip
    if is_admin:  # where the server keeps its files is for admins only
        st.markdown(_("Database: {path} ({kind}). Set `TOKENBOARD_DB` to move it (any DuckDB path, "
                      "including `md:` MotherDuck).", path=code(f.location), kind=kinds[f.kind]))  # fmt: skip
    else:
        st.markdown(_("Database: {kind}.", kind=kinds[f.kind]))
    a, b, c, d = st.columns(4)
    a.metric(_("File size"), _bytes(f.file_bytes),
             help=_("The database file and its write-ahead log (.wal) together."))  # fmt: skip
    b.metric(_("Write-ahead log"), _bytes(f.wal_bytes))
    c.metric(_("DuckDB version"), f.duckdb_version)
    d.metric(_("Schema version"), str(f.schema_version))
    if f.total_blocks:
        st.caption(_("{free} of the file's {total} blocks are free: later writes reuse them; the file "
                     "shrinks only when the free blocks are at its end.",
                     free=integer(f.free_blocks or 0), total=integer(f.total_blocks)))  # fmt: skip
    st.markdown("**" + _("Rows per table") + "**")
    table(pd.DataFrame(f.tables, columns=["table", "rows"]), "tables", key="data_tables",
          columns={"table": Col(_("Table")), "rows": Col(_("Rows"), "count")})  # fmt: skip
    st.markdown("**" + _("Rows per import") + "**")
    if not f.imports:
        st.caption(_("No import yet."))
        return
    df = pd.DataFrame(
        [(i.import_id, i.file_name, words.status(i.status), i.started_at, i.request_rows, i.usage_rows,
          i.cost_rows, i.removed_rows) for i in f.imports],
        columns=["id", "name", "status", "started", "requests", "usage", "cost", "removed"],
    )  # fmt: skip
    table(df, "imports", key="data_imports", columns={
        "id": Col("#"), "name": Col(_("Name")), "status": Col(_("Status")),
        "started": Col(_("Started (UTC)"), "time"),
        "requests": Col(_("Request rows"), "count"), "usage": Col(_("Usage rows"), "count"),
        "cost": Col(_("Cost rows"), "count"),
        "removed": Col(_("Removed by retention"), "count",
                       help=_("Request rows removed by retention; their totals are kept.")),
    })  # fmt: skip


# -- retention ---------------------------------------------------------------------------------
def _plan_view(plan: retention.RetentionPlan) -> None:
    if not plan.rows:
        st.info(_("Nothing to remove: no request row is dated before {day} (UTC).",
                  day=day(plan.before_day)))  # fmt: skip
        return
    st.markdown(
        n_("**{n} request row** dated before {day} 00:00 UTC would be removed, from {first} to "
           "{last} (the duplicate claims on them too: see the table).",
           "**{n} request rows** dated before {day} 00:00 UTC would be removed, from {first} to "
           "{last} (the duplicate claims on them too: see the table).", plan.rows,
           n=integer(plan.rows), day=day(plan.before_day), first=moment(plan.first_ts),
           last=moment(plan.last_ts))
    )  # fmt: skip
    t = plan.totals
    st.success(_("The pages' totals stay the same: {requests} requests, {input} input and {output} "
                 "output tokens are kept in the rollups. What needs the rows themselves (the request "
                 "list, exact percentiles by key or user, error messages) no longer covers those days.",
                 requests=integer(t.requests), input=integer(t.input_tokens),
                 output=integer(t.output_tokens)))  # fmt: skip
    rows = pd.DataFrame(list(plan.tables.items()), columns=["table", "rows"])
    table(rows, "retention_tables", key="data_ret_tables",
          columns={"table": Col(_("Table")), "rows": Col(_("Rows removed"), "count")})  # fmt: skip
    df = pd.DataFrame(
        [(c.import_id, c.file_name, c.rows, c.rows_left, c.first_ts, c.last_ts,
          ", ".join(f"#{x}" for x in c.claimers)) for c in plan.imports],
        columns=["id", "name", "rows", "left", "first", "last", "claimers"],
    )  # fmt: skip
    table(df, "retention_imports", key="data_ret_imports", columns={
        "id": Col("#"), "name": Col(_("Name")), "rows": Col(_("Rows removed"), "count"),
        "left": Col(_("Rows left"), "count"), "first": Col(_("Oldest (UTC)"), "time"),
        "last": Col(_("Newest (UTC)"), "time"),
        "claimers": Col(_("Also in"), help=_("Imports that also contained some of these rows: this "
                                             "import can be undone only after them.")),
    })  # fmt: skip


def _retention(ctx: PageContext, is_admin: bool) -> None:
    st.subheader(_("Retention"))
    store = ctx.store
    current = retention.days_setting(store)
    if current is None:
        st.markdown(_("Request rows are kept forever (no retention set)."))
    else:
        st.markdown(n_("Request rows older than **{n} day** are removed once a day by the server.",
                       "Request rows older than **{n} days** are removed once a day by the server.",
                       current, n=integer(current)))  # fmt: skip
    st.caption(_("The cut is a UTC day: with N days, rows dated before 00:00 UTC N days ago go; the "
                 "last N days and today stay. The rollups (hourly and daily totals), usage and cost "
                 "rows stay, so every page's totals are unchanged. A later import leaves out its "
                 "request rows dated before the cut (they could not be told from rows already "
                 "counted)."))  # fmt: skip
    st.caption(_("At least {n} days: key budgets per month and alert rules over a month read the "
                 "month's request rows.", n=integer(retention.MIN_DAYS)))  # fmt: skip
    cut = retention.horizon(store)
    if cut is not None:
        st.caption(_("Request rows dated before {day} (UTC) were removed.", day=day(cut)))
    if is_admin:
        st.caption(_("Removed rows leave free space inside the file, which later writes reuse. To "
                     "give it back to the disk, stop the app and run {command}.",
                     command=code("python -m lib.cli compact --db PATH")))  # fmt: skip
    days = st.number_input(_("Days of request rows to keep"), min_value=retention.MIN_DAYS,
                           max_value=retention.MAX_DAYS, step=1, value=current or 90,
                           key="data_ret_days")  # fmt: skip
    a, b, _rest = st.columns([1, 1, 3])
    if a.button(_("Preview what goes"), key="data_ret_preview"):
        try:
            st.session_state[PLAN] = retention.preview(store, int(days), now=ctx.now)
        except TokenboardError as err:
            st.error(_said(err))
    if is_admin:
        if b.button(_("Save as the daily setting"), key="data_ret_save"):
            try:
                n = retention.set_days(store, int(days), role=ctx.user.role,
                                       actor=ctx.user.username, from_ip=_from_ip())  # fmt: skip
            except TokenboardError as err:
                st.error(_said(err))
            else:
                _done(n_("Retention set to {n} day.", "Retention set to {n} days.", n or 0,
                         n=integer(n or 0)))  # fmt: skip
        if current is not None and st.button(_("Keep request rows forever"), key="data_ret_clear"):
            retention.set_days(store, None, role=ctx.user.role, actor=ctx.user.username,
                               from_ip=_from_ip())  # fmt: skip
            _done(_("Retention turned off: request rows are kept forever."))
    plan: retention.RetentionPlan | None = st.session_state.get(PLAN)
    if plan is None:
        return
    _plan_view(plan)
    if not is_admin or not plan.rows:
        return
    sure = st.checkbox(
        n_("Yes, remove these {n} request row now (this cannot be undone).",
           "Yes, remove these {n} request rows now (this cannot be undone).", plan.rows,
           n=integer(plan.rows)), key="data_ret_sure")  # fmt: skip
    if st.button(_("Remove now"), key="data_ret_apply", type="primary", disabled=not sure):
        with st.status(_("Removing request rows…"), expanded=True) as status:
            st.write(_("Deleting in one transaction, then compacting the file (CHECKPOINT)."))
            try:
                done = retention.apply(store, plan.days, role=ctx.user.role,
                                       actor=ctx.user.username, from_ip=_from_ip(), now=ctx.now)  # fmt: skip
            except TokenboardError as err:
                status.update(label=_("Nothing was removed."), state="error")
                st.error(_said(err))
                return
            status.update(label=_("Done."), state="complete")
        st.session_state.pop(PLAN, None)
        text = n_("{n} request row removed; the totals are unchanged.",
                  "{n} request rows removed; the totals are unchanged.", done.plan.rows,
                  n=integer(done.plan.rows))  # fmt: skip
        if done.bytes_before is not None and done.bytes_after is not None:
            text += " " + _("File size: {before} before, {after} after.",
                            before=size(done.bytes_before), after=size(done.bytes_after))  # fmt: skip
        _done(text)


# -- backup and restore ------------------------------------------------------------------------
def _default_folder(ctx: PageContext) -> str:
    stamp = ctx.now.strftime("%Y%m%d-%H%M%S")
    base = state_dir(ctx.store.path)  # beside a local file; TOKENBOARD_STATE_DIR or data/ else
    return os.path.join(base, "backups", f"tokenboard-{stamp}")


def _backups(ctx: PageContext, is_admin: bool) -> None:
    st.subheader(_("Backup and restore"))
    st.warning(_("A backup holds everything in the database, the password hashes of the users and "
                 "the hashes of the API keys and sessions included: keep it as private as the "
                 "database itself. Folders are written readable by the server's user only."),
               icon=":material/lock:")  # fmt: skip
    if not is_admin:
        st.caption(_("Backups and restores are made by admins."))
        return
    store = ctx.store
    st.markdown("**" + _("To a folder on the server") + "**")
    st.caption(_("Every table as a Parquet file, with a manifest. On Streamlit Community Cloud the "
                 "server's disk is not kept: download the .zip instead."))  # fmt: skip
    folder = st.text_input(_("Backup folder (on the server; new or empty)"),
                           value=_default_folder(ctx), key="data_bk_folder")  # fmt: skip
    if st.button(_("Write the backup"), key="data_bk_write"):
        try:
            info = backup(store, folder, role=ctx.user.role, actor=ctx.user.username,
                          from_ip=_from_ip())  # fmt: skip
        except TokenboardError as err:
            st.error(_said(err))
        else:
            _done(_("Backup written to {folder}: {tables} tables, {rows} rows, {size}.",
                    folder=code(info.folder), tables=integer(len(info.tables)),
                    rows=integer(info.rows), size=size(info.bytes)))  # fmt: skip
    st.markdown("**" + _("As a download") + "**")
    if st.button(_("Prepare a .zip of the backup"), key="data_bk_zip"):
        with st.spinner(_("Writing the backup…")), tempfile.TemporaryDirectory() as tmp:
            try:
                target = os.path.join(tmp, "backup")
                backup(store, target, role=ctx.user.role, actor=ctx.user.username,
                       from_ip=_from_ip())  # fmt: skip
                st.session_state[ZIP] = zip_bytes(target)
            except TokenboardError as err:
                st.error(_said(err))
    data = st.session_state.get(ZIP)
    if data:
        st.download_button(_("Download the backup (.zip, {size})", size=size(len(data))), data,
                           "tokenboard-backup.zip", "application/zip", key="data_bk_download",
                           on_click="ignore", icon=":material/download:")  # fmt: skip
    st.markdown("**" + _("Restore") + "**")
    cli = code("python -m lib.cli restore --db NEW_FILE FOLDER")
    if not is_empty(store, but_sign_in=True):
        st.caption(_("A backup is restored only into an empty database, all or nothing. This one "
                     "holds data: restore into a new file with the command line, {command}, then "
                     "point `TOKENBOARD_DB` at it.", command=cli))  # fmt: skip
        return
    st.caption(_("This database holds no data yet: a backup .zip made by Tokenboard (the same "
                 "version) can be restored into it, all or nothing. Its users, their passwords and "
                 "sessions and its audit log replace this database's: sign in again afterwards with "
                 "an account of the backup. The command line does the same: {command}.",
                 command=cli))  # fmt: skip
    up = st.file_uploader(_("Backup .zip"), type=["zip"], key="data_rs_file",
                          max_upload_size=UPLOAD_MAX_MB)  # fmt: skip
    if up is not None and st.button(_("Restore this backup"), key="data_rs_go", type="primary"):
        with st.spinner(_("Restoring…")), tempfile.TemporaryDirectory() as tmp:
            try:
                target = os.path.join(tmp, "backup")
                uploaded = up.getvalue()
                unzip_to(uploaded, target, name=up.name)
                info = restore(store, target, role=ctx.user.role, actor=ctx.user.username,
                               from_ip=_from_ip(), but_sign_in=True,
                               max_rows=ZIP_MAX_ROWS_PER_BYTE * len(uploaded))  # fmt: skip
            except (BackupError, TokenboardError) as err:
                st.error(_said(err))
                return
        _done(_("Restored {tables} tables, {rows} rows (backup of {when}).",
                tables=integer(len(info.tables)), rows=integer(info.rows),
                when=moment(info.created_at)))  # fmt: skip


def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx`` (analysts read, admins act)."""
    if not ctx.can("view_settings"):
        st.warning(_("The data settings are for admins and analysts."))
        return
    is_admin = ctx.can("settings")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    # rows per import read every request row: computed once per data and settings version
    f = facts(ctx.store, with_imports=False)
    _where(ctx, replace(f, imports=cached(import_rows, ctx.store, None, None)), is_admin)
    st.divider()
    _retention(ctx, is_admin)
    st.divider()
    _backups(ctx, is_admin)
