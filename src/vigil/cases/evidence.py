"""The frozen evidence snapshot: the forecast surface, model, parameters and data version a case
was decided on, stored as canonical JSON with its SHA-256 digest.

Why freeze: an authorisation must be reviewable later against exactly what the decision-maker
saw, not against a forecast re-run on data that arrived since. The digest is written to the
audit log at submission, so a changed snapshot is detectable.
"""

from __future__ import annotations

import json
from typing import Any

from vigil.audit.canonical import canonical_json, sha256_hex
from vigil.errors import VigilError
from vigil.forecast.surface import RiskSurface


class EvidenceError(VigilError):
    """The evidence snapshot is missing or does not match its digest."""


def snapshot(surface: RiskSurface) -> dict[str, Any]:
    """A reproducible record of the evidence: the whole surface plus what produced it."""
    return {
        "surface": surface.to_dict(),
        "model": surface.model,
        "params": surface.params,
        "data_version": surface.data_version,
        "window": {"start": surface.start.isoformat(), "end": surface.end.isoformat()},
    }


def freeze(surface: RiskSurface) -> tuple[str, str]:
    """(canonical JSON, SHA-256 hex digest) of the snapshot."""
    text = canonical_json(snapshot(surface))
    return text, sha256_hex(text)


def check_digest(text: str, expected_digest: str | None) -> None:
    """Refuse a snapshot whose content no longer hashes to the digest stored with it."""
    if expected_digest is not None and sha256_hex(text) != expected_digest:
        raise EvidenceError(
            f"evidence snapshot digest mismatch: stored {expected_digest[:12]}..., "
            f"content hashes to {sha256_hex(text)[:12]}..."
        )


def thaw(text: str, expected_digest: str | None) -> RiskSurface:
    """The surface back from its snapshot, refusing one whose digest no longer matches."""
    check_digest(text, expected_digest)
    return RiskSurface.from_dict(json.loads(text)["surface"])
