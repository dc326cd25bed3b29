"""Uploaded files: saved to a temporary folder removed at once afterwards, and archives (zip, xlsx) checked before
anything parses them; the one guard of every upload path (layers, cameras, hotline exports)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from api.errors import BadRequestError, PayloadTooLargeError
from api.settings import Settings
from geogrid.geo import io

CHUNK = 1024 * 1024
ARCHIVES = (".zip", ".xlsx")  # files that unpack: a zipped Shapefile, an Excel workbook
MAX_LISTED = 20


@contextmanager
def saved_upload(file: UploadFile, settings: Settings, default_name: str) -> Iterator[Path]:
    """The upload as a file (under its own base name) in a temporary folder removed afterwards, refused (413) past
    the upload limit and (400) when it is an unsafe archive."""
    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="geogrid-upload-") as folder:
        path = Path(folder) / safe_name(file.filename, default_name)
        written = 0
        with path.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise PayloadTooLargeError(f"the file is larger than {settings.max_upload_mb} MB")
                out.write(chunk)
        check_archive(path, f"file {path.name!r}", settings)
        yield path


def safe_name(filename: str | None, default_name: str) -> str:
    """The upload's own base name (never a path), or default_name."""
    return Path((filename or "").replace("\\", "/")).name.lstrip(".") or default_name


def check_archive(path: Path, label: str, settings: Settings) -> None:
    """400 for a zip or xlsx that is damaged, has member paths climbing out of it, too many members, or unpacks to
    more than the unpacked limit, or to far more than its size and past the upload limit; nothing else is read."""
    if path.suffix.lower() not in ARCHIVES:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadRequestError(f"{label}: not a valid zip archive ({exc})") from None
    unsafe = [m.filename for m in members if io.unsafe_member(m.filename)]
    if unsafe:
        raise BadRequestError(f"{label}: the archive has member paths that climb out of it: "
                              f"{', '.join(unsafe[:MAX_LISTED])}")
    if len(members) > settings.max_archive_members:
        raise BadRequestError(f"{label}: the archive holds {len(members)} files, more than "
                              f"{settings.max_archive_members} (GEOGRID_MAX_ARCHIVE_MEMBERS)")
    unpacked, size = sum(m.file_size for m in members), path.stat().st_size
    if unpacked > settings.max_unpacked_mb * 1024 * 1024:
        raise BadRequestError(f"{label}: the archive unpacks to {unpacked / 1024**2:.0f} MB, more than "
                              f"{settings.max_unpacked_mb} MB (GEOGRID_MAX_UNPACKED_MB); refusing it")
    if unpacked > io.ZIP_MAX_RATIO * size and unpacked > settings.max_upload_mb * 1024 * 1024:
        raise BadRequestError(f"{label}: the archive unpacks to {unpacked / 1024**2:.0f} MB, over "
                              f"{io.ZIP_MAX_RATIO} times its size and over the upload limit; refusing it")


def remove_now(folder: str | Path) -> None:
    """Remove a temporary folder at once (also when a request fails)."""
    shutil.rmtree(folder, ignore_errors=True)
