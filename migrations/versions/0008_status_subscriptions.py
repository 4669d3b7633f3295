"""status subscriptions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:32:12.886745

Email subscriptions to the status page: a subscriber is named in their links by a random
``link_key`` (the links carry a MAC under the secret key, so no hash of a token is stored), the
confirmation's last sending is kept (it is re-sent at most every few minutes), and each status
update's email to each subscriber is one ``status_deliveries`` row. No release could create a
subscriber before this one (there was no way to subscribe), so any row is dropped rather than
given a key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM status_subscribers"))
    op.create_table(
        "status_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["status_update_id"],
            ["status_updates.id"],
            name=op.f("fk_status_deliveries_status_update_id_status_updates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["status_subscribers.id"],
            name=op.f("fk_status_deliveries_subscriber_id_status_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_deliveries")),
        sa.UniqueConstraint(
            "subscriber_id",
            "status_update_id",
            name=op.f("uq_status_deliveries_subscriber_id_status_update_id"),
        ),
    )
    with op.batch_alter_table("status_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_deliveries_status_update_id"), ["status_update_id"], unique=False
        )

    with op.batch_alter_table("status_subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_key", sa.String(length=32), nullable=False))
        batch_op.add_column(
            sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(batch_op.f("uq_status_subscribers_token_hash"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_status_subscribers_link_key"), ["link_key"]
        )
        batch_op.drop_column("token_hash")


def downgrade() -> None:
    op.drop_table("status_deliveries")
    op.execute(sa.text("DELETE FROM status_subscribers"))
    with op.batch_alter_table("status_subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=False))
        batch_op.drop_constraint(batch_op.f("uq_status_subscribers_link_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_status_subscribers_token_hash"), ["token_hash"]
        )
        batch_op.drop_column("confirmation_sent_at")
        batch_op.drop_column("link_key")
