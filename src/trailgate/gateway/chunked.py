"""S3 aws-chunked uploads (spec 5.5): once the request's signature is verified, the chunk
framing is taken off the body (signed chunks and trailers verified on the way), so PutObject
and UploadPart store the object's bytes; a trailing checksum (``x-amz-checksum-crc32c: ...``
after the last chunk, what botocore sends over HTTPS) becomes the request's checksum member,
checked like one sent as a header.  A body spooled to disk is decoded to disk, off the event
loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any, Final

from ..auth import sigv4
from ..auth.sigv4_parse import SignedRequestInfo
from ..protocol import checksums
from ..protocol.errors import ServiceError
from .body import SpooledBody
from .context import HttpRequest, RequestContext

_PAYLOAD = "Body"  # the streaming payload member of PutObject and UploadPart


def decode(
    ctx: RequestContext, info: SignedRequestInfo | None, secret: str | None
) -> Awaitable[None] | None:
    """Decode ``ctx``'s aws-chunked body into ``ctx.params``; None when there is nothing to
    do or it was done inline (a body held in memory)."""
    if not sigv4.is_streaming(ctx.request) or _PAYLOAD not in ctx.params:
        return None
    _check_trailer_header(ctx.request.headers)
    if ctx.request.body_source is None:
        _decode(ctx, info, secret)
        return None
    return asyncio.to_thread(_decode, ctx, info, secret)


#: The trailers S3 takes (``x-amz-trailer``): one checksum of an algorithm of botocore's model.
_TRAILERS: Final = frozenset(
    f"x-amz-checksum-{name}"
    for name in (
        "crc32", "crc32c", "crc64nvme", "sha1", "sha256",
        "sha512", "md5", "xxhash64", "xxhash3", "xxhash128",
    )
)
_NOT_CHECKSUMS: Final = frozenset(
    {"x-amz-checksum-type", "x-amz-checksum-algorithm", "x-amz-checksum-mode"}
)


def _check_trailer_header(headers: Mapping[str, str]) -> None:
    """S3's answers to an ``x-amz-trailer`` it cannot take, before any byte is decoded: with
    an ``x-amz-checksum-*`` header too (versitygw#1657), or naming no checksum it knows
    (versitygw#1161), both quoted from S3 there."""
    announced = headers.get("x-amz-trailer", "").strip().lower()
    if not announced:
        return
    if any(n.startswith("x-amz-checksum-") and n not in _NOT_CHECKSUMS for n in headers):
        raise ServiceError("InvalidRequest", "Expecting a single x-amz-checksum- header", 400)
    if announced not in _TRAILERS:
        raise ServiceError(
            "InvalidRequest", "The value specified in the x-amz-trailer header is not supported",
            400,
        )


def _decode(ctx: RequestContext, info: SignedRequestInfo | None, secret: str | None) -> None:
    req = ctx.request
    try:
        if isinstance(req.body_source, SpooledBody):
            trailers = _decode_spooled(req, req.body_source, info, secret)
            ctx.params[_PAYLOAD] = req.body_source
        else:
            if req.body_source is not None:  # another spooled kind (tests): read it whole
                with req.body_source.open() as stream:
                    req.body = stream.read()
                req.body_source = None
            data, trailers = sigv4.decode_s3_payload(req, info, secret)
            ctx.params[_PAYLOAD] = data
    except sigv4.AuthError as err:
        raise err.to_service_error("s3") from None
    _apply_trailers(ctx.params, trailers)


def _decode_spooled(
    req: HttpRequest, source: SpooledBody, info: SignedRequestInfo | None, secret: str | None
) -> dict[str, str]:
    decoded = SpooledBody(source.path.parent)
    try:
        with source.open() as stream:
            trailers = sigv4.decode_s3_stream(req, info, secret, stream, decoded.write)
        decoded.finish()
        source.take_over(decoded)
    finally:
        decoded.discard()  # a no-op once taken over
    return trailers


def _apply_trailers(params: dict[str, Any], trailers: dict[str, str]) -> None:
    for name, value in trailers.items():
        if not name.startswith("x-amz-checksum-"):
            continue
        algorithm = name.removeprefix("x-amz-checksum-").upper()
        if algorithm not in checksums.ALGORITHMS:
            continue  # not an algorithm S3 has: neither checked nor refused
        # UNSURE: the message for a malformed trailing value is versitygw's (not recorded
        # against AWS); a wrong value is the header's BadDigest, raised by the provider.
        if checksums.decode(algorithm, value) is None:
            raise ServiceError(
                "InvalidRequest", f"Value for {name} trailing header is invalid.", 400
            )
        params[checksums.member(algorithm)] = value
