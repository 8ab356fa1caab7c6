"""outcomes: outcome evaluations of ended deployments

Revision ID: outcomes_0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa

from vigil.db.ddl import create_case_records, drop_case_records, recorded

revision = "outcomes_0001"
down_revision = None
branch_labels = ("outcomes",)
depends_on = "cases_0001"


def upgrade() -> None:
    create_case_records(
        "outcome_evaluations",
        *recorded("evaluated_at", rank=False),
        sa.Column("resolution", sa.String(4), nullable=False),
        sa.Column("verdict", sa.String(40), nullable=False),
        sa.Column("rate_ratio", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("wdq", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("data_version", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    drop_case_records("outcome_evaluations")
