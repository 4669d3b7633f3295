"""The one hierarchy of expected failures that services raise.

Each error carries a stable ``code`` from ``ErrorCode`` (the API's ``UserErrorCode``, the one list
of them) and, where one input is at fault, the ``field`` it concerns; an error about one custom
field's value also names that field (``custom_field``, its id). Anything else a service raises is
a bug, and the layers above mask it.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class ErrorCode(enum.Enum):
    """Why something was refused, as clients branch on it."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    IDEMPOTENCY_MISMATCH = "IDEMPOTENCY_MISMATCH"
    FELL_BEHIND = "FELL_BEHIND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TOO_MANY_FEEDS = "TOO_MANY_FEEDS"


class MusterError(Exception):
    """An expected failure: the request was refused and nothing was changed."""

    code: ClassVar[ErrorCode] = ErrorCode.INVALID

    def __init__(
        self, message: str, *, field: str | None = None, custom_field: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.custom_field = custom_field


class Invalid(MusterError):
    """The input is malformed or breaks a rule."""

    code = ErrorCode.INVALID


class NotFound(MusterError):
    """The thing does not exist, or the caller may not know that it does."""

    code = ErrorCode.NOT_FOUND


class Forbidden(MusterError):
    """The caller can see the thing but may not do this to it."""

    code = ErrorCode.FORBIDDEN


class Conflict(MusterError):
    """The caller acted on a version that is no longer current."""

    code = ErrorCode.CONFLICT


class InvalidTransition(MusterError):
    """The incident cannot move from its current status to the one asked for."""

    code = ErrorCode.INVALID_TRANSITION


class IdempotencyMismatch(MusterError):
    """An idempotency key was used again with different input."""

    code = ErrorCode.IDEMPOTENCY_MISMATCH


def incident_not_found(field: str = "incidentId") -> NotFound:
    """The one answer for a missing incident and for one the caller may not see."""
    return NotFound("No incident with that id.", field=field)
