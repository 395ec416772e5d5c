"""The Keys page in AppTest over a real DuckDB file: an admin creates a key and sees its secret
once (never in the session state, gone after the next run), edits its restrictions, checks
an IP and an origin against it, revokes it after confirming; an analyst or a viewer changes
nothing whatever the widget values; the providers' keys come from a local admin API server,
with their usage and the stale flag, and one is deleted after confirming; refused requests per
key and reason; the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.i18n.catalog import translate
from lib.ingest import import_file
from lib.keys.restrictions import Restrictions
from lib.keys.snapshot import hash_secret
from lib.keys.store import audit_log, create_key, list_keys, revoke_key
from lib.store import Store
from tests.admin_api_server import ANTHROPIC_KEY, OPENAI_KEY, AdminApi
from tests.conftest import app_test, login, shown

PAGE = "pages/5_API_keys.py"
NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
OFFICE = Restrictions(ips=("203.0.113.0/24",), origins=("*.example.com",))


def open_page(user: str, **params: str):
    at = app_test(PAGE)
    at.session_state["tb_now"] = NOW.isoformat()
    at.query_params.update(params)
    return login(at, user)


def texts(at) -> str:
    return " ".join(str(m.value) for kind in (at.markdown, at.caption, at.success, at.info, at.error,
                                              at.warning) for m in kind)  # fmt: skip


def state_text(at) -> str:
    """Everything the session state holds, as text."""
    return repr(at.session_state.to_dict())


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def make_key(db: str, name: str = "Support bot", restrictions: Restrictions = OFFICE) -> str:
    with Store(db) as s:
        record, _secret = create_key(s, "admin", "ada", name, "ana@example.com", "alpha", None,
                                     restrictions, now=NOW - timedelta(days=3))  # fmt: skip
    return record.key_id


def keys_in(db: str):
    with Store(db) as s:
        return {k.key_id: k.record for k in list_keys(s, "admin")}


def test_create_a_key_the_secret_is_shown_once(app_env):
    at = open_page("ada")
    assert not at.exception, at.exception
    assert "No Tokenboard key yet" in texts(at)
    at.text_input(key="keys_new_name").input("Website chatbot")
    at.text_input(key="keys_new_owner").input("ana@example.com")
    at.text_input(key="keys_new_project").input("web")
    at.text_area(key="keys_new_origins").input("*.example.com\nexample.com")
    at.checkbox(key="keys_new_any_ip").check()
    at.text_input(key="keys_new_bday").input("5")
    at.text_input(key="keys_new_rpm").input("60")
    at = next(b for b in at.get("form_submit_button") if b.label == "Create the key").click().run()
    assert not at.exception, at.exception
    secrets = [c.value for c in at.code if str(c.value).startswith("tb-")]
    assert len(secrets) == 1
    secret = secrets[0]
    assert "shown this once" in texts(at)
    (record,) = keys_in(app_env).values()
    assert (record.name, record.owner, record.project) == (
        "Website chatbot",
        "ana@example.com",
        "web",
    )
    assert record.hash == hash_secret(secret) and secret not in record.hint
    r = record.restrictions
    assert (r.anywhere_ip, r.origins, str(r.budget_day_usd), r.rpm) == (
        True, ("*.example.com", "example.com"), "5", 60)  # fmt: skip
    # the new key is listed in the same run; the secret is in no session state
    assert "Website chatbot" in at.dataframe[0].value["Name"].tolist()
    assert secret not in state_text(at)
    # the next run (any interaction) no longer shows it, anywhere
    at = at.run()
    assert not [c for c in at.code if secret in str(c.value)]
    assert secret not in texts(at) and secret not in state_text(at)
    assert secret not in json.dumps(at.dataframe[0].value.astype(str).values.tolist())
    # the database holds its hash only
    with Store(app_env) as s:
        s.query("CHECKPOINT")
    assert secret.encode() not in Path(app_env).read_bytes()
    assert secret.encode() not in Path(app_env).with_name("tokenboard-keys.json").read_bytes()


def test_revoke_needs_a_confirmation(app_env):
    key_id = make_key(app_env)
    at = open_page("ada")
    at.selectbox(key="keys_chosen").select(key_id).run()
    at = click(at, "Revoke…")
    assert "This cannot be undone" in texts(at)
    assert keys_in(app_env)[key_id].status == "active"  # not yet
    at = click(at, "Cancel")
    assert "This cannot be undone" not in texts(at) and keys_in(app_env)[key_id].status == "active"
    at = click(at, "Revoke…")
    at = click(at, "Yes, revoke")
    assert not at.exception, at.exception
    assert "Key “Support bot” revoked." in shown(texts(at))
    assert keys_in(app_env)[key_id].status == "revoked"
    assert "Revoked" in at.dataframe[0].value["Status"].tolist()


def test_rotate_shows_the_new_secret_once(app_env):
    key_id = make_key(app_env)
    before = keys_in(app_env)[key_id].hash
    at = open_page("ada")
    at.selectbox(key="keys_chosen").select(key_id).run()
    at.number_input(key=f"keys_grace_{key_id}").set_value(2)
    at = click(at, "Rotate…")
    assert "The old one keeps working for 2 h" in texts(at)
    at = click(at, "Yes, rotate")
    (secret,) = [c.value for c in at.code if str(c.value).startswith("tb-")]
    # the confirmation is gone: the rotation ran before the page drew the key's section
    assert "The old one keeps working" not in texts(at) and "keys_confirm" not in at.session_state
    after = keys_in(app_env)[key_id]
    assert after.hash == hash_secret(secret) and after.old_hash == before
    # the old secret is accepted 2 hours from the rotation (the real clock's)
    assert after.old_hash_until is not None
    assert abs(after.old_hash_until - datetime.now(UTC) - timedelta(hours=2)) < timedelta(minutes=2)
    at = at.run()
    assert not [c for c in at.code if secret in str(c.value)] and secret not in state_text(at)


def test_restrictions_edited(app_env):
    key_id = make_key(app_env)
    at = open_page("ada")
    at.selectbox(key="keys_chosen").select(key_id).run()
    prefix = f"keys_edit_{key_id}"
    assert at.text_area(key=f"{prefix}_ips").value == "203.0.113.0/24"
    at.text_area(key=f"{prefix}_ips").input("198.51.100.7\n2001:db8::/32")
    at.text_input(key=f"{prefix}_models").input("gpt-4o*, claude-sonnet-4-5")
    at.text_input(key=f"{prefix}_bmonth").input("250.50")
    at = (
        next(b for b in at.get("form_submit_button") if b.label == "Save the restrictions")
        .click()
        .run()
    )
    assert not at.exception, at.exception
    assert "saved" in texts(at)
    r = keys_in(app_env)[key_id].restrictions
    assert (r.ips, r.models, str(r.budget_month_usd), r.origins) == (
        ("198.51.100.7/32", "2001:db8::/32"), ("gpt-4o*", "claude-sonnet-4-5"), "250.50", ("*.example.com",))  # fmt: skip
    # an address that is not one is refused in words, nothing saved
    at.text_area(key=f"{prefix}_ips").input("not-an-ip")
    at = (
        next(b for b in at.get("form_submit_button") if b.label == "Save the restrictions")
        .click()
        .run()
    )
    assert not at.exception and at.error and "not-an-ip" in shown(at.error[0].value)
    assert keys_in(app_env)[key_id].restrictions.ips == ("198.51.100.7/32", "2001:db8::/32")
    with Store(app_env) as s:
        actions = [e.action for e in audit_log(s, "admin")]
    assert actions == ["restrictions_changed", "key_created"]


def test_would_it_be_allowed(app_env):
    key_id = make_key(app_env)
    at = open_page("ada", tab="check")
    assert not at.exception, at.exception
    at.selectbox(key="keys_check_key").select(key_id)
    at.text_input(key="keys_check_ip").input("203.0.113.40")
    at = at.text_input(key="keys_check_origin").input("https://shop.example.com").run()
    assert "Allowed" in at.success[0].value
    at = at.text_input(key="keys_check_ip").input("192.0.2.1").run()
    assert not at.success and "Refused (IP not allowed)" in at.error[0].value
    at.text_input(key="keys_check_ip").input("203.0.113.40")
    at = at.text_input(key="keys_check_origin").input("https://evil.test").run()
    assert "Refused (Origin not allowed)" in at.error[0].value


@pytest.mark.parametrize("user", ["ana", "vic"])
def test_an_analyst_or_viewer_creates_and_revokes_nothing(app_env, user):
    key_id = make_key(app_env)
    at = open_page(user)
    assert not at.exception, at.exception
    assert "not open to the" in texts(at)
    assert not at.button or not any(
        b.label in ("Revoke…", "Yes, revoke", "Create the key") for b in at.button
    )
    assert not at.dataframe  # no key listed
    # whatever the session holds (a confirmation waiting, the form's fields), nothing happens
    at.session_state["keys_confirm"] = ("revoke", key_id)
    at.session_state["keys_chosen"] = key_id
    at.session_state["keys_new_name"] = "sneaky"
    at = at.run()
    assert not at.exception
    assert keys_in(app_env)[key_id].status == "active" and len(keys_in(app_env)) == 1
    # and lib refuses what a crafted call would ask
    with Store(app_env) as s:
        role = {"ana": "analyst", "vic": "viewer"}[user]
        with pytest.raises(PermissionDeniedError):
            revoke_key(s, role, user, key_id)
        with pytest.raises(PermissionDeniedError):
            create_key(s, role, user, "x", None, None, None, OFFICE)
        with pytest.raises(PermissionDeniedError):
            audit_log(s, role)


def test_refused_requests_and_audit_log(app_env, tmp_path):
    key_id = make_key(app_env)
    rows = [{"request_id": f"r{i}", "timestamp": (NOW - timedelta(hours=3, minutes=i)).isoformat(),
             "provider": "openai", "model": "gpt-4o", "api_key": key_id, "status": "error",
             "http_status": 403, "error_code": code, "client_ip": "192.0.2.9",
             "origin": "https://evil.test", "prompt_tokens": 0, "completion_tokens": 0}
            for i, code in enumerate(["ip_not_allowed", "ip_not_allowed", "origin_not_allowed"])]  # fmt: skip
    log = tmp_path / "gw.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with Store(app_env) as s:
        import_file(s, str(log))
    at = open_page("ada", tab="refused")
    assert not at.exception, at.exception
    df = at.dataframe[0].value
    assert df[["Key name", "Reason", "Requests"]].values.tolist() == [
        ["Support bot", "IP not allowed", 2], ["Support bot", "Origin not allowed", 1]]  # fmt: skip
    assert df["Last IP"].tolist() == ["192.0.2.9", "192.0.2.9"]
    # the key's row counts its 3 refusals and its last IP
    at = open_page("ada")
    keys = at.dataframe[0].value
    assert keys["Refused (30 d)"].tolist() == [3] and keys["Last IP"].tolist() == ["192.0.2.9"]
    at = open_page("ada", tab="audit")
    df = at.dataframe[0].value
    assert df["Action"].tolist() == ["Key created"] and df["By"].tolist() == ["ada"]
    assert {b.label for b in at.get("download_button")} >= {"CSV", "Excel", "Parquet"}


def test_empty_states_say_what_to_do(app_env, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    for tab, words in (("providers", "No provider admin key is set"), ("refused", "No request was refused"),
                       ("audit", "The audit log is empty"), ("check", "create one on the Tokenboard keys tab")):  # fmt: skip
        at = open_page("ada", tab=tab)
        assert not at.exception, at.exception
        assert words in texts(at), tab


def test_provider_keys_listed_and_one_deleted(app_env, monkeypatch):
    with AdminApi(page_size=2) as server:
        server.projects = [{"object": "organization.project", "id": "proj_a", "name": "Alpha"}]
        owner = {
            "type": "user",
            "user": {"id": "user_ann", "email": "ann@example.com", "name": "Ann"},
        }
        server.project_keys["proj_a"] = [
            {"object": "organization.project.api_key", "id": "key_new", "name": "fresh",
             "redacted_value": "sk-proj-****aaaa", "created_at": int(NOW.timestamp()) - 86400,
             "last_used_at": int(NOW.timestamp()) - 3600, "owner": owner},
            {"object": "organization.project.api_key", "id": "key_old", "name": "forgotten",
             "redacted_value": "sk-proj-****bbbb", "created_at": int(NOW.timestamp()) - 400 * 86400,
             "last_used_at": int(NOW.timestamp()) - 200 * 86400, "owner": owner},
        ]  # fmt: skip
        server.anthropic_keys = [{"type": "api_key", "id": "apikey_01", "name": "Prod", "status": "active",
                                  "workspace_id": None, "created_at": "2026-05-01T00:00:00Z",
                                  "created_by": {"id": "user_01", "type": "user"},
                                  "partial_key_hint": "sk-ant-api03-R2D...igAA"}]  # fmt: skip
        for var, value in (("OPENAI_ADMIN_KEY", OPENAI_KEY), ("OPENAI_ADMIN_BASE_URL", server.url),
                           ("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY), ("ANTHROPIC_ADMIN_BASE_URL", server.url)):  # fmt: skip
            monkeypatch.setenv(var, value)
        at = open_page("ada", tab="providers")
        assert not at.exception, at.exception
        df = at.dataframe[0].value
        assert df["Key id"].tolist() == ["key_new", "key_old", "apikey_01"]
        assert df["Stale"].tolist() == ["", "Stale", ""]
        assert df["Redacted key"].tolist() == [
            "sk-proj-****aaaa",
            "sk-proj-****bbbb",
            "sk-ant-api03-R2D...igAA",
        ]
        assert "1 active key not used for 90 days" in texts(at)
        page_text = texts(at) + json.dumps(df.astype(str).values.tolist())
        assert OPENAI_KEY not in page_text and ANTHROPIC_KEY not in page_text
        at.selectbox(key="keys_provider_chosen").select("openai:key_old").run()
        at = click(at, "Delete this key…")
        assert "This cannot be undone" in texts(at)
        assert len(server.project_keys["proj_a"]) == 2
        at = click(at, "Yes, go ahead")
        assert not at.exception, at.exception
        assert "OpenAI key key_old deleted." in texts(at)
        assert [k["id"] for k in server.project_keys["proj_a"]] == ["key_new"]
        # the Anthropic key is deactivated after confirming
        at = at.run()
        at.selectbox(key="keys_provider_chosen").select("anthropic:apikey_01").run()
        at.selectbox(key="keys_p_status").select("inactive").run()
        at = click(at, "Change the status…")
        at = click(at, "Yes, go ahead")
        assert server.anthropic_keys[0]["status"] == "inactive"
        with Store(app_env) as s:
            assert [e.action for e in audit_log(s, "admin")] == [
                "provider_key_status",
                "provider_key_deleted",
            ]


def test_the_create_form_in_french_has_no_english_placeholder(app_env):
    """The endpoints' multiselect once said Streamlit's "Choose options" in the French form."""
    at = app_test(PAGE)
    at.session_state["tb_now"] = NOW.isoformat()
    at.query_params["lang"] = "fr"
    at = login(at, "ada", lang="fr")
    assert not at.exception
    label = translate("Allowed endpoints (empty: all)", "fr")
    assert label.startswith("Points d'accès autorisés")
    endpoints = next(m for m in at.multiselect if m.label == label)
    assert endpoints.proto.placeholder == "Tous les points d'accès"
    assert all(m.proto.placeholder for m in at.multiselect)  # "" would be Streamlit's English
