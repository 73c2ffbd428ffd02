"""Live traffic for drift checks, the challenger's shadow answers, and drift runs.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_samples",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("words", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("route_model", sa.String(20), nullable=False),
        sa.Column("model_versions", sa.JSON, nullable=False),
    )
    op.create_table(
        "shadow_outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("ticket_key", sa.String(32), nullable=True, index=True),
        sa.Column("backend", sa.String(20), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("champion_version", sa.String(20), nullable=False),
        sa.Column("challenger_version", sa.String(20), nullable=False),
        sa.Column("champion_label", sa.String(100), nullable=False),
        sa.Column("champion_confidence", sa.Float, nullable=False),
        sa.Column("challenger_label", sa.String(100), nullable=True),
        sa.Column("challenger_confidence", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("error", sa.String(50), nullable=True),
    )
    op.create_index(
        "ix_shadow_outcomes_model_name_challenger_version",
        "shadow_outcomes",
        ["model_name", "challenger_version"],
    )
    op.create_table(
        "drift_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("window_tickets", sa.Integer, nullable=False),
        sa.Column("reference_tickets", sa.Integer, nullable=False),
        sa.Column("drifted", sa.Boolean, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("report_path", sa.String(500), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("drift_runs")
    op.drop_index("ix_shadow_outcomes_model_name_challenger_version", "shadow_outcomes")
    op.drop_table("shadow_outcomes")
    op.drop_table("traffic_samples")
