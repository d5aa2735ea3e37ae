"""CloudTrail as a log consumer and a trail administrator see it, on a server of its own (an
account alias changes every root record of the account): the root caller named by the account
alias, the metadata of delivered log files, CloudTrail's own deliveries as data events, and
CloudTrail's own exceptions for values outside its enums, through boto3 and the AWS CLI."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .server import MANAGEMENT, Server, start
from .test_cloudtrail_scenario import bucket_policy
from .test_s3_versioning import run_aws

BUCKET = "tg-consumer-logs"
TRAIL = "consumer"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(Path(tmp_path_factory.mktemp("ct-consumer")),
                extra_args=("--delivery-interval", "1"))
    yield srv
    srv.stop()


def _root_identity(ct: Any, event_name: str, after: float) -> dict[str, Any]:
    """userIdentity of the newest ``event_name`` event recorded at or after ``after``."""
    events = ct.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
    fresh = [e for e in events if e["EventTime"].timestamp() >= int(after)]
    assert fresh, events
    identity: dict[str, Any] = json.loads(fresh[0]["CloudTrailEvent"])["userIdentity"]
    return identity


def test_root_caller_is_named_by_the_account_alias(own: Server) -> None:
    """AWS: for a Root userIdentity, userName holds the account alias when one is set, and is
    absent otherwise."""
    iam, ct = own.client("iam"), own.client("cloudtrail")
    before = time.time()
    iam.list_users()
    plain = _root_identity(ct, "ListUsers", before)
    assert plain == {"type": "Root", "principalId": MANAGEMENT,
                     "arn": f"arn:aws:iam::{MANAGEMENT}:root", "accountId": MANAGEMENT,
                     "accessKeyId": plain["accessKeyId"]}
    iam.create_account_alias(AccountAlias="tg-consumer-alias")
    try:
        time.sleep(1.1)  # a new second: the lookup below sees only the call after the alias
        after = time.time()
        iam.list_roles()
        named = _root_identity(ct, "ListRoles", after)
        assert named == dict(plain, userName="tg-consumer-alias")
    finally:
        iam.delete_account_alias(AccountAlias="tg-consumer-alias")
    time.sleep(1.1)
    again = time.time()
    iam.list_groups()
    assert "userName" not in _root_identity(ct, "ListGroups", again)


def test_log_files_carry_cloudtrails_metadata(own: Server) -> None:
    """Delivered log files are stored as ``Content-Type: application/json`` with
    ``Content-Encoding: gzip``; boto3 hands back the gzip bytes unchanged."""
    s3, ct = own.client("s3"), own.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=bucket_policy(BUCKET, [(MANAGEMENT, TRAIL, "")]))
    ct.create_trail(Name=TRAIL, S3BucketName=BUCKET)
    ct.start_logging(Name=TRAIL)
    try:
        key = _first_log_key(s3)
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["ContentEncoding"]) == ("application/json", "gzip")
        raw = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert raw[:2] == b"\x1f\x8b" and len(raw) == head["ContentLength"]
        assert list(json.loads(gzip.decompress(raw))) == ["Records"]
    finally:
        ct.delete_trail(Name=TRAIL)


def _first_log_key(s3: Any) -> str:
    deadline = time.monotonic() + 20
    while True:
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"AWSLogs/{MANAGEMENT}/CloudTrail/")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        if keys:
            return keys[0]
        assert time.monotonic() < deadline, "no log file delivered"
        s3.list_buckets()  # something to record
        time.sleep(0.5)


def test_deliveries_are_data_events_for_a_trail_that_selects_them(own: Server) -> None:
    """AWS: CloudTrail's PutObject of a log file is an S3 data event (invoked by
    cloudtrail.amazonaws.com), delivered to a trail that logs data events for that bucket,
    when the trail's RecursiveLogging is true (AWS's default; trailgate's default is false, so
    that deliveries never feed back into an endless loop)."""
    s3, ct = own.client("s3"), own.client("cloudtrail")
    bucket, name = "tg-consumer-recursive", "recursive"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket, [(MANAGEMENT, name, "")]))
    ct.create_trail(Name=name, S3BucketName=bucket, RecursiveLogging=True)
    ct.put_event_selectors(TrailName=name, EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    ct.start_logging(Name=name)
    try:
        s3.put_object(Bucket=bucket, Key="start", Body=b"x")  # a first data event to deliver
        record = _delivery_record(s3, bucket)
        _assert_recursive_logging_off_suppresses(s3, ct, bucket, name)
    finally:
        ct.delete_trail(Name=name)
    key = record["requestParameters"]["key"]
    assert key.startswith(f"AWSLogs/{MANAGEMENT}/CloudTrail/us-east-1/") and key.endswith(".gz")
    assert record["userIdentity"] == {"type": "AWSService",
                                      "invokedBy": "cloudtrail.amazonaws.com"}
    assert (record["sourceIPAddress"], record["userAgent"]) == ("cloudtrail.amazonaws.com",) * 2
    assert record["requestParameters"]["x-amz-acl"] == "bucket-owner-full-control"
    assert (record["eventCategory"], record["managementEvent"], record["readOnly"]) == (
        "Data", False, False)
    assert record["recipientAccountId"] == MANAGEMENT
    assert record["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": MANAGEMENT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    assert record["additionalEventData"]["bytesTransferredIn"] == s3.head_object(
        Bucket=bucket, Key=key)["ContentLength"]


def _assert_recursive_logging_off_suppresses(s3: Any, ct: Any, bucket: str, name: str) -> None:
    """RecursiveLogging false: the trail's later files hold its data events but no delivery."""
    updated = ct.update_trail(Name=name, RecursiveLogging=False)
    assert updated["RecursiveLogging"] is False
    assert ct.get_trail(Name=name)["Trail"]["RecursiveLogging"] is False
    before = set(_log_keys(s3, bucket))
    s3.put_object(Bucket=bucket, Key="after", Body=b"y")
    deadline = time.monotonic() + 30
    later: list[dict[str, Any]] = []
    while not any(r["requestParameters"].get("key") == "after" for r in later):
        assert time.monotonic() < deadline, "the data event was not delivered"
        time.sleep(0.5)
        later = [r for key in set(_log_keys(s3, bucket)) - before
                 for r in _records(s3, bucket, key)]
    assert not [r for r in later if r["userIdentity"].get("invokedBy")], later


