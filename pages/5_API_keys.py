"""API keys: Tokenboard's own keys (create with the secret shown once, revoke, rotate, edit
restrictions) and the providers' keys (inventory through their admin APIs, joined with usage,
stale keys flagged, the actions their APIs allow), a "would this be allowed?" check, the
requests the gateway refused per key and reason, and the audit log. Admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from lib.auth.roles import PermissionDeniedError
from lib.errors import TokenboardError
from lib.keys.restrictions import ENDPOINTS, Request, Restrictions, check
from lib.keys.store import (
    audit_log,
    create_key,
    edit_restrictions,
    list_keys,
    revoke_key,
    rotate_key,
)
from lib.keys.validate import build_restrictions
from lib.provider_keys import (
    DEFAULT_DAYS,
    DEFAULT_STALE_DAYS,
    archive_or_deactivate,
    configured,
    create_service_account,
    delete_project_key,
    inventory,
    key_usage,
    refusals,
    rename_anthropic_key,
)
from lib.ui import url
from lib.ui.frame import page
from lib.ui.i18n import _, integer, moment, n_, say
from lib.ui.keys_ui import (
    AUDIT_LABELS,
    KIND_LABELS,
    PROVIDER_LABELS,
    REFUSAL_LABELS,
    STATUS_LABELS,
    label,
    restrictions_words,
    show_secret_once,
)
from lib.ui.markup import md
from lib.ui.widgets import Col, table

ctx = page("pages/5_API_keys.py", filters=False)
store, now, role, me = ctx.store, ctx.now, ctx.user.role, ctx.user.username
from_ip = st.context.ip_address if isinstance(st.context.ip_address, str) else None  # for the audit
st.title(_("API keys"))
st.caption(
    _("Tokenboard keys reach the models through the Tokenboard gateway (`python -m lib.gateway`), "
      "which checks each request against the key's restrictions. Provider keys are read from "
      "the providers' admin APIs. Usage covers the last {days} days.", days=DEFAULT_DAYS)
)  # fmt: skip

CONFIRM = "keys_confirm"  # the action waiting for its confirmation: (action, key id, …)
CONFIRMED = "keys_confirmed"  # the action confirmed, run at the start of the next run
FLASH = "keys_flash"  # a sentence to show after the rerun that follows an action (never a secret)
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")


def flash(text: str) -> None:
    """Say ``text`` after the rerun that redraws the page with the change."""
    st.session_state[FLASH] = text
    st.rerun()


def failed(err: Exception) -> None:
    """A refusal in words (never a traceback)."""
    if isinstance(err, PermissionDeniedError):
        st.error(_("Your role ({role}) may not manage keys.", role=role))
    else:
        st.error(md(say(err.args[0] if err.args else str(err))))


def utc_naive(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value else None


tab, boxes = url.tabs(
    {"keys": _("Tokenboard keys"), "providers": _("Provider keys"), "check": _("Would it be allowed?"),
     "refused": _("Refused requests"), "audit": _("Audit log")},
    key="keys_tab",
)  # fmt: skip

try:
    keys = list_keys(store, role)
except PermissionDeniedError as err:
    failed(err)
    st.stop()
name_of = {k.key_id: k.record.name for k in keys}


def key_choice(label_text: str, choices: list[str], key: str) -> str | None:
    """A select box of Tokenboard keys, by name and id (not by hint: a rotation changes it, and
    the box would lose its choice)."""
    return st.selectbox(label_text, choices, key=key, index=None, placeholder=_("Choose a key"),
                        format_func=lambda k: f"{name_of.get(k, k)} · {k}")  # fmt: skip


# -- Tokenboard keys ------------------------------------------------------------------------------
def restriction_fields(prefix: str, r: Restrictions | None = None) -> dict[str, Any]:
    """The restriction inputs of a form (prefilled with ``r``); returns what was entered."""
    left, right = st.columns(2)
    got: dict[str, Any] = {
        "ips": left.text_area(_("Allowed IP addresses and networks (one per line; CIDR allowed)"),
                              "\n".join(r.ips) if r else "", key=f"{prefix}_ips",
                              placeholder="203.0.113.7\n2001:db8::/32"),
        "anywhere_ip": left.checkbox(_("Allow every IP address"), bool(r and r.anywhere_ip),
                                     key=f"{prefix}_any_ip",
                                     help=_("Without addresses and without this, every request is refused.")),
        "origins": right.text_area(_("Allowed web origins (hosts; *.example.com for subdomains)"),
                                   "\n".join(r.origins) if r else "", key=f"{prefix}_origins",
                                   placeholder="app.example.com\n*.example.com"),
        "anywhere_origin": right.checkbox(_("Allow every origin (server-side apps)"),
                                          bool(r and r.anywhere_origin), key=f"{prefix}_any_origin"),
    }  # fmt: skip
    a, b = st.columns(2)
    got["models"] = a.text_input(_("Allowed models (comma-separated; gpt-4o* for a prefix; empty: all)"),
                                 ", ".join(r.models) if r else "", key=f"{prefix}_models")  # fmt: skip
    got["endpoints"] = b.multiselect(_("Allowed endpoints (empty: all)"), list(ENDPOINTS),
                                     list(r.endpoints) if r else [], key=f"{prefix}_endpoints",
                                     placeholder=_("All endpoints"))  # fmt: skip
    c1, c2, c3, c4 = st.columns(4)

    def text(v: object) -> str:
        return "" if v is None else str(v)

    got["budget_day_usd"] = c1.text_input(
        _("Budget per day (USD)"), text(r and r.budget_day_usd), key=f"{prefix}_bday"
    )
    got["budget_month_usd"] = c2.text_input(_("Budget per month (USD)"), text(r and r.budget_month_usd),
                                            key=f"{prefix}_bmonth")  # fmt: skip
    got["rpm"] = c3.text_input(_("Requests per minute"), text(r and r.rpm), key=f"{prefix}_rpm")
    got["tpm"] = c4.text_input(_("Tokens per minute"), text(r and r.tpm), key=f"{prefix}_tpm")
    for k in ("budget_day_usd", "budget_month_usd", "rpm", "tpm"):
        got[k] = got[k].strip() or None
    return got


def tokenboard_keys() -> None:
    notice, listing = st.container(), st.container()
    run_confirmed(notice)
    with (
        st.expander(_("Create a key"), icon=":material/add:", expanded=not keys),
        st.form("keys_new", clear_on_submit=True),
    ):
        a, b, c = st.columns(3)
        name = a.text_input(_("Name"), key="keys_new_name", placeholder=_("support chatbot"))
        owner = b.text_input(_("Owner"), key="keys_new_owner", placeholder="ana@example.com")
        project = c.text_input(_("Project"), key="keys_new_project")
        expires = st.date_input(_("Expires on (UTC, end of the day; empty: never)"), value=None,
                                    min_value=now.date(), key="keys_new_expires")  # fmt: skip
        entered = restriction_fields("keys_new")
        create = st.form_submit_button(_("Create the key"), type="primary")
    if create:
        try:
            until = datetime.combine(expires + timedelta(days=1), time(), UTC) if expires else None
            record, secret = create_key(store, role, me, name, owner, project, until,
                                        build_restrictions(**entered), from_ip=from_ip)  # fmt: skip
        except TokenboardError as err:
            with notice:
                failed(err)
        else:
            with notice:
                show_secret_once(secret, what=_("Key “{name}” created", name=md(record.name)))
            del secret
            keys[:] = list_keys(store, role)
            name_of[record.key_id] = record.name
    actions(notice)
    with listing:
        key_table()


def key_table() -> None:
    if not keys:
        st.info(_("No Tokenboard key yet. Create one below, then point an application at the gateway "
                  "with it: base URL http://<gateway host>:<port>/v1 and the key as its API key."),
                icon=":material/key:")  # fmt: skip
        return
    used = key_usage(store, now, keys=[k.key_id for k in keys])
    refused = refusals(store, now)
    refused_n = refused.groupby("api_key")["requests"].sum().to_dict() if not refused.empty else {}
    rows = []
    for k in keys:
        r, u = k.record, used.get(k.key_id)
        status = (
            "expired" if r.status == "active" and r.expires_at and r.expires_at <= now else r.status
        )
        rows.append({"name": r.name, "key_id": r.key_id, "hint": r.hint, "status": label(STATUS_LABELS, status),
                     "owner": r.owner, "project": r.project, "created": utc_naive(k.created_at),
                     "expires": utc_naive(r.expires_at), "requests": u.requests if u else None,
                     "spend": u.spend_usd if u else None, "last_used": utc_naive(u.last_used) if u else None,
                     "last_ip": u.last_ip if u else None, "last_origin": u.last_origin if u else None,
                     "refused": int(refused_n.get(k.key_id, 0)), "restrictions": restrictions_words(r.restrictions)})  # fmt: skip
    table(pd.DataFrame(rows), "tokenboard_keys", key="keys_table", columns={
        "name": Col(_("Name")), "status": Col(_("Status")), "key_id": Col(_("Key id")),
        "hint": Col(_("Secret hint")), "owner": Col(_("Owner")), "project": Col(_("Project")),
        "created": Col(_("Created (UTC)"), "time"), "expires": Col(_("Expires (UTC)"), "time", none=_("Never")),
        "requests": Col(_("Requests ({days} d)", days=DEFAULT_DAYS), "count"),
        "spend": Col(_("Spend ({days} d)", days=DEFAULT_DAYS), "usd"),
        "last_used": Col(_("Last used (UTC)"), "time", none=_("Not used yet")),
        "last_ip": Col(_("Last IP")), "last_origin": Col(_("Last origin")),
        "refused": Col(_("Refused ({days} d)", days=DEFAULT_DAYS), "count"),
        "restrictions": Col(_("Restrictions")),
    })  # fmt: skip


def run_confirmed(notice) -> None:
    """The revocation or rotation confirmed by the last click (its button's callback kept only
    what to do, never a secret), run before the page draws the keys: the rotation's new secret
    is shown in this run only."""
    job = st.session_state.pop(CONFIRMED, None)
    if not job:
        return
    info = next((k for k in keys if k.key_id == job[1]), None)
    if info is None:
        return
    name = info.record.name
    try:
        if job[0] == "revoke":
            revoke_key(store, role, me, job[1], from_ip=from_ip)
            with notice:
                st.success(
                    _("Key “{name}” revoked.", name=md(name)), icon=":material/check_circle:"
                )
        else:
            _rec, secret = rotate_key(
                store, role, me, job[1], timedelta(hours=job[2]), from_ip=from_ip
            )
            with notice:
                show_secret_once(secret, what=_("Key “{name}” rotated", name=md(name)))
            del secret
    except TokenboardError as err:
        with notice:
            failed(err)
    keys[:] = list_keys(store, role)


def confirmed(job: tuple) -> None:
    """The confirmation button's callback: what to run at the top of the next run."""
    st.session_state.pop(CONFIRM, None)
    st.session_state[CONFIRMED] = job


