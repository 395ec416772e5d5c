"""What each channel sends for a ``Notification``: Slack blocks, a Teams Adaptive Card, the
generic JSON document and the e-mail message. Pure functions of the notification.

Formats:
- Slack incoming webhook: ``{"text": fallback, "blocks": [...]}`` (Block Kit: a header, a
  ``mrkdwn`` section, up to 10 fields, a link button, a context line). Slack's limits are
  kept (header 150 characters, section text 3,000, field 2,000). Text from data is escaped
  (``&``, ``<``, ``>``) so a value such as ``<!channel>`` cannot ping anyone.
- Microsoft Teams: the Workflows app's webhook ("When a Teams webhook request is received",
  which replaced the retired Office 365 connectors and accepts Adaptive Cards only, not the
  old MessageCard) takes a Bot Framework message with one attachment of content type
  ``application/vnd.microsoft.card.adaptive`` whose ``content`` is the card (Microsoft
  Teams platform docs, "Create and send messages" / "Send Adaptive Cards using an incoming
  webhook"). Card version 1.4: TextBlocks (Markdown subset), a FactSet, Action.OpenUrl.
- Generic JSON: one flat document (``event_id``, ``title``, ``text``, ``severity``,
  ``link``, ``fields`` as a list of ``{"name", "value"}``, ``occurred_at``), compact UTF-8.
"""

from __future__ import annotations

import hashlib
import json
import re
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from lib.notify import words
from lib.notify.model import EmailChannel, Notification, Severity
from lib.notify.signing import EVENT_ID_HEADER

SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
TEAMS_CARD_VERSION = "1.4"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _footer(n: Notification) -> str:
    return words.FOOTER.format(severity=n.severity.label, event_id=n.event_id)


# -- Slack ---------------------------------------------------------------------------------
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def slack_escape(text: str) -> str:
    """Slack's three control characters escaped (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mrkdwn(markdown: str) -> str:
    """Markdown as Slack ``mrkdwn``: escaped, ``**bold**`` → ``*bold*``, ``[label](url)`` →
    ``<url|label>``, ``- item`` → ``• item``."""
    links: list[str] = []

    def keep_link(m: re.Match[str]) -> str:
        label = slack_escape(m.group(1)).replace("|", "¦")
        links.append(f"<{slack_escape(m.group(2))}|{label}>")
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, markdown)
    text = slack_escape(text)
    text = _BOLD.sub(r"*\1*", text)
    text = re.sub(r"(?m)^- ", "• ", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def slack_payload(n: Notification) -> dict[str, Any]:
    """The JSON of a Slack incoming-webhook message."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(n.title, SLACK_HEADER_MAX)}}
    ]
    if n.text.strip():
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(slack_mrkdwn(n.text), SLACK_SECTION_MAX)}}
        )  # fmt: skip
    if n.fields:
        blocks.append({
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{slack_escape(k)}*\n{slack_escape(v)}", SLACK_FIELD_MAX)}
                for k, v in n.fields[:SLACK_FIELDS_MAX]
            ],
        })  # fmt: skip
    if n.link:
        blocks.append({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": words.OPEN_LINK},
                "url": n.link,
                **({"style": "danger"} if n.severity is Severity.CRITICAL else {}),
            }],
        })  # fmt: skip
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(_footer(n))}]}
    )
    fallback = f"{n.severity.label}: {n.title}"
    return {"text": slack_escape(fallback), "blocks": blocks}


# -- Microsoft Teams -----------------------------------------------------------------------
_TEAMS_COLOR = {
    Severity.INFO: "Accent",
    Severity.WARNING: "Warning",
    Severity.CRITICAL: "Attention",
}


# Adaptive Cards render Markdown links in TextBlocks and facts, and Teams clients link bare
# addresses; backslash escapes are read differently by each client (desktop, iOS, Android).
# An invisible word joiner (U+2060) inserted where a link would start breaks every form
# (``[label](url)`` and reference links after ``]``, ``<scheme:…>`` after ``<``, ``://``,
# ``www.``, e-mail ``@``, ``host.com`` before a letter after a dot) while the text reads the
# same.
_TEAMS_LINK = re.compile(r"[\]<@]|:(?=//)|(?i:www)(?=\.)|\.(?=[^\W\d_])")
_JOINER = "\u2060"


def teams_escape(text: str) -> str:
    """Plain text (a title, a fact from data) for a Teams card: shown as typed, never a link."""
    return _TEAMS_LINK.sub(lambda m: m.group(0) + _JOINER, text)


def teams_payload(n: Notification) -> dict[str, Any]:
    """The JSON of a Teams Workflows webhook message: one Adaptive Card. The title and the
    facts are plain text (``teams_escape``); ``text`` is our Markdown, sent as it is."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": teams_escape(n.title), "weight": "Bolder", "size": "Medium",
         "color": _TEAMS_COLOR[n.severity], "wrap": True},
    ]  # fmt: skip
    if n.text.strip():
        body.append({"type": "TextBlock", "text": n.text, "wrap": True})
    if n.fields:
        facts = [{"title": teams_escape(k), "value": teams_escape(v)} for k, v in n.fields]
        body.append({"type": "FactSet", "facts": facts})
    body.append(
        {"type": "TextBlock", "text": _footer(n), "isSubtle": True, "size": "Small", "wrap": True}
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": TEAMS_CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if n.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": words.OPEN_LINK, "url": n.link}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


# -- generic JSON --------------------------------------------------------------------------
def generic_payload(n: Notification) -> dict[str, Any]:
    """The generic webhook's document."""
    return {
        "type": "tokenboard.notification",
        "event_id": n.event_id,
        "title": n.title,
        "text": n.text,
        "severity": n.severity.value,
        "link": n.link,
        "fields": [{"name": k, "value": v} for k, v in n.fields],
        "occurred_at": n.occurred_at.isoformat() if n.occurred_at else None,
    }


def json_body(doc: dict[str, Any]) -> bytes:
    """A payload as the bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- e-mail --------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(text.split())


def message_id(event_id: str, sender: str) -> str:
    """A ``Message-ID`` that is the same for every send of one event (a receiver's filter
    may drop the repeat): a hash of the event id at the sender's domain."""
    domain = sender.rpartition("@")[2].strip(" >") or "tokenboard.invalid"
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:32]
    return f"<tokenboard.{digest}@{_one_line(domain)}>"


def email_message(channel: EmailChannel, n: Notification) -> EmailMessage:
    """The plain-text e-mail: the Markdown text (readable as it is), one line per field, the
    link, the footer. Header values are kept on one line (no header injection)."""
    msg = EmailMessage()
    msg["Subject"] = _one_line(words.EMAIL_SUBJECT.format(severity=n.severity.label, title=n.title))
    msg["From"] = _one_line(channel.sender)
    msg["To"] = ", ".join(_one_line(a) for a in channel.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(n.event_id, channel.sender)
    msg[EVENT_ID_HEADER] = _one_line(n.event_id)
    parts = [n.text.strip()] if n.text.strip() else []
    if n.fields:
        parts.append("\n".join(words.EMAIL_FIELD_LINE.format(name=k, value=v) for k, v in n.fields))
    if n.link:
        parts.append(words.EMAIL_LINK_LINE.format(link=n.link))
    parts.append("-- \n" + _footer(n))
    msg.set_content("\n\n".join(parts) + "\n")
    return msg
