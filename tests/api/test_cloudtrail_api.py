"""The CloudTrail API through boto3 (spec 7.1-7.7): trail errors with their exact codes and
messages, trail reads and changes, logging on and off with a truthful GetTrailStatus, event
selectors (data events only with a data selector, never in event history), tags, LookupEvents
with every lookup attribute, time range and paging, and delivery failure and recovery."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, REGION
from .test_cloudtrail_scenario import LogReader, bucket_policy, org_role, rid

DEFAULT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                      "DataResources": [], "ExcludeManagementEventSources": []}]


def error(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400, err
    return err["Error"]["Code"], err["Error"]["Message"]


def insufficient(bucket: str) -> tuple[str, str]:
    return ("InsufficientS3BucketPolicyException",
            f"Incorrect S3 bucket policy is detected for bucket: {bucket}")


def poll(check: Any, timeout: float = 20.0, every: float = 0.3) -> Any:
    """``check()`` until it returns something truthy; that value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(every)


@dataclass
class Api:
    world: World
    suffix: str
    bucket: str  # receives the main trail (no prefix) and the data trail (prefix "data")
    data_bucket: str  # the bucket the data trail selects
    main: str
    data: str
    e_keys: Keys  # Admin's org role session in E
    trails: list[tuple[Any, str]] = field(default_factory=list)  # (client, name) to delete

    @property
    def ct(self) -> Any:
        return self.world.client("cloudtrail", self.world.admin)

    @property
    def s3(self) -> Any:
        return self.world.client("s3", self.world.admin)

    @property
    def iam(self) -> Any:
        return self.world.client("iam", self.world.admin)

    def arn(self, name: str, account: str = MANAGEMENT) -> str:
        return sc.trail_arn(account, name)

    def own_trail(self, label: str) -> tuple[str, str, LogReader]:
        """A logging trail of Admin's in a bucket of its own: (trail name, bucket, reader)."""
        name = f"{label}-{self.suffix}"
        bucket = f"tg-ct{label}-{self.suffix}"
        self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_policy(Bucket=bucket,
                                  Policy=bucket_policy(bucket, [(MANAGEMENT, name, "")]))
        self.ct.create_trail(Name=name, S3BucketName=bucket)
        self.trails.append((self.ct, name))
        self.ct.start_logging(Name=name)
        return name, bucket, LogReader(self.s3, bucket)


@pytest.fixture(scope="module")
def api(world: World) -> Iterator[Api]:
    suffix = uuid.uuid4().hex[:8]
    e_keys = world.assume(world.admin, org_role(world.accounts["E"]), "ct-api")
    out = Api(world, suffix, f"tg-ctapi-{suffix}", f"tg-ctdata-{suffix}", f"main-{suffix}",
              f"data-{suffix}", e_keys)
    s3 = out.s3
    s3.create_bucket(Bucket=out.bucket)
    s3.create_bucket(Bucket=out.data_bucket)
    s3.put_bucket_policy(Bucket=out.bucket, Policy=bucket_policy(out.bucket, [
        (MANAGEMENT, out.main, ""), (MANAGEMENT, out.data, "data"),
        (MANAGEMENT, f"temp-{suffix}", ""), (world.accounts["E"], out.main, ""),
    ]))
    ct = out.ct
    try:
        ct.create_trail(Name=out.main, S3BucketName=out.bucket,
                        TagsList=[{"Key": "team", "Value": "audit"}])
        out.trails.append((ct, out.main))
        ct.create_trail(Name=out.data, S3BucketName=out.bucket, S3KeyPrefix="data")
        out.trails.append((ct, out.data))
        ct.put_event_selectors(TrailName=out.data, EventSelectors=[{
            "ReadWriteType": "All", "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object",
                               "Values": [f"arn:aws:s3:::{out.data_bucket}/"]}],
        }])
        e_ct = world.client("cloudtrail", e_keys)
        e_ct.create_trail(Name=out.main, S3BucketName=out.bucket)  # same name, other account
        out.trails.append((e_ct, out.main))
        ct.start_logging(Name=out.main)
        ct.start_logging(Name=out.data)
        yield out
    finally:
        for client, name in reversed(out.trails):
            with contextlib.suppress(ClientError):
                client.delete_trail(Name=name)


# -- CreateTrail errors -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "ab", "-trail", "trail-", "_trail", "my--trail", "my-_trail", "my..trail", "192.168.0.1",
    "has space", "has/slash", "x" * 129,
])
def test_create_trail_rejects_invalid_names(api: Api, name: str) -> None:
    code, _ = error(api.ct.create_trail, Name=name, S3BucketName=api.bucket)
    assert code == "InvalidTrailNameException"


def test_create_trail_accepts_boundary_names(api: Api) -> None:
    # A bucket whose policy does not condition on the trail (an older documented variant).
    bucket = f"tg-ctnames-{api.suffix}"
    api.s3.create_bucket(Bucket=bucket)
    policy = json.loads(bucket_policy(bucket, [(MANAGEMENT, "any", "")]))
    for statement in policy["Statement"]:
        statement["Condition"]["StringEquals"].pop("aws:SourceArn")
        if not statement["Condition"]["StringEquals"]:
            statement.pop("Condition")
    api.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    for name in ("abc", "A.b_c-9", "x" * 128):
        created = api.ct.create_trail(Name=name, S3BucketName=bucket)
        try:
            assert created["Name"] == name
            assert created["TrailARN"] == api.arn(name)
            assert api.ct.get_trail(Name=name)["Trail"]["Name"] == name
        finally:
            api.ct.delete_trail(Name=name)


def test_create_trail_missing_bucket(api: Api) -> None:
    missing = f"tg-nobucket-{api.suffix}"
    code, message = error(api.ct.create_trail, Name=f"nob-{api.suffix}", S3BucketName=missing)
    assert code == "S3BucketDoesNotExistException"
    assert missing in message


