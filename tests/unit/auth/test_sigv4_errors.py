"""Authentication error codes per protocol (spec 6.6) and malformed credentials (spec 5.1)."""

from __future__ import annotations

import pytest
from auth_capture import SECRET, capture, client, now, replace

from trailgate.auth.sigv4 import AuthError, auth_error, parse_auth, verify
from trailgate.gateway.context import HttpRequest

SIG_MSG = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
S3_SIG_MSG = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
BAD_TOKEN = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"
SKEW = (
    "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z "
    "(20260101T003000Z - 15 min.)"
)

TABLE = [
    # kind, protocol, code, status, message (detail passed = SKEW for clock_skew)
    ("unknown_key", "query", "InvalidClientTokenId", 403, BAD_TOKEN),
    ("unknown_key", "json", "UnrecognizedClientException", 400, BAD_TOKEN),
    (
        "unknown_key",
        "s3",
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    ("bad_token", "query", "InvalidClientTokenId", 403, BAD_TOKEN),
    ("bad_token", "json", "UnrecognizedClientException", 400, BAD_TOKEN),
    (
        "bad_token",
        "s3",
        "InvalidToken",
        400,
        "The provided token is malformed or otherwise invalid.",
    ),
    ("expired_token", "query", "ExpiredToken", 403, EXPIRED),
    ("expired_token", "json", "ExpiredTokenException", 400, EXPIRED),
    ("expired_token", "s3", "ExpiredToken", 400, "The provided token has expired."),
    ("signature_mismatch", "query", "SignatureDoesNotMatch", 403, SIG_MSG),
    ("signature_mismatch", "json", "InvalidSignatureException", 400, SIG_MSG),
    ("signature_mismatch", "s3", "SignatureDoesNotMatch", 403, S3_SIG_MSG),
    ("clock_skew", "query", "SignatureDoesNotMatch", 403, SKEW),
    ("clock_skew", "json", "InvalidSignatureException", 400, SKEW),
    (
        "clock_skew",
        "s3",
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    ),
    ("missing_auth", "query", "MissingAuthenticationToken", 403, None),
    ("missing_auth", "json", "MissingAuthenticationTokenException", 400, None),
    ("incomplete_signature", "query", "IncompleteSignature", 400, None),
    ("incomplete_signature", "json", "IncompleteSignatureException", 400, None),
    ("incomplete_signature", "s3", "AuthorizationHeaderMalformed", 400, None),
    ("malformed_query", "s3", "AuthorizationQueryParametersError", 400, None),
    ("request_expired", "s3", "AccessDenied", 403, "Request has expired"),
    ("request_expired", "query", "RequestExpired", 400, None),
    (
        "payload_hash_mismatch",
        "s3",
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
    ("payload_hash_mismatch", "query", "SignatureDoesNotMatch", 403, SIG_MSG),
    ("invalid_content_sha256", "s3", "InvalidArgument", 400, None),
]


@pytest.mark.parametrize(("kind", "protocol", "code", "status", "message"), TABLE)
def test_error_table(kind: str, protocol: str, code: str, status: int, message: str | None) -> None:
    detail = SKEW if kind == "clock_skew" else "some detail"
    err = auth_error(kind, protocol, detail)  # type: ignore[arg-type]
    assert (err.code, err.status) == (code, status)
    assert err.sender_fault
    if message is not None:
        assert err.message == message
    else:
        assert err.message


def test_s3_signature_mismatch_carries_string_to_sign() -> None:
    req = capture(client("s3"), "get_object", Bucket="trail-bucket", Key="a b")
    info = parse_auth(req)
    assert info is not None
    with pytest.raises(AuthError) as caught:
        verify(req, info, "wrong-secret", now())
    s3 = caught.value.to_service_error("s3")
    assert s3.code == "SignatureDoesNotMatch" and s3.status == 403
    assert s3.extra["StringToSign"].startswith("AWS4-HMAC-SHA256\n" + info.amz_date + "\n")
    assert s3.extra["CanonicalRequest"].startswith("GET\n/trail-bucket/a%20b\n\n")
    assert s3.extra["SignatureProvided"] == info.signature
    assert s3.extra["AWSAccessKeyId"] == info.access_key_id
    query = caught.value.to_service_error("query")
    assert query.extra == {}  # only S3 renders the extra elements
    assert query.message == SIG_MSG


def test_s3_skew_extras() -> None:
    req = capture(client("s3"), "list_buckets")
    info = parse_auth(req)
    assert info is not None and info.signed_at is not None
    from datetime import timedelta

    with pytest.raises(AuthError) as caught:
        verify(req, info, SECRET, info.signed_at + timedelta(hours=1))
    err = caught.value.to_service_error("s3")
    assert err.code == "RequestTimeTooSkewed"
    assert err.extra["RequestTime"] == info.amz_date
    assert err.extra["MaxAllowedSkewMilliseconds"] == "900000"


def test_payload_mismatch_extras() -> None:
    req = capture(client("s3"), "put_object", Bucket="b", Key="k", Body=b"abc")
    info = parse_auth(req)
    assert info is not None
    with pytest.raises(AuthError) as caught:
        verify(replace(req, body=b"abd"), info, SECRET, now())
    err = caught.value.to_service_error("s3")
    assert err.code == "XAmzContentSHA256Mismatch"
    assert err.extra["ClientComputedContentSHA256"] == req.headers["x-amz-content-sha256"]


def test_invalid_content_sha256_value() -> None:
    req = capture(client("s3"), "get_object", Bucket="b", Key="k")
    info = parse_auth(req)
    assert info is not None
    odd = replace(req)
    odd.headers["x-amz-content-sha256"] = "STREAMING-SOMETHING"
    with pytest.raises(AuthError):
        verify(odd, info, SECRET, now())


# ------------------------------------------------------------------------ malformed headers


def _with_authz(value: str) -> HttpRequest:
    req = capture(client("iam"), "list_users")
    bad = replace(req)
    bad.headers["authorization"] = value
    return bad


GOOD_CRED = "AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request"


@pytest.mark.parametrize(
    ("authz", "fragment"),
    [
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab", "requires 'Credential' parameter"),
        (f"AWS4-HMAC-SHA256 Credential={GOOD_CRED}, SignedHeaders=host", "'Signature'"),
        (f"AWS4-HMAC-SHA256 Credential={GOOD_CRED}, Signature=ab", "'SignedHeaders'"),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws5_request, "
            "SignedHeaders=host, Signature=ab",
            "valid terminator",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/2026010/us-east-1/iam/aws4_request, "
            "SignedHeaders=host, Signature=ab",
            "credential date",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/iam/aws4_request, "
            "SignedHeaders=host, Signature=ab",
            "valid region",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={GOOD_CRED}, SignedHeaders=x-amz-date, Signature=ab",
            "'Host'",
        ),
        # an unknown scheme: S3 answers InvalidArgument (test_sigv4_audit18)
        ("AWS AKIDONLY", "Authorization="),
    ],
)
def test_malformed_authorization(authz: str, fragment: str) -> None:
    with pytest.raises(AuthError) as caught:
        parse_auth(_with_authz(authz))
    assert caught.value.kind == "incomplete_signature"
    assert fragment in caught.value.detail
    err = caught.value.to_service_error("query")
    assert err.code == "IncompleteSignature" and fragment in err.message
    s3 = caught.value.to_service_error("s3")
    assert s3.code == "AuthorizationHeaderMalformed"
    assert s3.message.startswith("The authorization header is malformed; ")


def test_missing_date() -> None:
    req = _with_authz(f"AWS4-HMAC-SHA256 Credential={GOOD_CRED}, SignedHeaders=host, Signature=ab")
    del req.headers["x-amz-date"]
    with pytest.raises(AuthError) as caught:
        parse_auth(req)
    assert "'X-Amz-Date' or a 'Date' header" in caught.value.detail


def test_bad_amz_date() -> None:
    req = capture(client("iam"), "list_users")
    for value in ["2026-01-01T00:00:00Z", "20261301T000000Z", "20260101T000000", ""]:
        bad = replace(req)
        bad.headers["x-amz-date"] = value
        with pytest.raises(AuthError) as caught:
            parse_auth(bad)
        # IAM/STS call the header incomplete; S3 refuses the date (AccessDenied, audit 18)
        assert caught.value.kind == "bad_request_date", value
        rendered = caught.value.to_service_error("query")
        assert (rendered.code, rendered.status) == ("IncompleteSignature", 400), value
