"""What a Tokenboard key allows, and the check of one request against it.

Pure Python, shared by the gateway (which never opens the database) and the app (the Keys
page's "would this IP / origin be allowed?"). Imports nothing of Tokenboard but ``lib.text``
and ``lib.errors``.

Allowlists:
- IPs: IPv4 and IPv6 addresses and CIDR networks. An empty list allows every address only
  when ``anywhere_ip`` is True; empty without it, every request is refused.
- Origins: the host of the request's ``Origin`` (else ``Referer``) header. ``example.com``
  matches that host only, ``*.example.com`` any subdomain at any depth (not the apex); an
  entry with a port (``localhost:8501``) matches that port only. An empty list allows every
  request (with or without an ``Origin``) only when ``anywhere_origin`` is True; with
  entries, a request that states no origin is refused (server-side apps: choose
  ``anywhere_origin`` and restrict by IP).
- Models: names, exact, or a prefix ending with ``*`` (``gpt-4o*``); empty: all.
- Endpoints: paths of ``ENDPOINTS``; empty: all.
Budgets (USD, exact ``Decimal``) are per UTC day and month; limits are requests and tokens
per minute (a fixed calendar minute, UTC).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from lib.text import N_

if TYPE_CHECKING:
    from lib.keys.snapshot import KeyRecord

RefusalCode = Literal[
    "invalid_api_key",
    "key_revoked",
    "key_expired",
    "ip_not_allowed",
    "origin_not_allowed",
    "model_not_allowed",
    "endpoint_not_allowed",
    "budget_exceeded",
    "rate_limited",
]
REFUSAL_CODES: tuple[RefusalCode, ...] = (
    "invalid_api_key", "key_revoked", "key_expired", "ip_not_allowed", "origin_not_allowed",
    "model_not_allowed", "endpoint_not_allowed", "budget_exceeded", "rate_limited",
)  # fmt: skip
# The HTTP status each refusal answers with (401: who you are; 403: what you may; 429: how much).
HTTP_STATUS: dict[str, int] = {
    "invalid_api_key": 401, "key_revoked": 401, "key_expired": 401, "ip_not_allowed": 403,
    "origin_not_allowed": 403, "model_not_allowed": 403, "endpoint_not_allowed": 403,
    "budget_exceeded": 429, "rate_limited": 429,
}  # fmt: skip
# The gateway's endpoints a key can be limited to.
ENDPOINTS: tuple[str, ...] = (
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/models",
    "/v1/messages",
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Restrictions:
    """A key's allowlists, budgets and limits (see the module's docstring). The defaults
    refuse every request: an admin chooses ``anywhere_ip`` / ``anywhere_origin`` or lists
    what is allowed. ``None`` budgets and limits: none."""

    ips: tuple[str, ...] = ()
    anywhere_ip: bool = False
    origins: tuple[str, ...] = ()
    anywhere_origin: bool = False
    models: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    budget_day_usd: Decimal | None = None
    budget_month_usd: Decimal | None = None
    rpm: int | None = None
    tpm: int | None = None

    def networks(self) -> tuple[IPNetwork, ...]:
        """The IP allowlist parsed (entries that do not parse are left out: validated keys
        hold none)."""
        return _networks(self.ips)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money as strings, so no digit is lost."""
        return {
            "ips": list(self.ips),
            "anywhere_ip": self.anywhere_ip,
            "origins": list(self.origins),
            "anywhere_origin": self.anywhere_origin,
            "models": list(self.models),
            "endpoints": list(self.endpoints),
            "budget_day_usd": _money_text(self.budget_day_usd),
            "budget_month_usd": _money_text(self.budget_month_usd),
            "rpm": self.rpm,
            "tpm": self.tpm,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Restrictions:
        """The inverse of ``to_dict`` (missing entries take the defaults)."""
        return cls(
            ips=tuple(str(x) for x in data.get("ips") or ()),
            anywhere_ip=bool(data.get("anywhere_ip", False)),
            origins=tuple(str(x) for x in data.get("origins") or ()),
            anywhere_origin=bool(data.get("anywhere_origin", False)),
            models=tuple(str(x) for x in data.get("models") or ()),
            endpoints=tuple(str(x) for x in data.get("endpoints") or ()),
            budget_day_usd=_money(data.get("budget_day_usd")),
            budget_month_usd=_money(data.get("budget_month_usd")),
            rpm=_int_or_none(data.get("rpm")),
            tpm=_int_or_none(data.get("tpm")),
        )


@dataclass(frozen=True)
class Request:
    """What the gateway knows of one request: the client's IP (after ``client_ip``), the
    ``Origin`` (else ``Referer``) header as sent (a URL or a bare host; None when absent),
    the model asked for (None when the endpoint takes none, e.g. ``/v1/models``) and the
    endpoint's path."""

    client_ip: str | None
    origin: str | None = None
    model: str | None = None
    endpoint: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: ``code`` (a ``RefusalCode``), ``message`` (what to change;
    an English ``Text`` that keeps its message id), ``http_status`` and, for
    ``rate_limited``, ``retry_after_s`` (whole seconds, ≥ 1)."""

    code: RefusalCode
    message: str
    http_status: int = field(default=403)
    retry_after_s: int | None = None


def _refuse(code: RefusalCode, message: str, retry_after_s: int | None = None) -> Refusal:
    return Refusal(code, message, HTTP_STATUS[code], retry_after_s)


# -- parsing helpers --------------------------------------------------------------------------
def _money(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def parse_ip(text: str | None) -> IPAddress | None:
    """An address from ``text``: IPv4, IPv6 (a zone ``%eth0`` dropped), ``[v6]:port`` or
    ``v4:port``; an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``) becomes its IPv4. None
    when ``text`` is not an address."""
    if not text:
        return None
    s = text.strip()
    if s.startswith("["):  # [v6] or [v6]:port
        end = s.find("]")
        if end < 0:
            return None
        s = s[1:end]
    elif s.count(":") == 1:  # v4:port
        s = s.split(":", 1)[0]
    s = s.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def parse_network(text: str) -> IPNetwork:
    """A network from an address or a CIDR (``10.0.0.0/8``, ``2001:db8::/32``; host bits set
    are refused). Raises ``ValueError`` when ``text`` is neither."""
    s = text.strip()
    if not s or any(c.isspace() for c in s):
        raise ValueError(s)
    net = ipaddress.ip_network(s, strict=True)
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:1.2.3.4/128 is 1.2.3.4/32
            if net.prefixlen < 104:  # ::ffff:0:0/96 would be every IPv4 address
                raise ValueError(s)
            return ipaddress.ip_network(f"{mapped}/{net.prefixlen - 96}")
    return net


@functools.lru_cache(maxsize=4096)
def _networks(ips: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    out: list[IPNetwork] = []
    for text in ips:
        try:
            out.append(parse_network(text))
        except ValueError:
            continue
    return tuple(out)


def ip_allowed(ip: str | None, restrictions: Restrictions) -> bool:
    """True when ``ip`` is in the allowlist, or the key allows any address."""
    if restrictions.anywhere_ip:
        return True
    addr = parse_ip(ip)
    if addr is None:
        return False
    return any(addr.version == net.version and addr in net for net in restrictions.networks())


def split_host(text: str | None) -> tuple[str, int | None] | None:
    """The lower-case host (IDNA-encoded, trailing dot dropped) and port of an ``Origin`` or
    ``Referer`` value (a URL) or of a bare ``host[:port]``. None when there is no host
    (absent, empty, ``null`` as sandboxed pages send, or unparsable)."""
    if text is None:
        return None
    s = text.strip()
    if not s or s.lower() == "null":
        return None
    if "://" not in s:
        s = "//" + s
    try:
        parts = urlsplit(s)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return None
    return (host, port) if host else None


def _default_port(text: str) -> int | None:
    s = text.strip().lower()
    if s.startswith("https://"):
        return 443
    if s.startswith("http://"):
        return 80
    return None


def origin_matches(pattern: str, origin: str | None) -> bool:
    """True when ``origin`` (a URL or host) matches one allowlist entry: a host, or
    ``*.`` + a domain for its subdomains; with a port, that port only (an origin without one
    has its scheme's default port)."""
    want = split_host(pattern[2:] if pattern.startswith("*.") else pattern)
    got = split_host(origin)
    if want is None or got is None:
        return False
    (w_host, w_port), (g_host, g_port) = want, got
    if w_port is not None:
        port = g_port if g_port is not None else _default_port(origin or "")
        if port != w_port:
            return False
    if pattern.startswith("*."):
        return g_host.endswith("." + w_host)
    return g_host == w_host


def origin_allowed(origin: str | None, restrictions: Restrictions) -> bool:
    """True when the request's origin is allowed (see the module's docstring)."""
    if restrictions.anywhere_origin:
        return True
    return any(origin_matches(p, origin) for p in restrictions.origins)


def model_allowed(model: str | None, restrictions: Restrictions) -> bool:
    """True when the key allows ``model`` (every model when the list is empty; a request
    without a model passes: its endpoint names none)."""
    if not restrictions.models or model is None:
        return True
    for m in restrictions.models:
        if m.endswith("*") and model.startswith(m[:-1]):
            return True
        if m == model:
            return True
    return False


def endpoint_allowed(endpoint: str | None, restrictions: Restrictions) -> bool:
    """True when the key allows ``endpoint`` (all when the list is empty)."""
    if not restrictions.endpoints:
        return True
    return endpoint is not None and endpoint.rstrip("/") in restrictions.endpoints


# -- the check ------------------------------------------------------------------------------
def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def check(
    key: KeyRecord | None,
    req: Request,
    now: datetime,
    spent_day: Decimal = Decimal(0),
    spent_month: Decimal = Decimal(0),
    used_minute: tuple[int, int] = (0, 0),
) -> Refusal | None:
    """None when ``key`` may make ``req`` at ``now`` (aware); else the first refusal, in this
    order: unknown key (``key`` None: ``Snapshot.find`` found none), revoked, expired, IP,
    origin, model, endpoint, budget (``spent_day`` / ``spent_month``: USD already spent in the
    UTC day and month of ``now``, this request not included), rate (``used_minute``: the
    requests and tokens already counted in the current UTC minute, this request not
    included; the request is refused when one more request would pass ``rpm`` or the tokens
    already reach ``tpm``)."""
    if key is None:
        return _refuse(
            "invalid_api_key",
            N_("Unknown API key: check that the whole Tokenboard key (tb-…) was copied, or ask "
               "an admin for a new one."),
        )  # fmt: skip
    r = key.restrictions
    if key.status != "active":
        return _refuse(
            "key_revoked",
            N_("The key {name} ({hint}) was revoked: ask an admin for a new key.",
               name=key.name, hint=key.hint),
        )  # fmt: skip
    if key.expires_at is not None and now >= key.expires_at:
        return _refuse(
            "key_expired",
            N_("The key {name} ({hint}) expired on {when}: ask an admin to extend it or for a "
               "new key.", name=key.name, hint=key.hint,
               when=key.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        )  # fmt: skip
    if not ip_allowed(req.client_ip, r):
        if not r.ips:
            msg = N_(
                "The key {name} allows no IP address yet: an admin adds this address "
                "({ip}) or its network to the key's IP allowlist.",
                name=key.name, ip=req.client_ip or "unknown",
            )  # fmt: skip
        else:
            msg = N_(
                "Requests from {ip} are not allowed with the key {name}: send from an allowed "
                "address or ask an admin to add it to the key's IP allowlist.",
                ip=req.client_ip or "unknown", name=key.name,
            )  # fmt: skip
        return _refuse("ip_not_allowed", msg)
    if not origin_allowed(req.origin, r):
        host = split_host(req.origin)
        if host is None:
            msg = N_(
                "The key {name} accepts requests only from the web pages of its domain "
                "allowlist, and this request states no Origin or Referer: call from an allowed "
                "page, or ask an admin to allow any origin.",
                name=key.name,
            )  # fmt: skip
        else:
            msg = N_(
                "Requests from pages of {host} are not allowed with the key {name}: ask an "
                "admin to add the domain to the key's domain allowlist.",
                host=host[0], name=key.name,
            )  # fmt: skip
        return _refuse("origin_not_allowed", msg)
    if not model_allowed(req.model, r):
        return _refuse(
            "model_not_allowed",
            N_("The key {name} may not use the model {model}: use one of {models}, or ask an "
               "admin to allow it.", name=key.name, model=req.model or "",
               models=", ".join(r.models)),
        )  # fmt: skip
    if not endpoint_allowed(req.endpoint, r):
        return _refuse(
            "endpoint_not_allowed",
            N_("The key {name} may not call {endpoint}: use one of {endpoints}, or ask an admin "
               "to allow it.", name=key.name, endpoint=req.endpoint or "",
               endpoints=", ".join(r.endpoints)),
        )  # fmt: skip
    if r.budget_day_usd is not None and spent_day >= r.budget_day_usd:
        return _refuse(
            "budget_exceeded",
            N_("The key {name} has spent {spent} of its {budget} budget for today (UTC): wait "
               "for tomorrow or ask an admin to raise the budget.", name=key.name,
               spent=_usd(spent_day), budget=_usd(r.budget_day_usd)),
        )  # fmt: skip
    if r.budget_month_usd is not None and spent_month >= r.budget_month_usd:
        return _refuse(
            "budget_exceeded",
            N_("The key {name} has spent {spent} of its {budget} budget for this month (UTC): "
               "wait for next month or ask an admin to raise the budget.", name=key.name,
               spent=_usd(spent_month), budget=_usd(r.budget_month_usd)),
        )  # fmt: skip
    requests, tokens = used_minute
    wait = max(1, 60 - now.astimezone(UTC).second)
    if r.rpm is not None and requests + 1 > r.rpm:
        return _refuse(
            "rate_limited",
            N_("The key {name} allows {rpm} requests per minute: retry in {wait} s or ask an "
               "admin to raise the limit.", name=key.name, rpm=r.rpm, wait=wait),
            wait,
        )  # fmt: skip
    if r.tpm is not None and tokens >= r.tpm:
        return _refuse(
            "rate_limited",
            N_("The key {name} allows {tpm} tokens per minute: retry in {wait} s or ask an "
               "admin to raise the limit.", name=key.name, tpm=r.tpm, wait=wait),
            wait,
        )  # fmt: skip
    return None


# -- the client's address ---------------------------------------------------------------------
def trusted_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Trusted proxies (addresses or CIDRs) parsed; raises ``ValueError`` on a bad entry."""
    return tuple(parse_network(t) for t in texts if t.strip())


def _trusted(addr: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_ip(
    peer: str | None,
    x_forwarded_for: str | None,
    trusted_proxies: Sequence[IPNetwork | str],
) -> str | None:
    """The client's address: the TCP ``peer`` unless it is a trusted proxy; then
    ``X-Forwarded-For`` read from the right, skipping trusted proxies: the first address that
    is not one (what the nearest untrusted hop connected from). Addresses a client wrote
    further left are never believed. An entry that is not an address stops the walk at the
    last trusted hop. None when ``peer`` is not an address (then no IP allowlist passes)."""
    proxies = [p if not isinstance(p, str) else parse_network(p) for p in trusted_proxies]
    addr = parse_ip(peer)
    if addr is None:
        return None
    if not proxies or not _trusted(addr, proxies) or not x_forwarded_for:
        return str(addr)
    for part in reversed(x_forwarded_for.split(",")):
        hop = parse_ip(part)
        if hop is None:
            return str(addr)
        addr = hop
        if not _trusted(addr, proxies):
            return str(addr)
    return str(addr)  # every hop a trusted proxy: the leftmost
