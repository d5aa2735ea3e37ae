"""Refusal paths of authentication: exact AWS codes, and nothing changes (spec 5, 6.6)."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .server import ROOT_KEY, ROOT_SECRET, Server


def raw(server: Server, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(server.endpoint + "/", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def signed(server: Server, body: bytes, *, key: str = ROOT_KEY, secret: str = ROOT_SECRET,
           service: str = "iam", when: dt.datetime | None = None,
           token: str | None = None) -> dict[str, str]:
    request = AWSRequest(
        method="POST", url=server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    stamp = (when or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    request.context["timestamp"] = stamp
    request.headers["X-Amz-Date"] = stamp
    if token:
        request.headers["X-Amz-Security-Token"] = token
    auth = SigV4Auth(Credentials(key, secret, token), service, "us-east-1")
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    signed_headers = auth.signed_headers(auth.headers_to_sign(request))
    scope = f"{key}/{stamp[:8]}/us-east-1/{service}/aws4_request"
    headers = {k: v for k, v in request.headers.items()}
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed_headers}, "
        f"Signature={signature}"
    )
    return headers


CREATE = b"Action=CreateUser&Version=2010-05-08&UserName=should-not-exist"


def assert_not_created(server: Server) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("iam").get_user(UserName="should-not-exist")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"


def code_of(body: bytes) -> str:
    text = body.decode()
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def test_a_correct_raw_request_works(server: Server) -> None:
    status, body = raw(server, b"Action=GetUser&Version=2010-05-08&UserName=nope",
                       signed(server, b"Action=GetUser&Version=2010-05-08&UserName=nope"))
    assert (status, code_of(body)) == (404, "NoSuchEntity")


def test_bad_signature(server: Server) -> None:
    headers = signed(server, CREATE)
    headers["Authorization"] = headers["Authorization"][:-1] + (
        "0" if headers["Authorization"][-1] != "0" else "1"
    )
    status, body = raw(server, CREATE, headers)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")
    assert_not_created(server)


def test_body_changed_after_signing(server: Server) -> None:
    headers = signed(server, CREATE)
    status, body = raw(server, CREATE.replace(b"exist", b"exisx"), headers)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


def test_unknown_key(server: Server) -> None:
    headers = signed(server, CREATE, key="AKIAUNKNOWNUNKNOWN00")
    status, body = raw(server, CREATE, headers)
    assert (status, code_of(body)) == (403, "InvalidClientTokenId")
    assert_not_created(server)


def test_stale_date(server: Server) -> None:
    headers = signed(server, CREATE, when=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    status, body = raw(server, CREATE, headers)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")
    assert b"Signature expired" in body
    assert_not_created(server)


def test_missing_authentication(server: Server) -> None:
    status, body = raw(server, CREATE, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, code_of(body)) == (403, "MissingAuthenticationToken")
    assert_not_created(server)


def test_malformed_authorization(server: Server) -> None:
    headers = signed(server, CREATE)
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=garbage"
    status, body = raw(server, CREATE, headers)
    assert (status, code_of(body)) == (400, "IncompleteSignature")


def test_tampered_session_token(server: Server) -> None:
    iam = server.client("iam")
    sts = server.client("sts")
    creds = sts.get_session_token()["Credentials"]
    token = creds["SessionToken"]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    headers = signed(server, CREATE, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                     token=flipped)
    status, body = raw(server, CREATE, headers)
    assert (status, code_of(body)) == (403, "InvalidClientTokenId")
    del iam
    assert_not_created(server)


def test_garbage_body(server: Server) -> None:
    body_bytes = b"\xff\xfe\x00garbage=\x80&&&"
    status, body = raw(server, body_bytes, signed(server, body_bytes))
    assert (status, code_of(body)) == (400, "MissingAction")
    assert_not_created(server)


def test_unknown_action(server: Server) -> None:
    payload = b"Action=DoSomethingOdd&Version=2010-05-08"
    status, body = raw(server, payload, signed(server, payload))
    assert (status, code_of(body)) == (400, "InvalidAction")


def test_oversized_body(server: Server) -> None:
    body = b"Action=CreateUser&Version=2010-05-08&UserName=should-not-exist&Pad=" + b"x" * (
        2 * 1024 * 1024
    )
    status, resp = raw(server, body, signed(server, body))
    assert (status, code_of(resp)) == (413, "RequestEntityTooLarge")
    assert_not_created(server)
