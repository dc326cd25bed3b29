"""A real S3 protocol server for the photo store's tests: moto's ThreadedMotoServer on localhost, and an endpoint
where no store answers."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

KEY_ID, SECRET = "geogrid-test", "geogrid-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """A running S3 server: its endpoint, and a client of our own to look into its buckets."""

    endpoint_url: str
    client: Any

    def new_bucket(self) -> str:
        """A new empty bucket, its name."""
        name = f"photos-{secrets.token_hex(4)}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every key in bucket, sorted."""
        return sorted(o["Key"] for o in self.client.list_objects_v2(Bucket=bucket).get("Contents", []))

    def object(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free port of 127.0.0.1 for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET)
    yield S3Server(endpoint, client)
    server.stop()


@pytest.fixture
def down_endpoint() -> str:
    """An endpoint on localhost where nothing listens (a store that is down): connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def s3_settings(endpoint_url: str, bucket: str, **extra: Any) -> dict[str, Any]:
    """The GEOGRID_MEDIA_S3_* settings of a bucket on endpoint_url (path-style, explicit keys, one quick try)."""
    return {"media_s3_bucket": bucket, "media_s3_endpoint_url": endpoint_url, "media_s3_region": REGION,
            "media_s3_addressing_style": "path", "media_s3_access_key_id": KEY_ID,
            "media_s3_secret_access_key": SecretStr(SECRET),
            "media_s3_timeout_seconds": 2.0, "media_s3_attempts": 1} | extra
