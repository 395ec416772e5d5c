"""What an admin types for a key, checked and normalised into ``Restrictions``, or refused.

Each refusal is a ``KeyInputError`` with a ``code`` (what a caller branches on) and a
sentence (an ``N_`` text that names the entry and says what is expected). Lists are given as
a list of entries or as one text of entries separated by commas, spaces or new lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from lib.errors import TokenboardError
from lib.keys.restrictions import ENDPOINTS, Restrictions, parse_network, split_host
from lib.text import N_, Text

KeyInputCode = Literal[
    "bad_name",
    "bad_ip",
    "ip_choice",
    "bad_origin",
    "origin_choice",
    "bad_model",
    "bad_endpoint",
    "bad_budget",
    "bad_limit",
    "bad_expiry",
    "too_many",
    "key_revoked",
]
MAX_ENTRIES = 500  # per list
MAX_NAME = 100
MAX_BUDGET = Decimal(10) ** 9
MAX_LIMIT = 10**12
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}\*?$")


class KeyInputError(TokenboardError):
    """A key's settings were refused; ``code`` says which (``KeyInputCode``). Nothing was
    written."""

    def __init__(self, code: KeyInputCode, message: str) -> None:
        self.code = code
        super().__init__(message)


def entries(value: str | Iterable[str] | None) -> list[str]:
    """The entries of a list given as a text (commas, spaces, new lines) or as a list;
    blanks dropped, duplicates dropped (first kept)."""
    if value is None:
        return []
    parts = re.split(r"[\s,]+", value) if isinstance(value, str) else [str(v) for v in value]
    out: list[str] = []
    for p in parts:
        p = p.strip()
        if p and p not in out:
            out.append(p)
    return out


def _limit_count(items: list[str], what: str) -> None:
    if len(items) > MAX_ENTRIES:
        raise KeyInputError(
            "too_many",
            N_("At most {max} entries in the {what} list; found {n}.", max=MAX_ENTRIES,
               what=what, n=len(items)),
        )  # fmt: skip


def check_name(name: str | None) -> str:
    """The key's name, trimmed: 1 to 100 printable characters."""
    text = (name or "").strip()
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise KeyInputError(
            "bad_name",
            N_("A key needs a name of 1 to {max} printable characters.", max=MAX_NAME),
        )
    return text


def _one_or_other(
    items: Sequence[str], anywhere: bool, code: KeyInputCode, both: str, neither: str
) -> None:
    """An allowlist is either "anywhere" or a list of entries: refuse both (``both``) and
    neither (``neither``) with the refusal ``code``."""
    if anywhere and items:
        raise KeyInputError(code, both)
    if not anywhere and not items:
        raise KeyInputError(code, neither)


def check_ips(value: str | Iterable[str] | None, anywhere: bool) -> tuple[str, ...]:
    """The IP allowlist normalised (``10.1.0.0/16``, ``2001:db8::/32``, ``192.0.2.5/32``):
    each entry an IPv4 or IPv6 address or CIDR network. Empty only with ``anywhere``;
    ``anywhere`` with entries is refused (one or the other)."""
    items = entries(value)
    _limit_count(items, "IP")
    _one_or_other(
        items, anywhere, "ip_choice",
        N_("Choose either any IP address or a list of addresses, not both."),
        N_("List the IP addresses or networks allowed to use the key (e.g. 203.0.113.7, "
           "10.0.0.0/8, 2001:db8::/32), or choose any IP address."),
    )  # fmt: skip
    out: list[str] = []
    for item in items:
        try:
            net = parse_network(item)
        except ValueError:
            raise KeyInputError(
                "bad_ip",
                N_("{entry} is not an IP address or network: write an IPv4 or IPv6 address "
                   "(203.0.113.7, 2001:db8::1) or a network in CIDR form with its host bits "
                   "zero (10.0.0.0/8, 2001:db8::/32).", entry=item),
            ) from None  # fmt: skip
        text = str(net)
        if text not in out:
            out.append(text)
    return tuple(out)


def _check_host(host: str) -> bool:
    labels = host.split(".")
    return all(_LABEL.match(label) for label in labels)


def check_origin(entry: str) -> str:
    """One domain allowlist entry normalised to ``host`` or ``host:port`` (lower case,
    IDNA-encoded), or ``*.`` + a domain of at least two labels. A scheme is accepted and
    dropped; a path, query, user or a wildcard elsewhere is refused."""
    raw = entry.strip()
    wildcard = False
    s = raw
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", s)
    if scheme:
        s = s[scheme.end() :]
    if s.startswith("*."):
        wildcard, s = True, s[2:]
    bad = (
        not s
        or "*" in s
        or any(c in s for c in "/?#@\\ ")
        or (scheme is not None and scheme.group(0).lower() not in ("http://", "https://"))
    )
    found = None if bad else split_host(s)
    host_ok = found is not None and (_check_host(found[0]) or _is_ip_literal(found[0]))
    if found is None or not host_ok or (wildcard and found[0].count(".") < 1):
        raise KeyInputError(
            "bad_origin",
            N_("{entry} is not a domain the key can allow: write a host (app.example.com), "
               "*. and a domain for its subdomains (*.example.com), optionally with a port "
               "(localhost:8501); no path.", entry=raw),
        )  # fmt: skip
    host, port = found
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    text = host if port is None else f"{host}:{port}"
    return f"*.{text}" if wildcard else text


