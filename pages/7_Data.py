"""Data: upload exports (preview first, then import), pull from the admin APIs, history with undo."""

from __future__ import annotations

import logging
from datetime import timedelta

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lib.analytics.imports import SHOW, import_history
from lib.errors import TokenboardError
from lib.ingest import import_file, undo_import
from lib.preview import MAPPABLE, columns_of, preview_file, remedy
from lib.pull.sources import PROVIDERS, configured, last_pulls, pull
from lib.ui import import_words, url, words
from lib.ui.frame import page
from lib.ui.i18n import _, n_, say
from lib.ui.markup import md
from lib.ui.uploads import SavedUpload, saved_uploads
from lib.ui.widgets import Col, n, size, table, usd, usd_exact

ctx = page("pages/7_Data.py", filters=False)
st.title(_("Data"))
st.caption(
    _("Load usage, cost and error exports. Each file is previewed before anything is written; an "
      "import is all or nothing, and re-importing the same data adds nothing.")
)  # fmt: skip

log = logging.getLogger("tokenboard")
Ready = list[tuple[str, str, dict[str, str] | None]]


def _unexpected(name: str, what: str) -> None:
    """Last resort for a file that failed with something other than a TokenboardError
    (``what``: "Preview" or "Import")."""
    log.exception("%s of the uploaded file %r failed", what, name)
    if what == "Preview":
        said = _("**{name}**: the preview failed with an unexpected error (details are in the server "
                 "log). The other files are not affected.", name=md(name))  # fmt: skip
    else:
        said = _("**{name}**: the import failed with an unexpected error (details are in the server "
                 "log). The other files are not affected.", name=md(name))  # fmt: skip
    st.error(said)


def _mapping_form(up: SavedUpload, mapping_key: str) -> None:
    """Ask which column holds what, then preview again with that mapping."""
    cols = columns_of(ctx.store, up.path)
    st.write(words.remedy("map_columns"))
    chosen = {}
    grid = st.columns(4)
    for i, field in enumerate(MAPPABLE):
        pick = grid[i % 4].selectbox(words.mapping_label(field), ["—", *cols], key=f"{mapping_key}_{field}",
                                     help=_("On the command line: --map {field}=COLUMN", field=field))  # fmt: skip
        if pick != "—":
            chosen[field] = pick
    if st.button(_("Preview with this mapping"), key=f"{mapping_key}_go"):
        st.session_state[mapping_key] = chosen
        st.rerun()


def _preview_one(up: SavedUpload, ready: Ready) -> None:
    """The preview of one upload (or why it cannot be imported); adds it to ``ready``."""
    mapping_key = f"map_{up.key}"
    mapping = st.session_state.get(mapping_key) or None
    try:
        with st.spinner(_("Reading the file…")):
            pv = preview_file(ctx.store, up.path, display=up.name, mapping=mapping)
    except TokenboardError as err:
        st.error(import_words.refusal(err))
        if remedy(err) == "map_columns":
            _mapping_form(up, mapping_key)
        return
    st.markdown(_("Recognised as **{format}**", format=md(pv.format)))
    c = st.columns(4)
    c[0].metric(_("Rows"), n(pv.rows))
    c[1].metric(_("Requests"), n(pv.requests))
    c[2].metric(_("Tokens in / out"), f"{n(pv.input_tokens)} / {n(pv.output_tokens)}")
    c[3].metric(_("Cost (USD)"), usd(pv.cost_usd),
                help=_("Exactly {value}.", value=usd_exact(pv.cost_usd)) if pv.cost_usd is not None else None)  # fmt: skip
    if pv.period_start:
        st.caption(_("Period: {start} → {end} UTC · stored as {kind} of source “{source}”",
                     start=f"{pv.period_start:%Y-%m-%d %H:%M}", end=f"{pv.period_end:%Y-%m-%d %H:%M}",
                     kind=words.grain_lower(pv.grain), source=md(pv.source)))  # fmt: skip
    for note in pv.notes:
        st.info(md(say(note)))
    if pv.mapped:
        st.write(
            _(
                "Columns used: {columns}",
                columns=", ".join(f"{md(k)} ← {md(v)}" for k, v in pv.mapped.items()),
            )
        )
        if pv.unmapped:
            st.caption(_("Not used: {columns}", columns=", ".join(md(u) for u in pv.unmapped)))
    st.dataframe(pd.DataFrame(pv.sample, columns=pv.columns), hide_index=True, width="stretch",
                 placeholder=words.UNKNOWN)  # fmt: skip
    ready.append((up.path, up.name, mapping))


