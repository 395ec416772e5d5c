"""Settings: your own account (every role); users and sign-in (admins); the price catalog,
budgets and credits, reporting defaults and the data (admins change them, analysts read).
Each tab is drawn by its module in ``lib.ui.settings``."""

from __future__ import annotations

import streamlit as st

from lib.ui import url
from lib.ui.frame import page
from lib.ui.i18n import _
from lib.ui.settings import account, budgets, data, defaults, prices, users

ctx = page("pages/8_Settings.py", filters=False)
st.title(_("Settings"))
labels = {"account": _("My account")}
if ctx.can("manage_users"):
    labels["users"] = _("Users")
if ctx.can("view_settings"):
    labels |= {"prices": _("Prices"), "budgets": _("Budgets and credits"),
               "defaults": _("Reporting defaults"), "data": _("Data")}  # fmt: skip
tab, boxes = url.tabs(labels, key="settings_tab")
draw = {"account": account.draw, "users": users.draw, "prices": prices.draw,
        "budgets": budgets.draw, "defaults": defaults.draw, "data": data.draw}  # fmt: skip
with boxes[tab]:
    draw[tab](ctx)
