"""S3 request parsing: safe XML, S3's error codes, payload modes, header and query forms."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zlib
from datetime import UTC, datetime
from typing import Any, BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_s3_support import capture, handle, raw

from trailgate.protocol import checksums, restxml
from trailgate.protocol.errors import ServiceError
from trailgate.protocol.s3wire import errors

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32_of(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def parse(
    operation: str,
    method: str,
    path: str,
    qs: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    digest: bool = True,
) -> dict[str, Any]:
    hdrs = dict(headers or {})
    if body and digest:
        hdrs.setdefault("content-md5", md5_of(body))
    req = raw(method, path, qs, body, hdrs)
    name, bucket, key = restxml.s3_operation(req)
    assert name == operation
    return restxml.parse_s3(operation, req, bucket, key)


def fails(code: str, status: int = 400, **kwargs: Any) -> Any:
    return pytest.raises(ServiceError, match=f"^{code}:")


def delete_body(inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Delete {NS}>{inner}</Delete>'.encode()


# --------------------------------------------------------------------------- XML safety

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Delete [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>"""

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<Delete><Object><Key>&lol9;</Key></Object></Delete>"
)

HOSTILE = {
    "xxe": XXE,
    "billion-laughs": LAUGHS,
    "external-dtd": b'<!DOCTYPE Delete SYSTEM "http://127.0.0.1:1/x.dtd"><Delete/>',
    "parameter-entity": (
        b'<!DOCTYPE Delete [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p">%p;]><Delete/>'
    ),
    "doctype-only": b"<!DOCTYPE Delete><Delete><Object><Key>a</Key></Object></Delete>",
    "undefined-entity": b"<Delete><Object><Key>&nope;</Key></Object></Delete>",
    "unbound-prefix": b"<Delete><Object><x:Key>a</x:Key></Object></Delete>",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(ServiceError) as info:
        parse("DeleteObjects", "POST", "/b", "delete", body)
    assert (info.value.code, info.value.status) == ("MalformedXML", 400)
    assert info.value.message == errors.MALFORMED_XML
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<Delete><Object><Key>a</Key></Object>",
        b"<Delete><Object><Key>a</Object></Key></Delete>",
        b"<Delete/><Delete/>",
        b"\xff\xfe<Delete/>",
        b"<Foo " + NS.encode() + b"><Object><Key>a</Key></Object></Foo>",
        delete_body("<Object><VersionId>v</VersionId></Object>"),  # Key is required
        delete_body(""),  # Objects is required
        delete_body("<Object><Key>a</Key></Object><Quiet>maybe</Quiet>"),
        delete_body("<Object><Key><b>a</b></Key></Object>"),
        b"<Delete>" + b"<x>" * 100 + b"</x>" * 100 + b"</Delete>",
    ],
)
def test_malformed_xml(body: bytes) -> None:
    with fails("MalformedXML"):
        parse("DeleteObjects", "POST", "/b", "delete", body)


@pytest.mark.parametrize(
    ("operation", "method", "qs", "body"),
    [
        (
            "PutBucketVersioning",
            "PUT",
            "versioning",
            f"<VersioningConfiguration {NS}><Status>Sometimes</Status></VersioningConfiguration>",
        ),
        (
            "CompleteMultipartUpload",
            "POST",
            "uploadId=u",
            "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part>"
            "</CompleteMultipartUpload>",
        ),
        (
            "PutBucketOwnershipControls",
            "PUT",
            "ownershipControls",
            "<OwnershipControls><Rule><ObjectOwnership>Nobody</ObjectOwnership></Rule>"
            "</OwnershipControls>",
        ),
    ],
)
def test_values_outside_the_schema_are_malformed_xml(
    operation: str, method: str, qs: str, body: str
) -> None:
    path = "/b/k" if operation == "CompleteMultipartUpload" else "/b"
    with fails("MalformedXML"):
        parse(operation, method, path, qs, body.encode())


