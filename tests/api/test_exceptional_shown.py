"""One "exceptional" figure on every screen of the decision (issue 12: "the impact assessment calls
an area exceptional 2.80x while the guardrail refuses it 1.36x"; "the authoriser sees no
guardrail status before pressing Authorise").

Data: the synthetic city of tests/forecast/test_surge.py (a steady hotspot over a uniform
background, Poisson counts per day for 200 days, fixed seed) moved into central London (BNG
528000-531000 E, 178000-181000 N: Westminster) and to 2022, with 14 incidents injected over the
last two days around one point: what is unusual, and where, is known exactly. The forecast
carries the surge scan (99 replicas); cases opened on it freeze the figure with the evidence.
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import shapely

from tests.api.conftest import bearer, browser_login, build_app, post_as
from tests.forecast.test_surge import AT, background, inject

#: on one xdist worker with the other module that runs the surge scan (tests/app/test_exceptional,
#: tests/api/test_exceptional_shown): the scan's numba kernels compile once (about 6 s of CPU)
pytestmark = pytest.mark.xdist_group("surge-scan")
HTML = {"Accept": "text/html"}
OX, OY = 528000.0, 178000.0
UNTIL = pd.Timestamp("2022-07-01")
#: where the cluster was injected, and the steady hotspot (always high, not surging)
SURGING = (OX + 2250.0, OY + 750.0)
STEADY = (OX + 800.0, OY + 2200.0)


@pytest.fixture(scope="module")
def surge_env(tmp_path_factory):
    from vigil.app.exceptional import attach_scan
    from vigil.forecast.registry import make_model
    from vigil.geo.grid import Grid

    df = inject(background(), n=14, days=2, x=2250.0, y=750.0)
    df = df.assign(time=df["time"] + (UNTIL - AT), x=df["x"] + OX, y=df["y"] + OY)
    grid = Grid.from_bounds(OX, OY, OX + 2999, OY + 2999, 100.0, "EPSG:27700")
    fitted = make_model("recency", n_folds=2).fit(df, UNTIL, grid)
    surface = attach_scan(fitted.predict(UNTIL, UNTIL + pd.Timedelta(days=7)), df, grid, 99)
    app, clock, tokens = build_app(tmp_path_factory.mktemp("surge"), surface)
    return app, clock, tokens, surface


def _cell(surface, x: float, y: float) -> str:
    d = np.hypot(np.asarray(surface.x) - x, np.asarray(surface.y) - y)
    return str(np.asarray(surface.area_id)[int(np.argmin(d))])


def _open(app, clock, tokens, cell: str) -> dict:
    from fastapi.testclient import TestClient

    now = clock.now()
    body = {
        "cells": [cell],
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=7)).isoformat(),
        "resources": "Officers on foot",
        "objectives": "Prevent serious violence",
        "success_measures": ["No knife injuries"],
    }
    return post_as(TestClient(app), tokens, "analyst", "/api/cases", body, status=201)


def _guardrail_evidence(app, case_id: int) -> tuple[float, bool]:
    """The ratio the guardrail's evidence rule reads from the frozen evidence, and whether the
    rule passes (no ``evidence`` breach) under the app's policy."""
    from vigil.db.cases import Case
    from vigil.impact.guardrails import _surface_of, evaluate, evidence_test

    with app.state.ctx.session_factory() as s:
        row = s.get(Case, case_id)
        surface, long_run = _surface_of(row.evidence_json)
        area = shapely.from_wkt(row.area_wkt)
        ev = evidence_test(surface, area, long_run)
        breaches = evaluate(
            case_id=str(case_id),
            area=area,
            start=row.requested_start,
            end=row.requested_end,
            windows=[],
            policy=app.state.ctx.cases.policy.guardrails,
            evidence=ev,
        )
    return ev.ratio_to_history, not [b for b in breaches if b.rule == "evidence"]


