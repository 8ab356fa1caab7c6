"""The one "exceptional" figure frozen with a case's evidence (vigil.app.exceptional), in the
words every screen and document of the decision uses: the case page, the authoriser's "check
your answers" page and the case file. Beside it, the guardrail's surge test on the same numbers
(the ratio ``evidence_test`` reads, its p-value against ``SURGE_ALPHA``), so no screen shows a
number the guardrail does not use."""

from __future__ import annotations

from typing import Any

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.impact.guardrails import SURGE_ALPHA
from vigil.localtime import london


def figure_in_words(figure: dict[str, Any] | None, policy: GuardrailPolicy) -> dict[str, Any]:
    """The frozen figure as the case page and the "check your answers" page show it, beside
    the guardrail's surge test on the same numbers (``policy``: the GuardrailPolicy): the
    ratio ``evidence_test`` uses, its p-value against ``SURGE_ALPHA`` and the period. Keys:
    ``ratio`` (text, '2.80' or ''), ``summary``, ``period``, ``p_value``, ``meets`` (True,
    False, or None when there is no figure to test) and ``test`` (the test in words)."""
    need = f"at least {policy.min_ratio_to_own_history:g} times, p at most {SURGE_ALPHA:g}"
    if not figure:
        return {
            "ratio": "",
            "summary": "No figure was frozen with the evidence (no forecast, or one made "
            "before the surge scan existed)",
            "period": "",
            "p_value": "",
            "meets": None,
            "test": f"The guardrail cannot test exceptionality ({need})",
        }
    if "ratio" not in figure:
        return {
            "ratio": "",
            "summary": f"Not computed: {figure.get('unavailable', 'no scan with the forecast')}",
            "period": "",
            "p_value": "",
            "meets": None,
            "test": f"The guardrail falls back on the forecast's long-run level ({need})",
        }
    ratio = float(figure["ratio"])
    p_value = float(figure["p_value"])
    meets = ratio >= policy.min_ratio_to_own_history and p_value <= SURGE_ALPHA
    period = (
        f"{london(figure['start'], weekday=False)} to {london(figure['end'], weekday=False)} "
        f"({figure['days']} days)"
        if figure.get("found")
        else "no unusual cluster touches the area in the days scanned"
    )
    return {
        "ratio": f"{ratio:.2f}",
        "summary": f"{ratio:.2f} times the area's own expected level",
        "period": period,
        "p_value": f"{p_value:.3g} (such a surge would arise by chance about once in "
        f"{float(figure.get('recurrence_days', 1.0)):.0f} days)",
        "meets": meets,
        "test": ("Meets" if meets else "Does not meet") + f" the guardrail's surge test ({need})",
    }
