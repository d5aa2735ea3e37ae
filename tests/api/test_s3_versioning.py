"""S3 bucket versioning through a real server, driven by boto3 (and the AWS CLI): the
versioning configuration, versions made by every write, delete markers, reads / tags / copies
of one version, permanent deletes, ListObjectVersions paging, the version actions'
authorization, and CloudTrail log delivery into a versioned bucket."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server, start
from .test_s3_api import error_of, quoted_md5, status, unique

VERSION_ID = re.compile(r"[A-Za-z0-9._]{32}")
UNKNOWN = "A" * 32  # well formed, never issued


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


def empty_versions(s3: Any, bucket: str) -> None:
    """Delete every version and delete marker."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        items = page.get("Versions", []) + page.get("DeleteMarkers", [])
        for item in items:
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


@pytest.fixture()
def vbucket(s3: Any) -> Iterator[str]:
    """A new bucket with versioning enabled, emptied and deleted afterwards."""
    name = unique("tg-ver")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    empty_versions(s3, name)
    s3.delete_bucket(Bucket=name)


def headers(response: dict[str, Any]) -> dict[str, str]:
    return dict(response["ResponseMetadata"]["HTTPHeaders"])


def listing(s3: Any, bucket: str, **kwargs: Any) -> list[tuple[str, str, str, bool]]:
    """ListObjectVersions as (kind, key, version id, IsLatest), in the order listed per kind
    then merged by key as S3 interleaves them (newest first within a key)."""
    page = s3.list_object_versions(Bucket=bucket, **kwargs)
    rows = [("v", v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]
    rows += [("dm", d["Key"], d["VersionId"], d["IsLatest"]) for d in page.get("DeleteMarkers", [])]
    return rows


# -- the configuration -------------------------------------------------------------------------


def test_versioning_configuration_round_trip(s3: Any) -> None:
    name = unique("tg-ver-cfg")
    s3.create_bucket(Bucket=name)
    try:
        got = s3.get_bucket_versioning(Bucket=name)
        got.pop("ResponseMetadata")
        assert got == {}  # never set: no Status at all
        for state in ("Enabled", "Suspended", "Enabled"):
            put = s3.put_bucket_versioning(Bucket=name,
                                           VersioningConfiguration={"Status": state})
            assert status(put) == 200
            got = s3.get_bucket_versioning(Bucket=name)
            got.pop("ResponseMetadata")
            assert got == {"Status": state}
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "On"})
        assert error_of(exc)[::2] == ("MalformedXML", 400)
    finally:
        s3.delete_bucket(Bucket=name)


def test_mfa_delete_is_refused(s3: Any, vbucket: str) -> None:
    config = {"Status": "Enabled", "MFADelete": "Enabled"}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration=config)
    assert error_of(exc) == ("AccessDenied", "Mfa Authentication must be used for this request",
                             403)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration=config, MFA="123456")
    assert error_of(exc) == (
        "InvalidArgument", "Mfa header is invalid -- the header should be formatted as "
        "{serialNumber}(space){tokenCode}", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration=config,
                                 MFA="arn:aws:iam::111111111111:mfa/root 123456")
    assert error_of(exc)[::2] == ("NotImplemented", 501)
    got = s3.get_bucket_versioning(Bucket=vbucket)
    assert got["Status"] == "Enabled" and "MFADelete" not in got


# -- versions, reads and delete markers ---------------------------------------------------------


def test_each_put_makes_a_version(s3: Any, vbucket: str) -> None:
    first = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")
    second = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")
    v1, v2 = first["VersionId"], second["VersionId"]
    assert VERSION_ID.fullmatch(v1) and VERSION_ID.fullmatch(v2) and v1 != v2
    assert headers(second)["x-amz-version-id"] == v2
    latest = s3.get_object(Bucket=vbucket, Key="k")
    assert (latest["Body"].read(), latest["VersionId"]) == (b"two", v2)
    old = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert (old["Body"].read(), old["VersionId"], old["ETag"]) == (b"one", v1, quoted_md5(b"one"))
    head = s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert (head["ContentLength"], head["VersionId"]) == (3, v1)
    ranged = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1, Range="bytes=1-2")
    assert (ranged["Body"].read(), status(ranged)) == (b"ne", 206)
    contents = s3.list_objects_v2(Bucket=vbucket)["Contents"]
    assert [(c["Key"], c["ETag"]) for c in contents] == [("k", quoted_md5(b"two"))]
    assert listing(s3, vbucket) == [("v", "k", v2, True), ("v", "k", v1, False)]
    page = s3.list_object_versions(Bucket=vbucket)
    assert [(v["ETag"], v["Size"], v["StorageClass"]) for v in page["Versions"]] == [
        (quoted_md5(b"two"), 3, "STANDARD"), (quoted_md5(b"one"), 3, "STANDARD")]


