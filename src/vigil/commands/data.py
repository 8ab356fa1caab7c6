"""`vigil data ...`: import incident files into the store and summarise them.

A thin shell over :class:`vigil.data.store.IncidentStore`: options in, a Rich progress bar while
files are read (block by block), checked and written, and Rich tables out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from vigil.data.csvio import ProgressFn
from vigil.data.datasets import LONDON_2022_FILE
from vigil.data.mapping import load_mapping, shipped_mappings
from vigil.data.store import FORMATS, ImportResult, IncidentStore
from vigil.errors import DataError
from vigil.settings import get_settings

app = typer.Typer(
    help="Import incident files into the store and summarise them.", no_args_is_help=True
)
console = Console()

_KIND_LABEL = {"read": "reading", "check": "checking", "write": "writing"}


@app.callback()
def _group() -> None:
    """data commands."""


def _store() -> IncidentStore:
    return IncidentStore(get_settings().store_dir)


@contextmanager
def _progress() -> Iterator[ProgressFn]:
    """A ProgressFn that drives one Rich bar per kind of step (read, check, write)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: str, completed: float, total: float) -> None:
            kind, _, name = step.partition(":")
            label = f"{_KIND_LABEL.get(kind, kind)} {name}".strip()
            if kind not in tasks:
                tasks[kind] = bar.add_task(label, total=total)
            bar.update(tasks[kind], completed=completed, total=total, description=label)

        yield update


def _report(res: ImportResult) -> None:
    what = "stop-and-search records" if res.kind == "stop_search" else "incidents"
    console.print(
        f"[green]imported[/] {res.rows_imported:,} {what} into dataset "
        f"[bold]{res.dataset}[/] from {len(res.files)} file(s) in {res.seconds:.1f} s"
    )
    console.print(f"  rows read: {res.rows_read:,}")
    if res.rows_dropped_outside_region:
        console.print(
            f"  dropped outside region (mapping's documented filter): "
            f"{res.rows_dropped_outside_region:,}"
        )
    if res.rows_duplicate:
        console.print(f"  already stored from another file (duplicates): {res.rows_duplicate:,}")
    if res.rows_rejected:
        console.print(
            f"  [yellow]rejected bad rows: {res.rows_rejected:,}[/] "
            f"(rows, fields and reasons in {res.rejects_path})"
        )


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="CSV (.csv or .csv.gz), folder of CSVs or police.uk zip"),
    mapping: str | None = typer.Option(
        None, "--mapping", "-m", help="column mapping: a YAML file or a shipped mapping name"
    ),
    format: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help=f"a known file format instead of a mapping: {', '.join(FORMATS)}",
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="dataset name (default: the mapping's name or the path)"
    ),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="set bad rows aside (with reasons) instead of failing"
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="CSV file for rejected rows (default under the data directory)"
    ),
) -> None:
    """Import incident (or police.uk stop-and-search) files; a bad row fails the whole file
    with its file, row and field, unless --skip-bad-rows."""
    if mapping is not None:
        load_mapping(mapping)  # fail before reading anything if the mapping is wrong
    with _progress() as progress:
        res = _store().import_file(
            path,
            mapping,
            format=format,
            dataset=dataset,
            skip_bad_rows=skip_bad_rows,
            rejects_path=rejects,
            progress=progress,
        )
    _report(res)


@app.command("import-demo")
def import_demo(
    stop_search: bool = typer.Option(
        False, "--stop-search", help="also import the Met stop-and-search files (2015-2016)"
    ),
) -> None:
    """Import the bundled London 2022 street crime (met-street-2022) with its shipped mapping."""
    shared = Path(get_settings().shared_data)
    path = shared / LONDON_2022_FILE
    if not path.is_file():
        raise DataError(
            "bundled London 2022 file not found (set VIGIL_SHARED_DATA)", file=str(path)
        )
    store = _store()
    with _progress() as progress:
        res = store.import_file(path, "met-street-2022", progress=progress)
    _report(res)
    if stop_search:
        with _progress() as progress:
            ss = store.import_stop_search(
                shared / "met-stop-search-2015-2016", dataset="met-stop-search", progress=progress
            )
        _report(ss)


