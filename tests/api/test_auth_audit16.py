"""Audit 16 (request authentication): refusals trailgate used to get wrong, per protocol."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

IDENTITY = b"Action=GetCallerIdentity&Version=2011-06-15"


def _client(server: Server, service: str, token: str | None) -> Any:
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        aws_session_token=token, config=Config(retries={"max_attempts": 1}),
    )


def _signed_identity(server: Server) -> dict[str, str]:
    request = AWSRequest(
        method="POST", url=server.endpoint + "/", data=IDENTITY,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "sts", REGION).add_auth(request)
    return dict(request.headers.items())


def _post(server: Server, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(
        server.endpoint + "/", data=IDENTITY, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = exc.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


INVALID_TOKEN = "The security token included in the request is invalid."


def test_long_term_key_with_session_token_is_refused(server: Server) -> None:
    # A stale AWS_SESSION_TOKEN beside permanent keys: AWS refuses the token, it does not
    # ignore it (query: InvalidClientTokenId, JSON: UnrecognizedClientException, S3: InvalidToken).
    _client(server, "sts", None).get_caller_identity()  # the key itself is good
    with pytest.raises(ClientError) as exc:
        _client(server, "sts", "some-stale-session-token").get_caller_identity()
    assert _error(exc) == (403, "InvalidClientTokenId", INVALID_TOKEN)
    with pytest.raises(ClientError) as exc:
        _client(server, "iam", "some-stale-session-token").list_users()
    assert _error(exc) == (403, "InvalidClientTokenId", INVALID_TOKEN)
    with pytest.raises(ClientError) as exc:
        _client(server, "organizations", "some-stale-session-token").describe_organization()
    assert _error(exc) == (400, "UnrecognizedClientException", INVALID_TOKEN)
    with pytest.raises(ClientError) as exc:
        _client(server, "s3", "some-stale-session-token").list_buckets()
    assert _error(exc) == (
        400, "InvalidToken", "The provided token is malformed or otherwise invalid."
    )


def test_long_term_key_with_session_token_refused_in_presigned_url(server: Server) -> None:
    s3 = _client(server, "s3", None)
    s3.create_bucket(Bucket="audit16-auth-token")
    url = _client(server, "s3", "some-stale-session-token").generate_presigned_url(
        "list_objects_v2", Params={"Bucket": "audit16-auth-token"}
    )
    assert "x-amz-security-token" in url.lower()
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            status, body = resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read().decode()
    assert status == 400
    assert re.search(
        r"<Error><Code>InvalidToken</Code><Message>The provided token is malformed or "
        r"otherwise invalid\.</Message><RequestId>[0-9A-F]{16}</RequestId><HostId>[^<]+</HostId>"
        r"</Error>",
        body,
    ), body


@pytest.mark.parametrize(
    ("mutate", "piece"),
    [
        (lambda a: a + ", junk", "junk"),
        (lambda a: a.replace("Credential=", "Credential= "), ROOT_KEY + "/"),
        (lambda a: a.replace(", Signature=", ", Signature "), "Signature"),
    ],
)
def test_authorization_piece_without_equal_sign(server: Server, mutate: Any, piece: str) -> None:
    headers = _signed_identity(server)
    authz = mutate(headers["Authorization"])
    headers["Authorization"] = authz
    status, body = _post(server, headers)
    assert status == 400
    bad = re.escape(piece) + r"[^']*" if piece.endswith("/") else re.escape(piece)
    message = (
        f"'{bad}' not a valid key=value pair \\(missing equal-sign\\) in Authorization "
        f"header: '{re.escape(authz)}'\\."
    )
    assert re.search(
        r"<ErrorResponse xmlns=\"https://sts\.amazonaws\.com/doc/2011-06-15/\"><Error>"
        rf"<Type>Sender</Type><Code>IncompleteSignature</Code><Message>{message}</Message>"
        r"</Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>",
        body,
    ), body