def test_an_object_from_before_versioning_is_the_null_version(s3: Any) -> None:
    name = unique("tg-ver-null")
    s3.create_bucket(Bucket=name)
    try:
        plain = s3.put_object(Bucket=name, Key="k", Body=b"before")
        assert "VersionId" not in plain
        assert "VersionId" not in s3.get_object(Bucket=name, Key="k")
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        assert s3.head_object(Bucket=name, Key="k")["VersionId"] == "null"
        after = s3.put_object(Bucket=name, Key="k", Body=b"after")["VersionId"]
        assert listing(s3, name) == [("v", "k", after, True), ("v", "k", "null", False)]
        got = s3.get_object(Bucket=name, Key="k", VersionId="null")
        assert (got["Body"].read(), got["VersionId"]) == (b"before", "null")
    finally:
        empty_versions(s3, name)
        s3.delete_bucket(Bucket=name)


def test_delete_marker_hides_and_its_deletion_restores(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"data")["VersionId"]
    deleted = s3.delete_object(Bucket=vbucket, Key="k")
    marker = deleted["VersionId"]
    assert status(deleted) == 204 and deleted["DeleteMarker"] is True
    assert VERSION_ID.fullmatch(marker) and marker != v1
    assert headers(deleted)["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=vbucket, Key="k")
    assert error_of(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    got = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert (got["x-amz-delete-marker"], got["x-amz-version-id"]) == ("true", marker)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=vbucket, Key="k")
    assert error_of(exc)[::2] == ("404", 404)
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert error_of(exc) == (
        "MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
    err = exc.value.response
    assert (err["Error"]["Method"], err["Error"]["ResourceType"]) == ("GET", "DeleteMarker")
    got = err["ResponseMetadata"]["HTTPHeaders"]
    assert got["x-amz-delete-marker"] == "true" and got["last-modified"].endswith(" GMT")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert error_of(exc)[::2] == ("405", 405)
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)
    assert "Contents" not in s3.list_objects(Bucket=vbucket)
    assert listing(s3, vbucket) == [("v", "k", v1, False), ("dm", "k", marker, True)]
    undone = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert (undone["DeleteMarker"], undone["VersionId"]) == (True, marker)
    back = s3.get_object(Bucket=vbucket, Key="k")
    assert (back["Body"].read(), back["VersionId"]) == (b"data", v1)
    assert listing(s3, vbucket) == [("v", "k", v1, True)]


def test_deleting_versions_for_good(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    gone = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert status(gone) == 204 and gone["VersionId"] == v2 and "DeleteMarker" not in gone
    got = s3.get_object(Bucket=vbucket, Key="k")  # the previous version is current again
    assert (got["Body"].read(), got["VersionId"]) == (b"one", v1)
    assert s3.list_objects_v2(Bucket=vbucket)["Contents"][0]["ETag"] == quoted_md5(b"one")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert error_of(exc) == ("NoSuchVersion", "The specified version does not exist.", 404)
    assert exc.value.response["Error"]["VersionId"] == v2
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert listing(s3, vbucket) == []
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=vbucket, Key="k")
    assert error_of(exc)[::2] == ("NoSuchKey", 404)
    assert "x-amz-delete-marker" not in exc.value.response["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize(("version", "expected"), [
    ("bogus", ("InvalidArgument", "Invalid version id specified", 400)),
    ("", ("InvalidArgument", "Version id cannot be the empty string", 400)),
    (UNKNOWN, ("NoSuchVersion", "The specified version does not exist.", 404)),
])
def test_version_id_errors(s3: Any, vbucket: str, version: str,
                           expected: tuple[str, str, int]) -> None:
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    for call in (s3.get_object, s3.get_object_tagging):
        with pytest.raises(ClientError) as exc:
            call(Bucket=vbucket, Key="k", VersionId=version)
        assert error_of(exc) == expected
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=version)
    assert error_of(exc)[2] == expected[2]


def test_deleting_an_unknown_version_is_no_error(s3: Any, vbucket: str) -> None:
    out = s3.delete_object(Bucket=vbucket, Key="k", VersionId=UNKNOWN)
    assert status(out) == 204 and out["VersionId"] == UNKNOWN and "DeleteMarker" not in out
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=vbucket, Key="k", VersionId="bogus")
    assert error_of(exc) == ("InvalidArgument", "Invalid version id specified", 400)


