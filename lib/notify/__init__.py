"""Notifications that reach people: in-app, Slack- and Teams-compatible webhooks, a generic
JSON webhook signed with HMAC-SHA256, e-mail over SMTP. No UI and no database: the alerts
engine decides what to send and keeps the delivery log; this package builds the messages
and sends them.

- ``model``: ``Notification``, the channels, ``Delivery`` (the outcome, with a code)
- ``send.deliver``: one send, retried with backoff and ``Retry-After``, bounded in time,
  never raising; ``outbox.deliver_in_background`` / ``Outbox``: the same without waiting
- ``payloads``: what each channel sends; ``signing``: the HMAC signature and ``verify``
- ``masking``: ``mask_url``, ``mask_secret`` (URLs and passwords never logged or shown)
- ``config``: channels from the secrets' ``[smtp]`` table or a stored dict
- ``summary``: the weekly summary; ``words``: every sentence, as templates
"""

from lib.notify.config import (
    SETTING_PREFIX,
    ChannelConfigError,
    channel_from_config,
    email_channel_from_secrets,
)
from lib.notify.masking import mask_secret, mask_url
from lib.notify.model import (
    Channel,
    Delivery,
    EmailChannel,
    InAppChannel,
    Notification,
    Severity,
    SignedWebhookChannel,
    SlackChannel,
    TeamsChannel,
)
from lib.notify.outbox import Outbox, deliver_in_background
from lib.notify.send import deliver
from lib.notify.signing import verify, verify_request
from lib.notify.summary import Mover, OpenAlert, WeeklyFigures, weekly_summary

__all__ = [
    "SETTING_PREFIX",
    "Channel", "ChannelConfigError", "Delivery", "EmailChannel", "InAppChannel", "Mover",
    "Notification", "OpenAlert", "Outbox", "Severity", "SignedWebhookChannel", "SlackChannel",
    "TeamsChannel", "WeeklyFigures", "channel_from_config", "deliver", "deliver_in_background",
    "email_channel_from_secrets", "mask_secret", "mask_url", "verify", "verify_request",
    "weekly_summary",
]  # fmt: skip