def test_create_trail_bucket_without_policy(api: Api) -> None:
    bucket = f"tg-ctnopol-{api.suffix}"
    api.s3.create_bucket(Bucket=bucket)
    assert error(api.ct.create_trail, Name=f"nopol-{api.suffix}",
                 S3BucketName=bucket) == insufficient(bucket)


def test_create_trail_policy_for_another_trail(api: Api) -> None:
    # The bucket grants write for the main trail's ARN only.
    assert error(api.ct.create_trail, Name=f"other-{api.suffix}",
                 S3BucketName=api.bucket) == insufficient(api.bucket)


def test_create_trail_policy_without_the_acl_check(api: Api) -> None:
    bucket = f"tg-ctnoacl-{api.suffix}"
    name = f"noacl-{api.suffix}"
    api.s3.create_bucket(Bucket=bucket)
    policy = json.loads(bucket_policy(bucket, [(MANAGEMENT, name, "")]))
    policy["Statement"] = [s for s in policy["Statement"] if s["Action"] == "s3:PutObject"]
    api.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert error(api.ct.create_trail, Name=name, S3BucketName=bucket) == insufficient(bucket)


def test_create_trail_wrong_prefix(api: Api) -> None:
    # The temp trail's ARN is granted, but only for the bucket's root AWSLogs/ folder.
    assert error(api.ct.create_trail, Name=f"temp-{api.suffix}", S3BucketName=api.bucket,
                 S3KeyPrefix="elsewhere") == insufficient(api.bucket)
    code, _ = error(api.ct.create_trail, Name=f"temp-{api.suffix}", S3BucketName=api.bucket,
                    S3KeyPrefix="p" * 201)
    assert code == "InvalidS3PrefixException"
    code, _ = error(api.ct.create_trail, Name=f"temp-{api.suffix}", S3BucketName=api.bucket,
                    S3KeyPrefix="AWSLogs/x")
    assert code == "InvalidS3PrefixException"


@pytest.mark.parametrize(("params", "expected"), [
    ({"CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:ct:*",
      "CloudWatchLogsRoleArn": f"arn:aws:iam::{MANAGEMENT}:role/ct-logs"},
     ("InvalidCloudWatchLogsLogGroupArnException",
      "CloudTrail cannot validate the specified log group ARN.")),
    ({"SnsTopicName": "no-such-topic"},
     ("InsufficientSnsTopicPolicyException",
      "SNS Topic does not exist or the topic policy is incorrect!")),
])
def test_create_trail_missing_destinations(api: Api, params: dict[str, str],
                                           expected: tuple[str, str]) -> None:
    """Destinations trailgate has no service for answer as AWS does for missing ones."""
    name = f"temp-{api.suffix}"
    assert error(api.ct.create_trail, Name=name, S3BucketName=api.bucket, **params) == expected
    assert error(api.ct.update_trail, Name=api.main, **params) == expected


def test_create_trail_duplicate_name(api: Api) -> None:
    code, message = error(api.ct.create_trail, Name=api.main, S3BucketName=api.bucket)
    assert code == "TrailAlreadyExistsException"
    assert api.main in message


def test_unknown_trail_everywhere(api: Api) -> None:
    ct = api.ct
    name = f"nosuch-{api.suffix}"
    arn = api.arn(name)
    expected = ("TrailNotFoundException", f"Unknown trail: {name} for the user: {MANAGEMENT}")
    for op, key in ((ct.get_trail, "Name"), (ct.start_logging, "Name"),
                    (ct.stop_logging, "Name"), (ct.delete_trail, "Name")):
        assert error(op, **{key: name}) == expected, op
    # GetTrailStatus, UpdateTrail and GetEventSelectors name a trail name as its ARN in the
    # called region (AWS's answer for GetEventSelectors: aws/aws-sdk-go-v2#1957).
    as_arn = ("TrailNotFoundException", f"Unknown trail: {arn} for the user: {MANAGEMENT}")
    assert error(ct.get_trail_status, Name=name) == as_arn
    assert error(ct.get_event_selectors, TrailName=name) == as_arn
    assert error(ct.update_trail, Name=name, IsMultiRegionTrail=True) == as_arn
    west = api.world.server.client("cloudtrail", api.world.admin.key, api.world.admin.secret,
                                   region="us-west-2")
    west_arn = sc.trail_arn(MANAGEMENT, api.main, "us-west-2")
    assert error(west.get_trail_status, Name=api.main) == (  # a trail of another region
        "TrailNotFoundException", f"Unknown trail: {west_arn} for the user: {MANAGEMENT}")
    assert error(ct.get_trail, Name=arn) == (
        "TrailNotFoundException", f"Unknown trail: {arn} for the user: {MANAGEMENT}"
    )
    # Another account's (non-organization) trail is not visible, even by its ARN.
    e_arn = api.arn(api.main, api.world.accounts["E"])
    assert error(ct.get_trail_status, Name=e_arn) == (
        "TrailNotFoundException", f"Unknown trail: {e_arn} for the user: {MANAGEMENT}"
    )
    code, _ = error(ct.get_trail, Name="arn:aws:cloudtrail:us-east-1:nonsense")
    assert code == "CloudTrailARNInvalidException"


# -- reads --------------------------------------------------------------------------------------


