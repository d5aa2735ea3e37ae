"""SigV4 verification against what botocore really sends (spec 5.1-5.4), then tampering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import botocore.auth
import pytest
from auth_capture import (
    AKID,
    SECRET,
    SPECIAL_KEY,
    TOKEN,
    capture,
    client,
    new_client,
    now,
    replace,
    substitute,
    url_to_http,
)

from trailgate.auth.sigv4 import AuthError, SignedRequestInfo, parse_auth, verify
from trailgate.gateway.context import HttpRequest


def _iam() -> HttpRequest:
    return capture(
        client("iam"), "create_role", RoleName="r", AssumeRolePolicyDocument='{"a": "b c"}'
    )


def _sts_token() -> HttpRequest:
    return capture(client("sts", token=TOKEN), "get_caller_identity")


def _sts_assume() -> HttpRequest:
    return capture(
        client("sts", token=TOKEN),
        "assume_role",
        RoleArn="arn:aws:iam::111111111111:role/reader",
        RoleSessionName="s+1 x",
        SerialNumber="arn:aws:iam::222222222222:mfa/alice",
        TokenCode="123456",
    )


def _cloudtrail() -> HttpRequest:
    return capture(client("cloudtrail"), "describe_trails", trailNameList=["t1"])


def _organizations() -> HttpRequest:
    return capture(client("organizations", token=TOKEN), "describe_organization")


def _s3(operation: str, style: str | None = None, **params: Any) -> Callable[[], HttpRequest]:
    return lambda: capture(client("s3", addressing_style=style), operation, **params)


CASES: dict[str, Callable[[], HttpRequest]] = {
    "iam-query-post": _iam,
    "sts-session-token": _sts_token,
    "sts-assume-role-mfa": _sts_assume,
    "cloudtrail-json": _cloudtrail,
    "organizations-json-token": _organizations,
    "s3-get-special-key": _s3("get_object", Bucket="trail-bucket", Key=SPECIAL_KEY),
    "s3-put-special-key": _s3(
        "put_object", Bucket="trail-bucket", Key=SPECIAL_KEY, Body=b"hello world\n" * 10
    ),
    "s3-double-slash": _s3("get_object", Bucket="trail-bucket", Key="AWSLogs//x//y.json.gz"),
    "s3-leading-slash": _s3("head_object", Bucket="trail-bucket", Key="/lead/./../dots"),
    "s3-policy": _s3("get_bucket_policy", Bucket="trail-bucket"),
    "s3-put-policy": _s3(
        "put_bucket_policy", Bucket="trail-bucket", Policy='{"Version": "2012-10-17"}'
    ),
    "s3-acl": _s3("get_bucket_acl", Bucket="trail-bucket"),
    "s3-uploads": _s3("create_multipart_upload", Bucket="trail-bucket", Key="big file"),
    "s3-list-v2": _s3(
        "list_objects_v2", Bucket="trail-bucket", Prefix="AWSLogs/a b+c/", Delimiter="/"
    ),
    "s3-list-buckets": _s3("list_buckets"),
    "s3-virtual-host": _s3("get_object", "virtual", Bucket="trail-bucket", Key=SPECIAL_KEY),
    "s3-virtual-list": _s3("list_objects", "virtual", Bucket="trail-bucket", Prefix="x y"),
    "s3-https-streaming": lambda: capture(
        client("s3", endpoint="https://localhost:4566"),
        "put_object",
        Bucket="trail-bucket",
        Key="k",
        Body=b"x" * 100,
    ),
}


def _ok(req: HttpRequest) -> SignedRequestInfo:
    info = parse_auth(req)
    assert info is not None
    verify(req, info, SECRET, now())
    return info


@pytest.mark.parametrize("name", sorted(CASES))
def test_botocore_signed_requests_verify(name: str) -> None:
    req = CASES[name]()
    info = _ok(req)
    assert info.version == "v4" and not info.presigned
    assert info.access_key_id == AKID
    assert info.region == "eu-west-1"
    assert info.signed_at is not None
    assert info.auth_type == "REST-HEADER" and info.signature_version == "AWS4-HMAC-SHA256"
    if "token" in name or name.startswith("sts"):
        assert info.session_token == TOKEN
    else:
        assert info.session_token is None


def test_scope_service_and_region_are_reported() -> None:
    info = parse_auth(_cloudtrail())
    assert info is not None
    assert (info.service, info.region) == ("cloudtrail", "eu-west-1")
    assert info.scope == f"{info.scope_date}/eu-west-1/cloudtrail/aws4_request"
    assert "x-amz-target" in info.signed_headers


def test_virtual_host_path_has_no_bucket() -> None:
    req = CASES["s3-virtual-host"]()
    assert req.headers["host"].startswith("trail-bucket.")
    assert not req.raw_path.startswith("/trail-bucket")


def test_unsigned_request_is_none() -> None:
    assert parse_auth(url_to_http("http://localhost:4566/b/k?prefix=a")) is None


def test_wrong_secret_fails() -> None:
    req = _iam()
    info = parse_auth(req)
    assert info is not None
    with pytest.raises(AuthError) as err:
        verify(req, info, SECRET + "x", now())
    assert err.value.kind == "signature_mismatch"
    assert "CanonicalRequest" in err.value.extra and "StringToSign" in err.value.extra


def _kind(req: HttpRequest) -> str | None:
    try:
        info = parse_auth(req)
        assert info is not None
        verify(req, info, SECRET, now())
    except AuthError as exc:
        return exc.kind
    return None


def _authz_with_signature(req: HttpRequest, signature: str) -> HttpRequest:
    head, _, _ = req.headers["authorization"].rpartition("Signature=")
    new = replace(req)
    new.headers["authorization"] = f"{head}Signature={signature}"
    return new


@pytest.mark.parametrize("name", ["iam-query-post", "s3-put-special-key", "s3-list-v2"])
def test_flip_every_signature_character(name: str) -> None:
    req = CASES[name]()
    info = parse_auth(req)
    assert info is not None
    for i in range(len(info.signature)):
        tampered = _authz_with_signature(req, substitute(info.signature, i))
        assert _kind(tampered) == "signature_mismatch", i


@pytest.mark.parametrize(
    "name",
    [
        "iam-query-post",
        "sts-session-token",
        "cloudtrail-json",
        "s3-put-special-key",
        "s3-https-streaming",
    ],
)
def test_flip_every_signed_header_character(name: str) -> None:
    req = CASES[name]()
    info = parse_auth(req)
    assert info is not None
    for header in info.signed_headers:
        value = req.headers[header]
        for i in range(len(value)):
            tampered = replace(req)
            tampered.headers[header] = substitute(value, i)
            kind = _kind(tampered)
            if header == "x-amz-date":  # may become out of window or unparsable first
                assert kind in {
                    "signature_mismatch", "clock_skew", "incomplete_signature", "bad_request_date"
                }
            else:
                assert kind == "signature_mismatch", (header, i)


@pytest.mark.parametrize("name", ["iam-query-post", "cloudtrail-json", "sts-assume-role-mfa"])
def test_flip_every_body_byte_non_s3(name: str) -> None:
    req = CASES[name]()
    for i in range(len(req.body)):
        body = bytearray(req.body)
        body[i] ^= 0x01
        assert _kind(replace(req, body=bytes(body))) == "signature_mismatch", i


def test_flip_every_body_byte_s3_is_payload_mismatch() -> None:
    req = CASES["s3-put-special-key"]()
    for i in range(len(req.body)):
        body = bytearray(req.body)
        body[i] ^= 0x01
        assert _kind(replace(req, body=bytes(body))) == "payload_hash_mismatch", i


def test_appended_body_fails() -> None:
    req = CASES["s3-put-policy"]()
    assert _kind(replace(req, body=req.body + b" ")) == "payload_hash_mismatch"
    iam = _iam()
    assert _kind(replace(iam, body=iam.body + b"&Path=%2F")) == "signature_mismatch"


@pytest.mark.parametrize(
    "name", ["s3-get-special-key", "s3-double-slash", "s3-virtual-host", "s3-policy"]
)
def test_flip_every_path_character(name: str) -> None:
    req = CASES[name]()
    for i in range(len(req.raw_path)):
        assert _kind(replace(req, raw_path=substitute(req.raw_path, i))) == "signature_mismatch", i


def test_path_changes_fail_for_non_s3() -> None:
    req = _iam()
    for path in ["/x", "/%2F", "/iam", "/./x/"]:
        assert _kind(replace(req, raw_path=path)) == "signature_mismatch", path
    for path in ["//", "/./", "/x/.."]:  # normalised (spec 5.2): the same canonical URI
        assert _kind(replace(req, raw_path=path)) is None, path


@pytest.mark.parametrize("name", ["s3-list-v2", "s3-policy", "s3-acl", "s3-uploads"])
def test_flip_every_query_character(name: str) -> None:
    req = CASES[name]()
    qs = req.query_string
    assert qs
    for i in range(len(qs)):
        assert _kind(replace(req, query_string=substitute(qs, i))) == "signature_mismatch", i
    assert _kind(replace(req, query_string=qs + "&versionId=1")) == "signature_mismatch"


def test_added_query_fails_for_non_s3() -> None:
    req = _iam()
    assert _kind(replace(req, query_string="Action=DeleteRole")) == "signature_mismatch"


@pytest.mark.parametrize("name", ["iam-query-post", "s3-get-special-key", "s3-put-special-key"])
def test_other_method_fails(name: str) -> None:
    req = CASES[name]()
    for method in {"GET", "PUT", "POST", "DELETE", "HEAD"} - {req.method}:
        assert _kind(replace(req, method=method)) == "signature_mismatch", method


def test_s3_path_reencoding_accepts_equivalent_spelling() -> None:
    """Spec 5.2: a client that left '!' or '*' unescaped signed the encoded form."""
    req = CASES["s3-get-special-key"]()
    loose = req.raw_path.replace("%21", "!").replace("%2A", "*").replace("%27", "'")
    assert loose != req.raw_path
    assert _kind(replace(req, raw_path=loose)) is None


def test_header_whitespace_is_canonicalised() -> None:
    req = _iam()
    loose = replace(req)
    loose.headers["content-type"] = "  " + req.headers["content-type"].replace(" ", "   ") + " "
    assert _kind(loose) is None


def test_unsigned_headers_are_ignored() -> None:
    req = CASES["s3-put-special-key"]()
    extra = replace(req)
    extra.headers["user-agent"] = "something else"
    extra.headers["x-forwarded-for"] = "1.2.3.4"
    assert _kind(extra) is None


# ----------------------------------------------------------------------------------- time


def test_clock_skew_past_and_future() -> None:
    req = _iam()
    info = parse_auth(req)
    assert info is not None and info.signed_at is not None
    verify(req, info, SECRET, info.signed_at + timedelta(minutes=14, seconds=59))
    verify(req, info, SECRET, info.signed_at - timedelta(minutes=14, seconds=59))
    with pytest.raises(AuthError) as late:
        verify(req, info, SECRET, info.signed_at + timedelta(minutes=16))
    assert late.value.kind == "clock_skew"
    assert late.value.detail.startswith(f"Signature expired: {info.amz_date} is now earlier than")
    assert late.value.detail.endswith(" - 15 min.)")
    with pytest.raises(AuthError) as early:
        verify(req, info, SECRET, info.signed_at - timedelta(minutes=16))
    assert early.value.kind == "clock_skew"
    assert early.value.detail.startswith("Signature not yet current:")


def test_skew_message_matches_spec_example() -> None:
    from datetime import UTC, datetime

    req = _iam()
    info = parse_auth(req)
    assert info is not None
    fake = SignedRequestInfo(
        **{
            **{f: getattr(info, f) for f in info.__dataclass_fields__},
            "scope_date": "20260101",
            "amz_date": "20260101T000000Z",
            "signed_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )
    with pytest.raises(AuthError) as err:
        verify(req, fake, SECRET, datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
    assert err.value.detail == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z "
        "(20260101T003000Z - 15 min.)"
    )


def test_scope_date_must_match_amz_date() -> None:
    req = _iam()
    tampered = replace(req)
    tampered.headers["authorization"] = req.headers["authorization"].replace(
        f"/{req.headers['x-amz-date'][:8]}/", "/20000101/"
    )
    assert _kind(tampered) == "incomplete_signature"


def test_date_header_instead_of_x_amz_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs with ``Date`` when the request already has one (spec 5.1).  That is its
    pure-Python signer: with awscrt installed botocore signs with the CRT's, which always adds
    X-Amz-Date, so the pure-Python one is put back for this test."""
    monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "v4", botocore.auth.SigV4Auth)
    cl = new_client("iam")
    cl.meta.events.register(
        "before-sign.iam.*",
        lambda request, **_: request.headers.__setitem__("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
    )
    req = capture(cl, "list_users")
    assert "x-amz-date" not in req.headers
    info = parse_auth(req)
    assert info is not None
    assert info.signed_at is not None
    verify(req, info, SECRET, info.signed_at)
