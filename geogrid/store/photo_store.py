"""Where the bytes of case photos are kept: a local folder (the default) or an S3-compatible bucket.

Both hold the same keys: `<name>` (the photo), `thumbs/<name>` (its thumbnail) and `<name>.json` (who uploaded
it), so a folder copied into a bucket under the prefix (e.g. `aws s3 sync media/ s3://bucket/prefix/`) serves the
same photos. A store that cannot be reached, refuses us or fails to write raises StoreUnavailable naming the store
(the API answers 503); a key that is simply not there is None.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from geogrid.store.settings import StoreSettings

logger = logging.getLogger("geogrid.store")
CHUNK = 64 * 1024
MISSING = {"NoSuchKey", "404", "NotFound"}  # S3 error codes of an object that is not there (not of a missing bucket)


class StoreUnavailable(RuntimeError):
    """The photo store cannot be reached or refused to keep or give a photo (the API answers 503)."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"the photo store ({store}) is unavailable: {reason}; try again later")
        self.store = store
        self.reason = reason


@dataclass(frozen=True)
class Blob:
    """A kept object to send back: its size and its bytes in chunks; path when it is a local file."""

    size: int
    chunks: Iterator[bytes]
    path: Path | None = None

    def read(self) -> bytes:
        """All its bytes (for small objects)."""
        return b"".join(self.chunks)


class PhotoStore(Protocol):
    """Keeps and gives back objects by key."""

    label: str  # how answers name the store: never a path, a password or a key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        """Keep data under key (whole or not at all); StoreUnavailable if it cannot."""

    def get(self, key: str) -> Blob | None:
        """The object under key, None when there is none; StoreUnavailable if the store cannot say."""

    def exists(self, key: str) -> bool:
        """Whether an object is kept under key; StoreUnavailable if the store cannot say."""

    def delete(self, key: str) -> None:
        """Remove the object under key if it is there; StoreUnavailable if the store cannot."""

    def check(self) -> None:
        """StoreUnavailable unless the store answers and its folder or bucket is there (said when the service
        starts)."""


