"""Playground: try a model and its parameters, compare configurations, save them as presets.

The calls, their cost and their records are ``lib.playground.session``'s; this page reads
the inputs, calls it and draws. Nothing is sent without an API key."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from lib.alerts.limits import learn_limit
from lib.errors import TokenboardError
from lib.llm.chat import ChatResult, ChatRun, is_reasoning_model
from lib.llm.models import catalog, default_model, fetch_model_ids
from lib.llm.params import PARAMS, RESPONSE_FORMATS, high, unsupported
from lib.llm.providers import PROVIDERS, base_url
from lib.playground import presets, session, words
from lib.playground.history import recent_runs
from lib.ui.frame import page
from lib.ui.i18n import _, money, n_, number, seconds
from lib.ui.markup import code, defuse, md
from lib.ui.widgets import table

REDRAW_S = 0.1  # seconds between two drawings of a streaming answer

ctx = page("pages/6_Playground.py", filters=False)
store, user, L = ctx.store, ctx.user, ctx.lang
S = st.session_state
st.title(_("Playground"))
st.caption(
    _(
        "Try a model and its parameters before using them in production, compare "
        "configurations side by side, and keep the good ones as presets. Every run is counted "
        "in usage (source “playground”)."
    )
)

S.setdefault("pg_messages", [])
for _name, _value in asdict(session.Settings()).items():
    if _name != "model":
        S.setdefault(f"pg_{_name}", _value)
S.setdefault("pg_keep_text", False)


def _typed_key(provider: str) -> str | None:
    """The key typed on this page for ``provider`` (kept for this session only)."""
    return S.get(f"pg_key_{provider}") or None


@st.cache_data(ttl=600, show_spinner=False)
def _model_ids(provider: str, url: str, key_fingerprint: int) -> list[str] | None:
    try:
        return fetch_model_ids(provider, url, session.api_key(provider, _typed_key(provider)))
    except Exception:  # unreachable, refused, or no models endpoint: fall back to the price catalog
        return None


def _settings() -> session.Settings:
    return session.Settings(**{k: S.get(f"pg_{k}", "") for k in session.Settings.field_names()})


def _restore(config: dict[str, Any], with_messages: bool) -> None:
    """Put a preset's configuration into the inputs (a button callback, before they are drawn)."""
    for k, v in asdict(session.settings_of(config)).items():
        S[f"pg_{k}"] = v
    if with_messages:
        S["pg_messages"] = list(config.get("messages", []))


def _flash(kind: str, text: str) -> None:
    """A message shown once on the Presets tab after a callback."""
    S["pg_flash"] = (kind, text)


def _save_current() -> None:
    name = (S.get("pg_save_name") or "").strip()
    if not name:
        _flash("error", _("Give the preset a name."))
        return
    config = session.config_of(_settings())
    if S.get("pg_save_chat"):
        config |= {"messages": S["pg_messages"]}
    try:
        saved = presets.save(store, user.username, name, config, bool(S.get("pg_save_shared")))
    except TokenboardError as err:
        _flash("error", words.error(err, L, md))
    else:
        _flash("success", _("Saved “{name}”.", name=md(saved.name)))


def _save_winner(label: str, config: dict[str, Any]) -> None:
    name = (S.get(f"pg_win_{label}") or "").strip()
    if not name:
        S["pg_win_saved"] = (label, None, _("Give the preset a name."))
        return
    try:
        presets.save(store, user.username, name, config)
    except TokenboardError as err:
        S["pg_win_saved"] = (label, None, words.error(err, L, md))
    else:
        S["pg_win_saved"] = (label, name, None)


def _clear() -> None:
    S["pg_messages"] = []


def _no_key_sentence(status: session.KeyStatus) -> str:
    return _(
        "No API key for {provider}: set {env} on the server (in the environment or "
        ".streamlit/secrets.toml), or paste a key in the API key field of the Chat tab. "
        "Nothing is sent until then.",
        provider=_(PROVIDERS[status.provider]),
        env=code(status.env_name),
    )


def _show_error(result: ChatResult) -> None:
    err = result.error
    if err is None:
        return
    w = words.advice(err.advice, err.retry_after, L)
    where = " · ".join(md(x) for x in (f"HTTP {err.status}" if err.status else "", err.code or "",
                                       err.message[:300]) if x)  # fmt: skip
    st.error(f"**{w.title}** ({where})\n\n{w.meaning}\n\n**{_('What to do:')}** {w.fix}")


