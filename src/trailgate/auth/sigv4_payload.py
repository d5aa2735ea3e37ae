"""Request payloads: the payload hash a SigV4 signature covers, the ``x-amz-content-sha256``
check against the body (spec 5.4) and S3's aws-chunked streaming payloads (spec 5.5).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from ..gateway.context import HttpRequest
from .sigv4_canonical import signing_key
from .sigv4_errors import AuthError
from .sigv4_parse import SignedRequestInfo

UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
STREAMING_MODES: Final = frozenset(
    {
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
_HEX64_RE: Final = re.compile(r"[0-9a-fA-F]{64}")


def canonical_payload_hash(req: HttpRequest, info: SignedRequestInfo) -> str:
    """The payload hash line of the SigV4 canonical request."""
    declared = req.headers.get("x-amz-content-sha256")
    if info.presigned:
        if declared is not None and "x-amz-content-sha256" in info.signed_headers:
            return declared
        if info.service == "s3":
            return UNSIGNED_PAYLOAD
    elif declared is not None:
        return declared
    return _body_sha256(req)


def _body_sha256(req: HttpRequest) -> str:
    """Hex SHA-256 of the body; a spooled body's hash was computed while it was received."""
    if req.body_source is not None:
        return req.body_source.sha256_hex
    return hashlib.sha256(req.body).hexdigest()


def check_payload(req: HttpRequest) -> None:
    """A hex ``x-amz-content-sha256`` must match the body; streaming modes are accepted."""
    declared = req.headers.get("x-amz-content-sha256")
    if declared is None or declared == UNSIGNED_PAYLOAD or declared in STREAMING_MODES:
        return
    if declared == EMPTY_SHA256 and not req.body and req.body_source is None:
        return
    if not _HEX64_RE.fullmatch(declared):
        raise AuthError("invalid_content_sha256", declared)
    actual = _body_sha256(req)
    if not hmac.compare_digest(actual, declared.lower()):
        raise AuthError(
            "payload_hash_mismatch",
            "",
            {"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": actual},
        )


# --------------------------------------------------------------------------------------------
# aws-chunked payloads (spec 5.5)


def decode_aws_chunked(
    body: bytes,
    *,
    signed: bool,
    seed_signature: str = "",
    signing_key: bytes = b"",
    scope: str = "",
    amz_date: str = "",
) -> tuple[bytes, dict[str, str]]:
    """Decode an aws-chunked body into (data, trailers); verify chunk and trailer signatures
    when ``signed`` (the first "previous signature" is ``seed_signature``, the header one).

    Raises :class:`AuthError` ``bad_chunk`` on framing errors and ``signature_mismatch`` on a
    wrong chunk/trailer signature.  Trailer names are lower-cased; ``x-amz-trailer-signature``
    is verified and removed.
    """
    chunks: list[bytes] = []
    previous = seed_signature
    pos, end_of_body = 0, len(body)
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise AuthError("bad_chunk", "Missing chunk header")
        size, chunk_sig = _chunk_header(body[pos:eol], signed)
        start, stop = eol + 2, eol + 2 + size
        if stop > end_of_body:
            raise AuthError("bad_chunk", "Chunk is truncated")
        data = body[start:stop]
        if signed:
            sts = (
                f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
                + hashlib.sha256(data).hexdigest()
            )
            _check_stream_signature(signing_key, sts, chunk_sig)
            previous = chunk_sig
        if size == 0:
            pos = start
            break
        if body[stop : stop + 2] != b"\r\n":
            raise AuthError("bad_chunk", "Chunk data is not followed by CRLF")
        chunks.append(data)
        pos = stop + 2
    trailers = _parse_trailers(body, pos)
    if signed and trailers:
        trailer_sig = trailers.pop("x-amz-trailer-signature", "")
        canonical = "".join(f"{name}:{trailers[name]}\n" for name in sorted(trailers))
        sts = (
            f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        _check_stream_signature(signing_key, sts, trailer_sig)
    return b"".join(chunks), trailers


def _chunk_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_text, _, ext = line.partition(b";")
    size_text = size_text.strip()
    if not size_text or len(size_text) > 16 or size_text.strip(b"0123456789abcdefABCDEF"):
        raise AuthError("bad_chunk", "Invalid chunk size")
    signature = ""
    if signed:
        ext = ext.strip()
        if not ext.startswith(b"chunk-signature="):
            raise AuthError("bad_chunk", "Missing chunk signature")
        signature = ext[16:].decode("ascii", "replace")
    elif ext:
        raise AuthError("bad_chunk", "Unexpected chunk extension in an unsigned payload")
    return int(size_text, 16), signature


def _parse_trailers(body: bytes, pos: int) -> dict[str, str]:
    trailers: dict[str, str] = {}
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise AuthError("bad_chunk", "Trailer section is not terminated")
        line, pos = body[pos:eol], eol + 2
        if not line:
            break
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise AuthError("bad_chunk", "Malformed trailer")
        trailers[name.strip().lower().decode("ascii", "replace")] = value.strip().decode(
            "ascii", "replace"
        )
    if pos != len(body):
        raise AuthError("bad_chunk", "Data after the final chunk")
    return trailers


def _check_stream_signature(key: bytes, string_to_sign: str, provided: str) -> None:
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise AuthError(
            "signature_mismatch",
            "chunk signature",
            {"StringToSign": string_to_sign, "SignatureProvided": provided},
        )


def decode_s3_payload(
    req: HttpRequest, info: SignedRequestInfo | None, secret: str | None
) -> tuple[bytes, dict[str, str]]:
    """The object bytes of an S3 request per its ``x-amz-content-sha256`` mode (spec 5.5).

    Non-streaming modes return the body unchanged.  Streaming modes are decoded (signed ones
    need the verified ``info`` and ``secret``); the length is checked against
    ``x-amz-decoded-content-length`` and the trailers against ``x-amz-trailer``.
    """
    mode = req.headers.get("x-amz-content-sha256", "")
    if mode not in STREAMING_MODES:
        return req.body, {}
    if "ECDSA" in mode:
        raise AuthError("incomplete_signature", "SigV4a (ECDSA) streaming is not supported")
    signed = mode.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    if signed:
        if info is None or info.version != "v4" or info.presigned or secret is None:
            raise AuthError("incomplete_signature", f"{mode} requires header SigV4 auth")
        key = signing_key(secret, info.scope_date, info.region, info.service)
        data, trailers = decode_aws_chunked(
            req.body,
            signed=True,
            seed_signature=info.signature,
            signing_key=key,
            scope=info.scope,
            amz_date=info.amz_date,
        )
    else:
        data, trailers = decode_aws_chunked(req.body, signed=False)
    expected = [n.strip().lower() for n in req.headers.get("x-amz-trailer", "").split(",")]
    expected = [n for n in expected if n]
    if not mode.endswith("-TRAILER") and trailers:
        raise AuthError("bad_chunk", "Trailers are not allowed in this payload mode")
    if sorted(expected) != sorted(trailers):
        raise AuthError("bad_chunk", "Trailers do not match the x-amz-trailer header")
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(len(data)):
        raise AuthError("bad_chunk", "Decoded length does not match x-amz-decoded-content-length")
    return data, trailers
