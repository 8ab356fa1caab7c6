"""identity: grants of privilege, sign-in throttle, token expiry and revocation, step-up time

Account events are now written to the audit log, so this branch depends on the cases branch's
audit tables.

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = "cases_0001"

#: tokens issued before expiry existed last this long from their creation
OLD_TOKEN_LIFETIME = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("identity_users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("grant_expires_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("identity_sessions") as batch:
        batch.add_column(sa.Column("authenticated_at", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column("auth_method", sa.String(16), nullable=False, server_default="password")
        )
    with op.batch_alter_table("identity_api_tokens") as batch:
        batch.add_column(sa.Column("id", sa.String(36)))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("session_hash", sa.String(64)))
    # give existing tokens a handle and an end: none may live for ever
    bind = op.get_bind()
    tokens = sa.table(
        "identity_api_tokens",
        sa.column("token_hash", sa.String),
        sa.column("id", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    for token_hash, created_at in bind.execute(
        sa.select(tokens.c.token_hash, tokens.c.created_at)
    ).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.token_hash == token_hash)
            .values(id=str(uuid.uuid4()), expires_at=created_at + OLD_TOKEN_LIFETIME)
        )
    with op.batch_alter_table("identity_api_tokens") as batch:
        batch.create_unique_constraint("uq_identity_api_tokens_id", ["id"])
    op.create_table(
        "identity_grants",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("borough", sa.String(64)),
        sa.Column("previous_role", sa.String(32)),
        sa.Column("previous_rank", sa.Integer()),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            name="fk_identity_grants_user_id_identity_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_grants"),
    )
    op.create_table(
        "identity_signin_throttle",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key", name="pk_identity_signin_throttle"),
    )


def downgrade() -> None:
    op.drop_table("identity_signin_throttle")
    op.drop_table("identity_grants")
    with op.batch_alter_table("identity_api_tokens") as batch:
        batch.drop_constraint("uq_identity_api_tokens_id", type_="unique")
        batch.drop_column("session_hash")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
        batch.drop_column("id")
    with op.batch_alter_table("identity_sessions") as batch:
        batch.drop_column("auth_method")
        batch.drop_column("authenticated_at")
    with op.batch_alter_table("identity_users") as batch:
        batch.drop_column("grant_expires_at")
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
