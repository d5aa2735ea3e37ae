"""S3's newer checksum algorithms (SHA512, MD5, XXHASH64, XXHASH3, XXHASH128: botocore's
``ChecksumAlgorithm`` values since 2025) through boto3: single uploads that botocore computes
(header and aws-chunked trailer) or that carry a precomputed value, the stored value in
HeadObject / GetObject / GetObjectAttributes, multipart uploads (composite only: a full-object
checksum of a multipart upload needs a CRC), and S3's errors for a wrong or malformed value.

Expected values are computed here with ``hashlib`` and, for the XXHashes, ``awscrt`` (the
library botocore computes them with; the unit tests pin its values against the independent
``xxhash`` package)."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError

from .server import Server
from .test_s3_api import MiB, empty_bucket, error_of, unique
from .test_s3_checksums import chunked  # noqa: F401  (a fixture: the aws-chunked client)

PART = 5 * MiB


def _xxhash(new: Callable[[], Any]) -> Callable[[bytes], bytes]:
    def digest(data: bytes) -> bytes:
        h = new()
        h.update(data)
        return bytes(h.finalize())
    return digest


DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "SHA512": lambda data: hashlib.sha512(data).digest(),
    "MD5": lambda data: hashlib.md5(data).digest(),
    "XXHASH64": _xxhash(crt.XXHash.new_xxhash64),
    "XXHASH3": _xxhash(crt.XXHash.new_xxhash3_64),
    "XXHASH128": _xxhash(crt.XXHash.new_xxhash3_128),
}
SDK_COMPUTES = ["SHA512", "XXHASH64", "XXHASH3", "XXHASH128"]  # botocore has no MD5 checksum


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-newsums")
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def _stored(s3: Any, bucket: str, key: str, member: str) -> list[tuple[str, str]]:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    got["Body"].read()  # botocore checks the value it supports while reading
    attributes = s3.get_object_attributes(Bucket=bucket, Key=key,
                                          ObjectAttributes=["Checksum"])["Checksum"]
    return [(answer[member], answer["ChecksumType"]) for answer in (head, got, attributes)]


@pytest.mark.parametrize("algorithm", SDK_COMPUTES)
def test_put_object_lets_the_sdk_compute(s3: Any, bucket: str, algorithm: str) -> None:
    data = os.urandom(1000)
    key, member = f"sdk/{algorithm}", f"Checksum{algorithm}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    expected = b64(DIGESTS[algorithm](data))
    assert (put[member], put["ChecksumType"]) == (expected, "FULL_OBJECT")
    assert _stored(s3, bucket, key, member) == [(expected, "FULL_OBJECT")] * 3
    plain = s3.head_object(Bucket=bucket, Key=key)  # not shown unless asked for
    assert member not in plain


@pytest.mark.parametrize("algorithm", list(DIGESTS))
def test_put_object_with_a_precomputed_value(s3: Any, bucket: str, algorithm: str) -> None:
    data = os.urandom(3 * MiB + 7)  # spooled to disk on the server
    key, member = f"pre/{algorithm}", f"Checksum{algorithm}"
    value = b64(DIGESTS[algorithm](data))
    put = s3.put_object(Bucket=bucket, Key=key, Body=data, **{member: value})
    assert put[member] == value
    assert _stored(s3, bucket, key, member) == [(value, "FULL_OBJECT")] * 3


@pytest.mark.parametrize("algorithm", ["SHA512", "XXHASH128"])
def test_trailing_checksum(chunked: Any, bucket: str, algorithm: str) -> None:  # noqa: F811
    data = os.urandom(2 * MiB + 3)
    key, member = f"trailer/{algorithm}", f"Checksum{algorithm}"
    put = chunked.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    sent = {k.lower(): v for k, v in chunked.sent[-1].items()}
    assert sent["x-amz-trailer"] == f"x-amz-checksum-{algorithm.lower()}".encode()
    assert put[member] == b64(DIGESTS[algorithm](data))
    got = chunked.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got[member] == put[member]


@pytest.mark.parametrize("algorithm", list(DIGESTS))
def test_a_wrong_value_is_bad_digest(s3: Any, bucket: str, algorithm: str) -> None:
    member = f"Checksum{algorithm}"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data",
                      **{member: b64(DIGESTS[algorithm](b"other data"))})
    assert error_of(exc) == (
        "BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)
    with pytest.raises(ClientError) as exc:  # a value of another size than the digest's
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", **{member: "4waSgw=="})
    assert error_of(exc) == (
        "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.", 400)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="bad")
    assert exc.value.response["Error"]["Code"] == "404"  # nothing stored


@pytest.mark.parametrize("algorithm", ["SHA512", "XXHASH64", "XXHASH128"])
def test_multipart_upload_is_composite(s3: Any, bucket: str, algorithm: str) -> None:
    data = os.urandom(PART + 321)
    key, member, digest = f"mpu/{algorithm}", f"Checksum{algorithm}", DIGESTS[algorithm]
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key,
                                     ChecksumAlgorithm=algorithm)["UploadId"]
    pieces = [data[:PART], data[PART:]]
    parts = []
    for number, piece in enumerate(pieces, start=1):
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=number,
                              Body=piece, ChecksumAlgorithm=algorithm)
        assert part[member] == b64(digest(piece))
        parts.append({"PartNumber": number, "ETag": part["ETag"], member: part[member]})
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm, "COMPOSITE")
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    whole = b64(digest(b"".join(digest(p) for p in pieces)))
    assert (done[member], done["ChecksumType"]) == (whole + "-2", "COMPOSITE")
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head[member], head["ChecksumType"]) == (whole + "-2", "COMPOSITE")
    attributes = s3.get_object_attributes(Bucket=bucket, Key=key,
                                          ObjectAttributes=["Checksum", "ObjectParts"])
    assert attributes["Checksum"] == {member: whole, "ChecksumType": "COMPOSITE"}
    assert [p[member] for p in attributes["ObjectParts"]["Parts"]] == [p[member] for p in parts]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


@pytest.mark.parametrize("algorithm", list(DIGESTS))
def test_multipart_upload_cannot_be_full_object(s3: Any, bucket: str, algorithm: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm=algorithm,
                                   ChecksumType="FULL_OBJECT")
    assert error_of(exc) == (
        "InvalidRequest", f"The FULL_OBJECT checksum type cannot be used with the "
        f"{algorithm.lower()} checksum algorithm.", 400)
