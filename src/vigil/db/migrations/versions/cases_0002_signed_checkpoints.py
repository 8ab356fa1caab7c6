"""signed checkpoints (branch "cases"): audit_checkpoints gains the Merkle root it signs, the
compact range the next checkpoint extends, and the signature algorithm (Ed25519; older rows,
HMAC-signed, keep a NULL algorithm).

Revision ID: cases_0002
Revises: cases_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0002"
down_revision: str | Sequence[str] | None = "cases_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("root", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("frontier", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("algorithm", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_column("algorithm")
        batch_op.drop_column("frontier")
        batch_op.drop_column("root")
