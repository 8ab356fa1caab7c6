"""A case's changes are logged, one line each, with ids, actions and states, and never with
its free text (resources, objectives, reasons, conditions, notes): the log is read by
operators who are not entitled to the case."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from tests.cases.conftest import AUTHORISER
from vigil.cases.service import CaseService

FREE_TEXT = (
    "two armed response vehicles' crews on foot",
    "deter knife violence around the interchange",
    "intelligence supports a short window",
    "IAG asks for a shorter window and a debrief",
    "assessment is sufficient",
    "foot patrol only near the interchange",
)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[list[logging.LogRecord]]:
    """Every record below ``vigil``, whatever handlers ``configure_logging`` left in place."""
    logger, handler = logging.getLogger("vigil"), _Keep()
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_case_changes_are_logged_without_free_text(
    service: CaseService, ready_case: Callable[..., int], kept: list[logging.LogRecord]
) -> None:
    case_id = ready_case()
    service.authorise(AUTHORISER, case_id, conditions=FREE_TEXT[-1])
    changes = [r for r in kept if r.name == "vigil.cases.service"]
    assert [r.fields["action"] for r in changes] == [  # type: ignore[attr-defined]
        "open",
        "submit",
        "consult",
        "consult",
        "attach_assessment",
        "review_assessment",
        "request_authorisation",
        "authorise",
    ]
    last = changes[-1].fields  # type: ignore[attr-defined]
    assert last["case_id"] == case_id and last["status"] == "authorised"
    assert last["actor_role"] == "authorising_officer"
    for record in kept:
        text = record.getMessage() + repr(getattr(record, "fields", {}))
        assert not any(t in text for t in FREE_TEXT), (record.name, text)