def test_get_and_describe_trails(api: Api) -> None:
    ct = api.ct
    main = ct.get_trail(Name=api.main)["Trail"]
    assert main == {
        "Name": api.main, "S3BucketName": api.bucket, "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False, "HomeRegion": REGION, "TrailARN": api.arn(api.main),
        "LogFileValidationEnabled": False, "HasCustomEventSelectors": False,
        "HasInsightSelectors": False, "IsOrganizationTrail": False,
    }
    assert ct.get_trail(Name=api.arn(api.main))["Trail"] == main
    data = ct.get_trail(Name=api.data)["Trail"]
    assert data["S3KeyPrefix"] == "data"
    assert data["HasCustomEventSelectors"] is True
    listed = ct.describe_trails()["trailList"]
    arns = {t["TrailARN"] for t in listed}
    assert {api.arn(api.main), api.arn(api.data)} <= arns
    assert all(f":{MANAGEMENT}:trail/" in a for a in arns)  # not E's trail of the same name
    assert [t for t in listed if t["TrailARN"] == api.arn(api.main)] == [main]
    assert ct.describe_trails(trailNameList=[api.main])["trailList"] == [main]
    assert ct.describe_trails(trailNameList=[api.arn(api.main)])["trailList"] == [main]
    by_both = ct.describe_trails(trailNameList=[api.main, api.arn(api.data)])["trailList"]
    assert [t["Name"] for t in by_both] == [api.main, api.data]
    # E sees its own trail of that name, in its own account.
    e_ct = api.world.client("cloudtrail", api.e_keys)
    e_trails = e_ct.describe_trails()["trailList"]
    assert [t["TrailARN"] for t in e_trails] == [api.arn(api.main, api.world.accounts["E"])]


def test_describe_trails_by_name_in_the_home_region_only(api: Api) -> None:
    """AWS: names in trailNameList match only trails of the called region; another region's
    trail (a multi-region trail's shadow) is described by its ARN, and never when
    includeShadowTrails is false."""
    ct, name = api.ct, f"temp-{api.suffix}"
    west = api.world.server.client("cloudtrail", api.world.admin.key, api.world.admin.secret,
                                   region="us-west-2")
    ct.create_trail(Name=name, S3BucketName=api.bucket, IsMultiRegionTrail=True)
    try:
        arn = api.arn(name)
        home = ct.describe_trails(trailNameList=[name])["trailList"]
        assert [t["TrailARN"] for t in home] == [arn]
        cases: list[tuple[list[str], bool, list[str]]] = [
            ([name], True, []),
            ([name, arn], True, [arn]),
            ([arn], False, []),
            ([], True, [arn]),
            ([], False, []),
        ]
        for names, shadows, expected in cases:
            listed = west.describe_trails(trailNameList=names,
                                          includeShadowTrails=shadows)["trailList"]
            assert [t["TrailARN"] for t in listed] == expected, (names, shadows)
    finally:
        ct.delete_trail(Name=name)


def test_list_trails(api: Api) -> None:
    trails = api.ct.list_trails()["Trails"]
    for name in (api.main, api.data):
        assert {"TrailARN": api.arn(name), "Name": name, "HomeRegion": REGION} in trails
    assert all(f":{MANAGEMENT}:trail/" in t["TrailARN"] for t in trails)


# -- create / update / delete -------------------------------------------------------------------


def test_create_update_delete_trail(api: Api) -> None:
    ct = api.ct
    name = f"temp-{api.suffix}"
    created = ct.create_trail(Name=name, S3BucketName=api.bucket)
    created.pop("ResponseMetadata")
    assert created == {
        "Name": name, "S3BucketName": api.bucket, "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False, "TrailARN": api.arn(name), "LogFileValidationEnabled": False,
        "IsOrganizationTrail": False,
    }
    try:
        status = ct.get_trail_status(Name=name)
        assert status["IsLogging"] is False  # created by the API: not logging yet
        assert "StartLoggingTime" not in status and "LatestDeliveryTime" not in status
        updated = ct.update_trail(Name=name, EnableLogFileValidation=True)
        assert updated["LogFileValidationEnabled"] is True
        assert updated["TrailARN"] == api.arn(name)
        assert ct.get_trail(Name=name)["Trail"]["LogFileValidationEnabled"] is True
        # The bucket checks run again; a refused update changes nothing.
        assert error(ct.update_trail, Name=name,
                     S3KeyPrefix="elsewhere") == insufficient(api.bucket)
        code, _ = error(ct.update_trail, Name=name, S3BucketName=f"tg-nobucket-{api.suffix}")
        assert code == "S3BucketDoesNotExistException"
        assert "S3KeyPrefix" not in ct.get_trail(Name=name)["Trail"]
        assert ct.get_trail(Name=name)["Trail"]["S3BucketName"] == api.bucket
        moved = ct.update_trail(Name=api.arn(name), S3KeyPrefix="data")
        assert moved["S3KeyPrefix"] == "data"
        # A single-region trail is invisible elsewhere; a multi-region one shows as a shadow
        # that only its home region may change.
        west = api.world.server.client("cloudtrail", api.world.admin.key,
                                       api.world.admin.secret, region="us-west-2")
        assert error(west.get_trail, Name=name)[0] == "TrailNotFoundException"
        assert api.arn(name) not in {t["TrailARN"] for t in west.describe_trails()["trailList"]}
        assert ct.update_trail(Name=name, IsMultiRegionTrail=True)["IsMultiRegionTrail"] is True
        shadow = west.get_trail(Name=name)["Trail"]
        assert shadow["HomeRegion"] == REGION and shadow["TrailARN"] == api.arn(name)
        assert api.arn(name) in {t["TrailARN"] for t in west.describe_trails()["trailList"]}
        assert error(west.start_logging, Name=api.arn(name))[0] == "InvalidHomeRegionException"
        assert error(west.delete_trail, Name=name)[0] == "InvalidHomeRegionException"
    finally:
        ct.delete_trail(Name=name)
    assert error(ct.get_trail, Name=name) == (
        "TrailNotFoundException", f"Unknown trail: {name} for the user: {MANAGEMENT}"
    )
    assert name not in {t["Name"] for t in ct.list_trails()["Trails"]}
    assert error(ct.get_trail_status, Name=name)[0] == "TrailNotFoundException"


# -- logging and status -------------------------------------------------------------------------


def test_trail_status_is_truthful(api: Api) -> None:
    ct = api.ct
    status = ct.get_trail_status(Name=api.main)
    assert status["IsLogging"] is True
    assert isinstance(status["StartLoggingTime"], datetime)
    assert status["TimeLoggingStarted"].endswith("Z")
    first = poll(lambda: ct.get_trail_status(Name=api.main).get("LatestDeliveryTime"))
    assert first >= status["StartLoggingTime"]
    api.iam.get_user(UserName="admin")
    later = poll(lambda: (
        t if (t := ct.get_trail_status(Name=api.main).get("LatestDeliveryTime")) and t > first
        else None
    ))
    assert later > first
    final = ct.get_trail_status(Name=api.main)
    assert "LatestDeliveryError" not in final
    assert final["LatestDeliveryAttemptSucceeded"].endswith("Z")


