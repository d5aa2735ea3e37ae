"""S3's CRC32C and CRC64NVME checksums through boto3 and the AWS CLI: uploads (single and
multipart), the checksum types multipart uploads allow, downloads that botocore validates,
copies, attributes, part listings, and S3's exact errors.

Expected values: the check input ``123456789`` gives CRC32C ``4waSgw==`` and CRC64NVME
``rosUhgp5mIg=`` (S3's own answers, as recorded by OpenStack Swift's s3api tests against AWS).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from awscrt import checksums as crt
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server
from .test_s3_api import MiB, empty_bucket, error_of, unique

CHECK = b"123456789"
EXPECTED = {"CRC32C": "4waSgw==", "CRC64NVME": "rosUhgp5mIg="}
PART = 5 * MiB


def crc32c(data: bytes) -> bytes:
    return int(crt.crc32c(data)).to_bytes(4, "big")


def crc64nvme(data: bytes) -> bytes:
    return int(crt.crc64nvme(data)).to_bytes(8, "big")


DIGESTS = {"CRC32C": crc32c, "CRC64NVME": crc64nvme}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def lean(server: Server) -> Any:
    """A client that sends checksums only where S3 requires them (none on UploadPart)."""
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}, request_checksum_calculation="when_required"),
    )


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-sums")
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def headers(response: dict[str, Any]) -> dict[str, str]:
    return dict(response["ResponseMetadata"]["HTTPHeaders"])


# -- single uploads and downloads --------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_put_object_lets_the_sdk_compute(s3: Any, bucket: str, algorithm: str) -> None:
    key = f"put/{algorithm}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=CHECK, ChecksumAlgorithm=algorithm)
    member, header = f"Checksum{algorithm}", f"x-amz-checksum-{algorithm.lower()}"
    assert (put[member], put["ChecksumType"]) == (EXPECTED[algorithm], "FULL_OBJECT")
    plain = s3.head_object(Bucket=bucket, Key=key)  # not shown unless asked for
    assert header not in headers(plain) and "x-amz-checksum-type" not in headers(plain)
    for call in (s3.head_object, s3.get_object):
        got = call(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert (headers(got)[header], headers(got)["x-amz-checksum-type"]) == (
            EXPECTED[algorithm], "FULL_OBJECT")
    # botocore validates the returned checksum while reading the body
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == CHECK
    ranged = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", Range="bytes=0-3")
    assert header not in headers(ranged)  # a full-object checksum does not describe a range
    attributes = s3.get_object_attributes(Bucket=bucket, Key=key,
                                          ObjectAttributes=["Checksum", "ObjectSize"])
    assert attributes["Checksum"] == {member: EXPECTED[algorithm], "ChecksumType": "FULL_OBJECT"}


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_put_object_with_a_precomputed_value(s3: Any, bucket: str, algorithm: str) -> None:
    data = os.urandom(3 * MiB + 7)
    value = b64(DIGESTS[algorithm](data))
    put = s3.put_object(Bucket=bucket, Key=f"pre/{algorithm}", Body=data,
                        **{f"Checksum{algorithm}": value})
    assert put[f"Checksum{algorithm}"] == value
    got = s3.get_object(Bucket=bucket, Key=f"pre/{algorithm}", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got[f"Checksum{algorithm}"] == value


def test_objects_uploaded_without_a_checksum_get_crc64nvme(lean: Any, bucket: str) -> None:
    """S3 adds its default checksum, a full-object CRC64NVME, to what comes without one."""
    put = lean.put_object(Bucket=bucket, Key="default/put", Body=CHECK)
    assert (put["ChecksumCRC64NVME"], put["ChecksumType"]) == (EXPECTED["CRC64NVME"],
                                                               "FULL_OBJECT")
    head = lean.head_object(Bucket=bucket, Key="default/put", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == EXPECTED["CRC64NVME"]
    data = os.urandom(PART + 1)
    uid = lean.create_multipart_upload(Bucket=bucket, Key="default/mpu")["UploadId"]
    parts = []
    for number, piece in enumerate((data[:PART], data[PART:]), start=1):
        part = lean.upload_part(Bucket=bucket, Key="default/mpu", UploadId=uid,
                                PartNumber=number, Body=piece)
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    listed = lean.list_parts(Bucket=bucket, Key="default/mpu", UploadId=uid)
    assert [p["ChecksumCRC64NVME"] for p in listed["Parts"]] == [
        b64(crc64nvme(data[:PART])), b64(crc64nvme(data[PART:]))]
    assert "ChecksumAlgorithm" not in listed
    done = lean.complete_multipart_upload(Bucket=bucket, Key="default/mpu", UploadId=uid,
                                          MultipartUpload={"Parts": parts})
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (b64(crc64nvme(data)),
                                                                 "FULL_OBJECT")


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"ChecksumCRC32C": "5waSgw=="}, "BadDigest",
         "The CRC32C you specified did not match the calculated checksum."),
        ({"ChecksumCRC64NVME": "sosUhgp5mIg="}, "BadDigest",
         "The CRC64NVME you specified did not match the calculated checksum."),
        ({"ChecksumCRC32C": "4waSgx=="}, "InvalidRequest",
         "Value for x-amz-checksum-crc32c header is invalid."),
        ({"ChecksumCRC64NVME": "rosUhgp5mIh="}, "InvalidRequest",
         "Value for x-amz-checksum-crc64nvme header is invalid."),
        ({"ChecksumCRC64NVME": "4waSgw=="}, "InvalidRequest",
         "Value for x-amz-checksum-crc64nvme header is invalid."),
        ({"ChecksumCRC32C": "4waSgw==", "ChecksumCRC64NVME": "rosUhgp5mIg="}, "InvalidRequest",
         "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."),
        ({"ChecksumCRC32C": "4waSgw==", "ChecksumAlgorithm": "SHA1"}, "InvalidRequest",
         "Value for x-amz-sdk-checksum-algorithm header is invalid."),
        ({"ChecksumAlgorithm": "CRC32C", "__strip": "x-amz-checksum-crc32c"}, "InvalidRequest",
         "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
         "x-amz-trailer headers were found."),
    ],
)
def test_put_object_errors(
    s3: Any, bucket: str, params: dict[str, str], code: str, message: str
) -> None:
    params = dict(params)
    strip = params.pop("__strip", None)  # a header botocore adds, removed before signing

    def without(request: Any, **_: Any) -> None:
        del request.headers[strip]

    if strip:
        s3.meta.events.register("before-sign.s3.PutObject", without, unique_id="strip")
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="refused", Body=CHECK, **params)
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", unique_id="strip")
    assert error_of(exc) == (code, message, 400)
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key="refused")
    assert error_of(missing)[2] == 404


def test_listings_show_the_checksum_algorithm_and_type(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="listed/crc64", Body=CHECK, ChecksumAlgorithm="CRC64NVME")
    s3.put_object(Bucket=bucket, Key="listed/precomputed", Body=CHECK,
                  ChecksumCRC32C=EXPECTED["CRC32C"])
    uid = s3.create_multipart_upload(Bucket=bucket, Key="listed/mpu",
                                     ChecksumAlgorithm="CRC32C")["UploadId"]
    parts = _parts(s3, bucket, "listed/mpu", uid, CHECK, "CRC32C")
    s3.complete_multipart_upload(Bucket=bucket, Key="listed/mpu", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    expected = {
        "listed/crc64": (["CRC64NVME"], "FULL_OBJECT"),
        "listed/precomputed": (["CRC32C"], "FULL_OBJECT"),
        "listed/mpu": (["CRC32C"], "COMPOSITE"),
    }
    for items in (
        s3.list_objects(Bucket=bucket, Prefix="listed/")["Contents"],
        s3.list_objects_v2(Bucket=bucket, Prefix="listed/")["Contents"],
        s3.list_object_versions(Bucket=bucket, Prefix="listed/")["Versions"],
    ):
        assert {o["Key"]: (o["ChecksumAlgorithm"], o["ChecksumType"]) for o in items} == expected


# -- aws-chunked uploads with a trailing checksum (what botocore sends over HTTPS) ------------


@pytest.fixture(scope="module")
def chunked(server: Server) -> Any:
    """A client that believes it talks HTTPS, so it streams uploads aws-chunked with the
    checksum in a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER); each request then goes to the
    plain-HTTP server (the scheme is not signed).  ``edits`` may rewrite the sent body."""
    cl = boto3.client(
        "s3", endpoint_url=server.endpoint.replace("http://", "https://"), region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    cl.edits = []
    cl.sent = []

    def to_http(request: Any, **_: Any) -> None:
        request.url = request.url.replace("https://", "http://", 1)
        cl.sent.append(dict(request.headers))
        if cl.edits and hasattr(request.body, "read"):
            body = request.body.read()
            for old, new in cl.edits:
                body = body.replace(old, new)
            request.body = body

    cl.meta.events.register("before-send", to_http)
    return cl


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
@pytest.mark.parametrize("size", [9, 3 * MiB + 5])  # in memory; spooled to disk (> 1 MiB)
def test_trailing_checksum_uploads(chunked: Any, bucket: str, algorithm: str, size: int) -> None:
    data = CHECK if size == 9 else os.urandom(size)
    key = f"trailer/{algorithm}/{size}"
    put = chunked.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    sent = {k.lower(): v for k, v in chunked.sent[-1].items()}
    assert sent["x-amz-content-sha256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}".encode()
    got = chunked.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data  # the chunk framing is not part of the object
    assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
    assert (got["ContentLength"], got.get("ContentEncoding")) == (size, None)
    if algorithm in DIGESTS:
        assert put[f"Checksum{algorithm}"] == b64(DIGESTS[algorithm](data))


def test_trailing_checksum_multipart(chunked: Any, bucket: str) -> None:
    data = os.urandom(PART + 3)
    uid = chunked.create_multipart_upload(Bucket=bucket, Key="trailer/mpu",
                                          ChecksumAlgorithm="CRC32C")["UploadId"]
    parts = _parts(chunked, bucket, "trailer/mpu", uid, data, "CRC32C")
    done = chunked.complete_multipart_upload(Bucket=bucket, Key="trailer/mpu", UploadId=uid,
                                             MultipartUpload={"Parts": parts})
    pieces = [data[:PART], data[PART:]]
    assert done["ChecksumCRC32C"] == b64(crc32c(b"".join(crc32c(p) for p in pieces))) + "-2"
    assert chunked.get_object(Bucket=bucket, Key="trailer/mpu")["Body"].read() == data


@pytest.mark.parametrize(
    ("replacement", "code", "message"),
    [
        (b"5waSgw==", "BadDigest",
         "The CRC32C you specified did not match the calculated checksum."),
        (b"4waSgx==", "InvalidRequest",
         "Value for x-amz-checksum-crc32c trailing header is invalid."),
    ],
)
def test_trailing_checksum_errors(
    chunked: Any, bucket: str, replacement: bytes, code: str, message: str
) -> None:
    chunked.edits[:] = [(b"x-amz-checksum-crc32c:4waSgw==", b"x-amz-checksum-crc32c:" + replacement)]
    try:
        with pytest.raises(ClientError) as exc:
            chunked.put_object(Bucket=bucket, Key="trailer/bad", Body=CHECK,
                               ChecksumAlgorithm="CRC32C")
    finally:
        chunked.edits.clear()
    assert error_of(exc) == (code, message, 400)


# -- multipart uploads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "kind", "expected"),
    [
        ("CRC32C", None, "COMPOSITE"),
        ("CRC32C", "COMPOSITE", "COMPOSITE"),
        ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
        ("CRC64NVME", None, "FULL_OBJECT"),
        ("CRC64NVME", "FULL_OBJECT", "FULL_OBJECT"),
        ("CRC32", None, "COMPOSITE"),
        ("SHA1", None, "COMPOSITE"),
    ],
)
def test_create_multipart_upload_checksum_types(
    s3: Any, bucket: str, algorithm: str, kind: str | None, expected: str
) -> None:
    extra = {"ChecksumType": kind} if kind else {}
    created = s3.create_multipart_upload(Bucket=bucket, Key="types", ChecksumAlgorithm=algorithm,
                                         **extra)
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == (algorithm, expected)
    listed = [u for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
              if u["UploadId"] == created["UploadId"]]
    assert (listed[0]["ChecksumAlgorithm"], listed[0]["ChecksumType"]) == (algorithm, expected)
    s3.abort_multipart_upload(Bucket=bucket, Key="types", UploadId=created["UploadId"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"},
         "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
        ({"ChecksumAlgorithm": "SHA1", "ChecksumType": "FULL_OBJECT"},
         "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."),
        ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
         "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
        ({"ChecksumType": "FULL_OBJECT"},
         "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
         "header."),
    ],
)
def test_create_multipart_upload_refuses_unsupported_combinations(
    s3: Any, bucket: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="combination", **params)
    assert error_of(exc) == ("InvalidRequest", message, 400)


@pytest.fixture(scope="module")
def unchecked(server: Server) -> Any:
    """A client that skips botocore's parameter validation, so the server sees the value."""
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        ("create_multipart_upload", {"ChecksumAlgorithm": "CRC32", "ChecksumType": "TEST"},
         "Value for x-amz-checksum-type header is invalid."),
        ("create_multipart_upload", {"ChecksumAlgorithm": "nope"},
         "Checksum algorithm provided is unsupported. Please try again with any of the valid "
         "types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, "
         "XXHASH64]"),
        ("create_multipart_upload", {"ChecksumAlgorithm": "CRC32,CRC32C"},
         "Invalid types are specified in x-amz-checksum-algorithm header."),
        ("get_object", {"ChecksumMode": "INVALID"},
         "Value for x-amz-checksum-mode header is invalid."),
        ("put_object", {"Body": CHECK, "ChecksumAlgorithm": "INVALIDALGO",
                        "ChecksumCRC32C": "4waSgw=="},
         "Value for x-amz-sdk-checksum-algorithm header is invalid."),
    ],
)
def test_unknown_checksum_header_values(
    unchecked: Any, bucket: str, operation: str, params: dict[str, Any], message: str
) -> None:
    unchecked.put_object(Bucket=bucket, Key="enum", Body=CHECK)
    with pytest.raises(ClientError) as exc:
        getattr(unchecked, operation)(Bucket=bucket, Key="enum", **params)
    assert error_of(exc) == ("InvalidRequest", message, 400)


