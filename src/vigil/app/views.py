"""The one shape of a case as people and scripts read it: typed models that the API returns,
the CLI prints as JSON (``vigil case show``) and the page templates read, so all three give the
same fields for the same case.

Only what the record holds: areas, times, roles, account ids and reasons. The frozen evidence
itself is served separately (``/api/cases/{id}/evidence``) because it is large. Times are ISO
8601 strings in UTC, exactly as they have always been written.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from vigil.app.snapshot_facts import snapshot_facts
from vigil.cases.service import CaseView
from vigil.clock import as_utc
from vigil.roles import Rank


def iso(when: datetime | None) -> str | None:
    return None if when is None else as_utc(when).isoformat()


def _rank(value: int | None) -> str | None:
    return None if value is None else Rank(value).name.lower()


class Out(BaseModel):
    """A response shape: no field beyond those declared. Read by attribute or, as the page code
    and templates read JSON, by key (``case["status"]``)."""

    model_config = ConfigDict(extra="forbid")

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """As ``dict.get``: the page code and templates read optional fields this way."""
        return getattr(self, key) if key in type(self).model_fields else default

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields


class ActorOut(Out):
    """Who did something, as they were then: account id, role, rank."""

    id: str
    role: str | None
    rank: str | None

    @classmethod
    def of(cls, row: Any) -> ActorOut:
        return cls(id=row.actor_id, role=row.actor_role, rank=_rank(row.actor_rank))


class ConsultationOut(Out):
    consultee: str
    position: str
    reasons: str
    recorded_at: str | None
    by: ActorOut


class AssessmentRecordOut(Out):
    """One version of the community impact assessment, without its content."""

    version: int
    status: str
    missing: list[str]
    created_at: str | None
    by: ActorOut
    reviewer: ActorOut | None
    reviewed_at: str | None
    review_notes: str | None


class AuthorisationOut(Out):
    kind: str
    start: str | None
    end: str | None
    conditions: str | None
    decided_at: str | None
    overridden_rules: list[str]
    override_reason: str | None
    by: ActorOut


class ExtensionOut(Out):
    number: int
    hours: float
    previous_end: str | None
    new_end: str | None


class NotificationOut(Out):
    """A notice to oversight (or, in the feed, an authorisation shown as one)."""

    case_id: int
    kind: str
    recipient: str
    message: str
    actor_id: str | None
    created_at: str | None
    acknowledged_at: str | None


class DebriefOut(Out):
    what_happened: str
    incidents: int
    complaints: int
    community_feedback: str
    recorded_at: str | None
    by: ActorOut


class CaseSummary(Out):
    """A case in a list: its state by the clock, where and when."""

    id: int
    status: str
    trigger: str
    borough: str | None
    boroughs: list[str]
    requested_start: str | None
    requested_end: str | None
    start: str | None
    end: str | None
    created_at: str | None
    requester_role: str
    urgent: bool


class CaseDetail(CaseSummary):
    """A whole case: the record, every consultation, assessment version, authorisation,
    extension, notice and debrief."""

    stored_status: str
    as_of: str | None
    lapsed: str | None
    warnings: list[str]
    version: int
    cells: list[str]
    area_wkt: str
    resources: str
    objectives: str
    success_measures: list[str]
    requester_id: str
    requester_rank: str | None
    submitted_at: str | None
    conditions: str | None
    ratify_by: str | None
    ratified_at: str | None
    activated_at: str | None
    ended_at: str | None
    end_reason: str | None
    debrief_due: str | None
    policy_version: str
    evidence_digest: str | None
    evidence_model: str | None
    evidence_frozen_at: str | None
    #: the one "exceptional" figure frozen with the evidence (vigil.app.exceptional): ratio to
    #: the area's own expected level, period, p-value, recurrence interval; None without one
    exceptional: dict[str, Any] | None = None
    consultations: list[ConsultationOut]
    assessments: list[AssessmentRecordOut]
    authorisations: list[AuthorisationOut]
    extensions: list[ExtensionOut]
    notifications: list[NotificationOut]
    debriefs: list[DebriefOut]


def _summary_fields(view: CaseView) -> dict[str, Any]:
    r = view.record
    return {
        "id": view.id,
        "status": view.status.value,
        "trigger": r.trigger,
        "borough": r.borough,
        "boroughs": list(r.boroughs or []),
        "requested_start": iso(r.requested_start),
        "requested_end": iso(r.requested_end),
        "start": iso(r.start),
        "end": iso(r.end),
        "created_at": iso(r.created_at),
        "requester_role": r.requester_role,
        "urgent": bool(r.urgent),
    }


def case_summary(view: CaseView) -> CaseSummary:
    return CaseSummary(**_summary_fields(view))


def case_detail(view: CaseView) -> CaseDetail:
    r = view.record
    return CaseDetail(
        **_summary_fields(view),
        stored_status=view.stored_status.value,
        as_of=iso(view.as_of),
        lapsed=view.lapsed,
        warnings=list(view.warnings),
        version=r.version,
        cells=list(r.cells or []),
        area_wkt=r.area_wkt,
        resources=r.resources,
        objectives=r.objectives,
        success_measures=list(r.success_measures or []),
        requester_id=r.requester_id,
        requester_rank=_rank(r.requester_rank),
        submitted_at=iso(r.submitted_at),
        conditions=r.conditions,
        ratify_by=iso(r.ratify_by),
        ratified_at=iso(r.ratified_at),
        activated_at=iso(r.activated_at),
        ended_at=iso(r.ended_at),
        end_reason=r.end_reason,
        debrief_due=iso(r.debrief_due),
        policy_version=r.policy_version,
        evidence_digest=r.evidence_digest,
        evidence_model=r.evidence_model,
        evidence_frozen_at=iso(r.evidence_frozen_at),
        exceptional=snapshot_facts(r.evidence_json, r.evidence_digest).figure,
        consultations=[
            ConsultationOut(
                consultee=c.consultee,
                position=c.position,
                reasons=c.reasons,
                recorded_at=iso(c.recorded_at),
                by=ActorOut.of(c),
            )
            for c in view.consultations
        ],
        assessments=[
            AssessmentRecordOut(
                version=a.version,
                status=a.status,
                missing=list(a.missing or []),
                created_at=iso(a.created_at),
                by=ActorOut.of(a),
                reviewer=None
                if a.reviewer_id is None
                else ActorOut(id=a.reviewer_id, role=a.reviewer_role, rank=_rank(a.reviewer_rank)),
                reviewed_at=iso(a.reviewed_at),
                review_notes=a.review_notes,
            )
            for a in view.assessments
        ],
        authorisations=[
            AuthorisationOut(
                kind=a.kind,
                start=iso(a.start),
                end=iso(a.end),
                conditions=a.conditions,
                decided_at=iso(a.decided_at),
                overridden_rules=list(a.overridden_rules or []),
                override_reason=a.override_reason,
                by=ActorOut.of(a),
            )
            for a in view.authorisations
        ],
        extensions=[
            ExtensionOut(
                number=e.number,
                hours=e.hours,
                previous_end=iso(e.previous_end),
                new_end=iso(e.new_end),
            )
            for e in view.extensions
        ],
        notifications=[notification(n) for n in view.notifications],
        debriefs=[
            DebriefOut(
                what_happened=d.what_happened,
                incidents=d.incidents,
                complaints=d.complaints,
                community_feedback=d.community_feedback,
                recorded_at=iso(d.recorded_at),
                by=ActorOut.of(d),
            )
            for d in view.debriefs
        ],
    )


class EvaluationPlanOut(Out):
    """The case's current pre-registered evaluation plan and what it can detect (issue 17):
    the minimum detectable reduction measured when the case was opened, before authorisation
    (``mdr_pct``; None when none could be stated, ``mdr_note`` says why or what it rests on).
    For the case page's evaluation section."""

    version: int
    declared_at: str | None
    outcome: str
    comparison: str
    window: str
    analysis: str
    mdr_pct: float | None
    mdr_note: str
    changed_after_start: bool