def test_stop_and_start_logging(api: Api) -> None:
    ct, iam = api.ct, api.iam
    name, _, reader = api.own_trail("stop")
    before = rid(iam.get_user(UserName="admin"))
    ct.stop_logging(Name=name)
    status = ct.get_trail_status(Name=name)
    assert status["IsLogging"] is False
    assert status["StopLoggingTime"] >= status["StartLoggingTime"]
    assert status["TimeLoggingStopped"].endswith("Z")
    stopped = [rid(iam.get_user(UserName="admin")), rid(iam.list_users(MaxItems=1))]
    # What happened before StopLogging is still delivered (the final log).
    reader.wait_for(MANAGEMENT, [before])
    ct.start_logging(Name=name)
    assert ct.get_trail_status(Name=name)["IsLogging"] is True
    after = rid(iam.get_user(UserName="admin"))
    reader.wait_for(MANAGEMENT, [after])
    seen = {r["requestID"] for r in reader.records(MANAGEMENT)}
    assert seen.isdisjoint(stopped)  # calls made while stopped are never delivered
    assert after in seen and before in seen
    ct.delete_trail(Name=name)


def test_delivery_failure_and_recovery(api: Api) -> None:
    ct, iam, s3 = api.ct, api.iam, api.s3
    name, bucket, reader = api.own_trail("fail")
    reader.wait_for(MANAGEMENT, [rid(iam.get_user(UserName="admin"))])
    delivered = poll(lambda: ct.get_trail_status(Name=name).get("LatestDeliveryTime"))
    full = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    acl_only = json.loads(full)
    acl_only["Statement"] = [s for s in acl_only["Statement"] if s["Action"] == "s3:GetBucketAcl"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(acl_only))
    try:
        during = [rid(iam.get_user(UserName="admin")), rid(iam.list_users(MaxItems=1))]
        failed = poll(lambda: (
            s if (s := ct.get_trail_status(Name=name)).get("LatestDeliveryError") else None
        ))
        assert failed["LatestDeliveryError"] == "AccessDenied"
        assert failed["LatestDeliveryTime"] == delivered  # no delivery since
        attempt = datetime.strptime(failed["LatestDeliveryAttemptTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert attempt.replace(tzinfo=UTC) >= delivered.replace(microsecond=0)
        reader.refresh()
        assert reader.missing(MANAGEMENT, during) == set(during)
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=full)
    after = rid(iam.get_user(UserName="admin"))
    reader.wait_for(MANAGEMENT, [*during, after])
    counts = [r["requestID"] for r in reader.records(MANAGEMENT)]
    assert {i: counts.count(i) for i in [*during, after]} == {i: 1 for i in [*during, after]}
    recovered = ct.get_trail_status(Name=name)
    assert recovered["LatestDeliveryTime"] > delivered
    # Deleting the trail leaves its log files where they are.
    ct.delete_trail(Name=name)
    before = set(reader.all_keys)
    reader.refresh()
    assert before and before <= set(reader.all_keys)


def test_update_trail_moves_delivery_to_the_new_prefix(api: Api) -> None:
    ct, iam, s3 = api.ct, api.iam, api.s3
    name, bucket, reader = api.own_trail("move")
    s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(
        bucket, [(MANAGEMENT, name, ""), (MANAGEMENT, name, "moved")]))
    first = rid(iam.get_user(UserName="admin"))
    reader.wait_for(MANAGEMENT, [first])
    assert ct.update_trail(Name=name, S3KeyPrefix="moved")["S3KeyPrefix"] == "moved"
    second = rid(iam.get_user(UserName="admin"))
    moved = LogReader(s3, bucket, "moved")
    moved.wait_for(MANAGEMENT, [second])
    reader.refresh()
    assert reader.missing(MANAGEMENT, [second]) == {second}
    assert moved.missing(MANAGEMENT, [first]) == {first}
    assert ct.get_trail_status(Name=name)["IsLogging"] is True
    ct.delete_trail(Name=name)


def test_trail_quota_per_region(api: Api) -> None:
    """Five trails per account and region (E has one from the fixture)."""
    e_ct = api.world.client("cloudtrail", api.e_keys)
    e = api.world.accounts["E"]
    bucket = f"tg-ctquota-{api.suffix}"
    api.s3.create_bucket(Bucket=bucket)
    names = [f"q{i}-{api.suffix}" for i in range(5)]
    api.s3.put_bucket_policy(Bucket=bucket,
                             Policy=bucket_policy(bucket, [(e, n, "") for n in names]))
    existing = len(e_ct.list_trails()["Trails"])
    assert existing == 1
    made: list[str] = []
    try:
        for n in names[: 5 - existing]:
            e_ct.create_trail(Name=n, S3BucketName=bucket)
            made.append(n)
        code, _ = error(e_ct.create_trail, Name=names[-1], S3BucketName=bucket)
        assert code == "MaximumNumberOfTrailsExceededException"
    finally:
        for n in made:
            e_ct.delete_trail(Name=n)


# -- event selectors ----------------------------------------------------------------------------


