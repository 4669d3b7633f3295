"""The words the demo's incident scripts are written in: the catalog's names, durations, and
one kind of step for each thing a person does to an incident (accept it, share an update, lead
it, add work, tell customers on the status page, ...), each counted from the declaration; a
``Script`` is one incident's declaration and its steps in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import ClassVar, Literal

from app.demo.people import Who
from app.demo.status import ComponentName
from app.models import ActionKind, ActionStatus, ComponentStatus, RoleKind, StatusIncidentState

TypeName = Literal[
    "Default",
    "Security",
    "Customer issue",
    "Data & dashboards",
    "Migration",
    "Product launch",
    "Game day",
]
SeverityName = Literal["Minor", "Major", "Critical"]
StatusName = Literal[
    "Investigating", "Fixing", "Monitoring", "Documenting", "Reviewing", "Closed", "Canceled"
]
FieldName = Literal["Affected features", "Affected teams", "Customers affected", "Status page"]
Value = tuple[str, ...] | int | str  # option names of a multi-select, a number, a link
Affected = tuple[tuple[ComponentName, ComponentStatus], ...]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


@dataclass(frozen=True)
class Step:
    """Something ``by`` did, ``after`` the incident was declared."""

    after: timedelta
    by: Who


@dataclass(frozen=True)
class Accept(Step):
    """Accept the incident out of triage."""


@dataclass(frozen=True)
class Decline(Step):
    """Decide in triage that it is not an incident."""

    reason: str


@dataclass(frozen=True)
class Merge(Step):
    """Fold the incident into the one whose script has this ``key``."""

    into: str


@dataclass(frozen=True)
class Update(Step):
    """Share an update, maybe changing status or severity, and promise the next one."""

    message: str
    status: StatusName | None = None
    severity: SeverityName | None = None
    next_in: int | None = None  # minutes


@dataclass(frozen=True)
class SetStatus(Step):
    status: StatusName


@dataclass(frozen=True)
class SetSeverity(Step):
    severity: SeverityName


@dataclass(frozen=True)
class SetField(Step):
    field: FieldName
    value: Value


@dataclass(frozen=True)
class Rename(Step):
    name: str


@dataclass(frozen=True)
class MakePublic(Step):
    """Open a private-by-default incident to everyone."""


@dataclass(frozen=True)
class Lead(Step):
    """Make ``holder`` the incident lead."""

    holder: Who
    role: ClassVar[RoleKind] = RoleKind.LEAD


class Comms(Lead):
    """Make ``holder`` the communications lead."""

    role = RoleKind.COMMUNICATIONS


@dataclass(frozen=True)
class Work(Step):
    """Add an action for ``owner``, due some days later if ``due_in`` is given."""

    title: str
    owner: Who
    due_in: int | None = None  # days
    kind: ClassVar[ActionKind] = ActionKind.ACTION


class FollowUp(Work):
    """Add a follow-up: work to do after the incident."""

    kind = ActionKind.FOLLOW_UP


@dataclass(frozen=True)
class Done(Step):
    """Mark the action or follow-up with this title done."""

    title: str
    status: ClassVar[ActionStatus] = ActionStatus.DONE


class Drop(Done):
    """Decide not to do the action or follow-up with this title."""

    status = ActionStatus.NOT_DOING


@dataclass(frozen=True)
class Invite(Step):
    guest: Who


@dataclass(frozen=True)
class Note(Step):
    message: str


@dataclass(frozen=True)
class Follow(Step):
    """Follow the incident (``by`` is the follower)."""


@dataclass(frozen=True)
class Publish(Step):
    """Tell customers on the status page: a status incident linked to this incident, with its
    first update and the components it affects."""

    title: str
    message: str
    state: StatusIncidentState
    affected: Affected


@dataclass(frozen=True)
class PostStatus(Step):
    """Post an update to the status incident this incident published last, moving it to
    ``state``; ``affected``, when given, replaces the components it affects."""

    message: str
    state: StatusIncidentState
    affected: Affected | None = None


@dataclass(frozen=True)
class Maintain(Step):
    """Announce maintenance linked to this incident, on the next ``weekday`` (0 is Monday) after
    the step at ``starts`` UTC, for ``lasts``: components under maintenance while it runs."""

    title: str
    message: str
    components: tuple[ComponentName, ...]
    weekday: int
    starts: time
    lasts: timedelta


@dataclass(frozen=True)
class Past:
    """When a retrospective incident really happened, counted back from when it was recorded."""

    began: timedelta
    lasted: timedelta


@dataclass(frozen=True, kw_only=True)
class Script:
    """One incident: declared ``ago`` (before now) by ``by``, then its steps in order."""

    name: str
    by: Who
    ago: timedelta
    type: TypeName
    severity: SeverityName
    summary: str
    fields: Mapping[FieldName, Value] = field(default_factory=dict)
    triage: bool = False
    next_update: int | None = None  # minutes
    happened: Past | None = None  # recorded after the fact
    key: str = ""  # for merging into it
    steps: Sequence[Step] = ()
