"""Each flagged ticket's key, made by the agent when it flagged it: a ticket delivered twice is stored once.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: tickets stored before this revision have none, and NULLs never collide.
    op.add_column("flagged_tickets", sa.Column("ticket_key", sa.String(32), nullable=True))
    op.create_index("uq_flagged_tickets_ticket_key", "flagged_tickets", ["ticket_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_flagged_tickets_ticket_key", "flagged_tickets")
    with op.batch_alter_table("flagged_tickets") as batch:
        batch.drop_column("ticket_key")