def test_trail_level_permissions(api: Api) -> None:
    """CloudTrail actions on a trail are authorized against the trail's ARN; a refusal is
    AccessDeniedException, naming the resource only when there is one."""
    world, iam = api.world, api.iam
    user = f"ct-scoped-{api.suffix}"
    iam.create_user(UserName=user)
    allowed = api.arn(api.main)
    iam.put_user_policy(UserName=user, PolicyName="one-trail", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["cloudtrail:GetTrailStatus", "cloudtrail:GetTrail"],
            "Resource": allowed}]}))
    created = iam.create_access_key(UserName=user)["AccessKey"]
    ct = world.client("cloudtrail", Keys(created["AccessKeyId"], created["SecretAccessKey"]))
    who = f"arn:aws:iam::{MANAGEMENT}:user/{user}"
    try:
        assert "IsLogging" in ct.get_trail_status(Name=api.main)  # by name
        assert ct.get_trail(Name=allowed)["Trail"]["TrailARN"] == allowed  # by ARN
        assert error(ct.get_trail_status, Name=api.data) == (
            "AccessDeniedException",
            f"User: {who} is not authorized to perform: cloudtrail:GetTrailStatus on resource: "
            f"{api.arn(api.data)} because no identity-based policy allows the "
            "cloudtrail:GetTrailStatus action")
        assert error(ct.lookup_events, MaxResults=1) == (
            "AccessDeniedException",
            f"User: {who} is not authorized to perform: cloudtrail:LookupEvents because no "
            "identity-based policy allows the cloudtrail:LookupEvents action")
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=created["AccessKeyId"])
        iam.delete_user_policy(UserName=user, PolicyName="one-trail")
        iam.delete_user(UserName=user)


def test_event_selectors(api: Api) -> None:
    ct = api.ct
    got = ct.get_event_selectors(TrailName=api.main)
    assert got["TrailARN"] == api.arn(api.main)
    assert got["EventSelectors"] == DEFAULT_SELECTORS
    data = ct.get_event_selectors(TrailName=api.arn(api.data))["EventSelectors"]
    assert data == [{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": [f"arn:aws:s3:::{api.data_bucket}/"]}],
        "ExcludeManagementEventSources": [],
    }]
    code, _ = error(ct.put_event_selectors, TrailName=api.main,
                    EventSelectors=DEFAULT_SELECTORS,
                    AdvancedEventSelectors=[{"FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]}]}])
    assert code == "InvalidEventSelectorsException"
    code, _ = error(ct.put_event_selectors, TrailName=api.main, EventSelectors=[{
        "DataResources": [{"Type": "AWS::Nothing::Here", "Values": ["arn:aws:s3"]}]}])
    assert code == "InvalidEventSelectorsException"
    assert ct.get_trail(Name=api.main)["Trail"]["HasCustomEventSelectors"] is False


@pytest.mark.parametrize(("excluded", "refused"), [
    (["iam.amazonaws.com"], "iam.amazonaws.com"),
    (["kms.amazonaws.com", "s3.amazonaws.com"], "s3.amazonaws.com"),
    (["kms.amazonaws.com", "rdsdata.amazonaws.com"], None),
])
def test_exclude_management_event_sources(api: Api, excluded: list[str],
                                          refused: str | None) -> None:
    """AWS lets a basic selector leave out only KMS and RDS Data API management events."""
    ct, name = api.ct, f"temp-{api.suffix}"
    ct.create_trail(Name=name, S3BucketName=api.bucket)
    try:
        selectors = [{**DEFAULT_SELECTORS[0], "ExcludeManagementEventSources": excluded}]
        if refused is None:
            put = ct.put_event_selectors(TrailName=name, EventSelectors=selectors)
            assert put["EventSelectors"] == selectors
            assert ct.get_event_selectors(TrailName=name)["EventSelectors"] == selectors
        else:
            assert error(ct.put_event_selectors, TrailName=name, EventSelectors=selectors) == (
                "InvalidEventSelectorsException",
                f"Value {refused} for ExcludeManagementEventSources is invalid. Only "
                "kms.amazonaws.com and rdsdata.amazonaws.com can be excluded.")
            assert ct.get_trail(Name=name)["Trail"]["HasCustomEventSelectors"] is False
    finally:
        ct.delete_trail(Name=name)


@pytest.mark.parametrize(("values", "accepted"), [
    ([f"arn:aws:s3:::bucket-{i:03d}/" for i in range(250)], True),
    ([f"arn:aws:s3:::bucket-{i:03d}/" for i in range(251)], False),
    # a value selecting every S3 object does not count toward the 250 (AWS's API reference)
    (["arn:aws:s3", *(f"arn:aws:s3:::bucket-{i:03d}/" for i in range(250))], True),
])
def test_data_resources_limit(api: Api, values: list[str], accepted: bool) -> None:
    ct, name = api.ct, f"temp-{api.suffix}"
    ct.create_trail(Name=name, S3BucketName=api.bucket)
    try:
        half = len(values) // 2  # the limit is over all selectors of the trail
        selectors = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                      "DataResources": [{"Type": "AWS::S3::Object", "Values": part}]}
                     for part in (values[:half], values[half:])]
        if accepted:
            put = ct.put_event_selectors(TrailName=name, EventSelectors=selectors)
            assert [v for s in put["EventSelectors"] for d in s["DataResources"]
                    for v in d["Values"]] == values
        else:
            assert error(ct.put_event_selectors, TrailName=name, EventSelectors=selectors) == (
                "InvalidEventSelectorsException",
                "The total number of data resources across all event selectors cannot exceed "
                "250.")
    finally:
        ct.delete_trail(Name=name)


def test_data_events_only_with_a_data_selector(api: Api) -> None:
    s3, ct = api.s3, api.ct
    put = rid(s3.put_object(Bucket=api.data_bucket, Key="obj/one.txt", Body=b"hello"))
    get = s3.get_object(Bucket=api.data_bucket, Key="obj/one.txt")
    assert get["Body"].read() == b"hello"
    got = rid(get)
    elsewhere = rid(s3.put_object(Bucket=api.bucket, Key="not-logs/x.txt", Body=b"x"))
    marker = rid(api.iam.get_user(UserName="admin"))
    main = LogReader(s3, api.bucket)
    data = LogReader(s3, api.bucket, "data")
    main.wait_for(MANAGEMENT, [marker])
    data.wait_for(MANAGEMENT, [marker, put, got])
    assert data.missing(MANAGEMENT, [elsewhere]) == {elsewhere}
    assert main.missing(MANAGEMENT, [put, got, elsewhere]) == {put, got, elsewhere}
    record = data.one(MANAGEMENT, put)
    assert record["eventName"] == "PutObject"
    assert record["eventCategory"] == "Data"
    assert record["managementEvent"] is False
    assert record["readOnly"] is False
    assert record["requestParameters"]["bucketName"] == api.data_bucket
    assert record["requestParameters"]["key"] == "obj/one.txt"
    assert {"type": "AWS::S3::Object",
            "ARN": f"arn:aws:s3:::{api.data_bucket}/obj/one.txt"} in record["resources"]
    assert data.one(MANAGEMENT, got)["eventName"] == "GetObject"
    assert data.one(MANAGEMENT, got)["readOnly"] is True
    # Data events are never in event history.
    for event_name in ("PutObject", "GetObject"):
        events = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
        assert events == []
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": api.data_bucket}])["Events"]
    assert {json.loads(e["CloudTrailEvent"])["requestID"] for e in events}.isdisjoint({put, got})


def test_anonymous_data_events_are_recorded_for_the_bucket_owner(api: Api) -> None:
    """An unsigned request on a bucket is a data event of the bucket owner's, as on AWS."""
    api.s3.put_object(Bucket=api.data_bucket, Key="obj/anonymous.txt", Body=b"private")
    url = f"{api.world.server.endpoint}/{api.data_bucket}/obj/anonymous.txt"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=10)
    assert exc.value.code == 403
    denied = exc.value.headers["x-amz-request-id"]
    marker = rid(api.iam.get_user(UserName="admin"))
    data = LogReader(api.s3, api.bucket, "data")
    data.wait_for(MANAGEMENT, [marker, denied])
    record = data.one(MANAGEMENT, denied)
    assert record["userIdentity"] == {
        "type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    assert (record["eventName"], record["errorCode"], record["errorMessage"]) == (
        "GetObject", "AccessDenied", "Access Denied")
    assert record["recipientAccountId"] == MANAGEMENT
    assert record["eventCategory"] == "Data"
    # Not for a trail that selects no data events.
    main = LogReader(api.s3, api.bucket)
    main.wait_for(MANAGEMENT, [marker])
    assert main.missing(MANAGEMENT, [denied]) == {denied}


