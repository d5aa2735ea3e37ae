"""S3 dispatch (spec 6.4): what real boto3 clients send, path and virtual-host style, goes to
the right operation with the right bucket, key and params; everything else fails as S3 does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import pytest
from protocol_support import context
from test_s3_support import BASE_HOST, capture, handle, raw

from trailgate import protocol
from trailgate.protocol import restxml
from trailgate.protocol.routing import RoutingError

B = "bucket-1"
K = "dir//a b+c%d/é 漢字.txt"
POLICY = '{"Version":"2012-10-17","Statement":[]}'
TAGS = {"TagSet": [{"Key": "k", "Value": "v"}]}
ACP = {
    "Owner": {"ID": "owner-id"},
    "Grants": [
        {
            "Grantee": {"Type": "CanonicalUser", "ID": "owner-id"},
            "Permission": "FULL_CONTROL",
        },
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        },
    ],
}
PARTS = {"Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
PAB = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": True,
}

# (client method, kwargs, operation, expected params beyond the kwargs)
CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("list_buckets", {}, "ListBuckets", {}),
    ("create_bucket", {"Bucket": B}, "CreateBucket", {}),
    (
        "create_bucket",
        {
            "Bucket": B,
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
            "ACL": "private",
            "ObjectOwnership": "BucketOwnerEnforced",
        },
        "CreateBucket",
        {},
    ),
    ("head_bucket", {"Bucket": B}, "HeadBucket", {}),
    ("delete_bucket", {"Bucket": B}, "DeleteBucket", {}),
    ("get_bucket_location", {"Bucket": B}, "GetBucketLocation", {}),
    ("put_bucket_policy", {"Bucket": B, "Policy": POLICY}, "PutBucketPolicy", {}),
    ("get_bucket_policy", {"Bucket": B}, "GetBucketPolicy", {}),
    ("delete_bucket_policy", {"Bucket": B}, "DeleteBucketPolicy", {}),
    ("get_bucket_policy_status", {"Bucket": B}, "GetBucketPolicyStatus", {}),
    ("get_bucket_acl", {"Bucket": B}, "GetBucketAcl", {}),
    ("put_bucket_acl", {"Bucket": B, "ACL": "private"}, "PutBucketAcl", {}),
    ("put_bucket_acl", {"Bucket": B, "AccessControlPolicy": ACP}, "PutBucketAcl", {}),
    (
        "put_bucket_ownership_controls",
        {"Bucket": B, "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
        "PutBucketOwnershipControls",
        {},
    ),
    ("get_bucket_ownership_controls", {"Bucket": B}, "GetBucketOwnershipControls", {}),
    ("delete_bucket_ownership_controls", {"Bucket": B}, "DeleteBucketOwnershipControls", {}),
    (
        "put_public_access_block",
        {"Bucket": B, "PublicAccessBlockConfiguration": PAB},
        "PutPublicAccessBlock",
        {},
    ),
    ("get_public_access_block", {"Bucket": B}, "GetPublicAccessBlock", {}),
    ("delete_public_access_block", {"Bucket": B}, "DeletePublicAccessBlock", {}),
    ("put_bucket_tagging", {"Bucket": B, "Tagging": TAGS}, "PutBucketTagging", {}),
    ("get_bucket_tagging", {"Bucket": B}, "GetBucketTagging", {}),
    ("delete_bucket_tagging", {"Bucket": B}, "DeleteBucketTagging", {}),
    (
        "put_bucket_versioning",
        {"Bucket": B, "VersioningConfiguration": {"Status": "Enabled"}},
        "PutBucketVersioning",
        {},
    ),
    ("get_bucket_versioning", {"Bucket": B}, "GetBucketVersioning", {}),
    (
        "put_bucket_encryption",
        {"Bucket": B, "ServerSideEncryptionConfiguration": ENCRYPTION},
        "PutBucketEncryption",
        {},
    ),
    ("get_bucket_encryption", {"Bucket": B}, "GetBucketEncryption", {}),
    ("delete_bucket_encryption", {"Bucket": B}, "DeleteBucketEncryption", {}),
    (
        "put_object",
        {
            "Bucket": B,
            "Key": K,
            "Body": b"hello",
            "ContentType": "text/plain",
            "Metadata": {"Owner-Name": "Ann", "x": "1"},
            "ACL": "bucket-owner-full-control",
        },
        "PutObject",
        {"ContentLength": 5, "Metadata": {"owner-name": "Ann", "x": "1"}},
    ),
    ("get_object", {"Bucket": B, "Key": K}, "GetObject", {"ChecksumMode": "ENABLED"}),
    (
        "get_object",
        {"Bucket": B, "Key": K, "Range": "bytes=0-1", "VersionId": "v1", "PartNumber": 1},
        "GetObject",
        {},
    ),
    ("head_object", {"Bucket": B, "Key": K}, "HeadObject", {}),
    ("delete_object", {"Bucket": B, "Key": K}, "DeleteObject", {}),
    (
        "copy_object",
        {"Bucket": B, "Key": K, "CopySource": {"Bucket": "src", "Key": "a b/c"}},
        "CopyObject",
        {"CopySource": "src/a%20b/c"},
    ),
    ("list_objects", {"Bucket": B}, "ListObjects", {"EncodingType": "url"}),
    (
        "list_objects",
        {"Bucket": B, "Prefix": "a b+", "Delimiter": "/", "Marker": "m", "MaxKeys": 5},
        "ListObjects",
        {"EncodingType": "url"},
    ),
    ("list_objects_v2", {"Bucket": B}, "ListObjectsV2", {"EncodingType": "url"}),
    (
        "list_objects_v2",
        {
            "Bucket": B,
            "Prefix": "p/",
            "Delimiter": "/",
            "ContinuationToken": "tok en+",
            "StartAfter": "s",
            "MaxKeys": 1000,
            "FetchOwner": True,
        },
        "ListObjectsV2",
        {"EncodingType": "url"},
    ),
    ("list_object_versions", {"Bucket": B}, "ListObjectVersions", {"EncodingType": "url"}),
    (
        "create_multipart_upload",
        {"Bucket": B, "Key": K, "ChecksumAlgorithm": "CRC32"},
        "CreateMultipartUpload",
        {},
    ),
    (
        "upload_part",
        {"Bucket": B, "Key": K, "PartNumber": 3, "UploadId": "up/1+=", "Body": b"part"},
        "UploadPart",
        {"ContentLength": 4},
    ),
    (
        "upload_part_copy",
        {
            "Bucket": B,
            "Key": K,
            "PartNumber": 2,
            "UploadId": "u1",
            "CopySource": "src/k",
            "CopySourceRange": "bytes=0-9",
        },
        "UploadPartCopy",
        {},
    ),
    (
        "complete_multipart_upload",
        {"Bucket": B, "Key": K, "UploadId": "u1", "MultipartUpload": PARTS},
        "CompleteMultipartUpload",
        {},
    ),
    (
        "abort_multipart_upload",
        {"Bucket": B, "Key": K, "UploadId": "u1"},
        "AbortMultipartUpload",
        {},
    ),
    ("list_multipart_uploads", {"Bucket": B}, "ListMultipartUploads", {}),
    ("list_parts", {"Bucket": B, "Key": K, "UploadId": "u1"}, "ListParts", {}),
    (
        "delete_objects",
        {
            "Bucket": B,
            "Delete": {
                "Objects": [{"Key": "a"}, {"Key": "b\r\nc", "VersionId": "v"}],
                "Quiet": True,
            },
        },
        "DeleteObjects",
        {},
    ),
    ("get_object_acl", {"Bucket": B, "Key": K}, "GetObjectAcl", {}),
    ("put_object_acl", {"Bucket": B, "Key": K, "ACL": "public-read"}, "PutObjectAcl", {}),
    ("get_object_tagging", {"Bucket": B, "Key": K}, "GetObjectTagging", {}),
    ("put_object_tagging", {"Bucket": B, "Key": K, "Tagging": TAGS}, "PutObjectTagging", {}),
    ("delete_object_tagging", {"Bucket": B, "Key": K}, "DeleteObjectTagging", {}),
    (
        "get_object_attributes",
        {"Bucket": B, "Key": K, "ObjectAttributes": ["ETag", "ObjectSize"]},
        "GetObjectAttributes",
        {},
    ),
]


def _ids() -> list[str]:
    return [f"{i}-{c[0]}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("virtual", [False, True], ids=["path", "virtual"])
@pytest.mark.parametrize(("call", "kwargs", "operation", "expected"), CASES, ids=_ids())
def test_boto3_requests_dispatch_and_parse(
    call: str, kwargs: dict[str, Any], operation: str, expected: dict[str, Any], virtual: bool
) -> None:
    req = capture(call, virtual=virtual, **kwargs)
    if virtual and "Bucket" in kwargs and call != "get_bucket_location":  # botocore: path
        assert req.headers["host"].startswith(B + ".")
    name, bucket, key = restxml.s3_operation(req, base_host=BASE_HOST)
    assert (name, bucket, key) == (operation, kwargs.get("Bucket"), kwargs.get("Key"))
    ctx = context(req)
    protocol.identify_request(ctx, s3_base_host=BASE_HOST)
    assert (ctx.service, ctx.operation) == ("s3", operation)
    protocol.parse_request(ctx)
    want = {k: v for k, v in kwargs.items() if k not in ("Body", "CopySource", "Metadata")}
    want.update(expected)
    assert {k: ctx.params.get(k) for k in want} == want
    if "Body" in kwargs:
        assert ctx.params["Body"] == kwargs["Body"]


# --------------------------------------------------------------------------- addressing


@pytest.mark.parametrize(
    ("path", "bucket", "key"),
    [
        ("/", None, None),
        ("/b", "b", None),
        ("/b/", "b", None),
        ("/b/k", "b", "k"),
        ("/b//k", "b", "/k"),
        ("/b/a//b/", "b", "a//b/"),
        ("/b/a%2Fb%20c+d%25", "b", "a/b c+d%"),
        ("/b/%E6%BC%A2%F0%9F%98%80", "b", "漢😀"),
        ("/b/%20", "b", " "),
    ],
)
def test_path_style_keys_are_decoded_exactly(
    path: str, bucket: str | None, key: str | None
) -> None:
    assert restxml.locate(raw("GET", path)) == (bucket, key)


@pytest.mark.parametrize(
    ("host", "base", "path", "expected"),
    [
        ("b.localhost:4566", "localhost", "/k/x", ("b", "k/x")),
        ("b.localhost", "localhost:4566", "/", ("b", None)),
        ("my.b.localhost:1", "localhost", "//k", ("my.b", "/k")),
        ("B.LOCALHOST:4566", "localhost", "/k", ("b", "k")),
        ("b.127.0.0.1.nip.io:4566", "127.0.0.1.nip.io", "/k", ("b", "k")),
        ("localhost:4566", "localhost", "/b/k", ("b", "k")),  # the base itself: path style
        ("b.localhost:4566", None, "/c/k", ("c", "k")),  # no base configured: path style
        ("xlocalhost:4566", "localhost", "/c/k", ("c", "k")),
        ("[::1]:4566", "localhost", "/c/k", ("c", "k")),
    ],
)
def test_virtual_host_style_only_with_a_base_host(
    host: str, base: str | None, path: str, expected: tuple[str | None, str | None]
) -> None:
    assert restxml.locate(raw("GET", path, headers={"host": host}), base) == expected


def test_identify_request_puts_bucket_and_key_into_params() -> None:
    ctx = context(raw("GET", "/b/a%20b", "versionId=v"))
    protocol.identify_request(ctx)
    assert (ctx.service, ctx.operation, ctx.params) == (
        "s3",
        "GetObject",
        {"Bucket": "b", "Key": "a b"},
    )
    ctx = context(raw("GET", "/"))
    protocol.identify_request(ctx)
    assert (ctx.operation, ctx.params) == ("ListBuckets", {})


def test_explicit_resolver_still_wins() -> None:
    ctx = context(raw("GET", "/b"))
    protocol.identify_request(ctx, s3_resolver=lambda r: "ListObjectsV2")
    assert ctx.operation == "ListObjectsV2"


# --------------------------------------------------------------------------- sub-resources


@pytest.mark.parametrize(
    ("method", "path", "qs", "headers", "operation"),
    [
        ("GET", "/b", "", {}, "ListObjects"),
        ("GET", "/b", "list-type=2", {}, "ListObjectsV2"),
        ("GET", "/b", "list-type=1&prefix=a", {}, "ListObjects"),
        ("GET", "/b", "prefix=a&foo=bar", {}, "ListObjects"),  # unknown parameters are ignored
        ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
        ("GET", "/b", "uploads=", {}, "ListMultipartUploads"),
        ("GET", "/b", "versions", {}, "ListObjectVersions"),
        ("GET", "/b", "location", {}, "GetBucketLocation"),
        ("GET", "/b", "policyStatus", {}, "GetBucketPolicyStatus"),
        ("GET", "/b", "analytics", {}, "ListBucketAnalyticsConfigurations"),
        ("GET", "/b", "analytics&id=x", {}, "GetBucketAnalyticsConfiguration"),
        ("GET", "/b", "lifecycle", {}, "GetBucketLifecycleConfiguration"),
        ("PUT", "/b", "acl", {}, "PutBucketAcl"),
        ("PUT", "/b/k", "acl", {}, "PutObjectAcl"),
        ("GET", "/b/k", "acl", {}, "GetObjectAcl"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("GET", "/b/k", "partNumber=1", {}, "GetObject"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("POST", "/b", "delete", {}, "DeleteObjects"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "s/k"}, "UploadPartCopy"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "s/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1", {}, "PutObject"),
        ("PUT", "/b/k", "", {}, "PutObject"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("DELETE", "/b/k", "versionId=v", {}, "DeleteObject"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("HEAD", "/b/k", "versionId=v", {}, "HeadObject"),
        ("PUT", "/b", "", {}, "CreateBucket"),
        ("DELETE", "/b", "", {}, "DeleteBucket"),
        ("GET", "/", "", {}, "ListBuckets"),
        ("GET", "/b/k", "AWSAccessKeyId=A&Signature=s&Expires=1", {}, "GetObject"),
        ("GET", "/b/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x", {}, "GetObject"),
        # a browser-based upload: its key and body are in the form
        ("POST", "/b", "", {"content-type": "multipart/form-data; boundary=x"}, "PutObject"),
    ],
)
def test_sub_resources(
    method: str, path: str, qs: str, headers: dict[str, str], operation: str
) -> None:
    assert restxml.s3_operation(raw(method, path, qs, headers=headers))[0] == operation


@pytest.mark.parametrize(
    ("method", "path", "qs", "code", "status", "resource"),
    [
        ("POST", "/b/k", "", "MethodNotAllowed", 405, "OBJECT"),
        ("DELETE", "/b", "location", "MethodNotAllowed", 405, "BUCKET"),
        ("PUT", "/b", "policyStatus", "MethodNotAllowed", 405, "BUCKET"),
        ("GET", "/b/k", "uploads", "MethodNotAllowed", 405, "OBJECT"),
        ("GET", "/b/k", "location", "MethodNotAllowed", 405, "OBJECT"),
        ("GET", "/b", "acl&policy", "MethodNotAllowed", 405, "BUCKET"),
        ("PUT", "/", "", "MethodNotAllowed", 405, "SERVICE"),
        ("HEAD", "/b", "acl", "MethodNotAllowed", 405, "BUCKET"),
        ("PATCH", "/b/k", "", "NotImplemented", 501, None),
        ("OPTIONS", "/b/k", "", "NotImplemented", 501, None),
        ("POST", "/b", "", "NotImplemented", 501, None),  # not a multipart/form-data upload
        ("GET", "/b/%FF", "", "InvalidURI", 400, None),
        ("GET", "//k", "", "InvalidURI", 400, None),
    ],
)
def test_unsupported_combinations_fail_as_s3_does(
    method: str, path: str, qs: str, code: str, status: int, resource: str | None
) -> None:
    with pytest.raises(RoutingError) as info:
        restxml.s3_operation(raw(method, path, qs))
    err = info.value
    assert (err.code, err.status, err.service) == (code, status, "s3")
    if resource is not None:
        assert err.extra == {"Method": method, "ResourceType": resource}


def test_routing_failure_is_rendered_as_s3_xml() -> None:
    ctx = handle(raw("POST", "/b/k"), lambda c: {})
    assert ctx.response.status == 405
    root = ET.fromstring(ctx.response.body)
    assert [root.findtext(t) for t in ("Code", "Method", "ResourceType")] == [
        "MethodNotAllowed",
        "POST",
        "OBJECT",
    ]
    assert ctx.response.headers["x-amz-request-id"] == ctx.request_id


def test_key_with_every_byte_class_round_trips_from_the_cli_encoding() -> None:
    key = "".join(chr(c) for c in range(32, 127)) + "é漢😀\t"
    path = "/b/" + quote(key, safe="/~")
    assert restxml.locate(raw("GET", path)) == ("b", key)
