"""Tokenboard's own exceptions. Every message is written for a person, not a developer."""

from __future__ import annotations

import errno
from typing import Literal

from lib.text import N_, Text


class TokenboardError(Exception):
    """Base class: ``str(err)`` is a complete, human sentence."""


class StoreError(TokenboardError):
    """The database could not be opened, migrated or queried."""


class DatabaseBusyError(StoreError):
    """Another process holds the database file open for writing."""


# Machine codes of the refusals a caller acts on (the message stays the sentence to show):
# - unrecognised_columns: no column names a time or no column names a measure;
# - unmatched_measure: a column looks like a measure (tokens, cost, requests) nothing matched;
# - unknown_mapped_column: an explicit column mapping names a column the file lacks.
InputCode = Literal["unrecognised_columns", "unmatched_measure", "unknown_mapped_column"]


class InputError(TokenboardError):
    """An import file is not what it should be. Nothing was written.

    ``file`` names the file; ``line`` (1-based, physical line of the file) or ``field``
    (a JSON path or a column name) says where; ``found`` and ``expected`` say what.
    ``code`` (an ``InputCode``, or None for the other refusals) says which refusal it is, for
    callers that branch on it: they never read the sentence.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        found: str | None = None,
        expected: str | None = None,
        code: InputCode | None = None,
    ) -> None:
        self.file = file
        self.code = code
        self.problem = problem
        self.line = line
        self.field = field
        self.found = found
        self.expected = expected
        super().__init__(self._render())

    def _render(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        text = f"{', '.join(where)}: {self.problem}"
        if self.found is not None:
            found = self.found if len(self.found) <= 80 else self.found[:77] + "..."
            text += f"; found {found!r}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class NotFoundError(TokenboardError):
    """A thing named by the caller (an import id, a model) does not exist."""


class DiskFullError(StoreError):
    """The disk (or the temporary folder) ran out of space; the transaction was rolled back."""


class UnexpectedImportError(TokenboardError):
    """Something nobody foresaw went wrong while importing a file; nothing was written."""


_DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "out of disk", "disk is full")
_DISK_FULL_ERRNOS = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_SYSTEM_ERRORS = ("IOException", "OutOfMemoryException", "StoreError", "IOError")


def is_disk_full(err: BaseException) -> bool:
    """True when ``err`` says the disk is full. Only system errors are read (an ``InputError``
    may quote the file's own content, which could say anything)."""
    if isinstance(err, DiskFullError):
        return True
    if isinstance(err, OSError) and err.errno in _DISK_FULL_ERRNOS:
        return True
    if isinstance(err, InputError) or type(err).__name__ not in _SYSTEM_ERRORS:
        return False
    text = str(err).lower()
    return any(marker in text for marker in _DISK_FULL_TEXT)


def disk_full_error(display: str, err: BaseException, *, reopen: bool = False) -> DiskFullError:
    """The message for a full disk while importing ``display``; ``reopen``: DuckDB closed the
    database after the error (a checkpoint it could not write) and it must be opened again."""
    if isinstance(err, DiskFullError) and not reopen:
        return err
    then = (
        N_(
            "DuckDB closed the database after this error: free some disk space, then import the "
            "file again (the app opens the database again by itself; the command line on its "
            "next run)."
        )
        if reopen
        else N_("Free some disk space and import the file again.")
    )
    return DiskFullError(
        N_(
            "{display} was not imported: the disk is full (the database or the temporary folder "
            "has no space left); nothing changed. {then}",
            display=display,
            then=Text(then),
        )
    )


def unexpected_error(display: str, err: BaseException) -> TokenboardError:
    """The message for an error nobody foresaw while importing ``display`` (disk full aside)."""
    if is_disk_full(err):
        return disk_full_error(display, err)
    detail = str(err).splitlines()[0] if str(err) else ""
    detail = detail if len(detail) <= 160 else detail[:157] + "..."
    what = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
    return UnexpectedImportError(
        N_(
            "{display} was not imported: an unexpected error occurred ({what}); nothing changed",
            display=display,
            what=what,
        )
    )
