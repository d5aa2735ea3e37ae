"""Browser-based uploads (S3 "POST Object"): boto3 ``generate_presigned_post`` (SigV4 and the
default SigV2) and a multipart/form-data POST to the bucket URL, as a browser sends it; the
policy's conditions, expiry and size range; S3's success answers (204, 200, 201 with
``<PostResponse>``, 303 redirect) and errors; authorization as ``s3:PutObject`` of the
credential's principal; the CloudTrail PutObject data event."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

S3_REQUEST_ID = re.compile(r"[0-9A-F]{16}")


def s3_client(server: Server, *, v4: bool = True, key: str = ROOT_KEY,
              secret: str = ROOT_SECRET, token: str | None = None) -> Any:
    config = Config(signature_version="s3v4" if v4 else None, retries={"max_attempts": 1})
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=config)


@pytest.fixture(scope="module")
def bucket(server: Server) -> Iterator[str]:
    s3 = s3_client(server)
    name = f"tg-post-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def post(url: str, fields: dict[str, str] | list[tuple[str, str]], content: bytes,
         filename: str = "photo.jpg") -> tuple[int, dict[str, str], bytes]:
    """A multipart/form-data POST as browsers send it: the fields in order, the file last."""
    boundary = "----trailgate" + uuid.uuid4().hex
    items = list(fields.items()) if isinstance(fields, dict) else fields
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode() + b"\r\n" for name, value in items
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    target = urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
    conn.request("POST", target.path, body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    resp = conn.getresponse()
    data = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, data


def error_of(body: bytes) -> dict[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


@pytest.mark.parametrize("v4", [True, False], ids=["sigv4", "sigv2"])
def test_presigned_post_uploads_the_file(server: Server, bucket: str, v4: bool) -> None:
    s3 = s3_client(server, v4=v4)
    presigned = s3.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=300)
    if v4:
        assert presigned["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    else:
        assert "AWSAccessKeyId" in presigned["fields"]
    name = f"{'v4' if v4 else 'v2'} photo.jpg"
    status, headers, body = post(presigned["url"], presigned["fields"], b"JPEGDATA", name)
    assert (status, body) == (204, b""), body
    assert headers["etag"] == '"' + hashlib.md5(b"JPEGDATA").hexdigest() + '"'
    assert headers["location"] == f"{server.endpoint}/{bucket}/uploads/{name.replace(' ', '%20')}"
    assert S3_REQUEST_ID.fullmatch(headers["x-amz-request-id"])
    got = s3.get_object(Bucket=bucket, Key=f"uploads/{name}")
    assert got["Body"].read() == b"JPEGDATA"
    assert got["ContentType"] == "binary/octet-stream"


def test_fields_become_object_properties(server: Server, bucket: str) -> None:
    s3 = s3_client(server)
    fields = {"Content-Type": "image/png", "x-amz-meta-owner": "alice",
              "success_action_status": "201"}
    conditions: list[Any] = [{"Content-Type": "image/png"}, {"x-amz-meta-owner": "alice"},
                             {"success_action_status": "201"},
                             ["content-length-range", 1, 100]]
    presigned = s3.generate_presigned_post(bucket, "props.png", Fields=fields,
                                           Conditions=conditions, ExpiresIn=300)
    status, headers, body = post(presigned["url"], presigned["fields"], b"PNG")
    assert status == 201
    assert headers["content-type"] == "application/xml"
    root = ET.fromstring(body)
    assert root.tag == "PostResponse"
    assert [(c.tag, c.text) for c in root] == [
        ("Location", f"{server.endpoint}/{bucket}/props.png"), ("Bucket", bucket),
        ("Key", "props.png"), ("ETag", headers["etag"])]
    head = s3.head_object(Bucket=bucket, Key="props.png")
    assert (head["ContentType"], head["Metadata"]) == ("image/png", {"owner": "alice"})


@pytest.mark.parametrize(("fields", "status"), [
    ({"success_action_status": "200"}, 200),
    ({"success_action_status": "404"}, 204),  # not one S3 knows: the default
    ({}, 204),
])
def test_success_action_status(server: Server, bucket: str, fields: dict[str, str],
                               status: int) -> None:
    s3 = s3_client(server)
    conditions: list[Any] = [{k: v} for k, v in fields.items()]
    presigned = s3.generate_presigned_post(bucket, "status.txt", Fields=fields,
                                           Conditions=conditions, ExpiresIn=300)
    got_status, _, body = post(presigned["url"], presigned["fields"], b"x")
    assert (got_status, body) == (status, b"")


def test_success_action_redirect(server: Server, bucket: str) -> None:
    s3 = s3_client(server)
    target = "https://example.com/done?from=upload"
    presigned = s3.generate_presigned_post(
        bucket, "redirect.txt", Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}], ExpiresIn=300)
    status, headers, _ = post(presigned["url"], presigned["fields"], b"abc")
    assert status == 303
    location = urlsplit(headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "example.com", "/done")
    assert parse_qs(location.query) == {"from": ["upload"], "bucket": [bucket],
                                        "key": ["redirect.txt"], "etag": [headers["etag"]]}


def test_policy_violations(server: Server, bucket: str) -> None:
    s3 = s3_client(server)
    presigned = s3.generate_presigned_post(
        bucket, "fixed.txt", Fields={"Content-Type": "text/plain"},
        Conditions=[{"Content-Type": "text/plain"}, ["content-length-range", 2, 5]],
        ExpiresIn=300)
    url, fields = presigned["url"], presigned["fields"]
    cases: list[tuple[dict[str, str], bytes, int, dict[str, str]]] = [
        ({**fields, "key": "other.txt"}, b"abc", 403, {
            "Code": "AccessDenied",
            "Message": 'Invalid according to Policy: Policy Condition failed: '
                       '["eq", "$key", "fixed.txt"]'}),
        ({**fields, "Content-Type": "text/html"}, b"abc", 403, {
            "Code": "AccessDenied",
            "Message": 'Invalid according to Policy: Policy Condition failed: '
                       '["eq", "$Content-Type", "text/plain"]'}),
        ({**fields, "x-amz-meta-extra": "1"}, b"abc", 403, {
            "Code": "AccessDenied",
            "Message": "Invalid according to Policy: Extra input fields: x-amz-meta-extra"}),
        ({**fields, "x-ignore-note": "anything"}, b"abc", 204, {}),
        (fields, b"toolong", 400, {
            "Code": "EntityTooLarge",
            "Message": "Your proposed upload exceeds the maximum allowed size",
            "ProposedSize": "7", "MaxSizeAllowed": "5"}),
        (fields, b"a", 400, {
            "Code": "EntityTooSmall", "ProposedSize": "1", "MinSizeAllowed": "2"}),
        ({**fields, "x-amz-signature": "0" * 64}, b"abc", 403, {
            "Code": "SignatureDoesNotMatch"}),
        ({k: v for k, v in fields.items() if k != "key"}, b"abc", 400, {
            "Code": "InvalidArgument",
            "Message": "Bucket POST must contain a field named 'key'.  If it is specified, "
                       "please check the order of the fields.",
            "ArgumentName": "key"}),
        ({k: v for k, v in fields.items() if k != "policy"}, b"abc", 400, {
            "Code": "InvalidArgument", "ArgumentName": "policy"}),
    ]
    for form, content, status, expected in cases:
        got_status, _, body = post(url, form, content)
        assert got_status == status, (form, body)
        if expected:
            got = error_of(body)
            assert {k: got.get(k) for k in expected} == expected
            assert S3_REQUEST_ID.fullmatch(got["RequestId"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "other.txt" not in keys


def test_expired_policy(server: Server, bucket: str) -> None:
    s3 = s3_client(server)
    presigned = s3.generate_presigned_post(bucket, "late.txt", ExpiresIn=1)
    time.sleep(2.2)
    status, _, body = post(presigned["url"], presigned["fields"], b"late")
    assert status == 403
    assert error_of(body)["Message"] == "Invalid according to Policy: Policy expired."


def test_the_upload_is_authorized_as_the_principals_put_object(
        server: Server, bucket: str) -> None:
    """A user allowed nothing on the bucket may sign a form, but the upload is refused; once
    allowed s3:PutObject on the prefix it goes through."""
    iam: Any = server.client("iam")
    user = f"poster-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    s3 = s3_client(server, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    presigned = s3.generate_presigned_post(bucket, "inbox/${filename}", ExpiresIn=300)
    status, _, body = post(presigned["url"], presigned["fields"], b"no", "denied.txt")
    assert status == 403
    assert error_of(body)["Code"] == "AccessDenied"
    iam.put_user_policy(UserName=user, PolicyName="post", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/inbox/*",
            "Condition": {"StringEquals": {"s3:authType": "POST"}}}]}))
    status, _, body = post(presigned["url"], presigned["fields"], b"yes", "allowed.txt")
    assert status == 204, body
    owner = s3_client(server)
    assert owner.get_object(Bucket=bucket, Key="inbox/allowed.txt")["Body"].read() == b"yes"
    # the same user's session credentials: the form carries x-amz-security-token
    sts: Any = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    session = sts.get_session_token()["Credentials"]
    for v4 in (True, False):
        temp = s3_client(server, v4=v4, key=session["AccessKeyId"],
                         secret=session["SecretAccessKey"], token=session["SessionToken"])
        form = temp.generate_presigned_post(bucket, "inbox/${filename}", ExpiresIn=300)
        assert form["fields"]["x-amz-security-token"] == session["SessionToken"]
        status, _, body = post(form["url"], form["fields"], b"temp", f"temp-{v4}.txt")
        assert status == 204, body
        tampered = {**form["fields"], "x-amz-security-token": "garbage"}
        status, _, body = post(form["url"], tampered, b"temp", "tampered.txt")
        assert (status, error_of(body)["Code"]) == (400, "InvalidToken"), body
    iam.delete_user_policy(UserName=user, PolicyName="post")
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)


def test_anonymous_form_is_refused_without_a_bucket_grant(server: Server, bucket: str) -> None:
    status, _, body = post(f"{server.endpoint}/{bucket}", {"key": "anon.txt"}, b"anon")
    assert status == 403
    assert error_of(body) | {"RequestId": "", "HostId": ""} == {
        "Code": "AccessDenied", "Message": "Access Denied", "RequestId": "", "HostId": ""}


def test_a_large_form_is_read_from_its_spooled_body(server: Server, bucket: str) -> None:
    """Bodies above 1 MiB are spooled to disk by the server before the pipeline reads them."""
    s3 = s3_client(server)
    content = bytes(range(256)) * (9 * 1024) + b"end"  # 2.25 MiB, every byte value
    presigned = s3.generate_presigned_post(bucket, "big.bin", ExpiresIn=300)
    status, headers, body = post(presigned["url"], presigned["fields"], content)
    assert status == 204, body
    assert headers["etag"] == '"' + hashlib.md5(content).hexdigest() + '"'
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == content
