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
from lib.ui import url, words
from lib.ui.frame import page
from lib.ui.markup import md
from lib.ui.uploads import SavedUpload, saved_uploads
from lib.ui.widgets import Col, n, size, table, usd, usd_exact

ctx = page("pages/7_Data.py", filters=False)
st.title("Data")
st.caption(
    "Load usage, cost and error exports. Each file is previewed before anything is written; an "
    "import is all or nothing, and re-importing the same data adds nothing."
)

log = logging.getLogger("tokenboard")
Ready = list[tuple[str, str, dict[str, str] | None]]


def _unexpected(name: str, what: str) -> None:
    """Last resort for a file that failed with something other than a TokenboardError."""
    log.exception("%s of the uploaded file %r failed", what, name)
    st.error(f"**{md(name)}**: the {what.lower()} failed with an unexpected error (details are in "
             "the server log). The other files are not affected.")  # fmt: skip


def _mapping_form(up: SavedUpload, mapping_key: str) -> None:
    """Ask which column holds what, then preview again with that mapping."""
    cols = columns_of(ctx.store, up.path)
    st.write(words.remedy("map_columns"))
    chosen = {}
    grid = st.columns(4)
    for i, field in enumerate(MAPPABLE):
        pick = grid[i % 4].selectbox(field, ["—", *cols], key=f"{mapping_key}_{field}")
        if pick != "—":
            chosen[field] = pick
    if st.button("Preview with this mapping", key=f"{mapping_key}_go"):
        st.session_state[mapping_key] = chosen
        st.rerun()


def _preview_one(up: SavedUpload, ready: Ready) -> None:
    """The preview of one upload (or why it cannot be imported); adds it to ``ready``."""
    mapping_key = f"map_{up.key}"
    mapping = st.session_state.get(mapping_key) or None
    try:
        with st.spinner("Reading the file…"):
            pv = preview_file(ctx.store, up.path, display=up.name, mapping=mapping)
    except TokenboardError as err:
        st.error(md(str(err)))
        if remedy(err) == "map_columns":
            _mapping_form(up, mapping_key)
        return
    st.markdown(f"Recognised as **{md(pv.format)}**")
    c = st.columns(4)
    c[0].metric("Rows", n(pv.rows))
    c[1].metric("Requests", n(pv.requests))
    c[2].metric("Tokens in / out", f"{n(pv.input_tokens)} / {n(pv.output_tokens)}")
    c[3].metric("Cost (USD)", usd(pv.cost_usd),
                help=f"Exactly {usd_exact(pv.cost_usd)}." if pv.cost_usd is not None else None)  # fmt: skip
    if pv.period_start:
        st.caption(f"Period: {pv.period_start:%Y-%m-%d %H:%M} → {pv.period_end:%Y-%m-%d %H:%M} UTC · "
                   f"stored as {words.grain(pv.grain).lower()} of source “{md(pv.source)}”")  # fmt: skip
    for note in pv.notes:
        st.info(md(note))
    if pv.mapped:
        st.write("Columns used:", ", ".join(f"{md(k)} ← {md(v)}" for k, v in pv.mapped.items()))
        if pv.unmapped:
            st.caption("Not used: " + ", ".join(md(u) for u in pv.unmapped))
    st.dataframe(pd.DataFrame(pv.sample, columns=pv.columns), hide_index=True, width="stretch",
                 placeholder=words.UNKNOWN)  # fmt: skip
    ready.append((up.path, up.name, mapping))


def _import_all(ready: Ready) -> None:
    """Import the previewed files one by one; a failure is shown and the next file goes on."""
    with st.status("Importing…", expanded=True) as status:
        ok = 0
        for path, name, mapping in ready:
            try:
                r = import_file(ctx.store, path, display=name, mapping=mapping, role=ctx.user.role,
                                origin="upload", progress=lambda msg: status.write(md(msg)))  # fmt: skip
            except TokenboardError as err:
                st.error(md(str(err)))
            except Exception:
                _unexpected(name, "Import")
            else:
                ok += 1
                st.success(words.import_result(r))
        status.update(
            label=f"{ok} of {len(ready)} imported",
            state="complete" if ok == len(ready) else "error",
        )


if ctx.can("import"):
    st.subheader("Import files")
    uploads = st.file_uploader(
        "Exports: OpenAI/Anthropic usage or cost API responses (JSON), LiteLLM or Helicone CSV, "
        "or any CSV, JSON Lines or Parquet with time and token/cost columns",
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
            f"Import {len(ready)} file{'s' if len(ready) > 1 else ''}", type="primary"
        ):
            _import_all(ready)

