"""Settings, ``/settings``: API tokens for everyone, the catalog and people's tokens for admins.

``/settings`` lists the viewer's own API tokens with a form to create one (the secret is shown
once, in the answer to that POST, never in a URL and never again), and a rename and a revoke form
for each (the revoke form sits in a ``<details>``, so confirming works without a script). Admins
also get one tab per kind of configuration: ``/settings/severities``, ``/statuses``, ``/types``,
``/roles`` and ``/fields``, each listing its items with an "Edit" form apiece and a "New …" form,
and ``/settings/people``, a person picker that shows the chosen person's tokens to revoke.
Anyone else asking for those tabs, or posting their forms, is told that only admins may (the
mutation's FORBIDDEN message, 403) and nothing changes. Every form posts to a real URL and
redirects back (303) after a change, except token creation, which answers with the page itself;
a refused change re-renders its form with the input kept and the messages (422). With htmx each
form swaps just the tab's section (``#settings-section``).

By concern: ``kinds`` (each kind of configuration: its tab, operations and how its forms read),
``answers`` (the tab, refusals, confirmations, redirects and mutations every form shares),
``tokens`` (the viewer's own API tokens), ``people`` (admins: people's tokens), ``catalog``
(admins: the configuration tabs), ``notifications`` (everyone: which notifications reach them
by email, ``/settings/notifications``).
"""

from __future__ import annotations

from starlette.routing import Route

from views.settings_page import status
from views.settings_page.catalog import catalog_page, create_item, update_item
from views.settings_page.notifications import notifications_page, save_notifications
from views.settings_page.people import people_page
from views.settings_page.teams import (
    add_members,
    create_team,
    remove_members,
    team_page,
    teams_page,
    update_team,
)
from views.settings_page.tokens import create_token, rename_token, revoke_token, tokens_page
from views.settings_page.webhooks import (
    create_endpoint,
    delete_endpoint,
    rotate_secret,
    switch_endpoint,
    test_endpoint,
    update_endpoint,
    webhooks_page,
)
from views.settings_page.workflows import (
    create_workflow,
    delete_workflow,
    switch_workflow,
    update_workflow,
    workflow_page,
    workflows_page,
)


def routes() -> list[Route]:
    return [
        Route("/settings", tokens_page, name="settings"),
        Route("/settings/tokens", tokens_page, methods=["GET"]),
        Route("/settings/tokens", create_token, methods=["POST"], name="settings-create-token"),
        Route("/settings/tokens/{token_id}/rename", rename_token, methods=["POST"]),
        Route("/settings/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
        Route("/settings/people", people_page, name="settings-people"),
        Route("/settings/notifications", notifications_page, methods=["GET"]),
        Route("/settings/notifications", save_notifications, methods=["POST"]),
        Route("/settings/teams", teams_page, methods=["GET"], name="settings-teams"),
        Route("/settings/teams", create_team, methods=["POST"]),
        Route("/settings/teams/{team_id}", team_page, methods=["GET"]),
        Route("/settings/teams/{team_id}", update_team, methods=["POST"]),
        Route("/settings/teams/{team_id}/add", add_members, methods=["POST"]),
        Route("/settings/teams/{team_id}/remove", remove_members, methods=["POST"]),
        Route("/settings/webhooks", webhooks_page, methods=["GET"], name="settings-webhooks"),
        Route("/settings/webhooks", create_endpoint, methods=["POST"]),
        Route("/settings/webhooks/{endpoint_id}", update_endpoint, methods=["POST"]),
        Route("/settings/webhooks/{endpoint_id}/switch", switch_endpoint, methods=["POST"]),
        Route("/settings/webhooks/{endpoint_id}/test", test_endpoint, methods=["POST"]),
        Route("/settings/webhooks/{endpoint_id}/rotate", rotate_secret, methods=["POST"]),
        Route("/settings/webhooks/{endpoint_id}/delete", delete_endpoint, methods=["POST"]),
        Route("/settings/workflows", workflows_page, methods=["GET"], name="settings-workflows"),
        Route("/settings/workflows", create_workflow, methods=["POST"]),
        Route("/settings/workflows/{workflow_id}", workflow_page, methods=["GET"]),
        Route("/settings/workflows/{workflow_id}", update_workflow, methods=["POST"]),
        Route("/settings/workflows/{workflow_id}/switch", switch_workflow, methods=["POST"]),
        Route("/settings/workflows/{workflow_id}/delete", delete_workflow, methods=["POST"]),
        Route("/settings/status", status.status_page, methods=["GET"], name="settings-status"),
        Route("/settings/status", status.save_settings, methods=["POST"]),
        Route("/settings/status/components", status.create_component, methods=["POST"]),
        Route(
            "/settings/status/components/{component_id}", status.update_component, methods=["POST"]
        ),
        Route("/settings/{kind}", catalog_page, methods=["GET"], name="settings-kind"),
        Route("/settings/{kind}", create_item, methods=["POST"]),
        Route("/settings/{kind}/{item_id}", update_item, methods=["POST"]),
    ]
