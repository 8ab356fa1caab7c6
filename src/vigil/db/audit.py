"""Tables of the audit log: the hash-chained entries, the chain head and signed checkpoints.

``audit_log`` is append-only: on PostgreSQL a trigger (created by the migration) refuses UPDATE,
DELETE and TRUNCATE. ``audit_head`` is a single row that appenders lock (``FOR UPDATE``) so
concurrent transactions extend the chain one at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base
from vigil.db.types import UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_rank: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Data Protection Act 2018 s.62 category of processing
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before_digest: Mapped[str | None] = mapped_column(String(64))
    after_digest: Mapped[str | None] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: canonical JSON of extra facts (state names, window, ids): hashed as stored
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditCheckpoint(Base):
    """A signed tree head (see :mod:`vigil.audit.checkpoint`); the witness holds the copies
    that count, these rows let the server extend the tree incrementally."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: tree size: the checkpoint covers entries 1..seq
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    #: chain hash of entry ``seq``
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: RFC 6962 Merkle root of entries 1..seq (NULL on old HMAC checkpoints)
    root: Mapped[str | None] = mapped_column(String(64))
    #: JSON compact range ([[leaf count, subtree root hex], ...]) to extend the tree from here
    frontier: Mapped[str | None] = mapped_column(Text)
    algorithm: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)
