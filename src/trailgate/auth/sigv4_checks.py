"""Verification checks shared by SigV4 and SigV2 (spec 5.4, 5.6): the request-time window
(clock skew, presigned expiry) and the signature-mismatch error with S3's debugging elements.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from .sigv4_errors import AuthError, AuthKind
from .sigv4_parse import SignedRequestInfo

MAX_SKEW: Final = timedelta(minutes=15)


def check_v4_time(info: SignedRequestInfo, now: datetime) -> None:
    """SigV4: the scope date matches the request date; the request is within skew / not expired."""
    kind: AuthKind = "malformed_query" if info.presigned else "incomplete_signature"
    if info.scope_date != info.amz_date[:8]:
        raise AuthError(
            kind,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{info.scope_date}' != '{info.amz_date[:8]}', from '{info.amz_date}'.",
        )
    signed_at = info.signed_at
    assert signed_at is not None
    # Only S3 honours X-Amz-Expires; STS and the other services keep a presigned request to the
    # 15 minutes around its X-Amz-Date whatever it says (aws-sdk-go#2167; "This value is
    # ignored by STS", kubernetes-sigs/aws-iam-authenticator#753, whose 60 s tokens live 15 min).
    if info.presigned and info.service == "s3" and info.expires is not None:
        if now > signed_at + timedelta(seconds=info.expires):
            raise AuthError(
                "request_expired",
                "Request has expired",
                {
                    "X-Amz-Expires": str(info.expires),
                    "Expires": iso_utc(signed_at + timedelta(seconds=info.expires)),
                    "ServerTime": iso_utc(now),
                },
            )
        if signed_at - now > MAX_SKEW:
            raise not_yet_valid(signed_at, info.expires, now)
        return
    if info.presigned and now - signed_at > MAX_SKEW:
        raise AuthError("request_expired", "Request has expired")
    if abs(now - signed_at) > MAX_SKEW:
        raise skew_error(info.amz_date, signed_at, now)


def not_yet_valid(signed_at: datetime, expires: int, now: datetime) -> AuthError:
    """S3's refusal of a presigned URL dated ahead of the server's clock: its X-Amz-Date in
    epoch milliseconds, the time it expires and the server's time (minio#2638)."""
    return AuthError(
        "request_not_yet_valid",
        "Request is not yet valid",
        {
            "X-Amz-Date": str(int(signed_at.timestamp()) * 1000),
            "Expires": iso_utc(signed_at + timedelta(seconds=expires)),
            "ServerTime": iso_utc(now),
        },
    )


def skew_error(shown: str, signed_at: datetime, now: datetime) -> AuthError:
    """The ``clock_skew`` error for a request signed at ``signed_at`` (shown as ``shown``)."""
    if signed_at < now:
        detail = (
            f"Signature expired: {shown} is now earlier than {_basic(now - MAX_SKEW)} "
            f"({_basic(now)} - 15 min.)"
        )
    else:
        detail = (
            f"Signature not yet current: {shown} is still later than {_basic(now + MAX_SKEW)} "
            f"({_basic(now)} + 15 min.)"
        )
    extra = {
        "RequestTime": shown,
        "ServerTime": iso_utc(now),
        "MaxAllowedSkewMilliseconds": "900000",
    }
    return AuthError("clock_skew", detail, extra)


def _basic(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso_utc(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mismatch_error(
    info: SignedRequestInfo, string_to_sign: str, canonical: str | None
) -> AuthError:
    """The ``signature_mismatch`` error with S3's StringToSign / CanonicalRequest elements."""
    extra = {
        "AWSAccessKeyId": info.access_key_id,
        "StringToSign": string_to_sign,
        "SignatureProvided": info.signature,
        "StringToSignBytes": string_to_sign.encode("utf-8", "replace").hex(" "),
    }
    if canonical is not None:
        extra["CanonicalRequest"] = canonical
        extra["CanonicalRequestBytes"] = canonical.encode("utf-8", "replace").hex(" ")
    return AuthError("signature_mismatch", "", extra)
