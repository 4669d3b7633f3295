"""The one hierarchy of expected failures that services raise.

Each error carries a stable ``code`` (the API shows it as a user error code) and, where one input
is at fault, the ``field`` it concerns. Anything else a service raises is a bug, and the layers
above mask it.
"""

from __future__ import annotations


class MusterError(Exception):
    """An expected failure: the request was refused and nothing was changed."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(MusterError):
    """The input is malformed or breaks a rule."""

    code = "INVALID"


class NotFound(MusterError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "NOT_FOUND"


class Forbidden(MusterError):
    """The caller can see the thing but may not do this to it."""

    code = "FORBIDDEN"


class Conflict(MusterError):
    """The caller acted on a version that is no longer current."""

    code = "CONFLICT"


class InvalidTransition(MusterError):
    """The incident cannot move from its current status to the one asked for."""

    code = "INVALID_TRANSITION"


class IdempotencyMismatch(MusterError):
    """An idempotency key was used again with different input."""

    code = "IDEMPOTENCY_MISMATCH"


def incident_not_found(field: str = "incidentId") -> NotFound:
    """The one answer for a missing incident and for one the caller may not see."""
    return NotFound("No incident with that id.", field=field)