def _parts(s3: Any, bucket: str, key: str, upload_id: str, data: bytes, algorithm: str,
           ) -> list[dict[str, Any]]:
    parts = []
    for number, start in enumerate(range(0, len(data), PART), start=1):
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                              Body=data[start:start + PART], ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": number, "ETag": part["ETag"],
                      f"Checksum{algorithm}": part[f"Checksum{algorithm}"]})
    return parts


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("CRC32C", "COMPOSITE"), ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT")],
)
def test_multipart_upload_checksums(s3: Any, bucket: str, algorithm: str, kind: str) -> None:
    data = os.urandom(2 * PART + 123)
    key, member, digest = f"mpu/{algorithm}/{kind}", f"Checksum{algorithm}", DIGESTS[algorithm]
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm,
                                     ChecksumType=kind)["UploadId"]
    parts = _parts(s3, bucket, key, uid, data, algorithm)
    pieces = [data[start:start + PART] for start in range(0, len(data), PART)]
    assert [p[member] for p in parts] == [b64(digest(p)) for p in pieces]
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm, kind)
    assert [p[member] for p in listed["Parts"]] == [p[member] for p in parts]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    if kind == "COMPOSITE":
        whole = b64(digest(b"".join(digest(p) for p in pieces))) + "-3"
    else:
        whole = b64(digest(data))
    assert (done[member], done["ChecksumType"]) == (whole, kind)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"]) == (whole, kind)
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data  # validated by botocore for full-object values
    attributes = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["Checksum"])
    # S3 shows a COMPOSITE value without its -N part count (audit 17: floci-io/floci#3083)
    assert attributes["Checksum"] == {member: whole.removesuffix("-3"), "ChecksumType": kind}