def _import_all(ready: Ready) -> None:
    """Import the previewed files one by one; a failure is shown and the next file goes on."""
    with st.status(_("Importing…"), expanded=True) as status:
        ok = 0
        for path, name, mapping in ready:
            try:
                r = import_file(ctx.store, path, display=name, mapping=mapping, role=ctx.user.role,
                                origin="upload", progress=lambda msg: status.write(import_words.progress(msg)))  # fmt: skip
            except TokenboardError as err:
                st.error(import_words.refusal(err))
            except Exception:
                _unexpected(name, "Import")
            else:
                ok += 1
                st.success(words.import_result(r))
        status.update(
            label=_("{ok} of {total} imported", ok=ok, total=len(ready)),
            state="complete" if ok == len(ready) else "error",
        )


if ctx.can("import"):
    st.subheader(_("Import files"))
    uploads = st.file_uploader(
        _(
            "Exports: OpenAI/Anthropic usage or cost API responses (JSON), LiteLLM or Helicone CSV, "
            "or any CSV, JSON Lines or Parquet with time and token/cost columns"
        ),
        accept_multiple_files=True,
        type=["csv", "tsv", "txt", "json", "jsonl", "ndjson", "parquet"],
    )
    # every upload on a path of its own (names may repeat), removed when this run ends
    with saved_uploads(uploads or []) as saved:
        ready: Ready = []
        for up in saved:
            with st.expander(f"**{md(up.name)}** · {size(up.size)}", expanded=True):
                try:
                    _preview_one(up, ready)
                except StreamlitAPIException:
                    raise
                except Exception:
                    _unexpected(up.name, "Preview")
        if ready and st.button(
            n_("Import {n} file", "Import {n} files", len(ready)), type="primary"
        ):
            _import_all(ready)

if ctx.can("import"):
    st.subheader(_("Pull from the provider APIs"))
    have = configured()
    st.caption(_("{keys} (keys are read from the environment or the app's secrets and never shown)",
                 keys=" · ".join((_("{provider} admin key: set", provider=words.provider(p)) if ok else
                                  _("{provider} admin key: not set", provider=words.provider(p)))
                                 for p, ok in have.items())))  # fmt: skip
    if not any(have.values()):
        st.info(_("To pull usage and costs straight from the providers, set `OPENAI_ADMIN_KEY` and/or "
                  "`ANTHROPIC_ADMIN_KEY` (organisation admin keys) in the environment or in "
                  "`.streamlit/secrets.toml`, then restart the app."))  # fmt: skip
    else:
        today = ctx.now.date()
        p1, p2, p3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        provider = p1.selectbox(_("Provider"), [p for p in PROVIDERS if have[p]], format_func=words.provider,
                                key="pull_provider")  # fmt: skip
        period = p2.date_input(_("Days (UTC)"), (today - timedelta(days=6), today), max_value=today,
                               key="pull_period")  # fmt: skip
        go = p3.button(_("Pull"), key="pull_go", type="primary")
        done = last_pulls(ctx.store)
        if not done.empty:
            st.caption(_("Last pulls: {pulls}", pulls=" · ".join(
                _("{provider}: data up to {day} UTC, pulled {when} UTC", provider=md(r.provider),
                  day=f"{r.data_to:%Y-%m-%d}", when=f"{r.pulled:%Y-%m-%d %H:%M}")
                for r in done.itertuples())))  # fmt: skip
        if go:
            if not isinstance(period, tuple) or len(period) != 2:
                st.error(_("Choose a first and a last day."))
            else:
                with st.status(
                    _("Pulling from {provider}…", provider=words.provider(provider)), expanded=True
                ) as status:
                    try:
                        res = pull(ctx.store, provider, period[0], period[1], role=ctx.user.role,
                                   progress=lambda msg: status.write(import_words.progress(msg)))  # fmt: skip
                    except TokenboardError as err:
                        status.update(label=_("Pull failed: nothing was imported"), state="error")
                        st.error(import_words.refusal(err))
                    else:
                        for r in res.imports:
                            st.success(words.import_result(r))
                        pages = n_("Pulled {n} page", "Pulled {n} pages", res.pages)
                        if res.retries:
                            pages += n_(", {n} retry ({seconds} s waited)", ", {n} retries ({seconds} s waited)",
                                        res.retries, seconds=f"{res.waited_s:.0f}")  # fmt: skip
                        status.update(label=pages, state="complete")

