"""Uploads of source layers (districts … villager groups), imported all or nothing."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from api.deps import Planner, Principal, SessionDep, SettingsDep
from api.errors import ForbiddenError, PayloadTooLargeError, UnsupportedMediaTypeError
from api.schemas import ImportResult
from api.settings import Settings
from api.uploads import check_archive
from geogrid import access
from geogrid.geo import io
from geogrid.errors import InputError
from geogrid.store import imports

router = APIRouter(prefix="/api/v1", tags=["Imports"])
CHUNK = 1024 * 1024
MAX_LISTED = 20
GENERIC_TYPES = {"", "application/octet-stream"}
CONTENT_TYPES = {  # file suffix -> media types a client may declare for it
    ".geojson": {"application/geo+json", "application/json"},
    ".json": {"application/geo+json", "application/json"},
    ".gpkg": {"application/geopackage+sqlite3", "application/x-sqlite3", "application/vnd.sqlite3"},
    ".zip": {"application/zip", "application/x-zip-compressed", "application/x-zip"},
    ".csv": {"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain"},
}
SIGNATURES = {".zip": (b"PK\x03\x04", b"PK\x05\x06"), ".gpkg": (b"SQLite format 3\x00",)}
DOC = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                **{kind: {"type": "string", "format": "binary"} for kind in imports.KINDS},
                "input_crs": {"type": "string", "description": "e.g. EPSG:4490, gcj02 or bd09"},
            },
        }
    }
}


@router.post(
    "/imports",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    summary="Import layers (all or nothing)",
    openapi_extra={"requestBody": {"content": DOC, "required": True}},
    responses={
        400: {"description": "unsafe zip"},
        413: {"description": "too large"},
        415: {"description": "wrong content type"},
        422: {"description": "bad rows"},
    },
)
async def import_layers(request: Request, user: Planner, session: SessionDep, settings: SettingsDep) -> ImportResult:
    """Upload one file per layer kind as multipart form fields named districts, streets, communities,
    buildings, roads or villager_groups (GeoJSON, GeoPackage, zipped Shapefile or lon/lat CSV), with an
    optional input_crs. One bad row anywhere rejects the whole upload with a list of every bad row,
    and the store stays as it was."""
    _check_multipart(request)
    limit = settings.max_upload_mb * 1024 * 1024
    form = await _read_form(request, limit, settings.max_upload_mb)
    try:
        with tempfile.TemporaryDirectory(prefix="geogrid-upload-") as folder:
            paths, input_crs = await _save_uploads(form, Path(folder), settings)
            counts = await run_in_threadpool(_import, session, paths, input_crs, user, folder)
    finally:
        await form.close()
    return ImportResult(imported=counts)


def _check_multipart(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"send the files as multipart/form-data (one field per layer kind), not {media_type or 'no content type'}"
        )


async def _read_form(request: Request, limit: int, limit_mb: int) -> FormData:
    """The multipart form, refusing (413) as soon as the body passes limit bytes."""
    too_large = PayloadTooLargeError(f"the upload is larger than the limit of {limit_mb} MB (GEOGRID_MAX_UPLOAD_MB)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise too_large
        return message

    return await Request(request.scope, receive).form(max_files=len(imports.KINDS), max_fields=len(imports.KINDS) + 1)


async def _save_uploads(form: FormData, folder: Path, settings: Settings) -> tuple[dict[str, Path], str | None]:
    """Each uploaded file saved under folder/<kind>/, checked for type and zip safety; and the input CRS."""
    unknown = sorted({k for k in form if k not in imports.KINDS and k != "input_crs"})
    if unknown:
        raise InputError(f"unknown form field(s) {', '.join(unknown)}; use {', '.join(imports.KINDS)} and input_crs")
    paths: dict[str, Path] = {}
    for kind in (k for k in imports.KINDS if k in form):
        uploads = form.getlist(kind)
        if len(uploads) > 1 or not isinstance(uploads[0], UploadFile):
            raise InputError(f"field {kind} must be one file")
        paths[kind] = await _save(uploads[0], kind, folder / kind)
        check_archive(paths[kind], f"{kind} file {paths[kind].name!r}", settings)
    if not paths:
        raise InputError(f"no files: send at least one of {', '.join(imports.KINDS)} as a file field")
    crs = form.get("input_crs")
    return paths, (str(crs).strip() or None) if crs is not None else None


async def _save(upload: UploadFile, kind: str, folder: Path) -> Path:
    """The upload written to folder under its own base name, after its type is checked (415)."""
    name = Path((upload.filename or "").replace("\\", "/")).name or kind
    suffix = Path(name).suffix.lower()
    label = f"{kind} file {name!r}"
    if suffix not in CONTENT_TYPES:
        raise UnsupportedMediaTypeError(f"{label}: unsupported file type; use {io.SUPPORTED} (a Shapefile zipped)")
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES | CONTENT_TYPES[suffix]:
        raise UnsupportedMediaTypeError(f"{label}: declared as {declared}, which is not a {suffix} file's type")
    folder.mkdir(parents=True)
    path = folder / name
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            out.write(chunk)
    _check_signature(path, suffix, label)
    return path


def _check_signature(path: Path, suffix: str, label: str) -> None:
    """415 when the file's first bytes contradict its name (an image called .geojson, text called .zip)."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        return  # empty files are reported by the reader, as bad input
    if suffix in SIGNATURES:
        ok = head.startswith(SIGNATURES[suffix])
    elif suffix in (".geojson", ".json"):
        ok = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    else:
        ok = b"\x00" not in head
    if not ok:
        raise UnsupportedMediaTypeError(f"{label}: the content is not a {suffix} file")


def _import(
    session: Any, paths: dict[str, Path], input_crs: str | None, user: Principal, folder: str
) -> dict[str, int]:
    """Check scope, then import every layer in the request's transaction; messages name the uploaded files."""
    try:
        _check_scope(paths, input_crs, user)
        return imports.import_files(session, paths, input_crs, username=user.username)
    except InputError as exc:
        raise InputError(re.sub(re.escape(folder) + r"/[a-z_]+/", "", str(exc))) from None


def _check_scope(paths: dict[str, Path], input_crs: str | None, user: Principal) -> None:
    """403 when a row's area code lies outside the uploader's scope (unreadable files are left to the import)."""
    if access.acts_everywhere(user):
        return
    found = imports.area_codes(paths, input_crs)
    outside = [f"{kind} {code}" for kind in paths for code in found.get(kind, []) if not user.covers(code)]
    if outside:
        more = f" and {len(outside) - MAX_LISTED} more" if len(outside) > MAX_LISTED else ""
        raise ForbiddenError(
            f"rows outside your scope ({user.scope}): {', '.join(outside[:MAX_LISTED])}{more}; nothing was imported"
        )
