"""`vigil forecast` and `vigil backtest`: thin shells over vigil.forecast and vigil.evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from vigil.errors import DataError, ModelInputError

if TYPE_CHECKING:
    from vigil.forecast.surface import RiskSurface

console = Console()

#: Bundled datasets (vigil.data.datasets) usable by name when the store does not hold them.
BUNDLED = {"met-street-2022": "london", "chicago-aggravated-assaults": "chicago"}


# ---------------------------------------------------------------------------------- inputs
def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _params(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` model parameters; numbers become numbers, ``none`` None."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ModelInputError(f"--param {pair!r}: expected key=value, e.g. bandwidth=400")
        value: Any = raw.strip()
        if value.lower() in ("none", "null"):
            value = None
        elif value.lower() in ("true", "false"):
            value = value.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(value)
                    break
                except ValueError:
                    continue
        out[key.strip()] = value
    return out


def _from_store(dataset: str | None) -> tuple[pd.DataFrame | None, list[str]]:
    """Incidents of ``dataset`` (every dataset when None) from the store, and what it holds."""
    from vigil.data.store import IncidentStore
    from vigil.settings import get_settings

    store = IncidentStore(get_settings().store_dir)
    stored = store.datasets()
    if not stored or (dataset is not None and dataset not in stored):
        return None, stored
    return store.query(dataset=dataset), stored


def load_incidents(dataset: str | None, categories: list[str]) -> pd.DataFrame:
    """The target incidents with x/y: from the store, else a bundled dataset of that name."""
    from vigil.data.taxonomy import SERIOUS_VIOLENCE

    frame, stored = _from_store(dataset)
    source = f"the store ({dataset or ', '.join(stored)})"
    if frame is None:
        if dataset in BUNDLED:
            from vigil.data import datasets

            frame = (
                datasets.load_london_2022()
                if BUNDLED[dataset] == "london"
                else datasets.load_chicago()
            )
            source = f"bundled dataset {dataset}"
        else:
            raise DataError(
                (
                    f"no dataset {dataset!r} in the store"
                    if dataset
                    else "no --dataset given and the store is empty"
                )
                + f" (it holds: {', '.join(stored) or 'nothing'}); import one with "
                "`vigil data import` or `vigil data import-demo`, or name a "
                "bundled dataset: " + ", ".join(BUNDLED),
                field="dataset",
            )
    wanted = set(categories) if categories else set(SERIOUS_VIOLENCE)
    present = set(frame["category"].astype(str).unique())
    chosen = sorted(wanted & present)
    if not chosen:
        raise DataError(
            f"none of the categories {sorted(wanted)} occur in {source} "
            f"(it holds: {', '.join(sorted(present))}); choose with --categories",
            field="category",
        )
    frame = frame[frame["category"].astype(str).isin(chosen)].reset_index(drop=True)
    if len(frame["dataset"].astype(str).unique()) > 1 and dataset is None:
        raise DataError(
            f"the store holds several datasets ({', '.join(stored)}); choose one with --dataset",
            field="dataset",
        )
    from vigil.geo.projection import with_xy

    frame, crs = with_xy(frame)
    frame.attrs["crs"] = crs
    frame.attrs["source"] = source
    frame.attrs["categories"] = chosen
    return frame


def data_end(incidents: pd.DataFrame) -> pd.Timestamp:
    """End of the last period the data cover: the natural 'now' of a forecast."""
    from vigil.evaluate.windows import period_end

    end: pd.Timestamp = period_end(incidents).max()
    return end.ceil("D")


# ---------------------------------------------------------------------------------- commands
def forecast(
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model name (see --help of backtest). Default: the registry's DEFAULT_MODEL "
        "(recency: recency-weighted counts mixed by held-out likelihood).",
    ),
    cell: float = typer.Option(250.0, "--cell", help="Grid cell size in metres."),
    boundary_file: Path | None = typer.Option(
        None,
        "--boundary",
        help="Study area polygons (GeoJSON, shapefile, GeoPackage, KML). Default: the known "
        "boundary of London or Chicago, else a land mask of the cells near incidents.",
    ),
    horizon: str | None = typer.Option(
        None,
        "--horizon",
        help="Window length: 7d, 2w, 1M. Default: 1M for month-only data, 7d else.",
    ),
    at: str | None = typer.Option(
        None, "--at", help="Start of the forecast window (default: the end of the data)."
    ),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name in the store."),
    categories: list[str] | None = typer.Option(
        None, "--categories", help="Taxonomy codes, comma separated (default: serious violence)."
    ),
    param: list[str] | None = typer.Option(None, "--param", help="Model parameter key=value."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output prefix: PREFIX.csv/.geojson/.json (default: the data dir's forecasts/, "
        "where the web map finds it).",
    ),
    save: bool = typer.Option(False, "--save", help="Also save it for the web map (data dir)."),
    top: int = typer.Option(10, "--top", help="Top areas to print."),
    surge: bool = typer.Option(
        True,
        "--surge/--no-surge",
        help="Also run the surge scan at the window's start (999 replicas) and keep it with "
        "the forecast: a case opened on it freezes its area's 'exceptional' figure.",
    ),
    areas: str | None = typer.Option(
        None,
        "--areas",
        help="Also aggregate the grid forecast to London polygons: lsoa, ward or borough "
        "(written as PREFIX-<areas>.csv/.geojson/.json).",
    ),
) -> None:
    """Forecast expected incidents per cell for one window; write CSV, GeoJSON and JSON."""
    from vigil.evaluate.study_area import study_area, study_grid
    from vigil.evaluate.windows import check_window_precision, parse_step, past_of
    from vigil.forecast.registry import DEFAULT_MODEL, make_model
    from vigil.localtime import iso_datetime

    at_time = iso_datetime(at, "--at") if at else None  # before any data is read
    model = model or DEFAULT_MODEL
    incidents = load_incidents(dataset, _split(categories))
    crs = _crs_of(incidents)
    month_only = incidents["precision"].astype(str).eq("month").any()
    step = parse_step(horizon or ("1M" if month_only else "7d"))
    start = pd.Timestamp(at_time) if at_time is not None else data_end(incidents)
    end = start + step
    check_window_precision(incidents, start, end)
    boundary, area_name = study_area(incidents, crs, boundary_file=boundary_file)
    grid = study_grid(incidents, boundary, cell, crs)
    past = past_of(incidents, start)
    if past.empty:
        raise DataError(f"no incidents before {start.date()} to learn from")
    fitted = make_model(model, **_params(param)).fit(past, start, grid)
    surface = fitted.predict(start, end)
    surface.data_version.setdefault("study_area", area_name)
    surface.data_version.setdefault("source", incidents.attrs.get("source"))
    if surge:
        from vigil.app.exceptional import attach_scan

        surface = attach_scan(surface, past, grid)
    polygons = _areas(areas)
    saved_in_place = out is None
    if out is None:
        from vigil.app.surfaces import forecasts_dir, surface_stem
        from vigil.settings import get_settings

        # the web app's save_surface name, so PREFIX.json *is* the saved surface
        out = forecasts_dir(get_settings().data_dir) / surface_stem(surface)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = _write(surface, out)
    table = Table(title=f"{model}: expected incidents {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    for col in ("rank", "area_id", "x", "y", "risk", "long_run", "recent", "near_repeat"):
        table.add_column(col, justify="right")
    for i, (_, row) in enumerate(surface.top(top).iterrows(), start=1):
        table.add_row(
            str(i),
            str(row["area_id"]),
            f"{row['x']:.0f}",
            f"{row['y']:.0f}",
            f"{row['risk']:.3g}",
            *(
                f"{row[c]:.3g}" if c in row and pd.notna(row[c]) else ""
                for c in ("long_run", "recent", "near_repeat")
            ),
        )
    console.print(table)
    console.print(
        f"{len(surface)} cells of {cell:g} m over {area_name}; {len(past)} past incidents of "
        f"{', '.join(incidents.attrs['categories'])} from {incidents.attrs['source']}"
    )
    console.print("wrote " + ", ".join(str(p) for p in written))
    if polygons is not None:
        from vigil.forecast.areas import to_polygons

        by_area = to_polygons(surface, polygons, "area_id")
        paths = _write(by_area, out.with_name(f"{out.name}-{areas}"))
        console.print(
            f"{len(by_area)} {areas} polygons; top: "
            + ", ".join(f"{a} ({r:.3g})" for a, r in by_area.top(5)[["area_id", "risk"]].values)
        )
        console.print("wrote " + ", ".join(str(p) for p in paths))
    if save:
        if saved_in_place:  # PREFIX.json already is the map's file: don't write it twice
            saved = written[-1]
        else:
            from vigil.app.surfaces import save_surface
            from vigil.settings import get_settings

            saved = save_surface(surface, get_settings().data_dir)
        console.print(f"saved for the map: {saved}")


def backtest(
    models: list[str] = typer.Option(
        ["all"], "--models", help="Model names, comma separated, or 'all'."
    ),
    start: str = typer.Option(..., "--from", help="First origin (date)."),
    end: str = typer.Option(..., "--to", help="Origins run up to (not including) this date."),
    step: str = typer.Option("1M", "--step", help="Origin spacing: 1M, 7d, ..."),
    horizon: str | None = typer.Option(None, "--horizon", help="Window length (default: --step)."),
    cell: float = typer.Option(250.0, "--cell", help="Grid cell size in metres."),
    offsets: int = typer.Option(1, "--offsets", help="Number of diagonal grid offsets."),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name in the store."),
    categories: list[str] | None = typer.Option(
        None, "--categories", help="Taxonomy codes, comma separated (default: serious violence)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (default: local process pool)."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Local worker processes."),
    n_boot: int = typer.Option(2000, "--boot", help="Bootstrap resamples."),
    areas: str | None = typer.Option(
        None,
        "--areas",
        help="Score on London polygons instead of grid cells: lsoa, ward or borough.",
    ),
    out: Path = typer.Option(Path("backtest"), "--out", help="Output folder."),
) -> None:
    """Rolling-origin backtest of models; prints a table, writes JSON, CSV and an HTML report."""
    from vigil.evaluate.backtest import backtest as run_backtest
    from vigil.evaluate.report import write_report
    from vigil.evaluate.study_area import study_area
    from vigil.forecast.registry import MODELS

    names = _split(models)
    explicit = names != ["all"]
    if not explicit:
        names = list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ModelInputError(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    incidents = load_incidents(dataset, _split(categories))
    crs = _crs_of(incidents)
    boundary, area_name = study_area(incidents, crs)
    result = run_backtest(
        incidents,
        names,
        start=start,
        end=end,
        step=step,
        horizon=horizon,
        cell=cell,
        boundary=boundary,
        crs=crs,
        offsets=offsets,
        workers=workers,
        scheduler=scheduler,
        n_boot=n_boot,
        skip_incompatible=not explicit,
        areas=_areas(areas),
        areas_name=areas or "areas",
    )
    result.config["study_area"] = area_name
    result.config["source"] = incidents.attrs.get("source")
    result.config["categories"] = incidents.attrs.get("categories")
    print_summary(result)
    paths = write_report(result, out)
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))


def print_summary(result: Any) -> None:
    """Rich tables of mean scores and of the comparison with the best baseline."""
    s = result.summary()
    table = Table(
        title=f"Backtest: {len(result.config['origins'])} origins x "
        f"{len(result.config['offsets'])} offsets, {result.config['horizon']} windows"
    )
    table.add_column("model")
    fr = [f for f in (0.01, 0.05) if f in result.fractions] or list(result.fractions[:2])
    cols = [(f"hit_rate@{f:g}", f"hit {100 * f:g}%") for f in fr]
    cols += [(f"pai@{fr[0]:g}", f"PAI {100 * fr[0]:g}%"), (f"pei_star@{fr[0]:g}", "PEI*")]
    cols += [("log_likelihood", "log-lik"), (f"stability@{fr[-1]:g}", "stable"), ("fit_s", "fit s")]
    cols = [(c, label) for c, label in cols if c in s]
    for _, label in cols:
        table.add_column(label, justify="right")
    for _, row in s.iterrows():
        table.add_row(
            str(row["model"]),
            *(
                f"{100 * row[c]:.1f}%" if c.startswith("hit_rate") else f"{row[c]:.3g}"
                for c, _ in cols
            ),
        )
    console.print(table)
    cmp = result.comparison
    if not cmp.empty:
        t2 = Table(title="Difference in hit rate from the best baseline (95% bootstrap CI)")
        for c in ("area", "model", "best baseline", "diff (points)", "relative"):
            t2.add_column(c, justify="right")
        from vigil.evaluate.backtest import BASELINES

        records = cmp.to_dict(orient="records")
        # the point is how new models fare; baselines against each other only if nothing else ran
        if any(r["model"] not in BASELINES for r in records):
            records = [r for r in records if r["model"] not in BASELINES]
        for rec in records:
            if rec["model"] == rec["best_baseline"]:
                continue
            t2.add_row(
                f"{100 * rec['fraction']:g}%",
                str(rec["model"]),
                str(rec["best_baseline"]),
                _ci(rec, "diff", "{:+.2f}"),
                _ci(rec, "rel", "{:+.1f}%"),
            )
        console.print(t2)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")


def _areas(name: str | None) -> Any:
    if name is None:
        return None
    from vigil.geo import areas as geo_areas

    loaders = {
        "lsoa": geo_areas.london_lsoas,
        "ward": geo_areas.london_wards,
        "borough": geo_areas.london_boroughs,
    }
    if name not in loaders:
        raise ModelInputError(f"--areas {name!r}: choose one of {', '.join(loaders)}")
    return loaders[name]()


def _ci(rec: dict[str, Any], key: str, fmt: str) -> str:
    """``value [lo, hi]`` in percent (points for differences)."""
    lo, mid, hi = (fmt.format(100 * rec[k]) for k in (f"{key}_lo", key, f"{key}_hi"))
    return f"{mid} [{lo}, {hi}]"


EXTENSIONS = (".csv", ".geojson", ".json")


def _write(surface: RiskSurface, prefix: Path) -> list[Path]:
    """``surface`` as PREFIX.csv, PREFIX.geojson and PREFIX.json (its snapshot)."""
    csv, geojson, snapshot = (prefix.with_name(prefix.name + ext) for ext in EXTENSIONS)
    surface.to_csv(csv)
    surface.to_geojson(geojson)
    surface.to_json(snapshot)
    return [csv, geojson, snapshot]


def _crs_of(incidents: pd.DataFrame) -> str:
    return str(incidents.attrs["crs"])


def register(app: typer.Typer) -> None:
    """Add the top-level forecasting commands to ``app``."""
    app.command("forecast")(forecast)
    app.command("backtest")(backtest)
