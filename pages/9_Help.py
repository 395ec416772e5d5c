"""Help: the documentation (searchable, in the page's language; every error code with its fix)
and support tickets (file one, follow yours; admins triage every ticket). Each tab is drawn
by its module in ``lib.ui.help``."""

from __future__ import annotations

import streamlit as st

from lib.ui import url
from lib.ui.frame import page
from lib.ui.help import docs, tickets
from lib.ui.i18n import _

ctx = page("pages/9_Help.py", filters=False)
st.title(_("Help"))
tab, boxes = url.tabs({"docs": _("Documentation"), "tickets": _("Support tickets")}, key="help_tab")
with boxes[tab]:
    (docs.draw if tab == "docs" else tickets.draw)(ctx)
