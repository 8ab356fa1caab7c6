"""Form fields to domain values: what a browser posts, turned into the arguments of the same
service calls the JSON API makes. Presentation only: no rule of policy is decided here.

A form is validated by the API's own request model (:func:`validated`), so a value the API
refuses with a 422 (``hours=nan``, ``complaints=10**30``) is refused on the page too, as a form
error naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from vigil.app.text import NUL_MESSAGE, has_nul
from vigil.errors import VigilError
from vigil.impact.assessment import REQUIRED_CONSULTEES

#: rows offered on the CIA form for risks and mitigations
RISK_ROWS = 3
MITIGATION_ROWS = 3


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class FormError(VigilError):
    """A form field could not be read (bad date, number or missing value)."""


def validated(model: type[M], form: FormData, *names: str, **values: Any) -> M:
    """``model`` (the API's request body) from the form fields ``names`` (as typed; the model
    parses them) and ``values``; a refusal names each field and what is wrong with it."""
    data: dict[str, Any] = {n: text(form, n) for n in names if text(form, n) != ""}
    data.update(values)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '-'}': {err['msg']}"
            for err in exc.errors()
        )
        raise FormError(problems) from None


def text(form: FormData, name: str, required: bool = False) -> str:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if has_nul(value):
        raise FormError(f"field '{name}': {NUL_MESSAGE}")
    if required and not value:
        raise FormError(f"field '{name}': required")
    return value


def flag(form: FormData, name: str) -> bool:
    return text(form, name).lower() in ("1", "on", "true", "yes")


def _parsed(form: FormData, name: str, parse: Callable[[str], T], what: str) -> T:
    """A required field through ``parse``; a value it refuses is reported as not ``what``."""
    raw = text(form, name, required=True)
    try:
        return parse(raw)
    except ValueError:
        raise FormError(f"field '{name}': '{raw}' is not {what}") from None


def integer(form: FormData, name: str) -> int:
    return _parsed(form, name, int, "a whole number")


def utc_time(form: FormData, name: str) -> datetime:
    """A ``datetime-local`` value, read as UTC (the form says so next to the field)."""
    when = _parsed(form, name, datetime.fromisoformat, "a date and time")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in text(form, name).splitlines() if line.strip()]


def local_input(when: datetime | str | None) -> str:
    """A UTC time as a ``datetime-local`` input value."""
    if when is None:
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M")


def cia_from_form(form: FormData, previous: dict[str, Any] | None, case_id: int) -> dict[str, Any]:
    """The whole CIA as a dict: the previous version with the form's sections replaced. The
    assessment model validates it and says what is still missing."""
    cia: dict[str, Any] = dict(previous or {})
    cia["case_id"] = str(case_id)
    cia["tension"] = {
        "evidenced": text(form, "tension_evidenced"),
        "experienced": text(form, "tension_experienced"),
        "potential": text(form, "tension_potential"),
        "rating": text(form, "tension_rating") or None,
    }
    consultations = []
    for body in REQUIRED_CONSULTEES:
        key = f"cons_{body.value}"
        if not text(form, f"{key}_summary"):
            continue
        on = text(form, f"{key}_on")
        try:
            day = date.fromisoformat(on).isoformat() if on else None
        except ValueError:
            raise FormError(f"field '{key}_on': '{on}' is not a date") from None
        consultations.append(
            {
                "body": body.value,
                "role": text(form, f"{key}_role"),
                "on": day,
                "position": text(form, f"{key}_position"),
                "summary": text(form, f"{key}_summary"),
            }
        )
    cia["consultations"] = consultations
    risks = []
    for n in range(1, RISK_ROWS + 1):
        if not text(form, f"risk_{n}_description"):
            continue
        risks.append(
            {
                "id": text(form, f"risk_{n}_id") or f"R{n}",
                "description": text(form, f"risk_{n}_description"),
                "likelihood": integer(form, f"risk_{n}_likelihood"),
                "impact": integer(form, f"risk_{n}_impact"),
            }
        )
    cia["risks"] = risks
    mitigations = []
    for n in range(1, MITIGATION_ROWS + 1):
        if not text(form, f"mitigation_{n}_description"):
            continue
        addresses = [a.strip() for a in text(form, f"mitigation_{n}_addresses").split(",")]
        mitigations.append(
            {
                "description": text(form, f"mitigation_{n}_description"),
                "addresses": [a for a in addresses if a],
                "owner_role": text(form, f"mitigation_{n}_owner_role"),
            }
        )
    cia["mitigations"] = mitigations
    cia["communication"] = {
        "before": text(form, "communication_before"),
        "after": text(form, "communication_after"),
    }
    reviewer = text(form, "reviewer_user_id")
    cia["reviewer"] = (
        {"user_id": reviewer, "role": text(form, "reviewer_role")} if reviewer else None
    )
    review_date = text(form, "review_date")
    cia["review_date"] = review_date or None
    return cia
