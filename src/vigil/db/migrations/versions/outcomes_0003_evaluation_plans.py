"""outcomes: pre-registered evaluation plans, versioned (issue 17)

Revision ID: outcomes_0003
Revises: outcomes_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

from vigil.db.ddl import create_case_records, drop_case_records, recorded

revision = "outcomes_0003"
down_revision = "outcomes_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_case_records(
        "evaluation_plans",
        sa.Column("version", sa.Integer(), nullable=False),
        *recorded("declared_at", role=False, rank=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("window", sa.Text(), nullable=False),
        sa.Column("analysis", sa.Text(), nullable=False),
        sa.Column("mdr_pct", sa.Float(), nullable=True),
        sa.Column("after_window_start", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    drop_case_records("evaluation_plans")
