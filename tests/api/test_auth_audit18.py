"""Audit 18 (request authentication): S3 presigned-URL and header-auth refusals worded as S3
words them."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

BUCKET = "audit18-auth"


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