def actions(notice) -> None:
    """Revoke, rotate (each confirmed) and the restrictions editor of one chosen key."""
    if not keys:
        return
    st.subheader(_("Revoke, rotate or restrict a key"))
    chosen = key_choice(_("Key"), [k.key_id for k in keys], "keys_chosen")
    if chosen is None:
        return
    info = next(k for k in keys if k.key_id == chosen)
    r = info.record
    pending = st.session_state.get(CONFIRM)
    if r.status != "active":
        st.caption(_("This key is revoked: it cannot be used, rotated or changed."))
        return
    b1, b2, grace_box = st.columns([1, 1, 2])
    grace_h = grace_box.number_input(_("Old secret still accepted for (hours)"), 0, 720, 24,
                                     key=f"keys_grace_{chosen}")  # fmt: skip
    if b1.button(_("Revoke…"), key=f"keys_revoke_{chosen}", icon=":material/block:"):
        st.session_state[CONFIRM] = pending = ("revoke", chosen)
    if b2.button(_("Rotate…"), key=f"keys_rotate_{chosen}", icon=":material/autorenew:"):
        st.session_state[CONFIRM] = pending = ("rotate", chosen, int(grace_h))
    if pending and pending[1] == chosen:
        confirm_box = st.container(border=True)
        if pending[0] == "revoke":
            confirm_box.warning(_("Revoke “{name}”? Applications using it are refused within seconds. "
                                  "This cannot be undone.", name=md(r.name)))  # fmt: skip
        else:
            confirm_box.warning(_("Give “{name}” a new secret? The old one keeps working for {hours} h.",
                                  name=md(r.name), hours=integer(pending[2])))  # fmt: skip
        yes, no = confirm_box.columns(2)
        yes.button(_("Yes, revoke") if pending[0] == "revoke" else _("Yes, rotate"),
                   key=f"keys_yes_{chosen}", type="primary", on_click=confirmed, args=(pending,))  # fmt: skip
        if no.button(_("Cancel"), key=f"keys_no_{chosen}"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()
    with st.form(f"keys_edit_{chosen}"):
        st.markdown(_("**Restrictions of “{name}”**", name=md(r.name)))
        entered = restriction_fields(f"keys_edit_{chosen}", r.restrictions)
        save = st.form_submit_button(_("Save the restrictions"))
    if save:
        try:
            edit_restrictions(
                store, role, me, chosen, build_restrictions(**entered), from_ip=from_ip
            )
        except TokenboardError as err:
            with notice:
                failed(err)
        else:
            with notice:
                st.success(_("Restrictions of “{name}” saved. The gateway applies them within seconds.",
                             name=md(r.name)), icon=":material/check_circle:")  # fmt: skip
            keys[:] = list_keys(store, role)


# -- provider keys --------------------------------------------------------------------------------
INV = "keys_provider_inventory"  # the last inventory read (no secret in it), kept for this session


def provider_keys() -> None:
    have = configured()
    if not any(have.values()):
        st.info(_("No provider admin key is set. Add OPENAI_ADMIN_KEY and/or ANTHROPIC_ADMIN_KEY "
                  "(organisation admin keys) to the environment or to .streamlit/secrets.toml, then "
                  "restart: the providers' keys are then listed here with their usage."),
                icon=":material/key_off:")  # fmt: skip
        return
    left, right = st.columns([1, 3])
    stale_days = left.number_input(_("Stale after (days without use)"), 1, 3650, DEFAULT_STALE_DAYS,
                                   key="keys_stale_days")  # fmt: skip
    refresh = right.button(
        _("Refresh from the providers"), icon=":material/refresh:", key="keys_refresh"
    )
    notice = st.container()
    cached = st.session_state.get(INV)
    if refresh or cached is None or cached[0] != stale_days:
        try:
            with st.spinner(_("Reading the keys from the providers' admin APIs…")):
                inv = inventory(store, role, now, stale_days=int(stale_days))
        except TokenboardError as err:
            failed(err)
            return
        st.session_state[INV] = cached = (stale_days, inv)
    inv = cached[1]
    for problem in inv.errors.values():
        if problem.code != "not_configured":
            notice.warning(md(say(problem.args[0])), icon=":material/warning:")
    if not inv.rows:
        st.info(_("The providers answered with no key."))
        return
    stale = sum(1 for r in inv.rows if r.stale)
    if stale:
        st.warning(n_("{n} active key not used for {days} days: revoke it if nobody needs it.",
                      "{n} active keys not used for {days} days: revoke them if nobody needs them.",
                      stale, n=integer(stale), days=integer(stale_days)), icon=":material/schedule:")  # fmt: skip
    rows = [{"provider": PROVIDER_LABELS.get(r.key.provider, r.key.provider), "kind": label(KIND_LABELS, r.key.kind),
             "name": r.key.name, "key_id": r.key.key_id, "scope": r.key.scope_name or r.key.scope,
             "owner": r.key.owner, "status": label(STATUS_LABELS, r.key.status), "hint": r.key.hint,
             "created": utc_naive(r.key.created_at), "last_used": utc_naive(r.last_used),
             "requests": r.requests, "spend": r.spend_usd, "last_ip": r.usage.last_ip, "last_origin": r.usage.last_origin,
             "stale": _("Stale") if r.stale else ""} for r in inv.rows]  # fmt: skip
    table(pd.DataFrame(rows), "provider_keys", key="keys_provider_table", columns={
        "provider": Col(_("Provider")), "kind": Col(_("Kind")), "name": Col(_("Name")),
        "key_id": Col(_("Key id")), "scope": Col(_("Project or workspace")), "owner": Col(_("Owner")),
        "status": Col(_("Status")), "hint": Col(_("Redacted key")), "created": Col(_("Created (UTC)"), "time"),
        "last_used": Col(_("Last used (UTC)"), "time", none=_("Not used as far as known")),
        "requests": Col(_("Requests ({days} d)", days=DEFAULT_DAYS), "count"),
        "spend": Col(_("Spend ({days} d)", days=DEFAULT_DAYS), "usd"),
        "last_ip": Col(_("Last IP")), "last_origin": Col(_("Last origin")), "stale": Col(_("Stale")),
    })  # fmt: skip
    provider_actions(inv, notice)


def provider_actions(inv, notice) -> None:
    st.subheader(_("Act on a provider key"))
    acting = {f"{r.key.provider}:{r.key.key_id}": r.key for r in inv.rows
              if r.key.kind == "project_key" or (r.key.provider == "anthropic" and r.key.status != "archived")}  # fmt: skip
    chosen = st.selectbox(_("Key"), list(acting), index=None, key="keys_provider_chosen",
                          placeholder=_("Choose a key"),
                          format_func=lambda c: f"{PROVIDER_LABELS.get(acting[c].provider)} · "
                                                f"{acting[c].name or '—'} · {acting[c].key_id}")  # fmt: skip
    done = None
    if chosen:
        k = acting[chosen]
        pending = st.session_state.get(CONFIRM)
        if k.provider == "openai":
            if st.button(_("Delete this key…"), key="keys_p_delete", icon=":material/delete:"):
                st.session_state[CONFIRM] = pending = ("p_delete", chosen)
        else:
            a, b = st.columns(2)
            status = a.selectbox(_("New status"), ["inactive", "archived", "active"], key="keys_p_status",
                                 format_func=lambda s: label(STATUS_LABELS, s))  # fmt: skip
            if a.button(_("Change the status…"), key="keys_p_status_go"):
                st.session_state[CONFIRM] = pending = ("p_status", chosen, status)
            new_name = b.text_input(_("New name"), k.name or "", key=f"keys_p_name_{chosen}")
            if b.button(_("Rename"), key="keys_p_rename"):
                try:
                    rename_anthropic_key(store, role, me, k.key_id, new_name, from_ip=from_ip)
                    done = _("Key {key} renamed.", key=k.key_id)
                except TokenboardError as err:
                    with notice:
                        failed(err)
        if pending and pending[1] == chosen:
            box = st.container(border=True)
            if pending[0] == "p_delete":
                box.warning(_("Delete the OpenAI key “{name}” ({key})? Applications using it stop working. "
                              "This cannot be undone.", name=md(k.name or "—"), key=k.key_id))  # fmt: skip
            else:
                box.warning(_("Set the Anthropic key “{name}” ({key}) to {status}?{final}",
                              name=md(k.name or "—"), key=k.key_id, status=label(STATUS_LABELS, pending[2]),
                              final=(" " + _("An archived key can never be used or changed again."))
                              if pending[2] == "archived" else ""))  # fmt: skip
            yes, no = box.columns(2)
            sure = yes.button(_("Yes, go ahead"), key="keys_p_yes", type="primary")
            if no.button(_("Cancel"), key="keys_p_no"):
                st.session_state.pop(CONFIRM, None)
                st.rerun()
            if sure:
                st.session_state.pop(CONFIRM, None)
                try:
                    if pending[0] == "p_delete":
                        delete_project_key(
                            store, role, me, k.scope or "", k.key_id, from_ip=from_ip
                        )
                        done = _("OpenAI key {key} deleted.", key=k.key_id)
                    else:
                        archive_or_deactivate(
                            store, role, me, k.key_id, pending[2], from_ip=from_ip
                        )
                        done = _("Anthropic key {key} is now {status}.", key=k.key_id,
                                 status=label(STATUS_LABELS, pending[2]))  # fmt: skip
                except TokenboardError as err:
                    with notice:
                        failed(err)
    projects = sorted({(r.key.scope, r.key.scope_name) for r in inv.rows
                       if r.key.provider == "openai" and r.key.scope}, key=lambda p: p[1] or p[0])  # fmt: skip
    if projects:
        with st.form("keys_svc", clear_on_submit=True):
            st.markdown(_("**New OpenAI service account** (its key is shown once)"))
            a, b = st.columns(2)
            pid = a.selectbox(_("Project"), [p[0] for p in projects], key="keys_svc_project",
                              format_func=lambda p: dict(projects).get(p) or p)  # fmt: skip
            svc_name = b.text_input(_("Name"), key="keys_svc_name")
            go = st.form_submit_button(_("Create the service account"))
        if go:
            try:
                made = create_service_account(store, role, me, pid or "", svc_name, from_ip=from_ip)
            except TokenboardError as err:
                with notice:
                    failed(err)
            else:
                with notice:
                    show_secret_once(made.secret or "", what=_("Service account “{name}” created",
                                                               name=md(made.name)))  # fmt: skip
                st.session_state.pop(INV, None)
                del made
    if done:
        st.session_state.pop(INV, None)  # read again on the next run
        flash(done)


# -- would it be allowed? -------------------------------------------------------------------------
def allowed_check() -> None:
    if not keys:
        st.info(_("No Tokenboard key to check yet: create one on the Tokenboard keys tab."))
        return
    chosen = key_choice(_("Key"), [k.key_id for k in keys], "keys_check_key")
    a, b, c = st.columns(3)
    ip = a.text_input(_("Client IP address"), key="keys_check_ip", placeholder="203.0.113.7")
    origin = b.text_input(
        _("Origin (or Referer)"), key="keys_check_origin", placeholder="https://app.example.com"
    )
    model = c.text_input(_("Model (optional)"), key="keys_check_model")
    if chosen is None or not (ip.strip() or origin.strip()):
        st.caption(_("Choose a key and enter an IP address and/or an origin."))
        return
    record = next(k.record for k in keys if k.key_id == chosen)
    refusal = check(record, Request(ip.strip() or None, origin.strip() or None, model.strip() or None),
                    now)  # fmt: skip
    if refusal is None:
        st.success(
            _("Allowed: a request from there would pass this key's checks."),
            icon=":material/check_circle:",
        )
    else:
        st.error(_("Refused ({reason}): {why}", reason=label(REFUSAL_LABELS, refusal.code),
                   why=md(say(refusal.message))), icon=":material/block:")  # fmt: skip


# -- refused requests -----------------------------------------------------------------------------
def refused_requests() -> None:
    df = refusals(store, now)
    if df.empty:
        st.info(_("No request was refused in the last {days} days. The gateway records each refusal "
                  "(unknown or revoked key, IP or origin not allowed, budget spent, rate limit) with "
                  "its reason; they appear here.", days=DEFAULT_DAYS), icon=":material/verified_user:")  # fmt: skip
        return
    df = df.assign(name=df["api_key"].map(lambda k: name_of.get(k, "—")),
                   reason=df["error_code"].map(lambda c: label(REFUSAL_LABELS, c)),
                   last=pd.to_datetime(df["last"], utc=True).dt.tz_localize(None))  # fmt: skip
    table(df, "refused_requests", key="keys_refused_table", columns={
        "name": Col(_("Key name")), "api_key": Col(_("Key id")), "reason": Col(_("Reason")),
        "requests": Col(_("Requests"), "count"), "last": Col(_("Last (UTC)"), "time"),
        "last_ip": Col(_("Last IP")), "last_origin": Col(_("Last origin")),
    })  # fmt: skip


# -- audit log ------------------------------------------------------------------------------------
def audit() -> None:
    entries = audit_log(store, role)
    if not entries:
        st.info(_("The audit log is empty. Creating, revoking, rotating and restricting keys, and the "
                  "actions on provider keys, are written here."), icon=":material/history:")  # fmt: skip
        return
    df = pd.DataFrame([{"at": utc_naive(e.at), "actor": e.actor, "action": label(AUDIT_LABELS, e.action),
                        "subject": e.subject, "detail": json.dumps(e.detail, sort_keys=True, default=str, ensure_ascii=False),
                        "from_ip": e.from_ip} for e in entries])  # fmt: skip
    table(df, "key_audit_log", key="keys_audit_table", columns={
        "at": Col(_("Time (UTC)"), "time"), "actor": Col(_("By")), "action": Col(_("Action")),
        "subject": Col(_("Subject")), "detail": Col(_("Detail")), "from_ip": Col(_("From IP")),
    })  # fmt: skip


with boxes[tab]:
    {"keys": tokenboard_keys, "providers": provider_keys, "check": allowed_check,
     "refused": refused_requests, "audit": audit}[tab]()  # fmt: skip
st.caption(_("Page as of {time} UTC.", time=moment(now)))