def test_xml_payloads_parse_without_namespace_and_with_unknown_elements() -> None:
    body = (
        b'<CompleteMultipartUpload><Part><ETag>"a"</ETag><PartNumber> 1 </PartNumber>'
        b'<Unknown>x</Unknown></Part><Part><ETag>"b"</ETag><PartNumber>2</PartNumber>'
        b"<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>"
    )
    params = parse("CompleteMultipartUpload", "POST", "/b/k", "uploadId=u%2B1", body)
    assert params["UploadId"] == "u+1"
    assert params["MultipartUpload"] == {
        "Parts": [
            {"ETag": '"a"', "PartNumber": 1},
            {"ETag": '"b"', "PartNumber": 2, "ChecksumCRC32": "AAAAAA=="},
        ]
    }


def test_grantee_xsi_type_attribute_is_read() -> None:
    body = (
        f"<AccessControlPolicy {NS}><AccessControlList><Grant>"
        '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">'
        "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
        "<Permission>READ</Permission></Grant></AccessControlList>"
        "<Owner><ID>o</ID></Owner></AccessControlPolicy>"
    ).encode()
    params = parse("PutBucketAcl", "PUT", "/b", "acl", body)
    assert params["AccessControlPolicy"] == {
        "Grants": [
            {
                "Grantee": {
                    "Type": "Group",
                    "URI": "http://acs.amazonaws.com/groups/global/AllUsers",
                },
                "Permission": "READ",
            }
        ],
        "Owner": {"ID": "o"},
    }


def test_keys_with_line_breaks_survive_deleteobjects() -> None:
    req = capture(
        "delete_objects", Bucket="b", Delete={"Objects": [{"Key": "a\r\nb\rc\n"}, {"Key": " "}]}
    )
    params = restxml.parse_s3("DeleteObjects", req, "b", None)
    assert params["Delete"]["Objects"] == [{"Key": "a\r\nb\rc\n"}, {"Key": " "}]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_payload_gives_params_or_a_4xx(body: bytes) -> None:
    try:
        parse("DeleteObjects", "POST", "/b", "delete", b"<Delete>" + body)
    except ServiceError as err:
        assert 400 <= err.status < 500


# --------------------------------------------------------------------------- payload rules


def test_missing_required_payload() -> None:
    with fails("MissingRequestBodyError"):
        parse("DeleteObjects", "POST", "/b", "delete", b"", {"content-md5": md5_of(b"")})
    with fails("MissingRequestBodyError"):
        parse("PutBucketPolicy", "PUT", "/b", "policy", b"", {"content-md5": md5_of(b"")})


def test_optional_payload_may_be_empty() -> None:
    assert parse("CreateBucket", "PUT", "/b") == {"Bucket": "b"}
    body = (
        f"<CreateBucketConfiguration {NS}><LocationConstraint>eu-west-1</LocationConstraint>"
        "</CreateBucketConfiguration>"
    ).encode()
    assert parse("CreateBucket", "PUT", "/b", body=body, digest=False) == {
        "Bucket": "b",
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
    }


def test_policy_is_text() -> None:
    policy = '{"Version": "2012-10-17", "Statement": [{"Sid": "é"}]}'
    params = parse("PutBucketPolicy", "PUT", "/b", "policy", policy.encode())
    assert params["Policy"] == policy
    with fails("MalformedPolicy"):
        parse("PutBucketPolicy", "PUT", "/b", "policy", b"{\xff}")


