"""The status page's settings in the signed-in API: ``statusPageSettings`` (its title, intro,
support link and logo, for anyone signed in; the defaults until an admin saves them) and
``updateStatusPageSettings`` (admins), over ``app.services.status_settings``. An empty support
link or logo means none; the logo is a path on this site only (the pages' security policy
blocks images from elsewhere).
"""

from __future__ import annotations

import strawberry

from app.errors import Forbidden
from app.models import User
from app.services import status_public, status_settings
from schema.context import Info
from schema.errors import UserError
from schema.payloads import mutation
from schema.viewers import shared_by_audience


@strawberry.type(description="The status page's title, introduction, support link and logo.")
class StatusPageSettings:
    title: str
    intro: str
    support_url: str | None = strawberry.field(
        description="An http(s) URL or a mailto: address, shown as “Contact support”."
    )
    logo_url: str | None = strawberry.field(
        description="A path on this site, such as /static/logo.svg."
    )


@strawberry.input
class UpdateStatusPageSettingsInput:
    title: str
    intro: str = ""
    support_url: str | None = strawberry.field(
        default=None, description="http(s) or mailto:; null or empty: none."
    )
    logo_url: str | None = strawberry.field(
        default=None,
        description="A path on this site starting with “/” (images from other sites are "
        "blocked by the page's security policy); null or empty: none.",
    )


@strawberry.type
class StatusPageSettingsPayload:
    settings: StatusPageSettings | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusSettingsQueries:
    @shared_by_audience(
        "answers anyone active: being active is part of the sight (policy.Sight)",
        description="The status page's settings (anyone signed in).",
    )
    async def status_page_settings(self, info: Info) -> StatusPageSettings:
        if not info.context.viewer.active:
            raise Forbidden("Sign in to read the status page settings.")
        async with info.context.reading() as session:
            found = await status_public.page_settings(session)
        return StatusPageSettings(
            title=found.title,
            intro=found.intro,
            support_url=found.support_url,
            logo_url=found.logo_url,
        )


@strawberry.type
class StatusSettingsMutations:
    @mutation(
        StatusPageSettingsPayload,
        description="Admins: change the status page's title, intro, support link and logo.",
    )
    async def update_status_page_settings(
        info: Info, input: UpdateStatusPageSettingsInput, actor: User
    ) -> StatusPageSettingsPayload:
        row = await status_settings.update_settings(
            info.context.db,
            actor=actor,
            title=input.title,
            intro=input.intro,
            support_url=input.support_url,
            logo_url=input.logo_url,
        )
        return StatusPageSettingsPayload(
            settings=StatusPageSettings(
                title=row.title,
                intro=row.intro,
                support_url=row.support_url,
                logo_url=row.logo_url,
            )
        )
