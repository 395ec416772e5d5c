"""Playground: try a model and its parameters, compare configurations, save them as presets."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from lib.errors import TokenboardError
from lib.llm.chat import ChatRequest, ChatResult, ChatRun, Usage, is_reasoning_model, run_chat
from lib.llm.cost import call_cost, max_cost, rates
from lib.llm.models import catalog, default_model, fetch_model_ids
from lib.llm.params import PARAMS, RESPONSE_FORMATS, ParamError, high, unsupported, validate
from lib.llm.providers import PROVIDERS, base_url, configured_key
from lib.llm.tokens import count_prompt
from lib.money import money_str
from lib.playground import presets
from lib.playground.history import recent_runs, record_run
from lib.ui.frame import page
from lib.ui.markup import code, defuse, md
from lib.ui.widgets import table

ctx = page("pages/6_Playground.py", filters=False)
store, user = ctx.store, ctx.user
st.title("Playground")
st.caption("Try a model and its parameters before using them in production, compare configurations side by "
           "side, and keep the good ones as presets. Every run is counted in usage (source “playground”).")  # fmt: skip

S = st.session_state
S.setdefault("pg_messages", [])
DEFAULTS: dict[str, Any] = {"pg_provider": "openai", "pg_system": "", "pg_temperature": 1.0, "pg_top_p": 1.0,
                            "pg_max_tokens": 1024, "pg_frequency_penalty": 0.0, "pg_presence_penalty": 0.0,
                            "pg_stop": "", "pg_seed": "", "pg_format": "text", "pg_schema": "",
                            "pg_keep_text": False}  # fmt: skip
for k, v in DEFAULTS.items():
    S.setdefault(k, v)


@st.cache_data(ttl=600, show_spinner=False)
def _model_ids(provider: str, url: str, key_fingerprint: int) -> list[str] | None:
    try:
        return fetch_model_ids(provider, url, _key(provider))
    except Exception:  # unreachable, refused, or no models endpoint: fall back to the price catalog
        return None


def _key(provider: str) -> str | None:
    return configured_key(provider) or S.get(f"pg_key_{provider}") or None


def _config() -> dict[str, Any]:
    """The current configuration, as a preset stores it."""
    fmt = S["pg_format"]
    params: dict[str, Any] = {
        "temperature": S["pg_temperature"], "top_p": S["pg_top_p"], "max_tokens": S["pg_max_tokens"],
        "frequency_penalty": S["pg_frequency_penalty"], "presence_penalty": S["pg_presence_penalty"],
        "stop": [s for s in S["pg_stop"].splitlines() if s], "seed": int(S["pg_seed"]) if S["pg_seed"].strip().isdigit() else None,
        "response_format": {"json_schema": S["pg_schema"]} if fmt == "json_schema" else fmt,
    }  # fmt: skip
    provider, model = S["pg_provider"], S.get("pg_model") or ""
    # drop what the model does not take and what is at its default, so a preset holds what matters
    params = {
        k: v
        for k, v in params.items()
        if not unsupported(provider, model, k) and v != PARAMS[k].default
    }
    return {"provider": provider, "model": model, "system": S["pg_system"], "params": params}


def _restore(config: dict[str, Any], with_messages: bool) -> None:
    """Put a preset's configuration into the widgets (a button callback, before they are drawn)."""
    S["pg_provider"], S["pg_model"], S["pg_system"] = (
        config["provider"],
        config["model"],
        config.get("system", ""),
    )
    for name in ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty"):
        S[f"pg_{name}"] = config["params"].get(name, PARAMS[name].default)
    S["pg_stop"] = "\n".join(config["params"].get("stop", []))
    S["pg_seed"] = str(config["params"].get("seed", "") or "")
    rf = config["params"].get("response_format", "text")
    S["pg_format"] = "json_schema" if isinstance(rf, dict) else rf
    S["pg_schema"] = (rf["json_schema"] if isinstance(rf["json_schema"], str) else json.dumps(rf["json_schema"]))\
        if isinstance(rf, dict) else ""  # fmt: skip
    if with_messages:
        S["pg_messages"] = list(config.get("messages", []))


def _request(
    config: dict[str, Any], messages: list[dict[str, str]], stream: bool = True
) -> ChatRequest:
    provider = config["provider"]
    sent = validate(provider, config["model"], config["params"])
    return ChatRequest(provider, base_url(provider), config["model"], tuple(messages), config.get("system", ""),
                       sent, stream, _key(provider))  # fmt: skip