# -- tags ---------------------------------------------------------------------------------------


def test_tags(api: Api) -> None:
    ct = api.ct
    arn = api.arn(api.main)

    def tags() -> list[dict[str, str]]:
        listed = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
        assert [t["ResourceId"] for t in listed] == [arn]
        return list(listed[0].get("TagsList", []))

    assert tags() == [{"Key": "team", "Value": "audit"}]
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "env", "Value": "test"},
                                          {"Key": "team", "Value": "sec"}])
    assert sorted(tags(), key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "test"}, {"Key": "team", "Value": "sec"}]
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}])
    assert tags() == [{"Key": "env", "Value": "test"}]
    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "env"}])
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "audit"}])


# -- Insights selectors -------------------------------------------------------------------------


def test_insight_selectors(api: Api) -> None:
    ct, arn = api.ct, api.arn(api.main)
    not_enabled = ("InsightNotEnabledException",
                   f"Trail {arn} does not have Insights enabled. Edit the trail settings to "
                   "enable Insights, and then try the operation again.")
    assert error(ct.get_insight_selectors, TrailName=api.main) == not_enabled
    selectors = [{"InsightType": "ApiCallRateInsight"},
                 {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management", "Data"]}]
    try:
        put = ct.put_insight_selectors(TrailName=api.main, InsightSelectors=selectors)
        assert (put["TrailARN"], put["InsightSelectors"]) == (arn, selectors)
        for ident in (api.main, arn):
            got = ct.get_insight_selectors(TrailName=ident)
            assert (got["TrailARN"], got["InsightSelectors"]) == (arn, selectors)
        assert ct.get_trail(Name=api.main)["Trail"]["HasInsightSelectors"] is True
    finally:
        off = ct.put_insight_selectors(TrailName=api.main, InsightSelectors=[])
    assert off["InsightSelectors"] == []
    assert ct.get_trail(Name=api.main)["Trail"]["HasInsightSelectors"] is False
    assert error(ct.get_insight_selectors, TrailName=arn) == not_enabled


@pytest.mark.parametrize(("selectors", "code", "message"), [
    # CloudTrail's own exception for an InsightType that is not valid (its model says so)
    ([{"InsightType": "ApiCallRate"}], "InvalidInsightSelectorsException",
     "Value 'ApiCallRate' at 'insightSelectors.1.member.insightType'"
     " failed to satisfy constraint: Member must satisfy enum value set: [ApiCallRateInsight, "
     "ApiErrorRateInsight]"),
    ([{"InsightType": "ApiCallRateInsight", "EventCategories": ["Insight"]}],
     "InvalidInsightSelectorsException",
     "Value 'Insight' at "
     "'insightSelectors.1.member.eventCategories.1.member' failed to satisfy constraint: Member "
     "must satisfy enum value set: [Management, Data]"),
    ([{}], "InvalidInsightSelectorsException",
     "The InsightSelectors statement is not valid: every selector needs an InsightType "
     "(ApiCallRateInsight or ApiErrorRateInsight)."),
])
def test_insight_selectors_invalid(api: Api, selectors: list[dict[str, Any]], code: str,
                                   message: str) -> None:
    raw = boto_unvalidated(api)  # botocore checks the enums client-side
    assert error(raw.put_insight_selectors, TrailName=api.main,
                 InsightSelectors=selectors) == (code, message)


def test_insight_selectors_unknown_trail(api: Api) -> None:
    missing = f"nosuch-{api.suffix}"
    for call, params in ((api.ct.get_insight_selectors, {"TrailName": missing}),
                         (api.ct.put_insight_selectors,
                          {"TrailName": missing, "InsightSelectors": []})):
        assert error(call, **params) == (
            "TrailNotFoundException", f"Unknown trail: {missing} for the user: {MANAGEMENT}")


# -- ListPublicKeys -----------------------------------------------------------------------------


def test_list_public_keys_before_any_digest(api: Api) -> None:
    """AWS always has a current signing key in a region, also where no digest was written."""
    admin = api.world.admin
    ct = api.world.server.client("cloudtrail", admin.key, admin.secret, region="ap-south-1")
    keys = ct.list_public_keys()["PublicKeyList"]
    assert len(keys) == 1
    key = keys[0]
    assert key["ValidityEndTime"] - key["ValidityStartTime"] == timedelta(days=30)
    assert len(key["Fingerprint"]) == 32 and key["Value"][:4] == b"\x30\x82\x01\x0a"
    assert ct.list_public_keys()["PublicKeyList"] == keys  # the same current key
    before = key["ValidityStartTime"] - timedelta(days=2)
    assert ct.list_public_keys(StartTime=before - timedelta(days=1),
                               EndTime=before)["PublicKeyList"] == []


# -- LookupEvents -------------------------------------------------------------------------------


@dataclass
class Looked:
    user: str
    key: Keys
    start: datetime
    middle: datetime
    admin_ids: list[str]  # admin's calls naming the user: CreateUser, PutUserPolicy, CreateAccessKey
    early: list[str]  # the user's calls before ``middle``
    late: list[str]  # after ``middle``
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def mine(self) -> set[str]:
        return {*self.early, *self.late}


@pytest.fixture(scope="module")
def looked(api: Api) -> Looked:
    """A fresh IAM user of Admin's whose few calls straddle a known moment."""
    world, iam = api.world, api.iam
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    user = f"ct-look-{api.suffix}"
    admin_ids = [rid(iam.create_user(UserName=user))]
    admin_ids.append(rid(iam.put_user_policy(
        UserName=user, PolicyName="read",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]}),
    )))
    created = iam.create_access_key(UserName=user)
    admin_ids.append(rid(created))
    key = Keys(created["AccessKey"]["AccessKeyId"], created["AccessKey"]["SecretAccessKey"])
    mine_iam = world.client("iam", key)
    labels: dict[str, str] = {}
    labels["GetUser"] = rid(mine_iam.get_user())
    labels["ListUsers"] = rid(mine_iam.list_users(MaxItems=1))
    early = [labels["GetUser"], labels["ListUsers"]]
    time.sleep(1.1)
    middle = datetime.now(UTC)
    time.sleep(1.1)
    labels["GetUser2"] = rid(mine_iam.get_user(UserName=user))
    with pytest.raises(ClientError) as exc:
        mine_iam.create_user(UserName=f"{user}-not-allowed")
    labels["CreateUser.denied"] = rid(exc.value.response)
    labels["GetCallerIdentity"] = rid(world.client("sts", key).get_caller_identity())
    late = [labels["GetUser2"], labels["CreateUser.denied"], labels["GetCallerIdentity"]]
    return Looked(user, key, start, middle, admin_ids, early, late, labels)


