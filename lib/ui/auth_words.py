"""The words of ``lib.auth``'s refusals in the page's language, made from their codes and
values (``UserError.code`` / ``.values``, ``AuthConfigError.code`` / ``.values``): lib says
which refusal it is, this module says it. A code it does not know (one added to lib later)
falls back to lib's English sentence, escaped for markdown."""

from __future__ import annotations

from lib.auth.keys import AuthConfigError
from lib.auth.users import UserError
from lib.ui.i18n import N_, _
from lib.ui.markup import code, md

USER_ERRORS: dict[str, str] = {
    "bad_username": N_("A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'."),
    "unknown_role": N_("Unknown role {role}; expected one of {roles}."),
    "user_exists": N_("The user {username} exists already."),
    "no_such_user": N_("The user {username} does not exist."),
    "admin_exists": N_("An admin exists already; ask them to add you."),
    "bad_setup_token": N_("That setup token is not valid. Copy it from the server log."),
    "bad_name": N_("A name has at most {n} characters, on one line."),
    "bad_email": N_("An e-mail address looks like name@example.com."),
    "last_admin": N_("{username} is the last active admin: make another user admin first."),
    "not_yourself": N_("You cannot disable or delete your own account."),
    "wrong_password": N_("The current password is not right."),
    "password_unchanged": N_("Choose a password other than the current one."),
    "invitation_invalid": N_("This link is not valid: it was used, it expired or it was "
                             "withdrawn. Ask an admin for a new one."),
    "no_such_session": N_("That session has ended already."),
    "bad_days": N_("A link lasts {min} to {max} days."),
    "password_too_short": N_("A password needs at least {n} characters."),
    "password_too_long": N_("A password can have at most {n} characters."),
    "password_nul": N_("A password cannot contain a NUL character."),
    "username_deleted": N_("The username {username} belonged to a deleted user; choose "
                           "another."),
    "sign_in_again": N_("Your account changed since you signed in: log in again."),
}  # fmt: skip

KEY_REFUSALS: dict[str, str] = {
    "missing": N_("No cookie key is set."),
    "public": N_("The cookie key is public: it is written in the project's files or in the login "
                 "library's examples, so anyone could sign a login cookie with it."),
    "short": N_("The cookie key is too short: it needs at least {n} characters."),
    "weak": N_("The cookie key is too easy to guess (too few different characters, a repeated "
               "block or a run)."),
}  # fmt: skip
KEY_ADVICE = N_(
    "Set {env} (or `[auth] cookie_key` in .streamlit/secrets.toml) to a random string of at "
    "least {n} characters (scripts/start.sh writes one), e.g. the output of: {command}"
)
USERS_FILE = N_("The user file {path} cannot be read: {error}")


def _values(values: dict[str, str | int]) -> dict[str, str | int]:
    """Values from lib put into markdown: text escaped, numbers as they are."""
    return {k: md(v) if isinstance(v, str) else v for k, v in values.items()}


def user_error(err: UserError) -> str:
    """A refusal of ``lib.auth.users`` (or of the password rules) in the page's language."""
    msgid = USER_ERRORS.get(err.code)
    return _(msgid, **_values(err.values)) if msgid else md(err)


def config_error(err: AuthConfigError) -> str:
    """Why the login cannot be set up, in the page's language, with what to do."""
    v = err.values
    if err.code in KEY_REFUSALS:
        why = _(KEY_REFUSALS[err.code], n=v.get("n", ""))
        advice = _(KEY_ADVICE, env=code(str(v.get("env", ""))), n=v.get("n", ""),
                   command=code(str(v.get("command", ""))))  # fmt: skip
        return f"{why} {advice}"
    if err.code == "users_file":
        return _(USERS_FILE, path=code(str(v.get("path", ""))), error=md(str(v.get("error", ""))))
    return md(err)
