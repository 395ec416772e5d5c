"""Server-side sessions and the sign-in throttle, over a real database file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from lib.auth import device, sessions
from lib.auth.throttle import (
    BASE_DELAY_S,
    MAX_DELAY_S,
    PER_ACCOUNT,
    PER_CLIENT,
    LoginThrottle,
    client_network,
)
from lib.store import Store

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KEY = "Qm4_test-only-key-9dVb2XcL7nRfT1yHs8KpWz3"


@pytest.fixture
def db(tmp_path):
    with Store(str(tmp_path / "s.duckdb")) as s:
        yield s


def test_a_session_opens_until_logout_and_a_copied_cookie_opens_nothing_after(db):
    token = sessions.start(db, "ada", T0, client_ip="10.0.0.1", user_agent="Firefox")
    cookie = sessions.cookie_value(token, KEY)
    copied = str(cookie)
    assert sessions.token_from_cookie(cookie, KEY) == token
    assert sessions.check(db, token, T0 + timedelta(minutes=5)).status == "ok"
    # the database holds a hash of the token, never the token or the cookie
    assert db.scalar("SELECT count(*) FROM auth_sessions WHERE token_hash = ?", [token]) == 0
    dump = str(db.query("SELECT * FROM auth_sessions"))
    assert token not in dump and copied not in dump
    assert sessions.end(db, token, T0 + timedelta(minutes=6)) == 1
    again = sessions.token_from_cookie(copied, KEY)
    assert sessions.check(db, again, T0 + timedelta(minutes=7)).status == "ended"
    assert sessions.end(db, token, T0 + timedelta(minutes=8)) == 0


def test_sign_out_everywhere_ends_every_session_of_that_user_only(db):
    a1 = sessions.start(db, "ada", T0)
    a2 = sessions.start(db, "ada", T0 + timedelta(minutes=1))
    b1 = sessions.start(db, "bob", T0)
    assert len(sessions.live(db, "ada", T0 + timedelta(minutes=2))) == 2
    assert sessions.end_all(db, "ada", T0 + timedelta(minutes=3)) == 2
    assert [sessions.check(db, t, T0 + timedelta(minutes=4)).status for t in (a1, a2, b1)] == [
        "ended",
        "ended",
        "ok",
    ]
    assert sessions.live(db, "ada", T0 + timedelta(minutes=4)) == []


def test_idle_limit_is_kept_on_the_server_across_tabs(db):
    token = sessions.start(db, "ada", T0)
    idle = timedelta(seconds=sessions.IDLE_S)
    # another tab uses the session 7 hours in: the limit counts from then
    seen = sessions.check(db, token, T0 + timedelta(hours=7))
    sessions.touch(db, token, T0 + timedelta(hours=7), seen.last_seen)
    assert (
        sessions.check(db, token, T0 + timedelta(hours=7) + idle - timedelta(seconds=1)).status
        == "ok"
    )
    # a tab untouched for longer than the limit finds the session ended, for every tab
    late = T0 + timedelta(hours=7) + idle + timedelta(seconds=1)
    assert sessions.check(db, token, late).status == "idle"
    assert sessions.check(db, token, late).status == "ended"
    assert db.scalar("SELECT end_reason FROM auth_sessions") == "idle"


def test_touch_is_rate_limited_and_never_waits_for_an_import(db):
    token = sessions.start(db, "ada", T0)
    sessions.touch(db, token, T0 + timedelta(seconds=30), T0)  # too soon: not written
    assert db.scalar("SELECT last_seen FROM auth_sessions") == T0
    holding, release = threading.Event(), threading.Event()

    def importer() -> None:  # another session's import holds the write lock
        with db.write():
            holding.set()
            release.wait(10)

    other = threading.Thread(target=importer)
    other.start()
    holding.wait(10)
    t = time.perf_counter()
    sessions.touch(db, token, T0 + timedelta(minutes=5), T0)  # returns at once
    assert time.perf_counter() - t < 1
    release.set()
    other.join()
    assert db.scalar("SELECT last_seen FROM auth_sessions") == T0
    sessions.touch(db, token, T0 + timedelta(minutes=5), T0)
    assert db.scalar("SELECT last_seen FROM auth_sessions") == T0 + timedelta(minutes=5)


def test_sessions_end_at_their_maximum_age_even_when_used(db):
    token = sessions.start(db, "ada", T0)
    step = timedelta(hours=4)
    t = T0
    while t + step < T0 + timedelta(seconds=sessions.MAX_AGE_S):
        t += step
        found = sessions.check(db, token, t)
        assert found.status == "ok"
        sessions.touch(db, token, t, found.last_seen)
    assert sessions.check(db, token, T0 + timedelta(seconds=sessions.MAX_AGE_S)).status == "expired"


@pytest.mark.parametrize(
    "value",
    [None, "", "no-dot", "a.b.c", "x" * 300, "token.badsignature", ".", "abc."],
)
def test_malformed_and_forged_cookies_give_no_token(value):
    assert sessions.token_from_cookie(value, KEY) is None


def test_unknown_tokens_open_nothing(db):
    # a cookie correctly signed with the real key, but for no session on the server
    forged = sessions.cookie_value("made-up-token", KEY)
    assert sessions.check(db, sessions.token_from_cookie(forged, KEY), T0).status == "unknown"


# -- throttle ------------------------------------------------------------------------------
def test_a_stranger_never_locks_the_admin_out():
    t = LoginThrottle()
    now = 1_000_000.0
    allowed = sum(t.begin("ip:203.0.113.9", "ada", now + i) == 0 for i in range(200))
    assert allowed == PER_ACCOUNT + 2  # at 0-4 s, then after 30 s and after 60 s more
    later = now + 200
    assert t.wait_seconds("ip:203.0.113.9", "ada", later) > 0
    assert t.begin("ip:198.51.100.7", "ada", later) == 0  # the admin's own client
    assert t.wait_seconds("device:abc", "ADA ", later) == 0  # or the admin's own browser


def test_delays_grow_per_client_and_account_then_cap():
    t = LoginThrottle()
    now = 5_000.0
    for i in range(PER_ACCOUNT - 1):
        assert t.begin("c", "ana", now + i) == 0
    assert t.begin("c", "ana", now + 10) == 0  # the 5th attempt is checked...
    assert t.wait_seconds("c", "ana", now + 10) == BASE_DELAY_S  # ...then the client waits
    assert t.begin("c", "ana", now + 20) == BASE_DELAY_S - 10  # refused, not counted
    at = now + 10 + BASE_DELAY_S
    assert t.begin("c", "ana", at) == 0  # 6 failures
    assert t.wait_seconds("c", "ana", at) == 2 * BASE_DELAY_S
    waits, times = [], [now + i for i in range(4)] + [now + 10, at]
    for _ in range(40):  # keep failing as soon as allowed, for hours
        at += t.wait_seconds("c", "ana", at)
        assert t.begin("c", "ana", at) == 0
        times.append(at)
        waits.append(t.wait_seconds("c", "ana", at))
    assert waits[:3] == [4 * BASE_DELAY_S, 8 * BASE_DELAY_S, 16 * BASE_DELAY_S]
    assert max(waits) <= MAX_DELAY_S
    # at most 9 guesses in any 15 minutes, however the attempts are spaced
    assert max(sum(1 for x in times if s <= x < s + 900) for s in times) <= PER_ACCOUNT + 4
    t.succeeded("c", "ana", at)  # the last attempt had the right password
    assert t.wait_seconds("c", "ana", at) == 0


def test_parallel_attempts_cannot_slip_past_the_limit():
    """Every attempt counts from the moment it begins, before its password is checked."""
    t = LoginThrottle()
    allowed = []

    def attempt() -> None:
        if t.begin("c", "ada", 100.0) == 0:
            time.sleep(0.05)  # the password check
            allowed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(25)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(allowed) == PER_ACCOUNT


def test_one_client_trying_many_names_is_slowed_for_all_of_them():
    t = LoginThrottle()
    for i in range(PER_CLIENT):
        t.begin("c", f"user{i}", 100.0 + i)  # one try per name: under the per-name limit
    assert t.wait_seconds("c", "someone-else", 100.0 + PER_CLIENT - 1) == BASE_DELAY_S
    assert t.wait_seconds("d", "someone-else", 100.0 + PER_CLIENT) == 0


def test_ipv6_clients_are_counted_by_their_64_block():
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9")
    assert client_network("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_network("198.51.100.7") == "198.51.100.7"
    assert client_network("unknown") == "unknown"


def test_failures_older_than_the_window_are_forgotten():
    t = LoginThrottle()
    for i in range(PER_ACCOUNT):
        t.begin("c", "ana", float(i))
    assert t.wait_seconds("c", "ana", float(PER_ACCOUNT)) > 0
    assert t.wait_seconds("c", "ana", 16 * 60.0 + PER_ACCOUNT) == 0


# -- device cookies and changed accounts ---------------------------------------------------
def test_device_cookies_name_their_user_and_cannot_be_forged():
    value = device.new_value("ada", KEY)
    dev = device.device_id(value, "ada", KEY)
    assert dev and value.startswith(dev + ".ada.")
    assert device.device_id(value, " ADA ", KEY) == dev
    assert device.device_id(value, "ana", KEY) is None  # another user's name
    assert device.device_id(value, "ada", "another-key-" + KEY) is None
    dev2, rest = value.split(".", 1)
    assert device.device_id(f"{dev2}x.{rest}", "ada", KEY) is None  # altered id
    assert device.new_value("ada", KEY, dev) == value  # the same device keeps its id
    for bad in (None, "", "a.b", "x" * 400, "...."):
        assert device.device_id(bad, "ada", KEY) is None
    dotted = device.new_value("j.doe", KEY)
    assert device.device_id(dotted, "j.doe", KEY)


def test_a_new_password_role_or_removal_ends_the_users_sessions(db):
    tags = {"ada": "tag-1"}
    token = sessions.start(db, "ada", T0, tag="tag-1")
    assert sessions.check(db, token, T0, tags.get).status == "ok"
    tags["ada"] = "tag-2"  # password or role changed
    assert sessions.check(db, token, T0, tags.get).status == "changed"
    assert sessions.check(db, token, T0, tags.get).status == "ended"
    token = sessions.start(db, "ada", T0, tag="tag-2")
    del tags["ada"]  # user removed; re-creating the name later revives nothing
    assert sessions.check(db, token, T0, tags.get).status == "changed"
    tags["ada"] = "tag-2"
    assert sessions.check(db, token, T0, tags.get).status == "ended"


def test_naive_times_are_taken_as_utc(db):
    token = sessions.start(db, "ada", T0.replace(tzinfo=None))
    assert (
        sessions.check(db, token, (T0 + timedelta(minutes=2)).replace(tzinfo=None)).status == "ok"
    )
    sessions.touch(db, token, (T0 + timedelta(minutes=2)).replace(tzinfo=None), T0)
    assert db.scalar("SELECT last_seen FROM auth_sessions") == T0 + timedelta(minutes=2)
