"""The fairness view: which communities bear the deployments and the flagged areas, against where
victim-reported serious violence happens.

Critics warn that armed patrols fall hardest on communities already heavily policed. This view
answers with data: for London's LSOAs grouped by IMD 2019 decile and by their largest 2011-census
ethnic group, each group's share of deployment hours and of flagged (top-risk) forecast areas is
set against its share of victim-reported serious violence (police.uk 2022). A ratio above 1 means
a group bears more deployment (or flagging) than its share of the harm would explain.

Forecasts built mainly on police-generated offences (weapons or drugs possession: found where
police already look) are marked, because flagging where police already patrol is a feedback loop,
not evidence of harm.

Attribution: a deployment's hours go to LSOAs in proportion to the share of the deployment's
area inside each; a flagged forecast area counts for the LSOA holding its centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from vigil.cases.states import NOT_DEPLOYED
from vigil.clock import as_utc
from vigil.forecast.surface import RiskSurface
from vigil.impact.sources import (
    GROUPS,
    lsoa_boundaries,
    residents,
    street_serious_violence,
)
from vigil.settings import shared_data_dir

#: a forecast is "mainly police-generated" above this share of its training incidents
POLICE_GENERATED_MAJORITY = 0.5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FairnessRow(_Model):
    group: str
    lsoas: int
    residents_share: float
    violence_share: float
    deployment_hours: float
    deployment_share: float
    flagged_areas: float
    flagged_share: float
    #: deployment (or flagged) share / violence share; None where the group has no violence
    deployment_ratio: float | None
    flagged_ratio: float | None


class ExposureRow(_Model):
    """One census group's share of the residents of the places that bear each burden: London
    as a whole, weighted by serious violence, by deployment hours, by flagged areas."""

    group: str
    london_share: float
    violence_weighted_share: float
    deployment_weighted_share: float | None
    flagged_weighted_share: float | None
    #: deployment- (or flagged-) weighted share / violence-weighted share
    deployment_ratio: float | None
    flagged_ratio: float | None


class ForecastMark(_Model):
    label: str
    model: str
    flagged: int
    police_generated_share: float | None
    mainly_police_generated: bool
    note: str


class FairnessView(_Model):
    by_imd_decile: list[FairnessRow]
    by_largest_group: list[FairnessRow]
    exposure_by_ethnicity: list[ExposureRow]
    forecasts: list[ForecastMark]
    deployment_hours: float
    flagged_areas: float
    violence_incidents: int
    method: str


def deployment_hours_by_lsoa(
    windows: Sequence[Any], until: datetime | None = None, shared: Path | None = None
) -> pd.Series:
    """Hours deployed per LSOA (windows: ``area_wkt`` in BNG, ``start``, ``end``, ``status``),
    split by the share of each deployment's area in each LSOA; cut at ``until`` if given."""
    lsoas = lsoa_boundaries(shared_data_dir(shared))
    out = pd.Series(0.0, index=lsoas.index)
    for w in windows:
        if str(getattr(w, "status", "")).lower() in NOT_DEPLOYED:
            continue
        end = as_utc(w.end) if until is None else min(as_utc(w.end), as_utc(until))
        hours = (end - as_utc(w.start)).total_seconds() / 3600.0
        if hours <= 0:
            continue
        geom = shapely.from_wkt(w.area_wkt)
        cand = lsoas.iloc[lsoas.sindex.query(geom, predicate="intersects")]
        inside = shapely.area(shapely.intersection(cand.geometry.values, geom))
        if inside.sum() <= 0:
            continue
        out.loc[cand.index] += hours * inside / inside.sum()
    return out


