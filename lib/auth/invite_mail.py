"""An invitation or reset link sent by e-mail, when the app has an e-mail channel (the
``[smtp]`` table of its secrets, as for alerts). Optional: the admin can always copy the
link shown once. The link rides only in the message's body; it is never logged (the
delivery's record carries the masked server, not the message)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from lib.auth.admin import Link
from lib.notify.config import ChannelConfigError, email_channel_from_secrets
from lib.notify.model import Delivery, Notification
from lib.notify.send import deliver


def can_send(secrets: Mapping[str, object] | None = None) -> bool:
    """True when an e-mail channel is configured (and complete)."""
    try:
        return email_channel_from_secrets(secrets, to=("nobody@example.com",)) is not None
    except ChannelConfigError:
        return False


def send_link(
    link: Link,
    url: str,
    to: str,
    inviter: str,
    *,
    secrets: Mapping[str, object] | None = None,
) -> Delivery | None:
    """Send ``url`` (the link of ``link``) to ``to``; ``None`` when no e-mail channel is
    configured. Never raises: a failure is a ``Delivery`` with ``ok=False``. The message is
    in English (the invited person has chosen no language yet)."""
    try:
        channel = email_channel_from_secrets(secrets, to=(to,))
    except ChannelConfigError:
        return None
    if channel is None:
        return None
    until = link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if link.kind == "invite":
        title = "Your invitation to Tokenboard"
        text = (f"{inviter} invites you to Tokenboard as **{link.username}**. Open the link "
                f"below to choose your password. It works once, until {until}.")  # fmt: skip
    else:
        title = "Choose a new Tokenboard password"
        text = (f"{inviter} reset the password of **{link.username}**. Open the link below to "
                f"choose a new one. It works once, until {until}.")  # fmt: skip
    event = "tokenboard-" + hashlib.sha256(link.token.encode()).hexdigest()[:16]
    return deliver(channel, Notification(title=title, text=text, event_id=event, link=url),
                   retries=1)  # fmt: skip