st.subheader(_("Import history"))
if said := st.session_state.pop("tb_undone", None):
    st.success(said)
SHOW_WORDS = {s: words.show_label(s) for s in SHOW}  # fixed for this run's language
show = url.choice(st, _("Show"), list(SHOW), key="data_show", param="show", widget="segmented_control",
                  format_func=SHOW_WORDS.__getitem__, required=True)  # fmt: skip
hist = import_history(ctx.store, show)
if hist.empty:
    if show == "all":
        st.info(
            _(
                "Nothing imported yet. Upload exports above, or run `python -m lib.cli import FILE…`."
            )
        )
    else:
        st.info(words.show_none(show))
else:
    names = [
        _("{name} (demo)", name=name) if demo else name
        for name, demo in zip(hist["file_name"], hist["is_demo"], strict=True)
    ]
    shown = hist.assign(status=hist["status"].map(words.status), file_name=names,
                        origin=hist["origin"].map(words.origin), grain=hist["grain"].map(words.grain))  # fmt: skip
    table(shown, "imports", key="imports", columns={
        "import_id": Col(_("Import #"), "count"), "status": Col(_("Status")), "file_name": Col(_("File")),
        "origin": Col(_("Origin")), "format": Col(_("Format")), "grain": Col(_("Kind")),
        "rows_read": Col(_("Rows read"), "count"), "rows_new": Col(_("New"), "count"),
        "rows_duplicate": Col(_("Duplicate"), "count"), "rows_replaced": Col(_("Replaced"), "count"),
        "period_start": Col(_("From (UTC)"), "time"), "period_end": Col(_("To (UTC)"), "time"),
        "started_at": Col(_("Started (UTC)"), "time"), "error": Col(_("Error"), none=_("— : no error.")),
    })  # fmt: skip
    undoable = hist[hist["status"] == "ok"]
    if ctx.can("undo_import") and not undoable.empty:
        labels = dict(zip(undoable["import_id"], undoable["file_name"], strict=True))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        pick = c1.selectbox(_("Undo an import (its rows, and only its rows, are removed)"), list(labels),
                            index=None, placeholder=_("Choose an import"), key="undo_pick",
                            format_func=lambda i: f"#{i} · {labels[i]}")  # fmt: skip
        if c2.button(_("Undo"), key="undo", disabled=pick is None):
            st.session_state["tb_undo_ask"] = pick
        ask = st.session_state.get("tb_undo_ask")
        if ask is not None and ask in labels:
            st.warning(_("Undo import #{id} · {name}? Its rows, and only its rows, are removed from every "
                         "figure; an earlier import they had replaced counts again.", id=ask, name=md(labels[ask])))  # fmt: skip
            y, no, _rest = st.columns([1, 1, 4])
            if y.button(_("Yes, undo it"), key="undo_yes", type="primary"):
                st.session_state.pop("tb_undo_ask", None)
                try:
                    undone = undo_import(ctx.store, int(ask), role=ctx.user.role)
                except TokenboardError as err:
                    st.error(import_words.refusal(err))
                else:
                    # said after the rerun; nothing chosen then, so no second undo by accident
                    st.session_state["tb_undone"] = words.undo_result(undone, labels[ask])
                    st.session_state.pop("undo_pick", None)
                    st.rerun()
            if no.button(_("Cancel"), key="undo_no"):
                st.session_state.pop("tb_undo_ask", None)
                st.rerun()

if ctx.can("settings"):  # where the server keeps its files is for admins only
    st.subheader(_("Where the data lives"))
    st.write(
        _("Database: `{path}` (set `TOKENBOARD_DB` to move it; any DuckDB path, including `md:` MotherDuck).",
          path=ctx.store.display_path)
    )  # fmt: skip
