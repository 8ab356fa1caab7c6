"""The normalised offence taxonomy.

Raw category names differ by source (police.uk street files, the lower-cased renaming in the
London 2022 teaching file, Chicago's single category, MPS recorded-crime minors). Vigil maps them
to one code each and records *how the offence comes to police notice*: an offence that is mostly
found by police activity (weapons or drugs possession) measures where police already patrol, so a
forecast trained on it feeds back on patrol patterns rather than on where harm happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Origin(StrEnum):
    VICTIM_REPORTED = "victim_reported"
    POLICE_GENERATED = "police_generated"
    MIXED = "mixed"


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    origin: Origin
    serious_violence: bool


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("violence", "Violence and sexual offences", Origin.VICTIM_REPORTED, True),
        Category("aggravated_assault", "Aggravated assault", Origin.VICTIM_REPORTED, True),
        Category("homicide", "Homicide", Origin.VICTIM_REPORTED, True),
        Category("robbery", "Robbery", Origin.VICTIM_REPORTED, True),
        Category("weapons_possession", "Possession of weapons", Origin.POLICE_GENERATED, True),
        Category("drugs", "Drugs", Origin.POLICE_GENERATED, False),
        Category("public_order", "Public order", Origin.MIXED, False),
        Category("burglary", "Burglary", Origin.VICTIM_REPORTED, False),
        Category("vehicle_crime", "Vehicle crime", Origin.VICTIM_REPORTED, False),
        Category("theft_from_person", "Theft from the person", Origin.VICTIM_REPORTED, False),
        Category("bicycle_theft", "Bicycle theft", Origin.VICTIM_REPORTED, False),
        Category("shoplifting", "Shoplifting", Origin.VICTIM_REPORTED, False),
        Category("other_theft", "Other theft", Origin.VICTIM_REPORTED, False),
        Category(
            "criminal_damage_arson", "Criminal damage and arson", Origin.VICTIM_REPORTED, False
        ),
        Category("antisocial_behaviour", "Anti-social behaviour", Origin.MIXED, False),
        Category("other", "Other crime", Origin.MIXED, False),
    )
}

# Raw names as they appear in the sources, lower-cased and stripped, to taxonomy codes.
RAW_TO_CODE: dict[str, str] = {
    # police.uk street files (exact published names)
    "violence and sexual offences": "violence",
    "violent crime": "violence",  # police.uk name before 2013
    "robbery": "robbery",
    "possession of weapons": "weapons_possession",
    "drugs": "drugs",
    "public order": "public_order",
    "public disorder and weapons": "public_order",  # police.uk name before 2014
    "burglary": "burglary",
    "vehicle crime": "vehicle_crime",
    "theft from the person": "theft_from_person",
    "bicycle theft": "bicycle_theft",
    "shoplifting": "shoplifting",
    "other theft": "other_theft",
    "criminal damage and arson": "criminal_damage_arson",
    "anti-social behaviour": "antisocial_behaviour",
    "other crime": "other",
    # London 2022 teaching file (lower-cased, renamed)
    "violent or sexual": "violence",
    "weapon possession": "weapons_possession",
    "theft from person": "theft_from_person",
    "criminal damage or arson": "criminal_damage_arson",
    "other": "other",
    # Chicago
    "aggravated assault": "aggravated_assault",
    "assault": "aggravated_assault",
    # MPS recorded crime minors
    "homicide": "homicide",
    "violence with injury": "violence",
    "violence without injury": "violence",
    "possession of article with blade or point": "weapons_possession",
    "possession of firearms offences": "weapons_possession",
    "robbery of personal property": "robbery",
    "robbery of business property": "robbery",
}

#: Default target of the intelligence picture: victim-reported serious violence.
SERIOUS_VIOLENCE: frozenset[str] = frozenset(
    c.code for c in CATEGORIES.values() if c.serious_violence and c.origin is Origin.VICTIM_REPORTED
)


def normalise(raw: str) -> str | None:
    """The taxonomy code for a raw category name, or None when it is unknown."""
    return RAW_TO_CODE.get(raw.strip().lower())


def origin_of(code: str) -> Origin:
    return CATEGORIES[code].origin


def police_generated_share(
    codes: list[str] | tuple[str, ...] | set[str], counts: dict[str, int] | None = None
) -> float:
    """Share of incidents (or of categories when no counts) that are police-generated.

    Used to mark forecasts built mainly on offences found by police activity.
    """
    codes = list(codes)
    if not codes:
        return 0.0
    if counts is None:
        counts = {c: 1 for c in codes}
    total = sum(counts.get(c, 0) for c in codes)
    if total == 0:
        return 0.0
    pg = sum(counts.get(c, 0) for c in codes if CATEGORIES[c].origin is Origin.POLICE_GENERATED)
    return pg / total
