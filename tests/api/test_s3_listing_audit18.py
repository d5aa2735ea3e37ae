"""Audit 18 (S3 listing and pagination): negative page sizes and markers are refused in S3's
own words, which differ between the object listings, ListObjectVersions and the multipart
listings."""

from __future__ import annotations

import base64
import re
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


def test_versions_and_delete_markers_interleave_in_listing_order(raw: Any) -> None:
    """S3 writes one sequence of <Version> and <DeleteMarker> elements, by key and newest
    first within a key (the ListObjectVersions sample response in the S3 API reference), which
    SDKs reading the elements in document order (the Java SDK's version summaries) rely on."""
    name = "tg-list18v-" + uuid.uuid4().hex[:10]
    raw.create_bucket(Bucket=name)
    raw.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for key in ("a", "a", "b", "c"):
        raw.put_object(Bucket=name, Key=key, Body=b"v")
    raw.delete_object(Bucket=name, Key="a")
    raw.delete_object(Bucket=name, Key="b")
    bodies: list[bytes] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append(http_response.content)

    raw.meta.events.register("after-call.s3.ListObjectVersions", keep)
    try:
        whole = raw.list_object_versions(Bucket=name)
        page = raw.list_object_versions(Bucket=name, MaxKeys=3, EncodingType="url")
    finally:
        raw.meta.events.unregister("after-call.s3.ListObjectVersions", keep)
    ids = {(v["Key"], v["VersionId"]): kind for kind in ("Versions", "DeleteMarkers")
           for v in whole[kind]}
    pattern = re.compile(rb"<(Version|DeleteMarker)>.*?<Key>([^<]*)</Key>"
                         rb"<VersionId>([^<]*)</VersionId><IsLatest>([a-z]+)<")
    found = [(tag.decode(), key.decode(), latest.decode())
             for tag, key, vid, latest in pattern.findall(bodies[0])
             if (key.decode(), vid.decode()) in ids]
    assert found == [("DeleteMarker", "a", "true"), ("Version", "a", "false"),
                     ("Version", "a", "false"), ("DeleteMarker", "b", "true"),
                     ("Version", "b", "false"), ("Version", "c", "true")]
    first = [(tag.decode(), key.decode()) for tag, key, _, _ in pattern.findall(bodies[1])]
    assert first == [("DeleteMarker", "a"), ("Version", "a"), ("Version", "a")]
    assert (page["IsTruncated"], page["NextKeyMarker"], len(page["Versions"]),
            len(page["DeleteMarkers"])) == (True, "a", 2, 1)


INCORRECT_TOKEN = "The continuation token provided is incorrect"


@pytest.mark.parametrize("token", [
    "YQ==",  # base64 of "a": decodes, but S3 never handed it out
    base64.b64encode(b"\x00" * 6 + b"b/c").decode(),
    "not base64!",
])
def test_made_up_continuation_token_is_refused(raw: Any, bucket: str, token: str) -> None:
    assert refused(raw.list_objects_v2, Bucket=bucket, ContinuationToken=token) == (
        "InvalidArgument", INCORRECT_TOKEN, 400, "continuation-token", token)


def test_made_up_list_buckets_token_is_refused(raw: Any) -> None:
    assert refused(raw.list_buckets, MaxBuckets=1, ContinuationToken="YQ==")[:3] == (
        "InvalidArgument", INCORRECT_TOKEN, 400)


def test_handed_out_tokens_page_through(raw: Any, bucket: str) -> None:
    keys: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        extra = {} if token is None else {"ContinuationToken": token}
        page = raw.list_objects_v2(Bucket=bucket, MaxKeys=1, **extra)
        keys += [o["Key"] for o in page.get("Contents", [])]
        pages += 1
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
        assert page["KeyCount"] == 1
    assert (keys, pages) == (["a", "b/c", "d"], 3)
    raw.create_bucket(Bucket="tg-list18t-" + uuid.uuid4().hex[:10])  # two buckets at least
    first = raw.list_buckets(MaxBuckets=1)
    second = raw.list_buckets(MaxBuckets=1, ContinuationToken=first["ContinuationToken"])
    assert second["Buckets"][0]["Name"] > first["Buckets"][0]["Name"]


def test_list_buckets_max_buckets_counts_the_region_filtered_buckets(raw: Any) -> None:
    """BucketRegion limits the response to the region's buckets and MaxBuckets counts the
    buckets returned: no other region's bucket takes a place on the page, and a region
    without buckets is one empty page, with no continuation token to page through."""
    stem = "tg-list18r-" + uuid.uuid4().hex[:8]
    for suffix in ("a", "b", "c"):
        raw.create_bucket(Bucket=f"{stem}-{suffix}")
    elsewhere = raw.list_buckets(Prefix=stem, BucketRegion="eu-west-1", MaxBuckets=1)
    assert (elsewhere["Buckets"], "ContinuationToken" in elsewhere, elsewhere["Prefix"]) == (
        [], False, stem)
    first = raw.list_buckets(Prefix=stem, BucketRegion=REGION, MaxBuckets=2)
    assert [(b["Name"], b["BucketRegion"]) for b in first["Buckets"]] == [
        (f"{stem}-a", REGION), (f"{stem}-b", REGION)]
    rest = raw.list_buckets(Prefix=stem, BucketRegion=REGION, MaxBuckets=2,
                            ContinuationToken=first["ContinuationToken"])
    assert ([b["Name"] for b in rest["Buckets"]], "ContinuationToken" in rest) == (
        [f"{stem}-c"], False)