@pytest.mark.parametrize(
    ("algorithm", "expected_members"),
    [("CRC32C", ("ChecksumCRC32C", "COMPOSITE")), ("CRC64NVME", ("ChecksumCRC64NVME",
                                                                  "FULL_OBJECT"))],
)
def test_upload_file_multipart(s3: Any, bucket: str, tmp_path: Path, algorithm: str,
                               expected_members: tuple[str, str]) -> None:
    data = os.urandom(2 * PART + 99)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    key = f"transfer/{algorithm}"
    s3.upload_file(str(source), bucket, key, Config=config,
                   ExtraArgs={"ChecksumAlgorithm": algorithm})
    member, kind = expected_members
    digest = DIGESTS[algorithm]
    pieces = [data[start:start + PART] for start in range(0, len(data), PART)]
    whole = (b64(digest(b"".join(digest(p) for p in pieces))) + "-3" if kind == "COMPOSITE"
             else b64(digest(data)))
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"], head["ContentLength"]) == (whole, kind, len(data))
    target = tmp_path / "download.bin"
    s3.download_file(bucket, key, str(target))
    assert target.read_bytes() == data


def test_upload_part_of_another_algorithm_is_refused(s3: Any, lean: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mismatch",
                                     ChecksumAlgorithm="CRC32C")["UploadId"]
    cases = [
        (s3, {"ChecksumCRC32": "y/Q5Jg=="}, "crc32"),
        (s3, {"ChecksumAlgorithm": "CRC64NVME"}, "crc64nvme"),
        (s3, {"ChecksumAlgorithm": "SHA1"}, "sha1"),
        (lean, {}, "null"),  # no checksum at all for a composite upload
    ]
    for client, params, actual in cases:
        with pytest.raises(ClientError) as exc:
            client.upload_part(Bucket=bucket, Key="mismatch", UploadId=uid, PartNumber=1,
                               Body=CHECK, **params)
        assert error_of(exc) == (
            "InvalidRequest",
            f"Checksum Type mismatch occurred, expected checksum Type: crc32c, actual checksum "
            f"Type: {actual}", 400,
        ), params
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="mismatch", UploadId=uid, PartNumber=1, Body=CHECK,
                       ChecksumCRC32C="5waSgw==")
    assert error_of(exc) == (
        "BadDigest", "The CRC32C you specified did not match the calculated checksum.", 400)
    assert s3.list_parts(Bucket=bucket, Key="mismatch", UploadId=uid).get("Parts", []) == []
    good = s3.upload_part(Bucket=bucket, Key="mismatch", UploadId=uid, PartNumber=1, Body=CHECK,
                          ChecksumCRC32C=EXPECTED["CRC32C"])
    assert good["ChecksumCRC32C"] == EXPECTED["CRC32C"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mismatch", UploadId=uid)


def test_full_object_part_without_checksum_gets_one(lean: Any, bucket: str) -> None:
    uid = lean.create_multipart_upload(Bucket=bucket, Key="computed",
                                       ChecksumAlgorithm="CRC64NVME")["UploadId"]
    part = lean.upload_part(Bucket=bucket, Key="computed", UploadId=uid, PartNumber=1, Body=CHECK)
    listed = lean.list_parts(Bucket=bucket, Key="computed", UploadId=uid)["Parts"]
    assert listed[0]["ChecksumCRC64NVME"] == EXPECTED["CRC64NVME"]
    done = lean.complete_multipart_upload(
        Bucket=bucket, Key="computed", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (EXPECTED["CRC64NVME"],
                                                                 "FULL_OBJECT")


def test_complete_with_a_part_checksum_of_another_algorithm(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mixed",
                                     ChecksumAlgorithm="CRC32C")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mixed", UploadId=uid, PartNumber=1, Body=CHECK,
                          ChecksumCRC32C=EXPECTED["CRC32C"])
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mixed", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                        "ChecksumCRC32C": EXPECTED["CRC32C"],
                                        "ChecksumCRC32": "y/Q5Jg=="}]})
    assert error_of(exc) == (
        "BadDigest", "The crc32 you specified for part 1 did not match what we received.", 400)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mixed", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                        "ChecksumCRC32C": "5waSgw=="}]})
    assert error_of(exc)[0] == "InvalidPart"
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mixed", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                    "ChecksumCRC32C": EXPECTED["CRC32C"]}]})
    assert done["ChecksumCRC32C"] == b64(crc32c(crc32c(CHECK))) + "-1"