def test_suspended_bucket_writes_the_null_version(s3: Any, vbucket: str) -> None:
    kept = s3.put_object(Bucket=vbucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=vbucket, Key="k", Body=b"null-1")["VersionId"] == "null"
    assert s3.put_object(Bucket=vbucket, Key="k", Body=b"null-2")["VersionId"] == "null"
    assert listing(s3, vbucket) == [("v", "k", "null", True), ("v", "k", kept, False)]
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    deleted = s3.delete_object(Bucket=vbucket, Key="k")  # the null marker replaces null-2
    assert (deleted["DeleteMarker"], deleted["VersionId"]) == (True, "null")
    assert listing(s3, vbucket) == [("v", "k", kept, False), ("dm", "k", "null", True)]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Enabled"})
    newer = s3.put_object(Bucket=vbucket, Key="k", Body=b"newer")["VersionId"]
    assert listing(s3, vbucket) == [("v", "k", newer, True), ("v", "k", kept, False),
                                    ("dm", "k", "null", False)]


# -- other writes and reads of one version ------------------------------------------------------


def test_copy_makes_a_version_and_reads_one(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"first")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="k", Body=b"second")
    restored = s3.copy_object(Bucket=vbucket, Key="k",
                              CopySource={"Bucket": vbucket, "Key": "k", "VersionId": v1})
    assert restored["CopySourceVersionId"] == v1
    assert VERSION_ID.fullmatch(restored["VersionId"])
    assert headers(restored)["x-amz-copy-source-version-id"] == v1
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"first", restored["VersionId"])
    latest = s3.copy_object(Bucket=vbucket, Key="copy", CopySource=f"{vbucket}/k")
    assert latest["CopySourceVersionId"] == restored["VersionId"]
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=vbucket, Key="c2", CopySource=f"{vbucket}/k")
    assert error_of(exc)[::2] == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=vbucket, Key="c2",
                       CopySource={"Bucket": vbucket, "Key": "k", "VersionId": marker})
    assert error_of(exc) == (
        "InvalidRequest", "The source of a copy request may not specifically refer to a delete "
        "marker by version id.", 400)


def test_multipart_upload_makes_a_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="mp", Body=b"small")["VersionId"]
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"big")
    done = s3.complete_multipart_upload(
        Bucket=vbucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert VERSION_ID.fullmatch(done["VersionId"])
    assert headers(done)["x-amz-version-id"] == done["VersionId"]
    assert listing(s3, vbucket) == [("v", "mp", done["VersionId"], True), ("v", "mp", v1, False)]
    assert s3.get_object(Bucket=vbucket, Key="mp", VersionId=v1)["Body"].read() == b"small"
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp2")["UploadId"]
    copied = s3.upload_part_copy(Bucket=vbucket, Key="mp2", UploadId=upload, PartNumber=1,
                                 CopySource={"Bucket": vbucket, "Key": "mp", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1
    s3.complete_multipart_upload(
        Bucket=vbucket, Key="mp2", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=vbucket, Key="mp2")["Body"].read() == b"small"


def test_tags_and_attributes_of_one_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="t", Body=b"one", Tagging="a=1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="t", Body=b"two!")["VersionId"]
    put = s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId=v1,
                                Tagging={"TagSet": [{"Key": "b", "Value": "2"}]})
    assert put["VersionId"] == v1
    old = s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)
    assert (old["TagSet"], old["VersionId"]) == ([{"Key": "b", "Value": "2"}], v1)
    new = s3.get_object_tagging(Bucket=vbucket, Key="t")
    assert (new["TagSet"], new["VersionId"]) == ([], v2)
    gone = s3.delete_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)
    assert (status(gone), gone["VersionId"]) == (204, v1)
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)["TagSet"] == []
    attrs = s3.get_object_attributes(Bucket=vbucket, Key="t", VersionId=v1,
                                     ObjectAttributes=["ObjectSize", "ETag"])
    assert (attrs["ObjectSize"], attrs["ETag"], attrs["VersionId"]) == (
        3, quoted_md5(b"one").strip('"'), v1)
    assert s3.get_object_attributes(Bucket=vbucket, Key="t",
                                    ObjectAttributes=["ObjectSize"])["ObjectSize"] == 4
    assert s3.get_object_acl(Bucket=vbucket, Key="t", VersionId=v1)["Grants"]


