"""The rules of an incident's life: which status categories may follow which, and what each
move does to the lifecycle timestamps and the update promise.

Pure functions over models, no I/O: the services call them inside their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.errors import InvalidTransition
from app.models import RESPONDING, Incident, Status, StatusCategory

C = StatusCategory

# Moves made by change_status (and by an update that changes status). Entering TRIAGE, DECLINED
# and MERGED has verbs of its own (declare, decline, merge); triage is left by accept.
_MOVES: dict[StatusCategory, frozenset[StatusCategory]] = {
    C.TRIAGE: frozenset(),
    C.ACTIVE: frozenset({C.ACTIVE, C.POST_INCIDENT, C.CLOSED, C.CANCELED}),
    C.POST_INCIDENT: frozenset({C.POST_INCIDENT, C.ACTIVE, C.CLOSED}),
    C.CLOSED: frozenset({C.ACTIVE, C.POST_INCIDENT}),
    C.DECLINED: frozenset(),
    C.MERGED: frozenset(),
    C.CANCELED: frozenset(),
}


_RESPONDING = frozenset(category.name for category in RESPONDING)
_RESOLVED = frozenset({C.POST_INCIDENT.name, C.CLOSED.name})


def resolves(move: Mapping[str, Any]) -> bool:
    """Whether a recorded status move (an event's ``from_category`` and ``to_category``) took
    the incident out of being responded to into post-incident or closed: it was resolved."""
    return move.get("from_category") in _RESPONDING and move.get("to_category") in _RESOLVED


def closes(move: Mapping[str, Any]) -> bool:
    """Whether a recorded status move closed the incident."""
    return move.get("to_category") == C.CLOSED.name != move.get("from_category")


def next_statuses(current: Status, statuses: Iterable[Status]) -> list[Status]:
    """The statuses ``change_status`` may move an incident in ``current`` to now."""
    allowed = _MOVES[current.category]
    return [s for s in statuses if s.id != current.id and s.category in allowed]


def check_move(current: Status, target: Status) -> None:
    """Raise ``InvalidTransition`` unless ``change_status`` may go from current to target."""
    if current.id == target.id:
        raise InvalidTransition(f"The incident is already {current.name}.", field="statusId")
    if current.category is C.TRIAGE:
        raise InvalidTransition(
            "An incident in triage is accepted, declined or merged first.", field="statusId"
        )
    if target.category not in _MOVES[current.category]:
        raise InvalidTransition(
            f"An incident cannot move from {current.name} to {target.name}.", field="statusId"
        )


def is_reopening(current: Status, target: Status) -> bool:
    return current.category in (C.POST_INCIDENT, C.CLOSED) and target.category is C.ACTIVE


def enter(incident: Incident, current: Status, target: Status, now: datetime) -> None:
    """Move ``incident`` into ``target`` and keep its lifecycle timestamps true."""
    incident.status_id = target.id
    if target.category is C.ACTIVE:
        if incident.accepted_at is None:
            incident.accepted_at = now
        if current.category is not C.ACTIVE:
            incident.resolved_at = None
            incident.closed_at = None
        return
    if current.category is C.ACTIVE and incident.resolved_at is None:
        incident.resolved_at = now
    incident.next_update_due_at = None
    incident.closed_at = now if target.category is C.CLOSED else None
