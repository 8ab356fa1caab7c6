"""`vigil report check`: published figures reproduced from the shipped tables
(shared/data/mps-recorded-crime/README.txt, met-homicide-victims-2003-2023/README.txt)."""

from __future__ import annotations

import pytest

from vigil.outcomes.claims import (
    NOT_CHECKABLE,
    NOT_LIKE_FOR_LIKE,
    NOT_REPRODUCED,
    REPRODUCED,
    Claim,
    ClaimError,
    check_claim,
)


@pytest.mark.parametrize(
    "claim",
    [
        # homicide offences 2017-2019 (recorded crime README)
        Claim("homicide", "2017", stated="142"),
        Claim("homicide", "2018", stated="138"),
        Claim("homicide", "2019", stated="153"),
        # homicide victims (victims README)
        Claim("homicide-victims", "2019", stated="150"),
        Claim("homicide-victims", "2022", stated="106"),
        # blade possession (recorded crime README)
        Claim("possession-blade", "2018", stated="3,440"),
        # knife crime (dashboard): 2024 against 2023
        Claim("knife-crime-with-injury", "2024", "2023", stated="+2.8%"),
        Claim("knife-crime", "2024", "2023", stated="+12.8%"),
        Claim("knife-crime-with-injury", "2023", stated="3749"),
    ],
)
def test_published_figures_are_reproduced(shared_data, claim):
    r = check_claim(claim, shared_data)
    assert r.status == REPRODUCED, r.text()


def test_a_wrong_figure_is_not_reproduced(shared_data):
    r = check_claim(Claim("homicide", "2019", stated="163"), shared_data)
    assert r.status == NOT_REPRODUCED and "the table gives 153" in r.text()
    r = check_claim(Claim("knife-crime", "2024", "2023", stated="+16%"), shared_data)
    assert r.status == NOT_REPRODUCED and "+12.8%" in r.text()


def test_knife_crime_with_injury_plus_23_percent_is_not_like_for_like(shared_data):
    """3,749 (2023) against 3,039 (2022) is +23.4 %, but 2022 is March-December only."""
    r = check_claim(Claim("knife-crime-with-injury", "2023", "2022", stated="+23%"), shared_data)
    assert r.count == 3749 and r.against_count == 3039
    assert r.status == NOT_LIKE_FOR_LIKE and "the arithmetic matches" in r.text()
    assert "10 of 12 months" in r.text()
    like = r.like_for_like
    assert like is not None and like["label"].startswith("March 2023 to December 2023")
    assert like["change"]["previous"] == 3039
    assert like["change"]["verdict"] == "within normal variation"


def test_seeds_murders_up_12_percent_highest_in_a_decade(shared_data):
    """The seeds' "a 12-percent rise in murders, the highest figures in a decade" against
    London's homicide series. 2019 is the year it fits best: recorded homicide offences rose
    from 138 to 153 (+10.9 %), the highest of the years the table holds; homicide victims from
    128 to 150 (+17.2 %), the highest since 2007. Neither is +12 %, and both rises are within
    normal variation."""
    off = check_claim(
        Claim("homicide", "2019", "2018", stated="+12%", highest_in_years=10), shared_data
    )
    assert off.status == NOT_REPRODUCED and off.highest is True
    assert off.change is not None and off.change.verdict == "within normal variation"
    assert "+10.9%" in off.text()
    vic = check_claim(
        Claim("homicide-victims", "2019", "2018", stated="+12%", highest_in_years=10), shared_data
    )
    assert vic.status == NOT_REPRODUCED and vic.highest is True and "2007 (157)" in vic.text()
    assert vic.change is not None and vic.change.verdict == "within normal variation"
    # "highest in a decade" alone, for 2017 offences: not so (2017's 142 > 2015's 120, but the
    # highest of 2011-2017: yes) -- and for 2018: not so, 2017 was higher
    r2018 = check_claim(Claim("homicide", "2018", highest_in_years=10), shared_data)
    assert r2018.highest is False and r2018.status == NOT_REPRODUCED and "2017" in r2018.text()


def test_no_figure_is_substituted_outside_coverage(shared_data):
    r = check_claim(Claim("knife-crime", "2019", stated="+5%"), shared_data)
    assert r.status == NOT_CHECKABLE and r.count is None
    assert "March 2022" in r.text() and "no figure is substituted" in r.text()


def test_bad_claims_name_the_field(shared_data):
    with pytest.raises(ClaimError, match="period '2023-13'"):
        check_claim(Claim("homicide", "2023-13"), shared_data)
    with pytest.raises(ClaimError, match="unknown measure 'stabbings'"):
        check_claim(Claim("stabbings", "2023"), shared_data)
    with pytest.raises(ClaimError, match="stated 'lots'"):
        check_claim(Claim("homicide", "2019", stated="lots"), shared_data)
    with pytest.raises(ClaimError, match="area 'Gotham'"):
        check_claim(Claim("homicide", "2019", area="Gotham"), shared_data)