def test_delete_objects_with_versions(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="b", Body=b"b")
    out = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v1}, {"Key": "b"}, {"Key": "c", "VersionId": "bogus"}]})
    marker = out["Deleted"][1]["DeleteMarkerVersionId"]
    assert out["Deleted"] == [
        {"Key": "a", "VersionId": v1},
        {"Key": "b", "DeleteMarker": True, "DeleteMarkerVersionId": marker},
    ]
    assert out["Errors"] == [{"Key": "c", "VersionId": "bogus", "Code": "NoSuchVersion",
                              "Message": "The specified version does not exist."}]
    again = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "b", "VersionId": marker}]})
    assert again["Deleted"] == [{"Key": "b", "VersionId": marker, "DeleteMarker": True,
                                 "DeleteMarkerVersionId": marker}]
    assert s3.get_object(Bucket=vbucket, Key="b")["Body"].read() == b"b"


def test_list_object_versions_pages_and_prefixes(s3: Any, vbucket: str) -> None:
    ids: dict[str, list[str]] = {}
    for key in ("a", "d/x", "d/y", "e b", "z"):
        ids[key] = [s3.put_object(Bucket=vbucket, Key=key, Body=key.encode() * n)["VersionId"]
                    for n in (1, 2)]
    marker = s3.delete_object(Bucket=vbucket, Key="z")["VersionId"]
    full = [("a", ids["a"][1]), ("a", ids["a"][0]), ("d/x", ids["d/x"][1]),
            ("d/x", ids["d/x"][0]), ("d/y", ids["d/y"][1]), ("d/y", ids["d/y"][0]),
            ("e b", ids["e b"][1]), ("e b", ids["e b"][0]), ("z", marker),
            ("z", ids["z"][1]), ("z", ids["z"][0])]
    seen: list[tuple[str, str]] = []
    pages = 0
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=vbucket, PaginationConfig={"PageSize": 3}):
        pages += 1
        items = page.get("Versions", []) + page.get("DeleteMarkers", [])
        items.sort(key=lambda i: full.index((i["Key"], i["VersionId"])))
        seen += [(i["Key"], i["VersionId"]) for i in items]
        assert len(items) <= 3
    assert seen == full and pages == 4
    first = s3.list_object_versions(Bucket=vbucket, MaxKeys=3)
    assert first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextVersionIdMarker"]) == ("d/x", ids["d/x"][1])
    rolled = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert rolled["CommonPrefixes"] == [{"Prefix": "d/"}]
    assert [v["Key"] for v in rolled["Versions"]] == ["a", "a", "e b", "e b", "z", "z"]
    only = s3.list_object_versions(Bucket=vbucket, Prefix="d/", KeyMarker="d/x")
    assert [(v["Key"], v["IsLatest"]) for v in only["Versions"]] == [("d/y", True),
                                                                     ("d/y", False)]


