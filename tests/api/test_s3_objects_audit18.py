"""S3 object operations checked against AWS's documented or observed answers (audit 18):
ranges, conditional reads and writes, copies, metadata and object tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_s3_api import EMPTY_MD5, empty_bucket, error_of, status, unique


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-a18")
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


# -- ranges -------------------------------------------------------------------------------------


def test_a_suffix_range_of_an_empty_object_is_the_whole_object(s3: Any, bucket: str) -> None:
    """AWS answers ``bytes=-N`` on a 0-byte object with 200 and an empty body (no 206, no
    Content-Range); a range with a first byte is unsatisfiable there."""
    s3.put_object(Bucket=bucket, Key="range/empty", Body=b"")
    for call in (s3.get_object, s3.head_object):
        got = call(Bucket=bucket, Key="range/empty", Range="bytes=-512")
        assert status(got) == 200
        assert "ContentRange" not in got
        assert (got["ContentLength"], got["ETag"]) == (0, f'"{EMPTY_MD5}"')
    assert s3.get_object(Bucket=bucket, Key="range/empty", Range="bytes=-1")["Body"].read() == b""
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="range/empty", Range="bytes=0-")
    assert error_of(exc) == ("InvalidRange", "The requested range is not satisfiable", 416)
    assert exc.value.response["Error"]["ActualObjectSize"] == "0"
    assert exc.value.response["Error"]["RangeRequested"] == "bytes=0-"


# -- copies -------------------------------------------------------------------------------------


def test_an_unknown_metadata_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="copy/src", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="copy/dst", CopySource=f"{bucket}/copy/src",
                       MetadataDirective="MERGE")
    assert error_of(exc) == ("InvalidArgument", "Unknown metadata directive.", 400)
    assert exc.value.response["Error"]["ArgumentName"] == "x-amz-metadata-directive"
    assert exc.value.response["Error"]["ArgumentValue"] == "MERGE"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="copy/dst")
    assert error_of(exc) == ("404", "Not Found", 404)
