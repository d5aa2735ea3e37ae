"""Audit 17: S3's part checksums of a completed COMPOSITE multipart object.

Real S3 (floci's wire captures of it, floci-io/floci#3083 and its S3 compatibility tests;
LocalStack's AWS-validated tests, localstack#12764 and #12842):

- GetObjectAttributes ``Checksum`` of a COMPOSITE object is its checksum without the ``-N``
  part count, with ``ChecksumType`` COMPOSITE, and ``ObjectParts`` lists each part's checksum;
- GetObject / HeadObject with ``partNumber`` and ``x-amz-checksum-mode: ENABLED`` answer the
  part's own checksum (type COMPOSITE); a FULL_OBJECT object of several parts answers none, one
  of a single part its whole-object checksum.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from awscrt import checksums as crt
from botocore.config import Config
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server
from .test_s3_api import MiB, empty_bucket, error_of, unique

PART = 5 * MiB


def _crc32(data: bytes) -> bytes:
    return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")


def _crc64nvme(data: bytes) -> bytes:
    return int(crt.crc64nvme(data)).to_bytes(8, "big")


DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": _crc32,
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
    "CRC64NVME": _crc64nvme,
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-ck17")
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def _upload(s3: Any, bucket: str, key: str, pieces: list[bytes], algorithm: str,
            kind: str | None = None) -> dict[str, Any]:
    extra = {"ChecksumType": kind} if kind else {}
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm,
                                     **extra)["UploadId"]
    parts = []
    for number, piece in enumerate(pieces, start=1):
        sent = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=number,
                              Body=piece, ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": number, "ETag": sent["ETag"],
                      f"Checksum{algorithm}": sent[f"Checksum{algorithm}"]})
    done: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
    return done


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_attributes_of_a_composite_object(s3: Any, bucket: str, algorithm: str) -> None:
    pieces = [os.urandom(PART), os.urandom(PART), os.urandom(1000)]
    key, member, digest = f"attrs/{algorithm}", f"Checksum{algorithm}", DIGESTS[algorithm]
    done = _upload(s3, bucket, key, pieces, algorithm)
    value = b64(digest(b"".join(digest(p) for p in pieces)))
    assert (done[member], done["ChecksumType"]) == (f"{value}-3", "COMPOSITE")
    got = s3.get_object_attributes(Bucket=bucket, Key=key, MaxParts=2,
                                   ObjectAttributes=["Checksum", "ObjectParts"])
    assert got["Checksum"] == {member: value, "ChecksumType": "COMPOSITE"}
    assert got["ObjectParts"]["Parts"] == [
        {"PartNumber": 1, "Size": PART, member: b64(digest(pieces[0]))},
        {"PartNumber": 2, "Size": PART, member: b64(digest(pieces[1]))},
    ]
    rest = s3.get_object_attributes(Bucket=bucket, Key=key, PartNumberMarker=2,
                                    ObjectAttributes=["ObjectParts"])["ObjectParts"]
    assert rest["Parts"] == [{"PartNumber": 3, "Size": 1000, member: b64(digest(pieces[2]))}]
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"]) == (f"{value}-3", "COMPOSITE")  # unchanged


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_get_and_head_a_part_of_a_composite_object(s3: Any, bucket: str, algorithm: str) -> None:
    pieces = [os.urandom(PART), os.urandom(77)]
    key, member, digest = f"part/{algorithm}", f"Checksum{algorithm}", DIGESTS[algorithm]
    _upload(s3, bucket, key, pieces, algorithm)
    for number, piece in enumerate(pieces, start=1):
        head = s3.head_object(Bucket=bucket, Key=key, PartNumber=number, ChecksumMode="ENABLED")
        assert (head[member], head["ChecksumType"], head["PartsCount"]) == (
            b64(digest(piece)), "COMPOSITE", 2)
        # botocore validates the part's bytes against the checksum it is given
        got = s3.get_object(Bucket=bucket, Key=key, PartNumber=number, ChecksumMode="ENABLED")
        assert got[member] == b64(digest(piece)) and got["Body"].read() == piece
    plain = s3.head_object(Bucket=bucket, Key=key, PartNumber=1)  # checksum mode not enabled
    assert member not in plain and "ChecksumType" not in plain


def test_a_part_of_a_full_object_object(s3: Any, bucket: str) -> None:
    pieces = [os.urandom(PART), os.urandom(10)]
    _upload(s3, bucket, "full/two", pieces, "CRC64NVME")
    head = s3.head_object(Bucket=bucket, Key="full/two", PartNumber=1, ChecksumMode="ENABLED")
    assert "ChecksumCRC64NVME" not in head and "ChecksumType" not in head
    single = os.urandom(100)
    _upload(s3, bucket, "full/one", [single], "CRC64NVME")
    head = s3.head_object(Bucket=bucket, Key="full/one", PartNumber=1, ChecksumMode="ENABLED")
    assert (head["ChecksumCRC64NVME"], head["ChecksumType"]) == (b64(_crc64nvme(single)),
                                                                 "FULL_OBJECT")
    attributes = s3.get_object_attributes(Bucket=bucket, Key="full/two",
                                          ObjectAttributes=["Checksum"])
    whole = b64(_crc64nvme(b"".join(pieces)))
    assert attributes["Checksum"] == {"ChecksumCRC64NVME": whole, "ChecksumType": "FULL_OBJECT"}


def test_a_single_part_composite_object_answers_the_part_checksum(s3: Any, bucket: str) -> None:
    piece = os.urandom(300)
    done = _upload(s3, bucket, "one/composite", [piece], "CRC32")
    assert done["ChecksumCRC32"] == b64(_crc32(_crc32(piece))) + "-1"
    head = s3.head_object(Bucket=bucket, Key="one/composite", PartNumber=1,
                          ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (b64(_crc32(piece)), "COMPOSITE")


# -- CompleteMultipartUpload x-amz-mp-object-size ----------------------------------------------


def test_complete_checks_the_expected_object_size(s3: Any, bucket: str) -> None:
    """The API reference: a size that is not the object's is a 400 InvalidRequest (messages:
    S3's for a non-number, as versitygw#1398 quotes it; versitygw's for the others)."""
    pieces = [os.urandom(PART), os.urandom(9)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="sized")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="sized", UploadId=uid,
                                                      PartNumber=n, Body=piece)["ETag"]}
             for n, piece in enumerate(pieces, start=1)]
    complete = {"Bucket": bucket, "Key": "sized", "UploadId": uid,
                "MultipartUpload": {"Parts": parts}}
    cases = [
        (PART, f"The provided 'x-amz-mp-object-size' header value {PART} does not match what "
               f"was computed: {PART + 9}"),
        (-1, "Value for x-amz-mp-object-size header is less than zero: '-1'"),
        ("size", "Value for x-amz-mp-object-size header is invalid: 'size'"),
    ]
    for value, message in cases:
        def edit(request: Any, value: Any = value, **_: Any) -> None:
            del request.headers["x-amz-mp-object-size"]
            request.headers["x-amz-mp-object-size"] = str(value)

        s3.meta.events.register("before-sign.s3.CompleteMultipartUpload", edit,
                                unique_id="mp-size")
        try:
            with pytest.raises(ClientError) as exc:
                s3.complete_multipart_upload(**complete, MpuObjectSize=1)
        finally:
            s3.meta.events.unregister("before-sign.s3.CompleteMultipartUpload",
                                      unique_id="mp-size")
        assert error_of(exc) == ("InvalidRequest", message, 400), value
    done = s3.complete_multipart_upload(**complete, MpuObjectSize=PART + 9)
    assert s3.head_object(Bucket=bucket, Key="sized")["ETag"] == done["ETag"]


# -- aws-chunked trailers S3 refuses -----------------------------------------------------------

TRAILER_MSG = ("The request contained trailing data that was not well-formed or did not "
               "conform to our published schema.")


@pytest.fixture(scope="module")
def chunked(server: Server) -> Any:
    """A client that believes it talks HTTPS, so it streams PutObject aws-chunked with the
    checksum in a trailer; ``headers`` and ``edits`` rewrite what it sends (after signing: the
    unsigned-trailer body is not signed, the headers are re-signed before sending)."""
    cl = boto3.client(
        "s3", endpoint_url=server.endpoint.replace("http://", "https://"), region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    cl.headers = {}
    cl.edits = []

    def set_headers(request: Any, **_: Any) -> None:
        for name, value in cl.headers.items():
            if name in request.headers:
                del request.headers[name]
            if value is not None:
                request.headers[name] = value

    def to_http(request: Any, **_: Any) -> None:
        request.url = request.url.replace("https://", "http://", 1)
        if cl.edits and hasattr(request.body, "read"):
            body = request.body.read()
            for old, new in cl.edits:
                body = body.replace(old, new)
            request.body = body

    cl.meta.events.register("before-sign.s3.PutObject", set_headers)
    cl.meta.events.register("before-send", to_http)
    return cl


@pytest.mark.parametrize(
    ("headers", "edits", "code", "message"),
    [
        # versitygw#1691 / #1600 / #1690 (S3's answers): a trailer that is not announced, not
        # the announced one, missing, or malformed
        ({"x-amz-trailer": None}, [], "MalformedTrailerError", TRAILER_MSG),
        ({"x-amz-trailer": "x-amz-checksum-crc32c"}, [], "MalformedTrailerError", TRAILER_MSG),
        ({}, [(b"x-amz-checksum-crc32:y/Q5Jg==\r\n", b"")], "MalformedTrailerError",
         TRAILER_MSG),
        ({}, [(b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32")], "MalformedTrailerError",
         TRAILER_MSG),
        # versitygw#1161 (S3's answer): x-amz-trailer naming no checksum S3 knows
        ({"x-amz-trailer": "x-amz-checksum-sha10"}, [], "InvalidRequest",
         "The value specified in the x-amz-trailer header is not supported"),
        # versitygw#1657 (S3's answer): a trailer and a checksum header, even of one algorithm
        ({"x-amz-checksum-crc32": "y/Q5Jg=="}, [], "InvalidRequest",
         "Expecting a single x-amz-checksum- header"),
        ({"x-amz-checksum-crc32c": "4waSgw=="}, [], "InvalidRequest",
         "Expecting a single x-amz-checksum- header"),
    ],
)
def test_trailers_s3_refuses(chunked: Any, bucket: str, headers: dict[str, str | None],
                             edits: list[tuple[bytes, bytes]], code: str, message: str) -> None:
    chunked.headers, chunked.edits = dict(headers), list(edits)
    try:
        with pytest.raises(ClientError) as exc:
            chunked.put_object(Bucket=bucket, Key="trailer/refused", Body=b"123456789",
                               ChecksumAlgorithm="CRC32")
    finally:
        chunked.headers, chunked.edits = {}, []
    assert error_of(exc) == (code, message, 400)
    with pytest.raises(ClientError) as missing:
        chunked.head_object(Bucket=bucket, Key="trailer/refused")
    assert error_of(missing)[2] == 404


def test_a_streaming_upload_without_any_trailer_gets_crc64nvme(chunked: Any, bucket: str) -> None:
    """versitygw#1632 (S3's answer): no x-amz-trailer and no trailer is accepted."""
    chunked.headers = {"x-amz-trailer": None, "x-amz-sdk-checksum-algorithm": None}
    chunked.edits = [(b"x-amz-checksum-crc32:y/Q5Jg==\r\n", b"")]
    try:
        put = chunked.put_object(Bucket=bucket, Key="trailer/none", Body=b"123456789",
                                 ChecksumAlgorithm="CRC32")
    finally:
        chunked.headers, chunked.edits = {}, []
    assert (put["ChecksumCRC64NVME"], put["ChecksumType"]) == ("rosUhgp5mIg=", "FULL_OBJECT")
