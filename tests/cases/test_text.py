"""The personal-data screen on free text (issue 12: "Kings Cross" was flagged as a person's name).

The wards and boroughs come from the shared data's ward layer, the one the map names areas by,
so every place a user sees on the map can be typed back without a false alarm."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from vigil.cases.text import suspected_names


def test_kings_cross_and_seven_sisters_are_places_not_people() -> None:
    assert suspected_names("Patrols around Kings Cross station after the stabbing") == []
    assert suspected_names("Near King's Cross and Seven Sisters Road") == []


def test_a_name_beside_a_place_is_still_found() -> None:
    assert suspected_names("Kings Cross John Smith was seen") == ["John Smith"]
    assert suspected_names("protect Mr Jones at Seven Sisters") == ["Mr Jones"]
    # a place not in the ward list still asks (the caller may confirm it is not a person)
    assert suspected_names("patrol Loughborough Junction") == ["Loughborough Junction"]


def test_no_ward_or_borough_of_london_reads_as_a_name(shared_data: Path) -> None:
    wards = gpd.read_file(f"zip://{shared_data / 'london-boundaries-extra' / 'london_wards.zip'}")
    assert len(wards) == 654
    names = sorted(set(wards["NAME"]) | set(wards["BOROUGH"]))
    flagged = {n: suspected_names(f"Patrols in {n} ward tonight") for n in names}
    assert {n: h for n, h in flagged.items() if h} == {}
