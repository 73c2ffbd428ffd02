"""The challenger's calls, tallied: one row per call instead of one per shadowed ticket.

``shadow_outcomes`` keeps a row per ticket only for flagged tickets (a reviewer's decision says
which model was right); how many tickets each call carried, answered and agreed on, and its
latency, go to ``shadow_calls``. Rows written before this revision stay where they are: the
evidence of a challenger shadowed before it counts from its calls only.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("backend", sa.String(20), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("champion_version", sa.String(20), nullable=False),
        sa.Column("challenger_version", sa.String(20), nullable=False),
        sa.Column("tickets", sa.Integer, nullable=False),
        sa.Column("answered", sa.Integer, nullable=False),
        sa.Column("agreed", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("error", sa.String(50), nullable=True),
    )
    op.create_index(
        "ix_shadow_calls_model_name_challenger_version", "shadow_calls", ["model_name", "challenger_version"]
    )


def downgrade() -> None:
    op.drop_index("ix_shadow_calls_model_name_challenger_version", "shadow_calls")
    op.drop_table("shadow_calls")
