"""outcomes: calibration runs of the evaluation on placebo deployments (issue 17)

Revision ID: outcomes_0002
Revises: outcomes_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.db.ddl import create_table, recorded

revision = "outcomes_0002"
down_revision = "outcomes_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "outcome_calibrations",
        *recorded("run_at", role=False, rank=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("single_false_alarm", sa.Float(), nullable=True),
        sa.Column("season_false_alarm", sa.Float(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outcome_calibrations")
