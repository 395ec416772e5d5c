"""Words and small drawings of the Keys page: labels of statuses, kinds and refusal codes, the
provider keys' errors in words, the allowlists typed as text, and the secret shown once."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from lib.i18n import N_
from lib.keys.restrictions import Restrictions
from lib.ui.i18n import _, integer, money

# Refusal codes of the gateway (request events' error_code) and what each means
REFUSAL_LABELS: dict[str, str] = {
    "invalid_api_key": N_("Unknown key"),
    "key_revoked": N_("Revoked key used"),
    "key_expired": N_("Expired key used"),
    "ip_not_allowed": N_("IP not allowed"),
    "origin_not_allowed": N_("Origin not allowed"),
    "model_not_allowed": N_("Model not allowed"),
    "endpoint_not_allowed": N_("Endpoint not allowed"),
    "budget_exceeded": N_("Budget spent"),
    "rate_limited": N_("Over the rate limit"),
}
STATUS_LABELS: dict[str, str] = {
    "active": N_("Active"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "inactive": N_("Inactive"),
    "archived": N_("Archived"),
}
KIND_LABELS: dict[str, str] = {
    "project_key": N_("Project key"),
    "admin_key": N_("Admin key"),
    "service_account": N_("Service account"),
    "api_key": N_("API key"),
}
PROVIDER_LABELS: dict[str, str] = {"openai": "OpenAI", "anthropic": "Anthropic"}
# Audit actions (codes written by lib.keys and lib.provider_keys)
AUDIT_LABELS: dict[str, str] = {
    "key_created": N_("Key created"),
    "key_revoked": N_("Key revoked"),
    "key_rotated": N_("Key rotated"),
    "restrictions_changed": N_("Restrictions changed"),
    "key_edited": N_("Key details changed"),
    "requests_refused": N_("Refused requests"),
    "provider_key_deleted": N_("Provider key deleted"),
    "provider_service_account_created": N_("Service account created"),
    "provider_key_status": N_("Provider key status changed"),
    "provider_key_renamed": N_("Provider key renamed"),
    "user_created": N_("User created"),
    "user_invited": N_("User invited"),
    "invitation_accepted": N_("Invitation accepted"),
    "invitation_revoked": N_("Invitation withdrawn"),
    "role_changed": N_("Role changed"),
    "user_disabled": N_("User disabled"),
    "user_enabled": N_("User enabled"),
    "user_deleted": N_("User deleted"),
    "user_edited": N_("User details changed"),
    "password_reset": N_("Password reset"),
    "password_changed": N_("Password changed"),
    "account_unlocked": N_("Account unlocked"),
    "sessions_revoked": N_("Sessions ended"),
    "users_migrated": N_("Users moved into the database"),
    "price_added": N_("Price added"),
    "price_edited": N_("Price changed"),
    "price_deleted": N_("Price deleted"),
    "prices_imported": N_("Price list imported"),
    "settings_changed": N_("Settings changed"),
    "retention_applied": N_("Old requests deleted"),
    "backup_made": N_("Backup made"),
    "backup_restored": N_("Backup restored"),
}


def label(labels: Mapping[str, str], code: object) -> str:
    """The words of ``code`` in ``labels``, else the code itself ("—" for none)."""
    if code is None or code != code:  # None or NaN
        return "—"
    text = labels.get(str(code))
    return _(text) if text else str(code)


def restrictions_words(r: Restrictions) -> str:
    """A key's restrictions in one line: "IP: 203.0.113.0/24 · origins: *.example.com · models:
    gpt-4o* · $10.00 a day · 60 RPM" ("every IP" / "no IP" when there is no allowlist)."""
    ips = (
        ", ".join(r.ips)
        if r.ips
        else (_("every IP") if r.anywhere_ip else _("no IP (all refused)"))
    )
    origins = (", ".join(r.origins) if r.origins
               else (_("every origin") if r.anywhere_origin else _("no origin (all refused)")))  # fmt: skip
    parts = [_("IP: {ips}", ips=ips), _("origins: {origins}", origins=origins)]
    if r.models:
        parts.append(_("models: {models}", models=", ".join(r.models)))
    if r.endpoints:
        parts.append(_("endpoints: {endpoints}", endpoints=", ".join(r.endpoints)))
    if r.budget_day_usd is not None:
        parts.append(_("{amount} a day", amount=money(r.budget_day_usd)))
    if r.budget_month_usd is not None:
        parts.append(_("{amount} a month", amount=money(r.budget_month_usd)))
    if r.rpm is not None:
        parts.append(_("{n} RPM", n=integer(r.rpm)))
    if r.tpm is not None:
        parts.append(_("{n} TPM", n=integer(r.tpm)))
    return " · ".join(parts)


def show_secret_once(secret: str, *, what: str) -> None:
    """The secret in a code block with its copy button, drawn in this run only: it is kept in
    no session state, so the next run (any click) no longer has it."""
    st.success(
        _("{what}: copy the secret now. It is shown this once and cannot be shown again.",
          what=what),
        icon=":material/key:",
    )  # fmt: skip
    st.code(secret, language=None)
