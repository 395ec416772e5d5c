"""The device cookie: proof that this browser once signed in as a user.

After a successful sign-in the browser also gets ``tokenboard_device`` (HttpOnly,
SameSite=Strict, ``MAX_AGE_S``): a random id and the username, signed with the cookie key.
It opens nothing by itself. The sign-in throttle (``lib.auth.throttle``) counts failures of a
browser that shows a valid device cookie for the username it tries under that device, not
under its address, so a stranger hammering the admin account — even from the same address,
as everyone is behind a proxy that hides client addresses — never slows the admin's own
browser down.
"""

from __future__ import annotations

import secrets

from lib.auth.signing import sign, verify

COOKIE_NAME = "tokenboard_device"
MAX_AGE_S = 180 * 86400


def _message(device_id: str, username: str) -> str:
    return f"device:{device_id}:{username}"  # never equal to a session token's message


def new_value(username: str, key: str, device_id: str | None = None) -> str:
    """A device cookie value for ``username`` (a new random device id unless given)."""
    device_id = device_id or secrets.token_urlsafe(16)
    return f"{device_id}.{username}.{sign(key, _message(device_id, username))}"


def device_id(value: str | None, username: str, key: str) -> str | None:
    """The device id in ``value`` when it is a genuine device cookie for ``username``."""
    if not value or len(value) > 300 or value.count(".") < 2:
        return None
    dev, rest = value.split(".", 1)
    name, sig = rest.rsplit(".", 1)
    if name != username.strip().lower():
        return None
    return dev if verify(key, _message(dev, name), sig) else None
