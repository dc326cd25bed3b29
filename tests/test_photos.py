"""Case photos: the type read from the content, size and pixels limited, EXIF (and so GPS) stripped, thumbnails."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from geogrid.errors import InputError
from geogrid.incidents import photos

MB = 1024 * 1024


def jpeg_with_gps(width: int = 1200, height: int = 800, orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF holds a GPS position (and, if given, an orientation)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (25.0, 51.0, 0.0), 3: "E", 4: (114.0, 56.0, 0.0)})
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_the_gps_position_and_all_exif_are_stripped_from_what_is_kept() -> None:
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry a position
    photo = photos.prepare(data, 10 * MB)
    kept = Image.open(io.BytesIO(photo.content))
    assert photo.had_location and photo.media_type == "image/jpeg" and photo.suffix == ".jpg"
    assert len(kept.getexif()) == 0 and "exif" not in kept.info
    assert (kept.width, kept.height) == (1200, 800)


def test_a_rotated_phone_photo_is_turned_upright_before_its_orientation_tag_goes() -> None:
    photo = photos.prepare(jpeg_with_gps(600, 400, orientation=6), 10 * MB)  # 6: rotate 90° to show upright
    assert (photo.width, photo.height) == (400, 600)


def test_a_thumbnail_is_a_small_jpeg() -> None:
    photo = photos.prepare(jpeg_with_gps(3000, 2000), 10 * MB)
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == photos.THUMB_SIDE
    assert max(photo.width, photo.height) == photos.MAX_SIDE  # the kept photo is scaled down too


def test_png_stays_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 255, 128)).save(out, "PNG")
    photo = photos.prepare(out.getvalue(), MB)
    assert photo.media_type == "image/png" and Image.open(io.BytesIO(photo.content)).format == "PNG"
    assert not photo.had_location


@pytest.mark.parametrize("data", [b"<script>alert(1)</script>", b"%PDF-1.4 not a photo", b"GIF89a" + b"\0" * 40])
def test_what_is_not_a_jpeg_png_or_webp_by_its_content_is_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="not a photo"):
        photos.prepare(data, MB)


def test_a_damaged_jpeg_is_refused() -> None:
    data = jpeg_with_gps()
    with pytest.raises(InputError, match="damaged|not a photo"):
        photos.prepare(data[: len(data) // 3], 10 * MB)


def test_the_size_is_limited() -> None:
    with pytest.raises(InputError, match="at most 1 MB"):
        photos.prepare(b"\xff\xd8" + b"\0" * (MB + 10), MB)


def test_too_many_pixels_are_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels in a few kB
    with pytest.raises(InputError, match="pixels"):
        photos.prepare(out.getvalue(), 10 * MB)
