"""The photo store: the local folder and an S3 bucket (a real S3 protocol server, moto's) keep and give back the
same objects; a store that is down or refuses us raises StoreUnavailable naming it; a failed save keeps nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from geogrid.incidents import photos
from geogrid.store import media
from geogrid.store.photo_store import LocalFolder, PhotoStore, S3Bucket, S3Options, StoreUnavailable, photo_store
from geogrid.store.settings import StoreSettings
from tests.s3_support import KEY_ID, REGION, SECRET, S3Server, down_endpoint, s3_server, s3_settings  # noqa: F401
from tests.test_photos import jpeg_with_gps

MB = 1024 * 1024


def bucket_store(server: S3Server, bucket: str, prefix: str = "geogrid/media") -> S3Bucket:
    return S3Bucket(S3Options(bucket, server.endpoint_url, REGION, prefix, addressing_style="path",
                              access_key_id=KEY_ID, secret_access_key=SECRET, timeout_seconds=2.0, attempts=1))


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    if request.param == "local":
        return LocalFolder(tmp_path / "media")
    server = request.getfixturevalue("s3_server")
    return bucket_store(server, server.new_bucket())


def test_both_stores_keep_give_back_and_delete(store: PhotoStore) -> None:
    assert store.get("thumbs/a.jpg") is None and not store.exists("thumbs/a.jpg")
    store.put("thumbs/a.jpg", b"\xff\xd8 a thumbnail", "image/jpeg")
    blob = store.get("thumbs/a.jpg")
    assert blob is not None and blob.size == 14 and blob.read() == b"\xff\xd8 a thumbnail"
    assert store.exists("thumbs/a.jpg")
    store.delete("thumbs/a.jpg")
    assert store.get("thumbs/a.jpg") is None
    store.delete("thumbs/a.jpg")  # deleting what is not there is no error


def test_a_saved_photo_is_read_back_with_its_thumbnail_and_uploader(store: PhotoStore) -> None:
    stored = media.save(store, photos.prepare(jpeg_with_gps(), 10 * MB), "worker")
    name = stored.url.removeprefix("/media/")
    full, thumb = media.read(store, name), media.read(store, name, thumbnail=True)
    assert full is not None and thumb is not None
    assert len(Image.open(io.BytesIO(full.read())).getexif()) == 0  # no GPS position, no EXIF at all
    assert max(Image.open(io.BytesIO(thumb.read())).size) == photos.THUMB_SIDE
    assert media.uploader(store, name) == "worker"
    media.require_kept(store, [stored.url, stored.thumbnail_url, "https://example.org/x.jpg"])
    assert media.read(store, "../secret_key") is None and media.read(store, "0" * 32 + ".jpg") is None


def test_keys_in_the_bucket_are_those_of_the_folder_under_the_prefix(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    photo = photos.prepare(jpeg_with_gps(), 10 * MB)
    name = media.save(bucket_store(s3_server, bucket, prefix="/geogrid/media/"), photo, "worker").url[7:]
    assert s3_server.keys(bucket) == sorted([f"geogrid/media/{name}", f"geogrid/media/{name}.json",
                                             f"geogrid/media/thumbs/{name}"])
    assert s3_server.object(bucket, f"geogrid/media/{name}") == photo.content
    head = s3_server.client.head_object(Bucket=bucket, Key=f"geogrid/media/{name}")
    assert head["ContentType"] == "image/jpeg"
    local = LocalFolder(tmp_path)
    media.save(local, photo, "worker")
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 3  # the same three objects in the folder


def test_the_settings_choose_the_store(s3_server: S3Server, tmp_path: Path) -> None:
    local = photo_store(StoreSettings(data_dir=tmp_path))
    assert isinstance(local, LocalFolder) and local.folder == tmp_path / "media"
    bucket = s3_server.new_bucket()
    chosen = photo_store(StoreSettings(data_dir=tmp_path, **s3_settings(s3_server.endpoint_url, bucket)))
    assert isinstance(chosen, S3Bucket) and chosen.label == f"S3 bucket {bucket!r}"
    assert chosen.client.meta.config.s3 == {"addressing_style": "path"}
    chosen.put("x.json", b"{}", "application/json")
    assert s3_server.keys(bucket) == ["x.json"]


def test_credentials_come_from_the_standard_chain_when_not_set(s3_server: S3Server, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    bucket = s3_server.new_bucket()
    settings = s3_settings(s3_server.endpoint_url, bucket, media_s3_access_key_id=None,
                           media_s3_secret_access_key=None)
    photo_store(StoreSettings(data_dir=tmp_path, **settings)).put("y.json", b"{}", "application/json")
    assert s3_server.keys(bucket) == ["y.json"]


def test_a_store_that_is_down_is_named(down_endpoint: str) -> None:
    store = S3Bucket(S3Options("photos", down_endpoint, REGION, addressing_style="path", access_key_id=KEY_ID,
                               secret_access_key=SECRET, timeout_seconds=1.0, attempts=1))
    for call in (lambda: store.put("a.jpg", b"x", "image/jpeg"), lambda: store.get("a.jpg"),
                 lambda: store.exists("a.jpg")):
        with pytest.raises(StoreUnavailable, match=r"S3 bucket 'photos'.*no connection") as caught:
            call()
        assert down_endpoint not in str(caught.value) and SECRET not in str(caught.value)


def test_a_missing_bucket_is_an_unavailable_store_not_a_missing_photo(s3_server: S3Server) -> None:
    store = bucket_store(s3_server, "no-such-bucket")
    with pytest.raises(StoreUnavailable, match="NoSuchBucket"):
        store.get("a.jpg")
    with pytest.raises(StoreUnavailable, match="NoSuchBucket"):
        store.put("a.jpg", b"x", "image/jpeg")


def test_a_folder_that_cannot_be_written_is_named_without_its_path(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(StoreUnavailable, match=r"local folder.*cannot write") as caught:
        LocalFolder(blocked).put("thumbs/a.jpg", b"x", "image/jpeg")
    assert str(tmp_path) not in str(caught.value)


class FailsOnThePhoto(S3Bucket):
    """A bucket that keeps the thumbnail and the uploader, then fails on the photo itself (as a store going down
    between two writes would)."""

    def put(self, key: str, data: bytes, media_type: str) -> None:
        if not key.startswith("thumbs/") and not key.endswith(".json"):
            raise StoreUnavailable(self.label, "cannot write (no connection)")
        super().put(key, data, media_type)


def test_a_save_that_fails_midway_keeps_nothing(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store = FailsOnThePhoto(S3Options(bucket, s3_server.endpoint_url, REGION, addressing_style="path",
                                      access_key_id=KEY_ID, secret_access_key=SECRET))
    with pytest.raises(StoreUnavailable):
        media.save(store, photos.prepare(jpeg_with_gps(), 10 * MB), "worker")
    assert s3_server.keys(bucket) == []


def test_serve_says_where_photos_are_kept_or_that_the_store_does_not_answer(
        s3_server: S3Server, down_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    from api.settings import Settings
    from cli.serve import say_photo_store

    def said(**extra) -> str:
        say_photo_store(Settings(data_dir=tmp_path, secret_key="k" * 40, **extra))
        return " ".join(capsys.readouterr().err.split())

    assert said() == f"photos are kept in the local folder {tmp_path / 'media'}"
    assert (tmp_path / "media").is_dir()
    bucket = s3_server.new_bucket()
    assert said(**s3_settings(s3_server.endpoint_url, bucket)) == \
        f"photos are kept in the S3 bucket {bucket!r} at {s3_server.endpoint_url}"
    assert said(**s3_settings(s3_server.endpoint_url, "no-such-bucket")) == (
        "warning: the photo store (S3 bucket 'no-such-bucket') is unavailable: no such bucket; try again later "
        f"(photos: S3 bucket 'no-such-bucket' at {s3_server.endpoint_url})")
    assert said(**s3_settings(down_endpoint, bucket)).startswith(
        f"warning: the photo store (S3 bucket {bucket!r}) is unavailable: cannot reach the bucket (no connection)")


@pytest.mark.parametrize("url", ["minio.intranet:9000", "ftp://minio.intranet"])
def test_an_endpoint_that_is_not_an_http_url_is_refused_by_name(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GEOGRID_MEDIA_S3_ENDPOINT_URL must be an http"):
        StoreSettings(data_dir=tmp_path, media_s3_bucket="photos", media_s3_endpoint_url=url)


def test_explicit_keys_come_in_pairs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GEOGRID_MEDIA_S3_ACCESS_KEY_ID and GEOGRID_MEDIA_S3_SECRET_ACCESS_KEY"):
        StoreSettings(data_dir=tmp_path, media_s3_bucket="photos", media_s3_access_key_id="geogrid")