def test_checksum_required_operations() -> None:
    body = f"<Tagging {NS}><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    data = body.encode()
    with pytest.raises(ServiceError) as info:
        parse("PutBucketTagging", "PUT", "/b", "tagging", data, digest=False)
    assert info.value.code == "InvalidRequest"
    assert "Content-MD5" in info.value.message
    ok = {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}
    assert parse("PutBucketTagging", "PUT", "/b", "tagging", data) == {
        **ok,
        "ContentMD5": md5_of(data),
    }
    crc = {"x-amz-checksum-crc32": crc32_of(data), "x-amz-sdk-checksum-algorithm": "CRC32"}
    assert parse("PutBucketTagging", "PUT", "/b", "tagging", data, crc, digest=False) == {
        **ok,
        "ChecksumAlgorithm": "CRC32",
    }
    sha = {"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
    parse("PutBucketTagging", "PUT", "/b", "tagging", data, sha, digest=False)
    for name, size in (("crc32c", 4), ("crc64nvme", 8)):
        good = {f"x-amz-checksum-{name}": checksums.encode(checksums.compute(name.upper(), data))}
        parse("PutBucketTagging", "PUT", "/b", "tagging", data, good, digest=False)
        bad = {f"x-amz-checksum-{name}": base64.b64encode(b"\0" * size).decode()}
        with fails("BadDigest"):
            parse("PutBucketTagging", "PUT", "/b", "tagging", data, bad, digest=False)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"content-md5": md5_of(b"other")}, "BadDigest"),
        ({"content-md5": "not-base64"}, "InvalidDigest"),
        ({"content-md5": base64.b64encode(b"short").decode()}, "InvalidDigest"),
        ({"x-amz-checksum-crc32": crc32_of(b"other")}, "BadDigest"),
        ({"x-amz-checksum-crc32": "%%%"}, "InvalidRequest"),
        ({"x-amz-checksum-sha1": base64.b64encode(b"x" * 20).decode()}, "BadDigest"),
        ({"x-amz-checksum-crc32c": "4waSgw=="}, "BadDigest"),  # CRC32C of b"123456789"
        ({"x-amz-checksum-crc32c": "4waSgx=="}, "InvalidRequest"),  # non-canonical base64
        ({"x-amz-checksum-crc64nvme": "rosUhgp5mIg="}, "BadDigest"),
        ({"x-amz-checksum-crc64nvme": "4waSgw=="}, "InvalidRequest"),  # 4 bytes, not 8
    ],
)
def test_digest_mismatches(headers: dict[str, str], code: str) -> None:
    data = delete_body("<Object><Key>a</Key></Object>")
    with fails(code):
        parse("DeleteObjects", "POST", "/b", "delete", data, headers, digest=False)


def test_oversized_xml_is_refused_before_parsing() -> None:
    data = b"<Delete>" + b" " * errors.MAX_XML_BYTES + b"</Delete>"
    with fails("MaxMessageLengthExceeded"):
        parse("DeleteObjects", "POST", "/b", "delete", data, digest=False)


