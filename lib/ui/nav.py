"""The page map: which pages exist, their section, and the action a role needs to open them.

Labels and sections are English message ids marked for the catalog (``N_``); the frame
shows them translated (``_(item.label)``)."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config import PROJECT_ROOT
from lib.i18n import N_


@dataclass(frozen=True)
class NavItem:
    path: str  # relative to the project root, as st.page_link wants it
    label: str  # a message id
    icon: str
    section: str  # Monitor | Manage | Help (message ids)
    action: str = "view"
    help: str = "quickstart"  # the help topic (a section id of data/help) that explains it


PAGES: tuple[NavItem, ...] = (
    NavItem("app.py", N_("Overview"), ":material/dashboard:", N_("Monitor"), help="page-overview"),
    NavItem("pages/1_Usage.py", N_("Usage"), ":material/monitoring:", N_("Monitor"), help="page-usage"),
    NavItem("pages/2_Costs.py", N_("Costs"), ":material/payments:", N_("Monitor"), help="page-costs"),
    NavItem("pages/3_Errors.py", N_("Errors"), ":material/error:", N_("Monitor"), help="page-errors"),
    NavItem("pages/4_Alerts.py", N_("Alerts"), ":material/notifications:", N_("Monitor"), help="page-alerts"),
    NavItem("pages/5_API_keys.py", N_("API keys"), ":material/key:", N_("Manage"), "manage_keys", "page-keys"),
    NavItem("pages/6_Playground.py", N_("Playground"), ":material/science:", N_("Manage"), "playground", "page-playground"),
    NavItem("pages/7_Data.py", N_("Data"), ":material/database:", N_("Manage"), help="page-data"),
    NavItem("pages/8_Settings.py", N_("Settings"), ":material/settings:", N_("Manage"), help="page-settings"),
    NavItem("pages/9_Help.py", N_("Help"), ":material/help:", N_("Help"), help="page-help"),
)  # fmt: skip
SECTIONS: tuple[str, ...] = (N_("Monitor"), N_("Manage"), N_("Help"))


def existing_pages() -> list[NavItem]:
    """The pages whose files exist (later pages appear as they are built)."""
    return [p for p in PAGES if (PROJECT_ROOT / p.path).exists()]


HELP_PAGE = "pages/9_Help.py"


def item_for(path: str) -> NavItem | None:
    return next((p for p in PAGES if p.path == path), None)
