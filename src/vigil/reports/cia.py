"""The CIA as a readable document for consultees, and the fairness view for oversight: HTML
and PDF, rendered by the reports' one template environment and number formats.

The document shows what is missing as prominently as what is there, so a consultee reading an
incomplete assessment cannot mistake it for a finished one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vigil.impact.assessment import CommunityImpactAssessment
from vigil.reports.document import env, when

if TYPE_CHECKING:
    from vigil.impact.fairness import FairnessView


def render_html(
    cia: CommunityImpactAssessment,
    generated: datetime | None = None,
    *,
    detectable: str | None = None,
) -> str:
    """The CIA as a standalone HTML document (inline styles, no external assets).

    ``detectable``: what the evaluation will be able to detect, as frozen with the case's
    evaluation plan (``vigil.app.evaluation_plan.plan_of``; issue 17), so consultees read the
    claim of effect beside what could ever be shown of it. Without it, the figure the CIA
    carries itself (its draft copied it from the plan), so a CIA saved as JSON shows it too."""
    ind, raw = _indicators(cia)
    template = env().get_template("cia.html")
    return template.render(
        cia=cia,
        profile=cia.area_profile,
        ind=ind,
        raw_indicators=raw,
        missing=cia.missing(),
        detectable=detectable if detectable is not None else cia.detectable,
        generated=when(generated or datetime.now(UTC)),
    )


def render_pdf(
    cia: CommunityImpactAssessment,
    generated: datetime | None = None,
    *,
    detectable: str | None = None,
) -> bytes:
    from vigil.pdf import html_to_pdf

    return html_to_pdf(render_html(cia, generated, detectable=detectable))


def _indicators(cia: CommunityImpactAssessment) -> tuple[object | None, dict[str, Any] | None]:
    """(the indicators as Vigil computes them, or None; else the raw block to show as recorded).

    A CIA may carry indicators entered by hand or by an older version; they are still shown,
    marked as not computed by this version, rather than dropped or refused.
    """
    if not cia.indicators:
        return None, None
    from pydantic import ValidationError

    from vigil.impact.models import AreaIndicators

    try:
        return AreaIndicators.model_validate(cia.indicators), None
    except ValidationError:
        return None, dict(cia.indicators)


#: ratios above this are shaded in the fairness view (a fifth more than the share of harm)
FAIRNESS_SHADE_ABOVE = 1.2


def render_fairness_html(view: FairnessView, generated: datetime | None = None) -> str:
    """The fairness view as a standalone HTML document for oversight."""
    return (
        env()
        .get_template("fairness.html")
        .render(
            view=view,
            threshold=FAIRNESS_SHADE_ABOVE,
            generated=when(generated or datetime.now(UTC)),
        )
    )