def _figures(out: session.RunOutcome) -> None:
    """The call's figures in two rows (a row of five cuts the labels and the cost off)."""
    result, u = out.result, out.result.usage
    top, bottom = st.columns([1, 1, 1.6]), st.columns([1, 1, 1.6])
    top[0].metric(_("Tokens in"), number(u.prompt_tokens),
                  help=_("of which cached: {n}", n=number(u.cached_tokens or 0)))  # fmt: skip
    top[1].metric(_("Tokens out"), number(u.completion_tokens),
                  help=_("of which reasoning: {n}", n=number(u.reasoning_tokens or 0)))  # fmt: skip
    top[2].metric(_("Cost (USD)"), money(out.cost, digits=6), help=_("From the price catalog."))
    bottom[0].metric(_("First token"), seconds(result.ttft_s))
    bottom[1].metric(_("Total time"), seconds(result.total_s))
    if u.prompt_tokens is not None:
        st.caption(
            _(
                "Of the tokens in, {cached} read from the cache · of the tokens out, {reasoning} "
                "for reasoning · from the provider's usage data",
                cached=number(u.cached_tokens or 0),
                reasoning=number(u.reasoning_tokens or 0),
            )
        )


def _param_value(field: str, value: Any) -> str:
    """A preset's value as the Chat tab shows it."""
    if field == "provider":
        return _(PROVIDERS[value]) if value in PROVIDERS else str(value)
    if field == "response_format":
        return words.response_format(value, L) if value in RESPONSE_FORMATS else str(value)
    if field == "messages":
        return n_("{n} message", "{n} messages", int(value))
    if field == "system":
        text = str(value)
        return text if len(text) <= 200 else text[:199] + "…"
    if isinstance(value, float):
        return number(value)
    return str(value)


def _field_label(field: str) -> str:
    return {"provider": _("Provider"), "model": _("Model"), "system": _("System prompt"),
            "messages": _("Conversation")}.get(field) or words.param_label(field, L)  # fmt: skip


# --- a run interrupted by Stop (or by leaving the page) keeps what had arrived ----------------
inflight = S.pop("pg_inflight", None)
if inflight:
    S["pg_messages"].append(
        {"role": "assistant", "content": inflight["text"] + " " + _("…(stopped)")}
    )
    session.finish(store, user.username, inflight["req"],
                   session.stopped(inflight["req"], inflight["text"]), S["pg_keep_text"], user.role)  # fmt: skip

mine = presets.visible(store, user.username)  # after the callbacks: a preset saved just now is here
chat_tab, compare_tab, presets_tab, history_tab = st.tabs(
    [_("Chat"), _("Compare"), _("Presets"), _("History")], on_change="rerun"
)

# The message box sits at the bottom of the window while the Chat tab is open; nothing is sent
# without a key for the chosen provider. It is drawn last (the bottom bar shows it wherever it
# is called), so a message can only be sent once every input of the run is drawn: sent before,
# the inputs not yet drawn would go with their lowest values (a max tokens of 1). What was
# sent is read here, from its key.
status = session.key_status(S["pg_provider"], _typed_key(S["pg_provider"]))
chat_open = chat_tab.open is not False
prompt = S.get("pg_prompt") if chat_open and status.ready else None

# Inputs whose value is not the widget's own default (a slider's lowest value, the first model)
# are given again on every run: a rerun that comes before the browser has drawn them (the
# sign-in cookie's answer right after signing in) would otherwise draw them at that default.
for _key in ("pg_temperature", "pg_top_p", "pg_frequency_penalty", "pg_presence_penalty",
             "pg_max_tokens", "pg_model"):  # fmt: skip
    if _key in S:
        S[_key] = S[_key]