class LocalFolder:
    """Objects as files in a folder (keys are relative paths); each written to a temporary name, then renamed."""

    label = "local folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self.folder / key
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")  # never a name the API serves
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(data)
            os.replace(part, path)
        except OSError as exc:
            with contextlib.suppress(OSError):  # the folder itself may be what failed
                part.unlink(missing_ok=True)
            raise self._unavailable("cannot write", exc) from None

    def get(self, key: str) -> Blob | None:
        path = self.folder / key
        try:
            if not path.is_file():
                return None
            return Blob(path.stat().st_size, _file_chunks(path), path)
        except OSError as exc:
            raise self._unavailable("cannot read", exc) from None

    def exists(self, key: str) -> bool:
        try:
            return (self.folder / key).is_file()
        except OSError as exc:
            raise self._unavailable("cannot read", exc) from None

    def delete(self, key: str) -> None:
        try:
            (self.folder / key).unlink(missing_ok=True)
        except OSError as exc:
            raise self._unavailable("cannot delete", exc) from None

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unavailable("cannot create the folder", exc) from None

    def _unavailable(self, what: str, exc: OSError) -> StoreUnavailable:
        logger.warning("photo folder %s: %s %s", self.folder, what, exc)
        return StoreUnavailable(self.label, f"{what} ({exc.strerror or type(exc).__name__})")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Aliyun OSS, ...)."""

    bucket: str
    endpoint_url: str | None = None  # None: AWS S3 itself
    region: str | None = None
    prefix: str = ""  # keys are prefix + key, e.g. "geogrid/media/"
    addressing_style: str = "auto"  # "path" (http://host/bucket/key), "virtual" (http://bucket.host/key) or "auto"
    access_key_id: str | None = None  # None: the standard AWS chain (environment, ~/.aws, instance role)
    secret_access_key: str | None = None
    timeout_seconds: float = 5.0  # to connect, and to wait for each answer
    attempts: int = 2  # tries of each request, the first included


class S3Bucket:
    """Objects in an S3-compatible bucket, through boto3."""

    def __init__(self, options: S3Options) -> None:
        import boto3  # only a service configured for S3 loads it
        from botocore.config import Config

        self.options = options
        self.prefix = options.prefix.strip("/") + "/" if options.prefix.strip("/") else ""
        self.label = f"S3 bucket {options.bucket!r}"
        config = Config(
            s3={"addressing_style": options.addressing_style},
            signature_version="s3v4",
            connect_timeout=options.timeout_seconds,
            read_timeout=options.timeout_seconds,
            retries={"total_max_attempts": max(1, options.attempts), "mode": "standard"},
            max_pool_connections=32,  # the request threads, and photos still streaming to slow phones
            # only when the operation requires one: MinIO, Ceph and OSS releases older than the default
            # checksums of boto3 1.36 refuse uploads that carry them
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=options.endpoint_url or None, region_name=options.region or None,
            aws_access_key_id=options.access_key_id or None, aws_secret_access_key=options.secret_access_key or None,
            config=config)

    def put(self, key: str, data: bytes, media_type: str) -> None:
        self._call("cannot write", self.client.put_object, Bucket=self.options.bucket, Key=self.prefix + key,
                   Body=data, ContentType=media_type)

    def get(self, key: str) -> Blob | None:
        answer = self._call("cannot read", self.client.get_object, Bucket=self.options.bucket, Key=self.prefix + key)
        if answer is None:
            return None
        return Blob(int(answer["ContentLength"]), _body_chunks(answer["Body"]))

    def exists(self, key: str) -> bool:
        return self._call("cannot read", self.client.head_object, Bucket=self.options.bucket,
                          Key=self.prefix + key) is not None

    def delete(self, key: str) -> None:
        self._call("cannot delete", self.client.delete_object, Bucket=self.options.bucket, Key=self.prefix + key)

    def check(self) -> None:
        if self._call("cannot reach the bucket", self.client.head_bucket, Bucket=self.options.bucket) is None:
            raise StoreUnavailable(self.label, "no such bucket")

    def _call(self, what: str, method: Any, **kwargs: Any) -> Any:
        """method(**kwargs); None when the object is not there; StoreUnavailable for any other failure."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                return None
            raise self._unavailable(what, exc, code or "error") from None
        except BotoCoreError as exc:
            raise self._unavailable(what, exc, _reason(exc)) from None

    def _unavailable(self, what: str, exc: Exception, reason: str) -> StoreUnavailable:
        logger.warning("%s at %s: %s (%s: %s)", self.label, self.options.endpoint_url or "AWS", what,
                       type(exc).__name__, exc)  # botocore's messages hold no credentials
        return StoreUnavailable(self.label, f"{what} ({reason})")


def _reason(exc: Exception) -> str:
    """A short reason for a botocore failure that is not an answer of the store."""
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return "no connection"
    if isinstance(exc, ReadTimeoutError):
        return "no answer in time"
    if isinstance(exc, NoCredentialsError):
        return "no credentials configured"
    return type(exc).__name__


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def photo_store(settings: StoreSettings) -> PhotoStore:
    """The store the settings name: the S3 bucket GEOGRID_MEDIA_S3_BUCKET, else the local photo folder."""
    if not settings.media_s3_bucket:
        return LocalFolder(settings.photo_dir)
    secret = settings.media_s3_secret_access_key
    return S3Bucket(S3Options(
        bucket=settings.media_s3_bucket, endpoint_url=settings.media_s3_endpoint_url, region=settings.media_s3_region,
        prefix=settings.media_s3_prefix, addressing_style=settings.media_s3_addressing_style,
        access_key_id=settings.media_s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
        timeout_seconds=settings.media_s3_timeout_seconds, attempts=settings.media_s3_attempts))