def lookup(client: Any, key: str | None = None, value: str | None = None,
           **params: Any) -> list[dict[str, Any]]:
    if key is not None:
        params["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    out: list[dict[str, Any]] = []
    for page in client.get_paginator("lookup_events").paginate(
        **params, PaginationConfig={"MaxItems": 1000}
    ):
        out.extend(page["Events"])
    return out


def request_ids(events: list[dict[str, Any]]) -> list[str]:
    return [json.loads(e["CloudTrailEvent"])["requestID"] for e in events]


def test_lookup_by_access_key_id(api: Api, looked: Looked) -> None:
    events = lookup(api.ct, "AccessKeyId", looked.key.key)
    assert sorted(request_ids(events)) == sorted(looked.mine)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)  # newest first
    for event in events:
        assert event["AccessKeyId"] == looked.key.key
        assert event["Username"] == looked.user
        assert isinstance(event["ReadOnly"], str)
        record = json.loads(event["CloudTrailEvent"])
        assert record["eventID"] == event["EventId"]
        assert record["eventName"] == event["EventName"]
        assert record["recipientAccountId"] == MANAGEMENT
    denied = next(e for e in events
                  if json.loads(e["CloudTrailEvent"])["requestID"] == looked.labels[
                      "CreateUser.denied"])
    assert denied["ReadOnly"] == "false"
    assert json.loads(denied["CloudTrailEvent"])["errorCode"] == "AccessDenied"


def test_lookup_by_username(api: Api, looked: Looked) -> None:
    events = lookup(api.ct, "Username", looked.user)
    assert sorted(request_ids(events)) == sorted(looked.mine)


def test_lookup_by_event_id(api: Api, looked: Looked) -> None:
    events = lookup(api.ct, "AccessKeyId", looked.key.key)
    target = events[-1]
    found = lookup(api.ct, "EventId", target["EventId"])
    assert found == [target]
    assert lookup(api.ct, "EventId", str(uuid.uuid4())) == []


def test_lookup_by_event_name(api: Api, looked: Looked) -> None:
    events = lookup(api.ct, "EventName", "ListUsers", StartTime=looked.start)
    assert looked.labels["ListUsers"] in request_ids(events)
    assert {e["EventName"] for e in events} == {"ListUsers"}
    assert lookup(api.ct, "EventName", "listusers", StartTime=looked.start) == []  # exact case


def test_lookup_by_read_only(api: Api, looked: Looked) -> None:
    writes = lookup(api.ct, "ReadOnly", "false", StartTime=looked.start)
    reads = lookup(api.ct, "ReadOnly", "true", StartTime=looked.start)
    assert {e["ReadOnly"] for e in writes} == {"false"}
    assert {e["ReadOnly"] for e in reads} == {"true"}
    write_ids, read_ids = set(request_ids(writes)), set(request_ids(reads))
    assert {*looked.admin_ids, looked.labels["CreateUser.denied"]} <= write_ids
    assert {looked.labels[k] for k in ("GetUser", "ListUsers", "GetUser2",
                                       "GetCallerIdentity")} <= read_ids
    assert write_ids.isdisjoint(read_ids)


