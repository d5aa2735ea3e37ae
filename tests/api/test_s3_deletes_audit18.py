"""Audit 18 (S3 versioned deletes, DeleteObjects, version-aware reads): what S3 says about a
delete marker (``Allow: DELETE`` on the 405, no ``Last-Modified`` on the ACL calls'; a 405 for
an ACL written on a key whose latest version is a marker; the copy source's 404 naming the
marker), and DeleteObjects' request checks and per-key answers."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server
from .test_s3_api import error_of, status, unique

NOT_ALLOWED = "The specified method is not allowed against this resource."
MALFORMED = ("The XML you provided was not well-formed or did not validate against our "
             "published schema")


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture()
def vbucket(s3: Any) -> Iterator[str]:
    name = unique("tg-del18")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=name)


def refusal(call: Any, **params: Any) -> tuple[tuple[str, str, int], dict[str, Any],
                                               dict[str, str]]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    response = exc.value.response
    return error_of(exc), response["Error"], dict(response["ResponseMetadata"]["HTTPHeaders"])


def marked(s3: Any, bucket: str, key: str = "k") -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    return str(s3.delete_object(Bucket=bucket, Key=key)["VersionId"])


# -- a delete marker asked for by version id ------------------------------------------------------


def test_reading_a_delete_marker_by_id_allows_only_delete(s3: Any, vbucket: str) -> None:
    """S3's 405 for a delete marker names the one method it takes: ``Allow: DELETE``."""
    marker = marked(s3, vbucket)
    for call in (s3.get_object, s3.get_object_tagging):
        error, body, headers = refusal(call, Bucket=vbucket, Key="k", VersionId=marker)
        assert error == ("MethodNotAllowed", NOT_ALLOWED, 405)
        assert (body["Method"], body["ResourceType"]) == ("GET", "DeleteMarker")
        assert (headers["allow"], headers["x-amz-delete-marker"],
                headers["x-amz-version-id"]) == ("DELETE", "true", marker)
        assert headers["last-modified"].endswith(" GMT")
    error, _, headers = refusal(s3.head_object, Bucket=vbucket, Key="k", VersionId=marker)
    assert error[::2] == ("405", 405)
    assert (headers["allow"], headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == (
        "DELETE", "true", marker)
    assert headers["last-modified"].endswith(" GMT")


def test_object_acl_of_a_delete_marker(s3: Any, vbucket: str) -> None:
    """GetObjectAcl / PutObjectAcl naming a marker: 405 without ``Last-Modified``; PutObjectAcl
    on a key whose latest version is a marker is a 405 too (naming no marker), where
    GetObjectAcl is NoSuchKey."""
    marker = marked(s3, vbucket)
    for call, method, extra in ((s3.get_object_acl, "GET", {}),
                                (s3.put_object_acl, "PUT", {"ACL": "private"})):
        error, body, headers = refusal(call, Bucket=vbucket, Key="k", VersionId=marker, **extra)
        assert error == ("MethodNotAllowed", NOT_ALLOWED, 405)
        assert (body["Method"], body["ResourceType"]) == (method, "DeleteMarker")
        assert (headers["allow"], headers["x-amz-delete-marker"],
                headers["x-amz-version-id"]) == ("DELETE", "true", marker)
        assert "last-modified" not in headers
    error, body, headers = refusal(s3.put_object_acl, Bucket=vbucket, Key="k", ACL="private")
    assert error == ("MethodNotAllowed", NOT_ALLOWED, 405)
    assert (body["Method"], body["ResourceType"]) == ("PUT", "DeleteMarker")
    assert headers["allow"] == "DELETE"
    assert "x-amz-delete-marker" not in headers and "x-amz-version-id" not in headers
    error, _, headers = refusal(s3.get_object_acl, Bucket=vbucket, Key="k")
    assert error == ("NoSuchKey", "The specified key does not exist.", 404)
    assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", marker)


def test_copy_source_behind_a_delete_marker_names_it(s3: Any, vbucket: str) -> None:
    """CopyObject / UploadPartCopy from a key whose latest version is a delete marker: 404
    NoSuchKey with ``x-amz-delete-marker: true`` and the marker's version id."""
    marker = marked(s3, vbucket)
    error, body, headers = refusal(s3.copy_object, Bucket=vbucket, Key="c",
                                   CopySource=f"{vbucket}/k")
    assert error == ("NoSuchKey", "The specified key does not exist.", 404)
    assert body["Key"] == "k"
    assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", marker)
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    try:
        error, _, headers = refusal(s3.upload_part_copy, Bucket=vbucket, Key="mp",
                                    UploadId=upload, PartNumber=1, CopySource=f"{vbucket}/k")
        assert error == ("NoSuchKey", "The specified key does not exist.", 404)
        assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == (
            "true", marker)
    finally:
        s3.abort_multipart_upload(Bucket=vbucket, Key="mp", UploadId=upload)
    error, _, headers = refusal(s3.copy_object, Bucket=vbucket, Key="c",
                                CopySource={"Bucket": vbucket, "Key": "absent"})
    assert error[::2] == ("NoSuchKey", 404) and "x-amz-delete-marker" not in headers


# -- DeleteObject --------------------------------------------------------------------------------


def test_delete_object_answers(s3: Any, vbucket: str) -> None:
    """A suspended bucket's marker is the null version; deleting a marker by id says so; an
    unknown well-formed version id is a 204 naming it; a malformed one is InvalidArgument."""
    marker = marked(s3, vbucket)
    gone = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert (status(gone), gone["DeleteMarker"], gone["VersionId"]) == (204, True, marker)
    unknown = s3.delete_object(Bucket=vbucket, Key="k", VersionId="B" * 32)
    assert (status(unknown), unknown["VersionId"]) == (204, "B" * 32)
    assert "DeleteMarker" not in unknown
    error, body, _ = refusal(s3.delete_object, Bucket=vbucket, Key="k", VersionId="nope")
    assert error == ("InvalidArgument", "Invalid version id specified", 400)
    assert (body["ArgumentName"], body["ArgumentValue"]) == ("versionId", "nope")
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    out = s3.delete_object(Bucket=vbucket, Key="k")
    headers = out["ResponseMetadata"]["HTTPHeaders"]
    assert (status(out), headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == (
        204, "true", "null")


# -- DeleteObjects -------------------------------------------------------------------------------


def post_delete(server: Server, bucket: str, body: bytes,
                headers: dict[str, str]) -> tuple[int, bytes]:
    request = AWSRequest(method="POST", url=f"{server.endpoint}/{bucket}?delete", data=body,
                         headers={**headers,
                                  "x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
    S3SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "s3", REGION).add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=body, method="POST",
                                  headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def md5_of(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def test_delete_objects_request_checks(server: Server, s3: Any, vbucket: str) -> None:
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    code, text = post_delete(server, vbucket, body, {})
    assert code == 400
    assert (b"<Code>InvalidRequest</Code><Message>Missing required header for this request: "
            b"Content-MD5 OR x-amz-checksum-*</Message>") in text
    for empty in (b"<Delete></Delete>", b"<Delete><Quiet>true</Quiet></Delete>"):
        code, text = post_delete(server, vbucket, empty, md5_of(empty))
        assert code == 400
        assert f"<Code>MalformedXML</Code><Message>{MALFORMED}</Message>".encode() in text
    error, _, _ = refusal(s3.delete_objects, Bucket=vbucket, Delete={
        "Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert error == ("MalformedXML", MALFORMED, 400)


def test_delete_objects_results(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a")["VersionId"]
    marker = marked(s3, vbucket, "m")
    out = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v1}, {"Key": "m", "VersionId": marker},
        {"Key": "x", "VersionId": "C" * 32}, {"Key": "y", "VersionId": "bad"}]})
    assert out["Deleted"] == [
        {"Key": "a", "VersionId": v1},
        {"Key": "m", "VersionId": marker, "DeleteMarker": True,
         "DeleteMarkerVersionId": marker},
        {"Key": "x", "VersionId": "C" * 32},
    ]
    assert out["Errors"] == [{"Key": "y", "VersionId": "bad", "Code": "NoSuchVersion",
                              "Message": "The specified version does not exist."}]
    quiet = s3.delete_objects(Bucket=vbucket, Delete={"Quiet": True, "Objects": [
        {"Key": "q"}, {"Key": "z", "VersionId": "bad"}]})
    assert "Deleted" not in quiet
    assert quiet["Errors"] == [{"Key": "z", "VersionId": "bad", "Code": "NoSuchVersion",
                                "Message": "The specified version does not exist."}]
    listed = s3.list_object_versions(Bucket=vbucket)
    assert [(v["Key"], v["IsLatest"]) for v in listed["Versions"]] == [("m", True)]
    assert [(d["Key"], d["IsLatest"]) for d in listed["DeleteMarkers"]] == [("q", True)]
