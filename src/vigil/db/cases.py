"""Tables of the deployment case: the case itself and everything recorded about it.

Only areas, times, roles and account ids are stored: no names of members of the public,
suspects or victims. Actors are recorded as account id + role + rank *at the time*, because a
later promotion must not rewrite who was entitled to decide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.db.base import Base
from vigil.db.types import UTCDateTime


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: optimistic-lock counter; bumped by every transition
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)  # proactive | reactive
    #: area polygon (EPSG:27700 WKT); the union of the chosen cells when only cells were given
    area_wkt: Mapped[str] = mapped_column(Text, nullable=False)
    cells: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    boroughs: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    borough: Mapped[str | None] = mapped_column(String(64), index=True)
    requested_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    requested_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    resources: Mapped[str] = mapped_column(Text, nullable=False)
    objectives: Mapped[str] = mapped_column(Text, nullable=False)
    success_measures: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    requester_id: Mapped[str] = mapped_column(String(128), nullable=False)
    requester_role: Mapped[str] = mapped_column(String(32), nullable=False)
    requester_rank: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the window in force once authorised (end moves with each extension)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    conditions: Mapped[str | None] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ratify_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ratified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    debrief_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    policy_version: Mapped[str] = mapped_column(String(32), nullable=False)
    #: frozen evidence: RiskSurface.to_dict() + model/params/data version, canonical JSON
    evidence_json: Mapped[str | None] = mapped_column(Text)
    evidence_digest: Mapped[str | None] = mapped_column(String(64))
    evidence_model: Mapped[str | None] = mapped_column(String(128))
    evidence_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultations: Mapped[list[Consultation]] = relationship(
        back_populates="case", order_by="Consultation.id"
    )
    assessments: Mapped[list[ImpactAssessmentRecord]] = relationship(
        back_populates="case", order_by="ImpactAssessmentRecord.version"
    )
    authorisations: Mapped[list[Authorisation]] = relationship(
        back_populates="case", order_by="Authorisation.id"
    )
    extensions: Mapped[list[Extension]] = relationship(
        back_populates="case", order_by="Extension.number"
    )
    notifications: Mapped[list[Notification]] = relationship(
        back_populates="case", order_by="Notification.id"
    )
    debriefs: Mapped[list[Debrief]] = relationship(back_populates="case", order_by="Debrief.id")


class _ActorColumns:
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_rank: Mapped[int] = mapped_column(Integer, nullable=False)


class Consultation(_ActorColumns, Base):
    __tablename__ = "case_consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    consultee: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[str] = mapped_column(String(16), nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    case: Mapped[Case] = relationship(back_populates="consultations")


class ImpactAssessmentRecord(_ActorColumns, Base):
    """One version of the community impact assessment (content: the impact team's model)."""

    __tablename__ = "case_impact_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: fields the content still lacks, as reported by the assessment model when attached
    missing: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # incomplete|complete|reviewed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reviewer_id: Mapped[str | None] = mapped_column(String(128))
    reviewer_role: Mapped[str | None] = mapped_column(String(32))
    reviewer_rank: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_notes: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="assessments")


class Authorisation(_ActorColumns, Base):
    """A decision by an authorising officer: initial, urgent, ratification or extension."""

    __tablename__ = "case_authorisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    conditions: Mapped[str | None] = mapped_column(Text)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("case_impact_assessments.id"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_rules: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    case: Mapped[Case] = relationship(back_populates="authorisations")


class Extension(Base):
    __tablename__ = "case_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    hours: Mapped[float] = mapped_column(nullable=False)
    previous_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    new_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("case_authorisations.id"), nullable=False
    )

    case: Mapped[Case] = relationship(back_populates="extensions")


class Notification(Base):
    """Something oversight must see: the pre-activation notice, guardrail overrides, overdue
    debriefs, lapsed urgent authorisations."""

    __tablename__ = "case_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient: Mapped[str] = mapped_column(String(32), nullable=False, default="oversight")
    message: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="notifications")


class Debrief(_ActorColumns, Base):
    __tablename__ = "case_debriefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    what_happened: Mapped[str] = mapped_column(Text, nullable=False)
    incidents: Mapped[int] = mapped_column(Integer, nullable=False)
    complaints: Mapped[int] = mapped_column(Integer, nullable=False)
    community_feedback: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    case: Mapped[Case] = relationship(back_populates="debriefs")
