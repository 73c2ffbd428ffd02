"""The queue ordered by confidence; each decision on a ticket numbered, one per number.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_flagged_tickets_confidence", "flagged_tickets", ["confidence"])
    op.add_column("reviews", sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    # Decisions made before this revision: numbered in the order they were made.
    op.execute(
        "UPDATE reviews SET revision = (SELECT COUNT(*) FROM reviews AS earlier"
        " WHERE earlier.ticket_id = reviews.ticket_id AND earlier.id < reviews.id)"
    )
    op.create_index("uq_reviews_ticket_revision", "reviews", ["ticket_id", "revision"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_reviews_ticket_revision", "reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("revision")
    op.drop_index("ix_flagged_tickets_confidence", "flagged_tickets")
