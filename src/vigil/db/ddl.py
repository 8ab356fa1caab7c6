"""Table-building steps the Alembic migrations share (``vigil/db/migrations/versions``).

Most of our tables have the same frame: an integer ``id`` key named ``pk_<table>``, and the
records about a case add a ``case_id`` that is indexed and refers to ``cases``. Each migration
used to spell that frame out again, with room to drift (an index forgotten, a constraint named
another way). A migration is history, so what these helpers emit must never change for a
migration already released: add a helper, or a keyword with the old behaviour as its default,
never alter one. tests/db/test_migrations.py compares the migrated schema with the models.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op


def actor_columns(*, role: bool = True, rank: bool = True) -> list[sa.Column[Any]]:
    """Who recorded a row, as they were at the time (``vigil.db.cases._ActorColumns``): their
    id, and their role and rank unless the table keeps only the id."""
    columns: list[sa.Column[Any]] = [sa.Column("actor_id", sa.String(length=128), nullable=False)]
    if role:
        columns.append(sa.Column("actor_role", sa.String(length=32), nullable=False))
    if rank:
        columns.append(sa.Column("actor_rank", sa.Integer(), nullable=False))
    return columns


def recorded(at: str, *, role: bool = True, rank: bool = True) -> list[sa.Column[Any]]:
    """When a row was recorded (the not-null time column ``at``) and by whom
    (``actor_columns``), in that order."""
    return [sa.Column(at, sa.DateTime(), nullable=False), *actor_columns(role=role, rank=rank)]


def create_table(name: str, *columns: sa.Column[Any] | sa.Constraint) -> None:
    """Create ``name`` with an autoincrement integer ``id`` first (its key, ``pk_<name>``),
    then ``columns`` and any extra constraints."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def create_case_records(
    name: str, *columns: sa.Column[Any], refers_to: dict[str, str] | None = None
) -> None:
    """A table of records about a case: ``id``, ``case_id`` (indexed, a key to ``cases``),
    then its own ``columns``; ``refers_to`` maps a column to the table whose id it holds."""
    create_table(
        name,
        sa.Column("case_id", sa.Integer(), nullable=False),
        *columns,
        *(
            sa.ForeignKeyConstraint([col], [f"{table}.id"], name=op.f(f"fk_{name}_{col}_{table}"))
            for col, table in (refers_to or {}).items()
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f(f"fk_{name}_case_id_cases")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_case_id"), ["case_id"], unique=False)


def drop_case_records(name: str) -> None:
    """Undo ``create_case_records(name, ...)``: its index, then the table."""
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{name}_case_id"))
    op.drop_table(name)
