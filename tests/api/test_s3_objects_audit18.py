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


# -- metadata -----------------------------------------------------------------------------------


def _send_expires(s3: Any, value: str) -> Any:
    """A hook that sets the PutObject's Expires header to ``value`` before it is signed
    (botocore would only send a date); returns the handler to unregister."""
    def handler(request: Any, **_: Any) -> None:
        request.headers["Expires"] = value

    s3.meta.events.register("before-sign.s3.PutObject", handler)
    return handler


@pytest.mark.parametrize("value", ["not a date", "0", "Thu,%2031%20Dec%202099%2020:00:00%20GMT"])
def test_an_expires_that_is_not_an_http_date_comes_back_as_sent(
    s3: Any, bucket: str, value: str
) -> None:
    """S3 stores Expires verbatim and answers an unparseable one back unchanged (why the SDKs
    have ExpiresString: AWS SDK for Ruby PR 1216, botocore PR 3232, boto3 issue 808, botocore
    PR 1353 quoting ``Thu,%2031%20Dec%202099%2020:00:00%20GMT`` from S3)."""
    handler = _send_expires(s3, value)
    try:
        s3.put_object(Bucket=bucket, Key="meta/expires", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", handler)
    for call in (s3.head_object, s3.get_object):
        got = call(Bucket=bucket, Key="meta/expires")
        assert got["ExpiresString"] == value
        if not value.isdigit():  # (botocore reads "0" as epoch seconds itself)
            assert "Expires" not in got
    s3.copy_object(Bucket=bucket, Key="meta/expires-copy", CopySource=f"{bucket}/meta/expires")
    assert s3.head_object(Bucket=bucket, Key="meta/expires-copy")["ExpiresString"] == value


def test_an_expires_date_round_trips(s3: Any, bucket: str) -> None:
    handler = _send_expires(s3, "Wed, 21 Oct 2015 07:28:00 GMT")
    try:
        s3.put_object(Bucket=bucket, Key="meta/expires-date", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", handler)
    got = s3.head_object(Bucket=bucket, Key="meta/expires-date")
    assert got["ExpiresString"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert got["Expires"].isoformat() == "2015-10-21T07:28:00+00:00"