def _finish(req: ChatRequest, result: ChatResult) -> None:
    """Store the run (counted in usage) and remember its cost for the figures under the answer."""
    cost = call_cost(rates(store, req.model), result.usage)
    record_run(store, user.username, req, result, cost, keep_text=S["pg_keep_text"])
    S["pg_last"] = {"result": result, "cost": cost}


def _show_error(result: ChatResult) -> None:
    err = result.error
    if err is None:
        return
    where = " · ".join(md(x) for x in (f"HTTP {err.status}" if err.status else "", err.code or "",
                                       err.message[:300]) if x)  # fmt: skip
    st.error(
        f"**{err.advice.title}** ({where})\n\n{err.advice.meaning}\n\n**What to do:** {err.advice.fix}"
    )


def _figures(result: ChatResult, cost: Any) -> None:
    u: Usage = result.usage
    c = st.columns([1, 1, 1, 1, 1.5])
    c[0].metric("First token", "—" if result.ttft_s is None else f"{result.ttft_s:.2f} s")
    c[1].metric("Total time", "—" if result.total_s is None else f"{result.total_s:.2f} s")
    c[2].metric("Tokens in", "—" if u.prompt_tokens is None else f"{u.prompt_tokens:,}",
                help=f"of which cached: {u.cached_tokens or 0:,}")  # fmt: skip
    c[3].metric("Tokens out", "—" if u.completion_tokens is None else f"{u.completion_tokens:,}",
                help=f"of which reasoning: {u.reasoning_tokens or 0:,}")  # fmt: skip
    c[4].metric(
        "Cost (USD)", "—" if cost is None else f"${cost:.6f}", help="From the price catalog."
    )
    if u.prompt_tokens is not None:
        st.caption(f"Of the tokens in, {u.cached_tokens or 0:,} read from the cache · of the tokens out, "
                   f"{u.reasoning_tokens or 0:,} for reasoning · from the provider's usage data")  # fmt: skip


# --- a run interrupted by Stop (or by leaving the page) keeps what had arrived ----------------
inflight = S.pop("pg_inflight", None)
if inflight:
    stopped = ChatResult(text=inflight["text"], status="stopped", model=inflight["req"].model)
    S["pg_messages"].append({"role": "assistant", "content": inflight["text"] + " …(stopped)"})
    _finish(inflight["req"], stopped)

mine = presets.visible(
    store, user.username
)  # the user's own and the shared ones, for Compare and Presets
chat_tab, compare_tab, presets_tab, history_tab = st.tabs(["Chat", "Compare", "Presets", "History"])

