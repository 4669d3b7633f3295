"""Teams: named groups of people (Leadership, Support, Security...) that workflows and
notifications address. A team may be bound to an identity-provider group, whose members are
refreshed at each sign-in; ``TeamMember.via_group`` tells those memberships apart from the ones an
admin added by hand, so a refresh never removes a hand-made one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Team(Base):
    """A named group of people."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The identity provider's group (from the groups claim) whose members belong to this team.
    oidc_group: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class TeamMember(Base):
    """One person in one team, added by an admin or by their identity-provider group."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    via_group: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime]
