"""Cases as JSON-safe dictionaries, for the API responses and the page templates alike.

Only what the record holds: areas, times, roles, account ids and reasons. The frozen evidence
itself is served separately (``/api/cases/{id}/evidence``) because it is large.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from vigil.cases.service import CaseView
from vigil.clock import as_utc
from vigil.roles import Rank


def iso(when: datetime | None) -> str | None:
    return None if when is None else as_utc(when).isoformat()


def _rank(value: int | None) -> str | None:
    return None if value is None else Rank(value).name.lower()


def _actor(row: Any) -> dict[str, Any]:
    return {"id": row.actor_id, "role": row.actor_role, "rank": _rank(row.actor_rank)}


def case_summary(view: CaseView) -> dict[str, Any]:
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


def case_detail(view: CaseView) -> dict[str, Any]:
    r = view.record
    out = case_summary(view)
    out.update(
        {
            "stored_status": view.stored_status.value,
            "as_of": iso(view.as_of),
            "lapsed": view.lapsed,
            "warnings": list(view.warnings),
            "version": r.version,
            "cells": list(r.cells or []),
            "area_wkt": r.area_wkt,
            "resources": r.resources,
            "objectives": r.objectives,
            "success_measures": list(r.success_measures or []),
            "requester_id": r.requester_id,
            "requester_rank": _rank(r.requester_rank),
            "submitted_at": iso(r.submitted_at),
            "conditions": r.conditions,
            "ratify_by": iso(r.ratify_by),
            "ratified_at": iso(r.ratified_at),
            "activated_at": iso(r.activated_at),
            "ended_at": iso(r.ended_at),
            "end_reason": r.end_reason,
            "debrief_due": iso(r.debrief_due),
            "policy_version": r.policy_version,
            "evidence_digest": r.evidence_digest,
            "evidence_model": r.evidence_model,
            "evidence_frozen_at": iso(r.evidence_frozen_at),
            "consultations": [
                {
                    "consultee": c.consultee,
                    "position": c.position,
                    "reasons": c.reasons,
                    "recorded_at": iso(c.recorded_at),
                    "by": _actor(c),
                }
                for c in view.consultations
            ],
            "assessments": [
                {
                    "version": a.version,
                    "status": a.status,
                    "missing": list(a.missing or []),
                    "created_at": iso(a.created_at),
                    "by": _actor(a),
                    "reviewer": None
                    if a.reviewer_id is None
                    else {
                        "id": a.reviewer_id,
                        "role": a.reviewer_role,
                        "rank": _rank(a.reviewer_rank),
                    },
                    "reviewed_at": iso(a.reviewed_at),
                    "review_notes": a.review_notes,
                }
                for a in view.assessments
            ],
            "authorisations": [
                {
                    "kind": a.kind,
                    "start": iso(a.start),
                    "end": iso(a.end),
                    "conditions": a.conditions,
                    "decided_at": iso(a.decided_at),
                    "overridden_rules": list(a.overridden_rules or []),
                    "override_reason": a.override_reason,
                    "by": _actor(a),
                }
                for a in view.authorisations
            ],
            "extensions": [
                {
                    "number": e.number,
                    "hours": e.hours,
                    "previous_end": iso(e.previous_end),
                    "new_end": iso(e.new_end),
                }
                for e in view.extensions
            ],
            "notifications": [notification(n) for n in view.notifications],
            "debriefs": [
                {
                    "what_happened": d.what_happened,
                    "incidents": d.incidents,
                    "complaints": d.complaints,
                    "community_feedback": d.community_feedback,
                    "recorded_at": iso(d.recorded_at),
                    "by": _actor(d),
                }
                for d in view.debriefs
            ],
        }
    )
    return out


def notification(n: Any) -> dict[str, Any]:
    return {
        "case_id": n.case_id,
        "kind": n.kind,
        "recipient": n.recipient,
        "message": n.message,
        "actor_id": n.actor_id,
        "created_at": iso(n.created_at),
        "acknowledged_at": iso(n.acknowledged_at),
    }


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