with chat_tab:
    left, right = st.columns([1, 2], gap="large")
    with left:
        provider = st.selectbox(
            "Provider", list(PROVIDERS), format_func=PROVIDERS.get, key="pg_provider"
        )
        if configured_key(provider):
            st.caption(
                f"API key: set on the server ({provider.upper()}_API_KEY) · {base_url(provider)}"
            )
        else:
            st.text_input("API key (kept for this session only, never stored)", type="password",
                          key=f"pg_key_{provider}", help=f"Or set {provider.upper()}_API_KEY on the server.")  # fmt: skip
            st.caption(base_url(provider))
        key_print = hash(_key(provider) or "")
        ids = _model_ids(provider, base_url(provider), key_print)
        models = catalog(store, provider, ids)
        names = [m.id for m in models] or ["gpt-4o-mini"]
        if not S.get("pg_model") or (
            S.get("pg_model_provider") != provider and S["pg_model"] not in names
        ):
            S["pg_model"] = (
                default_model(provider, models) or names[0]
            )  # a sensible start per provider
        S["pg_model_provider"] = provider
        if S["pg_model"] not in names:
            names = [S["pg_model"], *names]
        model = st.selectbox("Model", names, key="pg_model", accept_new_options=True,
                             help="Listed by the provider when reachable, else the priced models; type any other name.")  # fmt: skip
        info = next((m for m in models if m.id == model), None)
        if info and info.input_per_mtok is not None:
            window = f" · context {info.context_window:,} tokens" if info.context_window else ""
            st.caption(
                f"${money_str(info.input_per_mtok)} in / ${money_str(info.output_per_mtok)} out per 1M tokens{window}"
            )
        elif ids is None:
            st.caption("Models endpoint not reachable: showing the priced models.")
        st.text_area("System prompt", key="pg_system", height=100)
        with st.expander("Parameters", expanded=True):
            for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
                why = unsupported(provider, model, name)
                spec = PARAMS[name]
                top = high(provider, name)
                if S[f"pg_{name}"] > top:
                    S[f"pg_{name}"] = top
                st.slider(spec.label, float(spec.low), float(top), key=f"pg_{name}", step=0.05,
                          disabled=bool(why), help=why or spec.help)  # fmt: skip
            label = (
                "Max completion tokens"
                if provider != "anthropic" and is_reasoning_model(model)
                else "Max tokens"
            )
            st.number_input(label, 1, 200_000, key="pg_max_tokens", help=PARAMS["max_tokens"].help)
            why = unsupported(provider, model, "stop")
            st.text_area("Stop sequences (one per line, up to 4)", key="pg_stop", height=68, disabled=bool(why),
                         help=why or PARAMS["stop"].help)  # fmt: skip
            why = unsupported(provider, model, "seed")
            st.text_input(
                "Seed", key="pg_seed", disabled=bool(why), help=why or PARAMS["seed"].help
            )
            why = unsupported(provider, model, "response_format")
            st.selectbox("Response format", RESPONSE_FORMATS, key="pg_format", disabled=bool(why),
                         help=why or PARAMS["response_format"].help)  # fmt: skip
            if S["pg_format"] == "json_schema" and not why:
                st.text_area("JSON schema", key="pg_schema", height=120,
                             placeholder='{"name": "reply", "schema": {"type": "object", "properties": {}}}')  # fmt: skip
        st.checkbox("Keep the prompt and answer text in the history", key="pg_keep_text")
        config = _config()
        estimate = count_prompt(provider, model, S["pg_system"], S["pg_messages"])
        most = max_cost(rates(store, model), estimate.tokens, int(S["pg_max_tokens"]))
        st.caption(f"Prompt so far {'' if estimate.exact else '≈ '}{estimate.tokens:,} tokens"
                   + (f" · at most ${most:.5f} with the maximum answer" if most is not None else " · unpriced model"))  # fmt: skip
    with right:
        for m in S["pg_messages"]:
            with st.chat_message(m["role"]):
                st.markdown(defuse(m["content"]))
        last = S.pop("pg_last", None)
        if last:
            _show_error(last["result"])
            _figures(last["result"], last["cost"])
        prompt = st.chat_input("Message the model")
        if st.session_state["pg_messages"] and st.button("Clear the conversation", key="pg_clear"):
            S["pg_messages"] = []
            st.rerun()
        if prompt:
            S["pg_messages"].append({"role": "user", "content": prompt})
            with st.chat_message("user"):
                st.markdown(defuse(prompt))
            try:
                req = _request(config, S["pg_messages"])
            except (ParamError, TokenboardError) as err:
                S["pg_messages"].pop()
                st.error(md(err))
            else:
                st.button(
                    "Stop", key="pg_stop_button", help="Ends the answer here; what arrived is kept."
                )
                S["pg_inflight"] = {"req": req, "text": ""}
                run = ChatRun(req)

                def _tokens():
                    for text in run.stream():
                        S["pg_inflight"]["text"] += text
                        yield text

                with st.chat_message("assistant"):  # drawn defused: no image fetches an address
                    box, shown = st.empty(), ""
                    for text in _tokens():
                        shown += text
                        box.markdown(defuse(shown) + " ▌")
                    box.markdown(defuse(shown))
                S.pop("pg_inflight", None)
                result = run.result
                if result.text:
                    S["pg_messages"].append({"role": "assistant", "content": result.text})
                _finish(req, result)
                st.rerun()

with compare_tab:
    st.caption("Run one prompt against 2 to 4 configurations: the current one and presets.")
    choices = {"Current settings": _config()} | {f"{p.name} ({p.owner})": p.config for p in mine}
    picked = st.multiselect("Configurations", list(choices), default=list(choices)[:2], max_selections=4,
                            key="pg_compare_pick")  # fmt: skip
    if len(choices) < 2:
        st.info("Save a preset on the Presets tab (or have a colleague share one) to compare it with the current "
                "settings.")  # fmt: skip
    cprompt = st.text_area("Prompt", key="pg_compare_prompt", height=100)
    if st.button(
        "Run all",
        key="pg_compare_go",
        type="primary",
        disabled=len(picked) < 2 or not cprompt.strip(),
        help="Pick 2 to 4 configurations and write a prompt.",
    ):
        results = []
        for label in picked:
            cfg = choices[label]
            try:
                req = _request(cfg, [{"role": "user", "content": cprompt}], stream=False)
            except (ParamError, TokenboardError) as err:
                results.append((label, cfg, None, str(err)))
                continue
            result = run_chat(req)
            cost = call_cost(rates(store, req.model), result.usage)
            record_run(store, user.username, req, result, cost, keep_text=S["pg_keep_text"])
            results.append((label, cfg, {"result": result, "cost": cost}, None))
        S["pg_compare"] = results
    for col, (label, cfg, out, problem) in zip(st.columns(max(len(S.get("pg_compare", [])), 1)),
                                               S.get("pg_compare", []), strict=False):  # fmt: skip
        with col:
            st.markdown(f"**{md(label)}** · {code(cfg['model'])}")
            if problem:
                st.error(md(problem))
                continue
            result = out["result"]
            _show_error(result)
            st.markdown(defuse(result.text) or "_(no answer)_")
            u = result.usage
            st.caption(f"{result.total_s or 0:.2f} s · {u.prompt_tokens or 0:,} in / {u.completion_tokens or 0:,} out · "
                       + ("unpriced" if out["cost"] is None else f"${out['cost']:.6f}"))  # fmt: skip
            name = st.text_input("Save as preset", key=f"pg_win_{label}", placeholder="Preset name")
            if st.button("Save", key=f"pg_win_save_{label}") and name.strip():
                presets.save(store, user.username, name, cfg)
                st.success(f"Saved “{md(name.strip())}”.")

