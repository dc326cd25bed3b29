"""Case photos kept by the service, in its photo store (a local folder or an S3 bucket: geogrid/store/photo_store.py),
each with who uploaded it; who may see one; whether the photos a case names are kept."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from geogrid import access
from geogrid.db.models import Incident, IncidentEvent
from geogrid.errors import InputError
from geogrid.incidents.photos import Photo
from geogrid.incidents.reports import STORED_MEDIA_PREFIX
from geogrid.store.incidents import visible_to
from geogrid.store.photo_store import Blob, PhotoStore, StoreUnavailable

NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")  # the names we give: nothing else is ever opened
THUMBS = "thumbs"
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
THUMBNAIL_TYPE = "image/jpeg"


@dataclass(frozen=True)
class Stored:
    """A kept photo: its URL path on this server, its thumbnail's, its size in pixels."""

    url: str
    thumbnail_url: str
    width: int
    height: int


def save(store: PhotoStore, photo: Photo, username: str) -> Stored:
    """Keep the photo (and its thumbnail, and who uploaded it) under a new random name in the store: all of it or,
    when the store fails (StoreUnavailable), nothing. The photo itself is written last, so a kept photo always has
    its thumbnail and uploader."""
    name = secrets.token_hex(16) + photo.suffix
    parts = [(f"{THUMBS}/{name}", photo.thumbnail, THUMBNAIL_TYPE),
             (name + ".json", json.dumps({"uploaded_by": username}).encode(), "application/json"),
             (name, photo.content, photo.media_type)]
    written: list[str] = []
    try:
        for key, data, media_type in parts:
            store.put(key, data, media_type)
            written.append(key)
    except StoreUnavailable:
        for key in written:
            try:
                store.delete(key)
            except StoreUnavailable:
                pass  # a thumbnail or uploader without its photo is never served
        raise
    url = STORED_MEDIA_PREFIX + name
    return Stored(url, url + "?size=thumbnail", photo.width, photo.height)


def read(store: PhotoStore, name: str, thumbnail: bool = False) -> Blob | None:
    """A kept photo (or its thumbnail), or None when name is not one of ours or no such photo is kept."""
    if not NAME.fullmatch(name):
        return None
    return store.get(f"{THUMBS}/{name}" if thumbnail else name)


def media_type_of(name: str, thumbnail: bool = False) -> str:
    """The media type of the photo called name (a thumbnail is always JPEG)."""
    return THUMBNAIL_TYPE if thumbnail else MEDIA_TYPES[name[name.rindex("."):]]


def uploader(store: PhotoStore, name: str) -> str | None:
    """Who uploaded the photo called name."""
    blob = store.get(name + ".json")
    if blob is None:
        return None
    try:
        return json.loads(blob.read()).get("uploaded_by")
    except (ValueError, AttributeError):
        return None


def may_see(session: Session, store: PhotoStore, user: access.User, name: str) -> bool:
    """Whether user may see the photo: they uploaded it, or it belongs to a case they may see (its report, or a step
    or "me too" of its trace)."""
    if not NAME.fullmatch(name):
        return False
    if uploader(store, name) == user.username:
        return True
    pattern = f"%{STORED_MEDIA_PREFIX}{name}%"
    in_events = select(IncidentEvent.incident_id).where(cast(IncidentEvent.data, String).like(pattern))
    query = select(Incident.id).where(
        visible_to(user), or_(cast(Incident.media_urls, String).like(pattern), Incident.id.in_(in_events)))
    return session.scalar(query.limit(1)) is not None


def require_kept(store: PhotoStore, urls: Iterable[str]) -> None:
    """InputError naming the first of urls that is a path under our stored media but no photo kept in the store
    (so no case names a photo that was never stored); StoreUnavailable when the store cannot say. Other (http)
    URLs are the caller's."""
    for url in urls:
        if not url.startswith(STORED_MEDIA_PREFIX):
            continue
        name = url.removeprefix(STORED_MEDIA_PREFIX).split("?", 1)[0]
        if not NAME.fullmatch(name) or not store.exists(name):
            raise InputError(f"media_urls: {url[:80]!r} is no photo kept here: upload it to POST /api/v1/media "
                             "and name the url it answers")