@app.command("summary")
def summary(
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="only this dataset"),
    top: int = typer.Option(10, "--top", help="how many areas to list"),
) -> None:
    """Counts of stored incidents by dataset, month, category and area.

    Counts are of stored rows: rows read, less those a mapping's documented region filter
    dropped, less rejected bad rows, less duplicates already stored.
    """
    store = _store()
    s = store.summary(dataset)
    if dataset is None:
        ss = store.stop_search_summary()
        if len(ss):
            t = Table(title="Stored stop-and-search records")
            for c in ("dataset", "records", "first", "last", "with location"):
                t.add_column(c, justify="right" if c in ("records", "with location") else "left")
            for r in ss.itertuples(index=False):
                first, last = f"{r.first:%Y-%m-%d}", f"{r.last:%Y-%m-%d}"
                t.add_row(str(r.dataset), f"{r.records:,}", first, last, f"{r.located:.0%}")
            console.print(t)
    if s.total == 0:
        console.print("no incidents stored: run `vigil data import` or `vigil data import-demo`")
        return
    t = Table(title=f"Stored incidents: {s.total:,}")
    for c in ("dataset", "incidents", "first", "last", "files"):
        t.add_column(c, justify="right" if c in ("incidents", "files") else "left")
    for r in s.by_dataset.itertuples(index=False):
        t.add_row(
            str(r.dataset),
            f"{r.incidents:,}",
            f"{r.first:%Y-%m-%d}",
            f"{r.last:%Y-%m-%d}",
            str(r.files),
        )
    console.print(t)
    if len(s.imports):
        t = Table(title="Imports (rows read -> stored)")
        for c in ("dataset", "file", "read", "outside region", "rejected", "duplicate", "stored"):
            t.add_column(c, justify="left" if c in ("dataset", "file") else "right")
        for r in s.imports.itertuples(index=False):
            t.add_row(
                str(r.dataset),
                str(r.source_file),
                f"{r.rows_read:,}",
                f"{r.rows_dropped_outside_region:,}",
                f"{r.rows_rejected:,}",
                f"{r.rows_duplicate:,}",
                f"{r.rows_stored:,}",
            )
        console.print(t)
    t = Table(title="By month")
    t.add_column("month")
    t.add_column("incidents", justify="right")
    for r in s.by_month.itertuples(index=False):
        t.add_row(f"{r.month:%Y-%m}", f"{r.incidents:,}")
    console.print(t)
    t = Table(title="By category")
    for c in ("category", "label", "comes to notice", "incidents"):
        t.add_column(c, justify="right" if c == "incidents" else "left")
    for r in s.by_category.itertuples(index=False):
        t.add_row(
            str(r.category), str(r.label), str(r.origin).replace("_", " "), f"{r.incidents:,}"
        )
    console.print(t)
    n_areas = int(s.by_area["area_code"].notna().sum())
    t = Table(title=f"By area: top {min(top, len(s.by_area))} of {n_areas:,} areas")
    t.add_column("area")
    t.add_column("incidents", justify="right")
    for r in s.by_area.head(top).itertuples(index=False):
        t.add_row(
            r.area_code if isinstance(r.area_code, str) else "(none)",
            f"{r.incidents:,}",
        )
    console.print(t)


@app.command("datasets")
def datasets() -> None:
    """The datasets in the store and the shipped column mappings."""
    store = _store()
    t = Table(title=f"Store: {store.root}")
    t.add_column("dataset")
    t.add_column("kind")
    for kind in ("incidents", "stop_search"):
        for name in store.datasets(kind):
            t.add_row(name, kind)
    console.print(t)
    console.print("shipped mappings: " + ", ".join(shipped_mappings()))


@app.command("drop")
def drop(
    dataset: str = typer.Argument(..., help="dataset to remove from the store"),
    stop_search: bool = typer.Option(
        False, "--stop-search", help="the dataset is a stop-and-search one"
    ),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Remove a dataset's stored files (the source files are not touched)."""
    store = _store()
    kind = "stop_search" if stop_search else "incidents"
    if dataset not in store.datasets(kind):
        known = ", ".join(store.datasets(kind)) or "none"
        raise DataError(f"no dataset named {dataset!r} (stored: {known})", field="dataset")
    if not yes:
        typer.confirm(f"remove dataset {dataset} from {store.root}?", abort=True)
    n = store.drop_dataset(dataset, kind)
    console.print(f"removed dataset [bold]{dataset}[/] ({n} files)")
