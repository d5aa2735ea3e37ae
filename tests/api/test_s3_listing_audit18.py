"""Audit 18 (S3 listing and pagination): negative page sizes and markers are refused in S3's
own words, which differ between the object listings, ListObjectVersions and the multipart
listings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server


def refused(call: Any, **params: Any) -> tuple[str, str, int, str, str]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    return (err["Error"]["Code"], err["Error"]["Message"],
            err["ResponseMetadata"]["HTTPStatusCode"],
            err["Error"].get("ArgumentName", ""), err["Error"].get("ArgumentValue", ""))


@pytest.fixture(scope="module")
def raw(server: Server) -> Any:
    """Root S3 client without botocore's client-side checks, so negative values reach S3."""
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def bucket(raw: Any) -> Iterator[str]:
    name = "tg-list18-" + uuid.uuid4().hex[:10]
    raw.create_bucket(Bucket=name)
    for key in ("a", "b/c", "d"):
        raw.put_object(Bucket=name, Key=key, Body=b"x")
    yield name


@pytest.fixture(scope="module")
def upload(raw: Any, bucket: str) -> str:
    upload_id: str = raw.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    for number in (1, 2, 3):
        raw.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number,
                        Body=b"p")
    return upload_id


MAX_KEYS_RANGE = "Argument maxKeys must be an integer between 0 and 2147483647"


def test_negative_max_keys_on_object_listings(raw: Any, bucket: str) -> None:
    expected = ("InvalidArgument", MAX_KEYS_RANGE, 400, "maxKeys", "-1")
    assert refused(raw.list_objects_v2, Bucket=bucket, MaxKeys=-1) == expected
    assert refused(raw.list_objects, Bucket=bucket, MaxKeys=-1) == expected
    assert refused(raw.list_objects_v2, Bucket=bucket, MaxKeys=-2147483648)[1:] == (
        MAX_KEYS_RANGE, 400, "maxKeys", "-2147483648")


def test_non_integer_max_keys_keeps_its_own_message(raw: Any, bucket: str) -> None:
    assert refused(raw.list_objects_v2, Bucket=bucket, MaxKeys="abc") == (
        "InvalidArgument", "Provided max-keys not an integer or within integer range", 400,
        "max-keys", "abc")


def test_negative_max_keys_on_list_object_versions(raw: Any, bucket: str) -> None:
    assert refused(raw.list_object_versions, Bucket=bucket, MaxKeys=-1) == (
        "InvalidArgument", "max-keys cannot be negative", 400, "max-keys", "-1")


def test_zero_and_large_max_keys_still_list(raw: Any, bucket: str) -> None:
    empty = raw.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert (empty["KeyCount"], empty["IsTruncated"], "Contents" in empty) == (0, False, False)
    assert raw.list_objects_v2(Bucket=bucket, MaxKeys=5000)["KeyCount"] == 3
    assert len(raw.list_object_versions(Bucket=bucket, MaxKeys=0).get("Versions", [])) == 0


def test_negative_max_parts_and_part_number_marker(raw: Any, bucket: str, upload: str) -> None:
    assert refused(raw.list_parts, Bucket=bucket, Key="mp", UploadId=upload, MaxParts=-1) == (
        "InvalidArgument", "Argument max-parts must be an integer between 0 and 2147483647", 400,
        "max-parts", "-1")
    assert refused(raw.list_parts, Bucket=bucket, Key="mp", UploadId=upload,
                   PartNumberMarker="-2") == (
        "InvalidArgument",
        "Argument part-number-marker must be an integer between 0 and 2147483647", 400,
        "part-number-marker", "-2")
    page = raw.list_parts(Bucket=bucket, Key="mp", UploadId=upload, MaxParts=1,
                          PartNumberMarker="1")
    assert ([p["PartNumber"] for p in page["Parts"]], page["IsTruncated"],
            page["NextPartNumberMarker"]) == ([2], True, 2)


def test_negative_max_uploads(raw: Any, bucket: str, upload: str) -> None:
    assert refused(raw.list_multipart_uploads, Bucket=bucket, MaxUploads=-1) == (
        "InvalidArgument", "Argument max-uploads must be an integer between 0 and 2147483647",
        400, "max-uploads", "-1")
    page = raw.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert [u["UploadId"] for u in page["Uploads"]] == [upload]