with presets_tab:
    with st.form("pg_save_form"):
        st.markdown("**Save the current settings**")
        name = st.text_input("Name", placeholder="Support chatbot")
        shared = st.checkbox("Share with the team")
        keep_chat = st.checkbox("Include the conversation")
        if st.form_submit_button("Save preset"):
            config = _config() | ({"messages": S["pg_messages"]} if keep_chat else {})
            try:
                saved = presets.save(store, user.username, name, config, shared)
            except TokenboardError as err:
                st.error(md(err))
            else:
                st.success(f"Saved “{md(saved.name)}”.")
                mine = presets.visible(store, user.username)
    if not mine:
        st.info("No presets yet. Set up a model on the Chat tab and save it here.")
    else:
        ids = {p.preset_id: p for p in mine}
        pick = st.selectbox("Preset", list(ids), key="pg_preset_pick",
                            format_func=lambda i: f"{ids[i].name} · {ids[i].config['model']} · "
                            f"{'shared' if ids[i].shared else 'private'} · {ids[i].owner}")  # fmt: skip
        chosen = ids[pick]
        st.json(chosen.config, expanded=False)
        b1, b2, b3 = st.columns(3)
        b1.button(
            "Restore",
            key="pg_restore",
            on_click=_restore,
            args=(chosen.config, True),
            type="primary",
        )
        new_name = b2.text_input(
            "New name", key="pg_rename_to", label_visibility="collapsed", placeholder="New name"
        )
        if b2.button("Rename", key="pg_rename"):
            try:
                presets.rename(store, user.username, user.role, pick, new_name)
                st.rerun()
            except TokenboardError as err:
                st.error(md(err))
        if b3.button("Delete", key="pg_delete"):
            try:
                presets.delete(store, user.username, user.role, pick)
                st.rerun()
            except TokenboardError as err:
                st.error(md(err))
        st.download_button("Export presets (JSON)", lambda: presets.export_json(mine), "tokenboard-presets.json",
                           "application/json", key="pg_export", on_click="ignore")  # fmt: skip
    upload = st.file_uploader("Import presets (JSON)", type=["json"], key="pg_import")
    if upload is not None and st.button("Import", key="pg_import_go"):
        try:
            done = presets.import_json(
                store, user.username, upload.getvalue().decode("utf-8", "replace"), upload.name
            )
        except TokenboardError as err:
            st.error(md(err))
        else:
            st.success(f"Imported {len(done)} preset{'s' if len(done) != 1 else ''}.")

with history_tab:
    runs = recent_runs(store, None if user.role == "admin" else user.username, limit=200)
    if runs.empty:
        st.info("No runs yet. Every message sent on the Chat or Compare tab appears here.")
    else:
        st.caption(
            "Newest first. Prompt and answer text are kept only for runs where that was chosen."
        )
        names = {"run_id": "Run", "ran_at": "When (UTC)", "username": "User", "provider": "Provider", "model": "Model",
                 "status": "Status", "prompt_tokens": "Tokens in", "cached_tokens": "Cached", "completion_tokens":
                 "Tokens out", "reasoning_tokens": "Reasoning", "ttft_ms": "First token (ms)", "total_ms": "Total (ms)",
                 "cost_usd": "Cost (USD)", "error_title": "Error", "prompt_text": "Prompt", "answer_text": "Answer",
                 "params": "Parameters"}  # fmt: skip
        table(pd.DataFrame(runs).rename(columns=names), "playground_runs", key="pg_runs")
