"""The providers' own API keys through their admin APIs: list, and the few actions they allow.

OpenAI Administration API (``/v1/organization/...``, ``Authorization: Bearer <admin key>``):
- ``GET /projects`` and ``GET /projects/{project_id}/api_keys`` (``ProjectAPIKey``: ``id``,
  ``name``, ``redacted_value``, ``created_at`` and ``last_used_at`` in Unix seconds,
  ``owner`` = ``{type: user|service_account, user: {email, name…} | service_account: {name…}}``);
- ``GET /admin_api_keys`` (``AdminAPIKey``: the same fields, ``owner`` a user);
- ``GET /projects/{project_id}/service_accounts`` (``id``, ``name``, ``role``, ``created_at``);
- ``DELETE /projects/{project_id}/api_keys/{key_id}`` (answers ``{deleted: true}``);
- ``POST /projects/{project_id}/service_accounts`` with ``{name}`` answers the account and its
  ``api_key`` ``{id, name, value, created_at}``: the secret, returned once.
Lists are paged with ``limit`` (1-100) and ``after`` (the last id seen); each page says
``has_more`` and ``last_id``.

Anthropic Admin API (``/v1/organizations/...``, ``x-api-key`` and ``anthropic-version``):
- ``GET /api_keys`` (``APIKey``: ``id``, ``name``, ``status`` active|inactive|archived|expired,
  ``workspace_id`` (null: the default workspace), ``created_by`` ``{id, type}``,
  ``created_at`` and ``expires_at`` in RFC 3339, ``partial_key_hint``), paged with ``limit``
  (1-1000) and ``after_id``; each page says ``has_more`` and ``last_id``;
- ``POST /api_keys/{api_key_id}`` with ``{name?, status?}`` (status active, inactive or
  archived) answers the key. The API neither creates nor deletes keys.

Sources: platform.openai.com/docs/api-reference (Administration: Projects, Project API keys,
Project service accounts, Admin API keys) and platform.claude.com/docs/en/api/admin
(API Keys: list, update).

Admin keys come from the same settings as the usage pulls (``lib.pull.sources``) and are
never shown, logged or stored; a created service account's secret is returned to the caller
once and kept nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import httpx

from lib.http import RETRIED
from lib.pull.client import ApiClient, PullError, error_message
from lib.pull.sources import ADMIN_APIS, admin_key, base_url
from lib.text import N_, Text

Provider = Literal["openai", "anthropic"]
# What an inventory row is: an OpenAI project key, admin key or service account; an Anthropic key
Kind = Literal["project_key", "admin_key", "service_account", "api_key"]
# Statuses: OpenAI keys listed are active; Anthropic's keys say theirs
ANTHROPIC_STATUSES = ("active", "inactive", "archived")
OPENAI_LIMIT = 100  # the largest page the OpenAI lists accept
ANTHROPIC_LIMIT = 1000  # the largest page Anthropic's list accepts
MAX_PAGES = 1000


class ProviderKeyError(PullError):
    """An admin API call about keys failed or was refused; ``code`` says which, for callers that
    branch: ``not_configured``, ``refused`` (HTTP 401/403), ``not_found``, ``invalid`` (400/422),
    ``unavailable`` (connection errors and 5xx), ``bad_answer``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ProviderKey:
    """One key (or service account) of a provider. Times are aware UTC datetimes or None."""

    provider: Provider
    kind: Kind
    key_id: str  # the provider's id: key_…, svc_acct_…, apikey_… (usage reports carry it)
    name: str | None
    status: str  # active | inactive | archived | expired
    scope: str | None  # OpenAI: the project id; Anthropic: the workspace id (None: default)
    scope_name: str | None  # OpenAI: the project's name
    owner: str | None  # the owner's e-mail or name, a service account's name, the creator's id
    owner_type: str | None  # user | service_account
    hint: str | None  # the redacted value the provider shows (never the secret)
    created_at: datetime | None
    last_used_at: datetime | None  # as the provider states it (OpenAI); None when not stated
    expires_at: datetime | None = None


@dataclass(frozen=True)
class CreatedServiceAccount:
    """A service account just created and its key. ``secret`` is the key's value: show it once,
    never store or log it."""

    project_id: str
    account_id: str
    name: str
    key_id: str | None
    secret: str | None

    def __repr__(self) -> str:  # never the secret, even in a traceback or a log line
        return (f"CreatedServiceAccount(project_id={self.project_id!r}, "
                f"account_id={self.account_id!r}, name={self.name!r}, key_id={self.key_id!r})")  # fmt: skip