class FakeBody:
    """A spooled body as the HTTP adapter provides it (``services.base.RequestBody``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.md5_hex = hashlib.md5(data).hexdigest()
        self.sha256_hex = hashlib.sha256(data).hexdigest()

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Any:
        yield self.data


def test_streaming_body_is_not_read() -> None:
    source = FakeBody(b"x" * 100)
    req = raw("PUT", "/b/k", "", b"", {"content-length": "100", "content-md5": md5_of(source.data)})
    req.body_source = source
    params = restxml.parse_s3("PutObject", req, "b", "k")
    assert params["Body"] is source
    assert params["ContentLength"] == 100
    req.headers["content-md5"] = md5_of(b"y")
    with fails("BadDigest"):
        restxml.parse_s3("PutObject", req, "b", "k")


def test_small_body_without_source_is_passed_as_bytes() -> None:
    req = raw("PUT", "/b/k", "partNumber=2&uploadId=u", b"abc", {"content-length": "3"})
    assert restxml.parse_s3("UploadPart", req, "b", "k") == {
        "Bucket": "b",
        "Key": "k",
        "PartNumber": 2,
        "UploadId": "u",
        "ContentLength": 3,
        "Body": b"abc",
    }


def test_xml_payload_from_a_spooled_body() -> None:
    data = delete_body("<Object><Key>a</Key></Object>")
    req = raw("POST", "/b", "delete", b"", {"content-md5": md5_of(data)})
    req.body_source = FakeBody(data)
    assert restxml.parse_s3("DeleteObjects", req, "b", None)["Delete"] == {
        "Objects": [{"Key": "a"}]
    }


def test_content_length_rules_for_uploads() -> None:
    with pytest.raises(ServiceError) as info:
        restxml.parse_s3("PutObject", raw("PUT", "/b/k"), "b", "k")
    assert (info.value.code, info.value.status) == ("MissingContentLength", 411)
    chunked = raw("PUT", "/b/k", headers={"transfer-encoding": "chunked"})
    with pytest.raises(ServiceError) as info:
        restxml.parse_s3("PutObject", chunked, "b", "k")
    assert (info.value.code, info.value.status) == ("NotImplemented", 501)
    aws_chunked = raw(
        "PUT",
        "/b/k",
        headers={
            "transfer-encoding": "chunked",
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": "12",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-trailer": "x-amz-checksum-crc32",
        },
    )
    params = restxml.parse_s3("PutObject", aws_chunked, "b", "k")
    assert params["ContentLength"] == 12
    assert "ContentEncoding" not in params
    aws_chunked.headers["content-encoding"] = "aws-chunked,gzip"
    aws_chunked.headers["content-length"] = "999"
    params = restxml.parse_s3("PutObject", aws_chunked, "b", "k")
    assert (params["ContentLength"], params["ContentEncoding"]) == (12, "gzip")


def test_key_length_limit() -> None:
    ok = "é" * 512  # 1024 UTF-8 bytes
    assert restxml.parse_s3("GetObject", raw("GET", "/b/k"), "b", ok)["Key"] == ok
    with fails("KeyTooLongError"):
        restxml.parse_s3("GetObject", raw("GET", "/b/k"), "b", ok + "a")


# --------------------------------------------------------------------------- query and headers


def test_query_forms() -> None:
    params = parse(
        "ListObjectsV2",
        "GET",
        "/b",
        "list-type=2&prefix=a+b%2Bc%20d&delimiter=%2F&max-keys=7&fetch-owner=true"
        "&start-after=%E6%BC%A2&encoding-type=url&unknown=1&X-Amz-Date=x",
    )
    assert params == {
        "Bucket": "b",
        "Prefix": "a b+c d",
        "Delimiter": "/",
        "MaxKeys": 7,
        "FetchOwner": True,
        "StartAfter": "漢",
        "EncodingType": "url",
    }
    assert parse("ListObjects", "GET", "/b", "prefix=&prefix=x") == {"Bucket": "b", "Prefix": ""}


@pytest.mark.parametrize(
    ("operation", "method", "path", "qs", "headers", "code", "argument"),
    [
        (
            "ListObjectsV2",
            "GET",
            "/b",
            "list-type=2&max-keys=abc",
            {},
            "InvalidArgument",
            "max-keys",
        ),
        (
            "ListObjectsV2",
            "GET",
            "/b",
            "list-type=2&max-keys=99999999999",
            {},
            "InvalidArgument",
            "max-keys",
        ),
        (
            "ListObjectsV2",
            "GET",
            "/b",
            "list-type=2&encoding-type=base64",
            {},
            "InvalidArgument",
            "encoding-type",
        ),
        (
            "ListObjectsV2",
            "GET",
            "/b",
            "list-type=2&fetch-owner=maybe",
            {},
            "InvalidArgument",
            "fetch-owner",
        ),
        ("ListBuckets", "GET", "/", "max-buckets=0", {}, "InvalidArgument", "max-buckets"),
        ("PutObject", "PUT", "/b/k", "", {"x-amz-acl": "public"}, "InvalidArgument", "x-amz-acl"),
        (
            "PutObject",
            "PUT",
            "/b/k",
            "",
            {"x-amz-storage-class": "CHEAP"},
            "InvalidStorageClass",
            None,
        ),
        (
            "PutObject",
            "PUT",
            "/b/k",
            "",
            {"x-amz-object-lock-retain-until-date": "soon"},
            "InvalidArgument",
            "x-amz-object-lock-retain-until-date",
        ),
        (
            "PutObject",
            "PUT",
            "/b/k",
            "",
            {"x-amz-server-side-encryption-bucket-key-enabled": "yes"},
            "InvalidArgument",
            "x-amz-server-side-encryption-bucket-key-enabled",
        ),
        (
            "CopyObject",
            "PUT",
            "/b/k",
            "",
            {"x-amz-copy-source": "nokey"},
            "InvalidArgument",
            "x-amz-copy-source",
        ),
        ("GetObjectAttributes", "GET", "/b/k", "attributes", {}, "InvalidRequest", None),
        ("ListObjects", "GET", "/b", "prefix=%FF", {}, "InvalidURI", None),
    ],
)
def test_bad_values_get_s3_errors(
    operation: str,
    method: str,
    path: str,
    qs: str,
    headers: dict[str, str],
    code: str,
    argument: str | None,
) -> None:
    hdrs = {"content-length": "0", **headers}
    with pytest.raises(ServiceError) as info:
        parse(operation, method, path, qs, b"", hdrs)
    assert (info.value.code, info.value.status) == (code, 400)
    if argument is not None:
        assert info.value.extra["ArgumentName"] == argument


def test_header_forms() -> None:
    headers = {
        "content-length": "3",
        "content-type": "text/plain",
        "x-amz-meta-Owner-Name".lower(): "Ann",
        "x-amz-meta-empty": "",
        "expires": "Thu, 01 Jan 2026 00:00:00 GMT",
        "x-amz-object-lock-retain-until-date": "2026-11-28T12:00:00.000Z",
        "x-amz-server-side-encryption-bucket-key-enabled": "TRUE",
        "x-amz-acl": "private",
        "x-amz-tagging": "a=b&c=d",
    }
    params = parse("PutObject", "PUT", "/b/k", "", b"abc", headers)
    assert params["Metadata"] == {"owner-name": "Ann", "empty": ""}
    assert params["Expires"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert params["ObjectLockRetainUntilDate"] == datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert params["BucketKeyEnabled"] is True
    assert (params["ContentType"], params["ACL"], params["Tagging"]) == (
        "text/plain",
        "private",
        "a=b&c=d",
    )


def test_lenient_conditional_dates() -> None:
    params = parse(
        "GetObject",
        "GET",
        "/b/k",
        "",
        headers={"if-modified-since": "yesterday", "if-unmodified-since": "1767225600"},
    )
    assert "IfModifiedSince" not in params
    assert params["IfUnmodifiedSince"] == datetime(2026, 1, 1, tzinfo=UTC)


def test_header_lists_are_split_like_botocore_joins_them() -> None:
    req = capture(
        "get_object_attributes",
        Bucket="b",
        Key="k",
        ObjectAttributes=["ETag", "Checksum", "ObjectParts"],
    )
    params = restxml.parse_s3("GetObjectAttributes", req, "b", "k")
    assert params["ObjectAttributes"] == ["ETag", "Checksum", "ObjectParts"]


def test_facade_keeps_bucket_and_key_when_parsing_fails() -> None:
    ctx = handle(
        raw("PUT", "/b/k", headers={"x-amz-acl": "nope", "content-length": "0"}), lambda c: {}
    )
    assert ctx.params == {"Bucket": "b", "Key": "k"}
    assert ctx.response.status == 400
    assert b"<ArgumentName>x-amz-acl</ArgumentName>" in ctx.response.body


_TEXT = st.text(alphabet=st.characters(codec="latin-1"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]),
    _TEXT.map(lambda t: "/" + t),
    _TEXT,
    st.dictionaries(
        st.sampled_from(
            [
                "x-amz-acl",
                "x-amz-meta-a",
                "content-length",
                "if-modified-since",
                "range",
                "x-amz-copy-source",
                "x-amz-decoded-content-length",
                "content-md5",
                "x-amz-object-attributes",
                "transfer-encoding",
                "host",
            ]
        ),
        _TEXT,
    ),
    st.binary(max_size=100),
)
def test_any_request_gives_params_or_an_s3_error(
    method: str, path: str, qs: str, headers: dict[str, str], body: bytes
) -> None:
    ctx = handle(raw(method, path, qs, body, headers), lambda c: {})
    if ctx.service != "s3":  # a query-protocol form body by chance
        return
    assert 200 <= ctx.response.status < 600
    if ctx.error is not None:
        assert ctx.error.status in (400, 404, 405, 411, 501), ctx.error
