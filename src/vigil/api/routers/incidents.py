"""Incident data: what the store holds, and uploads of incident files.

An upload streams to disk chunk by chunk (never whole in memory) under ``<data_dir>/uploads``,
then imports in a background thread through ``IncidentStore.import_file``, the same call as
``vigil data import``; the client polls the job for progress. The store's own rule holds: a
file's rows land all together or not at all.

A column mapping is chosen by name (``mapping=``) from the shipped set or from mappings uploaded
as YAML content (``POST /api/incidents/mappings``); a server path is never accepted.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from vigil.app.audit import record_read
from vigil.app.context import AppContext
from vigil.audit.log import Category
from vigil.cases.policy import Action
from vigil.data.csvio import ImportLimits
from vigil.data.mapping import (
    MAX_MAPPING_BYTES,
    ColumnMapping,
    mapping_by_name,
    save_uploaded_mapping,
    shipped_mappings,
    uploaded_mappings,
)
from vigil.errors import DataError, VigilError
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.http.errors import NotFound
from vigil.roles import Actor

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

#: largest upload accepted (a year of a large force's police.uk zip is well under this)
MAX_UPLOAD_BYTES = 2 * 1024**3
FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(csv|csv\.gz|zip)$")
DATASET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class UploadTooLarge(DataError):
    """The upload is bigger than MAX_UPLOAD_BYTES."""


@dataclass
class ImportJob:
    id: str
    dataset: str
    filename: str
    bytes_received: int
    state: str = "queued"  # queued | importing | done | failed
    stage: str = ""
    done: float = 0.0
    total: float = 0.0
    started: float = field(default_factory=time.time)
    result: dict[str, Any] | None = None
    error: str | None = None


class SummaryOut(BaseModel):
    """Stored incidents: the total, and rows (values as text, null where missing) by dataset,
    month, category, area and import."""

    model_config = ConfigDict(extra="forbid")

    total: int
    by_dataset: list[dict[str, str | None]]
    by_month: list[dict[str, str | None]]
    by_category: list[dict[str, str | None]]
    by_area: list[dict[str, str | None]]
    imports: list[dict[str, str | None]]


class ImportJobOut(BaseModel):
    """An upload's import as the client polls it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    dataset: str
    filename: str
    bytes_received: int
    state: str
    stage: str
    done: float
    total: float
    started: float
    result: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        return cls(**asdict(job))


class MappingsOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipped: list[str]
    uploaded: list[str]


class MappingOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str


def _store(ctx: AppContext):  # type: ignore[no-untyped-def]
    from vigil.data.store import IncidentStore

    return IncidentStore(ctx.settings.store_dir, ctx.clock)


def _jobs(ctx: AppContext) -> dict[str, ImportJob]:
    jobs: dict[str, ImportJob] = ctx.cached("import-jobs", dict)
    return jobs


def _mappings_dir(ctx: AppContext) -> Path:
    """Where mappings uploaded as YAML content are kept."""
    return ctx.settings.data_dir / "mappings"


def _printable(message: str | None, limit: int = 500) -> str | None:
    """An error message fit for the log: no NUL (PostgreSQL text cannot hold one), bounded."""
    return None if message is None else message.replace("\x00", "\\x00")[:limit]


def _run_import(
    ctx: AppContext,
    actor: Actor,
    job: ImportJob,
    path: Path,
    fmt: str | None,
    mapping: ColumnMapping | None,
) -> None:
    def progress(stage: str, done: float, total: float) -> None:
        job.stage, job.done, job.total = stage, float(done), float(total)

    job.state = "importing"
    try:
        result = _store(ctx).import_file(
            path,
            mapping,
            format=fmt,
            dataset=job.dataset,
            progress=progress,
            limits=ImportLimits.from_settings(ctx.settings),
        )
        job.result = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()}
        job.state = "done"
    except VigilError as exc:
        job.error, job.state = str(exc), "failed"
    except Exception as exc:  # an unreadable file must fail the job, not the server
        job.error, job.state = f"could not read {job.filename}: {exc}", "failed"
    finally:
        path.unlink(missing_ok=True)
        outcome = {k: v for k, v in (job.result or {}).items() if isinstance(v, int | float)}
        record_read(
            ctx,
            actor,
            "incidents.import",
            category=Category.COLLECTION,
            detail={"job": job.id, "state": job.state, "error": _printable(job.error), **outcome},
        )


