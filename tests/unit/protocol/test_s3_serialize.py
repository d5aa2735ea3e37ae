"""S3 responses as boto3 reads them: roots and namespaces, streaming bodies, HEAD, status
codes, ``encoding-type=url``, errors, header safety, and the cost of a 1,000-key listing."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from protocol_support import WHEN, context
from test_s3_support import body_of, handle, parse_output, raw, s3_client

from trailgate import protocol
from trailgate.gateway.context import RequestContext
from trailgate.protocol import restxml
from trailgate.protocol.errors import ServiceError

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
KEYS = [
    "plain.txt",
    "a b/c d.txt",
    "x+y=z&w",
    "100%/done %20 %2B",
    "漢字/😀 é",
    "dir//double//slash",
    " lead and trail ",
    "tab\there",
    "<xml>&'\"",
]


def root_of(body: bytes) -> ET.Element:
    return ET.fromstring(body)


# --------------------------------------------------------------------------- roots


@pytest.mark.parametrize(
    ("operation", "result", "root"),
    [
        (
            "ListBuckets",
            {"Buckets": [{"Name": "b", "CreationDate": WHEN}]},
            "ListAllMyBucketsResult",
        ),
        ("ListObjects", {"Name": "b"}, "ListBucketResult"),
        ("ListObjectsV2", {"Name": "b", "KeyCount": 0}, "ListBucketResult"),
        ("ListObjectVersions", {"Name": "b"}, "ListVersionsResult"),
        ("ListMultipartUploads", {"Bucket": "b"}, "ListMultipartUploadsResult"),
        ("ListParts", {"Bucket": "b"}, "ListPartsResult"),
        (
            "CreateMultipartUpload",
            {"Bucket": "b", "Key": "k", "UploadId": "u"},
            "InitiateMultipartUploadResult",
        ),
        (
            "CompleteMultipartUpload",
            {"Bucket": "b", "Key": "k", "ETag": '"e-2"'},
            "CompleteMultipartUploadResult",
        ),
        (
            "CopyObject",
            {"CopyObjectResult": {"ETag": '"e"', "LastModified": WHEN}},
            "CopyObjectResult",
        ),
        ("UploadPartCopy", {"CopyPartResult": {"ETag": '"e"'}}, "CopyPartResult"),
        ("DeleteObjects", {"Deleted": [{"Key": "a"}]}, "DeleteResult"),
        ("GetBucketAcl", {"Owner": {"ID": "o"}}, "AccessControlPolicy"),
        ("GetObjectAcl", {"Owner": {"ID": "o"}}, "AccessControlPolicy"),
        ("GetBucketPolicyStatus", {"PolicyStatus": {"IsPublic": False}}, "PolicyStatus"),
        (
            "GetBucketOwnershipControls",
            {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
            "OwnershipControls",
        ),
        (
            "GetPublicAccessBlock",
            {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}},
            "PublicAccessBlockConfiguration",
        ),
        ("GetBucketTagging", {"TagSet": [{"Key": "k", "Value": "v"}]}, "Tagging"),
        ("GetObjectTagging", {"TagSet": []}, "Tagging"),
        ("GetBucketVersioning", {"Status": "Enabled"}, "VersioningConfiguration"),
        (
            "GetBucketEncryption",
            {"ServerSideEncryptionConfiguration": {"Rules": []}},
            "ServerSideEncryptionConfiguration",
        ),
        ("GetBucketLocation", {"LocationConstraint": "eu-west-1"}, "LocationConstraint"),
    ],
)
def test_root_elements_and_namespace(operation: str, result: dict[str, Any], root: str) -> None:
    resp = restxml.serialize_s3(operation, result, "rid", head=False)
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/xml"
    assert resp.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert root_of(resp.body).tag == f"{{{NS}}}{root}"


def test_listing_body_shape() -> None:
    result = {
        "Name": "b",
        "Prefix": "",
        "MaxKeys": 1000,
        "KeyCount": 2,
        "IsTruncated": True,
        "NextContinuationToken": "t",
        "Contents": [
            {
                "Key": "a",
                "LastModified": WHEN,
                "ETag": '"e"',
                "Size": 1,
                "StorageClass": "STANDARD",
            },
            {
                "Key": "b",
                "LastModified": datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
                "ETag": '"f"',
                "Size": 2,
                "StorageClass": "STANDARD",
            },
        ],
        "CommonPrefixes": [{"Prefix": "p/"}],
    }
    body = restxml.serialize_s3("ListObjectsV2", result, "rid").body
    root = root_of(body)
    n = {"s": NS}
    assert [e.findtext("s:Key", namespaces=n) for e in root.findall("s:Contents", n)] == ["a", "b"]
    assert root.find("s:Contents/s:LastModified", n).text == "2026-11-28T12:00:00.000Z"  # type: ignore[union-attr]
    assert b"<LastModified>2026-01-01T00:00:00.000Z</LastModified>" in body
    assert root.findtext("s:IsTruncated", namespaces=n) == "true"
    assert root.findtext("s:CommonPrefixes/s:Prefix", namespaces=n) == "p/"
    assert root.find("s:EncodingType", n) is None


def test_acl_grantees_carry_xsi_type() -> None:
    result = {
        "Owner": {"ID": "o", "DisplayName": "me"},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "o"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": "http://acs/AllUsers"}, "Permission": "READ"},
        ],
    }
    resp = restxml.serialize_s3("GetBucketAcl", result, "rid")
    grantees = root_of(resp.body).findall(
        f"{{{NS}}}AccessControlList/{{{NS}}}Grant/{{{NS}}}Grantee"
    )
    assert [g.get(f"{{{XSI}}}type") for g in grantees] == ["CanonicalUser", "Group"]
    parsed = parse_output("GetBucketAcl", resp)
    assert parsed["Grants"] == result["Grants"]


@pytest.mark.parametrize(
    ("region", "text"), [(None, None), ("", None), ("us-east-1", None), ("eu-west-1", "eu-west-1")]
)
def test_location_constraint(region: str | None, text: str | None) -> None:
    resp = restxml.serialize_s3("GetBucketLocation", {"LocationConstraint": region}, "rid")
    root = root_of(resp.body)
    assert root.tag == f"{{{NS}}}LocationConstraint"
    assert root.text == text
    client = s3_client(lambda c: {"LocationConstraint": region})
    assert client.get_bucket_location(Bucket="b")["LocationConstraint"] == text


# --------------------------------------------------------------------------- status codes


@pytest.mark.parametrize(
    "operation",
    [
        "DeleteObject",
        "DeleteBucket",
        "DeleteBucketPolicy",
        "DeletePublicAccessBlock",
        "DeleteBucketOwnershipControls",
        "DeleteBucketTagging",
        "DeleteBucketEncryption",
        "DeleteObjectTagging",
        "AbortMultipartUpload",
    ],
)
def test_delete_operations_answer_204_without_body(operation: str) -> None:
    resp = restxml.serialize_s3(operation, {}, "rid")
    assert (resp.status, resp.body, resp.body_iter) == (204, b"", None)
    assert "content-type" not in resp.headers


def test_status_and_raw_header_overrides() -> None:
    resp = restxml.serialize_s3(
        "GetObject",
        {
            "Body": b"ab",
            "ContentLength": 2,
            "ContentRange": "bytes 0-1/10",
            "__status": 206,
            "__headers": {"Accept-Ranges": "bytes", "X-Custom": "é"},
        },
        "rid",
    )
    assert resp.status == 206
    assert resp.headers["content-range"] == "bytes 0-1/10"
    assert resp.headers["accept-ranges"] == "bytes"
    assert resp.headers["x-custom"] == "=?UTF-8?B?w6k=?="
    assert resp.body == b"ab"


def test_put_bucket_policy_and_create_bucket_have_no_body() -> None:
    resp = restxml.serialize_s3("PutBucketPolicy", {"__status": 204}, "rid")
    assert (resp.status, resp.body) == (204, b"")
    resp = restxml.serialize_s3("CreateBucket", {"Location": "/b"}, "rid")
    assert (resp.status, resp.body, resp.headers["location"]) == (200, b"", "/b")


# --------------------------------------------------------------------------- GetObject


def _object(ctx: RequestContext, body: Any) -> dict[str, Any]:
    return {
        "Body": body,
        "ContentLength": 11,
        "ContentType": "text/plain",
        "ETag": '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
        "LastModified": datetime(2026, 1, 1, tzinfo=UTC),
        "Metadata": {"owner": "Ann", "Note": "x\r\nInjected: yes"},
        "AcceptRanges": "bytes",
        "VersionId": "v1",
    }


def test_get_object_streams_an_iterator() -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i, part in enumerate((b"hello", b" ", b"world")):
            pulled.append(i)
            yield part

    client = s3_client(lambda ctx: _object(ctx, chunks()))
    got = client.get_object(Bucket="b", Key="k")
    resp = client.seen[0].response
    assert resp.body == b"" and resp.body_iter is not None
    assert pulled == []  # nothing read before the client reads
    assert got["Body"].read() == b"hello world"
    assert got["ContentLength"] == 11
    assert got["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    assert got["LastModified"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert resp.headers["last-modified"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert got["Metadata"]["owner"] == "Ann"
    assert "\r" not in "".join(resp.headers.values()) and "\n" not in "".join(resp.headers.values())
    assert got["VersionId"] == "v1"


def test_get_object_from_a_file_object_closes_it() -> None:
    stream = io.BytesIO(b"hello world")
    resp = restxml.serialize_s3("GetObject", _object(context(raw()), stream), "rid")
    assert resp.body_iter is not None
    assert b"".join(resp.body_iter) == b"hello world"
    assert stream.closed


def test_get_object_bytes_and_text() -> None:
    assert restxml.serialize_s3("GetObject", {"Body": b"x"}, "r").body == b"x"
    assert restxml.serialize_s3("GetObject", {"Body": "é"}, "r").body == "é".encode()
    assert restxml.serialize_s3("GetBucketPolicy", {"Policy": '{"a":1}'}, "r").body == b'{"a":1}'


def test_get_bucket_policy_is_the_raw_document() -> None:
    policy = '{"Version": "2012-10-17", "Statement": []}'
    client = s3_client(lambda ctx: {"Policy": policy})
    assert client.get_bucket_policy(Bucket="b")["Policy"] == policy


def test_head_object_has_headers_only() -> None:
    stream = io.BytesIO(b"hello world")
    resp = restxml.serialize_s3("HeadObject", {**_object(context(raw()), stream)}, "rid", head=True)
    assert (resp.body, resp.body_iter) == (b"", None)
    assert resp.headers["content-length"] == "11"
    client = s3_client(lambda ctx: _object(ctx, None))
    head = client.head_object(Bucket="b", Key="k")
    assert (head["ContentLength"], head["ContentType"]) == (11, "text/plain")


def test_head_errors_have_no_body() -> None:
    def missing(ctx: RequestContext) -> dict[str, Any]:
        raise ServiceError("NoSuchKey", "The specified key does not exist.", 404, {"Key": "k"})

    client = s3_client(missing)
    with pytest.raises(ClientError) as info:
        client.head_object(Bucket="b", Key="k")
    assert info.value.response["Error"] == {"Code": "404", "Message": "Not Found"}
    resp = client.seen[0].response
    assert (resp.body, resp.body_iter) == (b"", None)
    assert "content-type" not in resp.headers
    with pytest.raises(ClientError) as info:
        client.get_object(Bucket="b", Key="k")
    assert info.value.response["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "k",
    }


def test_not_modified_has_no_body() -> None:
    ctx = handle(
        raw("GET", "/b/k"),
        lambda c: (_ for _ in ()).throw(ServiceError("NotModified", "Not Modified", 304)),
    )
    assert (ctx.response.status, ctx.response.body) == (304, b"")


def test_error_extras_and_request_id_headers() -> None:
    err = ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
        403,
        {"StringToSign": "AWS4-HMAC-SHA256\n...", "BucketName": "b", "Resource": "/b/k"},
    )
    ctx = handle(raw("GET", "/b/k"), lambda c: (_ for _ in ()).throw(err))
    root = root_of(ctx.response.body)
    assert root.tag == "Error"
    assert [c.tag for c in root] == [
        "Code",
        "Message",
        "StringToSign",
        "BucketName",
        "Resource",
        "RequestId",
        "HostId",
    ]
    assert ctx.response.headers["x-amz-request-id"] == ctx.request_id
    assert ctx.response.headers["x-amz-id-2"] == restxml.host_id(ctx.request_id)


def test_a_serializer_failure_is_an_s3_internal_error() -> None:
    ctx = handle(
        raw("GET", "/b", "list-type=2"),
        lambda c: {"Contents": [{"Key": "k", "LastModified": "not a date"}]},
    )
    assert ctx.response.status == 500
    assert root_of(ctx.response.body).findtext("Code") == "InternalError"


def test_operation_unknown_to_the_facade_is_not_implemented() -> None:
    ctx = context(raw("GET", "/"))
    ctx.service = "s3"
    protocol.render(ctx)
    assert ctx.response.status == 501


# --------------------------------------------------------------------------- encoding-type


def _listing(ctx: RequestContext) -> dict[str, Any]:
    p = ctx.params
    contents = [
        {"Key": k, "LastModified": WHEN, "ETag": '"e"', "Size": 1, "StorageClass": "STANDARD"}
        for k in KEYS
    ]
    result: dict[str, Any] = {
        "Name": p["Bucket"],
        "Prefix": p.get("Prefix", ""),
        "Delimiter": p.get("Delimiter"),
        "MaxKeys": p.get("MaxKeys", 1000),
        "IsTruncated": False,
        "Contents": contents,
        "CommonPrefixes": [{"Prefix": "a b/"}, {"Prefix": "漢字/+%"}],
    }
    if ctx.operation == "ListObjectsV2":
        result.update(KeyCount=len(KEYS) + 2, StartAfter=p.get("StartAfter"))
    else:
        result.update(Marker=p.get("Marker", ""), NextMarker="x+y=z&w")
    return result


@pytest.mark.parametrize("virtual", [False, True])
def test_encoding_type_url_round_trip_v2(virtual: bool) -> None:
    client = s3_client(_listing, virtual=virtual)
    got = client.list_objects_v2(Bucket="b", Prefix="a b+%", Delimiter="/ +", StartAfter="é +")
    assert [c["Key"] for c in got["Contents"]] == KEYS
    assert [c["Prefix"] for c in got["CommonPrefixes"]] == ["a b/", "漢字/+%"]
    assert (got["Prefix"], got["Delimiter"], got["StartAfter"]) == ("a b+%", "/ +", "é +")
    body = client.seen[0].response.body
    assert b"<EncodingType>url</EncodingType>" in body
    assert b"<Key>a%20b/c%20d.txt</Key>" in body
    assert b"<Key>x%2By%3Dz%26w</Key>" in body
    assert b"<Key>100%25/done%20%2520%20%252B</Key>" in body


def test_encoding_type_url_round_trip_v1_and_paginator() -> None:
    client = s3_client(_listing)
    got = client.list_objects(Bucket="b", Prefix="p", Delimiter="/", Marker="m +")
    assert [c["Key"] for c in got["Contents"]] == KEYS
    assert (got["Marker"], got["NextMarker"], got["Delimiter"]) == ("m +", "x+y=z&w", "/")
    # V1 Prefix is percent-encoded by S3 but botocore does not decode it (its own quirk)
    assert got["Prefix"] == "p"
    pages = list(client.get_paginator("list_objects_v2").paginate(Bucket="b"))
    assert [c["Key"] for c in pages[0]["Contents"]] == KEYS


def test_without_encoding_type_keys_are_raw() -> None:
    result = {"Name": "b", "Contents": [{"Key": "a b+c"}]}
    body = restxml.serialize_s3("ListObjectsV2", result, "rid").body
    assert b"<Key>a b+c</Key>" in body and b"EncodingType" not in body
    parsed = parse_output("ListObjectsV2", restxml.serialize_s3("ListObjectsV2", result, "rid"))
    assert parsed["Contents"] == [{"Key": "a b+c"}]


def test_the_provider_may_echo_encoding_type_itself() -> None:
    result = {"Name": "b", "EncodingType": "url", "Contents": [{"Key": "a b"}]}
    body = restxml.serialize_s3("ListObjects", result, "rid").body
    assert b"<Key>a%20b</Key>" in body


# --------------------------------------------------------------------------- more through boto3


def test_multipart_and_delete_objects_through_boto3() -> None:
    def provider(ctx: RequestContext) -> dict[str, Any]:
        p = ctx.params
        if ctx.operation == "CreateMultipartUpload":
            return {"Bucket": p["Bucket"], "Key": p["Key"], "UploadId": "u-1"}
        if ctx.operation == "UploadPart":
            return {"ETag": '"p1"', "ChecksumCRC32": p.get("ChecksumCRC32")}
        if ctx.operation == "CompleteMultipartUpload":
            return {
                "Location": "http://localhost/b/k",
                "Bucket": "b",
                "Key": p["Key"],
                "ETag": '"abc-1"',
            }
        if ctx.operation == "DeleteObjects":
            objs = p["Delete"]["Objects"]
            return {
                "Deleted": [{"Key": objs[0]["Key"]}],
                "Errors": [{"Key": objs[1]["Key"], "Code": "AccessDenied", "Message": "no"}],
            }
        raise AssertionError(ctx.operation)

    client = s3_client(provider)
    up = client.create_multipart_upload(Bucket="b", Key="k k")
    assert up["UploadId"] == "u-1"
    part = client.upload_part(Bucket="b", Key="k k", UploadId="u-1", PartNumber=1, Body=b"x")
    assert part["ETag"] == '"p1"'
    done = client.complete_multipart_upload(
        Bucket="b",
        Key="k k",
        UploadId="u-1",
        MultipartUpload={"Parts": [{"ETag": '"p1"', "PartNumber": 1}]},
    )
    assert (done["ETag"], done["Key"]) == ('"abc-1"', "k k")
    deleted = client.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert deleted["Deleted"] == [{"Key": "a"}]
    assert deleted["Errors"] == [{"Key": "b", "Code": "AccessDenied", "Message": "no"}]


def test_list_buckets_through_boto3() -> None:
    client = s3_client(
        lambda ctx: {
            "Buckets": [{"Name": "a", "CreationDate": WHEN}, {"Name": "b", "CreationDate": WHEN}],
            "Owner": {"ID": "id", "DisplayName": "me"},
        }
    )
    got = client.list_buckets()
    assert [b["Name"] for b in got["Buckets"]] == ["a", "b"]
    assert got["Buckets"][0]["CreationDate"] == WHEN
    assert got["Owner"] == {"ID": "id", "DisplayName": "me"}


# --------------------------------------------------------------------------- cost


def test_thousand_key_listing_is_cheap() -> None:
    result = {
        "Name": "bucket",
        "Prefix": "",
        "MaxKeys": 1000,
        "KeyCount": 1000,
        "IsTruncated": True,
        "EncodingType": "url",
        "NextContinuationToken": "token",
        "Contents": [
            {
                "Key": f"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/file {i:05d}.json.gz",
                "LastModified": WHEN,
                "ETag": '"0123456789abcdef0123456789abcdef"',
                "Size": 1234 + i,
                "StorageClass": "STANDARD",
            }
            for i in range(1000)
        ],
    }
    restxml.serialize_s3("ListObjectsV2", result, "rid")
    start = time.perf_counter()
    for _ in range(5):
        resp = restxml.serialize_s3("ListObjectsV2", result, "rid")
    per_call = (time.perf_counter() - start) / 5
    assert per_call < 0.05, per_call
    parsed = parse_output("ListObjectsV2", resp)
    assert len(parsed["Contents"]) == 1000
    assert body_of(resp).count(b"<Contents>") == 1000


class _BlobLike:
    """An iterator that also has a no-argument ``read()`` and ``close()`` (a provider body)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __iter__(self) -> _BlobLike:
        return self

    def __next__(self) -> bytes:
        if not self.chunks:
            raise StopIteration
        return self.chunks.pop(0)

    def read(self) -> bytes:
        return b"".join(self)

    def close(self) -> None:
        self.closed = True