if ctx.can("import"):
    st.subheader("Pull from the provider APIs")
    have = configured()
    st.caption(" · ".join(f"{words.provider(p)} admin key: {'set' if ok else 'not set'}" for p, ok in have.items())
               + " (keys are read from the environment or the app's secrets and never shown)")  # fmt: skip
    if not any(have.values()):
        st.info("To pull usage and costs straight from the providers, set `OPENAI_ADMIN_KEY` and/or "
                "`ANTHROPIC_ADMIN_KEY` (organisation admin keys) in the environment or in "
                "`.streamlit/secrets.toml`, then restart the app.")  # fmt: skip
    else:
        today = ctx.now.date()
        p1, p2, p3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        provider = p1.selectbox("Provider", [p for p in PROVIDERS if have[p]], format_func=words.provider,
                                key="pull_provider")  # fmt: skip
        period = p2.date_input("Days (UTC)", (today - timedelta(days=6), today), max_value=today,
                               key="pull_period")  # fmt: skip
        go = p3.button("Pull", key="pull_go", type="primary")
        done = last_pulls(ctx.store)
        if not done.empty:
            st.caption("Last pulls: " + " · ".join(
                f"{md(r.provider)}: data up to {r.data_to:%Y-%m-%d} UTC, pulled {r.pulled:%Y-%m-%d %H:%M} UTC"
                for r in done.itertuples()))  # fmt: skip
        if go:
            if not isinstance(period, tuple) or len(period) != 2:
                st.error("Choose a first and a last day.")
            else:
                with st.status(
                    f"Pulling from {words.provider(provider)}…", expanded=True
                ) as status:
                    try:
                        res = pull(ctx.store, provider, period[0], period[1], role=ctx.user.role,
                                   progress=lambda msg: status.write(md(msg)))  # fmt: skip
                    except TokenboardError as err:
                        status.update(label="Pull failed: nothing was imported", state="error")
                        st.error(md(str(err)))
                    else:
                        for r in res.imports:
                            st.success(words.import_result(r))
                        waited = (
                            f", {res.retries} retries ({res.waited_s:.0f} s waited)"
                            if res.retries
                            else ""
                        )
                        status.update(label=f"Pulled {res.pages} pages{waited}", state="complete")

st.subheader("Import history")
if said := st.session_state.pop("tb_undone", None):
    st.success(said)
show = url.choice(st, "Show", list(SHOW), key="data_show", param="show", widget="segmented_control",
                  format_func=lambda s: words.SHOW_LABELS[s], required=True)  # fmt: skip
hist = import_history(ctx.store, show)
if hist.empty:
    if show == "all":
        st.info(
            "Nothing imported yet. Upload exports above, or run `python -m lib.cli import FILE…`."
        )
    else:
        st.info(f"No import is {words.SHOW_LABELS[show].lower()}.")
else:
    names = [
        f"{name} (demo)" if demo else name
        for name, demo in zip(hist["file_name"], hist["is_demo"], strict=True)
    ]
    shown = hist.assign(status=hist["status"].map(words.status), file_name=names,
                        origin=hist["origin"].map(words.origin), grain=hist["grain"].map(words.grain))  # fmt: skip
    table(shown, "imports", key="imports", columns={
        "import_id": Col("Import", "count"), "status": Col("Status"), "file_name": Col("File"),
        "origin": Col("Origin"), "format": Col("Format"), "grain": Col("Kind"),
        "rows_read": Col("Rows read", "count"), "rows_new": Col("New", "count"),
        "rows_duplicate": Col("Duplicate", "count"), "rows_replaced": Col("Replaced", "count"),
        "period_start": Col("From (UTC)", "time"), "period_end": Col("To (UTC)", "time"),
        "started_at": Col("Started (UTC)", "time"), "error": Col("Error", none="— : no error."),
    })  # fmt: skip
    undoable = hist[hist["status"] == "ok"]
    if ctx.can("undo_import") and not undoable.empty:
        labels = dict(zip(undoable["import_id"], undoable["file_name"], strict=True))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        pick = c1.selectbox("Undo an import (its rows, and only its rows, are removed)", list(labels),
                            index=None, placeholder="Choose an import", key="undo_pick",
                            format_func=lambda i: f"#{i} · {labels[i]}")  # fmt: skip
        if c2.button("Undo", key="undo", disabled=pick is None):
            st.session_state["tb_undo_ask"] = pick
        ask = st.session_state.get("tb_undo_ask")
        if ask is not None and ask in labels:
            st.warning(f"Undo import #{ask} · {md(labels[ask])}? Its rows, and only its rows, are removed "
                       "from every figure; an earlier import they had replaced counts again.")  # fmt: skip
            y, no, _ = st.columns([1, 1, 4])
            if y.button("Yes, undo it", key="undo_yes", type="primary"):
                st.session_state.pop("tb_undo_ask", None)
                try:
                    undone = undo_import(ctx.store, int(ask), role=ctx.user.role)
                except TokenboardError as err:
                    st.error(md(str(err)))
                else:
                    # said after the rerun; nothing chosen then, so no second undo by accident
                    st.session_state["tb_undone"] = words.undo_result(undone, labels[ask])
                    st.session_state.pop("undo_pick", None)
                    st.rerun()
            if no.button("Cancel", key="undo_no"):
                st.session_state.pop("tb_undo_ask", None)
                st.rerun()

if ctx.can("settings"):  # where the server keeps its files is for admins only
    st.subheader("Where the data lives")
    st.write(
        f"Database: `{ctx.store.display_path}` (set `TOKENBOARD_DB` to move it; any DuckDB path, including "
        "`md:` MotherDuck)."
    )
