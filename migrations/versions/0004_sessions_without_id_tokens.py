"""browser sessions keep no ID token, only whether the provider signed them in

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:35:00

Signing out at the provider names Muster's client (``client_id``), not the ID token, so the
ID token is no longer stored; ``via_provider`` says whether signing out goes on to the provider.
Sessions stored with an ID token were signed in at the provider.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via_provider", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE browser_sessions SET via_provider = (id_token IS NOT NULL)")
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.alter_column("via_provider", server_default=None)
        batch_op.drop_column("id_token")


def downgrade() -> None:
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token", sa.Text(), nullable=True))
        batch_op.drop_column("via_provider")
