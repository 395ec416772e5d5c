"""Roles and what each may do. Checked in ``lib`` itself, not only by hiding buttons: a
viewer cannot import or undo even by crafting a request.

- admin: everything.
- analyst: all analysis, the playground, imports and undo, alert rules; reads the settings.
- viewer: read-only dashboards.
Every signed-in user reads the help, files and follows their own support tickets, and
changes their own password and language.
"""

from __future__ import annotations

from typing import Literal

from lib.errors import TokenboardError

Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "viewer")

# action -> roles allowed
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "import": frozenset({"admin", "analyst"}),
    "undo_import": frozenset({"admin", "analyst"}),
    "pull_provider_api": frozenset({"admin", "analyst"}),
    "playground": frozenset({"admin", "analyst"}),
    "tickets": frozenset(ROLES),  # file and follow one's own tickets
    "manage_tickets": frozenset({"admin"}),  # see every ticket, triage, assign, merge
    "view_settings": frozenset({"admin", "analyst"}),
    "manage_keys": frozenset({"admin"}),
    "manage_alerts": frozenset({"admin", "analyst"}),
    "manage_users": frozenset({"admin"}),
    "settings": frozenset({"admin"}),
}


class PermissionDeniedError(TokenboardError):
    """The signed-in user's role does not allow the action."""


def can(role: str | None, action: str) -> bool:
    """True when ``role`` may perform ``action`` (unknown actions are denied)."""
    return role is not None and role in PERMISSIONS.get(action, frozenset())


def require(role: str | None, action: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``role`` may perform ``action``."""
    if not can(role, action):
        who = f"the {role} role" if role else "a signed-out visitor"
        raise PermissionDeniedError(
            f"Not allowed: {action.replace('_', ' ')} is not open to {who}."
        )