@router.get("/summary", response_model=SummaryOut)
def summary(
    dataset: str | None = Query(None, max_length=64),
    _: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> SummaryOut:
    """Stored incidents by dataset, month, category and area."""
    if dataset is not None and not DATASET.match(dataset):
        raise DataError(f"dataset name {dataset!r} is not valid", field="dataset")
    return SummaryOut(**_store(ctx).summary(dataset).as_dict())


@router.post(
    "/uploads",
    status_code=202,
    response_model=ImportJobOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    filename: str = Query(..., max_length=128, description="e.g. 2022-01-metropolitan-street.csv"),
    dataset: str = Query(..., max_length=64),
    format: str | None = Query(None, description="police-uk or police-uk-stop-search"),
    mapping: str | None = Query(
        None, description="a column mapping's name: shipped, or uploaded as YAML content"
    ),
    principal: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS),
    ctx: AppContext = Depends(get_ctx),
) -> ImportJobOut:
    """Stream the request body to disk, then import it in the background; poll the job. The
    upload and the import's outcome are audited."""
    if not FILENAME.match(filename):
        raise DataError(
            f"file name {filename!r}: use letters, digits, '.', '_' or '-' ending .csv, "
            ".csv.gz or .zip",
            field="filename",
        )
    if not DATASET.match(dataset):
        raise DataError(f"dataset name {dataset!r} is not valid", field="dataset")
    if format is not None and mapping is not None:
        raise DataError("give a format or a mapping, not both", field="format")
    # resolved by name before a byte is read, and never as a path
    cmap = mapping_by_name(mapping, _mappings_dir(ctx)) if mapping is not None else None
    folder = ctx.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    job = ImportJob(id=uuid.uuid4().hex, dataset=dataset, filename=filename, bytes_received=0)
    path = folder / f"{job.id}-{filename}"
    try:
        with path.open("wb") as out:
            async for chunk in request.stream():
                job.bytes_received += len(chunk)
                if job.bytes_received > MAX_UPLOAD_BYTES:
                    raise UploadTooLarge(
                        f"upload is larger than {MAX_UPLOAD_BYTES // 1024**2} MiB", file=filename
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if job.bytes_received == 0:
        path.unlink(missing_ok=True)
        raise DataError("the upload is empty", file=filename)
    _jobs(ctx)[job.id] = job
    record_read(
        ctx,
        principal.actor,
        "incidents.upload",
        category=Category.COLLECTION,
        detail={
            "job": job.id,
            "dataset": dataset,
            "filename": filename,
            "bytes": job.bytes_received,
            "format": format,
            "mapping": mapping,
        },
    )
    threading.Thread(
        target=_run_import, args=(ctx, principal.actor, job, path, format, cmap), daemon=True
    ).start()
    return ImportJobOut.of(job)


@router.get("/uploads/{job_id}", response_model=ImportJobOut)
def upload_status(
    job_id: str,
    _: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS),
    ctx: AppContext = Depends(get_ctx),
) -> ImportJobOut:
    job = _jobs(ctx).get(job_id)
    if job is None:
        raise NotFound(f"no upload job '{job_id}'")
    return ImportJobOut.of(job)


@router.get("/mappings", response_model=MappingsOut)
def list_mappings(
    _: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS), ctx: AppContext = Depends(get_ctx)
) -> MappingsOut:
    """The mapping names an upload may use: shipped with Vigil, and uploaded as YAML."""
    return MappingsOut(shipped=shipped_mappings(), uploaded=uploaded_mappings(_mappings_dir(ctx)))


@router.post(
    "/mappings",
    status_code=201,
    response_model=MappingOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/yaml": {"schema": {}}}}
    },
)
async def upload_mapping(
    request: Request,
    principal: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS),
    ctx: AppContext = Depends(get_ctx),
) -> MappingOut:
    """Store a column mapping sent as YAML content (validated; at most 64 KiB); uploads then
    choose it by its ``name``. It may not shadow a shipped mapping nor name a boundary file.
    Storing it is audited (who, the name, the content's SHA-256)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_MAPPING_BYTES:
            raise DataError(
                f"mapping is larger than {MAX_MAPPING_BYTES // 1024} KiB", field="mapping"
            )
    cmap = save_uploaded_mapping(bytes(body), _mappings_dir(ctx))
    record_read(
        ctx,
        principal.actor,
        "incidents.mapping.upload",
        category=Category.COLLECTION,
        detail={
            "name": cmap.name,
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        },
    )
    return MappingOut(name=cmap.name, description=cmap.description)
