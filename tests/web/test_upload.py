"""Uploading a real police.uk file through the browser: the file streams as the request body
with upload progress, then the import job is polled to completion.
File: /work/shared/data/city-of-london-2016-2017/2016-02/2016-02-city-of-london-street.csv."""

from __future__ import annotations

import pytest

from tests.api import _fixtures
from tests.web._browser import Person

pytestmark = pytest.mark.browser

FILE = (
    _fixtures.SHARED / "city-of-london-2016-2017" / "2016-02" / "2016-02-city-of-london-street.csv"
)


def test_upload_with_progress(live, browser, artifacts):
    base, _ = live
    analyst = Person(browser, base, artifacts, "analyst")
    p = analyst.page
    p.goto(f"{base}/incidents/upload")
    p.set_input_files("#upload-file", str(FILE))
    p.fill("#upload-dataset", "col-2016-02")
    p.select_option("#upload-how", "format:police-uk")
    p.click("#upload-form button")
    p.wait_for_selector("body[data-upload=done]", timeout=60_000)
    text = p.inner_text("#upload-stage")
    rows = FILE.read_bytes().count(b"\n") - 1
    assert "Imported" in text and "col-2016-02" in text
    imported = int(text.split("Imported ")[1].split(" ")[0])
    assert 0 < imported <= rows
    assert p.eval_on_selector("#upload-bar", "e => e.style.width") == "100%"
    # the finished state is announced (WCAG 4.1.3) and meets WCAG 2.2 AA like every page
    assert p.get_attribute("#upload-stage", "role") == "status" or p.get_attribute(
        "#upload-stage", "aria-live"
    )
    assert analyst.axe() == []
    analyst.shot("upload-imported-desktop")
    assert analyst.offsite == []
    analyst.close()
