"""One uploaded file saved to a temporary folder, refused (413) past the configured size."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from api.errors import PayloadTooLargeError
from api.settings import Settings


@contextmanager
def saved_upload(file: UploadFile, settings: Settings, default_name: str) -> Iterator[Path]:
    """The upload as a file (under its own base name) in a temporary folder removed afterwards."""
    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="geogrid-upload-") as folder:
        path = Path(folder) / Path(file.filename or default_name).name
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLargeError(f"the file is larger than {settings.max_upload_mb} MB")
        path.write_bytes(data)
        yield path
