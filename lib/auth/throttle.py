"""Failed sign-ins slow down the client that makes them, not the account they aim at.

Counters are kept per (client, username) and per client, in the server's memory (one per
process, shared by every session), over a sliding ``WINDOW_S``. Every attempt counts as a
failure from the moment it begins (``begin``) until its password proves right
(``succeeded``), so attempts made in parallel cannot slip past the limits:

- after ``PER_ACCOUNT`` failures of one client on one username, that client waits
  ``BASE_DELAY_S``, doubling with every further failure, up to ``MAX_DELAY_S``;
- after ``PER_CLIENT`` failures of one client over any usernames, the same for all of them.

A stranger elsewhere therefore never locks the admin out: the admin's own client has no
failures. Unknown and existing usernames are counted and answered alike, so the throttle
tells nothing about which names exist. The client is the browser's device cookie when it
holds one for the username tried (``lib.auth.device``), else the address the server sees
(behind a proxy that hides client addresses, every visitor without a device cookie shares
one address).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import deque
from dataclasses import dataclass, field

PER_ACCOUNT = 5
PER_CLIENT = 20
WINDOW_S = 15 * 60.0
BASE_DELAY_S = 30.0
MAX_DELAY_S = 15 * 60.0


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)

    def recent(self, now: float) -> int:
        while self.times and now - self.times[0] > WINDOW_S:
            self.times.popleft()
        return len(self.times)


def client_network(address: str) -> str:
    """The unit the throttle counts an address in: an IPv4 address itself, an IPv6 address's
    /64 (one subscriber holds a whole /64, so could rotate through it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _delay(failures: int, free: int) -> float:
    """Seconds to wait after the last failure, once more than ``free`` failures were seen."""
    if failures < free:
        return 0.0
    return min(BASE_DELAY_S * 2 ** (failures - free), MAX_DELAY_S)


class LoginThrottle:
    """Thread-safe failure counters; times are seconds (``time.time()``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], _Failures] = {}
        self._clients: dict[str, _Failures] = {}

    @staticmethod
    def _name(username: str) -> str:
        return username.strip().lower()[:200]

    def wait_seconds(self, client: str, username: str, now: float) -> float:
        """How long ``client`` must wait before trying ``username`` again (0: go ahead)."""
        with self._lock:
            return self._wait(client, username, now)

    def _wait(self, client: str, username: str, now: float) -> float:
        """``wait_seconds`` with the lock held."""
        waits = [0.0]
        for fails, free in (
            (self._pairs.get((client, self._name(username))), PER_ACCOUNT),
            (self._clients.get(client), PER_CLIENT),
        ):
            if fails is not None and (n := fails.recent(now)) >= free:
                waits.append(fails.times[-1] + _delay(n, free) - now)
        return max(waits)

    def begin(self, client: str, username: str, now: float) -> float:
        """Start a sign-in attempt: the seconds to wait when ``client`` must not try
        ``username`` now (nothing recorded), else 0 and the attempt is counted as a failure
        at once — before the password is checked, so parallel attempts cannot slip past the
        limit. A right password takes it back with ``succeeded``."""
        with self._lock:
            wait = self._wait(client, username, now)
            if wait > 0:
                return wait
            self._pairs.setdefault((client, self._name(username)), _Failures()).times.append(now)
            self._clients.setdefault(client, _Failures()).times.append(now)
            if len(self._pairs) > 100_000:  # forget the oldest rather than grow without bound
                for pair in list(self._pairs)[:50_000]:
                    del self._pairs[pair]
            if len(self._clients) > 100_000:
                for name in list(self._clients)[:50_000]:
                    del self._clients[name]
            return 0.0

    def succeeded(self, client: str, username: str, at: float) -> None:
        """The attempt begun at ``at`` had the right password: clear that client's failures
        on that username and take the attempt back from the client's count."""
        with self._lock:
            self._pairs.pop((client, self._name(username)), None)
            fails = self._clients.get(client)
            if fails is not None and at in fails.times:
                fails.times.remove(at)

    def clear_user(self, username: str, before: float | None = None) -> int:
        """Forget the failed sign-ins on ``username`` from every client (only those at or
        before ``before``, when given): an admin unlocked the account. Those failures are
        taken back from the clients' own counts too. Returns how many were forgotten."""
        name = self._name(username)
        forgotten = 0
        with self._lock:
            for pair in [p for p in self._pairs if p[1] == name]:
                fails = self._pairs[pair]
                gone = [t for t in fails.times if before is None or t <= before]
                for t in gone:
                    fails.times.remove(t)
                    client = self._clients.get(pair[0])
                    if client is not None and t in client.times:
                        client.times.remove(t)
                forgotten += len(gone)
                if not fails.times:
                    del self._pairs[pair]
        return forgotten

    def locked(self, username: str, now: float) -> bool:
        """True when some client must wait before trying ``username`` again."""
        name = self._name(username)
        with self._lock:
            clients = [p[0] for p in self._pairs if p[1] == name]
            return any(self._wait(c, name, now) > 0 for c in clients)