def _log_keys(s3: Any, bucket: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"AWSLogs/{MANAGEMENT}/CloudTrail/")
    return [o["Key"] for o in listed.get("Contents", [])]


def _records(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    records: list[dict[str, Any]] = json.loads(gzip.decompress(raw))["Records"]
    return records


def _delivery_record(s3: Any, bucket: str) -> dict[str, Any]:
    """The first record of CloudTrail writing a log file, found in the bucket's log files."""
    deadline = time.monotonic() + 30
    while True:
        for key in _log_keys(s3, bucket):
            for record in _records(s3, bucket, key):
                if record["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com":
                    found: dict[str, Any] = record
                    return found
        assert time.monotonic() < deadline, "no delivery recorded"
        time.sleep(0.5)


@pytest.mark.parametrize(("args", "code"), [
    (("lookup-events", "--lookup-attributes", "AttributeKey=User,AttributeValue=x"),
     "InvalidLookupAttributesException"),
    (("lookup-events", "--event-category", "management"), "InvalidEventCategoryException"),
    (("put-event-selectors", "--trail-name", "any-trail", "--event-selectors",
      '[{"ReadWriteType": "read-only"}]'), "InvalidEventSelectorsException"),
    (("put-insight-selectors", "--trail-name", "any-trail", "--insight-selectors",
      '[{"InsightType": "ApiCallRate"}]'), "InvalidInsightSelectorsException"),
])
def test_cli_values_outside_the_enums_get_cloudtrails_exceptions(
    own: Server, args: tuple[str, ...], code: str
) -> None:
    """The AWS CLI sends enum values unchecked; CloudTrail answers its own exception for each
    (as its model documents), not the generic ValidationException."""
    out = run_aws(own, "cloudtrail", *args, check=False)
    assert out.returncode == 255, out.stderr  # AWS CLI v1: a service error
    assert f"An error occurred ({code}) when calling the" in out.stderr, out.stderr


def test_a_refused_selector_is_recorded_with_its_parameters(own: Server) -> None:
    """CloudTrail read the request before refusing it: the record carries the parameters."""
    ct = own.client("cloudtrail")
    with pytest.raises(ct.exceptions.InvalidEventSelectorsException) as refused:
        ct.put_event_selectors(TrailName="refused-trail",
                               EventSelectors=[{"ReadWriteType": "read-only"}])
    request_id = refused.value.response["ResponseMetadata"]["RequestId"]
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutEventSelectors"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    records = [r for r in records if r["requestID"] == request_id]  # this call's, not others'
    assert [(r["errorCode"], r["requestParameters"]) for r in records] == [
        ("InvalidEventSelectorsException",
         {"trailName": "refused-trail", "eventSelectors": [{"readWriteType": "read-only"}]})]


def test_deliveries_do_not_feed_back_by_default(own: Server) -> None:
    """Without RecursiveLogging set, a trail that logs its own bucket's data events receives
    the callers' events but not CloudTrail's writes, so delivery settles once they are
    delivered (the CloudTrail issue: no endless loop; AWS's default would log each write)."""
    s3, ct = own.client("s3"), own.client("cloudtrail")
    bucket, name = "tg-consumer-settles", "settles"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket, [(MANAGEMENT, name, "")]))
    ct.create_trail(Name=name, S3BucketName=bucket)
    assert "RecursiveLogging" not in ct.get_trail(Name=name)["Trail"]
    ct.put_event_selectors(TrailName=name, EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    ct.start_logging(Name=name)
    try:
        s3.put_object(Bucket=bucket, Key="only", Body=b"x")
        deadline = time.monotonic() + 30
        while not _log_keys(s3, bucket):
            assert time.monotonic() < deadline, "the data event was not delivered"
            time.sleep(0.5)
        time.sleep(4)  # four delivery intervals: a feedback loop would have written more
        keys = _log_keys(s3, bucket)
        records = [r for key in keys for r in _records(s3, bucket, key)]
    finally:
        ct.delete_trail(Name=name)
    assert [r["requestParameters"]["key"] for r in records] == ["only"]
    assert len(set(keys)) == 1
