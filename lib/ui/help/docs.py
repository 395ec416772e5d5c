"""The docs tab (being built)."""

from __future__ import annotations

import streamlit as st

from lib.ui.frame import PageContext
from lib.ui.i18n import _


def draw(ctx: PageContext) -> None:
    """Draw the tab for the signed-in user of ``ctx``."""
    st.info(_("This part of Tokenboard is being built."))
