"""S3's SigV2 verification (spec 5.6): header and presigned string-to-sign, HMAC-SHA1."""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime
from typing import Final
from urllib.parse import unquote

from ..gateway.context import HttpRequest
from .sigv4_canonical import uri_candidates
from .sigv4_checks import MAX_SKEW, iso_utc, mismatch_error, skew_error
from .sigv4_errors import AuthError
from .sigv4_parse import SignedRequestInfo, query_params

# botocore HmacV1Auth.QSAOfInterest: the sub-resources part of SigV2's CanonicalResource.
_V2_SUBRESOURCE_NAMES: Final = (
    "accelerate acl cors defaultObjectAcl location logging partNumber policy requestPayment "
    "torrent versioning versionId versions website uploads uploadId response-content-type "
    "response-content-language response-expires response-cache-control "
    "response-content-disposition response-content-encoding delete lifecycle tagging restore "
    "storageClass notification replication analytics metrics inventory select select-type "
    "object-lock"
)
V2_SUBRESOURCES: Final = frozenset(_V2_SUBRESOURCE_NAMES.split())


def verify_v2(
    req: HttpRequest, info: SignedRequestInfo, secret: str, now: datetime, bucket: str | None
) -> None:
    """Check an S3 SigV2 request (expiry or skew, then the signature); raise :class:`AuthError`."""
    if info.presigned:
        assert info.expires is not None
        if now.timestamp() > info.expires:
            raise AuthError(
                "request_expired",
                "Request has expired",
                {
                    "Expires": iso_utc(datetime.fromtimestamp(info.expires, UTC)),
                    "ServerTime": iso_utc(now),
                },
            )
    else:
        assert info.signed_at is not None
        if abs(now - info.signed_at) > MAX_SKEW:
            raise skew_error(info.amz_date, info.signed_at, now)
    heads = _v2_string_to_sign_heads(req, info)
    subresources = _v2_subresources(req.query_string)
    provided = info.signature.encode("utf-8", "replace")
    paths = list(uri_candidates(req.raw_path, True))
    if not bucket and paths[0].count("/") == 1 and len(paths[0]) > 1:
        paths += [p + "/" for p in paths]  # botocore signs bucket operations as "/bucket/"
    prefix = "/" + bucket if bucket else ""
    key = secret.encode()
    candidates = [f"{head}{prefix}{path}{subresources}" for head in heads for path in paths]
    for sts in candidates:
        mac = hmac.digest(key, sts.encode("utf-8", "surrogateescape"), "sha1")
        if hmac.compare_digest(base64.b64encode(mac), provided):
            return
    raise mismatch_error(info, candidates[0], None)


def _v2_string_to_sign_heads(req: HttpRequest, info: SignedRequestInfo) -> list[str]:
    """VERB, Content-MD5, Content-Type, Date/Expires and the x-amz-* lines.

    With an ``x-amz-date`` header AWS signs an empty Date line; botocore (if a caller adds
    x-amz-date) still signs its Date header, so that spelling is the fallback."""
    headers = req.headers
    amz: dict[str, str] = {
        name: value.strip() for name, value in headers.items() if name.startswith("x-amz-")
    }
    md5, ctype = headers.get("content-md5", ""), headers.get("content-type", "")
    if info.presigned:
        date = info.amz_date
        for name, value in query_params(req.query_string).items():
            lname = name.lower()
            if lname.startswith("x-amz-"):
                amz[lname] = value
            elif lname == "content-md5" and not md5:
                md5 = value
            elif lname == "content-type" and not ctype:
                ctype = value
    else:
        date = "" if "x-amz-date" in headers else headers.get("date", "")
    lines = "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    heads = [f"{req.method}\n{md5.strip()}\n{ctype.strip()}\n{date}\n{lines}"]
    if not info.presigned and not date and headers.get("date"):
        heads.append(f"{req.method}\n{md5.strip()}\n{ctype.strip()}\n{headers['date']}\n{lines}")
    return heads


def _v2_subresources(qs: str) -> str:
    found: list[tuple[str, str]] = []
    for part in qs.split("&"):
        name, sep, value = part.partition("=")
        if name in V2_SUBRESOURCES:
            found.append((name, f"{name}={unquote(value)}" if sep else name))
    if not found:
        return ""
    found.sort(key=lambda item: item[0])
    return "?" + "&".join(text for _, text in found)
