"""Case photos: upload one (checked, stripped of EXIF, with a thumbnail), and show it to those who may see its case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import FileResponse, Response, StreamingResponse

from api.deps import CurrentUser, PhotoStoreDep, SessionDep, SettingsDep
from api.errors import NotFoundError
from geogrid.incidents import photos
from geogrid.store import media

router = APIRouter(tags=["Incidents"])
CACHE = {"Cache-Control": "private, max-age=86400"}


@router.post("/api/v1/media", status_code=status.HTTP_201_CREATED, summary="Upload a photo for a report or a step",
             responses={503: {"description": "the photo store (local folder or S3 bucket) cannot keep it now"}})
def upload_photo(
    user: CurrentUser,
    settings: SettingsDep,
    store: PhotoStoreDep,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo (its type is read from its content)")],
) -> dict[str, Any]:
    """Keep a photo and answer its URL, to name in a report's or a step's media_urls. Its type is read from its
    content, its size limited (GEOGRID_MAX_PHOTO_MB), and what is kept carries no EXIF (no GPS position); a
    thumbnail is made for lists. Until a case names it, only its uploader may see it. When the photo store fails,
    503 names it and nothing is kept."""
    limit = settings.max_photo_mb * 1024 * 1024
    data = file.file.read(limit + 1)
    photo = photos.prepare(data, limit)
    stored = media.save(store, photo, user.username)
    return {"url": stored.url, "thumbnail_url": stored.thumbnail_url, "width": stored.width, "height": stored.height,
            "media_type": photo.media_type, "location_removed": photo.had_location}


@router.get("/media/{name}", summary="A case photo or its thumbnail", response_class=FileResponse,
            responses={503: {"description": "the photo store (local folder or S3 bucket) cannot be read now"}})
def show_photo(
    name: str,
    user: CurrentUser,
    session: SessionDep,
    store: PhotoStoreDep,
    size: Annotated[str, Query(pattern="^(full|thumbnail)$")] = "full",
) -> Response:
    """The photo, to its uploader and to whoever may see a case that names it; 404 for everyone else. It always
    comes through this server, which checks who asks (a bucket's photos are streamed, never linked to)."""
    if not media.may_see(session, store, user, name):
        raise NotFoundError(f"no photo {name!r}")
    thumbnail = size == "thumbnail"
    blob = media.read(store, name, thumbnail=thumbnail)
    if blob is None:
        raise NotFoundError(f"no photo {name!r}")
    media_type = media.media_type_of(name, thumbnail)
    if blob.path is not None:
        return FileResponse(blob.path, media_type=media_type, headers=CACHE)
    return StreamingResponse(blob.chunks, media_type=media_type,
                             headers=CACHE | {"Content-Length": str(blob.size)})
