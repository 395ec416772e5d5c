"""Saved playground configurations: private to their owner or shared with the team.

A preset's config is JSON with ``provider``, ``model``, ``system``, ``params`` and, if the
user chose to keep it, ``messages``; restoring gives back exactly what was saved. Names are
unique per owner. Only the owner (or an admin) may rename or delete a preset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lib.errors import InputError, NotFoundError
from lib.llm.params import ParamError, validate
from lib.llm.providers import PROVIDERS
from lib.store import Cursor, Store

EXPORT_FORMAT = "tokenboard-presets/1"


# Why a preset is refused (``PresetError.code`` / ``PresetNotFound.code``) and its values
# (``where``: the file and preset, or "preset"): not_an_object; unknown_provider (found,
# providers); model_missing; bad_param (``param_error`` says why); bad_messages; name_empty;
# name_taken (owner, name); not_json (error, line), too_deep; not_presets_file (found,
# expected); needs_name; missing (preset_id); not_owner (name, owner).
PresetCode = Literal[
    "not_an_object", "unknown_provider", "model_missing", "bad_param", "bad_messages",
    "name_empty", "name_taken", "not_json", "too_deep", "not_presets_file", "needs_name",
]  # fmt: skip


class PresetError(InputError):
    """A preset (or a presets file) refused: ``str()`` is the English sentence, ``code`` and
    ``values`` what a page words; ``param_error`` the parameter's refusal for ``bad_param``."""

    def __init__(
        self,
        code: PresetCode,
        file: str,
        problem: str,
        *,
        param_error: ParamError | None = None,
        values: dict[str, Any] | None = None,
        **where: Any,
    ) -> None:
        super().__init__(file, problem, **where)
        self.preset_code: PresetCode = code
        self.param_error = param_error
        self.values: dict[str, Any] = {"where": file} | (values or {})


class PresetNotFound(NotFoundError):
    """A preset that does not exist for this user (``missing``) or that only its owner or an
    admin may change (``not_owner``); ``values`` hold preset_id or name and owner."""

    def __init__(self, code: Literal["missing", "not_owner"], message: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Preset:
    preset_id: int
    name: str
    owner: str
    shared: bool
    config: dict[str, Any]
    updated_at: datetime


def check_config(config: object, where: str = "preset") -> dict[str, Any]:
    """A config as stored: provider, model, system, params (validated), messages (optional).
    Raises InputError naming the field."""
    if not isinstance(config, dict):
        raise PresetError("not_an_object", where, "a preset must be a JSON object",
                          expected="{provider, model, system, params}")  # fmt: skip
    provider, model = config.get("provider"), config.get("model")
    if provider not in PROVIDERS:
        raise PresetError("unknown_provider", where, "unknown provider", field="provider",
                          found=repr(provider), expected=" or ".join(PROVIDERS),
                          values={"found": repr(provider), "providers": ", ".join(PROVIDERS)})  # fmt: skip
    if not isinstance(model, str) or not model.strip():
        raise PresetError(
            "model_missing", where, "the model is missing", field="model", expected="a model name"
        )
    params = config.get("params") or {}
    try:
        validate(provider, model, params)
    except ParamError as err:  # it names the field
        raise PresetError(
            "bad_param", where, str(err), field=f"params.{err.field}", param_error=err
        ) from None
    out: dict[str, Any] = {"provider": provider, "model": model.strip(), "system": str(config.get("system") or ""),
                           "params": params}  # fmt: skip
    if config.get("base_url"):
        out["base_url"] = str(config["base_url"])
    messages = config.get("messages")
    if messages:
        if not isinstance(messages, list) or not all(
            isinstance(m, dict)
            and m.get("role") in ("user", "assistant")
            and isinstance(m.get("content"), str)
            for m in messages
        ):
            raise PresetError("bad_messages", where,
                              "messages must be a list of {role: user|assistant, content: text}",
                              field="messages")  # fmt: skip
        out["messages"] = [{"role": m["role"], "content": m["content"]} for m in messages]
    return out


def _row(r: tuple) -> Preset:
    return Preset(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5])


def save(
    store: Store, owner: str, name: str, config: dict[str, Any], shared: bool = False
) -> Preset:
    """Create the preset ``name`` of ``owner``, or overwrite it if it exists."""
    checked = check_config(config)
    with store.write() as cur:
        return _save(cur, owner, name, checked, shared)


