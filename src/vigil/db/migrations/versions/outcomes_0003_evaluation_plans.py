"""outcomes: pre-registered evaluation plans, versioned (issue 17)

Revision ID: outcomes_0003
Revises: outcomes_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outcomes_0003"
down_revision = "outcomes_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("declared_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("window", sa.Text(), nullable=False),
        sa.Column("analysis", sa.Text(), nullable=False),
        sa.Column("mdr_pct", sa.Float(), nullable=True),
        sa.Column("after_window_start", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_evaluation_plans_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_plans"),
    )
    op.create_index("ix_evaluation_plans_case_id", "evaluation_plans", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_evaluation_plans_case_id", table_name="evaluation_plans")
    op.drop_table("evaluation_plans")
