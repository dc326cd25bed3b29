"""Photos of a case: the type read from the content, the size and pixel count limited, EXIF stripped, a thumbnail."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from geogrid.errors import InputError

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is refused before it is decoded (decompression bombs)
MAX_SIDE = 2560  # the kept photo's longest side (pixels)
THUMB_SIDE = 320  # the thumbnail's longest side, for lists
QUALITY = 85


@dataclass(frozen=True)
class Photo:
    """A photo as it is kept and shown: re-encoded without any metadata (no EXIF, so no GPS position, camera or
    owner), turned upright, at most MAX_SIDE pixels; its thumbnail as JPEG."""

    content: bytes
    media_type: str
    suffix: str
    thumbnail: bytes
    width: int
    height: int
    had_location: bool  # the upload carried a GPS position in its EXIF (stripped from what is kept)


def prepare(data: bytes, max_bytes: int) -> Photo:
    """The upload as a Photo, or InputError when it is larger than max_bytes, not a JPEG, PNG or WebP by its content
    (whatever its name or declared type says), damaged, or has more than MAX_PIXELS pixels."""
    if len(data) > max_bytes:
        raise InputError(f"the photo is {len(data) / 1024**2:.1f} MB: at most {max_bytes / 1024**2:.0f} MB",
                         code="report.photo_too_large",
                         params={"size_mb": round(len(data) / 1024**2, 1), "limit_mb": round(max_bytes / 1024**2)})
    image = _open(data)
    had_location = bool(image.getexif().get_ifd(0x8825))  # the GPS IFD
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    media_type, suffix = FORMATS[image.format or ""]
    return Photo(_encode(upright, image.format or "JPEG"), media_type, suffix, _thumbnail(upright),
                 upright.width, upright.height, had_location)


def _open(data: bytes) -> Image.Image:
    """The image in data, decoded, or InputError saying why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width * image.height > MAX_PIXELS:
                raise InputError(f"the photo has {image.width}×{image.height} pixels: at most {MAX_PIXELS:,}",
                                 code="report.photo_too_many_pixels", params={"limit": MAX_PIXELS})
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError("the file is not a photo: send a JPEG, PNG or WebP image", code="report.not_a_photo") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"the photo is damaged and cannot be read ({exc})", code="report.photo_damaged") from None
    return image


def _encode(image: Image.Image, image_format: str) -> bytes:
    """image written in its format with no metadata at all (Pillow writes EXIF only when asked)."""
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=QUALITY, optimize=True)
    else:
        image.save(out, image_format)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most THUMB_SIDE pixels on its longest side."""
    small = image.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