def _save(cur: Cursor, owner: str, name: str, config: dict[str, Any], shared: bool) -> Preset:
    name = name.strip()
    if not name:
        raise PresetError(
            "name_empty", "preset", "the name is empty", field="name", expected="a name"
        )
    text = json.dumps(config, sort_keys=True)
    now = datetime.now(UTC)
    found = cur.execute(
        "SELECT preset_id FROM presets WHERE owner = ? AND name = ?", [owner, name]
    ).fetchone()
    if found:
        cur.execute("UPDATE presets SET config = ?, shared = ?, updated_at = ? WHERE preset_id = ?",
                    [text, shared, now, found[0]])  # fmt: skip
    else:
        cur.execute("INSERT INTO presets VALUES (nextval('preset_id_seq'), ?, ?, ?, ?, ?, ?)",
                    [name, owner, shared, text, now, now])  # fmt: skip
    row = cur.execute(
        "SELECT preset_id, name, owner, shared, config, updated_at FROM presets WHERE owner = ? AND name = ?",
        [owner, name],
    ).fetchone()
    assert row is not None  # written just above, in this transaction
    return _row(row)


def visible(store: Store, user: str) -> list[Preset]:
    """The user's own presets and everyone's shared ones, by name."""
    rows = store.query(
        """SELECT preset_id, name, owner, shared, config, updated_at FROM presets
           WHERE owner = ? OR shared ORDER BY lower(name), owner""",
        [user],
    )
    return [_row(r) for r in rows]


def get(store: Store, user: str, preset_id: int) -> Preset:
    for p in visible(store, user):
        if p.preset_id == preset_id:
            return p
    raise PresetNotFound(
        "missing",
        f"Preset #{preset_id} does not exist or is not shared with you.",
        preset_id=preset_id,
    )


def _owned(store: Store, user: str, role: str, preset_id: int) -> Preset:
    p = get(store, user, preset_id)
    if p.owner != user and role != "admin":
        raise PresetNotFound(
            "not_owner",
            f"Preset “{p.name}” belongs to {p.owner}: only they (or an admin) can change it.",
            name=p.name,
            owner=p.owner,
        )
    return p


def rename(store: Store, user: str, role: str, preset_id: int, new_name: str) -> None:
    p = _owned(store, user, role, preset_id)
    new_name = new_name.strip()
    if not new_name:
        raise PresetError(
            "name_empty", "preset", "the name is empty", field="name", expected="a name"
        )
    with store.write() as cur:
        if cur.execute("SELECT 1 FROM presets WHERE owner = ? AND name = ? AND preset_id <> ?",
                       [p.owner, new_name, preset_id]).fetchone():  # fmt: skip
            raise PresetError("name_taken", "preset", f"{p.owner} already has a preset named “{new_name}”",
                              field="name", values={"owner": p.owner, "name": new_name})  # fmt: skip
        cur.execute("UPDATE presets SET name = ?, updated_at = ? WHERE preset_id = ?",
                    [new_name, datetime.now(UTC), preset_id])  # fmt: skip


def delete(store: Store, user: str, role: str, preset_id: int) -> None:
    _owned(store, user, role, preset_id)
    with store.write() as cur:
        cur.execute("DELETE FROM presets WHERE preset_id = ?", [preset_id])


def export_json(presets: list[Preset]) -> str:
    """A JSON file of presets (name, shared, config) to share or back up."""
    return json.dumps({"format": EXPORT_FORMAT, "presets": [
        {"name": p.name, "shared": p.shared, "config": p.config} for p in presets]}, indent=2)  # fmt: skip


def import_json(
    store: Store, owner: str, text: str, file_name: str = "presets.json"
) -> list[Preset]:
    """Import an exported file as ``owner``'s presets, all or nothing (same names overwrite)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise PresetError("not_json", file_name, f"not valid JSON ({err.msg})", line=err.lineno,
                          values={"error": err.msg, "line": err.lineno}) from None  # fmt: skip
    except RecursionError:
        raise PresetError("too_deep", file_name, "not valid JSON (nested too deeply)") from None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != EXPORT_FORMAT
        or not isinstance(doc.get("presets"), list)
    ):
        found = repr(doc.get("format") if isinstance(doc, dict) else type(doc).__name__)
        raise PresetError("not_presets_file", file_name, "not a Tokenboard presets file", field="format",
                          found=found, expected=EXPORT_FORMAT,
                          values={"found": found, "expected": EXPORT_FORMAT})  # fmt: skip
    checked = []
    for i, item in enumerate(doc["presets"]):
        where = f"{file_name}: presets[{i}]"
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            raise PresetError("needs_name", where, "a preset needs a name", field="name")
        checked.append(
            (
                str(item["name"]).strip(),
                bool(item.get("shared")),
                check_config(item.get("config"), where),
            )
        )
    with store.write() as cur:  # one transaction: all or nothing
        return [_save(cur, owner, name, config, shared) for name, shared, config in checked]
