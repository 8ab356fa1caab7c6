"""outcomes: the evaluation plan keeps the statement of what it can detect (issue 17)

The minimum detectable reduction is now the placebo test's, measured on the area's history and
the control pool when the case is opened; the sentence saying what it rests on (the history
used, the incidents before, the comparable areas) is frozen beside the figure.

Revision ID: outcomes_0004
Revises: outcomes_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outcomes_0004"
down_revision = "outcomes_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_plans") as batch:
        batch.add_column(sa.Column("mdr_note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("evaluation_plans") as batch:
        batch.drop_column("mdr_note")
