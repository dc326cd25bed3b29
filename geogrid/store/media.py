"""Case photos kept by the service: files in the media folder, each with who uploaded it; who may see one."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from geogrid import access
from geogrid.db.models import Incident, IncidentEvent
from geogrid.incidents.photos import Photo
from geogrid.incidents.reports import STORED_MEDIA_PREFIX
from geogrid.store.incidents import visible_to

NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")  # the names we give: nothing else is ever opened
THUMBS = "thumbs"
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@dataclass(frozen=True)
class Stored:
    """A kept photo: its URL path on this server, its thumbnail's, its size in pixels."""

    url: str
    thumbnail_url: str
    width: int
    height: int


def save(folder: Path, photo: Photo, username: str) -> Stored:
    """Keep the photo (and its thumbnail, and who uploaded it) under a new random name in folder."""
    name = secrets.token_hex(16) + photo.suffix
    (folder / THUMBS).mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(photo.content)
    (folder / THUMBS / name).write_bytes(photo.thumbnail)
    (folder / (name + ".json")).write_text(json.dumps({"uploaded_by": username}), encoding="utf-8")
    url = STORED_MEDIA_PREFIX + name
    return Stored(url, url + "?size=thumbnail", photo.width, photo.height)


def path_of(folder: Path, name: str, thumbnail: bool = False) -> Path | None:
    """The file of a kept photo (or its thumbnail), or None when name is not one of ours or no such file exists."""
    if not NAME.fullmatch(name):
        return None
    path = folder / THUMBS / name if thumbnail else folder / name
    return path if path.is_file() else None


def uploader(folder: Path, name: str) -> str | None:
    """Who uploaded the photo called name."""
    try:
        return json.loads((folder / (name + ".json")).read_text(encoding="utf-8")).get("uploaded_by")
    except (OSError, ValueError):
        return None


def may_see(session: Session, folder: Path, user: access.User, name: str) -> bool:
    """Whether user may see the photo: they uploaded it, or it belongs to a case they may see (its report, or a step
    or "me too" of its trace)."""
    if not NAME.fullmatch(name):
        return False
    if uploader(folder, name) == user.username:
        return True
    pattern = f"%{STORED_MEDIA_PREFIX}{name}%"
    in_events = select(IncidentEvent.incident_id).where(cast(IncidentEvent.data, String).like(pattern))
    query = select(Incident.id).where(
        visible_to(user), or_(cast(Incident.media_urls, String).like(pattern), Incident.id.in_(in_events)))
    return session.scalar(query.limit(1)) is not None