@pytest.mark.parametrize("where", ["surging", "steady"])
def test_the_case_page_the_cia_and_the_guardrail_show_one_number(surge_env, where):
    app, clock, tokens, surface = surge_env
    cell = _cell(surface, *(SURGING if where == "surging" else STEADY))
    case = _open(app, clock, tokens, cell)
    cid = case["id"]
    fig = case["exceptional"]
    assert fig is not None and "ratio" in fig, fig
    shown = f"{fig['ratio']:.2f}"
    if where == "surging":
        assert fig["found"] and fig["ratio"] > 4 and fig["p_value"] <= 0.05
    else:
        assert fig["p_value"] > 0.05

    # the guardrail's evidence rule reads the same ratio
    ratio, passes = _guardrail_evidence(app, cid)
    assert f"{ratio:.2f}" == shown

    # the case page, for every reader, with the guardrail's test on it beside it
    page = browser_login(app, "oversight").get(f"/cases/{cid}", headers=HTML).text
    figure = page[page.index('id="exceptional-figure"') :]
    figure = figure[: figure.index("</div>\n</div>") if "</div>\n</div>" in figure else 4000]
    assert f"{shown} times the area&#39;s own expected level" in figure
    assert ("Surge test: passes" if where == "surging" else "Surge test: fails") in figure
    assert not re.search(r"\b\d\.\d\d times\b", figure.replace(shown + " times", ""))

    # the impact assessment drafted on the case's evidence: the same ratio
    client = _client(app)
    post_as(client, tokens, "lead", f"/api/cases/{cid}/impact-assessment/draft")
    content = client.get(
        f"/api/cases/{cid}/impact-assessment", headers=bearer(tokens, "lead")
    ).json()["content"]
    standing = content["indicators"]["forecast"]
    assert f"{standing['ratio_to_own_history']:.2f}" == shown
    doc = client.get(
        f"/api/cases/{cid}/impact-assessment/document", headers=bearer(tokens, "lead")
    ).text
    assert f">{shown}<" in doc
    # one verdict in the document, and it is the guardrail's: "exceptional" exactly when the
    # evidence rule passes (the street-crime months are context, not a second verdict)
    verdicts = re.findall(r'<p class="verdict">([^<]*)</p>', doc)
    assert len(verdicts) == 1, verdicts
    assert verdicts[0].startswith("exceptional") == passes, (verdicts, passes)
    assert 'id="city-context"' in doc

    # the case file (HTML, as the PDF is printed from it): the same figure and test
    case_file = client.get(f"/api/reports/cases/{cid}", headers=bearer(tokens, "oversight")).text
    frozen = case_file[case_file.index('id="exceptional-figure"') :]
    assert f"{shown} times the area&#39;s own expected level" in frozen[:1500]
    assert ("Meets" if where == "surging" else "Does not meet") in frozen[:1500]


def test_the_authoriser_sees_the_figure_and_the_guardrails_before_authorising(surge_env):
    """The "check your answers" page before Authorise shows the same figure, its guardrail
    test and the whole guardrail check."""
    app, clock, tokens, surface = surge_env
    case = _open(app, clock, tokens, _cell(surface, *STEADY))
    cid = case["id"]
    shown = f"{case['exceptional']['ratio']:.2f}"
    client = _client(app)
    post_as(client, tokens, "analyst", f"/api/cases/{cid}/submit")
    ao = browser_login(app, "ao")
    page = ao.get(f"/cases/{cid}", headers=HTML).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = ao.post(
        f"/cases/{cid}/actions/authorise",
        data={"csrf_token": csrf, "conditions": "Foot patrols only"},
        headers=HTML,
    )
    assert r.status_code == 200 and 'id="form-confirm"' in r.text
    assert f"{shown} times the area&#39;s own expected level" in r.text
    assert "Surge test: fails" in r.text and 'id="guardrail-check"' in r.text
    # the guardrail check lists the evidence breach with the same number
    check = r.text[r.text.index('id="guardrail-check"') :]
    assert "evidence" in check and "not exceptional" in check
    # an empty override is said in words, not as Python's "None"
    answers = r.text[r.text.index('id="confirm-answers"') : r.text.index('id="guardrail-check"')]
    assert "None given (needed only if a guardrail fails)" in answers
    assert ">None<" not in answers