with chat_tab:
    left, right = st.columns([1, 2], gap="large")
    with left:
        provider = st.selectbox(_("Provider"), list(PROVIDERS), key="pg_provider",
                                format_func=lambda p: _(PROVIDERS[p]))  # fmt: skip
        if status.source == "server":
            st.caption(_("API key: set on the server ({env}) · {url}", env=code(status.env_name),
                         url=code(base_url(provider))))  # fmt: skip
        else:
            st.text_input(_("API key (kept for this session only, never stored)"), type="password",
                          key=f"pg_key_{provider}", help=_("Or set {env} on the server.", env=status.env_name))  # fmt: skip
            st.caption(code(base_url(provider)))
        key_print = hash(session.api_key(provider, _typed_key(provider)) or "")
        ids = _model_ids(provider, base_url(provider), key_print)
        models = catalog(store, provider, ids)
        names = [m.id for m in models] or ["gpt-4o-mini"]
        if not S.get("pg_model") or (
            S.get("pg_model_provider") != provider and S["pg_model"] not in names
        ):
            S["pg_model"] = default_model(provider, models) or names[0]  # a sensible start
        S["pg_model_provider"] = provider
        if S["pg_model"] not in names:
            names = [S["pg_model"], *names]
        model = st.selectbox(_("Model"), names, key="pg_model", accept_new_options=True,
                             help=_("Listed by the provider when reachable, else the priced models; type any other name."))  # fmt: skip
        info = next((m for m in models if m.id == model), None)
        if info and info.input_per_mtok is not None:
            note = _("{inp} in / {out} out per 1M tokens",
                     inp=money(info.input_per_mtok, digits=None), out=money(info.output_per_mtok, digits=None))  # fmt: skip
            if info.context_window:
                note += " · " + _("context {n} tokens", n=number(info.context_window))
        elif ids is None:
            note = _("Models endpoint not reachable: showing the priced models.")
        else:
            note = _("No price in the catalog for this model: its runs are counted without a cost.")
        # one caption whatever the model: an element that comes and goes would move the inputs
        # below it, and Streamlit would redraw them from their defaults
        st.caption(note)
        st.text_area(_("System prompt"), key="pg_system", height=100)
        with st.expander(_("Parameters"), expanded=True):
            for name in session.SAMPLING:
                why = unsupported(provider, model, name)
                spec, top = PARAMS[name], high(provider, name)
                if S[f"pg_{name}"] > top:
                    S[f"pg_{name}"] = top
                st.slider(words.param_label(name, L), float(spec.low or 0), float(top or 0), key=f"pg_{name}", step=0.05,
                          disabled=bool(why), help=words.reason(why, L, md) if why else words.param_help(name, L))  # fmt: skip
            label = (
                _("Max completion tokens")
                if provider != "anthropic" and is_reasoning_model(model)
                else words.param_label("max_tokens", L)
            )
            st.number_input(
                label, 1, 200_000, key="pg_max_tokens", help=words.param_help("max_tokens", L)
            )
            why = unsupported(provider, model, "stop")
            st.text_area(_("Stop sequences (one per line, up to 4)"), key="pg_stop", height=68, disabled=bool(why),
                         help=words.reason(why, L, md) if why else words.param_help("stop", L))  # fmt: skip
            why = unsupported(provider, model, "seed")
            st.text_input(words.param_label("seed", L), key="pg_seed", disabled=bool(why),
                          help=words.reason(why, L, md) if why else words.param_help("seed", L))  # fmt: skip
            why = unsupported(provider, model, "response_format")
            st.selectbox(words.param_label("response_format", L), RESPONSE_FORMATS, key="pg_format",
                         disabled=bool(why), format_func=lambda f: words.response_format(f, L),
                         help=words.reason(why, L, md) if why else words.param_help("response_format", L))  # fmt: skip
            if S["pg_format"] == "json_schema" and not why:
                st.text_area(_("JSON schema"), key="pg_schema", height=120,
                             placeholder='{"name": "reply", "schema": {"type": "object", "properties": {}}}')  # fmt: skip
        st.checkbox(_("Keep texts in the history"), key="pg_keep_text",
                    help=_("The prompt and the answer are stored with the run; otherwise only its figures."))  # fmt: skip
        settings = _settings()
        config = session.config_of(settings)
        est = session.estimate(store, settings, S["pg_messages"])
        size = number(est.tokens)
        line = (
            _("Prompt so far: {n} tokens", n=size)
            if est.exact
            else _("Prompt so far: about {n} tokens", n=size)
        )
        line += " · " + (
            _("at most {cost} with the longest answer", cost=money(est.max_cost, digits=5))
            if est.max_cost is not None
            else _("unpriced model")
        )
        st.caption(line)
    with right:
        if not status.ready:
            st.warning(_no_key_sentence(status), icon=":material/key_off:")
        for m in S["pg_messages"]:
            with st.chat_message(m["role"]):
                st.markdown(defuse(m["content"]))
        last = S.pop("pg_last", None)
        if last:
            _show_error(last.result)
            _figures(last)
        if S["pg_messages"] and not prompt:
            st.button(_("Clear the conversation"), key="pg_clear", on_click=_clear, type="tertiary")
        if prompt and status.ready:
            S["pg_messages"].append({"role": "user", "content": prompt})
            with st.chat_message("user"):
                st.markdown(defuse(prompt))
            try:
                req = session.request(
                    config, S["pg_messages"], session.api_key(provider, _typed_key(provider))
                )
            except TokenboardError as err:
                S["pg_messages"].pop()
                st.error(words.error(err, L, md))
            else:
                st.button(
                    _("Stop"),
                    key="pg_stop_button",
                    help=_("Ends the answer here; what arrived is kept."),
                )
                S["pg_inflight"] = {"req": req, "text": ""}
                run = ChatRun(req)

                def _tokens():
                    for text in run.stream():
                        S["pg_inflight"]["text"] += text
                        yield text

                with st.chat_message("assistant"):  # drawn defused: no image fetches an address
                    box, shown, drawn = st.empty(), "", 0.0
                    for text in _tokens():
                        shown += text
                        # defusing parses the whole answer (about 11 ms for 8 KB): a few
                        # times a second while it streams, not at every piece
                        if time.monotonic() - drawn >= REDRAW_S:
                            box.markdown(defuse(shown) + " ▌")
                            drawn = time.monotonic()
                    box.markdown(defuse(shown))
                S.pop("pg_inflight", None)
                result = run.result
                if result.text:
                    S["pg_messages"].append({"role": "assistant", "content": result.text})
                S["pg_last"] = session.finish(
                    store, user.username, req, result, S["pg_keep_text"], user.role
                )
                if (
                    result.rate_limits
                ):  # the limits the answer's headers stated: the Usage page shows them
                    learn_limit(
                        store, req.provider, req.model, *result.rate_limits, seen_at=ctx.now
                    )
                st.rerun()

