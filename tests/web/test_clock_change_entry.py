"""UK date entry across the clock changes (issue 12: an officer typing 18:00 in summer
authorised 19:00 local). Times are typed as London wall-clock time in the browser's own
date-time fields; the stored request is the right UTC instant either side of the October and
March changes, the page reads it back with the zone, and a time the clocks repeat (October) or
skip (March) is refused in words beside its field with everything typed kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.api import _fixtures
from tests.web._browser import Person

pytestmark = pytest.mark.browser


def _new_case(analyst: Person, start: str, end: str, rank: int):
    area = _fixtures.surface().top(rank + 1)["area_id"].iloc[rank]
    p = analyst.go(f"/cases/new?area_id={area}")
    p.check("input[name=trigger][value=reactive]")
    p.fill("#resources", "Two armed response vehicles")
    p.fill("#objectives", "Prevent serious violence overnight")
    p.fill("#success_measures", "No knife injuries")
    p.fill("#start", start)
    p.fill("#end", end)
    p.check("#confirm_no_personal_data")
    p.click("#new-case button[type=submit]")
    return p


def _stored(analyst: Person, page) -> tuple[datetime, datetime]:
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))
    case = analyst.api("GET", f"/api/cases/{case_id}")
    return (
        datetime.fromisoformat(case["requested_start"]).astimezone(UTC),
        datetime.fromisoformat(case["requested_end"]).astimezone(UTC),
    )


@pytest.mark.parametrize(
    ("now", "refused", "refusal", "start", "end", "utc", "shown"),
    [
        (  # October: 01:00-02:00 on 30 October 2022 happens twice
            datetime(2022, 10, 1, 9, tzinfo=UTC),
            ("2022-10-29T22:00", "2022-10-30T01:30"),
            "happens twice in London",
            "2022-10-29T22:00",
            "2022-10-30T06:00",
            (datetime(2022, 10, 29, 21, tzinfo=UTC), datetime(2022, 10, 30, 6, tzinfo=UTC)),
            ("29 Oct 2022, 22:00 BST", "30 Oct 2022, 06:00 GMT"),
        ),
        (  # March: 01:00-02:00 on 26 March 2023 does not happen
            datetime(2023, 3, 1, 9, tzinfo=UTC),
            ("2023-03-26T01:30", "2023-03-26T06:00"),
            "does not exist in London",
            "2023-03-25T22:00",
            "2023-03-26T06:00",
            (datetime(2023, 3, 25, 22, tzinfo=UTC), datetime(2023, 3, 26, 5, tzinfo=UTC)),
            ("25 Mar 2023, 22:00 GMT", "26 Mar 2023, 06:00 BST"),
        ),
    ],
    ids=["october", "march"],
)
def test_london_time_across_the_clock_change(
    live, browser, artifacts, now, refused, refusal, start, end, utc, shown
):
    base, clock = live
    clock.set(now)
    analyst = Person(browser, base, artifacts, "analyst")
    rank = 5 if now.month == 10 else 90  # separate areas: no cooling-off between the cases
    p = _new_case(analyst, *refused, rank=rank)
    assert "There is a problem" in p.inner_text("#error-summary")
    field = "#end-error" if now.month == 10 else "#start-error"
    assert refusal in p.inner_text(field)
    assert p.input_value("#resources") == "Two armed response vehicles"  # kept
    analyst.shot(f"clock-change-{now:%B}-refused".lower())
    p = _new_case(analyst, start, end, rank=rank)
    assert re.search(r"/cases/\d+", p.url), p.inner_text("main")[:1000]
    assert _stored(analyst, p) == utc
    text = p.inner_text("main")
    for when in shown:
        assert when in text, (when, text[:1500])
    analyst.shot(f"clock-change-{now:%B}-opened".lower())
    assert analyst.offsite == []
    analyst.close()
