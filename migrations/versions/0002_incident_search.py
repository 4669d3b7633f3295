"""full-text search over incidents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:10:00

SQLite gets an FTS5 table keyed by incident id; PostgreSQL a table of tsvector documents with a
GIN index. Both are filled from the incidents and updates already there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE incident_search USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        op.execute(
            "INSERT INTO incident_search (rowid, body) "
            "SELECT i.id, i.name || char(10) || i.summary || char(10) || coalesce(("
            "SELECT group_concat(u.message, char(10)) FROM incident_updates u "
            "WHERE u.incident_id = i.id), '') FROM incidents i"
        )
        return
    op.execute(
        "CREATE TABLE incident_search ("
        "incident_id INTEGER NOT NULL CONSTRAINT pk_incident_search PRIMARY KEY "
        "CONSTRAINT fk_incident_search_incident_id_incidents "
        "REFERENCES incidents (id) ON DELETE CASCADE, "
        "document tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX ix_incident_search_document ON incident_search USING gin (document)")
    op.execute(
        "INSERT INTO incident_search (incident_id, document) "
        "SELECT i.id, to_tsvector('simple', i.name || E'\\n' || i.summary || E'\\n' || coalesce(("
        "SELECT string_agg(u.message, E'\\n' ORDER BY u.id) FROM incident_updates u "
        "WHERE u.incident_id = i.id), '')) FROM incidents i"
    )


def downgrade() -> None:
    op.execute("DROP TABLE incident_search")
