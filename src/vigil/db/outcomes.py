"""Table of outcome evaluations: what the evaluation of an ended deployment found, and when.

Each run is kept (never overwritten): data arrive late, and an oversight body must be able to see
that an evaluation was re-run and what changed. The full result is canonical JSON; the headline
numbers are columns so reports can aggregate them without parsing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base
from vigil.db.types import UTCDateTime


class OutcomeEvaluation(Base):
    __tablename__ = "outcome_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    #: "M" (month) or "D" (day): the time resolution the data allowed
    resolution: Mapped[str] = mapped_column(String(4), nullable=False)
    verdict: Mapped[str] = mapped_column(String(40), nullable=False)
    rate_ratio: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    wdq: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    result_json: Mapped[str] = mapped_column(Text, nullable=False)
    data_version: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


class OutcomeCalibration(Base):
    """One calibration run (`vigil report calibrate`): how often the evaluation in use raised a
    false alarm on placebo deployments over the force's own data, and its coverage and power.
    Kept, never overwritten; the oversight report shows the latest."""

    __tablename__ = "outcome_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    dataset: Mapped[str] = mapped_column(String(200), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    single_false_alarm: Mapped[float | None] = mapped_column(Float)
    season_false_alarm: Mapped[float | None] = mapped_column(Float)
    result_json: Mapped[str] = mapped_column(Text, nullable=False)


class EvaluationPlanRow(Base):
    """One version of a case's pre-registered evaluation plan: the outcome, the comparison, the
    window and the analysis, declared against the minimum detectable reduction when the case is
    opened. A change is a new row (never an update); a change after the deployment window has
    started carries its justification and is flagged, and both are in the audit log."""

    __tablename__ = "evaluation_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    comparison: Mapped[str] = mapped_column(Text, nullable=False)
    window: Mapped[str] = mapped_column(Text, nullable=False)
    analysis: Mapped[str] = mapped_column(Text, nullable=False)
    mdr_pct: Mapped[float | None] = mapped_column(Float)
    #: what the figure rests on (vigil.outcomes.detectable), or why none could be stated
    mdr_note: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    after_window_start: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
