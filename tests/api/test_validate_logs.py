"""Digests end to end: a real server with short intervals (``--delivery-interval 1
--digest-interval 5``) and a trail with log file validation; the STOCK ``aws cloudtrail
validate-logs`` (AWS_ENDPOINT_URL) must find every digest and log file valid, then report a
modified log file, a deleted log file, a modified digest and a deleted digest in its own words
(awscli/customizations/cloudtrail/validation.py).  ``trailgate validate-logs`` must agree,
online and offline on a downloaded copy of the bucket with exported public keys."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trailgate import scenario as sc

from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server, start

pytestmark = pytest.mark.slow

BUCKET = "validated-trail-bucket"
TRAIL = "validated"
ARN = f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/{TRAIL}"
DIGEST_PREFIX = f"AWSLogs/{MANAGEMENT}/CloudTrail-Digest/{REGION}/"


@dataclass
class Trail:
    server: Server
    home: Path
    start: str  # --start-time
    s3: Any
    digests: list[str]  # oldest first
    contents: dict[str, dict[str, Any]]  # digest key -> JSON


def _env(server: Server, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID=ROOT_KEY,
        AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        HOME=str(home),
    )
    return env


def aws(trail: Trail, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("aws", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the AWS CLI is not installed")
    return subprocess.run([exe, *args], env=_env(trail.server, trail.home),
                          capture_output=True, text=True, timeout=120)


def trailgate(trail: Trail, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trailgate.cli", *args],
                          env=_env(trail.server, trail.home), capture_output=True, text=True,
                          timeout=120)


def _digest_keys(s3: Any) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=DIGEST_PREFIX)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def _read(s3: Any, key: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    data: dict[str, Any] = json.loads(gzip.decompress(body))
    return data


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    """A trail with validation that logged for ~20 s (4 digests) then stopped (final digest)."""
    root = tmp_path_factory.mktemp("validate-logs")
    home = root / "home"
    home.mkdir()
    server = start(root / "data", extra_args=("--delivery-interval", "1",
                                              "--digest-interval", "5"))
    try:
        s3, ct, iam = (server.client(n) for n in ("s3", "cloudtrail", "iam"))
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
            sc.cloudtrail_bucket_policy(BUCKET, {MANAGEMENT: ARN})))
        ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
        began = datetime.now(UTC) - timedelta(minutes=2)
        ct.start_logging(Name=TRAIL)
        deadline = time.monotonic() + 45
        count = 0
        while len(_digest_keys(s3)) < 4 and time.monotonic() < deadline:
            iam.create_user(UserName=f"user-{count}")  # events for every period
            count += 1
            time.sleep(0.25)
        ct.stop_logging(Name=TRAIL)
        stopped = ct.get_trail_status(Name=TRAIL)["StopLoggingTime"]
        while time.monotonic() < deadline + 15:
            status = ct.get_trail_status(Name=TRAIL)
            if status.get("LatestDigestDeliveryTime", stopped) > stopped:
                break
            time.sleep(0.2)
        keys = _digest_keys(s3)
        assert len(keys) >= 5, keys
        contents = {k: _read(s3, k) for k in keys}
        yield Trail(server, home, began.strftime("%Y-%m-%dT%H:%M:%SZ"), s3, keys, contents)
    finally:
        server.stop()


def _log_keys(trail: Trail) -> list[str]:
    return [f["s3Object"] for k in trail.digests for f in trail.contents[k]["logFiles"]]


def download(trail: Trail, target: Path) -> Path:
    """A copy of the bucket with each digest's S3 user metadata in a side file."""
    pages = trail.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    for key in (o["Key"] for p in pages for o in p.get("Contents", [])):
        got = trail.s3.get_object(Bucket=BUCKET, Key=key)
        path = target / BUCKET / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got["Body"].read())
        if "CloudTrail-Digest" in key:
            path.with_name(path.name + ".metadata.json").write_text(json.dumps(got["Metadata"]))
    return target / BUCKET


