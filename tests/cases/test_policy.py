"""The policy file: section 60 / 2014 scheme defaults, and clear errors for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.cases.policy import Action, PolicyFileError, default_policy, load_policy
from vigil.roles import Rank, Role


def test_defaults_follow_section_60_under_the_2014_scheme() -> None:
    p = default_policy()
    assert p.version == "2014-s60-1"
    assert p.rule(Action.AUTHORISE).min_rank is Rank.COMMANDER
    assert p.roles_for(Action.AUTHORISE) == {Role.AUTHORISING_OFFICER}
    assert p.authorisation.maker_checker
    assert p.window.initial_max_hours == 15
    assert p.window.extensions_max_hours == (9, 15)
    assert p.window.total_max_hours == 39
    assert p.urgent.triggers == ("reactive",)
    assert p.rule(Action.AUTHORISE_URGENT).min_rank is Rank.SUPERINTENDENT
    assert p.urgent.ratify_within_hours == 2
    assert p.consultations.required == ("local_commander", "community")
    assert p.oversight_notification_required and p.success_measures_required
    assert p.debrief.within_hours == 72
    assert isinstance(p.guardrails, GuardrailPolicy)
    assert p.rule(Action.OVERRIDE).min_rank is Rank.ASSISTANT_COMMISSIONER


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_custom_policy_file_changes_the_rules(tmp_path: Path) -> None:
    data = yaml.safe_load(
        (Path(__file__).parents[2] / "src/vigil/cases/default_policy.yaml").read_text()
    )
    data["version"] = "force-x-2"
    data["permissions"]["authorise"]["min_rank"] = "assistant commissioner"
    data["window"]["initial_max_hours"] = 8
    p = load_policy(_write(tmp_path, data))
    assert p.version == "force-x-2"
    assert p.rule(Action.AUTHORISE).min_rank is Rank.ASSISTANT_COMMISSIONER
    assert p.window.initial_max_hours == 8


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"window": {}}, "missing required field 'version'"),
        ({"version": "x", "window": {"initial_max_hours": -1}}, "window.initial_max_hours"),
        (
            {"version": "x", "permissions": {"authorise": {"roles": [], "min_rank": "general"}}},
            "unknown rank 'general'",
        ),
        ({"version": "x"}, "field 'permissions': Field required"),
        ({"version": "x", "permissions": {"open": {"roles": ["analyst"]}}}, "no row for action"),
        (
            {
                "version": "x",
                "permissions": {"open": {"roles": ["analyst"], "own_cases_only": ["oversight"]}},
            },
            "own_cases_only names roles not in roles",
        ),
        ({"version": "x", "urgent": {"triggers": ["hunch"]}}, "unknown trigger"),
        ({"version": "x", "guardrails": {"max_concurrent": 0}}, "guardrails.max_concurrent"),
        ({"version": "x", "surprise": 1}, "field 'surprise'"),
        ({"version": "x", "consultations": {"required": ["iag"]}}, "no roles for ['iag']"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_bad_policy_files_name_the_field(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(PolicyFileError, match="policy file .*policy.yaml") as err:
        load_policy(_write(tmp_path, data))
    assert message in str(err.value)


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed")
    with pytest.raises(PolicyFileError, match="not valid YAML"):
        load_policy(bad)


def test_every_window_limit_has_the_same_float_tolerance() -> None:
    """Hours computed from datetimes carry float error: the initial, extension and total limits
    (and the guardrails' area hours) all allow the same hair's breadth, and no more."""
    from datetime import datetime, timedelta

    from vigil.cases.policy import WindowRules

    w = WindowRules()
    t0 = datetime(2022, 7, 1, 9, 0, 0, 1)
    # 15 h from datetimes a microsecond off, summed the way the workflow sums them
    hours = (t0 + timedelta(hours=15) - t0).total_seconds() / 3600 + 1e-12
    assert not w.initial_too_long(hours) and w.initial_too_long(15.001)
    assert not w.extension_too_long(0, 9 + 1e-12) and w.extension_too_long(0, 9.001)
    assert not w.extension_too_long(1, 15 + 1e-12) and w.extension_too_long(1, 15.001)
    assert not w.total_too_long(39 + 1e-12) and w.total_too_long(39.001)
