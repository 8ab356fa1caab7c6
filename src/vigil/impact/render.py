"""The CIA as a readable document for consultees: HTML, and PDF through the reports layer.

The document shows what is missing as prominently as what is there, so a consultee reading an
incomplete assessment cannot mistake it for a finished one.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from vigil.impact.assessment import CommunityImpactAssessment

if TYPE_CHECKING:
    from vigil.impact.fairness import FairnessView


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("vigil.impact", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["fmt"] = fmt
    env.globals["pct"] = pct
    return env


def fmt(value: float | int | None, digits: int = 1) -> str:
    """A number for people: thousands separated, fixed digits, a dash when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:,.{digits}f}"


def pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def render_html(cia: CommunityImpactAssessment, generated: datetime | None = None) -> str:
    """The CIA as a standalone HTML document (inline styles, no external assets)."""
    ind, raw = _indicators(cia)
    template = _env().get_template("cia.html")
    return template.render(
        cia=cia,
        profile=cia.area_profile,
        ind=ind,
        raw_indicators=raw,
        missing=cia.missing(),
        generated=(generated or datetime.now()).strftime("%Y-%m-%d %H:%M"),
    )


def render_pdf(cia: CommunityImpactAssessment, generated: datetime | None = None) -> bytes:
    from vigil.pdf import html_to_pdf

    return html_to_pdf(render_html(cia, generated))


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
        _env()
        .get_template("fairness.html")
        .render(
            view=view,
            threshold=FAIRNESS_SHADE_ABOVE,
            generated=(generated or datetime.now()).strftime("%Y-%m-%d %H:%M"),
        )
    )