def _is_ip_literal(host: str) -> bool:
    try:
        parse_network(host)
    except ValueError:
        return False
    return True


def check_origins(value: str | Iterable[str] | None, anywhere: bool) -> tuple[str, ...]:
    """The domain allowlist normalised (see ``check_origin``). Empty only with
    ``anywhere``; both is refused."""
    items = entries(value)
    _limit_count(items, Text("domain"))
    _one_or_other(
        items, anywhere, "origin_choice",
        N_("Choose either any origin or a list of domains, not both."),
        N_("List the domains whose web pages may use the key (e.g. app.example.com, "
           "*.example.com), or choose any origin (server-side apps send none)."),
    )  # fmt: skip
    out: list[str] = []
    for item in items:
        text = check_origin(item)
        if text not in out:
            out.append(text)
    return tuple(out)


def check_models(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Allowed models: names, or a prefix ending with ``*`` (``gpt-4o*``); empty: all."""
    items = entries(value)
    _limit_count(items, Text("model"))
    for item in items:
        if not _MODEL.match(item):
            raise KeyInputError(
                "bad_model",
                N_("{entry} is not a model name: letters, digits and . _ : / @ + - only, "
                   "optionally ending with * for every model that starts so (gpt-4o*).",
                   entry=item),
            )  # fmt: skip
    return tuple(items)


def check_endpoints(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Allowed endpoints, each one of ``ENDPOINTS``; empty: all."""
    items = [e.rstrip("/") for e in entries(value)]
    for item in items:
        if item not in ENDPOINTS:
            raise KeyInputError(
                "bad_endpoint",
                N_("{entry} is not an endpoint of the gateway; expected one of {endpoints}.",
                   entry=item, endpoints=", ".join(ENDPOINTS)),
            )  # fmt: skip
    return tuple(items)


def check_budget(value: object, what: str) -> Decimal | None:
    """A budget in USD: None (none) or a positive amount up to a billion, at most 6
    decimals. ``what``: day or month, for the message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float | bool):
        raise TypeError("budgets are Decimal or text, never float")
    try:
        amount = Decimal(str(value).strip().lstrip("$"))
    except InvalidOperation:
        amount = Decimal("NaN")
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_BUDGET
        or -amount.as_tuple().exponent > 6  # type: ignore[operator]
    ):
        raise KeyInputError(
            "bad_budget",
            N_("The {what} budget must be a positive amount in USD (at most 6 decimals), or "
               "empty for none; found {found}.", what=what, found=str(value)),
        )  # fmt: skip
    return amount


def check_limit(value: object, what: str) -> int | None:
    """A per-minute limit: None (none) or a whole number from 1. ``what``: RPM or TPM."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if isinstance(value, bool) or n < 1 or n > MAX_LIMIT:
        raise KeyInputError(
            "bad_limit",
            N_("The {what} limit must be a whole number from 1, or empty for none; found "
               "{found}.", what=what, found=str(value)),
        )  # fmt: skip
    return n


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    """None (never expires) or an aware time after ``now``."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None or expires_at <= now:
        raise KeyInputError(
            "bad_expiry",
            N_("A key's expiry must be a time in the future (with its time zone), or none."),
        )
    return expires_at


def build_restrictions(
    *,
    ips: str | Iterable[str] | None = None,
    anywhere_ip: bool = False,
    origins: str | Iterable[str] | None = None,
    anywhere_origin: bool = False,
    models: str | Iterable[str] | None = None,
    endpoints: str | Iterable[str] | None = None,
    budget_day_usd: object = None,
    budget_month_usd: object = None,
    rpm: object = None,
    tpm: object = None,
) -> Restrictions:
    """Restrictions from what an admin entered, every entry checked and normalised; raises
    ``KeyInputError`` on the first entry refused."""
    return Restrictions(
        ips=check_ips(ips, anywhere_ip),
        anywhere_ip=anywhere_ip,
        origins=check_origins(origins, anywhere_origin),
        anywhere_origin=anywhere_origin,
        models=check_models(models),
        endpoints=check_endpoints(endpoints),
        budget_day_usd=check_budget(budget_day_usd, Text("day")),
        budget_month_usd=check_budget(budget_month_usd, Text("month")),
        rpm=check_limit(rpm, "RPM"),
        tpm=check_limit(tpm, "TPM"),
    )


def validated(r: Restrictions) -> Restrictions:
    """``r`` checked and normalised as ``build_restrictions`` does (for restrictions made in
    code)."""
    return build_restrictions(
        ips=r.ips, anywhere_ip=r.anywhere_ip, origins=r.origins,
        anywhere_origin=r.anywhere_origin, models=r.models, endpoints=r.endpoints,
        budget_day_usd=r.budget_day_usd, budget_month_usd=r.budget_month_usd, rpm=r.rpm,
        tpm=r.tpm,
    )  # fmt: skip
