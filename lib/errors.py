"""Tokenboard's own exceptions. Every message is written for a person, not a developer."""

from __future__ import annotations


class TokenboardError(Exception):
    """Base class: ``str(err)`` is a complete, human sentence."""


class StoreError(TokenboardError):
    """The database could not be opened, migrated or queried."""


class DatabaseBusyError(StoreError):
    """Another process holds the database file open for writing."""


class InputError(TokenboardError):
    """An import file is not what it should be. Nothing was written.

    ``file`` names the file; ``line`` (1-based, physical line of the file) or ``field``
    (a JSON path or a column name) says where; ``found`` and ``expected`` say what.
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
    ) -> None:
        self.file = file
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
