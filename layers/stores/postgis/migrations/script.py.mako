"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from alembic import op
import sqlalchemy as sa

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    """What this revision changes in the store's ``schema``."""
    ${upgrades if upgrades else "pass"}


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")
