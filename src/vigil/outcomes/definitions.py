"""Official definitions of every published measure, in one place.

A figure people quote must say what it counts. Each :class:`Measure` carries its official name
(Home Office / ONS / MPS usage), the source table it is computed from, what it counts (offences,
victims or people accused), whether it is victim-reported or police-generated, and its time
resolution; the months it covers are read from the table itself
(:func:`vigil.outcomes.force_stats.coverage`). Reports, the claim checker and the command line
take names and notes from here and nowhere else.

Naming, following the Home Office and the MPS:

* **knife crime** (*knife or sharp instrument offences*) is the Home Office's selected offences
  (homicide, attempted murder, threats to kill, assault with injury or intent, robbery, rape,
  sexual assault) in which a knife or sharp instrument was used or threatened. It excludes
  possession. The MPS publishes it in the Monthly Crime Dashboard from March 2022 only.
* **knife crime with injury** is the subset in which the victim was injured (the "stabbings"
  of the public debate).
* **possession of an article with a blade or point** is a *possession of weapons* offence: it
  is recorded when police find a blade, so it is police-generated and rises with searching. It
  is never called "knife crime" (:func:`check_naming` enforces this).
* **homicide offences** (recorded crimes, by month) differ from **homicide victims** (people
  killed, by year): one offence can have several victims and offences are recorded when
  classified. Both are reported, never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: the tables measures are computed from (file paths under ``shared/data``)
RECORDED_CRIME = (
    "MPS recorded crime by borough and month (London Datastore): "
    "mps-recorded-crime/csv/borough_10_21.csv + borough_21_23.csv"
)
DASHBOARD = (
    "MPS Monthly Crime Dashboard, Knife Crime (London Datastore): "
    "mps-recorded-crime/parquet/monthly-crime-dashboard.parquet, measure Offences"
)
HOMICIDE_VICTIMS = (
    "Met homicide dashboard, victims (one row per victim, year and borough): "
    "met-homicide-victims-2003-2023/met_homicide_victims_2003_2023.csv"
)

Table = Literal["recorded_crime", "dashboard", "homicide_victims"]
Counts = Literal["offences", "victims", "accused"]
Origin = Literal["victim-reported", "police-generated"]


@dataclass(frozen=True)
class Measure:
    """One published measure: what it is called, where it comes from and what it counts."""

    key: str
    #: official name, as the publisher uses it
    name: str
    table: Table
    #: categories summed: MPS minor categories (recorded crime) or dashboard crime subtypes
    categories: tuple[str, ...]
    counts: Counts
    origin: Origin
    #: "month" or "year"
    resolution: Literal["month", "year"]
    note: str

    @property
    def source(self) -> str:
        return {
            "recorded_crime": RECORDED_CRIME,
            "dashboard": DASHBOARD,
            "homicide_victims": HOMICIDE_VICTIMS,
        }[self.table]

    @property
    def has_positive_outcomes(self) -> bool:
        """The dashboard publishes positive outcomes (charge, caution, ...) beside offences."""
        return self.table == "dashboard" and self.counts == "offences"

    def describe(self) -> str:
        """One line for a report: name, what it counts, origin and source."""
        return f"{self.name}: counts {self.counts}, {self.origin}. Source: {self.source}."


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "serious_violence",
            "Serious violence (homicide, violence with injury and robbery of personal "
            "property: a Vigil measure summing three MPS categories)",
            "recorded_crime",
            ("Homicide", "Violence with Injury", "Robbery of Personal Property"),
            "offences",
            "victim-reported",
            "month",
            "Not an official aggregate: Vigil's outcome measure, defined here. Excludes "
            "possession offences, which police activity generates.",
        ),
        Measure(
            "homicide",
            "Homicide offences (MPS minor category Homicide)",
            "recorded_crime",
            ("Homicide",),
            "offences",
            "victim-reported",
            "month",
            "Recorded homicide offences by month of recording; not the number of victims.",
        ),
        Measure(
            "homicide_victims",
            "Homicide victims (Met homicide dashboard)",
            "homicide_victims",
            (),
            "victims",
            "victim-reported",
            "year",
            "People killed, by year only; the last year of the file (2023) is partial.",
        ),
        Measure(
            "violence_with_injury",
            "Violence with injury (MPS minor category)",
            "recorded_crime",
            ("Violence with Injury",),
            "offences",
            "victim-reported",
            "month",
            "",
        ),
        Measure(
            "robbery_personal",
            "Robbery of personal property (MPS minor category)",
            "recorded_crime",
            ("Robbery of Personal Property",),
            "offences",
            "victim-reported",
            "month",
            "",
        ),
        Measure(
            "possession_blade",
            "Possession of article with blade or point (possession of weapons offence)",
            "recorded_crime",
            ("Possession of Article with Blade or Point",),
            "offences",
            "police-generated",
            "month",
            "Recorded when police find a blade: it rises with stop and search and is not "
            "knife crime. Shown beside, never inside, the victim-reported measures.",
        ),
        Measure(
            "knife_crime",
            "Knife crime (knife or sharp instrument offences)",
            "dashboard",
            ("Knife Crime",),
            "offences",
            "victim-reported",
            "month",
            "Home Office selected offences in which a knife or sharp instrument was used or "
            "threatened; excludes possession. Published from March 2022 only.",
        ),
        Measure(
            "knife_crime_with_injury",
            "Knife crime with injury",
            "dashboard",
            ("Knife Crime with Injury",),
            "offences",
            "victim-reported",
            "month",
            "Knife or sharp instrument offences in which the victim was injured. Published "
            "from March 2022 only.",
        ),
        Measure(
            "knife_crime_with_injury_robbery",
            "Knife crime with injury (personal robbery)",
            "dashboard",
            ("Knife Crime with Injury (Personal Robbery)",),
            "offences",
            "victim-reported",
            "month",
            "Published from March 2022 only.",
        ),
        Measure(
            "knife_injury_victims_1_24",
            "Knife injury victims aged 1-24",
            "dashboard",
            ("Knife Injury Victims (1-24)",),
            "victims",
            "victim-reported",
            "month",
            "Victims, not offences (the dashboard files them under measure 'Offences').",
        ),
        Measure(
            "knife_injury_victims_non_da_1_24",
            "Knife injury victims aged 1-24, excluding domestic abuse",
            "dashboard",
            ("Knife Injury Victims (non DA 1-24)",),
            "victims",
            "victim-reported",
            "month",
            "Victims, not offences.",
        ),
    )
}


class UnknownMeasure(KeyError):
    pass


def measure(key: str) -> Measure:
    """The measure called ``key`` (``knife-crime-with-injury`` and ``knife_crime_with_injury``
    are the same); a clear error listing the known ones otherwise."""
    k = key.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return MEASURES[k]
    except KeyError:
        known = ", ".join(k.replace("_", "-") for k in MEASURES)
        raise UnknownMeasure(f"unknown measure '{key}'; expected one of: {known}") from None


def check_naming() -> None:
    """Raise if any measure named knife crime is computed from possession offences.

    Run at import: a possession series can never be published under a knife-crime name.
    """
    for m in MEASURES.values():
        called_knife_crime = "knife_crime" in m.key or "knife crime" in m.name.lower()
        from_possession = any("possession" in c.lower() for c in m.categories)
        if called_knife_crime and (from_possession or m.origin == "police-generated"):
            raise AssertionError(f"measure {m.key} is called knife crime but counts possession")


check_naming()