def test_a_bucket_keeping_versions_is_not_empty(s3: Any) -> None:
    name = unique("tg-ver-del")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.delete_object(Bucket=name, Key="k")  # only a noncurrent version and a marker remain
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert error_of(exc) == ("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
    empty_versions(s3, name)
    assert status(s3.delete_bucket(Bucket=name)) == 204


# -- authorization --------------------------------------------------------------------------


VERSION_CALLS = [
    ("get_object", {"Key": "k"}, "s3:GetObjectVersion"),
    ("get_object_tagging", {"Key": "k"}, "s3:GetObjectVersionTagging"),
    ("put_object_tagging", {"Key": "k", "Tagging": {"TagSet": []}},
     "s3:PutObjectVersionTagging"),
    ("delete_object_tagging", {"Key": "k"}, "s3:DeleteObjectVersionTagging"),
    ("get_object_acl", {"Key": "k"}, "s3:GetObjectVersionAcl"),
    ("get_object_attributes", {"Key": "k", "ObjectAttributes": ["ObjectSize"]},
     "s3:GetObjectVersionAttributes"),
    ("delete_object", {"Key": "k"}, "s3:DeleteObjectVersion"),
]


@pytest.fixture(scope="module")
def shared(s3: Any) -> Iterator[tuple[str, str]]:
    """A versioned bucket with one object ``k``: (bucket, its version id)."""
    name = unique("tg-ver-auth")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
    yield name, version
    empty_versions(s3, name)
    s3.delete_bucket(Bucket=name)


def _user_denied(server: Server, bucket: str, action: str) -> tuple[Any, str]:
    """A user allowed every S3 action on ``bucket`` but ``action`` (explicitly denied)."""
    iam = server.client("iam")
    name = unique("ver-user")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": resources},
            {"Effect": "Deny", "Action": action, "Resource": resources}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("s3", key["AccessKeyId"], key["SecretAccessKey"]), arn


@pytest.mark.parametrize(("call", "kwargs", "action"), VERSION_CALLS)
def test_a_request_naming_a_version_needs_the_version_action(
    server: Server, shared: tuple[str, str], call: str, kwargs: dict[str, Any], action: str,
) -> None:
    bucket, version = shared
    client, arn = _user_denied(server, bucket, action)
    with pytest.raises(ClientError) as exc:
        getattr(client, call)(Bucket=bucket, VersionId=version, **kwargs)
    assert error_of(exc) == (
        "AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: "
        f'"arn:aws:s3:::{bucket}/k" with an explicit deny in an identity-based policy', 403)
    if call != "delete_object":  # the same call without a version id is another action
        getattr(client, call)(Bucket=bucket, **kwargs)


@pytest.mark.parametrize(("call", "kwargs", "action"), [
    ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}},
     "s3:PutBucketVersioning"),
    ("get_bucket_versioning", {}, "s3:GetBucketVersioning"),
    ("list_object_versions", {}, "s3:ListBucketVersions"),
])
def test_bucket_versioning_actions(server: Server, shared: tuple[str, str], call: str,
                                   kwargs: dict[str, Any], action: str) -> None:
    bucket, _ = shared
    client, arn = _user_denied(server, bucket, action)
    with pytest.raises(ClientError) as exc:
        getattr(client, call)(Bucket=bucket, **kwargs)
    assert error_of(exc) == (
        "AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: "
        f'"arn:aws:s3:::{bucket}" with an explicit deny in an identity-based policy', 403)


def test_version_reads_need_get_object_version(server: Server, shared: tuple[str, str]) -> None:
    """HEAD and copy sources naming a version, and DeleteObjects entries with one."""
    bucket, version = shared
    client, _ = _user_denied(server, bucket, "s3:GetObjectVersion")
    with pytest.raises(ClientError) as exc:
        client.head_object(Bucket=bucket, Key="k", VersionId=version)
    assert error_of(exc)[::2] == ("403", 403)
    assert client.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1
    with pytest.raises(ClientError) as exc:
        client.copy_object(Bucket=bucket, Key="copied",
                           CopySource={"Bucket": bucket, "Key": "k", "VersionId": version})
    assert error_of(exc)[::2] == ("AccessDenied", 403)
    deleter, _ = _user_denied(server, bucket, "s3:DeleteObjectVersion")
    out = deleter.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "k", "VersionId": version}]})
    assert out["Errors"] == [{"Key": "k", "VersionId": version, "Code": "AccessDenied",
                              "Message": "Access Denied"}]
    assert "Deleted" not in out


# -- the AWS CLI ---------------------------------------------------------------------------------