def test_lookup_by_resource_type_and_name(api: Api, looked: Looked) -> None:
    named = lookup(api.ct, "ResourceName", looked.user)
    assert set(looked.admin_ids) <= set(request_ids(named))
    for event in named:
        assert looked.user in {r["ResourceName"] for r in event["Resources"]}
    created = next(e for e in named if e["EventName"] == "CreateUser")
    assert {"ResourceType": "AWS::IAM::User", "ResourceName": looked.user} in created["Resources"]
    typed = lookup(api.ct, "ResourceType", "AWS::IAM::User", StartTime=looked.start)
    assert set(looked.admin_ids) <= set(request_ids(typed))
    for event in typed:
        assert "AWS::IAM::User" in {r["ResourceType"] for r in event["Resources"]}


def test_lookup_by_event_source(api: Api, looked: Looked) -> None:
    events = lookup(api.ct, "EventSource", "sts.amazonaws.com", StartTime=looked.start)
    assert looked.labels["GetCallerIdentity"] in request_ids(events)
    assert {e["EventSource"] for e in events} == {"sts.amazonaws.com"}
    iam_events = lookup(api.ct, "EventSource", "iam.amazonaws.com", StartTime=looked.start)
    assert set(looked.admin_ids) <= set(request_ids(iam_events))
    assert looked.labels["GetCallerIdentity"] not in request_ids(iam_events)


def test_lookup_time_range(api: Api, looked: Looked) -> None:
    key = looked.key.key
    early = lookup(api.ct, "AccessKeyId", key, EndTime=looked.middle)
    late = lookup(api.ct, "AccessKeyId", key, StartTime=looked.middle)
    assert sorted(request_ids(early)) == sorted(looked.early)
    assert sorted(request_ids(late)) == sorted(looked.late)
    both = lookup(api.ct, "AccessKeyId", key, StartTime=looked.start,
                  EndTime=datetime.now(UTC) + timedelta(minutes=1))
    assert sorted(request_ids(both)) == sorted(looked.mine)
    assert lookup(api.ct, "AccessKeyId", key, EndTime=looked.start) == []
    code, _ = error(api.ct.lookup_events, StartTime=looked.middle,
                    EndTime=looked.middle - timedelta(minutes=5))
    assert code == "InvalidTimeRangeException"


def test_lookup_paging(api: Api, looked: Looked) -> None:
    attrs = [{"AttributeKey": "AccessKeyId", "AttributeValue": looked.key.key}]
    pages: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = api.ct.lookup_events(LookupAttributes=attrs, MaxResults=2, **extra)
        pages.append(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
        assert len(pages) < 10
    assert [len(p) for p in pages] == [2, 2, 1]
    ids = [i for p in pages for i in request_ids(p)]
    assert len(ids) == len(set(ids)) == 5
    assert set(ids) == looked.mine
    times = [e["EventTime"] for p in pages for e in p]
    assert times == sorted(times, reverse=True)
    # A token belongs to its query.
    first = api.ct.lookup_events(LookupAttributes=attrs, MaxResults=2)
    code, _ = error(api.ct.lookup_events, MaxResults=2, NextToken=first["NextToken"],
                    LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "admin"}])
    assert code == "InvalidNextTokenException"


def test_lookup_errors(api: Api, looked: Looked) -> None:
    code, _ = error(api.ct.lookup_events, LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": looked.user},
        {"AttributeKey": "EventName", "AttributeValue": "GetUser"},
    ])
    assert code == "InvalidLookupAttributesException"


def test_lookup_max_results_out_of_range(api: Api) -> None:
    raw = boto_unvalidated(api)  # botocore itself refuses 0 and 51 client-side
    for value in (51, 0):
        code, _ = error(raw.lookup_events, MaxResults=value)
        assert code == "InvalidMaxResultsException"


def boto_unvalidated(api: Api) -> Any:
    import boto3

    admin = api.world.admin
    return boto3.client(
        "cloudtrail", endpoint_url=api.world.server.endpoint, region_name=REGION,
        aws_access_key_id=admin.key, aws_secret_access_key=admin.secret,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_lookup_sees_only_the_callers_account_and_region(api: Api, looked: Looked) -> None:
    # IAM and STS events are in us-east-1's event history only.
    west = api.world.server.client("cloudtrail", api.world.admin.key, api.world.admin.secret,
                                   region="us-west-2")
    assert lookup(west, "AccessKeyId", looked.key.key) == []

    e_ct = api.world.client("cloudtrail", api.e_keys)
    assert lookup(e_ct, "AccessKeyId", looked.key.key) == []
    assert lookup(e_ct, "Username", looked.user) == []
    admin_event = lookup(api.ct, "AccessKeyId", looked.key.key)[0]
    assert lookup(e_ct, "EventId", admin_event["EventId"]) == []
    own = e_ct.lookup_events(MaxResults=20)["Events"]
    assert own, "E's own events (its trail creation, this session's calls)"
    assert {json.loads(e["CloudTrailEvent"])["recipientAccountId"] for e in own} == {
        api.world.accounts["E"]}


def test_x_forwarded_for_does_not_choose_the_source_ip(api: Api) -> None:
    iam = api.iam

    def spoof(request: Any, **_: Any) -> None:
        request.headers["X-Forwarded-For"] = "203.0.113.9"

    iam.meta.events.register("before-sign.iam.GetUser", spoof)
    try:
        got = iam.get_user(UserName="admin")
    finally:
        iam.meta.events.unregister("before-sign.iam.GetUser", spoof)
    wanted = got["ResponseMetadata"]["RequestId"]

    def recorded() -> dict[str, Any] | None:
        for event in lookup(api.ct, "EventName", "GetUser"):
            record = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == wanted:
                return dict(record)
        return None

    record = poll(recorded)
    assert record["sourceIPAddress"] == "127.0.0.1"
