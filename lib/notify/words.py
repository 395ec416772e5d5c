"""Every sentence and label that notifications carry, as module-level English templates.

Notifications leave the app (a chat message, an e-mail), so their words are written here,
once, as constants with ``{fields}``: nothing else in ``lib.notify`` composes a sentence. A
later translation replaces these templates (or marks them for the catalog); code fills them
with ``TEMPLATE.format(...)`` only. Pairs named ``…_ONE`` / ``…_MANY`` are one sentence in
its singular and plural forms.
"""

from __future__ import annotations

# -- severities and channel words ---------------------------------------------------------
SEVERITY_INFO = "Info"
SEVERITY_WARNING = "Warning"
SEVERITY_CRITICAL = "Critical"

# The button (Slack, Teams) or the line (e-mail, generic JSON has the bare link) that opens
# the filtered view showing the cause.
OPEN_LINK = "Open in Tokenboard"
EMAIL_LINK_LINE = "Open in Tokenboard: {link}"
# E-mail subject: "[Tokenboard] Warning: Budget 80 % reached".
EMAIL_SUBJECT = "[Tokenboard] {severity}: {title}"
# One line per field in a plain-text e-mail.
EMAIL_FIELD_LINE = "{name}: {value}"
# Footer of chat messages and e-mails: the severity and the event id (for de-duplication).
FOOTER = "{severity} · Tokenboard · event {event_id}"

# -- weekly summary -----------------------------------------------------------------------
SUMMARY_TITLE = "Weekly summary, {start} to {end}"
SUMMARY_SPEND = "Spend this week: **{spend}**, {change} against {previous} the week before."
SUMMARY_SPEND_NO_PREVIOUS = "Spend this week: **{spend}**; nothing was spent the week before."
SUMMARY_SPEND_NONE = "Nothing was spent this week or the week before."
SUMMARY_MOVERS_HEADING = "**Top movers**"
SUMMARY_MOVER_LINE = "- {name}: {spend} ({delta}, {change})"
SUMMARY_MOVER_LINE_NEW = "- {name}: {spend} ({delta}, new this week)"
SUMMARY_NO_MOVERS = "No spend moved this week."
SUMMARY_ALERTS_ONE = "**{n} open alert**"
SUMMARY_ALERTS_MANY = "**{n} open alerts**"
SUMMARY_NO_ALERTS = "No open alerts."
SUMMARY_ALERT_LINE = "- {severity}: {title}"
SUMMARY_MORE_ALERTS = "- and {n} more"
# Field labels of the summary (chat cards show them as facts).
SUMMARY_FIELD_SPEND = "Spend this week"
SUMMARY_FIELD_PREVIOUS = "Spend the week before"
SUMMARY_FIELD_CHANGE = "Change"
SUMMARY_FIELD_ALERTS = "Open alerts"

TEMPLATES: tuple[str, ...] = (
    SEVERITY_INFO, SEVERITY_WARNING, SEVERITY_CRITICAL, OPEN_LINK, EMAIL_LINK_LINE,
    EMAIL_SUBJECT, EMAIL_FIELD_LINE, FOOTER, SUMMARY_TITLE, SUMMARY_SPEND,
    SUMMARY_SPEND_NO_PREVIOUS, SUMMARY_SPEND_NONE, SUMMARY_MOVERS_HEADING, SUMMARY_MOVER_LINE,
    SUMMARY_MOVER_LINE_NEW, SUMMARY_NO_MOVERS, SUMMARY_ALERTS_ONE, SUMMARY_ALERTS_MANY,
    SUMMARY_NO_ALERTS, SUMMARY_ALERT_LINE, SUMMARY_MORE_ALERTS, SUMMARY_FIELD_SPEND,
    SUMMARY_FIELD_PREVIOUS, SUMMARY_FIELD_CHANGE, SUMMARY_FIELD_ALERTS,
)  # fmt: skip
"""Every template above, for a translation pass (and a test that each is a constant)."""
