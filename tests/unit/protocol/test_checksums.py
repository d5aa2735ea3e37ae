"""S3's checksum algorithms against published check values (the CRC catalogue's check input
``123456789``; S3's own answers for it as recorded by OpenStack Swift's s3api tests, which are
run against AWS; for SHA512, MD5 and the XXHashes, the values of ``hashlib`` and of the
``xxhash`` package, an implementation independent of the ``awscrt`` one used here), chunked
feeding, and what counts as a valid header value."""

from __future__ import annotations

import base64

import pytest

from trailgate.protocol import checksums

CHECK = b"123456789"


@pytest.mark.parametrize(
    ("algorithm", "value", "integer"),
    [
        ("CRC32", "y/Q5Jg==", 0xCBF43926),
        ("CRC32C", "4waSgw==", 0xE3069283),
        ("CRC64NVME", "rosUhgp5mIg=", 0xAE8B14860A799888),
        ("SHA1", "98O8HYCOBHMq32eZZczDTKeuNEE=", None),
        ("SHA256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=", None),
        ("SHA512", "2eZ2LdHI6vbWGzxhkvxAjU1tXxF20MKRabwk5xw/J0rSf81YEbMT1oH35V7ALXPUmclUVba1u1A6"
                   "z1dPuo/+hQ==", None),
        ("MD5", "JfnnlDI7RTiF9RgfG2JNCw==", 0x25F9E794323B453885F5181F1B624D0B),
        ("XXHASH64", "jLhB20DmroM=", 0x8CB841DB40E6AE83),
        ("XXHASH3", "ctyxi2ehff8=", 0x72DCB18B67A17DFF),
        ("XXHASH128", "MxGUd+3l3NXpcWQnaB1YYA==", 0x33119477EDE5DCD5E9716427681D5860),
    ],
)
def test_check_values(algorithm: str, value: str, integer: int | None) -> None:
    raw = checksums.compute(algorithm, CHECK)
    assert checksums.encode(raw) == value
    assert len(raw) == checksums.SIZES[algorithm]
    if integer is not None:  # the catalogue's check value, big-endian
        assert int.from_bytes(raw, "big") == integer
    digest = checksums.new_digest(algorithm)  # fed in pieces: the same digest
    for piece in (b"", b"1", b"2345", b"", b"6789"):
        digest.update(piece)
    assert digest.digest() == raw


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_empty_input_is_zero(algorithm: str) -> None:
    assert checksums.compute(algorithm, b"") == b"\0" * checksums.SIZES[algorithm]


@pytest.mark.parametrize(
    ("algorithm", "value", "valid"),
    [
        ("CRC32C", "4waSgw==", True),
        ("CRC32C", "4waSgx==", False),  # non-zero padding bits: not canonical
        ("CRC32C", "4waSgw", False),  # missing padding
        ("CRC32C", "rosUhgp5mIg=", False),  # 8 bytes for a 4-byte digest
        ("CRC64NVME", "rosUhgp5mIg=", True),
        ("CRC64NVME", "rosUhgp5mIh=", False),
        ("CRC64NVME", "4waSgw==", False),
        ("CRC32", "^^^^^^==", False),
        ("CRC32", "y^/^Q5^J^g==", False),
        ("CRC32", "shrt", False),
        ("CRC32", "toolong=", False),
        ("SHA256", "é", False),
    ],
)
def test_valid_values(algorithm: str, value: str, valid: bool) -> None:
    decoded = checksums.decode(algorithm, value)
    assert (decoded is not None) == valid
    if valid:
        assert decoded == base64.b64decode(value)


def test_names() -> None:
    # botocore's order (the Checksum shape's members)
    assert checksums.ALGORITHMS == ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512",
                                    "MD5", "XXHASH64", "XXHASH3", "XXHASH128")
    assert checksums.member("CRC64NVME") == "ChecksumCRC64NVME"
    assert checksums.header("CRC32C") == "x-amz-checksum-crc32c"
    assert checksums.TYPES["CRC64NVME"] == {"FULL_OBJECT"}
    assert checksums.TYPES["SHA1"] == checksums.TYPES["SHA256"] == {"COMPOSITE"}
    assert checksums.TYPES["CRC32C"] == {"COMPOSITE", "FULL_OBJECT"}
    for algorithm in ("SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"):
        assert checksums.TYPES[algorithm] == {"COMPOSITE"}