def run_aws(server: Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The AWS CLI of this environment, as root of the management account, against ``server``
    (skips the test where the CLI is not installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
               AWS_DEFAULT_REGION=REGION, AWS_ENDPOINT_URL=server.endpoint,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    exe = shutil.which("aws", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the AWS CLI is not installed")
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=check,
                          timeout=120)


def _aws(server: Server, *args: str) -> Any:
    out = run_aws(server, "s3api", *args)
    return json.loads(out.stdout) if out.stdout.strip() else None


def assert_cli_validates(server: Server, began: datetime) -> None:
    """``aws cloudtrail validate-logs`` finds every digest and log file of TRAIL valid."""
    cli = run_aws(server, "cloudtrail", "validate-logs", "--trail-arn", TRAIL_ARN,
                  "--start-time", began.strftime("%Y-%m-%dT%H:%M:%SZ"), check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "INVALID" not in cli.stdout and " digest files valid" in cli.stdout


def test_awscli_versioning(server: Server, s3: Any, tmp_path: Path) -> None:
    name = unique("tg-ver-cli")
    s3.create_bucket(Bucket=name)
    try:
        _aws(server, "put-bucket-versioning", "--bucket", name,
             "--versioning-configuration", "Status=Enabled")
        assert _aws(server, "get-bucket-versioning", "--bucket", name) == {"Status": "Enabled"}
        body = tmp_path / "body"
        body.write_bytes(b"cli")
        put = _aws(server, "put-object", "--bucket", name, "--key", "k", "--body", str(body))
        deleted = _aws(server, "delete-object", "--bucket", name, "--key", "k")
        assert deleted["DeleteMarker"] is True
        listed = _aws(server, "list-object-versions", "--bucket", name)
        assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
            ("k", put["VersionId"], False)]
        assert [(d["VersionId"], d["IsLatest"]) for d in listed["DeleteMarkers"]] == [
            (deleted["VersionId"], True)]
        _aws(server, "delete-object", "--bucket", name, "--key", "k",
             "--version-id", deleted["VersionId"])
        target = tmp_path / "out"
        got = _aws(server, "get-object", "--bucket", name, "--key", "k", str(target))
        assert got["VersionId"] == put["VersionId"] and target.read_bytes() == b"cli"
    finally:
        empty_versions(s3, name)
        s3.delete_bucket(Bucket=name)


# -- CloudTrail log delivery into a versioned bucket -------------------------------------------


LOG_BUCKET = "versioned-trail-logs"
TRAIL = "versioned-logs"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/{TRAIL}"


def _digests(s3: Any) -> list[str]:
    prefix = f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=LOG_BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def _deliver(server: Server, data_bucket: str, version: str) -> str:
    """Log with validation (and the data bucket's data events) until two digests are written,
    then stop and wait for the final digest; returns the id of a version written meanwhile."""
    s3, ct, iam = (server.client(n) for n in ("s3", "cloudtrail", "iam"))
    ct.create_trail(Name=TRAIL, S3BucketName=LOG_BUCKET, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName=TRAIL, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{data_bucket}/"]}],
    }])
    ct.start_logging(Name=TRAIL)
    written = str(s3.put_object(Bucket=data_bucket, Key="new", Body=b"new")["VersionId"])
    deadline = time.monotonic() + 45
    count = 0
    while len(_digests(s3)) < 2 and time.monotonic() < deadline:
        s3.get_object(Bucket=data_bucket, Key="k", VersionId=version)["Body"].read()
        iam.create_user(UserName=f"versioned-logs-{count}")
        count += 1
        time.sleep(0.25)
    ct.stop_logging(Name=TRAIL)
    stopped = ct.get_trail_status(Name=TRAIL)["StopLoggingTime"]
    while time.monotonic() < deadline + 15:
        if ct.get_trail_status(Name=TRAIL).get("LatestDigestDeliveryTime", stopped) > stopped:
            break
        time.sleep(0.2)
    return written


@pytest.mark.slow
def test_cloudtrail_delivers_into_a_versioned_bucket(tmp_path: Path) -> None:
    """Log files and digests land in a versioned bucket as versions; ``aws cloudtrail
    validate-logs`` finds them all valid; a data event naming a version logs its versionId."""
    server = start(tmp_path / "data", extra_args=("--delivery-interval", "1",
                                                  "--digest-interval", "5"))
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=LOG_BUCKET)
        s3.put_bucket_versioning(Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(
            sc.cloudtrail_bucket_policy(LOG_BUCKET, {MANAGEMENT: TRAIL_ARN})))
        data_bucket = unique("tg-ver-data")
        s3.create_bucket(Bucket=data_bucket)
        s3.put_bucket_versioning(Bucket=data_bucket,
                                 VersioningConfiguration={"Status": "Enabled"})
        version = s3.put_object(Bucket=data_bucket, Key="k", Body=b"audited")["VersionId"]
        began = datetime.now(UTC) - timedelta(minutes=2)
        written = _deliver(server, data_bucket, version)
        assert len(_digests(s3)) >= 3
        files = [v for p in s3.get_paginator("list_object_versions").paginate(Bucket=LOG_BUCKET)
                 for v in p.get("Versions", [])]
        assert files and all(v["IsLatest"] and VERSION_ID.fullmatch(v["VersionId"])
                             for v in files)
        records = [r for v in files if "CloudTrail-Digest" not in v["Key"]
                   for r in json.loads(gzip.decompress(s3.get_object(
                       Bucket=LOG_BUCKET, Key=v["Key"])["Body"].read()))["Records"]]
        reads = [r for r in records if r["eventName"] == "GetObject"]
        assert reads and all(r["requestParameters"]["versionId"] == version for r in reads)
        puts = [r for r in records if r["eventName"] == "PutObject"
                and r["requestParameters"]["bucketName"] == data_bucket]
        assert [r["responseElements"]["x-amz-version-id"] for r in puts] == [written]
        assert_cli_validates(server, began)
    finally:
        server.stop()
