"""Email subscriptions to the status page in the API, over ``app.services.status_subscriptions``:
``subscribeToStatusPage`` (anyone, signed in or not: the public page runs it as nobody),
``confirmStatusSubscription``, ``updateStatusSubscription`` and ``unsubscribeFromStatusPage``,
and ``statusSubscription(token)``, each opened by the token in the subscriber's own links.

Subscribing answers ``accepted`` alike for a new address, one waiting for confirmation and one
already subscribed, so the API tells nobody who follows the page; a bad address or component is a
``userError``, and so is subscribing on a server that sends no email. A token that is not ours
is ``NOT_FOUND`` (``token``); the subscription it opens holds only what its mailbox knows.
"""

from __future__ import annotations

import strawberry

from app.errors import Invalid, NotFound
from app.models import StatusSubscriber, User
from app.services import status_page, status_subscriptions
from schema import ids, process
from schema.context import Info
from schema.errors import UserError
from schema.payloads import mutation


@strawberry.type(description="An email subscription to the status page, as its links open it.")
class StatusSubscription:
    email: str
    confirmed: bool
    component_ids: list[strawberry.ID] | None = strawberry.field(
        description="The public components it is about; null: all of them."
    )

    @classmethod
    def from_model(cls, row: StatusSubscriber) -> StatusSubscription:
        chosen = row.component_ids
        return cls(
            email=row.email,
            confirmed=row.confirmed_at is not None,
            component_ids=None
            if chosen is None
            else [ids.encode("StatusComponent", c) for c in chosen],
        )


def _components(values: list[strawberry.ID] | None) -> list[int]:
    values = (values or [])[: status_page.MOST_AFFECTED + 1]  # more: refused, by name
    return ids.decode_all("StatusComponent", values, field="componentIds")


@strawberry.input
class SubscribeToStatusPageInput:
    email: str
    component_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these public components; null or empty: all of them."
    )

    def components(self) -> list[int]:
        return _components(self.component_ids)


@strawberry.input
class StatusSubscriptionTokenInput:
    token: str = strawberry.field(description="The token in the subscriber's links.")


@strawberry.input
class UpdateStatusSubscriptionInput:
    token: str
    component_ids: list[strawberry.ID] | None = None

    def components(self) -> list[int]:
        return _components(self.component_ids)


@strawberry.type
class SubscribeToStatusPagePayload:
    accepted: bool = strawberry.field(
        default=False,
        description="True: a confirmation email is on its way (or, to an address subscribed "
        "already, where to manage it).",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusSubscriptionPayload:
    subscription: StatusSubscription | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UnsubscribeFromStatusPagePayload:
    unsubscribed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StatusSubscriptionQueries:
    @strawberry.field(description="The subscription a link's token opens; null if it opens none.")
    async def status_subscription(self, info: Info, token: str) -> StatusSubscription | None:
        try:
            async with info.context.reading() as session:
                row = await status_subscriptions.subscription(
                    session, secret_key=process.secret_key(), token=token
                )
        except NotFound:
            return None
        return StatusSubscription.from_model(row)


@strawberry.type
class StatusSubscriptionMutations:
    @mutation(
        SubscribeToStatusPagePayload,
        description="Ask for status page updates by email (double opt-in: confirm from the email).",
    )
    async def subscribe_to_status_page(
        info: Info, input: SubscribeToStatusPageInput, actor: User
    ) -> SubscribeToStatusPagePayload:
        if not process.email():
            raise Invalid("This status page sends no email: its server has no mail set up.")
        await status_subscriptions.subscribe(
            info.context.db, email=input.email, component_ids=input.components()
        )
        return SubscribeToStatusPagePayload(accepted=True)

    @mutation(StatusSubscriptionPayload, description="Confirm a subscription from its email.")
    async def confirm_status_subscription(
        info: Info, input: StatusSubscriptionTokenInput, actor: User
    ) -> StatusSubscriptionPayload:
        row = await status_subscriptions.confirm(
            info.context.db, secret_key=process.secret_key(), token=input.token
        )
        return StatusSubscriptionPayload(subscription=StatusSubscription.from_model(row))

    @mutation(
        StatusSubscriptionPayload,
        description="Choose the components a subscription is about (none: all of them).",
    )
    async def update_status_subscription(
        info: Info, input: UpdateStatusSubscriptionInput, actor: User
    ) -> StatusSubscriptionPayload:
        row = await status_subscriptions.choose_components(
            info.context.db,
            secret_key=process.secret_key(),
            token=input.token,
            component_ids=input.components(),
        )
        return StatusSubscriptionPayload(subscription=StatusSubscription.from_model(row))

    @mutation(
        UnsubscribeFromStatusPagePayload,
        description="Stop the emails and forget the address (done already: done).",
    )
    async def unsubscribe_from_status_page(
        info: Info, input: StatusSubscriptionTokenInput, actor: User
    ) -> UnsubscribeFromStatusPagePayload:
        await status_subscriptions.unsubscribe(
            info.context.db, secret_key=process.secret_key(), token=input.token
        )
        return UnsubscribeFromStatusPagePayload(unsubscribed=True)
