"""outcomes: outcome evaluations of ended deployments

Revision ID: outcomes_0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outcomes_0001"
down_revision = None
branch_labels = ("outcomes",)
depends_on = "cases_0001"


def upgrade() -> None:
    op.create_table(
        "outcome_evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("resolution", sa.String(4), nullable=False),
        sa.Column("verdict", sa.String(40), nullable=False),
        sa.Column("rate_ratio", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("wdq", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("data_version", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_outcome_evaluations_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outcome_evaluations"),
    )
    op.create_index(
        "ix_outcome_evaluations_case_id", "outcome_evaluations", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outcome_evaluations_case_id", table_name="outcome_evaluations")
    op.drop_table("outcome_evaluations")
