"""Form fields to domain values: what a browser posts, turned into the arguments of the same
service calls the JSON API makes. Presentation only: no rule of policy is decided here.

A form is validated by the API's own request model (:func:`validated`), so a value the API
refuses with a 422 (``hours=nan``, ``complaints=10**30``) is refused on the page too, as a form
error naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from vigil.app.text import NUL_MESSAGE, has_nul
from vigil.errors import VigilError
from vigil.impact.assessment import REQUIRED_CONSULTEES
from vigil.localtime import AmbiguousTime, from_london, london_input

#: rows offered on the CIA form for risks and mitigations
RISK_ROWS = 3
MITIGATION_ROWS = 3


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class FormError(VigilError):
    """A form field could not be read (bad date, number or missing value). ``field`` names the
    input, so the page can put the message next to it and link to it from the error summary."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


#: how a field is named in an error message ("Enter the conditions")
LABELS = {
    "conditions": "the conditions of the authorisation",
    "reasons": "the reasons",
    "resources": "the resources (officers, units, times)",
    "objectives": "the objectives",
    "success_measures": "at least one success measure",
    "start": "the start date and time",
    "end": "the end date and time",
    "hours": "how many hours to extend by",
    "what_happened": "what happened",
    "incidents": "the number of incidents",
    "complaints": "the number of complaints",
    "message": "the message to oversight",
    "consultee": "who is consulted",
    "position": "their position",
    "notes": "the review notes",
    "username": "a username",
    "password": "a password",
    "role": "a role",
}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def validated(model: type[M], form: FormData, *names: str, **values: Any) -> M:
    """``model`` (the application layer's request schema, the API's body) from the form fields
    ``names`` (as typed; the model parses them) and ``values``. A refusal names the field in
    words and is linked to its input (``FormError.field``); never an internal field name."""
    data: dict[str, Any] = {n: text(form, n) for n in names if text(form, n) != ""}
    data.update(values)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        raise FormError(
            "; ".join(_problem(err) for err in errors),
            str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else "",
        ) from None


def _problem(err: Any) -> str:
    """One schema refusal in words: 'Enter the reasons', 'How many hours to extend by: input
    should be a finite number'."""
    name = str(err["loc"][0]) if err["loc"] else ""
    if err["type"] == "missing":
        return f"Enter {_label(name)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{_label(name)[:1].upper()}{_label(name)[1:]}: {message[:1].lower()}{message[1:]}"


def text(form: Mapping[str, Any], name: str, required: bool = False) -> str:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if has_nul(value):
        raise FormError(f"{_label(name)[:1].upper()}{_label(name)[1:]}: {NUL_MESSAGE}", name)
    if required and not value:
        verb = "Choose" if name in ("consultee", "position", "role") else "Enter"
        raise FormError(f"{verb} {_label(name)}", field=name)
    return value


def flag(form: Mapping[str, Any], name: str) -> bool:
    return text(form, name).lower() in ("1", "on", "true", "yes")


def _parsed(form: FormData, name: str, parse: Callable[[str], T], what: str) -> T:
    """A required field through ``parse``; a value it refuses is reported as not ``what``."""
    raw = text(form, name, required=True)
    try:
        return parse(raw)
    except ValueError:
        raise FormError(
            f"{_label(name).capitalize()} must be {what} ('{raw}' is not)", name
        ) from None


def integer(form: FormData, name: str) -> int:
    return _parsed(form, name, int, "a whole number")


def utc_time(form: FormData, name: str) -> datetime:
    """A ``datetime-local`` value, typed as London wall-clock time (the form says so), as UTC.
    A time the clock change skips or repeats is refused with what to type instead."""
    when = _parsed(form, name, datetime.fromisoformat, "a date and time")
    try:
        return from_london(when)
    except AmbiguousTime as exc:
        raise FormError(str(exc), name) from None


def lines(form: FormData, name: str) -> list[str]:
    return [line.strip() for line in text(form, name).splitlines() if line.strip()]


def local_input(when: datetime | str | None) -> str:
    """A stored (UTC) time as a ``datetime-local`` input value in London time."""
    return london_input(when)


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
            raise FormError(f"The date must be a date ('{on}' is not)", f"{key}_on") from None
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
