"""The Playground page through AppTest, against a local server speaking the OpenAI API."""

from __future__ import annotations

import json

import pytest

from lib.store import Store
from tests.chat_api_server import OPENAI_KEY, ChatApi
from tests.conftest import app_test, login, shown


@pytest.fixture
def playground(app_env, monkeypatch):
    with ChatApi() as api:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        at = login(app_test("pages/6_Playground.py"), "ana")
        assert not at.exception
        yield at, api, app_env


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_send_streams_the_answer_and_counts_the_run(playground):
    at, api, db = playground
    at.selectbox(key="pg_model").set_value("gpt-4o-mini")
    at.text_area(key="pg_system").input("Be brief.")
    at.run()
    at.chat_input[0].set_value("Say hello").run()
    assert not at.exception
    assert [m.markdown[0].value for m in at.chat_message] == ["Say hello", "Hello world"]
    m = _metrics(at)
    # usage from the final chunk: 12 prompt (2 cached), 3 completion; cost 10 × 0.15 + 2 × 0.075 + 3 × 0.60 per 1M
    assert (m["Tokens in"], m["Tokens out"], m["Cost (USD)"]) == ("12", "3", "$0.000003")
    assert any("2 read from the cache" in c.value for c in at.caption)
    assert api.bodies[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM playground_runs WHERE status = 'ok'") == 1
        assert s.scalar("SELECT sum(requests) FROM counted_hourly WHERE source = 'playground'") == 1
        # the answer's rate-limit headers (60 requests, 150,000 tokens a minute) are learned
        assert s.query("SELECT provider, model, rpm, tpm, source FROM rate_limits") == [
            ("openai", "gpt-4o-mini", 60, 150000, "learned")
        ]


def test_errors_are_shown_with_their_fix(playground):
    at, _api, _db = playground
    at.selectbox(key="pg_model").set_value("ctx")
    at.run()
    at.chat_input[0].set_value("A very long prompt").run()
    assert not at.exception
    text = shown(at.error[0].value)
    assert "Prompt too long for the model" in text and "HTTP 400 · context_length_exceeded" in text
    assert "What to do:" in text


def test_a_rate_limited_run_keeps_its_retry_after(playground):
    at, _api, db = playground
    at.selectbox(key="pg_model").set_value("busy")  # 429 with Retry-After: 7
    at.run()
    at.chat_input[0].set_value("Hello").run()
    assert not at.exception
    with Store(db) as s:
        assert s.query("SELECT http_status, retry_after_ms FROM request_events") == [(429, 7000)]


def test_a_parameter_the_model_does_not_take_is_disabled_with_the_reason(playground):
    at, _api, _db = playground
    at.selectbox(key="pg_model").set_value("o3-mini")
    at.run()
    temp = at.slider(key="pg_temperature")
    assert temp.disabled and "reasoning model" in temp.help
    assert at.number_input(key="pg_max_tokens").label == "Max completion tokens"


def test_preset_save_and_restore_round_trip(playground):
    at, _api, db = playground
    at.selectbox(key="pg_model").set_value("gpt-4o-mini")
    at.slider(key="pg_temperature").set_value(0.35)
    at.slider(key="pg_top_p").set_value(0.9)
    at.slider(key="pg_presence_penalty").set_value(-0.5)
    at.text_input(key="pg_seed").input("7")
    at.selectbox(key="pg_format").set_value("json_object")
    at.text_area(key="pg_stop").input("###\nEND")
    at.text_area(key="pg_system").input("You are a support agent.")
    at.run()
    name = next(t for t in at.text_input if t.label == "Name")
    name.input("Support chatbot")
    next(b for b in at.button if b.label == "Save preset").click()
    at.run()
    assert any("Saved “Support chatbot”" in s.value for s in at.success)
    # change everything, then restore
    at.slider(key="pg_temperature").set_value(0.9)
    at.slider(key="pg_top_p").set_value(1.0)
    at.slider(key="pg_presence_penalty").set_value(0.0)
    at.text_input(key="pg_seed").input("")
    at.selectbox(key="pg_format").set_value("text")
    at.text_area(key="pg_stop").input("")
    at.text_area(key="pg_system").input("Other")
    at.run()
    at.button(key="pg_restore").click()
    at.run()
    assert at.slider(key="pg_temperature").value == 0.35
    assert at.text_area(key="pg_stop").value == "###\nEND"
    assert at.text_area(key="pg_system").value == "You are a support agent."
    assert at.selectbox(key="pg_model").value == "gpt-4o-mini"
    # saved again after the restore, the configuration is the very same
    next(t for t in at.text_input if t.label == "Name").input("Again")
    next(b for b in at.button if b.label == "Save preset").click()
    at.run()
    with Store(db) as s:
        configs = dict(s.query("SELECT name, config FROM presets"))
    assert configs["Again"] == configs["Support chatbot"]
    assert json.loads(configs["Again"])["params"] == {"temperature": 0.35, "top_p": 0.9, "presence_penalty": -0.5,
                                                      "seed": 7, "response_format": "json_object",
                                                      "stop": ["###", "END"]}  # fmt: skip


def test_compare_runs_each_configuration(playground):
    from lib.playground import presets

    at, api, db = playground
    with Store(db) as s:
        presets.save(s, "ana", "Cold", {"provider": "openai", "model": "gpt-4o", "system": "",
                                        "params": {"temperature": 0.1}})  # fmt: skip
    at.selectbox(key="pg_model").set_value("gpt-4o-mini")
    at.run()
    at.multiselect(key="pg_compare_pick").set_value(["Current settings", "Cold (ana)"])
    at.text_area(key="pg_compare_prompt").input("Say hello")
    at.run()
    at.button(key="pg_compare_go").click()
    at.run()
    assert not at.exception
    models = sorted(
        b["model"] for b in api.bodies if b.get("messages", [{}])[-1].get("content") == "Say hello"
    )
    assert models == ["gpt-4o", "gpt-4o-mini"]
    assert sum("Hello world" in md.value for md in at.markdown) == 2
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM playground_runs") == 2
    # the winner becomes a preset
    at.text_input(key="pg_win_Cold (ana)").input("Winner")
    at.button(key="pg_win_save_Cold (ana)").click()
    at.run()
    with Store(db) as s:
        winner = s.scalar("SELECT config FROM presets WHERE name = 'Winner'")
    assert '"model": "gpt-4o"' in winner and '"temperature": 0.1' in winner


def test_stop_keeps_the_partial_answer_and_records_the_run(playground):
    """Stop (like any click during a stream) reruns the page: the part that arrived is kept."""
    from lib.llm.chat import ChatRequest

    at, _api, db = playground
    req = ChatRequest(
        "openai", "http://x/v1", "gpt-4o-mini", ({"role": "user", "content": "Tell a story"},)
    )
    at.session_state["pg_messages"] = [{"role": "user", "content": "Tell a story"}]
    at.session_state["pg_inflight"] = {"req": req, "text": "Once upon"}
    at.run()
    assert not at.exception
    assert [m.markdown[0].value for m in at.chat_message] == [
        "Tell a story",
        "Once upon …(stopped)",
    ]
    with Store(db) as s:
        assert s.query("SELECT status, model FROM playground_runs") == [("stopped", "gpt-4o-mini")]


def test_compare_labels_and_answers_show_payloads_as_text(playground):
    from markdown_it import MarkdownIt

    from lib.playground import presets

    at, _api, db = playground
    name = "![b](http://127.0.0.1:9/beacon.png) [Login again](http://phish.example)"
    with Store(db) as s:
        presets.save(s, "ana", name, {"provider": "openai", "model": "gpt-4o", "system": ""})
    at.run()
    at.multiselect(key="pg_compare_pick").set_value(["Current settings", f"{name} (ana)"])
    at.text_area(key="pg_compare_prompt").input("Say hello")
    at.run()
    at.button(key="pg_compare_go").click()
    at.run()
    assert not at.exception
    render = MarkdownIt("gfm-like", {"linkify": True}).render
    labels = [m.value for m in at.markdown if "Login again" in m.value]
    assert labels, "the preset's label is shown"
    for text in labels:
        html = render(text)
        assert "<img" not in html and "<a " not in html
        assert name in shown(text).replace("\u2060", "")


def test_no_request_is_sent_without_a_key(app_env, monkeypatch):
    """No key on the server and none typed: the message box is disabled and a sentence says
    which key to set and where; nothing reaches the provider, from Chat or Compare."""
    from lib.playground import presets

    with ChatApi() as api:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with Store(app_env) as s:
            presets.save(s, "ana", "Cold", {"provider": "openai", "model": "gpt-4o", "system": ""})
        at = login(app_test("pages/6_Playground.py"), "ana")
        assert not at.exception
        assert at.chat_input[0].proto.disabled
        warning = at.warning[0].value
        assert "No API key for OpenAI" in warning and "OPENAI_API_KEY" in warning
        assert ".streamlit/secrets.toml" in warning
        at.multiselect(key="pg_compare_pick").set_value(["Current settings", "Cold (ana)"])
        at.text_area(key="pg_compare_prompt").input("Say hello")
        at.run()
        assert at.button(key="pg_compare_go").disabled
        assert not [b for b in api.bodies if b.get("messages")]
        # a key typed for this session opens the box
        at.text_input(key="pg_key_openai").input(OPENAI_KEY)
        at.run()
        assert not at.chat_input[0].proto.disabled and not at.warning
        at.chat_input[0].set_value("Say hello").run()
        assert [m.markdown[0].value for m in at.chat_message] == ["Say hello", "Hello world"]


def test_compare_sees_a_preset_saved_a_moment_ago_and_presets_show_their_parameters(playground):
    at, _api, _db = playground
    at.selectbox(key="pg_model").set_value("gpt-4o-mini")
    at.slider(key="pg_temperature").set_value(0.35)
    at.text_area(key="pg_stop").input("###\nEND")
    at.run()
    at.text_input(key="pg_save_name").input("Support chatbot")
    next(b for b in at.button if b.label == "Save preset").click()
    at.run()
    # the same run that saved it offers it to Compare
    assert "Support chatbot (ana)" in at.multiselect(key="pg_compare_pick").options
    table = at.dataframe[0].value
    assert dict(zip(table["Setting"], table["Value"], strict=True)) == {
        "Provider": "OpenAI", "Model": "gpt-4o-mini", "Temperature": "0.35",
        "Stop sequences": "### · END",
    }  # fmt: skip
    assert not at.json  # no JSON tree


def test_the_message_box_is_at_the_bottom_of_the_chat_tab(playground):
    """One message box, drawn in the page's bottom bar (not inside a tab or a column), and
    only while the Chat tab is open."""
    at, _api, _db = playground
    assert len(at.chat_input) == 1
    assert not at.main.chat_input and not at.sidebar.chat_input
    bottom = at._tree.children[3]  # the block after main, sidebar and events: the bottom bar
    assert len(bottom.chat_input) == 1


def test_refusals_and_reasons_are_said_in_french(playground):
    """lib returns codes and values (a parameter not taken, a preset name taken); the page
    words them in its language."""
    from lib.playground import presets

    at, _api, db = playground
    nb = "\u00a0"
    with Store(db) as s:
        for name in ("Cold", "Warm"):
            presets.save(
                s,
                "ana",
                name,
                {"provider": "openai", "model": "gpt-4o", "system": "", "params": {}},
            )
    at.query_params["lang"] = "fr"
    at.selectbox(key="pg_model").set_value("o3-mini")
    at.run()
    assert shown(at.slider(key="pg_temperature").help) == (
        f"o3-mini est un modèle de raisonnement{nb}: il n'accepte que l'échantillonnage par défaut."
    )
    pick = at.selectbox(key="pg_preset_pick")
    pick.select_index(next(i for i, o in enumerate(pick.options) if o.startswith("Cold")))
    at.text_input(key="pg_rename_to").input("Warm")
    at.button(key="pg_rename").click()
    at.run()
    assert not at.exception
    assert shown(at.error[0].value) == f"ana a déjà un préréglage nommé «{nb}Warm{nb}»."