def check_clean(trail: Trail, tmp: Path) -> None:
    # the chain as written: one starting digest, each later one linked to its predecessor
    first = trail.contents[trail.digests[0]]
    assert first["previousDigestSignature"] is None and first["previousDigestS3Object"] is None
    for older, newer in zip(trail.digests, trail.digests[1:], strict=False):
        doc = trail.contents[newer]
        assert doc["previousDigestS3Object"] == older
        assert doc["digestStartTime"] == trail.contents[older]["digestEndTime"]
    logs = _log_keys(trail)
    assert len(logs) >= 5

    cli = aws(trail, "cloudtrail", "validate-logs", "--trail-arn", ARN,
              "--start-time", trail.start, "--verbose")
    print(cli.stdout, cli.stderr)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stderr == ""
    for key in trail.digests:
        assert f"Digest file\ts3://{BUCKET}/{key}\tvalid" in cli.stdout
    for key in logs:
        assert f"Log file\ts3://{BUCKET}/{key}\tvalid" in cli.stdout
    n, m = len(trail.digests), len(logs)
    assert f"{n}/{n} digest files valid" in cli.stdout
    assert f"{m}/{m} log files valid" in cli.stdout

    online = trailgate(trail, "validate-logs", "--trail-arn", ARN, "--start-time", trail.start,
                       "--json")
    assert online.returncode == 0, online.stdout + online.stderr
    report = json.loads(online.stdout)
    assert report["valid"] is True
    assert report["summary"]["digestFiles"] == {"total": n, "valid": n, "invalid": 0}
    assert report["summary"]["logFiles"] == {"total": m, "valid": m, "invalid": 0}
    assert report["gaps"] == [] and report["problems"] == []

    keys = tmp / "keys.json"
    exported = trailgate(trail, "keys", "export", "-o", str(keys))
    assert exported.returncode == 0, exported.stderr
    copy = download(trail, tmp / "clean")
    offline = trailgate(trail, "validate-logs", "--trail-arn", ARN, "--start-time", trail.start,
                        "--offline", str(copy), "--public-keys", str(keys), "--verbose")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert f"{n}/{n} digest files valid" in offline.stdout
    assert "VALID: every digest and log file checks out" in offline.stdout


def tamper(trail: Trail) -> tuple[dict[str, str], int]:
    """Modify digest D[-2], delete digest D[1]; modify and delete a log file listed in the
    digests that stay valid.  Returns the expected AWS CLI lines (by key) and the number of log
    files the CLI still checks (those of the digests that stay valid)."""
    digests = trail.digests
    modified_digest, deleted_digest = digests[-2], digests[1]
    still_valid = [digests[2], digests[0], *digests[3:-2], digests[-1]]
    logs = [f["s3Object"] for k in still_valid for f in trail.contents[k]["logFiles"]]
    modified_log, deleted_log = logs[0], logs[1]
    s3 = trail.s3

    body = s3.get_object(Bucket=BUCKET, Key=modified_log)["Body"].read()
    records = json.loads(gzip.decompress(body))
    records["Records"][0]["eventName"] = "DeleteTrail"
    s3.put_object(Bucket=BUCKET, Key=modified_log, Body=gzip.compress(json.dumps(records).encode()))
    s3.delete_object(Bucket=BUCKET, Key=deleted_log)
    got = s3.get_object(Bucket=BUCKET, Key=modified_digest)
    doc = json.loads(gzip.decompress(got["Body"].read()))
    doc["logFiles"] = doc["logFiles"][1:]  # hide a log file
    s3.put_object(Bucket=BUCKET, Key=modified_digest, Metadata=got["Metadata"],
                  Body=gzip.compress(json.dumps(doc).encode()))
    s3.delete_object(Bucket=BUCKET, Key=deleted_digest)
    return {
        modified_log: f"Log file\ts3://{BUCKET}/{modified_log}\tINVALID: hash value doesn't match",
        deleted_log: f"Log file\ts3://{BUCKET}/{deleted_log}\tINVALID: not found",
        modified_digest:
            f"Digest file\ts3://{BUCKET}/{modified_digest}\tINVALID: signature verification failed",
        deleted_digest: f"Digest file\ts3://{BUCKET}/{deleted_digest}\tINVALID: not found",
    }, len(logs)


def check_tampered(trail: Trail, tmp: Path, expected: dict[str, str], logs: int) -> None:
    cli = aws(trail, "cloudtrail", "validate-logs", "--trail-arn", ARN,
              "--start-time", trail.start, "--verbose")
    print(cli.stdout, cli.stderr)
    assert cli.returncode == 1
    for line in expected.values():
        assert line in cli.stderr
    n = len(trail.digests)
    assert f"{n - 2}/{n} digest files valid, 2/{n} digest files INVALID" in cli.stdout
    assert f"{logs - 2}/{logs} log files valid, 2/{logs} log files INVALID" in cli.stdout

    online = trailgate(trail, "validate-logs", "--trail-arn", ARN, "--start-time", trail.start)
    print(online.stdout, online.stderr)
    assert online.returncode == 1
    for line in expected.values():
        assert line in online.stdout
    assert online.stdout.rstrip().endswith("INVALID")

    copy = download(trail, tmp / "tampered")
    offline = trailgate(trail, "validate-logs", "--trail-arn", ARN, "--start-time", trail.start,
                        "--offline", str(copy), "--public-keys", str(tmp / "keys.json"),
                        "--json")
    assert offline.returncode == 1
    report = json.loads(offline.stdout)
    found = {d["key"]: d["message"] for d in report["digests"]}
    found.update({g["key"]: g["message"] for g in report["logs"]})
    for key, line in expected.items():
        assert found[key] == line.rsplit("\t", 1)[1]
    assert report["valid"] is False


def test_validate_logs_with_the_aws_cli_and_trailgate(trail: Trail, tmp_path: Path) -> None:
    check_clean(trail, tmp_path)
    expected, logs = tamper(trail)
    check_tampered(trail, tmp_path, expected, logs)