def _unix(value: Any) -> datetime | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), UTC)
    return None


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class KeysClient(ApiClient):
    """The admin API of one provider for keys: GETs retried as ``ApiClient`` does; a write is
    sent once (a create retried could create twice)."""

    def __init__(self, provider: Provider, **kwargs: Any) -> None:
        api = ADMIN_APIS[provider]
        key = admin_key(provider)
        if key is None:
            raise ProviderKeyError(
                N_(
                    "No {name} admin key is set: add {setting} to the environment or to "
                    ".streamlit/secrets.toml (an organisation admin key), then restart.",
                    name=api.name,
                    setting=api.key_setting,
                ),
                "not_configured",
            )
        self.provider = provider
        super().__init__(base_url(provider), api.headers(key), label=api.label, **kwargs)

    def __enter__(self) -> KeysClient:
        return self

    def get_json(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            return super().get_json(path, params)
        except ProviderKeyError:
            raise
        except PullError as err:
            raise ProviderKeyError(
                Text(err.args[0]) if err.args else str(err), "unavailable"
            ) from None

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One write (POST or DELETE), not retried; the decoded JSON object answered."""
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ProviderKeyError(
                N_(
                    "The {api} could not be reached ({why}); nothing was changed. Try again.",
                    api=Text(self.label),
                    why=type(exc).__name__,
                ),
                "unavailable",
            ) from None
        if response.status_code >= 300:
            raise self._key_refusal(response)
        try:
            answer = json.loads(response.content or b"{}", parse_float=Decimal)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ProviderKeyError(
                N_("The {api} answered {path} with something that is not a JSON object.",
                   api=Text(self.label), path=path),
                "bad_answer",
            )  # fmt: skip
        return answer

    def _refusal(self, response: httpx.Response) -> str:
        raise self._key_refusal(response)  # a GET refused: the same error as a write's

    def _key_refusal(self, response: httpx.Response) -> ProviderKeyError:
        status = response.status_code
        code = ("refused" if status in (401, 403) else "not_found" if status == 404
                else "unavailable" if status in RETRIED else "invalid")  # fmt: skip
        fix = {
            "refused": N_("check that the admin key is an organisation admin key with this right"),
            "not_found": N_("the key or project no longer exists: refresh the list"),
            "unavailable": N_("try again in a moment"),
            "invalid": N_("see the provider's message"),
        }[code]
        return ProviderKeyError(
            N_(
                "The {api} answered HTTP {status}: {message}. What to do: {fix}.",
                api=Text(self.label),
                status=str(status),
                message=error_message(response),
                fix=Text(fix),
            ),
            code,
        )

    def list_all(self, path: str, cursor_param: str, limit: int) -> Iterator[dict[str, Any]]:
        """Every object of a list paged by ``limit`` and an id cursor (``cursor_param`` = the
        previous page's ``last_id``), in order."""
        after: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = [("limit", str(limit))] + ([(cursor_param, after)] if after else [])
            page = self.get_json(path, params)
            data = page.get("data")
            if not isinstance(data, list):
                raise ProviderKeyError(
                    N_("The {api} answered {path} without a list of data.",
                       api=Text(self.label), path=path),
                    "bad_answer",
                )  # fmt: skip
            yield from (d for d in data if isinstance(d, dict))
            last = page.get("last_id") or (
                data[-1].get("id") if data and isinstance(data[-1], dict) else None
            )
            if not page.get("has_more") or not last:
                return
            if last in seen:
                break
            seen.add(last)
            after = str(last)
        raise ProviderKeyError(
            N_("The {api} kept paging (cursor repeated or too many pages): stopped so as not "
               "to loop forever.", api=Text(self.label)),
            "bad_answer",
        )  # fmt: skip


# --- OpenAI -------------------------------------------------------------------------------------
def _openai_owner(owner: Any) -> tuple[str | None, str | None]:
    if not isinstance(owner, dict):
        return None, None
    kind = _str(owner.get("type"))
    who = owner.get(kind) if kind in ("user", "service_account") else None
    if not isinstance(who, dict) and (owner.get("name") or owner.get("id")):
        who, kind = owner, kind or "user"  # an admin key's owner is the user itself
    if not isinstance(who, dict):
        return None, kind
    return _str(who.get("email")) or _str(who.get("name")) or _str(who.get("id")), kind


def openai_keys(client: KeysClient) -> list[ProviderKey]:
    """Every OpenAI project API key, service account and admin key of the organisation."""
    out: list[ProviderKey] = []
    projects = list(client.list_all("/v1/organization/projects", "after", OPENAI_LIMIT))
    for p in projects:
        pid, pname = _str(p.get("id")), _str(p.get("name"))
        if pid is None:
            continue
        for k in client.list_all(
            f"/v1/organization/projects/{pid}/api_keys", "after", OPENAI_LIMIT
        ):
            owner, owner_type = _openai_owner(k.get("owner"))
            out.append(ProviderKey("openai", "project_key", str(k.get("id")), _str(k.get("name")),
                                   "active", pid, pname, owner, owner_type,
                                   _str(k.get("redacted_value")), _unix(k.get("created_at")),
                                   _unix(k.get("last_used_at")), _unix(k.get("expires_at"))))  # fmt: skip
        for a in client.list_all(f"/v1/organization/projects/{pid}/service_accounts", "after",
                                 OPENAI_LIMIT):  # fmt: skip
            out.append(ProviderKey("openai", "service_account", str(a.get("id")), _str(a.get("name")),
                                   "active", pid, pname, _str(a.get("name")), "service_account",
                                   None, _unix(a.get("created_at")), None))  # fmt: skip
    for k in client.list_all("/v1/organization/admin_api_keys", "after", OPENAI_LIMIT):
        owner, owner_type = _openai_owner(k.get("owner"))
        out.append(ProviderKey("openai", "admin_key", str(k.get("id")), _str(k.get("name")), "active",
                               None, None, owner, owner_type or "user", _str(k.get("redacted_value")),
                               _unix(k.get("created_at")), _unix(k.get("last_used_at")),
                               _unix(k.get("expires_at"))))  # fmt: skip
    return out


def delete_openai_key(client: KeysClient, project_id: str, key_id: str) -> None:
    """Delete an OpenAI project API key (irreversible on the provider's side)."""
    answer = client.send("DELETE", f"/v1/organization/projects/{project_id}/api_keys/{key_id}")
    if answer.get("deleted") is not True:
        raise ProviderKeyError(
            N_(
                "The {api} did not confirm the deletion of {key}.",
                api=Text(client.label),
                key=key_id,
            ),
            "bad_answer",
        )


def create_openai_service_account(
    client: KeysClient, project_id: str, name: str
) -> CreatedServiceAccount:
    """Create a service account in an OpenAI project; its key's secret is in the answer only."""
    answer = client.send("POST", f"/v1/organization/projects/{project_id}/service_accounts",
                         {"name": name})  # fmt: skip
    key = answer.get("api_key") if isinstance(answer.get("api_key"), dict) else {}
    assert isinstance(key, dict)
    return CreatedServiceAccount(project_id, str(answer.get("id")), _str(answer.get("name")) or name,
                                 _str(key.get("id")), _str(key.get("value")))  # fmt: skip


# --- Anthropic ----------------------------------------------------------------------------------
def _anthropic_key(k: dict[str, Any]) -> ProviderKey:
    by = k.get("created_by") if isinstance(k.get("created_by"), dict) else {}
    assert isinstance(by, dict)
    scope = k.get("scope") if isinstance(k.get("scope"), dict) else {}
    assert isinstance(scope, dict)
    workspace = _str(k.get("workspace_id")) or _str(scope.get("workspace_id"))
    return ProviderKey("anthropic", "api_key", str(k.get("id")), _str(k.get("name")),
                       _str(k.get("status")) or "active", workspace, None, _str(by.get("id")),
                       _str(by.get("type")), _str(k.get("partial_key_hint")),
                       _rfc3339(k.get("created_at")), None, _rfc3339(k.get("expires_at")))  # fmt: skip


def anthropic_keys(client: KeysClient) -> list[ProviderKey]:
    """Every Anthropic API key of the organisation, whatever its status."""
    return [_anthropic_key(k) for k in
            client.list_all("/v1/organizations/api_keys", "after_id", ANTHROPIC_LIMIT)]  # fmt: skip


def update_anthropic_key(
    client: KeysClient, key_id: str, *, status: str | None = None, name: str | None = None
) -> ProviderKey:
    """Change an Anthropic key's status (active, inactive, archived) and/or name; the key as
    the API answers it."""
    body: dict[str, Any] = {}
    if status is not None:
        if status not in ANTHROPIC_STATUSES:
            raise ProviderKeyError(
                N_("{status!r} is not a status an Anthropic key can be given (active, inactive, "
                   "archived).", status=status),
                "invalid",
            )  # fmt: skip
        body["status"] = status
    if name is not None:
        name = name.strip()
        if not 1 <= len(name) <= 500:
            raise ProviderKeyError(N_("A key's name has 1 to 500 characters."), "invalid")
        body["name"] = name
    if not body:
        raise ProviderKeyError(N_("Nothing to change: give a status or a name."), "invalid")
    return _anthropic_key(client.send("POST", f"/v1/organizations/api_keys/{key_id}", body))
