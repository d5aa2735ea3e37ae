"""An external CloudTrail reader against trailgate: the PyPI tool ``trailscraper`` (installed
into a virtualenv of its own: it pins an older boto3, 1.38.x, which already honours
``AWS_ENDPOINT_URL``) downloads Admin's log files with R's role, configured as an AWS CLI
profile (``role_arn`` + ``source_profile`` + ``external_id``), and generates IAM policies from
the records.  The test is skipped when trailscraper cannot be installed (no registry)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, REGION
from .test_cloudtrail_scenario import LogReader, build_trails, remove_trails, rid

pytestmark = pytest.mark.slow

PROFILE = "r-analyzer"


@pytest.fixture(scope="module")
def trailscraper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``trailscraper`` executable of a fresh virtualenv (skip when pip cannot get it)."""
    venv = tmp_path_factory.mktemp("trailscraper-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=180)
    try:
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
             "--disable-pip-version-check", "trailscraper"],
            capture_output=True, text=True, timeout=480,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("pip install trailscraper timed out (package registry unreachable?)")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        pytest.skip(f"pip install trailscraper failed (package registry refused?): {tail}")
    return venv / "bin" / "trailscraper"


@dataclass
class Logs:
    world: World
    bucket: str
    reader: LogReader
    ids: dict[str, str]
    session: Keys  # a session of R's role made by the test itself


@pytest.fixture(scope="module")
def logs(world: World) -> Iterator[Logs]:
    """Admin's trail into a fresh bucket, with IAM, STS and role-session S3 calls delivered."""
    suffix = uuid.uuid4().hex[:8]
    bucket = f"tg-ts-{suffix}"
    _, names, clients = build_trails(world, ("Admin",), bucket, f"ts-{suffix}")
    try:
        iam = world.client("iam", world.admin)
        ids = {"CreateUser": rid(iam.create_user(UserName=f"ts-user-{suffix}"))}
        ids["GetUser"] = rid(iam.get_user(UserName=f"ts-user-{suffix}"))
        resp = world.client("sts", world.users["R"]).assume_role(
            RoleArn=sc.role_arn(sc.R_ROLE), RoleSessionName="ts-rob", ExternalId=sc.EXTERNAL_ID
        )
        ids["AssumeRole"] = rid(resp)
        creds = resp["Credentials"]
        session = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        role_s3 = world.client("s3", session)
        ids["ListBuckets"] = rid(role_s3.list_buckets())
        ids["GetBucketLocation"] = rid(role_s3.get_bucket_location(Bucket=bucket))
        reader = LogReader(world.client("s3", world.admin), bucket)
        reader.wait_for(MANAGEMENT, ids.values())
        yield Logs(world, bucket, reader, ids, session)
    finally:
        remove_trails(names, clients)


def _env(tmp: Path, world: World) -> dict[str, str]:
    """A clean environment whose default profile is R's role in Admin, on trailgate."""
    r_user = world.users["R"]
    (tmp / "credentials").write_text(
        f"[r-user]\naws_access_key_id = {r_user.key}\n"
        f"aws_secret_access_key = {r_user.secret}\n"
    )
    (tmp / "config").write_text(
        f"[profile r-user]\nregion = {REGION}\n\n"
        f"[profile {PROFILE}]\nrole_arn = {sc.role_arn(sc.R_ROLE)}\n"
        f"source_profile = r-user\nexternal_id = {sc.EXTERNAL_ID}\nregion = {REGION}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp), TZ="UTC", AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"), AWS_PROFILE=PROFILE,
        AWS_ENDPOINT_URL=world.server.endpoint, AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _run(tool: Path, args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    proc = subprocess.run([str(tool), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"trailscraper {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _actions(policy_text: str) -> set[str]:
    policy = json.loads(policy_text)
    assert policy["Version"] == "2012-10-17"
    found: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def test_trailscraper_downloads_with_rs_role_and_generates_policies(
    trailscraper: Path, logs: Logs, tmp_path: Path
) -> None:
    env = _env(tmp_path, logs.world)
    helptext = _run(trailscraper, ["download", "--help"], env)
    for flag in ("--bucket", "--account-id", "--region", "--log-dir", "--from", "--to"):
        assert flag in helptext
    log_dir = tmp_path / "logs"
    before = datetime.now(UTC) - timedelta(seconds=2)
    logs.reader.refresh()
    delivered = set(logs.reader.log_keys(MANAGEMENT))
    _run(trailscraper, [
        "download", "--bucket", logs.bucket, "--account-id", MANAGEMENT, "--region", REGION,
        "--log-dir", str(log_dir), "--from", "2 days ago", "--to", "now",
    ], env)
    downloaded = {p.relative_to(log_dir).as_posix() for p in log_dir.rglob("*.json.gz")}
    assert delivered and delivered <= downloaded
    logs.reader.refresh()
    assert downloaded <= set(logs.reader.log_keys(MANAGEMENT))  # only Admin's log files
    for key in delivered:  # the same content Admin reads
        text = gzip.decompress((log_dir / key).read_bytes()).decode("utf-8")
        assert text == logs.reader.texts[key]

    # Every record it selects from the downloaded files, then policies generated from them.
    selected = json.loads(_run(trailscraper, [
        "select", "--log-dir", str(log_dir), "--from", "2 days ago", "--to", "now"], env))
    request_ids = {r["requestID"] for r in selected["Records"]}
    assert set(logs.ids.values()) <= request_ids
    everything = _actions(_run(trailscraper, ["generate"], env, json.dumps(selected)))
    assert {"iam:CreateUser", "iam:GetUser", "sts:AssumeRole", "s3:ListAllMyBuckets",
            "s3:GetBucketLocation"} <= everything
    # Only R's role session: trailscraper follows sessionContext.sessionIssuer.arn.
    role_only = _run(trailscraper, [
        "select", "--log-dir", str(log_dir), "--from", "2 days ago", "--to", "now",
        "--filter-assumed-role-arn", sc.role_arn(sc.R_ROLE)], env)
    assert {r["requestID"] for r in json.loads(role_only)["Records"]} >= {
        logs.ids["ListBuckets"], logs.ids["GetBucketLocation"]}
    assert _actions(_run(trailscraper, ["generate"], env, role_only)) == {
        "s3:ListAllMyBuckets", "s3:GetBucketLocation"}

    # trailscraper really went through trailgate: its profile's AssumeRole (botocore names the
    # session) is in Admin's event history.
    ct = logs.world.client("cloudtrail", logs.world.admin)
    deadline = time.monotonic() + 10
    sessions: list[dict[str, Any]] = []
    while not sessions and time.monotonic() < deadline:
        events = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}], StartTime=before,
        )["Events"]
        records = [json.loads(e["CloudTrailEvent"]) for e in events]
        sessions = [r for r in records
                    if r["requestParameters"]["roleArn"] == sc.role_arn(sc.R_ROLE)
                    and r["requestParameters"]["roleSessionName"].startswith("botocore-session-")]
    assert sessions, "no AssumeRole of R's role by trailscraper's profile"
    assert sessions[0]["requestParameters"]["externalId"] == sc.EXTERNAL_ID
    assert "errorCode" not in sessions[0]
    assert sessions[0]["userIdentity"]["accountId"] == logs.world.accounts["R"]
