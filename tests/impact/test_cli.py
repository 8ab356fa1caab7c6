"""`vigil impact ...` on real areas, through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.impact.test_assessment import complete_cia
from vigil.cli import app

runner = CliRunner()


def test_indicators_json_for_an_lsoa() -> None:
    result = runner.invoke(app, ["impact", "indicators", "--lsoa", "E01003023", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["area_name"] == "Lambeth 021C"
    assert data["profile"]["population"] == 2665  # ONS mid-2020, london-mid2020-pop.csv


def test_indicators_needs_exactly_one_area() -> None:
    result = runner.invoke(app, ["impact", "indicators"])
    assert result.exit_code != 0
    assert "exactly one of --lsoa, --ward, --polygon or --case" in str(result.exception)


def test_render_from_json(tmp_path: Path) -> None:
    src = tmp_path / "cia.json"
    src.write_text(complete_cia().model_dump_json())
    out = tmp_path / "cia.html"
    result = runner.invoke(app, ["impact", "render", "--from-json", str(src), "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Community impact assessment" in html
    # the test CIA's indicators are not Vigil's computed form: shown as recorded, not dropped
    assert "not in the form Vigil computes" in html and "E01000001" in html


def test_render_from_json_shows_what_the_evaluation_can_detect(tmp_path: Path) -> None:
    """Issue 17: the figure frozen with the case's plan travels in the CIA's JSON, so a CIA
    rendered from a saved file shows it as one rendered from the case does."""
    note = "The evaluation can detect a reduction of 72% or more (80% power, 5% level)"
    src = tmp_path / "cia.json"
    src.write_text(complete_cia().model_copy(update={"detectable": note}).model_dump_json())
    out = tmp_path / "cia.html"
    result = runner.invoke(app, ["impact", "render", "--from-json", str(src), "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "What the evaluation will be able to detect" in html and note in html
