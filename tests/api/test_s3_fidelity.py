"""S3 behaviours checked against AWS's documented answers: UploadPartCopy (managed copies of
large objects), and the details of object and bucket calls that clients and tools rely on."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from .server import Server
from .test_s3_api import MiB, empty_bucket, error_of, multipart_etag, quoted_md5, unique


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-fid")
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


# -- UploadPartCopy --------------------------------------------------------------------------


def test_managed_copy_of_a_large_object_uses_upload_part_copy(s3: Any, bucket: str) -> None:
    data = os.urandom(11 * MiB)
    s3.put_object(Bucket=bucket, Key="big/source", Body=data, ContentType="application/gzip")
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.copy({"Bucket": bucket, "Key": "big/source"}, bucket, "big/copy", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/copy")
    assert (head["ContentLength"], head["ETag"], head["ContentType"]) == (
        len(data), multipart_etag(data, 5 * MiB), "application/gzip"
    )
    assert s3.get_object(Bucket=bucket, Key="big/copy")["Body"].read() == data


def test_upload_part_copy_ranges_and_checksum(s3: Any, bucket: str) -> None:
    data = b"0123456789abcdef"
    s3.put_object(Bucket=bucket, Key="upc/src", Body=data)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="upc/dst",
                                     ChecksumAlgorithm="SHA256")["UploadId"]
    whole = s3.upload_part_copy(Bucket=bucket, Key="upc/dst", UploadId=uid, PartNumber=1,
                                CopySource=f"{bucket}/upc/src")
    ranged = s3.upload_part_copy(Bucket=bucket, Key="upc/dst", UploadId=uid, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "upc/src"},
                                 CopySourceRange="bytes=10-15")
    sha = hashlib.sha256(data[10:]).digest()
    assert ranged["CopyPartResult"]["ETag"] == quoted_md5(data[10:])
    assert ranged["CopyPartResult"]["ChecksumSHA256"] == base64.b64encode(sha).decode()
    assert ranged["ServerSideEncryption"] == "AES256"
    parts = s3.list_parts(Bucket=bucket, Key="upc/dst", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (1, quoted_md5(data), 16), (2, quoted_md5(data[10:]), 6)
    ]
    assert whole["CopyPartResult"]["ETag"] == quoted_md5(data)
    s3.abort_multipart_upload(Bucket=bucket, Key="upc/dst", UploadId=uid)


_RANGE_FORM = (
    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and "
    "last are the zero-based offsets of the first and last bytes to copy"
)
_RANGE_SIZE = "Range specified is not valid for source object of size: 16"


@pytest.mark.parametrize(("extra", "expected"), [
    ({"CopySourceRange": "bytes=0-16"}, ("InvalidArgument", _RANGE_SIZE, 400)),
    ({"CopySourceRange": "bytes=9-3"}, ("InvalidArgument", _RANGE_SIZE, 400)),
    ({"CopySourceRange": "0-3"}, ("InvalidArgument", _RANGE_FORM, 400)),
    ({"CopySourceRange": "bytes=-3"}, ("InvalidArgument", _RANGE_FORM, 400)),
    ({"CopySourceRange": "bytes=4-"}, ("InvalidArgument", _RANGE_FORM, 400)),
    ({"CopySource": "{bucket}/upc/none"}, ("NoSuchKey", "The specified key does not exist.", 404)),
    ({"CopySource": "tg-no-such-bucket-x1/k"},
     ("NoSuchBucket", "The specified bucket does not exist", 404)),
    ({"UploadId": "no-such-upload"}, ("NoSuchUpload", (
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed."), 404)),
    ({"CopySourceIfMatch": '"0"'}, (
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412
    )),
])
def test_upload_part_copy_errors(
    s3: Any, bucket: str, extra: dict[str, str], expected: tuple[str, str, int]
) -> None:
    s3.put_object(Bucket=bucket, Key="upc/src", Body=b"0123456789abcdef")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="upc/err")["UploadId"]
    args = {"Bucket": bucket, "Key": "upc/err", "UploadId": uid, "PartNumber": 1,
            "CopySource": f"{bucket}/upc/src"}
    args.update({k: v.format(bucket=bucket) for k, v in extra.items()})
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(**args)
    assert error_of(exc) == expected
    assert s3.list_parts(Bucket=bucket, Key="upc/err", UploadId=uid).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="upc/err", UploadId=uid)


# -- multipart details -------------------------------------------------------------------------


def test_complete_multipart_upload_location_is_an_absolute_url(
    server: Server, s3: Any, bucket: str
) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp/a key+1")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp/a key+1", UploadId=uid, PartNumber=1,
                          Body=b"only part")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp/a key+1", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert done["Location"] == f"{server.endpoint}/{bucket}/mp/a%20key%2B1"


# -- object headers --------------------------------------------------------------------------

_BAD_REDIRECT = (
    "InvalidRedirectLocation",
    "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.", 400,
)


@pytest.mark.parametrize("call", ["put_object", "create_multipart_upload", "copy_object"])
def test_website_redirect_location_must_be_a_path_or_url(s3: Any, bucket: str, call: str) -> None:
    s3.put_object(Bucket=bucket, Key="redirect/src", Body=b"x")
    extra = {"CopySource": f"{bucket}/redirect/src"} if call == "copy_object" else {}
    with pytest.raises(ClientError) as exc:
        getattr(s3, call)(Bucket=bucket, Key="redirect/bad", WebsiteRedirectLocation="page.html",
                          **extra)
    assert error_of(exc) == _BAD_REDIRECT
    for location in ("/page.html", "https://example.com/x"):
        getattr(s3, call)(Bucket=bucket, Key="redirect/ok", WebsiteRedirectLocation=location,
                          **extra)
        if call != "create_multipart_upload":
            head = s3.head_object(Bucket=bucket, Key="redirect/ok")
            assert head["WebsiteRedirectLocation"] == location


def test_copy_to_itself_changing_only_the_redirect_location(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="redirect/self", Body=b"x", ContentType="text/plain",
                  Metadata={"kept": "yes"})
    s3.copy_object(Bucket=bucket, Key="redirect/self", CopySource=f"{bucket}/redirect/self",
                   WebsiteRedirectLocation="/elsewhere")
    head = s3.head_object(Bucket=bucket, Key="redirect/self")
    assert (head["WebsiteRedirectLocation"], head["ContentType"], head["Metadata"]) == (
        "/elsewhere", "text/plain", {"kept": "yes"}
    )


# -- times -------------------------------------------------------------------------------------


def test_times_are_whole_seconds(s3: Any, bucket: str) -> None:
    before = datetime.now(UTC)
    s3.put_object(Bucket=bucket, Key="times/a", Body=b"a")
    head = s3.head_object(Bucket=bucket, Key="times/a")
    # never earlier than the request: a file written before its upload is not newer
    assert before <= head["LastModified"] <= before + timedelta(seconds=5)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="times/")["Contents"][0]
    assert listed["LastModified"] == head["LastModified"]
    copied = s3.copy_object(Bucket=bucket, Key="times/b", CopySource=f"{bucket}/times/a")
    assert copied["CopyObjectResult"]["LastModified"].microsecond == 0
    uid = s3.create_multipart_upload(Bucket=bucket, Key="times/c")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="times/c", UploadId=uid, PartNumber=1, Body=b"c")
    part = s3.list_parts(Bucket=bucket, Key="times/c", UploadId=uid)["Parts"][0]
    upload = s3.list_multipart_uploads(Bucket=bucket, Prefix="times/")["Uploads"][0]
    assert (part["LastModified"].microsecond, upload["Initiated"].microsecond) == (0, 0)
    s3.abort_multipart_upload(Bucket=bucket, Key="times/c", UploadId=uid)
    created = next(b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket)
    assert created["CreationDate"].microsecond == 0


def test_an_account_initiator_is_shown_as_the_owner(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp/by-root")["UploadId"]
    parts = s3.list_parts(Bucket=bucket, Key="mp/by-root", UploadId=uid)
    assert parts["Initiator"] == parts["Owner"]
    assert set(parts["Owner"]) == {"ID"} and len(parts["Owner"]["ID"]) == 64
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="mp/by-root")["Uploads"]
    assert [(u["Initiator"], u["Owner"]) for u in uploads] == [(parts["Owner"], parts["Owner"])]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp/by-root", UploadId=uid)


_TAGGING_HEADER = (
    "InvalidArgument",
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "
    "without tag name duplicates.", 400,
)


@pytest.mark.parametrize(("tagging", "expected"), [
    ("a=1&a=2", _TAGGING_HEADER),
    ("=", _TAGGING_HEADER),
    ("a=1&=2", _TAGGING_HEADER),
    ("&".join(f"k{i}=v" for i in range(11)),
     ("BadRequest", "Object tags cannot be greater than 10", 400)),
    ("k" * 129 + "=v", ("InvalidTag", "The TagKey you have provided is invalid", 400)),
    ("k=" + "v" * 257, ("InvalidTag", "The TagValue you have provided is invalid", 400)),
])
@pytest.mark.parametrize("call", ["put_object", "create_multipart_upload"])
def test_tagging_header_is_checked(
    s3: Any, bucket: str, call: str, tagging: str, expected: tuple[str, str, int]
) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(s3, call)(Bucket=bucket, Key="tags/bad", Tagging=tagging)
    assert error_of(exc) == expected


def test_tagging_header_round_trip(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="tags/ok", Body=b"x", Tagging="a=1&b=&c%20d=e%2Bf")
    tags = s3.get_object_tagging(Bucket=bucket, Key="tags/ok")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", ""), ("c d", "e+f")]


# -- checksums -----------------------------------------------------------------------------------


def test_copy_result_carries_the_source_checksum(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="sum/src", Body=b"checked", ChecksumAlgorithm="SHA256")
    copied = s3.copy_object(Bucket=bucket, Key="sum/dst", CopySource=f"{bucket}/sum/src")
    result = copied["CopyObjectResult"]
    assert (result["ChecksumSHA256"], result["ChecksumType"]) == (put["ChecksumSHA256"],
                                                                  "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="sum/dst", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == put["ChecksumSHA256"]


# -- default encryption --------------------------------------------------------------------------

_SSE_S3 = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def test_default_encryption_put_get_delete(s3: Any, bucket: str) -> None:
    def rules() -> list[dict[str, Any]]:
        got = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        return list(got["Rules"])

    assert rules() == [{**_SSE_S3, "BucketKeyEnabled": False}]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{**_SSE_S3, "BucketKeyEnabled": True}]})
    assert rules() == [{**_SSE_S3, "BucketKeyEnabled": True}]
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert rules() == [{**_SSE_S3, "BucketKeyEnabled": False}]  # back to the SSE-S3 default


@pytest.mark.parametrize(("rule", "expected"), [
    ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}, (
        "NotImplemented", "A header you provided implies functionality that is not implemented",
        501)),
    ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256",
                                             "KMSMasterKeyID": "alias/x"}}, (
        "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is "
        "not aws:kms or aws:kms:dsse", 400)),
    ({"BucketKeyEnabled": True}, (
        "MalformedXML", "The XML you provided was not well-formed or did not validate against "
        "our published schema", 400)),
])
def test_default_encryption_refused(
    s3: Any, bucket: str, rule: dict[str, Any], expected: tuple[str, str, int]
) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_encryption(Bucket=bucket,
                                 ServerSideEncryptionConfiguration={"Rules": [rule]})
    assert error_of(exc) == expected


@pytest.mark.parametrize(("call", "kwargs"), [
    ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [_SSE_S3]}}),
    ("delete_bucket_encryption", {}),
    ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}}),
    ("put_bucket_website", {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "i.html"}}}),
])
def test_a_missing_bucket_is_named_first(s3: Any, call: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(s3, call)(Bucket="tg-fid-no-such-bucket", **kwargs)
    assert error_of(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)
    assert exc.value.response["Error"]["BucketName"] == "tg-fid-no-such-bucket"


# -- conditional writes ---------------------------------------------------------------------


def test_a_write_if_none_match_takes_only_a_star(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="cond/k", Body=b"v1")
    for value in (put["ETag"], '"0123"'):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="cond/k", Body=b"v2", IfNoneMatch=value)
        assert error_of(exc) == (
            "NotImplemented", "A header you provided implies functionality that is not "
            "implemented", 501,
        )
        assert exc.value.response["Error"]["Header"] == "If-None-Match"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="cond/k", Body=b"v2", IfNoneMatch="*")
    assert error_of(exc)[0] == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="cond/k")["Body"].read() == b"v1"


# -- bucket tags, owners, storage classes, multipart checksums -----------------------------


def test_create_bucket_with_tags(s3: Any) -> None:
    name = unique("tg-fid-tags")
    tags = [{"Key": "team", "Value": "audit"}, {"Key": "env", "Value": ""}]
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": tags})
    try:
        got = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        assert sorted((t["Key"], t["Value"]) for t in got) == [("env", ""), ("team", "audit")]
    finally:
        s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert error_of(exc) == ("InvalidTag", "Cannot provide multiple Tags with the same key", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_tag_keys_may_not_start_with_aws(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})
    assert error_of(exc) == ("InvalidTag", "System tags cannot be added/updated by requester",
                             400)


def test_no_display_names(s3: Any, bucket: str) -> None:
    """S3 stopped returning Owner/Grantee DisplayName on November 21, 2025."""
    s3.put_object(Bucket=bucket, Key="owner/k", Body=b"x")
    owners = [
        s3.list_buckets()["Owner"],
        s3.get_bucket_acl(Bucket=bucket)["Owner"],
        s3.get_object_acl(Bucket=bucket, Key="owner/k")["Owner"],
        s3.list_objects_v2(Bucket=bucket, Prefix="owner/", FetchOwner=True)["Contents"][0]["Owner"],
        s3.list_objects(Bucket=bucket, Prefix="owner/")["Contents"][0]["Owner"],
        s3.list_object_versions(Bucket=bucket, Prefix="owner/")["Versions"][0]["Owner"],
    ]
    assert all(set(owner) == {"ID"} and len(owner["ID"]) == 64 for owner in owners)
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [g["Grantee"] for g in grants] == [{"ID": owners[0]["ID"], "Type": "CanonicalUser"}]


@pytest.mark.parametrize("klass", ["GLACIER", "DEEP_ARCHIVE"])
def test_an_archived_object_cannot_be_read(s3: Any, bucket: str, klass: str) -> None:
    s3.put_object(Bucket=bucket, Key=f"cold/{klass}", Body=b"frozen", StorageClass=klass)
    head = s3.head_object(Bucket=bucket, Key=f"cold/{klass}")
    assert (head["StorageClass"], head["ContentLength"]) == (klass, 6)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key=f"cold/{klass}")
    assert error_of(exc) == (
        "InvalidObjectState", "The operation is not valid for the object's storage class", 403
    )
    assert exc.value.response["Error"]["StorageClass"] == klass
    s3.put_object(Bucket=bucket, Key="cold/ir", Body=b"instant", StorageClass="GLACIER_IR")
    assert s3.get_object(Bucket=bucket, Key="cold/ir")["Body"].read() == b"instant"


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def test_multipart_upload_checksums(s3: Any, bucket: str, tmp_path: Any) -> None:
    data = os.urandom(11 * MiB)
    source = tmp_path / "parts.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(source), bucket, "sums/composite", Config=config)  # CRC32 parts
    raw = b"".join(_crc32(data[i:i + 5 * MiB]) for i in range(0, len(data), 5 * MiB))
    composite = base64.b64encode(_crc32(raw)).decode() + "-3"
    head = s3.head_object(Bucket=bucket, Key="sums/composite", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (composite, "COMPOSITE")
    got = s3.get_object(Bucket=bucket, Key="sums/composite", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumCRC32"] == composite
    # Asked for a full-object checksum: the CRC32 of the whole object.
    created = s3.create_multipart_upload(Bucket=bucket, Key="sums/full", ChecksumAlgorithm="CRC32",
                                         ChecksumType="FULL_OBJECT")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("CRC32", "FULL_OBJECT")
    uid = created["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), 5 * MiB), start=1):
        part = s3.upload_part(Bucket=bucket, Key="sums/full", UploadId=uid, PartNumber=number,
                              Body=data[start:start + 5 * MiB], ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": number, "ETag": part["ETag"],
                      "ChecksumCRC32": part["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="sums/full", UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    whole = base64.b64encode(_crc32(data)).decode()
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="sums/full", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (whole, "FULL_OBJECT")


def test_composite_upload_needs_every_part_checksum(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="sums/needs",
                                     ChecksumAlgorithm="SHA256")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="sums/needs", UploadId=uid, PartNumber=1,
                          Body=b"only part", ChecksumAlgorithm="SHA256")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="sums/needs", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                 "ETag": part["ETag"]}]})
    assert error_of(exc) == (
        "InvalidRequest", "The upload was created using a sha256 checksum. The complete request "
        "must include the checksum for each part. It was missing for part 1 in the request.", 400,
    )
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="sums/needs", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                    "ChecksumSHA256": part["ChecksumSHA256"]}]})
    assert done["ChecksumType"] == "COMPOSITE" and done["ChecksumSHA256"].endswith("-1")