def _client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


def test_the_case_page_states_the_plan_and_what_it_can_detect_before_the_decision(surge_env):
    """Issue 17: "Nobody is told any of this before deploying." The plan frozen at opening, with
    its minimum detectable reduction (or why none could be stated), is on the case page while
    the case still awaits its decision."""
    import html

    from vigil.app.evaluation_plan import plan_of

    app, clock, tokens, surface = surge_env
    cid = _open(app, clock, tokens, _cell(surface, *SURGING))["id"]
    with app.state.ctx.session_factory() as s:
        plan = plan_of(s, cid)
    assert plan is not None and plan.mdr_note
    page = html.unescape(browser_login(app, "ao").get(f"/cases/{cid}", headers=HTML).text)
    section = page[page.index('id="evaluation"') :]
    assert "Evaluation plan, declared before the decision" in section
    assert plan.mdr_note in section and plan.outcome in section and plan.analysis in section
    if plan.mdr_pct is None:
        assert "no figure could be stated" in section
    else:
        assert f"a reduction of {plan.mdr_pct:.0f}% or more" in section


@pytest.mark.parametrize("when", ["fresh", "stale"])
def test_evidence_older_than_the_window_warns_where_the_decision_is_made(surge_env, when):
    """Issue 12: "a December 2022 forecast is frozen as evidence for a 2026 deployment with no
    warning". The map's rule (older than its own window) read against the case's requested
    window: the case page and the authorise check-your-answers page (plain and urgent) say so,
    with the forecast's period and the window in London dates; a case inside the forecast's
    period shows no warning."""
    import html

    from fastapi.testclient import TestClient

    app, clock, tokens, surface = surge_env
    now = clock.now()
    # the stale case asks for a window starting three days after the forecast's period ended
    start = (
        now + timedelta(hours=1)
        if when == "fresh"
        else pd.Timestamp(surface.end).to_pydatetime().replace(tzinfo=now.tzinfo)
        + timedelta(days=3, hours=10)
    )
    body = {
        "cells": [_cell(surface, *STEADY)],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=6)).isoformat(),
        "resources": "Officers on foot",
        "objectives": "Prevent serious violence",
        "success_measures": ["No knife injuries"],
    }
    client = TestClient(app)
    cid = post_as(client, tokens, "analyst", "/api/cases", body, status=201)["id"]
    post_as(client, tokens, "analyst", f"/api/cases/{cid}/submit")
    ao = browser_login(app, "ao")
    page = ao.get(f"/cases/{cid}", headers=HTML).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pages = {"case page": page}
    for kind, extra in (("authorise", {}), ("urgent authorise", {"urgent": "yes"})):
        r = ao.post(
            f"/cases/{cid}/actions/authorise",
            data={"csrf_token": csrf, "conditions": "Foot patrols only", **extra},
            headers=HTML,
        )
        assert r.status_code == 200 and 'id="form-confirm"' in r.text, (kind, r.status_code)
        pages[kind] = r.text
    for name, text in pages.items():
        text = html.unescape(text)
        if when == "fresh":
            assert 'id="stale-evidence"' not in text, name
            continue
        assert 'id="stale-evidence"' in text, name
        warning = text[text.index('id="stale-evidence"') :][:1500]
        # the forecast's period 1 Jul 2022 to 8 Jul 2022, the window from 11 Jul 2022 (London)
        assert "1 Jul 2022" in warning and "8 Jul 2022" in warning, (name, warning)
        assert "11 Jul 2022" in warning and "3 days after" in warning, (name, warning)
