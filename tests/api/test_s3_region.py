"""S3 requests signed for another region than the bucket's (us-east-1 here): S3's
AuthorizationHeaderMalformed / AuthorizationQueryParametersError with ``<Region>`` and
``x-amz-bucket-region``, and botocore's region redirect working end to end from a client
configured for the wrong region (boto3 and the AWS CLI)."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
REQUEST_ID = re.compile(r"[0-9A-F]{16}")


@pytest.fixture(scope="module")
def bucket(server: Server) -> Iterator[str]:
    s3: Any = server.client("s3")
    name = f"tg-region-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"hello")
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def send(server: Server, method: str, path: str, region: str, *,
         presign: bool = False) -> tuple[int, dict[str, str], bytes]:
    """A request signed by botocore's S3 signer for ``region`` (header or query auth)."""
    url = server.endpoint + path
    request = AWSRequest(method=method, url=url, headers={"x-amz-content-sha256": EMPTY_SHA256})
    creds = Credentials(ROOT_KEY, ROOT_SECRET)
    if presign:
        from botocore.auth import S3SigV4QueryAuth

        request = AWSRequest(method=method, url=url)
        S3SigV4QueryAuth(creds, "s3", region, expires=300).add_auth(request)
    else:
        S3SigV4Auth(creds, "s3", region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, target, headers=dict(prepared.headers.items()))
    resp = conn.getresponse()
    body = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, body


def error_fields(body: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(body)
    assert root.tag == "Error"
    return [(child.tag, child.text or "") for child in root]


HEADER_CASES = [
    ("GET", "/{b}/a.txt"),  # GetObject
    ("GET", "/{b}?list-type=2"),  # ListObjectsV2
    ("GET", "/{b}?location"),  # GetBucketLocation
    ("DELETE", "/{b}/a.txt"),  # DeleteObject: refused before anything is deleted
]


@pytest.mark.parametrize(("method", "path"), HEADER_CASES)
def test_header_signed_for_the_wrong_region(server: Server, bucket: str, method: str,
                                            path: str) -> None:
    status, headers, body = send(server, method, path.format(b=bucket), "eu-west-1")
    assert status == 400
    assert headers["x-amz-bucket-region"] == REGION
    assert headers["content-type"] == "application/xml"
    fields = error_fields(body)
    assert [tag for tag, _ in fields] == ["Code", "Message", "Region", "RequestId", "HostId"]
    values = dict(fields)
    assert values["Code"] == "AuthorizationHeaderMalformed"
    assert values["Message"] == (
        "The authorization header is malformed; the region 'eu-west-1' is wrong; "
        "expecting 'us-east-1'"
    )
    assert values["Region"] == REGION
    assert values["RequestId"] == headers["x-amz-request-id"]
    assert values["HostId"] == headers["x-amz-id-2"]
    assert REQUEST_ID.fullmatch(values["RequestId"])
    # nothing was done: the object is still there
    assert send(server, "GET", f"/{bucket}/a.txt", REGION)[0] == 200


@pytest.mark.parametrize("path", ["/{b}", "/{b}/a.txt"])
def test_head_signed_for_the_wrong_region(server: Server, bucket: str, path: str) -> None:
    status, headers, body = send(server, "HEAD", path.format(b=bucket), "ap-south-1")
    assert (status, body) == (400, b"")
    assert headers["x-amz-bucket-region"] == REGION


def test_presigned_url_for_the_wrong_region(server: Server, bucket: str) -> None:
    status, headers, body = send(server, "GET", f"/{bucket}/a.txt", "eu-west-1", presign=True)
    assert status == 400
    assert headers["x-amz-bucket-region"] == REGION
    fields = error_fields(body)
    assert [tag for tag, _ in fields] == ["Code", "Message", "Region", "RequestId", "HostId"]
    values = dict(fields)
    assert values["Code"] == "AuthorizationQueryParametersError"
    assert values["Message"] == (
        "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; "
        "expecting 'us-east-1'"
    )
    assert values["Region"] == REGION
    assert send(server, "GET", f"/{bucket}/a.txt", REGION, presign=True)[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),  # ListBuckets names no bucket: any region
        ("GET", "/tg-region-no-such-bucket/k", 404),  # NoSuchBucket, not a region error
        ("HEAD", "/tg-region-no-such-bucket", 404),
    ],
)
def test_exempt_requests(server: Server, method: str, path: str, status: int) -> None:
    assert send(server, method, path, "eu-west-1")[0] == status


def test_create_bucket_is_not_region_checked(server: Server) -> None:
    name = f"tg-region-new-{uuid.uuid4().hex[:8]}"
    status, _, _ = send(server, "PUT", f"/{name}", "eu-west-1")
    assert status == 200
    s3: Any = server.client("s3")
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == REGION
    s3.delete_bucket(Bucket=name)


def test_boto3_client_in_the_wrong_region_is_redirected(server: Server, bucket: str) -> None:
    """botocore signs again for the region S3 named and resends: every call succeeds."""
    s3: Any = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="eu-west-1",
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    scopes: list[str] = []

    def note(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        found = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", authorization)
        assert found is not None
        scopes.append(found.group(1))

    s3.meta.events.register("before-send.s3", note)
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"hello"
    assert scopes == ["eu-west-1", REGION]  # refused once, then signed for us-east-1
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"world")
    assert s3.head_object(Bucket=bucket, Key="b.txt")["ContentLength"] == 5
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["a.txt", "b.txt"]
    s3.delete_object(Bucket=bucket, Key="b.txt")
    assert scopes[2:] == [REGION] * 4  # botocore remembers the bucket's region


def test_boto3_head_bucket_in_the_wrong_region(server: Server, bucket: str) -> None:
    s3: Any = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="eu-central-1",
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    assert s3.head_bucket(Bucket=bucket)["BucketRegion"] == REGION


def test_aws_cli_ls_with_the_wrong_region(server: Server, bucket: str, tmp_path: Path) -> None:
    exe = shutil.which("aws", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the AWS CLI is not installed")
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {ROOT_KEY}\naws_secret_access_key = {ROOT_SECRET}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        HOME=str(tmp_path),
    )
    out = subprocess.run([exe, "s3", "ls", f"s3://{bucket}", "--region", "eu-west-1"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert re.search(r"\s5 a\.txt$", out.stdout.strip())


def test_iam_and_sts_accept_any_region_scope(server: Server) -> None:
    """One endpoint serves every region: botocore signs IAM and STS calls with the client's
    region when given an endpoint_url, so trailgate keeps accepting them."""
    iam: Any = server.client("iam", region="eu-west-1")
    assert "Users" in iam.list_users()
    sts: Any = server.client("sts", region="ap-southeast-2")
    assert sts.get_caller_identity()["Account"] == "111111111111"
