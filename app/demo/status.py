"""The demo organisation's status page as its admin set it up when the people joined: the page's
title, intro and support link, and its components by group (the API, the dashboard, the mobile
app, payments and the checkout API under "Checkout", and the data warehouse, which only people
inside see). The scripts name components by these names; what customers were told (status
incidents, their updates, the database upgrade's maintenance window) is in the scripts' steps,
played through the ordinary status page services like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.db import Database
from app.models import User
from app.services import status_components, status_settings

ComponentName = Literal[
    "API", "Dashboard", "Mobile app", "Payments", "Checkout API", "Data warehouse"
]

TITLE = "Demo Co status"
INTRO = (
    "Whether our apps and services are working right now, and what we are doing when they are "
    "not. Updates are posted here first."
)
SUPPORT_URL = "https://help.demo.muster/contact"


@dataclass(frozen=True)
class Component:
    name: ComponentName
    description: str
    group: str | None = None
    public: bool = True


COMPONENTS = (
    Component("API", "The public REST API and webhooks that integrations and scripts use."),
    Component("Dashboard", "The web app: projects, documents, reports and settings."),
    Component("Mobile app", "The iPhone and Android apps, and their push notifications."),
    Component("Payments", "Card, PayPal and bank transfer payments.", group="Checkout"),
    Component("Checkout API", "Carts, orders and invoices for the online shop.", group="Checkout"),
    Component(
        "Data warehouse", "Nightly loads behind the revenue and finance dashboards.", public=False
    ),
)


async def add_status_page(db: Database, admin: User) -> dict[ComponentName, int]:
    """The page's settings and its components, made by ``admin``; the components' ids by name."""
    await status_settings.update_settings(
        db, actor=admin, title=TITLE, intro=INTRO, support_url=SUPPORT_URL
    )
    made: dict[ComponentName, int] = {}
    for component in COMPONENTS:
        row = await status_components.create_component(
            db,
            actor=admin,
            name=component.name,
            description=component.description,
            group_name=component.group,
            public=component.public,
        )
        made[component.name] = row.id
    return made
