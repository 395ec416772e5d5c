"""Notifications of tickets, through the channels of the alerts (``lib.notify``): e-mail to
a person's own address over the ``[smtp]`` settings of the app's secrets, and the team's
webhooks named in the setting ``tickets_channels`` (alert channels' names, as JSON).

Who hears of what (never the person who acted):

- a new ticket, a reply or a close/reopen by its reporter: the assignee, or every admin when
  none is assigned, by e-mail; and the team's ticket channels (webhooks);
- a reply by someone else (not an internal note), a status change, a merge: the reporter, by
  e-mail only (a team webhook is no place for one user's answer);
- an assignment: the new assignee, by e-mail.

Sending never holds the user's action: the notifications are made after the change is
committed and handed to a background ``Outbox`` (the process's shared one by default), which
sends each with ``lib.notify.deliver``'s bounded retries. Notifications leave the app and
are written in English; they carry the ticket's number, subject and status, never a comment's
text or an attachment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from lib import settings
from lib.config import setting
from lib.notify import (
    SETTING_PREFIX,
    Channel,
    ChannelConfigError,
    Notification,
    Outbox,
    channel_from_config,
    deliver_in_background,
    email_channel_from_secrets,
)
from lib.store import Store
from lib.tickets import people

log = logging.getLogger("tokenboard")

CHANNELS_SETTING = "tickets_channels"  # JSON list of alert channel names
BASE_URL_SETTING = "TOKENBOARD_BASE_URL"

# -- the words (English: they leave the app) --------------------------------------------------
TITLE = "Ticket #{number}: {subject}"
TEXT = {
    "new": "New support ticket from **{actor}** ({category}, {severity}).",
    "reply": "**{actor}** replied to ticket #{number}.",
    "status": "Ticket #{number} is now **{status}** (changed by {actor}).",
    "assign": "Ticket #{number} was assigned to you by {actor}.",
    "merge": "Ticket #{number} was merged into #{into} by {actor} and closed.",
}
STATUS_WORDS = {"open": "open", "in_progress": "in progress", "waiting": "waiting for you",
                "resolved": "resolved", "closed": "closed"}  # fmt: skip
FIELD_STATUS = "Status"
FIELD_CATEGORY = "Category"


@dataclass(frozen=True)
class Event:
    """What happened to a ticket: ``kind`` new | reply | status | assign | merge; ``ref`` makes
    the event id unique (a comment's or a history row's id)."""

    kind: str
    number: int
    subject: str
    status: str
    category: str
    severity: str
    reporter: str
    assignee: str | None
    actor: str
    ref: int
    to_reporter: bool  # True: the reporter hears of it; False: the triage side does
    into: int | None = None


@dataclass
class TicketNotifier:
    """Sends ticket events. ``outbox``: where deliveries are queued (default: the process's
    shared outbox); ``secrets``: the app's secrets as a dict (default read from file);
    ``base_url``: the app's address for the ticket's link (default ``TOKENBOARD_BASE_URL``;
    without it no link)."""

    outbox: Outbox | None = None
    secrets: Mapping[str, object] | None = None
    base_url: str | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)  # (kind, target) queued

    def _email(self, address: str) -> Channel | None:
        try:
            return email_channel_from_secrets(self.secrets, to=(address,))
        except ChannelConfigError as err:
            log.warning("ticket e-mail not sent: SMTP setting %s (%s)", err.field, err.code)
            return None

    def _team(self, store: Store) -> list[Channel]:
        try:
            names = json.loads(settings.get(store, CHANNELS_SETTING) or "[]")
        except ValueError:
            return []
        out: list[Channel] = []
        for name in names if isinstance(names, list) else []:
            raw = settings.get(store, SETTING_PREFIX + str(name))
            try:
                config = json.loads(raw) if raw else None
                if not isinstance(config, dict) or config.get("kind") == "email":
                    continue  # e-mail reaches people by their own address, not a list
                out.append(channel_from_config(config))
            except (ValueError, ChannelConfigError):
                log.warning("ticket channel %s cannot be used", name)
        return out

    def notification(self, event: Event, recipient: str) -> Notification:
        base = self.base_url if self.base_url is not None else setting(BASE_URL_SETTING)
        link = f"{base.rstrip('/')}/Help?tab=tickets&ticket={event.number}" if base else None
        text = TEXT[event.kind].format(
            actor=event.actor, number=event.number, category=event.category,
            severity=event.severity, status=STATUS_WORDS.get(event.status, event.status),
            into=event.into,
        )  # fmt: skip
        return Notification(
            title=TITLE.format(number=event.number, subject=" ".join(event.subject.split())),
            text=text,
            event_id=f"tokenboard-ticket-{event.number}-{event.kind}-{event.ref}-{recipient}",
            link=link,
            fields=((FIELD_STATUS, STATUS_WORDS.get(event.status, event.status)),
                    (FIELD_CATEGORY, event.category)),
        )  # fmt: skip

    def recipients(self, store: Store, event: Event) -> list[str]:
        """The usernames e-mailed for ``event`` (the actor left out)."""
        if event.kind == "assign":
            who = [event.assignee] if event.assignee else []
        elif event.to_reporter:
            who = [event.reporter]
        else:
            who = [event.assignee] if event.assignee else people.admins(store)
        return [u for u in dict.fromkeys(who) if u and u != event.actor]

    def __call__(self, store: Store, event: Event) -> list[tuple[str, str]]:
        """Queue the event's notifications; returns (channel kind, username or "team")
        queued. Never raises (a failure is logged)."""
        queued: list[tuple[str, str]] = []
        try:
            for user in self.recipients(store, event):
                address = people.email_of(store, user)
                channel = self._email(address) if address else None
                if channel is not None and self._submit(channel, event, user):
                    queued.append(("email", user))
            if not event.to_reporter and event.kind != "assign":
                for channel in self._team(store):
                    if self._submit(channel, event, "team"):
                        queued.append((channel.kind, "team"))
        except Exception as exc:  # a notification never undoes or fails the user's action
            log.error("ticket notification failed: %s", type(exc).__name__)
        self.sent.extend(queued)
        return queued

    def _submit(self, channel: Channel, event: Event, recipient: str) -> bool:
        note = self.notification(event, recipient)
        return deliver_in_background(channel, note, outbox=self.outbox) in ("queued", "duplicate")


def set_team_channels(store: Store, role: str | None, names: list[str]) -> None:
    """Name the alert channels that hear of new tickets and reporters' replies (admins only:
    the ``settings`` action); an empty list: none."""
    settings.put(store, CHANNELS_SETTING, json.dumps(sorted(set(names))) if names else None, role)


def team_channels(store: Store) -> list[str]:
    """The alert channels' names set for tickets."""
    try:
        names = json.loads(settings.get(store, CHANNELS_SETTING) or "[]")
    except ValueError:
        return []
    return [str(n) for n in names] if isinstance(names, list) else []
