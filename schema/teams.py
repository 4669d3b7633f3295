"""Teams in the API: the ``Team`` type, ``teams`` and ``team(id)`` for anyone signed in, and the
admins' ``createTeam``, ``updateTeam``, ``addTeamMembers`` and ``removeTeamMembers``.

Who is in a team is no secret in Muster (teams are how people are reached, like a directory),
so every signed-in person reads the same answer: nothing here depends on the viewer. A team's
``members`` come in a bounded page (``first``, at most ``MAX_PAGE``, by name) and
``memberCount`` counts them all; both count only active people, and the teams of one answer
share one statement for each (``TeamReads``), however many teams there are.
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.dataloader import DataLoader

from app import models
from app.errors import Invalid, NotFound
from app.models import User as UserModel
from app.services import teams
from schema import ids
from schema.context import Info
from schema.errors import UserError
from schema.pagination import page_size
from schema.payloads import mutation
from schema.people import User


class TeamReads:
    """The members and counts of the teams of one answer, each read once for all of them."""

    def __init__(self, info: Info) -> None:
        reading = info.context.reading

        async def members(keys: list[tuple[int, int]]) -> list[list[UserModel]]:
            found: dict[tuple[int, int], list[UserModel]] = {}
            async with reading() as session:
                for first in {size for _, size in keys}:
                    wanted = [team for team, size in keys if size == first]
                    page = await teams.members(session, wanted, first=first)
                    found |= {(team, first): page.get(team, []) for team in wanted}
            return [found[key] for key in keys]

        async def counts(keys: list[int]) -> list[int]:
            async with reading() as session:
                found = await teams.member_counts(session, keys)
            return [found.get(key, 0) for key in keys]

        self.members: DataLoader[tuple[int, int], list[UserModel]] = DataLoader(members)
        self.counts: DataLoader[int, int] = DataLoader(counts)


@strawberry.type(description="A named group of people, which workflows can address at once.")
class Team:
    id: strawberry.ID
    name: str
    description: str
    oidc_group: str | None = strawberry.field(
        description="The identity provider's group whose members join at each sign-in."
    )
    key: strawberry.Private[int]
    reads: strawberry.Private[TeamReads]

    @classmethod
    def of(cls, row: models.Team, reads: TeamReads) -> Team:
        return cls(
            id=ids.encode("Team", row.id),
            name=row.name,
            description=row.description,
            oidc_group=row.oidc_group,
            key=row.id,
            reads=reads,
        )

    @classmethod
    def all_of(cls, rows: Sequence[models.Team], info: Info) -> list[Team]:
        reads = TeamReads(info)
        return [cls.of(row, reads) for row in rows]

    @strawberry.field(description="Its active people by name, at most `first` (up to 100).")
    async def members(self, first: int = 50) -> list[User]:
        rows = await self.reads.members.load((self.key, page_size(first)))
        return [User.from_model(row) for row in rows]

    @strawberry.field(description="How many active people are in it.")
    async def member_count(self) -> int:
        return await self.reads.counts.load(self.key)


@strawberry.type
class TeamPayload:
    team: Team | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _people(values: list[strawberry.ID], field: str) -> list[int]:
    """The people an input names; an id that is not one, or too many, is ``Invalid`` like an
    id of nobody."""
    if len(values) > teams.MAX_IDS:
        raise Invalid(f"At most {teams.MAX_IDS:,} people at a time.", field=field)
    try:
        return ids.decode_all("User", values, field=field)
    except NotFound as error:
        raise Invalid("No active person with one of those ids.", field=field) from error


@strawberry.input
class CreateTeamInput:
    name: str
    description: str = ""
    oidc_group: str | None = strawberry.field(
        default=None, description="Bind it to this identity-provider group (from the groups claim)."
    )
    member_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="People to add by hand (at most 1,000)."
    )

    def members(self) -> list[int]:
        return _people(self.member_ids, "memberIds")


@strawberry.input
class UpdateTeamInput:
    team_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    oidc_group: str | None = strawberry.field(
        default=None,
        description='A new group; "" unbinds the team. Changing it takes out the people its old '
        "group brought in (the new group's join at their next sign-in).",
    )

    def team(self) -> int:
        return ids.decode("Team", self.team_id, field="teamId")


@strawberry.input
class TeamMembersInput:
    team_id: strawberry.ID
    user_ids: list[strawberry.ID] = strawberry.field(description="At most 1,000 people.")

    def team(self) -> int:
        return ids.decode("Team", self.team_id, field="teamId")

    def users(self) -> list[int]:
        return _people(self.user_ids, "userIds")


def _team(info: Info, row: models.Team) -> TeamPayload:
    return TeamPayload(team=Team.of(row, TeamReads(info)))


@strawberry.type
class TeamQueries:
    @strawberry.field(description="Every team, by name (anyone signed in may see them).")
    async def teams(self, info: Info) -> list[Team]:
        async with info.context.reading() as session:
            rows = await teams.list_teams(session)
        return Team.all_of(rows, info)

    @strawberry.field(description="One team by id; null if there is none.")
    async def team(self, info: Info, id: strawberry.ID) -> Team | None:
        try:
            key = ids.decode("Team", id, field="id")
        except NotFound:
            return None
        async with info.context.reading() as session:
            row = await teams.find_team(session, key)
        return None if row is None else Team.of(row, TeamReads(info))


@strawberry.type
class TeamMutations:
    @mutation(TeamPayload, description="Admins: make a team, with the people to put in it.")
    async def create_team(info: Info, input: CreateTeamInput, actor: models.User) -> TeamPayload:
        row = await teams.create_team(
            info.context.db,
            actor=actor,
            name=input.name,
            description=input.description,
            oidc_group=input.oidc_group,
            member_ids=input.members(),
        )
        return _team(info, row)

    @mutation(TeamPayload, description="Admins: rename or describe a team, or change its group.")
    async def update_team(info: Info, input: UpdateTeamInput, actor: models.User) -> TeamPayload:
        row = await teams.update_team(
            info.context.db,
            actor=actor,
            team_id=input.team(),
            name=input.name,
            description=input.description,
            oidc_group=input.oidc_group,
        )
        return _team(info, row)

    @mutation(
        TeamPayload,
        description="Admins: add people to a team by hand (they stay when they leave its group).",
    )
    async def add_team_members(
        info: Info, input: TeamMembersInput, actor: models.User
    ) -> TeamPayload:
        row = await teams.add_members(
            info.context.db,
            actor=actor,
            team_id=input.team(),
            user_ids=input.users(),
        )
        return _team(info, row)

    @mutation(
        TeamPayload,
        description="Admins: take people out of a team. Someone still in the team's group is "
        "back at their next sign-in: take them out of the group to keep them out.",
    )
    async def remove_team_members(
        info: Info, input: TeamMembersInput, actor: models.User
    ) -> TeamPayload:
        row = await teams.remove_members(
            info.context.db,
            actor=actor,
            team_id=input.team(),
            user_ids=input.users(),
        )
        return _team(info, row)