def flagged_by_lsoa(
    surface: RiskSurface, top_fraction: float = 0.01, shared: Path | None = None
) -> pd.Series:
    """Flagged (top ``top_fraction`` by risk) forecast areas per LSOA, by the area's centre."""
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
    if surface.crs.upper() != "EPSG:27700":
        raise ValueError(
            f"the fairness view needs a London surface in EPSG:27700, not {surface.crs}"
        )
    lsoas = lsoa_boundaries(shared_data_dir(shared))
    k = max(1, int(round(top_fraction * len(surface))))
    top = surface.ranking()[:k]
    pts = shapely.points(np.asarray(surface.x)[top], np.asarray(surface.y)[top])
    hit_pt, hit_lsoa = lsoas.sindex.query(pts, predicate="within")
    codes = lsoas.index.to_numpy()[hit_lsoa]
    counts = pd.Series(codes).value_counts()
    return counts.reindex(lsoas.index, fill_value=0).astype(float)


def lsoa_groups(shared: Path | None = None) -> pd.DataFrame:
    """Per LSOA: IMD 2019 decile, largest 2011-census ethnic group, residents (mid-2020)."""
    res = residents(shared_data_dir(shared))
    eth = res[[f"eth_{g}" for g in GROUPS]]
    largest = eth.idxmax(axis=1).map(lambda c: str(c).removeprefix("eth_"))
    return pd.DataFrame(
        {
            "imd_decile": res["imd_decile"],
            "largest_group": largest.where(eth.notna().all(axis=1)),
            "residents": res["population"],
        }
    )


def ethnic_shares(shared: Path | None = None) -> pd.DataFrame:
    """Per LSOA, each 2011-census group's share of its residents (columns: GROUPS)."""
    res = residents(shared_data_dir(shared))
    eth = res[[f"eth_{g}" for g in GROUPS]].astype(float)
    eth.columns = list(GROUPS)
    return eth.div(eth.sum(axis=1), axis=0)


def _rows(
    key: pd.Series, order: Sequence[Any], table: pd.DataFrame, label: str
) -> list[FairnessRow]:
    grouped = table.groupby(key)
    sums = grouped[["residents", "violence", "hours", "flagged"]].sum()
    n = grouped.size()
    totals = table[["residents", "violence", "hours", "flagged"]].sum()

    def share(col: str, g: Any) -> float:
        t = float(totals[col])
        return float(sums.loc[g, col]) / t if t > 0 and g in sums.index else 0.0

    rows = []
    for g in order:
        v = share("violence", g)
        d = share("hours", g)
        f = share("flagged", g)
        rows.append(
            FairnessRow(
                group=label.format(g),
                lsoas=int(n.get(g, 0)),
                residents_share=share("residents", g),
                violence_share=v,
                deployment_hours=float(sums.loc[g, "hours"]) if g in sums.index else 0.0,
                deployment_share=d,
                flagged_areas=float(sums.loc[g, "flagged"]) if g in sums.index else 0.0,
                flagged_share=f,
                deployment_ratio=d / v if v > 0 else None,
                flagged_ratio=f / v if v > 0 else None,
            )
        )
    return rows


def exposure(table: pd.DataFrame, shares: pd.DataFrame) -> list[ExposureRow]:
    """Each group's share among residents, weighting each LSOA by violence, hours, flags."""

    def weighted(col: str) -> pd.Series | None:
        w = table[col].to_numpy(float)
        ok = shares.notna().all(axis=1).to_numpy()
        if w[ok].sum() <= 0:
            return None
        return shares[ok].mul(w[ok], axis=0).sum() / w[ok].sum()

    london = shares.mul(table["residents"], axis=0).sum() / table["residents"].sum()
    by = {col: weighted(col) for col in ("violence", "hours", "flagged")}
    rows = []
    for g in GROUPS:
        v = by["violence"]
        vs = float(v[g]) if v is not None else 0.0
        d = None if by["hours"] is None else float(by["hours"][g])
        f = None if by["flagged"] is None else float(by["flagged"][g])
        rows.append(
            ExposureRow(
                group=g,
                london_share=float(london[g]),
                violence_weighted_share=vs,
                deployment_weighted_share=d,
                flagged_weighted_share=f,
                deployment_ratio=d / vs if d is not None and vs > 0 else None,
                flagged_ratio=f / vs if f is not None and vs > 0 else None,
            )
        )
    return rows