def test_complete_with_a_whole_object_checksum(s3: Any, bucket: str) -> None:
    data = os.urandom(PART + 11)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="whole", ChecksumAlgorithm="CRC64NVME")[
        "UploadId"]
    parts = _parts(s3, bucket, "whole", uid, data, "CRC64NVME")
    complete = {"Bucket": bucket, "Key": "whole", "UploadId": uid,
                "MultipartUpload": {"Parts": parts}}
    cases = [
        ({"ChecksumType": "COMPOSITE"}, "InvalidRequest",
         "The upload was created using the FULL_OBJECT checksum mode. The complete request must "
         "use the same checksum mode."),
        ({"ChecksumCRC32C": EXPECTED["CRC32C"]}, "InvalidRequest",
         "Checksum Type mismatch occurred, expected checksum Type: crc64nvme, actual checksum "
         "Type: crc32c"),
        ({"ChecksumCRC64NVME": EXPECTED["CRC64NVME"]}, "BadDigest",
         "The crc64nvme you specified did not match the calculated checksum."),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(**complete, **params)
        assert error_of(exc) == (code, message, 400), params
    whole = b64(crc64nvme(data))
    done = s3.complete_multipart_upload(**complete, ChecksumCRC64NVME=whole,
                                        ChecksumType="FULL_OBJECT")
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (whole, "FULL_OBJECT")


# -- copies ------------------------------------------------------------------------------------


def test_copy_object_carries_or_recomputes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="copy/src", Body=CHECK, ChecksumAlgorithm="CRC32C")
    carried = s3.copy_object(Bucket=bucket, Key="copy/same",
                             CopySource={"Bucket": bucket, "Key": "copy/src"})
    assert carried["CopyObjectResult"]["ChecksumCRC32C"] == EXPECTED["CRC32C"]
    recomputed = s3.copy_object(Bucket=bucket, Key="copy/other", ChecksumAlgorithm="CRC64NVME",
                                CopySource={"Bucket": bucket, "Key": "copy/src"})
    result = recomputed["CopyObjectResult"]
    assert (result["ChecksumCRC64NVME"], result["ChecksumType"]) == (EXPECTED["CRC64NVME"],
                                                                     "FULL_OBJECT")
    assert "ChecksumCRC32C" not in result
    head = s3.head_object(Bucket=bucket, Key="copy/other", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == EXPECTED["CRC64NVME"] and "ChecksumCRC32C" not in head


def test_copy_of_a_composite_object_gets_a_full_object_checksum(s3: Any, bucket: str) -> None:
    data = os.urandom(PART + 5)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="copy/mpu",
                                     ChecksumAlgorithm="CRC32C")["UploadId"]
    parts = _parts(s3, bucket, "copy/mpu", uid, data, "CRC32C")
    s3.complete_multipart_upload(Bucket=bucket, Key="copy/mpu", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    copied = s3.copy_object(Bucket=bucket, Key="copy/mpu-copy",
                            CopySource={"Bucket": bucket, "Key": "copy/mpu"})
    result = copied["CopyObjectResult"]
    assert (result["ChecksumCRC32C"], result["ChecksumType"]) == (b64(crc32c(data)),
                                                                  "FULL_OBJECT")


# -- the AWS CLI -------------------------------------------------------------------------------


def _aws(server: Server, home: Path, *args: str) -> str:
    exe = shutil.which("aws", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the AWS CLI is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID=ROOT_KEY,
               AWS_SECRET_ACCESS_KEY=ROOT_SECRET, AWS_DEFAULT_REGION=REGION, HOME=str(home),
               AWS_CONFIG_FILE=str(home / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"))
    out = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120,
                         cwd=home)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.slow
def test_aws_cli_checksums(server: Server, s3: Any, bucket: str, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(CHECK)
    _aws(server, tmp_path, "s3api", "put-object", "--bucket", bucket, "--key", "cli/put",
         "--body", str(small), "--checksum-algorithm", "CRC32C")
    head = s3.head_object(Bucket=bucket, Key="cli/put", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == EXPECTED["CRC32C"]
    big = tmp_path / "big.bin"
    data = os.urandom(9 * MiB)  # above the CLI's 8 MiB multipart threshold
    big.write_bytes(data)
    _aws(server, tmp_path, "s3", "cp", str(big), f"s3://{bucket}/cli/cp",
         "--checksum-algorithm", "CRC64NVME")
    head = s3.head_object(Bucket=bucket, Key="cli/cp", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC64NVME"], head["ChecksumType"]) == (b64(crc64nvme(data)),
                                                                 "FULL_OBJECT")
    back = tmp_path / "back.bin"
    _aws(server, tmp_path, "s3", "cp", f"s3://{bucket}/cli/cp", str(back),
         "--checksum-mode", "ENABLED")
    assert back.read_bytes() == data
