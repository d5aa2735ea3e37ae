"""The stock AWS CLI's S3 commands against trailgate (AWS_ENDPOINT_URL): high-level ``aws s3``
transfers and listings, ``aws s3api`` calls, ``aws s3 presign``, and a D role profile held to
its own log prefix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trailgate import scenario as sc

from .scenario_setup import World
from .server import MANAGEMENT, Server
from .test_s3_scenario import d_role_session, empty_and_delete, grant_d_role

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


@dataclass
class Cli:
    server: Server
    home: Path
    bucket: str
    world: World

    def __call__(self, *args: str, profile: str | None = None) -> subprocess.CompletedProcess[str]:
        exe = shutil.which("aws", path=str(Path(sys.executable).parent))
        if exe is None:
            pytest.skip("the AWS CLI is not installed")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.server.endpoint,
            AWS_CONFIG_FILE=str(self.home / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / "credentials"),
            AWS_DEFAULT_REGION="us-east-1",
            HOME=str(self.home),
        )
        if profile:
            env["AWS_PROFILE"] = profile
        return subprocess.run([exe, *args], env=env, capture_output=True, text=True,
                              timeout=120, cwd=self.home)

    def ok(self, *args: str, profile: str | None = None) -> str:
        out = self(*args, profile=profile)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def json(self, *args: str, profile: str | None = None) -> Any:
        return json.loads(self.ok(*args, profile=profile))

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"


@pytest.fixture(scope="module")
def cli(server: Server, world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("s3-awscli-home")
    d = d_role_session(world)
    (home / "credentials").write_text("\n".join([
        "[default]", f"aws_access_key_id = {world.admin.key}",
        f"aws_secret_access_key = {world.admin.secret}",
        # A D role session (MFA-authenticated) as a static profile.
        "[d-role]", f"aws_access_key_id = {d.key}", f"aws_secret_access_key = {d.secret}",
        f"aws_session_token = {d.token}",
        "[v4]", f"aws_access_key_id = {world.admin.key}",
        f"aws_secret_access_key = {world.admin.secret}",
    ]) + "\n")
    (home / "config").write_text("\n".join([
        "[default]", "region = us-east-1",
        "[profile d-role]", "region = us-east-1",
        "[profile v4]", "region = us-east-1", "s3 =", "    signature_version = s3v4",
    ]) + "\n")
    bucket = f"tg-cli-{uuid.uuid4().hex[:12]}"
    admin = world.client("s3", world.admin)
    admin.create_bucket(Bucket=bucket)
    for party in ("D", "E"):
        account = world.accounts[party]
        admin.put_object(Bucket=bucket, Key=f"AWSLogs/{account}/CloudTrail/log-{party}.json",
                         Body=f"log of {party}".encode())
    policy = grant_d_role(world, bucket)
    yield Cli(server, home, bucket, world)
    world.client("iam", world.admin).delete_role_policy(RoleName=sc.D_ROLE, PolicyName=policy)
    empty_and_delete(admin, bucket)


def multipart_etag(data: bytes, part_size: int) -> str:
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


def test_cp_up_and_down_multipart(cli: Cli, tmp_path: Path) -> None:
    data = os.urandom(9 * MiB + 4321)
    source = tmp_path / "trail.bin"
    source.write_bytes(data)
    out = cli.ok("s3", "cp", str(source), cli.url("big/trail.bin"), "--no-progress")
    assert out.startswith("upload: ") and out.endswith(f"trail.bin to {cli.url('big/trail.bin')}\n")
    head = cli.json("s3api", "head-object", "--bucket", cli.bucket, "--key", "big/trail.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(data, 8 * MiB)  # the CLI's 8 MiB parts: 2 of them
    target = tmp_path / "back.bin"
    out = cli.ok("s3", "cp", cli.url("big/trail.bin"), str(target), "--no-progress")
    assert out.startswith(f"download: {cli.url('big/trail.bin')} to ")
    assert out.endswith("back.bin\n")
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    # S3 to S3: the CLI copies an object above its threshold part by part (UploadPartCopy).
    out = cli.ok("s3", "cp", cli.url("big/trail.bin"), cli.url("big/copy.bin"), "--no-progress")
    assert out == f"copy: {cli.url('big/trail.bin')} to {cli.url('big/copy.bin')}\n"
    head = cli.json("s3api", "head-object", "--bucket", cli.bucket, "--key", "big/copy.bin")
    assert (head["ContentLength"], head["ETag"]) == (len(data), multipart_etag(data, 8 * MiB))
    small = tmp_path / "small.txt"
    small.write_text("one small line\n")
    cli.ok("s3", "cp", str(small), cli.url("small/one.txt"), "--content-type", "text/plain")
    head = cli.json("s3api", "head-object", "--bucket", cli.bucket, "--key", "small/one.txt")
    assert (head["ContentType"], head["ETag"]) == (
        "text/plain", '"' + hashlib.md5(b"one small line\n").hexdigest() + '"'
    )
    assert cli.ok("s3", "cp", cli.url("small/one.txt"), "-") == "one small line\n"


def test_ls_buckets_bucket_and_prefix(cli: Cli) -> None:
    d = cli.world.accounts["D"]
    buckets = cli.ok("s3", "ls").splitlines()
    assert any(line.split()[-1] == cli.bucket for line in buckets)
    top = cli.ok("s3", "ls", cli.url()).splitlines()
    assert "PRE AWSLogs/" in [line.strip() for line in top]
    listed = cli.ok("s3", "ls", cli.url(f"AWSLogs/{d}/CloudTrail/")).splitlines()
    assert len(listed) == 1
    _date, _time, size, name = listed[0].split()
    assert (size, name) == (str(len(b"log of D")), "log-D.json")
    recursive = cli.ok("s3", "ls", cli.url("AWSLogs/"), "--recursive").splitlines()
    assert sorted(line.split()[-1] for line in recursive) == sorted(
        f"AWSLogs/{cli.world.accounts[p]}/CloudTrail/log-{p}.json" for p in ("D", "E")
    )
    missing = cli("s3", "ls", "s3://tg-no-such-bucket-" + uuid.uuid4().hex[:8])
    assert missing.returncode == 255
    assert "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: " \
        "The specified bucket does not exist" in missing.stderr


def test_sync_up_back_and_rm_recursive(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "site"
    files = {
        "index.html": b"<h1>index</h1>",
        "css/style.css": b"body { color: black }",
        "img/logo one.svg": b"<svg/>",
        "data/empty.bin": b"",
        "deep/a/b/c.txt": b"deep file",
    }
    for rel, body in files.items():
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    out = cli.ok("s3", "sync", str(source), cli.url("sync/"), "--no-progress")
    assert out.count("upload: ") == len(files)
    listed = cli.json("s3api", "list-objects-v2", "--bucket", cli.bucket, "--prefix", "sync/")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(f"sync/{k}" for k in files)
    # A second sync has nothing to do.
    assert cli.ok("s3", "sync", str(source), cli.url("sync/")) == ""
    back = tmp_path / "back"
    out = cli.ok("s3", "sync", cli.url("sync/"), str(back), "--no-progress")
    assert out.count("download: ") == len(files)
    assert {str(p.relative_to(back)): p.read_bytes() for p in back.rglob("*") if p.is_file()} == (
        files
    )
    # The files got the listed LastModified as their mtime: an exact comparison finds them equal.
    assert cli.ok("s3", "sync", cli.url("sync/"), str(back), "--exact-timestamps") == ""
    out = cli.ok("s3", "rm", cli.url("sync/"), "--recursive")
    assert out.count("delete: ") == len(files)
    listed = cli.json("s3api", "list-objects-v2", "--bucket", cli.bucket, "--prefix", "sync/")
    assert listed.get("Contents") is None and listed.get("KeyCount", 0) == 0


def test_s3api_object_commands(cli: Cli, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"eventName": "GetObject"}')
    put = cli.json("s3api", "put-object", "--bucket", cli.bucket, "--key", "api/record one.json",
                   "--body", str(body), "--content-type", "application/json",
                   "--metadata", "source=cli,Kind=record")
    etag = '"' + hashlib.md5(body.read_bytes()).hexdigest() + '"'
    assert put["ETag"] == etag
    out = tmp_path / "out.json"
    got = cli.json("s3api", "get-object", "--bucket", cli.bucket, "--key", "api/record one.json",
                   str(out))
    assert out.read_bytes() == body.read_bytes()
    assert (got["ContentLength"], got["ETag"], got["ContentType"], got["Metadata"]) == (
        len(body.read_bytes()), etag, "application/json", {"source": "cli", "kind": "record"}
    )
    ranged = cli.json("s3api", "get-object", "--bucket", cli.bucket, "--key",
                      "api/record one.json", "--range", "bytes=2-10", str(out))
    assert (ranged["ContentRange"], out.read_bytes()) == (
        f"bytes 2-10/{len(body.read_bytes())}", body.read_bytes()[2:11]
    )
    head = cli.json("s3api", "head-object", "--bucket", cli.bucket, "--key", "api/record one.json")
    assert (head["ETag"], head["Metadata"]) == (etag, {"source": "cli", "kind": "record"})
    listed = cli.json("s3api", "list-objects-v2", "--bucket", cli.bucket, "--prefix", "api/")
    assert [(o["Key"], o["ETag"], o["Size"]) for o in listed["Contents"]] == [
        ("api/record one.json", etag, len(body.read_bytes()))
    ]
    missing = cli("s3api", "head-object", "--bucket", cli.bucket, "--key", "api/absent")
    assert missing.returncode == 255
    assert "An error occurred (404) when calling the HeadObject operation: Not Found" in (
        missing.stderr
    )
    nokey = cli("s3api", "get-object", "--bucket", cli.bucket, "--key", "api/absent",
                str(tmp_path / "x"))
    assert nokey.returncode == 255
    assert "An error occurred (NoSuchKey) when calling the GetObject operation: " \
        "The specified key does not exist." in nokey.stderr


def test_presign_and_fetch(cli: Cli) -> None:
    key = f"AWSLogs/{cli.world.accounts['E']}/CloudTrail/log-E.json"
    v2 = cli.ok("s3", "presign", cli.url(key), "--expires-in", "120").strip()
    assert "AWSAccessKeyId=" in v2 and "Signature=" in v2 and "Expires=" in v2
    v4 = cli.ok("s3", "presign", cli.url(key), profile="v4").strip()
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in v4 and "X-Amz-Expires=3600" in v4
    for url in (v2, v4):
        with urllib.request.urlopen(url, timeout=10) as response:
            assert (response.status, response.read()) == (200, b"log of E")


def test_d_role_profile_is_held_to_its_prefix(cli: Cli, tmp_path: Path) -> None:
    d, e = cli.world.accounts["D"], cli.world.accounts["E"]
    # `aws s3 ls s3://bucket/` sends prefix=&delimiter=/ (allowed: "" is in the condition).
    top = cli.ok("s3", "ls", cli.url(), profile="d-role")
    assert "PRE AWSLogs/" in [line.strip() for line in top.splitlines()]
    own = cli.ok("s3", "ls", cli.url(f"AWSLogs/{d}/CloudTrail/"), profile="d-role")
    assert own.split()[-1] == "log-D.json"
    refused = cli("s3", "ls", cli.url(f"AWSLogs/{e}/"), profile="d-role")
    assert refused.returncode == 255
    session = f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/dana-s3"
    assert "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: " \
        f"User: {session} is not authorized to perform: s3:ListBucket on resource: " \
        f'"arn:aws:s3:::{cli.bucket}" because no identity-based policy allows the ' \
        "s3:ListBucket action" in refused.stderr
    assert refused.stdout == ""
    # `--recursive` sends prefix= without a delimiter: "" is an allowed prefix, so the role
    # lists every key name in the bucket (reads stay limited to its own prefix).
    names = cli.ok("s3", "ls", cli.url(), "--recursive", profile="d-role").split()
    assert f"AWSLogs/{e}/CloudTrail/log-E.json" in names
    assert cli.ok("s3", "cp", cli.url(f"AWSLogs/{d}/CloudTrail/log-D.json"), "-",
                  profile="d-role") == "log of D"
    theirs = cli("s3", "cp", cli.url(f"AWSLogs/{e}/CloudTrail/log-E.json"), str(tmp_path / "e"),
                 profile="d-role")
    assert theirs.returncode == 1
    assert "An error occurred (403) when calling the HeadObject operation: Forbidden" in (
        theirs.stderr
    )
    upload = tmp_path / "forged.json"
    upload.write_text("{}")
    forged = cli("s3", "cp", str(upload), cli.url(f"AWSLogs/{d}/forged.json"), profile="d-role")
    assert forged.returncode == 1
    assert "An error occurred (AccessDenied) when calling the PutObject operation: " \
        f"User: {session} is not authorized to perform: s3:PutObject on resource: " \
        f'"arn:aws:s3:::{cli.bucket}/AWSLogs/{d}/forged.json" because no identity-based ' \
        "policy allows the s3:PutObject action" in forged.stderr