def evaluation_plan_out(row: Any) -> EvaluationPlanOut:
    """``row``: a ``vigil.db.outcomes.EvaluationPlanRow``."""
    return EvaluationPlanOut(
        version=row.version,
        declared_at=iso(row.declared_at),
        outcome=row.outcome,
        comparison=row.comparison,
        window=row.window,
        analysis=row.analysis,
        mdr_pct=row.mdr_pct,
        mdr_note=row.mdr_note or "",
        changed_after_start=bool(row.after_window_start),
    )


def notification(n: Any) -> NotificationOut:
    return NotificationOut(
        case_id=n.case_id,
        kind=n.kind,
        recipient=n.recipient,
        message=n.message,
        actor_id=n.actor_id,
        created_at=iso(n.created_at),
        acknowledged_at=iso(n.acknowledged_at),
    )


@lru_cache(maxsize=1024)
def area_wgs84_geojson(area_wkt: str) -> str:
    """A case's area (WKT in British National Grid metres) as WGS84 GeoJSON for the page map.

    Kept by its WKT: an area is fixed once the case is opened, and reprojecting it on every view
    of the case page cost a tenth of the server's time under load (issue 11).
    """
    import numpy as np
    import shapely

    from vigil.geo.projection import BNG, to_lonlat

    area = shapely.from_wkt(area_wkt)
    area = shapely.transform(area, lambda xy: np.column_stack(to_lonlat(xy[:, 0], xy[:, 1], BNG)))
    return json.dumps(shapely.geometry.mapping(area))
