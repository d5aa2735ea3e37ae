"""aws-chunked payloads (spec 5.5): signed chunks, signed trailers, unsigned trailers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import zlib
from datetime import UTC, datetime

import pytest
from auth_capture import SECRET, capture, client, now, replace

from trailgate.auth import sigv4_chunked
from trailgate.auth.sigv4 import (
    AuthError,
    decode_aws_chunked,
    decode_s3_payload,
    decode_s3_stream,
    parse_auth,
    signing_key,
    verify,
)
from trailgate.gateway.context import HttpRequest

# The worked example of AWS's "Transferring Payload in Multiple Chunks" page.
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGS = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
SCOPE = "20130524/us-east-1/s3/aws4_request"
DATE = "20130524T000000Z"


def _doc_body() -> bytes:
    sig1, sig2, sig3 = (s.encode() for s in DOC_CHUNK_SIGS)
    return (
        b"10000;chunk-signature=" + sig1 + b"\r\n" + b"a" * 65536 + b"\r\n"
        b"400;chunk-signature=" + sig2 + b"\r\n" + b"a" * 1024 + b"\r\n"
        b"0;chunk-signature=" + sig3 + b"\r\n\r\n"
    )


def _doc_request(body: bytes | None = None) -> HttpRequest:
    body = _doc_body() if body is None else body
    return HttpRequest(
        method="PUT",
        raw_path="/examplebucket/chunkObject.txt",
        query_string="",
        headers={
            "host": "s3.amazonaws.com",
            "x-amz-date": DATE,
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/" + SCOPE + ","
            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class,Signature=" + DOC_SEED,
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": "66560",
            "content-length": "66824",
        },
        body=body,
        client_ip="127.0.0.1",
    )


def test_aws_documentation_example_end_to_end() -> None:
    req = _doc_request()
    assert len(req.body) == 66824
    info = parse_auth(req)
    assert info is not None
    verify(req, info, DOC_SECRET, datetime(2013, 5, 24, 0, 1, tzinfo=UTC))
    data, trailers = decode_s3_payload(req, info, DOC_SECRET)
    assert data == b"a" * 66560 and trailers == {}


@pytest.mark.parametrize("read_size", [1, 2, 3, 7, 4096])
def test_stream_decoding_across_read_boundaries(
    monkeypatch: pytest.MonkeyPatch, read_size: int
) -> None:
    """The decoder reads a spooled upload piece by piece: chunk headers, data, CRLFs and the
    trailer section may be split anywhere between reads."""
    monkeypatch.setattr(sigv4_chunked, "_READ", read_size)
    req = _doc_request()
    info = parse_auth(req)
    assert info is not None
    pieces: list[bytes] = []
    trailers = decode_s3_stream(req, info, DOC_SECRET, io.BytesIO(req.body), pieces.append)
    assert b"".join(pieces) == b"a" * 66560 and trailers == {}
    unsigned = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32c:mnG7TA==\r\n\r\n"
    out: list[bytes] = []
    found = sigv4_chunked.decode_chunked_stream(io.BytesIO(unsigned), out.append, signed=False)
    assert (b"".join(out), found) == (b"hello", {"x-amz-checksum-crc32c": "mnG7TA=="})
    with pytest.raises(AuthError) as err:
        sigv4_chunked.decode_chunked_stream(io.BytesIO(unsigned[:-1]), out.append, signed=False)
    assert err.value.kind == "bad_chunk"


def _decode(body: bytes) -> tuple[bytes, dict[str, str]]:
    return decode_aws_chunked(
        body,
        signed=True,
        seed_signature=DOC_SEED,
        signing_key=signing_key(DOC_SECRET, "20130524", "us-east-1", "s3"),
        scope=SCOPE,
        amz_date=DATE,
    )


def test_every_chunk_signature_character_matters() -> None:
    body = _doc_body()
    for sig in DOC_CHUNK_SIGS:
        start = body.index(sig.encode())
        for i in range(start, start + 64):
            tampered = bytearray(body)
            tampered[i] = ord("0") if tampered[i] != ord("0") else ord("1")
            with pytest.raises(AuthError) as err:
                _decode(bytes(tampered))
            assert err.value.kind == "signature_mismatch"


def test_chunk_data_and_order_matter() -> None:
    body = bytearray(_doc_body())
    body[200] = ord("b")
    with pytest.raises(AuthError) as err:
        _decode(bytes(body))
    assert err.value.kind == "signature_mismatch"
    with pytest.raises(AuthError) as err:
        decode_aws_chunked(
            _doc_body(),
            signed=True,
            seed_signature="0" * 64,
            signing_key=signing_key(DOC_SECRET, "20130524", "us-east-1", "s3"),
            scope=SCOPE,
            amz_date=DATE,
        )
    assert err.value.kind == "signature_mismatch"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"5;chunk-signature=" + b"0" * 64 + b"\r\nabc",  # truncated data
        b"zz;chunk-signature=" + b"0" * 64 + b"\r\n",  # bad size
        b"5\r\nhello\r\n0\r\n\r\n",  # unsigned chunks where signatures are required
    ],
)
def test_malformed_signed_bodies(body: bytes) -> None:
    with pytest.raises(AuthError) as err:
        _decode(body)
    assert err.value.kind == "bad_chunk"
    assert err.value.to_service_error("s3").status == 400


# -- signed chunks + signed trailer, built here independently from the spec's description


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _signed_trailer_body(data: bytes, seed: str, key: bytes, chunk: int = 4096) -> bytes:
    empty = hashlib.sha256(b"").hexdigest()
    out, previous = b"", seed
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sts = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{DATE}\n{SCOPE}\n{previous}\n{empty}\n"
            f"{hashlib.sha256(piece).hexdigest()}"
        )
        previous = _hmac_hex(key, sts)
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece
        out += b"\r\n" if piece else b""
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    canonical = f"x-amz-checksum-crc32:{crc}\n"
    sts = (
        f"AWS4-HMAC-SHA256-TRAILER\n{DATE}\n{SCOPE}\n{previous}\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    trailer = f"x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{_hmac_hex(key, sts)}\r\n\r\n"
    return out + trailer.encode()


def test_signed_trailer_round_trip_and_tampering() -> None:
    key = signing_key(DOC_SECRET, "20130524", "us-east-1", "s3")
    data = bytes(range(256)) * 40
    body = _signed_trailer_body(data, DOC_SEED, key)
    decoded, trailers = _decode(body)
    assert decoded == data
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert trailers == {"x-amz-checksum-crc32": crc}
    trailer_start = body.index(b"x-amz-checksum-crc32:")
    for i in range(trailer_start, len(body) - 4):
        if body[i : i + 1] in (b"\r", b"\n", b":"):
            continue
        tampered = bytearray(body)
        tampered[i] ^= 0x01
        with pytest.raises(AuthError):
            _decode(bytes(tampered))


# -- the unsigned-trailer mode boto3 uses over HTTPS (VERIFIED in spec 5.5)


def _https_put(body: bytes) -> HttpRequest:
    cl = client("s3", endpoint="https://localhost:4566")
    return capture(cl, "put_object", Bucket="trail-bucket", Key="k", Body=body)


def test_boto3_streaming_unsigned_trailer() -> None:
    payload = b"0123456789" * 250_000  # 2.5 MB -> three 1 MiB aws-chunks
    req = _https_put(payload)
    assert req.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    info = parse_auth(req)
    assert info is not None
    verify(req, info, SECRET, now())
    data, trailers = decode_s3_payload(req, info, SECRET)
    assert data == payload
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    assert trailers == {"x-amz-checksum-crc32": crc}


@pytest.mark.parametrize(
    ("mutate", "reason", "kind"),
    [
        (lambda b: b[:-2], "unterminated trailers", "bad_chunk"),
        (lambda b: b + b"x", "data after end", "bad_chunk"),
        (lambda b: b.replace(b"5\r\n", b"6\r\n", 1), "wrong size", "bad_chunk"),
        (lambda b: b.replace(b"5\r\n", b"5;chunk-signature=00\r\n", 1), "extension",
         "bad_chunk"),
        # S3's MalformedTrailerError (audit 17: versitygw#1690, #1691 quote S3's answers)
        (lambda b: b.replace(b"x-amz-checksum-crc32:", b"x-amz-checksum-crc32", 1), "no colon",
         "malformed_trailer"),
        (lambda b: b.replace(b"x-amz-checksum-crc32", b"x-amz-checksum-sha1", 1), "wrong name",
         "malformed_trailer"),
    ],
)
def test_unsigned_trailer_malformed(mutate: object, reason: str, kind: str) -> None:
    req = _https_put(b"hello")
    assert req.body == b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    bad = replace(req, body=mutate(req.body))  # type: ignore[operator]
    info = parse_auth(bad)
    with pytest.raises(AuthError) as err:
        decode_s3_payload(bad, info, SECRET)
    assert err.value.kind == kind, reason


def test_decoded_length_is_checked() -> None:
    req = _https_put(b"hello")
    bad = replace(req)
    bad.headers["x-amz-decoded-content-length"] = "6"
    with pytest.raises(AuthError) as err:
        decode_s3_payload(bad, parse_auth(bad), SECRET)
    assert err.value.kind == "bad_chunk"


def test_non_streaming_body_is_returned_as_is() -> None:
    req = capture(client("s3"), "put_object", Bucket="b", Key="k", Body=b"plain")
    assert decode_s3_payload(req, parse_auth(req), SECRET) == (b"plain", {})


def test_signed_streaming_needs_header_auth() -> None:
    req = _doc_request()
    with pytest.raises(AuthError):
        decode_s3_payload(req, None, None)
