"""Audit 18 (request authentication): S3 presigned-URL and header-auth refusals worded as S3
words them."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from typing import Any
from xml.etree import ElementTree

import boto3
import botocore.auth
import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

BUCKET = "audit18-auth"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _fetch(
    url: str, method: str = "GET", data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def presigner(server: Server) -> Any:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"hello")  # type: ignore[attr-defined]
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
    )


def _s3_error(code: str, message: str, middle: str = "") -> str:
    return (
        rf"<Error><Code>{code}</Code><Message>{re.escape(message)}</Message>{middle}"
        r"<RequestId>[0-9A-F]{16}</RequestId><HostId>[^<]+</HostId></Error>"
    )


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("604801", "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                   "X-Amz-Expires must be less than 604800 seconds"),
        ("-1", "X-Amz-Expires must be non-negative"),
        ("-300", "X-Amz-Expires must be non-negative"),
        ("soon", "X-Amz-Expires should be a number"),
    ],
)
def test_presigned_expires_out_of_range(presigner: Any, expires: str, message: str) -> None:
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=60
    )
    status, body = _fetch(re.sub(r"X-Amz-Expires=\d+", f"X-Amz-Expires={expires}", url))
    assert status == 400
    assert re.search(_s3_error("AuthorizationQueryParametersError", message), body), body


def _presign_at(server: Server, when: dt.datetime, expires: int) -> str:
    """A SigV4 presigned GET of the test object, signed as if the clock read ``when``."""
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{BUCKET}/k")
    auth = S3SigV4QueryAuth(Credentials(ROOT_KEY, ROOT_SECRET), "s3", REGION, expires=expires)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", lambda: when)
        auth.add_auth(request)
    assert "X-Amz-Date=" + when.strftime("%Y%m%dT%H%M%SZ") in str(request.url)
    return str(request.url)


def test_presigned_url_dated_in_the_future(server: Server, presigner: Any) -> None:
    del presigner
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    status, body = _fetch(_presign_at(server, when, 3600))
    assert status == 403
    middle = (
        f"<X-Amz-Date>{int(when.timestamp()) * 1000}</X-Amz-Date>"
        f"<Expires>{(when + dt.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}</Expires>"
        r"<ServerTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</ServerTime>"
    )
    assert re.search(_s3_error("AccessDenied", "Request is not yet valid", middle), body), body


def test_presigned_url_a_little_ahead_still_works(server: Server, presigner: Any) -> None:
    del presigner
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert _fetch(_presign_at(server, when, 60)) == (200, "hello")


def _s3_header_signed(server: Server, method: str, path: str, body: bytes,
                      content_sha256: str | None) -> dict[str, str]:
    request = AWSRequest(method=method, url=server.endpoint + path, data=body)
    if content_sha256 is not None:
        request.headers["X-Amz-Content-SHA256"] = content_sha256
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "s3", REGION).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_sigv4_header_without_content_sha256(
    server: Server, presigner: Any, method: str
) -> None:
    body = b"new body" if method == "PUT" else b""
    path = f"/{BUCKET}/k"
    headers = _s3_header_signed(server, method, path, body, None)
    assert "X-Amz-Content-SHA256" not in headers
    status, text = _fetch(server.endpoint + path, method, body or None, headers)
    assert status == 400
    assert re.search(
        _s3_error("InvalidRequest", "Missing required header for this request: "
                  "x-amz-content-sha256"),
        text,
    ), text
    stored = presigner.get_object(Bucket=BUCKET, Key="k")["Body"].read()
    assert stored == b"hello"  # the PUT changed nothing


def _s3_fields(body: str) -> dict[str, str]:
    root = ElementTree.fromstring(body)
    assert root.tag == "Error", body
    return {child.tag: child.text or "" for child in root}


def _raw_s3(server: Server, headers: dict[str, str], path: str = f"/{BUCKET}/k") -> tuple[
    int, dict[str, str]
]:
    status, body = _fetch(server.endpoint + path, "GET", None, headers)
    return status, _s3_fields(body)


MALFORMED_CREDENTIAL = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
)


def test_header_credential_malformed(server: Server, presigner: Any) -> None:
    del presigner
    headers = _s3_header_signed(server, "GET", f"/{BUCKET}/k", b"", EMPTY_SHA256)
    authz = headers["Authorization"]
    headers["Authorization"] = authz.replace(f"{ROOT_KEY}/", f"{ROOT_KEY}/extra/", 1)
    status, fields = _raw_s3(server, headers)
    assert (status, fields["Code"], fields["Message"]) == (
        400, "AuthorizationHeaderMalformed",
        "The authorization header is malformed; " + MALFORMED_CREDENTIAL,
    )


def test_presigned_credential_malformed(presigner: Any) -> None:
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=60
    )
    status, body = _fetch(url.replace("X-Amz-Credential=", "X-Amz-Credential=extra%2F", 1))
    fields = _s3_fields(body)
    assert (status, fields["Code"], fields["Message"]) == (
        400, "AuthorizationQueryParametersError",
        "Error parsing the X-Amz-Credential parameter; " + MALFORMED_CREDENTIAL,
    )


def test_header_missing_a_component(server: Server, presigner: Any) -> None:
    del presigner
    headers = _s3_header_signed(server, "GET", f"/{BUCKET}/k", b"", EMPTY_SHA256)
    headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
    status, fields = _raw_s3(server, headers)
    assert (status, fields["Code"], fields["Message"]) == (
        400, "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the authorization header requires three "
        "components: Credential, SignedHeaders, and Signature.",
    )


@pytest.mark.parametrize("amz_date", ["20170509T154625+01", None])
def test_header_without_a_valid_date(
    server: Server, presigner: Any, amz_date: str | None
) -> None:
    del presigner
    headers = _s3_header_signed(server, "GET", f"/{BUCKET}/k", b"", EMPTY_SHA256)
    del headers["X-Amz-Date"]
    if amz_date is not None:
        headers["X-Amz-Date"] = amz_date
    status, fields = _raw_s3(server, headers)
    assert (status, fields["Code"], fields["Message"]) == (
        403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"
    )


def test_sigv2_header_without_a_date(server: Server, presigner: Any) -> None:
    del presigner
    headers = {"Authorization": f"AWS {ROOT_KEY}:c2lnbmF0dXJl"}
    status, fields = _raw_s3(server, headers)
    assert (status, fields["Code"], fields["Message"]) == (
        403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"
    )


def test_sts_header_without_a_date_is_still_incomplete(server: Server) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(
        method="POST", url=server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", REGION).add_auth(request)
    headers = dict(request.headers.items())
    del headers["X-Amz-Date"]
    status, text = _fetch(server.endpoint + "/", "POST", body, headers)
    assert status == 400
    error = ElementTree.fromstring(text).find("{*}Error")
    assert error is not None
    assert error.findtext("{*}Code") == "IncompleteSignature"
    assert error.findtext("{*}Message") == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={headers['Authorization']}"
    )


ONLY_ONE = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
    "string parameter or the Authorization header should be specified"
)


def test_header_and_query_auth_at_once(server: Server, presigner: Any) -> None:
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=60
    )
    headers = _s3_header_signed(server, "GET", f"/{BUCKET}/k", b"", EMPTY_SHA256)
    status, body = _fetch(url, headers=headers)
    fields = _s3_fields(body)
    assert status == 400
    assert {k: fields[k] for k in ("Code", "Message", "ArgumentName", "ArgumentValue")} == {
        "Code": "InvalidArgument", "Message": ONLY_ONE, "ArgumentName": "Authorization",
        "ArgumentValue": headers["Authorization"],
    }
    assert list(fields)[:4] == ["Code", "Message", "ArgumentName", "ArgumentValue"]


def test_unsupported_authorization_scheme(server: Server, presigner: Any) -> None:
    del presigner
    headers = _s3_header_signed(server, "GET", f"/{BUCKET}/k", b"", EMPTY_SHA256)
    authz = headers["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA25", 1)
    headers["Authorization"] = authz
    status, fields = _raw_s3(server, headers)
    assert status == 400
    assert {k: fields[k] for k in ("Code", "Message", "ArgumentName", "ArgumentValue")} == {
        "Code": "InvalidArgument", "Message": "Unsupported Authorization Type",
        "ArgumentName": "Authorization", "ArgumentValue": authz,
    }


def test_sts_header_and_query_auth_at_once_is_still_incomplete(server: Server) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(
        method="POST", url=server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", REGION).add_auth(request)
    query = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x"
    status, text = _fetch(server.endpoint + "/" + query, "POST", body, dict(request.headers))
    error = ElementTree.fromstring(text).find("{*}Error")
    assert error is not None
    assert (status, error.findtext("{*}Code"), error.findtext("{*}Message")) == (
        400, "IncompleteSignature", ONLY_ONE
    )


def _presigned_identity(server: Server, when: dt.datetime, expires: int) -> str:
    """A presigned STS GetCallerIdentity (Vault / EKS style), signed as if the clock read
    ``when``."""
    request = AWSRequest(
        method="GET", url=server.endpoint + "/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    )
    auth = SigV4QueryAuth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", REGION, expires=expires)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", lambda: when)
        auth.add_auth(request)
    url = str(request.prepare().url)
    assert f"X-Amz-Expires={expires}" in url
    return url


def test_sts_presigned_lives_15_minutes_whatever_its_expires(server: Server) -> None:
    now = dt.datetime.now(dt.UTC)
    # an EKS token says X-Amz-Expires=60 and is used for up to 15 minutes
    status, body = _fetch(_presigned_identity(server, now - dt.timedelta(minutes=5), 60))
    assert status == 200, body
    assert "<Arn>arn:aws:iam::111111111111:root</Arn>" in body
    # and a longer X-Amz-Expires does not stretch it
    status, body = _fetch(_presigned_identity(server, now - dt.timedelta(minutes=20), 3600))
    error = ElementTree.fromstring(body).find("{*}Error")
    assert error is not None
    assert (status, error.findtext("{*}Code"), error.findtext("{*}Message")) == (
        400, "RequestExpired", "Request has expired."
    )
