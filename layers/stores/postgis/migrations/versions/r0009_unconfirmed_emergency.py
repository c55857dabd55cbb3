"""A hospital's emergency department may be unconfirmed: ``hospitals.emergency`` takes null.

OpenStreetMap rarely tags ``emergency=yes`` on Chinese hospitals; an imported hospital without the
tag is kept with ``emergency`` empty (unconfirmed): ambulance times use it, marked so, until the
health commission confirms it (true) or rules it out (false).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def upgrade(schema: str) -> None:
    """Let the hospitals layer and its archive hold an unconfirmed emergency department."""
    for table in ("hospitals", "hospitals__archive"):
        op.execute(f"ALTER TABLE IF EXISTS {q(schema)}.{q(table)} ALTER COLUMN emergency DROP NOT NULL")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")
