"""identity: sign-in through an OpenID Connect provider (subjects, pending requests, notices)

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_users") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(300)))
        batch.create_unique_constraint("uq_identity_users_oidc_subject", ["oidc_subject"])
    op.create_table(
        "identity_oidc_requests",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next", sa.String(500), nullable=False),
        sa.Column("session_hash", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name="pk_identity_oidc_requests"),
    )
    op.create_table(
        "identity_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(36)),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_notices"),
    )


def downgrade() -> None:
    op.drop_table("identity_notices")
    op.drop_table("identity_oidc_requests")
    with op.batch_alter_table("identity_users") as batch:
        batch.drop_constraint("uq_identity_users_oidc_subject", type_="unique")
        batch.drop_column("oidc_subject")