def mark_forecast(label: str, surface: RiskSurface, flagged: int) -> ForecastMark:
    pg = surface.data_version.get("police_generated_share")
    share = None if pg is None else float(pg)
    mainly = share is not None and share > POLICE_GENERATED_MAJORITY
    if share is None:
        note = "training data not described: origin of the offences unknown"
    elif mainly:
        note = (
            f"built mainly on police-generated offences ({100 * share:.0f}%): it flags where "
            "police already look, not where harm is reported"
        )
    else:
        note = f"{100 * share:.0f}% police-generated offences"
    return ForecastMark(
        label=label,
        model=surface.model,
        flagged=flagged,
        police_generated_share=share,
        mainly_police_generated=mainly,
        note=note,
    )


def fairness_view(
    windows: Sequence[Any],
    forecasts: Sequence[tuple[str, RiskSurface]],
    *,
    top_fraction: float = 0.01,
    until: datetime | None = None,
    shared: Path | None = None,
) -> FairnessView:
    """The view over every deployment window and every (labelled) forecast surface."""
    root = shared_data_dir(shared)
    groups = lsoa_groups(root)
    sv = street_serious_violence(root)
    table = groups.assign(
        violence=sv["lsoa"].value_counts().reindex(groups.index, fill_value=0).astype(float),
        hours=deployment_hours_by_lsoa(windows, until, root).reindex(groups.index, fill_value=0.0),
        flagged=0.0,
    )
    marks = []
    for label, surface in forecasts:
        flagged = flagged_by_lsoa(surface, top_fraction, root).reindex(groups.index, fill_value=0)
        table["flagged"] += flagged
        marks.append(mark_forecast(label, surface, int(flagged.sum())))
    return FairnessView(
        by_imd_decile=_rows(table["imd_decile"], range(1, 11), table, "IMD decile {}"),
        by_largest_group=_rows(table["largest_group"], GROUPS, table, "largest group: {}"),
        exposure_by_ethnicity=exposure(table, ethnic_shares(root).reindex(table.index)),
        forecasts=marks,
        deployment_hours=float(table["hours"].sum()),
        flagged_areas=float(table["flagged"].sum()),
        violence_incidents=int(table["violence"].sum()),
        method=(
            "London LSOAs (2011) grouped by IMD 2019 decile (1 = most deprived) and by largest "
            "2011-census ethnic group; shares of deployment hours (split by area overlap), of "
            f"flagged forecast areas (top {100 * top_fraction:g}% by risk, by centre) and of "
            "victim-reported serious violence (police.uk 2022: violence and sexual offences, "
            "robbery); ratio = share borne / share of violence. Exposure by ethnicity: each "
            "group's share of the residents of LSOAs weighted by violence, deployment hours or "
            "flagged areas (residents as the 2011 census counted them)"
        ),
    )


def fairness_from_cases(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    extra_forecasts: Sequence[tuple[str, RiskSurface]] = (),
    top_fraction: float = 0.01,
    shared: Path | None = None,
) -> FairnessView:
    """The view over every case deployed in [since, until) and the forecasts of the cases opened
    in it (their frozen evidence), plus any other forecasts given."""
    from sqlalchemy import select

    from vigil.cases.evidence import thaw
    from vigil.cases.queries import deployment_windows
    from vigil.db.cases import Case

    windows = deployment_windows(session, since, until, now=until)
    forecasts = list(extra_forecasts)
    rows = session.execute(
        select(Case)
        .where(Case.evidence_json.is_not(None), Case.created_at >= since, Case.created_at < until)
        .order_by(Case.id)
    )
    for case in rows.scalars():
        if case.evidence_json is None:  # excluded by the query; says so to the type checker
            continue
        # digest-checked: a snapshot changed since submission is refused, not counted
        surface = thaw(case.evidence_json, case.evidence_digest)
        forecasts.append((f"case {case.id} evidence", surface))
    return fairness_view(windows, forecasts, top_fraction=top_fraction, until=until, shared=shared)
