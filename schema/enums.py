"""The domain's enums as GraphQL enums, registered here once under their API names.

``strawberry.enum`` marks the class itself, so the schema's fields are annotated with the app's
own enums (``app.models.OrgRole`` and the rest) and type-check as such; importing this module,
as ``schema/__init__.py`` does before building the schema, is what makes them GraphQL enums.
"""

from __future__ import annotations

import enum

import strawberry

from app import errors, models

API_NAMES: dict[type[enum.Enum], str] = {
    models.OrgRole: "OrgRole",
    models.StatusCategory: "StatusCategory",
    models.IncidentMode: "IncidentMode",
    models.EventKind: "TimelineEventKind",
    models.ActionStatus: "ActionStatus",
    models.FieldKind: "CustomFieldKind",
    models.RoleKind: "IncidentRoleKind",
    models.TokenScope: "ApiTokenScope",
    models.NotificationKind: "NotificationKind",
    models.WebhookFormat: "WebhookFormat",
    models.DeliveryState: "WebhookDeliveryState",
    models.WorkflowTrigger: "WorkflowTrigger",
    models.RunState: "WorkflowRunState",
    models.ComponentStatus: "ComponentStatus",
    models.StatusIncidentState: "StatusIncidentState",
    models.StatusIncidentKind: "StatusIncidentKind",
    errors.ErrorCode: "UserErrorCode",
}

for enum_class, api_name in API_NAMES.items():
    strawberry.enum(enum_class, name=api_name)
