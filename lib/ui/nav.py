"""The page map: which pages exist, their section, and the action a role needs to open them."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config import PROJECT_ROOT


@dataclass(frozen=True)
class NavItem:
    path: str  # relative to the project root, as st.page_link wants it
    label: str
    icon: str
    section: str  # Monitor | Manage | Help
    action: str = "view"


PAGES: tuple[NavItem, ...] = (
    NavItem("app.py", "Overview", ":material/dashboard:", "Monitor"),
    NavItem("pages/1_Usage.py", "Usage", ":material/monitoring:", "Monitor"),
    NavItem("pages/2_Costs.py", "Costs", ":material/payments:", "Monitor"),
    NavItem("pages/3_Errors.py", "Errors", ":material/error:", "Monitor"),
    NavItem("pages/4_Alerts.py", "Alerts", ":material/notifications:", "Monitor"),
    NavItem("pages/5_API_keys.py", "API keys", ":material/key:", "Manage", "manage_keys"),
    NavItem("pages/6_Playground.py", "Playground", ":material/science:", "Manage", "playground"),
    NavItem("pages/7_Data.py", "Data", ":material/database:", "Manage"),
    NavItem("pages/8_Settings.py", "Settings", ":material/settings:", "Manage", "settings"),
    NavItem("pages/9_Help.py", "Help", ":material/help:", "Help"),
)
SECTIONS: tuple[str, ...] = ("Monitor", "Manage", "Help")


def existing_pages() -> list[NavItem]:
    """The pages whose files exist (later pages appear as they are built)."""
    return [p for p in PAGES if (PROJECT_ROOT / p.path).exists()]


def item_for(path: str) -> NavItem | None:
    return next((p for p in PAGES if p.path == path), None)
