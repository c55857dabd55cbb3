"""Aggregated health indicators: the ``health_indicators`` record table (a count or a rate with its
denominator per unit, period and indicator; the health commission's rows only; audited, never edited).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = [("unit_code", "text", True), ("period", "text", True), ("indicator", "text", True),
           ("count", "bigint", False), ("rate", "float8", False), ("denominator", "bigint", False),
           ("source", "text", False)]
KEY = ("unit_code", "period", "indicator")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def upgrade(schema: str) -> None:
    """Create the record table with its audit triggers."""
    s = q(schema)
    table = f"{s}.{q('onemap_records_health_indicators')}"
    body = ", ".join(f"{q(n)} {t}{' NOT NULL' if req else ''}" for n, t, req in COLUMNS)
    op.execute(f"CREATE TABLE {table} (rid bigserial PRIMARY KEY, {body}, record_version integer NOT NULL, "
               "valid_to integer, department text NOT NULL)")
    op.execute(f"CREATE INDEX {q('ix_health_indicators_records_key')} ON {table} ({', '.join(q(k) for k in KEY)})")
    op.execute(f"SELECT {s}.onemap_attach_records('health_indicators')")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")
