"""How timeline events read to people: one plain sentence per event, from its kind and payload.

The payload keeps the names as they were when the event happened, so a sentence stays true after
statuses or severities are renamed. The actor is shown beside the sentence, not inside it. An
event that names another incident (a merge, either way) is described for the reader's access to
*that* incident, which may have become private since: ``names_incident`` says which one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.models import EventKind, TimelineEvent

Payload = dict[str, Any]


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "nothing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _declared(p: Payload) -> str:
    how = "declared retrospectively" if p.get("mode") == "RETROSPECTIVE" else "declared"
    private = " as a private incident" if p.get("private") else ""
    return f"Incident {how}{private}: {p['severity']} {p['type']}, {p['status']}."


def _status(p: Payload) -> str:
    verb = "Reopened" if p.get("reopened") else "Status changed"
    return f"{verb}: {p['from']} → {p['to']}."


def _update(p: Payload) -> str:
    changes = []
    if p.get("status"):
        changes.append(f"status {p['status']['from']} → {p['status']['to']}")
    if p.get("severity"):
        changes.append(f"severity {p['severity']['from']} → {p['severity']['to']}")
    if p.get("next_update_in_minutes"):
        changes.append(f"next update in {p['next_update_in_minutes']} min")
    if changes:
        return f"Update shared ({'; '.join(changes)}): {p['message']}"
    return f"Update shared: {p['message']}"


def _role(p: Payload) -> str:
    taken = f", taking over from {p['previous']}" if p.get("previous") else ""
    return f"{p['user']} is now {p['role']}{taken}."


def _work_update(noun: str) -> Callable[[Payload], str]:
    def describe(p: Payload) -> str:
        changes = p.get("changes", {})
        parts = []
        if "status" in changes:
            parts.append({"DONE": "done", "NOT_DOING": "not doing", "OPEN": "reopened"}[
                changes["status"]
            ])  # fmt: skip
        if "owner" in changes:
            parts.append(f"owner {_shown(changes['owner'])}")
        if "due_on" in changes:
            parts.append(f"due {_shown(changes['due_on'])}")
        if "title" in changes:
            parts.append("renamed")
        return f"{noun} “{p['title']}”: {', '.join(parts)}."

    return describe


def _details(p: Payload) -> str:
    if "name" in p:
        return f"Renamed: {p['name']['from']} → {p['name']['to']}."
    return "Summary rewritten."


def _merged(p: Payload, named_visible: bool) -> str:
    if "into" in p:
        return f"Merged into {p['into']}." if named_visible else "Merged into another incident."
    if not named_visible:
        return "Another incident was merged into this incident."
    return f"{p['from']} ({p['name']}) was merged into this incident."


@dataclasses.dataclass(frozen=True)
class _Naming:
    """A kind whose payload names another incident: where the reference is, and its sentence
    for a reader who may see that incident (``True``) or may not."""

    reference: Callable[[Payload], str]
    sentence: Callable[[Payload, bool], str]


_NAMING: dict[EventKind, _Naming] = {
    EventKind.MERGED: _Naming(lambda p: p["into"] if "into" in p else p["from"], _merged),
}


_SENTENCES: dict[EventKind, Callable[[Payload], str]] = {
    EventKind.DECLARED: _declared,
    EventKind.ACCEPTED: lambda p: f"Accepted out of triage into {p['status']}.",
    EventKind.DECLINED: lambda p: (
        "Declined in triage" + (f": {p['reason']}" if p["reason"] else ".")
    ),
    EventKind.STATUS_CHANGED: _status,
    EventKind.SEVERITY_CHANGED: lambda p: f"Severity changed: {p['from']} → {p['to']}.",
    EventKind.UPDATE_SHARED: _update,
    EventKind.ROLE_ASSIGNED: _role,
    EventKind.ROLE_UNASSIGNED: lambda p: f"{p['user']} is no longer {p['role']}.",
    EventKind.ACTION_ADDED: lambda p: f"Action added: “{p['title']}”.",
    EventKind.ACTION_UPDATED: _work_update("Action"),
    EventKind.FOLLOW_UP_ADDED: lambda p: f"Follow-up added: “{p['title']}”.",
    EventKind.FOLLOW_UP_UPDATED: _work_update("Follow-up"),
    EventKind.FIELD_CHANGED: lambda p: f"{p['field']}: {_shown(p['from'])} → {_shown(p['to'])}.",
    EventKind.NOTE_ADDED: lambda p: f"Note: {p['message']}",
    EventKind.MEMBER_INVITED: lambda p: f"{p['user']} was let into this private incident.",
    EventKind.MEMBER_REMOVED: lambda p: f"{p['user']} was removed from this incident.",
    EventKind.VISIBILITY_CHANGED: lambda p: "Made private." if p["private"] else "Made public.",
    EventKind.DETAILS_CHANGED: _details,
    EventKind.BREAK_GLASS: lambda p: f"Break-glass access taken: {p['reason']}",
    EventKind.UPDATE_OVERDUE: lambda p: (
        "The promised update is overdue"
        + (f"; {p['reminded']} was reminded." if p.get("reminded") else ".")
    ),
    EventKind.WORKFLOW_RAN: lambda p: f"Workflow “{p['workflow']}” {p['outcome']}",
    EventKind.STATUS_PAGE_POSTED: lambda p: (
        f"Customers were told on the status page, “{p['title']}” ({p['state']}): {p['message']}"
    ),
}


def names_incident(event: TimelineEvent) -> str | None:
    """The reference (``INC-<n>``) of the other incident ``event`` names, if it names one."""
    naming = _NAMING.get(event.kind)
    return None if naming is None else naming.reference(event.payload)


def describe(event: TimelineEvent, *, named_visible: bool) -> str:
    """The sentence people read for ``event``. For an event that names another incident
    (``names_incident``), ``named_visible`` says whether the reader may see that incident: if
    not, the sentence does not name it."""
    naming = _NAMING.get(event.kind)
    if naming is not None:
        return naming.sentence(event.payload, named_visible)
    return _SENTENCES[event.kind](event.payload)