with compare_tab:
    st.caption(_("Run one prompt against 2 to 4 configurations: the current one and presets."))
    current = _("Current settings")
    choices = {current: config} | {f"{p.name} ({p.owner})": p.config for p in mine}
    if "pg_compare_pick" in S:  # a preset deleted (or the language changed) since it was picked
        S["pg_compare_pick"] = [c for c in S["pg_compare_pick"] if c in choices][:4]
    picked = st.multiselect(_("Configurations"), list(choices), default=list(choices)[:2], max_selections=4,
                            key="pg_compare_pick", placeholder=_("Pick two to four"))  # fmt: skip
    if len(choices) < 2:
        st.info(_("Save a preset on the Presets tab (or have a colleague share one) to compare it with the "
                  "current settings."))  # fmt: skip
    cprompt = st.text_area(_("Prompt"), key="pg_compare_prompt", height=100)
    blocked = {
        s.provider: s
        for s in (session.key_status(choices[c]["provider"], _typed_key(choices[c]["provider"])) for c in picked)
        if not s.ready
    }  # fmt: skip
    for s in blocked.values():
        st.warning(_no_key_sentence(s), icon=":material/key_off:")
    if st.button(
        _("Run all"),
        key="pg_compare_go",
        type="primary",
        disabled=len(picked) < 2 or not cprompt.strip() or bool(blocked),
        help=_("Pick 2 to 4 configurations and write a prompt."),
    ):
        S["pg_compare"] = session.compare(store, user.username, [(c, choices[c]) for c in picked], cprompt,
                                          _typed_key, S["pg_keep_text"], user.role)  # fmt: skip
    results: list[session.CompareOutcome] = S.get("pg_compare", [])
    saved_winner = S.pop("pg_win_saved", None)
    for col, o in zip(st.columns(max(len(results), 1)), results, strict=False):
        with col:
            st.markdown(f"**{md(o.label)}** · {code(o.config['model'])}")
            if o.problem or o.outcome is None:
                p = o.problem
                if p and p.code == "no_key":
                    st.error(_("Not sent: no API key ({env}).", env=code(p.field)))
                else:
                    reason = (
                        words.error(p.error, L, md) if p and p.error else md(p.detail if p else "")
                    )
                    st.error(_("Not sent: {why}", why=reason))
                continue
            result = o.outcome.result
            _show_error(result)
            st.markdown(defuse(result.text) or "_" + _("(no answer)") + "_")
            u = result.usage
            cost = _("unpriced") if o.outcome.cost is None else money(o.outcome.cost, digits=6)
            st.caption(_("{time} · {inp} in / {out} out · {cost}", time=seconds(result.total_s or 0),
                         inp=number(u.prompt_tokens or 0), out=number(u.completion_tokens or 0), cost=cost))  # fmt: skip
            st.text_input(
                _("Save as preset"), key=f"pg_win_{o.label}", placeholder=_("Preset name")
            )
            st.button(
                _("Save"),
                key=f"pg_win_save_{o.label}",
                on_click=_save_winner,
                args=(o.label, o.config),
            )
            if saved_winner and saved_winner[0] == o.label:
                if saved_winner[1]:
                    st.success(_("Saved “{name}”.", name=md(saved_winner[1])))
                else:
                    st.error(saved_winner[2])


