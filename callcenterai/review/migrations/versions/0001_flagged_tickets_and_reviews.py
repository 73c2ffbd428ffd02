"""Flagged tickets and reviews.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flagged_tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("suggested_label", sa.String(100), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("review_reason", sa.String(50), nullable=False),
        sa.Column("route_model", sa.String(20), nullable=False),
        sa.Column("route_reasons", sa.JSON, nullable=False),
        sa.Column("probabilities", sa.JSON, nullable=False),
        sa.Column("model_probabilities", sa.JSON, nullable=False),
        sa.Column("model_versions", sa.JSON, nullable=False),
        sa.Column("redacted", sa.JSON, nullable=False),
    )
    for column in ("created_at", "suggested_label", "review_reason"):
        op.create_index(f"ix_flagged_tickets_{column}", "flagged_tickets", [column])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("flagged_tickets.id"), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("agreed", sa.Boolean, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reviews_ticket_id", "reviews", ["ticket_id"])
    op.create_index("ix_reviews_decided_at", "reviews", ["decided_at"])


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("flagged_tickets")
