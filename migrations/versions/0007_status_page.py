"""status page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:33:15.139189

The status page's tables: components and their status history, status incidents and
maintenance with their updates and affected components, the page's settings (one row, made
here) and email subscribers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPERATIONAL",
                "DEGRADED_PERFORMANCE",
                "PARTIAL_OUTAGE",
                "MAJOR_OUTAGE",
                "UNDER_MAINTENANCE",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_components")),
        sa.UniqueConstraint("name", name=op.f("uq_status_components_name")),
    )
    op.create_table(
        "status_page_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("support_url", sa.String(length=2000), nullable=True),
        sa.Column("logo_url", sa.String(length=2000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_page_settings")),
    )
    op.create_table(
        "status_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("component_ids", sa.JSON(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_status_subscribers_email")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_status_subscribers_token_hash")),
    )
    op.create_table(
        "component_status_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPERATIONAL",
                "DEGRADED_PERFORMANCE",
                "PARTIAL_OUTAGE",
                "MAJOR_OUTAGE",
                "UNDER_MAINTENANCE",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["status_components.id"],
            name=op.f("fk_component_status_changes_component_id_status_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_status_changes")),
    )
    with op.batch_alter_table("component_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_component_status_changes_component_id"),
            ["component_id", "changed_at"],
            unique=False,
        )

    op.create_table(
        "status_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "INCIDENT", "MAINTENANCE", name="statusincidentkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "INVESTIGATING",
                "IDENTIFIED",
                "MONITORING",
                "RESOLVED",
                "SCHEDULED",
                "IN_PROGRESS",
                "COMPLETED",
                name="statusincidentstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_status_incidents_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_status_incidents_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_incidents")),
    )
    with op.batch_alter_table("status_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_incidents_created_at"), ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_incidents_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_status_incidents_state"), ["state", "id"], unique=False
        )

    op.create_table(
        "affected_components",
        sa.Column("status_incident_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPERATIONAL",
                "DEGRADED_PERFORMANCE",
                "PARTIAL_OUTAGE",
                "MAJOR_OUTAGE",
                "UNDER_MAINTENANCE",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["status_components.id"],
            name=op.f("fk_affected_components_component_id_status_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_incident_id"],
            ["status_incidents.id"],
            name=op.f("fk_affected_components_status_incident_id_status_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "status_incident_id", "component_id", name=op.f("pk_affected_components")
        ),
    )
    with op.batch_alter_table("affected_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affected_components_component_id"), ["component_id"], unique=False
        )

    op.create_table(
        "status_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status_incident_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "INVESTIGATING",
                "IDENTIFIED",
                "MONITORING",
                "RESOLVED",
                "SCHEDULED",
                "IN_PROGRESS",
                "COMPLETED",
                name="statusincidentstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_status_updates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["status_incident_id"],
            ["status_incidents.id"],
            name=op.f("fk_status_updates_status_incident_id_status_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_updates")),
    )
    with op.batch_alter_table("status_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_updates_status_incident_id"),
            ["status_incident_id", "id"],
            unique=False,
        )

    op.execute(
        "INSERT INTO status_page_settings (id, title, intro, updated_at) "
        "VALUES (1, 'Status', '', CURRENT_TIMESTAMP)"
    )


def downgrade() -> None:
    with op.batch_alter_table("status_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_updates_status_incident_id"))

    op.drop_table("status_updates")
    with op.batch_alter_table("affected_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affected_components_component_id"))

    op.drop_table("affected_components")
    with op.batch_alter_table("status_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_incidents_state"))
        batch_op.drop_index(batch_op.f("ix_status_incidents_incident_id"))
        batch_op.drop_index(batch_op.f("ix_status_incidents_created_at"))

    op.drop_table("status_incidents")
    with op.batch_alter_table("component_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_status_changes_component_id"))

    op.drop_table("component_status_changes")
    op.drop_table("status_subscribers")
    op.drop_table("status_page_settings")
    op.drop_table("status_components")