with presets_tab:
    with st.form("pg_save_form"):
        st.markdown("**" + _("Save the current settings") + "**")
        st.text_input(_("Name"), placeholder=_("Support chatbot"), key="pg_save_name")
        st.checkbox(_("Share with the team"), key="pg_save_shared")
        st.checkbox(_("Include the conversation"), key="pg_save_chat")
        st.form_submit_button(_("Save preset"), on_click=_save_current)
    flash = S.pop("pg_flash", None)
    if flash:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    if not mine:
        st.info(_("No presets yet. Set up a model on the Chat tab and save it here."))
    else:
        by_id = {p.preset_id: p for p in mine}
        if S.get("pg_preset_pick") not in by_id:
            S.pop("pg_preset_pick", None)

        def _preset_name(i: int) -> str:
            p = by_id[i]
            return " · ".join(
                (p.name, p.config["model"], _("shared") if p.shared else _("private"), p.owner)
            )

        pick: int = st.selectbox(
            _("Preset"), list(by_id), key="pg_preset_pick", format_func=_preset_name
        )
        chosen = by_id[pick]
        rows = session.preset_rows(chosen.config)
        st.dataframe(
            pd.DataFrame({_("Setting"): [_field_label(f) for f, _v in rows],
                          _("Value"): [_param_value(f, v) for f, v in rows]}),
            hide_index=True, width="stretch",
        )  # fmt: skip
        b1, b2, b3 = st.columns(3)
        b1.button(
            _("Restore"),
            key="pg_restore",
            on_click=_restore,
            args=(chosen.config, True),
            type="primary",
        )
        new_name = b2.text_input(_("New name"), key="pg_rename_to", label_visibility="collapsed",
                                 placeholder=_("New name"))  # fmt: skip
        if b2.button(_("Rename"), key="pg_rename"):
            try:
                presets.rename(store, user.username, user.role, pick, new_name)
                st.rerun()
            except TokenboardError as err:
                st.error(words.error(err, L, md))
        if b3.button(_("Delete"), key="pg_delete"):
            try:
                presets.delete(store, user.username, user.role, pick)
                st.rerun()
            except TokenboardError as err:
                st.error(words.error(err, L, md))
        st.download_button(_("Export presets (JSON)"), lambda: presets.export_json(mine), "tokenboard-presets.json",
                           "application/json", key="pg_export", on_click="ignore")  # fmt: skip
    upload = st.file_uploader(_("Import presets (JSON)"), type=["json"], key="pg_import")
    if upload is not None and st.button(_("Import"), key="pg_import_go"):
        try:
            done = presets.import_json(
                store, user.username, upload.getvalue().decode("utf-8", "replace"), upload.name
            )
        except TokenboardError as err:
            st.error(words.error(err, L, md))
        else:
            st.success(n_("Imported {n} preset.", "Imported {n} presets.", len(done)))

with history_tab:
    runs = recent_runs(store, None if user.role == "admin" else user.username, limit=200)
    if runs.empty:
        st.info(_("No runs yet. Every message sent on the Chat or Compare tab appears here."))
    else:
        st.caption(
            _("Newest first. Prompt and answer text are kept only for runs where that was chosen.")
        )
        status_words = {"ok": _("ok"), "error": _("error"), "stopped": _("stopped")}
        runs = pd.DataFrame(runs).assign(
            status=lambda d: d["status"].map(lambda s: status_words.get(s, s)),
            provider=lambda d: d["provider"].map(
                lambda p: _(PROVIDERS[p]) if p in PROVIDERS else p
            ),
            error_title=lambda d: d["error_title"].map(lambda t: _(t) if isinstance(t, str) else t),
        )
        headers = {"run_id": _("Run"), "ran_at": _("When (UTC)"), "username": _("User"), "provider": _("Provider"),
                 "model": _("Model"), "status": _("Status"), "prompt_tokens": _("Tokens in"),
                 "cached_tokens": _("Cached"), "completion_tokens": _("Tokens out"),
                 "reasoning_tokens": _("Reasoning"), "ttft_ms": _("First token (ms)"), "total_ms": _("Total (ms)"),
                 "cost_usd": _("Cost (USD)"), "error_title": _("Error"), "prompt_text": _("Prompt"),
                 "answer_text": _("Answer"), "params": _("Parameters")}  # fmt: skip
        table(runs.rename(columns=headers), "playground_runs", key="pg_runs")

if chat_open:
    st.chat_input(
        _("Message the model") if status.ready else _("Set an API key to send a message"),
        key="pg_prompt",
        disabled=not status.ready,
    )
