"""CloudTrail record content compared with what AWS writes for the same call (audit 16), on a
server of the module's own with one trail that also logs S3 data events.  Each check reads the
record twice where it can: from event history (LookupEvents' CloudTrailEvent, where repeated
reads come from record templates) and from a delivered log file (records built whole)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from trailgate.gateway.context import Principal
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import build_records

from .server import MANAGEMENT, Server
from .test_cloudtrail_scenario import LogReader, bucket_policy, rid

LOGS = "tg-audit16-rec-logs"
DATA = "tg-audit16-rec-data"
TRAIL = "audit16-records"
UA_EXTRA = "audit16-rec/1.0"
ROOT = Principal(kind="root", arn=f"arn:aws:iam::{MANAGEMENT}:root", account=MANAGEMENT,
                 user_id=MANAGEMENT, access_key_id="AKIAAUDIT16ROOT00001", unique_id=MANAGEMENT)


@dataclass
class Env:
    server: Server
    reader: LogReader

    def client(self, service: str, region: str = "us-east-1") -> Any:
        client = self.server.client(service, region=region)
        # A user agent of our own, so the expected value is known exactly.
        client.meta.events.register("before-send.*.*", _own_user_agent)
        return client


def _own_user_agent(request: Any, **_: Any) -> None:
    request.headers["User-Agent"] = UA_EXTRA  # User-Agent is not signed: free to change


@pytest.fixture(scope="module")
def env(own_server: Server) -> Iterator[Env]:
    s3, ct = own_server.client("s3"), own_server.client("cloudtrail")
    for bucket in (LOGS, DATA):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=LOGS, Policy=bucket_policy(LOGS, [(MANAGEMENT, TRAIL, "")]))
    ct.create_trail(Name=TRAIL, S3BucketName=LOGS)
    ct.put_event_selectors(TrailName=TRAIL, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{DATA}/"]}]}])
    ct.start_logging(Name=TRAIL)
    yield Env(own_server, LogReader(s3, LOGS))
    ct.delete_trail(Name=TRAIL)


def looked_up(env: Env, event_name: str, request_id: str) -> dict[str, Any]:
    """The event-history record of ``request_id`` (polled: the index follows in batches)."""
    ct = env.server.client("cloudtrail")
    deadline = time.monotonic() + 20
    while True:
        events = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
        for event in events:
            record: dict[str, Any] = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == request_id:
                return record
        assert time.monotonic() < deadline, f"{request_id} not in event history"
        time.sleep(0.3)


def delivered(env: Env, request_id: str) -> dict[str, Any]:
    env.reader.wait_for(MANAGEMENT, [request_id])
    return env.reader.one(MANAGEMENT, request_id)


# -- userAgent ----------------------------------------------------------------------------------


def test_s3_records_write_the_user_agent_in_brackets(env: Env) -> None:
    """AWS: S3 (management and data events alike) logs the User-Agent inside square brackets,
    e.g. ``[aws-cli/2.18.5]`` (S3 User Guide, CloudTrail log file entries for Amazon S3 and S3
    Tables); other services log it as sent."""
    s3, iam = env.client("s3"), env.client("iam")
    first = rid(s3.list_buckets())
    second = rid(s3.list_buckets())  # the same read again: recorded from its template
    put = rid(s3.put_object(Bucket=DATA, Key="ua.txt", Body=b"ua"))
    got = rid(s3.get_object(Bucket=DATA, Key="ua.txt"))
    plain = rid(iam.list_users())
    for request_id in (first, second):
        assert looked_up(env, "ListBuckets", request_id)["userAgent"] == f"[{UA_EXTRA}]"
        assert delivered(env, request_id)["userAgent"] == f"[{UA_EXTRA}]"
    for request_id in (put, got):
        assert delivered(env, request_id)["userAgent"] == f"[{UA_EXTRA}]"
    assert looked_up(env, "ListUsers", plain)["userAgent"] == UA_EXTRA
    assert delivered(env, plain)["userAgent"] == UA_EXTRA


def test_s3_user_agent_brackets_stay_within_1kb() -> None:
    """The bracketed S3 user agent is clipped like every userAgent: 1 KB at most, brackets
    included; an absent User-Agent is logged as ``[]``."""
    base = CallInfo(
        request_id="R1", event_time=datetime(2026, 11, 28, 12, tzinfo=UTC), service="s3",
        operation="ListBuckets", region="us-east-1", source_ip="192.0.2.1",
        user_agent="x" * 5000, principal=ROOT, params={}, result={"Buckets": []},
    )
    [(_, record)] = build_records(base)
    assert record["userAgent"] == "[" + "x" * 1022 + "]"
    [(_, empty)] = build_records(replace(base, user_agent=""))
    assert empty["userAgent"] == "[]"


# -- awsRegion of STS ---------------------------------------------------------------------------


def looked_up_in(env: Env, region: str, event_name: str, request_id: str) -> list[str]:
    """awsRegion of every event-history record of ``request_id`` in ``region``'s history."""
    ct = env.server.client("cloudtrail", region=region)
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    return [r["awsRegion"] for r in records if r["requestID"] == request_id]


def test_sts_calls_are_logged_in_the_region_of_their_endpoint(env: Env) -> None:
    """AWS: a call to a regional STS endpoint (botocore's default; it signs for that region) is
    logged in that region, and a single-region trail elsewhere does not get it (IAM User
    Guide, logging IAM and AWS STS API calls with CloudTrail); the global endpoint's calls are
    logged in us-east-1."""
    west = env.client("sts", region="eu-west-1")
    regional = [rid(west.get_caller_identity()) for _ in range(2)]  # 2nd: from its template
    east = rid(env.client("sts").get_caller_identity())
    for request_id in regional:
        deadline = time.monotonic() + 20
        while not (found := looked_up_in(env, "eu-west-1", "GetCallerIdentity", request_id)):
            assert time.monotonic() < deadline, f"{request_id} not in eu-west-1's history"
            time.sleep(0.3)
        assert found == ["eu-west-1"]
        assert looked_up_in(env, "us-east-1", "GetCallerIdentity", request_id) == []
    assert delivered(env, east)["awsRegion"] == "us-east-1"
    assert env.reader.missing(MANAGEMENT, regional) == set(regional)
