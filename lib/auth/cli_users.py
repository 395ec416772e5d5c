"""``python -m lib.cli users …``: the users from the command line, for a fresh install or an
admin locked out of the app.

Subcommands: ``list``, ``add``, ``invite``, ``role``, ``disable``, ``enable``, ``delete``,
``reset-password``, ``unlock``. Passwords are read from a prompt (twice) or, with
``--password-stdin``, from the first line of the standard input; never from the arguments,
and never printed. Each action is audited with the actor ``command line``.

A local database file is held by the running app, so these commands need it stopped (or
the Users tab as another admin), except ``unlock``: it then leaves a request beside the
database that the app applies at the next sign-in attempt (``lib.auth.unlocks``). A ``md:``
database takes every command while the app runs; the app forgets an unlocked account's
failed sign-ins at the next attempt on it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lib.auth import admin, unlocks
from lib.auth.roles import ROLES
from lib.auth.users import UserError, UserStore
from lib.config import setting
from lib.errors import DatabaseBusyError
from lib.store import Store

ACTOR = admin.Actor(admin.CLI_ACTOR, "admin", None)
BASE_URL_SETTING = "TOKENBOARD_BASE_URL"


Say = Callable[[str], None]


def add_parser(sub: Any, db_help: str, out: Say, err: Say) -> None:
    """Add ``users`` and its subcommands to the command line's subparsers; ``out`` prints a
    line of the result, ``err`` one error line (both clean control characters)."""
    s = sub.add_parser("users", help="list, add, invite, change or unlock users")
    users = s.add_subparsers(dest="action", required=True)

    def cmd(name: str, help_: str, *, username: bool = True) -> argparse.ArgumentParser:
        a = users.add_parser(name, help=help_)
        if username:
            a.add_argument("username")
        a.add_argument("--db", help=db_help)
        a.set_defaults(func=lambda args: run(args, out, err))
        return a

    a = cmd("list", "every user with role, status and last sign-in", username=False)
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a = cmd("add", "create a user (the password is asked for, never an argument)")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--name", default="")
    a.add_argument("--email", default="")
    a.add_argument("--must-change", action="store_true", help="a new password at first sign-in")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    a = cmd("invite", "print a one-time invitation link")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--email", default="")
    a.add_argument("--days", type=int, default=admin.INVITE_DAYS)
    a.add_argument("--base", help=f"the app's address (default: ${BASE_URL_SETTING})")
    a = cmd("role", "change a user's role")
    a.add_argument("role", choices=ROLES)
    cmd("disable", "disable a user and end their sessions")
    cmd("enable", "enable a disabled user")
    cmd("delete", "delete a user and end their sessions")
    a = cmd("reset-password", "set a temporary password, or print a reset link (--link)")
    a.add_argument("--link", action="store_true", help="print a one-time reset link instead")
    a.add_argument("--base", help=f"the app's address (default: ${BASE_URL_SETTING})")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    cmd("unlock", "forget an account's failed sign-ins")


def _password(args: argparse.Namespace) -> str | None:
    """The password from stdin's first line (the line end dropped, spaces kept) or asked
    twice; ``None`` when the two differ."""
    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    return first if first == getpass.getpass("Again: ") else None


def _link(link: admin.Link, base: str | None) -> str:
    return link.url(base or setting(BASE_URL_SETTING) or "")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def run(args: argparse.Namespace, _print: Say, _err: Say) -> int:
    """Run one ``users`` subcommand; 0 on success, 1 refused (one line on stderr)."""
    now = datetime.now(UTC)
    try:
        opened = Store(args.db)
    except DatabaseBusyError:
        if args.action != "unlock":
            raise
        try:  # the running app holds the file: it applies the request at the next sign-in
            path = unlocks.request(args.db, args.username, now)
        except OSError:
            raise DatabaseBusyError(f"The database is busy and no unlock request could be "
                                    f"left beside it for {args.username}.") from None  # fmt: skip
        _print(f"the app holds the database: an unlock request for {args.username.strip().lower()} "
               f"is left in {path}; the app applies it (audited) at the next sign-in attempt")  # fmt: skip
        return 0
    with opened as store:
        users = UserStore(store=store)
        action = args.action
        try:
            if action == "list":
                found = users.users()
                gone = users.deleted()  # names kept so nobody else gets them
                if args.json:
                    _print(json.dumps({"deleted": gone, "users": [
                        {"username": u.username, "name": u.name, "email": u.email,
                         "role": u.role, "status": u.status,
                         "must_change_password": u.must_change_password,
                         "last_sign_in": u.last_sign_in.isoformat() if u.last_sign_in else None}
                        for u in found]}))  # fmt: skip
                    return 0
                for u in found:
                    flag = " (must change password)" if u.must_change_password else ""
                    _print(f"{u.username}\t{u.role}\t{u.status}{flag}\t"
                           f"last sign-in {_when(u.last_sign_in)}\t{u.email}")  # fmt: skip
                if not found:
                    _print("no users yet")
                if gone:
                    _print(f"deleted (names kept, never reused): {', '.join(gone)}")
                return 0
            if action == "add":
                password = _password(args)
                if password is None:
                    _err("the two passwords differ; nothing changed")
                    return 1
                user = admin.create_user(users, ACTOR, args.username, args.name, args.email,
                                         password, args.role, now, must_change=args.must_change)  # fmt: skip
                _print(f"user {user.username} created ({user.role})")
            elif action == "invite":
                link = admin.invite(users, ACTOR, args.username, args.email, args.role, now,
                                    days=args.days)  # fmt: skip
                _print(f"invitation for {link.username} ({args.role}), valid until "
                       f"{_when(link.expires_at)}; shown once:")  # fmt: skip
                _print(_link(link, args.base))
            elif action == "role":
                ended = admin.set_role(users, ACTOR, args.username, args.role, now)
                _print(f"{args.username} is now {args.role}; {ended} session(s) ended")
            elif action in ("disable", "enable"):
                ended = admin.set_active(users, ACTOR, args.username, action == "enable", now)
                _print(f"{args.username} {action}d; {ended} session(s) ended")
            elif action == "delete":
                ended = admin.delete_user(users, ACTOR, args.username, now)
                _print(f"{args.username} deleted; {ended} session(s) ended")
            elif action == "reset-password":
                if args.link:
                    reset = admin.reset_password(users, ACTOR, args.username, now)
                    assert reset is not None  # a link is made when no password is given
                    _print(f"reset link for {reset.username}, valid until "
                           f"{_when(reset.expires_at)}; shown once:")  # fmt: skip
                    _print(_link(reset, args.base))
                else:
                    password = _password(args)
                    if password is None:
                        _err("the two passwords differ; nothing changed")
                        return 1
                    admin.reset_password(users, ACTOR, args.username, now, temporary=password)
                    _print(f"temporary password set for {args.username}: they choose a new "
                           "one at their next sign-in")  # fmt: skip
            elif action == "unlock":
                admin.unlock(users, ACTOR, args.username, now)
                _print(f"{args.username} unlocked: failed sign-ins on it are forgotten")
        except UserError as err:
            _err(f"{str(err).rstrip('.')}; nothing changed")
            return 1
    return 0
