"""The price catalog tab: every price with the day it takes effect (in force today, or the
whole history), filtered by provider and model; admins add, edit and delete prices, import a
price list (Tokenboard's export or LiteLLM's JSON) after a preview, and everyone who reads
the settings downloads the catalog. The checks, the audit and the role are lib's
(``lib.pricing.edit``); this module only words them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from lib.auth.roles import PermissionDeniedError
from lib.pricing.edit import (
    ImportPreview,
    PriceError,
    add_price,
    apply_import,
    check_price,
    delete_price,
    edit_price,
    export_catalog,
    list_prices,
    preview,
    providers,
    read_price_list,
)
from lib.store.seed import Price
from lib.ui import url, words
from lib.ui.frame import PageContext
from lib.ui.i18n import N_, _, integer, n_
from lib.ui.markup import md
from lib.ui.widgets import Col, table

FLASH = "prices_flash"
PREVIEW = "prices_import_preview"
# Each field in words (LiteLLM's own keys are shown as the file writes them).
FIELD_LABELS = {
    "provider": N_("Provider"), "model": N_("Model"), "effective_from": N_("In force from"),
    "input": N_("Input"), "cached_input": N_("Cached input"), "cache_write_5m": N_("Cache write (5 min)"),
    "cache_write_1h": N_("Cache write (1 h)"), "output": N_("Output"),
    "batch_discount": N_("Batch discount"), "note": N_("Note"), "prices": N_("Prices"),
}  # fmt: skip
PRICE_ERRORS = {
    "required": N_("{field}: this field is required."),
    "number": N_("{field}: expected a decimal number such as 2.50 (a dot for the decimals)."),
    "negative": N_("{field}: a price cannot be negative."),
    "too_high": N_("{field}: at most 10,000 USD per 1M tokens."),
    "too_precise": N_("{field}: at most 6 decimal places per 1M tokens."),
    "discount": N_("{field}: a fraction from 0 up to (not including) 1, such as 0.5 for half price, at most 4 decimals."),
    "date": N_("{field}: a day from 2000-01-01 to two years from today."),
    "model": N_("{field}: lower-case letters, digits and . _ : / @ + - (up to 200 characters)."),
    "provider": N_("{field}: lower-case letters, digits, _ and - (up to 40 characters), such as openai."),
    "note": N_("{field}: at most 200 characters."),
    "duplicate": N_("{field}: this model already has a price taking effect that day."),
    "not_found": N_("This price no longer exists: someone removed it. The list shows what is there now."),
    "json": N_("The file is not JSON (UTF-8)."),
    "format": N_("The file is neither a Tokenboard price list nor LiteLLM's model_prices_and_context_window.json."),
    "too_big": N_("The file is larger than 20 MB."),
    "empty": N_("The file holds no chat or completion model with a per-token price."),
}  # fmt: skip


def price_error(err: PriceError) -> str:
    """A refusal in words, naming the entry and the field."""
    field = err.field or "prices"
    shown = _(FIELD_LABELS[field]) if field in FIELD_LABELS else field
    text = _(PRICE_ERRORS.get(err.code, N_("The change was refused.")), field=md(shown))
    if err.entry:
        text = _("Entry {entry}: {problem}", entry=md(err.entry), problem=text)
    return text


def _done(text: str) -> None:
    st.session_state[FLASH] = text
    st.rerun()


def _refused(err: Exception, role: str) -> None:
    if isinstance(err, PermissionDeniedError):
        st.error(_("Your role ({role}) may not change prices.", role=role))
    elif isinstance(err, PriceError):
        st.error(price_error(err))


def _text(d: Decimal | None) -> str:
    return "" if d is None else format(d, "f")


def _cell(d: Decimal | None) -> str | None:
    """A price as its exact decimal text; None (shown "—": not offered) when empty."""
    return None if d is None else format(d, "f")


def _frame(rows: list[Price]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"provider": words.provider(p.provider), "model": p.model, "from": p.effective_from,
          "input": _cell(p.input), "cached": _cell(p.cached_input), "w5": _cell(p.cache_write_5m),
          "w1": _cell(p.cache_write_1h), "output": _cell(p.output),
          "batch": _cell(p.batch_discount), "note": p.note} for p in rows],
        columns=["provider", "model", "from", "input", "cached", "w5", "w1", "output", "batch", "note"],
    )  # fmt: skip


COLUMNS = {
    "provider": Col(N_("Provider")), "model": Col(N_("Model")), "from": Col(N_("In force from"), "day"),
    "input": Col(N_("Input"), help=N_("USD per 1M input tokens")),
    "cached": Col(N_("Cached input"), help=N_("USD per 1M input tokens read from the cache")),
    "w5": Col(N_("Cache write (5 min)"), help=N_("USD per 1M tokens written to a 5-minute cache")),
    "w1": Col(N_("Cache write (1 h)"), help=N_("USD per 1M tokens written to a 1-hour cache")),
    "output": Col(N_("Output"), help=N_("USD per 1M output tokens")),
    "batch": Col(N_("Batch discount"), help=N_("The share taken off through the batch API: 0.5 is 50 %")),
    "note": Col(N_("Note")),
}  # fmt: skip


def _fields(key: str, p: Price | None, today: date) -> dict[str, Any]:
    """The inputs of one price (empty for a new one) and what they hold."""
    a, b, c = st.columns(3)
    out: dict[str, Any] = {
        "provider": a.text_input(_("Provider"), value=p.provider if p else "", placeholder="openai", key=f"{key}_provider"),
        "model": b.text_input(_("Model"), value=p.model if p else "", placeholder="gpt-4o", key=f"{key}_model"),
        "effective_from": c.date_input(_("In force from"), value=p.effective_from if p else today, key=f"{key}_from",
                                       min_value=date(2000, 1, 1), help=_("The UTC day the price takes effect.")),
    }  # fmt: skip
    a, b, c = st.columns(3)
    out["input"] = a.text_input(
        _("Input"), value=_text(p.input) if p else "", key=f"{key}_input", placeholder="2.50"
    )
    out["cached_input"] = b.text_input(_("Cached input"), value=_text(p.cached_input) if p else "",
                                       key=f"{key}_cached", help=_("Empty: the input price."))  # fmt: skip
    out["output"] = c.text_input(
        _("Output"), value=_text(p.output) if p else "", key=f"{key}_output", placeholder="10"
    )
    a, b, c = st.columns(3)
    out["cache_write_5m"] = a.text_input(_("Cache write (5 min)"), value=_text(p.cache_write_5m) if p else "",
                                         key=f"{key}_w5", help=_("Empty: the input price."))  # fmt: skip
    out["cache_write_1h"] = b.text_input(_("Cache write (1 h)"), value=_text(p.cache_write_1h) if p else "",
                                         key=f"{key}_w1", help=_("Empty: the 5-minute write price."))  # fmt: skip
    out["batch_discount"] = c.text_input(_("Batch discount"), value=_text(p.batch_discount) if p else "0",
                                         key=f"{key}_batch", help=_("0.5 = half price with the batch API."))  # fmt: skip
    out["note"] = st.text_input(_("Note"), value=p.note if p else "", key=f"{key}_note")
    return out


def _import(ctx: PageContext, from_ip: str | None) -> None:
    st.caption(_("A JSON price list: a catalog downloaded here, or LiteLLM's model_prices_and_context_window.json "
                 "(its per-token costs become prices per 1M tokens; only chat and completion models are read). "
                 "Nothing changes until you apply the preview."))  # fmt: skip
    gen = st.session_state.get("prices_import_gen", 0)
    a, b = st.columns([3, 1])
    upload = a.file_uploader(_("Price list (JSON)"), type=["json"], key=f"prices_file_{gen}")
    day = b.date_input(_("In force from"), value=ctx.now.date(), key=f"prices_import_day_{gen}",
                       help=_("The day LiteLLM's prices take effect; a Tokenboard list keeps its own days."))  # fmt: skip
    if upload is not None and st.button(_("Preview the import"), key="prices_preview"):
        try:
            plan = read_price_list(upload.getvalue(), day, ctx.now.date())
            st.session_state[PREVIEW] = preview(ctx.store, plan)
        except PriceError as err:
            st.session_state.pop(PREVIEW, None)
            st.error(price_error(err))
    seen: ImportPreview | None = st.session_state.get(PREVIEW)
    if seen is None:
        return
    plan = seen.plan
    st.markdown(_("**{added}** to add · **{changed}** to change · **{unchanged}** unchanged",
                  added=integer(len(seen.added)), changed=integer(len(seen.changed)),
                  unchanged=integer(len(seen.unchanged))))  # fmt: skip
    notes = []
    if plan.skipped_mode:
        notes.append(n_("{n} entry skipped: not a chat or completion model",
                        "{n} entries skipped: not chat or completion models", plan.skipped_mode))  # fmt: skip
    if plan.skipped_unpriced:
        notes.append(n_("{n} entry skipped: no per-token input and output price",
                        "{n} entries skipped: no per-token input and output price", plan.skipped_unpriced))  # fmt: skip
    if plan.ignored_fields:
        notes.append(n_("{n} field not read: {names}", "{n} fields not read: {names}", len(plan.ignored_fields),
                        names=md(", ".join(plan.ignored_fields[:12]) + (", …" if len(plan.ignored_fields) > 12 else ""))))  # fmt: skip
    for note in notes:
        st.caption(note)
    changes = [*seen.added, *(after for _before, after in seen.changed)]
    if changes:
        table(_frame(changes[:500]), "price_import_preview", key="prices_preview_table",
              columns={k: Col(_(c.label), c.kind) for k, c in COLUMNS.items()})  # fmt: skip
    row = st.container(horizontal=True)
    if changes and row.button(_("Apply the import"), type="primary", key="prices_apply"):
        try:
            done = apply_import(
                ctx.store, ctx.user.role, ctx.user.username, plan, from_ip=from_ip, now=ctx.now
            )
        except (PriceError, PermissionDeniedError) as err:
            _refused(err, ctx.user.role)
        else:
            st.session_state.pop(PREVIEW, None)
            st.session_state["prices_import_gen"] = gen + 1
            _done(_("Price list imported: {added} added, {changed} changed.",
                    added=integer(len(done.added)), changed=integer(len(done.changed))))  # fmt: skip
    if row.button(_("Cancel"), key="prices_cancel", type="tertiary"):
        st.session_state.pop(PREVIEW, None)
        st.rerun()


def draw(ctx: PageContext) -> None:
    """The catalog for every role that reads the settings; the forms for admins only."""
    store, today = ctx.store, ctx.now.date()
    is_admin = ctx.can("settings")
    from_ip = (
        st.context.ip_address if isinstance(st.context.ip_address, str) else None
    )  # for the audit
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    st.caption(_("List prices in USD per 1M tokens, each in force from its day (UTC) until the model's next "
                 "price. Estimates use the price in force on the day of the usage; a change here recomputes "
                 "every page's estimate."))  # fmt: skip
    a, b, c = st.columns([1, 1, 1])
    provs = ["", *providers(store)]
    prov = a.selectbox(_("Provider"), provs, key="prices_provider",
                       format_func=lambda p: words.provider(p) if p else _("All"))  # fmt: skip
    search = b.text_input(_("Model contains"), key="prices_search", placeholder="gpt-4o")
    show = url.choice(c, _("Show"), ["today", "history"], key="prices_show", param="prices",
                      format_func=lambda s: _("In force today") if s == "today" else _("Whole history"),
                      widget="segmented_control", required=True)  # fmt: skip
    rows = list_prices(store, provider=prov or None, model=search or None,
                       in_force_on=today if show == "today" else None)  # fmt: skip
    st.caption(n_("{n} price", "{n} prices", len(rows)))
    if rows:
        table(_frame(rows), "prices", key="prices_table",
              columns={k: Col(_(c.label), c.kind) for k, c in COLUMNS.items()})  # fmt: skip
    else:
        st.info(_("No price matches these filters."))
    st.download_button(_("Download the catalog (JSON)"), lambda: export_catalog(store), "tokenboard-prices.json",
                       "application/json", key="prices_export", on_click="ignore",
                       icon=":material/download:")  # fmt: skip
    if not is_admin:
        st.caption(_("Admins add, change and import prices."))
        return
    role, me = ctx.user.role, ctx.user.username
    with st.expander(_("Add a price"), icon=":material/add:"):
        gen = st.session_state.get("price_add_gen", 0)
        entered = _fields(f"price_add_{gen}", None, today)
        if st.button(_("Add the price"), type="primary", key="price_add"):
            try:
                p = check_price(**entered, today=today)
                add_price(store, role, me, p, from_ip=from_ip, now=ctx.now)
            except (PriceError, PermissionDeniedError) as err:
                _refused(err, role)
            else:
                st.session_state["price_add_gen"] = gen + 1
                _done(
                    _(
                        "Price of {model} from {day} added.",
                        model=md(p.model),
                        day=str(p.effective_from),
                    )
                )
    if rows:
        with st.expander(_("Change or delete a price"), icon=":material/edit:"):
            keys = [(p.model, p.effective_from) for p in rows]
            by_key = {k: p for k, p in zip(keys, rows, strict=True)}
            pick = st.selectbox(_("Price"), keys, key="price_pick",
                                format_func=lambda k: f"{k[0]} · {k[1].isoformat()}")  # fmt: skip
            old = by_key[pick]
            entered = _fields(f"price_edit_{pick[0]}_{pick[1]}", old, today)
            row = st.container(horizontal=True)
            try:
                if row.button(_("Save the price"), type="primary", key="price_save"):
                    p = check_price(**entered, today=today)
                    edit_price(
                        store,
                        role,
                        me,
                        old.model,
                        old.effective_from,
                        p,
                        from_ip=from_ip,
                        now=ctx.now,
                    )
                    _done(
                        _(
                            "Price of {model} from {day} saved.",
                            model=md(p.model),
                            day=str(p.effective_from),
                        )
                    )
                sure = row.checkbox(_("Yes, delete it"), key="price_sure")
                if row.button(
                    _("Delete the price"),
                    key="price_delete",
                    disabled=not sure,
                    icon=":material/delete:",
                ):
                    delete_price(
                        store, role, me, old.model, old.effective_from, from_ip=from_ip, now=ctx.now
                    )
                    _done(_("Price of {model} from {day} deleted.", model=md(old.model),
                            day=str(old.effective_from)))  # fmt: skip
            except (PriceError, PermissionDeniedError) as err:
                _refused(err, role)
    with st.expander(_("Import a price list"), icon=":material/upload:"):
        _import(ctx, from_ip)