def test_iterator_bodies_are_streamed_as_they_are() -> None:
    body = _BlobLike([b"ab", b"cd"])
    resp = restxml.serialize_s3("GetObject", {"Body": body, "ContentLength": 4}, "rid")
    assert resp.body_iter is body
    assert b"".join(resp.body_iter) == b"abcd"


def test_head_and_204_close_an_unsent_body() -> None:
    body = _BlobLike([b"ab"])
    restxml.serialize_s3("HeadObject", {"ContentLength": 2}, "rid", head=True)
    resp = restxml.serialize_s3("GetObject", {"Body": body}, "rid", head=True)
    assert (resp.body, resp.body_iter, body.closed) == (b"", None, True)
    body = _BlobLike([b"ab"])
    resp = restxml.serialize_s3("GetObject", {"Body": body, "__status": 304}, "rid")
    assert (resp.status, resp.body_iter, body.closed) == (304, None, True)


def test_header_names_and_values_are_always_safe() -> None:
    resp = restxml.serialize_s3(
        "HeadObject",
        {
            "Metadata": {"1st": "ok", "bad name": "x", "ünï": "x", "crlf": "a\r\nb: c"},
            "ContentType": "text/plain; charset=é",
            "__headers": {"Bad Header": "x", "X-Ok": "a\nb"},
        },
        "rid",
        head=True,
    )
    assert resp.headers["x-amz-meta-1st"] == "ok"
    assert "x-amz-meta-bad name" not in resp.headers
    assert not any(name.startswith("x-amz-meta-ü") for name in resp.headers)
    assert "bad header" not in resp.headers
    for name, value in resp.headers.items():
        assert value.isascii() and "\r" not in value and "\n" not in value, name
    parsed = parse_output("HeadObject", resp)
    assert parsed["Metadata"]["1st"] == "ok"
