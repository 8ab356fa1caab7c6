"""Errors that name what is wrong and where.

Every layer raises a subclass of :class:`VigilError` so the CLI and the web app can turn any of
them into a clear message without a stack trace, and tests can match on the type.
"""

from __future__ import annotations


class VigilError(Exception):
    """Base of every error Vigil raises on purpose."""


class DataError(VigilError):
    """Bad input data, located by file, row (1-based data row, header excluded) and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = message
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field '{field}'" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class ModelInputError(VigilError):
    """A model was given data it cannot honestly use (for example month-only dates)."""


class PolicyViolation(VigilError):
    """A case action breaks a rule of the deployment policy."""


class PermissionDenied(VigilError):
    """The actor's role does not allow the action."""


class NotFound(VigilError):
    """The thing asked for does not exist (or is not visible to this account)."""
