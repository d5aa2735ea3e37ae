"""CloudTrail trail operations driven directly over a real SqliteStore, BlobStore and S3Provider.

Every error is checked with its exact code and message; the bucket-policy check of CreateTrail
and UpdateTrail is checked against the spec's reference policy (spec 7.3, built with
``scenario.cloudtrail_bucket_policy``), and outputs are rendered by our JSON protocol layer and
parsed back by botocore.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.parsers import create_parser  # type: ignore[import-untyped]

from trailgate import scenario
from trailgate.gateway.context import Principal
from trailgate.protocol import specs
from trailgate.protocol.errors import ServiceError
from trailgate.protocol.json11 import serialize_json
from trailgate.services.base import Call
from trailgate.services.cloudtrail import CloudTrailProvider
from trailgate.services.cloudtrail.common import NS, STATUS, name_problem
from trailgate.services.cloudtrail.selectors import advanced_match, basic_match, selects
from trailgate.services.organizations.provider import ORG, OrganizationsProvider
from trailgate.services.s3 import S3Provider
from trailgate.store.blobs import BlobStore
from trailgate.store.interface import Tx
from trailgate.store.sqlite import SqliteStore
from trailgate.trail.service_access import check_delivery_access

ADMIN, D, E, R = scenario.ADMIN, scenario.D, scenario.E, scenario.R
BUCKET = scenario.BUCKET
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
READS = ("Get", "Describe", "List")

UNSET_STRINGS = {  # GetTrailStatus's deprecated string fields: "" until set, as AWS answers
    "LatestDeliveryAttemptTime": "", "LatestDeliveryAttemptSucceeded": "",
    "LatestNotificationAttemptTime": "", "LatestNotificationAttemptSucceeded": "",
    "TimeLoggingStarted": "", "TimeLoggingStopped": "",
}


def arn(account: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def root(account: str) -> Principal:
    return Principal(
        kind="root", arn=f"arn:aws:iam::{account}:root", account=account, user_id=account
    )


def policy_for(trails: dict[str, str], prefix: str = "", bucket: str = BUCKET) -> str:
    return json.dumps(scenario.cloudtrail_bucket_policy(bucket, trails, prefix))


def org_policy(bucket: str, mgmt_trail: str, org_id: str, prefix: str = "") -> str:
    doc = scenario.cloudtrail_bucket_policy(bucket, {ADMIN: mgmt_trail}, prefix)
    base = f"arn:aws:s3:::{bucket}/" + (f"{prefix}/" if prefix else "")
    doc["Statement"][1]["Resource"] = [f"{base}AWSLogs/{ADMIN}/*", f"{base}AWSLogs/{org_id}/*"]
    return json.dumps(doc)


class World:
    """One data directory: store, blobs, S3 and CloudTrail providers, operations run as the
    gateway runs them (reads on a snapshot, writes in ``write_sync``)."""

    def __init__(self, root_dir: Path) -> None:
        self.store = SqliteStore.open(root_dir / "db" / "trailgate.db")
        self.blobs = BlobStore(root_dir / "blobs")
        self.s3 = S3Provider(self.blobs, REGION, read=self.store.read)
        self.ct = CloudTrailProvider()
        self.now = NOW

    def close(self) -> None:
        self.store.close()

    def _call(self, account: str, region: str, params: dict[str, Any]) -> Call:
        return Call(account, root(account), params, region, "req-1", self.now)

    def s3op(self, op: str, account: str = ADMIN, **params: Any) -> dict[str, Any]:
        call = self._call(account, REGION, params)
        prepare = getattr(self.s3, f"prepare_{op}", None)
        if prepare is not None:
            call = replace(call, prepared=prepare(call))
        method = getattr(self.s3, op)
        result: dict[str, Any] = self.store.write_sync(lambda tx: method(call, tx))
        for action in result.pop("__after_commit", []):
            action()
        return result

    def __call__(
        self, op: str, account: str = ADMIN, region: str = REGION, **params: Any
    ) -> dict[str, Any]:
        call = self._call(account, region, params)
        method = getattr(self.ct, op)
        if op.startswith(READS):
            result: dict[str, Any] = self.store.read(lambda tx: method(call, tx))
        else:
            result = self.store.write_sync(lambda tx: method(call, tx))
        self.wire(op, result)
        return result

    def error(
        self, op: str, account: str = ADMIN, region: str = REGION, **params: Any
    ) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self(op, account=account, region=region, **params)
        assert info.value.status == 400
        return info.value

    @staticmethod
    def wire(op: str, result: dict[str, Any]) -> dict[str, Any]:
        """Our JSON rendering parsed by botocore (the client's view)."""
        model = specs.service_model("cloudtrail").operation_model(op)
        body = serialize_json("cloudtrail", op, result)
        parsed: dict[str, Any] = create_parser("json").parse(
            {"status_code": 200, "headers": {}, "body": body}, model.output_shape
        )
        parsed.pop("ResponseMetadata", None)
        return parsed

    def bucket(self, name: str = BUCKET, policy: str | None = None, owner: str = ADMIN) -> str:
        self.s3op("CreateBucket", account=owner, Bucket=name)
        if policy is not None:
            self.s3op("PutBucketPolicy", account=owner, Bucket=name, Policy=policy)
        return name

    def policy(self, policy: str, name: str = BUCKET) -> None:
        self.s3op("PutBucketPolicy", Bucket=name, Policy=policy)

    def org(self, members: tuple[str, ...] = (D, E), feature_set: str = "ALL") -> str:
        orgs = OrganizationsProvider(None, ADMIN)
        call = self._call(ADMIN, REGION, {"FeatureSet": feature_set})
        out = self.store.write_sync(lambda tx: orgs.CreateOrganization(call, tx))
        org_id = str(out["Organization"]["Id"])

        def join(tx: Tx) -> None:
            for account in members:
                tx.put(ORG, "account", account, account, {"Id": account, "Status": "ACTIVE"})

        self.store.write_sync(join)
        return org_id

    def status_record(self, trail_arn: str) -> dict[str, Any]:
        found = self.store.read(lambda tx: tx.get(NS, STATUS, trail_arn))
        assert found is not None
        return found

    def append_events(self, count: int) -> None:
        def fn(tx: Tx) -> None:
            for i in range(count):
                event_id = f"{datetime.now(UTC).timestamp()}-{i}"
                tx.append_event(ADMIN, "2026-03-01T12:00:00Z", event_id, {"eventName": "X"})

        self.store.write_sync(fn)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.close()


ALL_THREE = {ADMIN: arn(ADMIN, "admin-trail"), D: arn(D, "d-trail"), E: arn(E, "e-trail")}


@pytest.fixture
def ready(w: World) -> World:
    """The Admin bucket with the spec's reference policy for Admin's, D's and E's trails."""
    w.bucket(policy=policy_for(ALL_THREE))
    return w


# -- CreateTrail -------------------------------------------------------------------------------


def test_create_trail_defaults_and_views(ready: World) -> None:
    out = ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    assert out == {
        "Name": "admin-trail",
        "S3BucketName": BUCKET,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "TrailARN": arn(ADMIN, "admin-trail"),
        "LogFileValidationEnabled": False,
        "IsOrganizationTrail": False,
    }
    trail = ready("GetTrail", Name="admin-trail")["Trail"]
    assert trail == {
        "Name": "admin-trail",
        "S3BucketName": BUCKET,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "HomeRegion": REGION,
        "TrailARN": arn(ADMIN, "admin-trail"),
        "LogFileValidationEnabled": False,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        "IsOrganizationTrail": False,
    }
    assert ready("GetTrail", Name=arn(ADMIN, "admin-trail"))["Trail"] == trail
    # `aws cloudtrail validate-logs` calls DescribeTrails without arguments, matches TrailARN
    listed = ready("DescribeTrails")["trailList"]
    assert [t["TrailARN"] for t in listed] == [arn(ADMIN, "admin-trail")]
    assert listed[0] == trail
    assert ready("ListTrails") == {
        "Trails": [{"TrailARN": arn(ADMIN, "admin-trail"), "Name": "admin-trail", "HomeRegion": REGION}]
    }
    # created through the API: not logging until StartLogging
    assert ready("GetTrailStatus", Name="admin-trail") == {"IsLogging": False, **UNSET_STRINGS}


def test_create_trail_with_options(w: World) -> None:
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "tr1")}, prefix="audit/logs"))
    out = w(
        "CreateTrail",
        Name="tr1",
        S3BucketName=BUCKET,
        S3KeyPrefix="audit/logs",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        TagsList=[{"Key": "team", "Value": "sec"}],
    )
    assert out["S3KeyPrefix"] == "audit/logs"
    assert out["IsMultiRegionTrail"] is True
    assert out["LogFileValidationEnabled"] is True
    assert w("ListTags", ResourceIdList=[arn(ADMIN, "tr1")]) == {
        "ResourceTagList": [
            {"ResourceId": arn(ADMIN, "tr1"), "TagsList": [{"Key": "team", "Value": "sec"}]}
        ]
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "ab",
            "Trail name too short. Minimum allowed length: 3 characters. "
            "Specified name length: 2 characters.",
        ),
        (
            "a" * 129,
            "Trail name too long. Maximum allowed length: 128 characters. "
            "Specified name length: 129 characters.",
        ),
        ("-trail", "Trail name must starts with a letter or number."),
        ("trail!", "Trail name must ends with a letter or number."),
        ("trail_", "Trail name must ends with a letter or number."),
        (
            "my#trail",
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
            "periods (.), hyphens (-), and underscores (_).",
        ),
        (
            "my--trail",
            "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
        ),
        (
            "my-_trail",
            "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
        ),
        ("192.168.5.4", "Trail name cannot be formatted as an IP address."),
        ("tréil", "Trail name or ARN can only contain uppercase letters, lowercase letters, "
         "numbers, periods (.), hyphens (-), and underscores (_)."),
    ],
)
def test_invalid_trail_names(ready: World, name: str, message: str) -> None:
    err = ready.error("CreateTrail", Name=name, S3BucketName=BUCKET)
    assert (err.code, err.message) == ("InvalidTrailNameException", message)


@pytest.mark.parametrize("name", ["abc", "a" * 128, "My.Trail_1-x", "1.2.3", "t.r_a-i.l"])
def test_valid_trail_names(name: str) -> None:
    assert name_problem(name) is None


def test_bucket_must_exist(w: World) -> None:
    err = w.error("CreateTrail", Name="tr1", S3BucketName="no-such-bucket")
    assert err.code == "S3BucketDoesNotExistException"
    assert err.message == "S3 bucket no-such-bucket does not exist!"


def test_bucket_name_must_be_valid(w: World) -> None:
    err = w.error("CreateTrail", Name="tr1", S3BucketName="Bad_Bucket")
    assert (err.code, err.message) == (
        "InvalidS3BucketNameException",
        "Bucket name Bad_Bucket is not valid.",
    )


def _insufficient(err: ServiceError, bucket: str = BUCKET) -> None:
    assert err.code == "InsufficientS3BucketPolicyException"
    assert err.message == f"Incorrect S3 bucket policy is detected for bucket: {bucket}"


def test_bucket_without_policy_is_insufficient(w: World) -> None:
    w.bucket()
    _insufficient(w.error("CreateTrail", Name="admin-trail", S3BucketName=BUCKET))
    assert w("DescribeTrails") == {"trailList": []}


@pytest.mark.parametrize(("account", "name"), [(ADMIN, "admin-trail"), (D, "d-trail"), (E, "e-trail")])
def test_reference_policy_admits_each_account_trail(ready: World, account: str, name: str) -> None:
    out = ready("CreateTrail", account=account, Name=name, S3BucketName=BUCKET)
    assert out["TrailARN"] == arn(account, name)


@pytest.mark.parametrize(
    ("account", "name"),
    [
        (D, "other-trail"),  # aws:SourceArn not listed
        (R, "r-trail"),  # no AWSLogs/R/ grant, no SourceArn
        (D, "admin-trail"),  # Admin's trail name, D's ARN
    ],
)
def test_reference_policy_refuses_others(ready: World, account: str, name: str) -> None:
    _insufficient(ready.error("CreateTrail", account=account, Name=name, S3BucketName=BUCKET))


def test_wrong_prefix_is_the_classic_failure(w: World) -> None:
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "tr1")}))  # grants AWSLogs/ADMIN/* only
    _insufficient(w.error("CreateTrail", Name="tr1", S3BucketName=BUCKET, S3KeyPrefix="logs"))
    w.policy(policy_for({ADMIN: arn(ADMIN, "tr1")}, prefix="logs"))
    _insufficient(w.error("CreateTrail", Name="tr1", S3BucketName=BUCKET))  # prefix now required
    _insufficient(w.error("CreateTrail", Name="tr1", S3BucketName=BUCKET, S3KeyPrefix="other"))
    assert w("CreateTrail", Name="tr1", S3BucketName=BUCKET, S3KeyPrefix="logs")["S3KeyPrefix"] == "logs"


def test_policy_needs_both_statements(w: World) -> None:
    doc = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN, "tr1")})
    only_write = {**doc, "Statement": [doc["Statement"][1]]}
    only_acl = {**doc, "Statement": [doc["Statement"][0]]}
    w.bucket(policy=json.dumps(only_write))
    _insufficient(w.error("CreateTrail", Name="tr1", S3BucketName=BUCKET))
    w.policy(json.dumps(only_acl))
    _insufficient(w.error("CreateTrail", Name="tr1", S3BucketName=BUCKET))
    w.policy(json.dumps(doc))
    w("CreateTrail", Name="tr1", S3BucketName=BUCKET)


def test_policy_conditions_see_service_context(w: World) -> None:
    """Older documented variants: aws:SourceAccount instead of aws:SourceArn; an explicit
    Deny for non-TLS requests never hits CloudTrail (aws:SecureTransport is true)."""
    doc: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/AWSLogs/*"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": D},
                    "Bool": {"aws:PrincipalIsAWSService": "true"},
                },
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    w.bucket(policy=json.dumps(doc))
    w("CreateTrail", account=D, Name="d-trail", S3BucketName=BUCKET)
    _insufficient(w.error("CreateTrail", account=E, Name="e-trail", S3BucketName=BUCKET))


def test_check_delivery_access_codes(w: World) -> None:
    read = w.store.read
    assert check_delivery_access(read, "nope", None, arn(ADMIN, "t"), ADMIN) == "NoSuchBucket"
    w.bucket()
    assert check_delivery_access(read, BUCKET, None, arn(ADMIN, "t"), ADMIN) == "AccessDenied"
    w.policy(policy_for({ADMIN: arn(ADMIN, "t")}))
    assert check_delivery_access(read, BUCKET, None, arn(ADMIN, "t"), ADMIN) is None
    assert check_delivery_access(read, BUCKET, "p", arn(ADMIN, "t"), ADMIN) == "AccessDenied"
    assert check_delivery_access(read, BUCKET, None, arn(ADMIN, "u"), ADMIN) == "AccessDenied"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("p" * 201, "The S3 key prefix must not exceed 200 characters."),
        ("AWSLogs/x", "Prefix AWSLogs/x is invalid."),
        ("/logs", "Prefix /logs is invalid."),
        ("logs/", "Prefix logs/ is invalid."),
    ],
)
def test_prefix_rules(ready: World, prefix: str, message: str) -> None:
    err = ready.error("CreateTrail", Name="admin-trail", S3BucketName=BUCKET, S3KeyPrefix=prefix)
    assert (err.code, err.message) == ("InvalidS3PrefixException", message)


def test_prefix_of_200_characters_is_fine(w: World) -> None:
    prefix = "p" * 200
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "tr1")}, prefix=prefix))
    assert w("CreateTrail", Name="tr1", S3BucketName=BUCKET, S3KeyPrefix=prefix)["S3KeyPrefix"] == prefix


def test_duplicate_and_quota(w: World) -> None:
    names = [f"trail{i}" for i in range(7)]
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "x")}))
    doc = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN, "x")})
    sources = [arn(ADMIN, n, r) for n in names for r in (REGION, OTHER_REGION)]
    for statement in doc["Statement"]:
        statement["Condition"]["StringEquals"]["aws:SourceArn"] = sources
    w.policy(json.dumps(doc))
    for name in names[:5]:
        w("CreateTrail", Name=name, S3BucketName=BUCKET)
    err = w.error("CreateTrail", Name="trail0", S3BucketName=BUCKET)
    assert (err.code, err.message) == (
        "TrailAlreadyExistsException",
        f"Trail trail0 already exists for customer: {ADMIN}",
    )
    err = w.error("CreateTrail", Name="trail5", S3BucketName=BUCKET)
    assert (err.code, err.message) == (
        "MaximumNumberOfTrailsExceededException",
        f"User: {ADMIN} already has 5 trails in {REGION}.",
    )
    # the quota is per region
    w("CreateTrail", region=OTHER_REGION, Name="trail6", S3BucketName=BUCKET)


def test_multi_region_trail_must_include_global_events(ready: World) -> None:
    err = ready.error(
        "CreateTrail",
        Name="admin-trail",
        S3BucketName=BUCKET,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=False,
    )
    assert (err.code, err.message) == (
        "InvalidParameterCombinationException",
        "Multi-Region trail must include global service events.",
    )


def test_unsupported_destinations(ready: World) -> None:
    err = ready.error("CreateTrail", Name="admin-trail", S3BucketName=BUCKET, SnsTopicName="t")
    assert (err.code, err.message) == (
        "InsufficientSnsTopicPolicyException",
        "SNS Topic does not exist or the topic policy is incorrect!",
    )
    err = ready.error("CreateTrail", Name="admin-trail", S3BucketName=BUCKET, KmsKeyId="k1")
    assert (err.code, err.message) == ("KmsKeyNotFoundException", "KMS key k1 not found.")


# -- organization trails -----------------------------------------------------------------------


def test_organization_trail_rules(w: World) -> None:
    w.bucket()
    err = w.error("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True)
    assert (err.code, err.message) == (
        "OrganizationsNotInUseException",
        "This account is not a member of an organization.",
    )
    org_id = w.org()
    err = w.error(
        "CreateTrail", account=D, Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True
    )
    assert (err.code, err.message) == (
        "NotOrganizationMasterAccountException",
        f"The request was rejected because account {D} is not the management account of the "
        "organization.",
    )
    # a policy without the o-ID path is insufficient for an organization trail
    w.policy(policy_for({ADMIN: arn(ADMIN, "org-trail")}))
    _insufficient(
        w.error("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True)
    )
    w.policy(org_policy(BUCKET, arn(ADMIN, "org-trail"), org_id))
    out = w("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True,
            IsMultiRegionTrail=True)
    assert out["IsOrganizationTrail"] is True


def test_organization_needs_all_features(w: World) -> None:
    w.bucket()
    w.org(feature_set="CONSOLIDATED_BILLING")
    err = w.error("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True)
    assert (err.code, err.message) == (
        "OrganizationNotInAllFeaturesModeException",
        "This operation requires that all features are enabled in the organization.",
    )


def test_members_see_but_cannot_change_the_organization_trail(w: World) -> None:
    org_id = w.org()
    w.bucket(policy=org_policy(BUCKET, arn(ADMIN, "org-trail"), org_id))
    w("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True,
      IsMultiRegionTrail=True)
    trail_arn = arn(ADMIN, "org-trail")
    assert [t["TrailARN"] for t in w("DescribeTrails", account=D)["trailList"]] == [trail_arn]
    assert w("DescribeTrails", account=D, includeShadowTrails=False) == {"trailList": []}
    assert w("GetTrail", account=D, Name=trail_arn)["Trail"]["IsOrganizationTrail"] is True
    assert w("GetTrailStatus", account=D, Name=trail_arn) == {"IsLogging": False, **UNSET_STRINGS}
    err = w.error("GetTrail", account=D, Name="org-trail")  # members must use the ARN
    assert (err.code, err.message) == (
        "TrailNotFoundException",
        f"Unknown trail: org-trail for the user: {D}",
    )
    for op, key in (("StartLogging", "Name"), ("DeleteTrail", "Name"),
                    ("PutEventSelectors", "TrailName")):
        params: dict[str, Any] = {key: trail_arn}
        if op == "PutEventSelectors":
            params["EventSelectors"] = [{"ReadWriteType": "All"}]
        err = w.error(op, account=D, **params)
        assert err.code == "NotOrganizationMasterAccountException"
    # an account outside the organization sees nothing
    err = w.error("GetTrail", account=R, Name=trail_arn)
    assert err.message == f"Unknown trail: {trail_arn} for the user: {R}"


# -- lookups, regions --------------------------------------------------------------------------


def test_unknown_and_foreign_trails(ready: World) -> None:
    ready("CreateTrail", account=D, Name="d-trail", S3BucketName=BUCKET)
    for op, key in (
        ("GetTrail", "Name"),
        ("GetTrailStatus", "Name"),
        ("StartLogging", "Name"),
        ("StopLogging", "Name"),
        ("DeleteTrail", "Name"),
        ("UpdateTrail", "Name"),
        ("GetEventSelectors", "TrailName"),
    ):
        err = ready.error(op, **{key: "nope"})
        # GetTrailStatus, UpdateTrail and GetEventSelectors name the trail by the ARN a name has
        # (AWS's message)
        by_arn = ("GetTrailStatus", "UpdateTrail", "GetEventSelectors")
        shown = arn(ADMIN, "nope") if op in by_arn else "nope"
        assert (err.code, err.message) == (
            "TrailNotFoundException",
            f"Unknown trail: {shown} for the user: {ADMIN}",
        )
        foreign = arn(D, "d-trail")
        err = ready.error(op, **{key: foreign})
        assert (err.code, err.message) == (
            "TrailNotFoundException",
            f"Unknown trail: {foreign} for the user: {ADMIN}",
        )
    err = ready.error("GetTrail", Name="arn:aws:cloudtrail:us-east-1:123:trail/x")
    assert (err.code, err.message) == (
        "CloudTrailARNInvalidException",
        "ARN arn:aws:cloudtrail:us-east-1:123:trail/x is invalid.",
    )


def test_home_region_rules(w: World) -> None:
    sources = {ADMIN: arn(ADMIN, "multi")}
    doc = scenario.cloudtrail_bucket_policy(BUCKET, sources)
    for statement in doc["Statement"]:
        statement["Condition"]["StringEquals"]["aws:SourceArn"] = [
            arn(ADMIN, "multi"), arn(ADMIN, "single")
        ]
    w.bucket(policy=json.dumps(doc))
    w("CreateTrail", Name="multi", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    w("CreateTrail", Name="single", S3BucketName=BUCKET)
    # from another region: the multi-region trail's shadow is visible, the single one is not
    listed = w("DescribeTrails", region=OTHER_REGION)["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in listed] == [("multi", REGION)]
    assert w("DescribeTrails", region=OTHER_REGION, includeShadowTrails=False) == {"trailList": []}
    assert w("GetTrail", region=OTHER_REGION, Name="multi")["Trail"]["TrailARN"] == arn(ADMIN, "multi")
    err = w.error("GetTrail", region=OTHER_REGION, Name="single")
    assert err.code == "TrailNotFoundException"
    # A shadow trail's status: by its ARN only (AWS's documentation of GetTrailStatus).
    assert w("GetTrailStatus", region=OTHER_REGION, Name=arn(ADMIN, "multi"))["IsLogging"] is False
    err = w.error("GetTrailStatus", region=OTHER_REGION, Name="multi")
    assert (err.code, err.message) == (
        "TrailNotFoundException",
        f"Unknown trail: {arn(ADMIN, 'multi', OTHER_REGION)} for the user: {ADMIN}")
    for op, key in (
        ("StartLogging", "Name"),
        ("StopLogging", "Name"),
        ("DeleteTrail", "Name"),
        ("UpdateTrail", "Name"),
    ):
        err = w.error(op, region=OTHER_REGION, **{key: "multi"})
        assert (err.code, err.message) == (
            "InvalidHomeRegionException",
            f"This operation must be called from the trail's home region, {REGION}.",
        )
    err = w.error(
        "PutEventSelectors", region=OTHER_REGION, TrailName=arn(ADMIN, "multi"),
        EventSelectors=[{"ReadWriteType": "All"}],
    )
    assert err.code == "InvalidHomeRegionException"
    # ListTrails shows every trail of the account with its home region
    assert {(t["Name"], t["HomeRegion"]) for t in w("ListTrails")["Trails"]} == {
        ("multi", REGION), ("single", REGION)
    }


def test_describe_trails_by_name_and_arn(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    out = ready("DescribeTrails", trailNameList=["admin-trail", "unknown"])
    assert [t["Name"] for t in out["trailList"]] == ["admin-trail"]
    out = ready("DescribeTrails", trailNameList=[arn(ADMIN, "admin-trail"), "admin-trail"])
    assert [t["Name"] for t in out["trailList"]] == ["admin-trail"]
    out = ready("DescribeTrails", trailNameList=[arn(ADMIN, "admin-trail", OTHER_REGION)])
    assert out == {"trailList": []}


# -- update / delete ---------------------------------------------------------------------------


def test_update_trail_rechecks_the_bucket(w: World) -> None:
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "tr1")}))
    w("CreateTrail", Name="tr1", S3BucketName=BUCKET)
    _insufficient(w.error("UpdateTrail", Name="tr1", S3KeyPrefix="logs"))
    assert "S3KeyPrefix" not in w("GetTrail", Name="tr1")["Trail"]  # unchanged
    err = w.error("UpdateTrail", Name="tr1", S3BucketName="other-bucket")
    assert (err.code, err.message) == (
        "S3BucketDoesNotExistException",
        "S3 bucket other-bucket does not exist!",
    )
    # the policy is removed: even an update that does not move the trail is refused
    w.s3op("DeleteBucketPolicy", Bucket=BUCKET)
    _insufficient(w.error("UpdateTrail", Name="tr1", EnableLogFileValidation=True))
    w.policy(policy_for({ADMIN: arn(ADMIN, "tr1")}, prefix="logs"))
    out = w("UpdateTrail", Name=arn(ADMIN, "tr1"), S3KeyPrefix="logs", EnableLogFileValidation=True)
    assert out["S3KeyPrefix"] == "logs"
    assert out["LogFileValidationEnabled"] is True
    assert out["TrailARN"] == arn(ADMIN, "tr1")
    w.policy(policy_for({ADMIN: arn(ADMIN, "tr1")}))
    out = w("UpdateTrail", Name="tr1", S3KeyPrefix="")  # an empty prefix removes it
    assert "S3KeyPrefix" not in out
    err = w.error("UpdateTrail", Name="tr1", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)
    assert err.code == "InvalidParameterCombinationException"


def test_update_to_another_bucket(w: World) -> None:
    w.bucket(policy=policy_for({ADMIN: arn(ADMIN, "tr1")}))
    w.bucket("second-bucket", policy=policy_for({ADMIN: arn(ADMIN, "tr1")}, bucket="second-bucket"))
    w("CreateTrail", Name="tr1", S3BucketName=BUCKET)
    assert w("UpdateTrail", Name="tr1", S3BucketName="second-bucket")["S3BucketName"] == "second-bucket"


def test_delete_trail(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    ready("StartLogging", Name="admin-trail")
    assert ready("DeleteTrail", Name=arn(ADMIN, "admin-trail")) == {}
    assert ready("DescribeTrails") == {"trailList": []}
    assert ready.error("GetTrailStatus", Name="admin-trail").code == "TrailNotFoundException"
    assert ready.store.read(lambda tx: tx.list(NS, STATUS)) == []
    # the name is free again
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)


# -- logging and status ------------------------------------------------------------------------


def test_start_stop_logging_and_status(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    ready.append_events(3)
    ready.now = NOW + timedelta(minutes=1)
    assert ready("StartLogging", Name="admin-trail") == {}
    status = ready("GetTrailStatus", Name="admin-trail")
    assert status == {
        "IsLogging": True,
        "StartLoggingTime": NOW + timedelta(minutes=1),
        **UNSET_STRINGS,
        "TimeLoggingStarted": "2026-03-01T12:01:00Z",
    }
    assert ready.wire("GetTrailStatus", status)["StartLoggingTime"] == NOW + timedelta(minutes=1)
    record = ready.status_record(arn(ADMIN, "admin-trail"))
    assert record["Cursor"] == 3  # events recorded before StartLogging are never delivered
    ready.append_events(2)
    ready.now = NOW + timedelta(minutes=2)
    ready("StartLogging", Name="admin-trail")  # already logging: changes nothing
    assert ready.status_record(arn(ADMIN, "admin-trail"))["Cursor"] == 3
    ready("StopLogging", Name="admin-trail")
    status = ready("GetTrailStatus", Name="admin-trail")
    assert status["IsLogging"] is False
    assert status["StopLoggingTime"] == NOW + timedelta(minutes=2)
    assert status["TimeLoggingStopped"] == "2026-03-01T12:02:00Z"
    assert ready.status_record(arn(ADMIN, "admin-trail"))["StopSeq"] == 5


@pytest.mark.parametrize("op", ["GetTrail", "GetTrailStatus", "StartLogging", "StopLogging",
                                "DeleteTrail", "GetEventSelectors"])
def test_invalid_trail_names_everywhere(ready: World, op: str) -> None:
    """A name that could not be a trail's is InvalidTrailNameException, not TrailNotFound."""
    key = "TrailName" if op == "GetEventSelectors" else "Name"
    err = ready.error(op, **{key: "bad name"})
    assert (err.code, err.message) == (
        "InvalidTrailNameException",
        "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
        "periods (.), hyphens (-), and underscores (_).")
    assert ready.error(op, **{key: "no-such-trail"}).code == "TrailNotFoundException"


def test_status_shows_delivery_timestamps_only_when_set(ready: World) -> None:
    """Timestamps and errors appear once set; the deprecated string fields are always there,
    empty when unset (as AWS answers)."""
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    trail_arn = arn(ADMIN, "admin-trail")

    def fake_delivery(tx: Tx) -> None:
        record = tx.get(NS, STATUS, trail_arn)
        assert record is not None
        record.update(
            LatestDeliveryTime="2026-03-01T12:05:00+00:00",
            LatestDeliveryAttemptTime="2026-03-01T12:10:00+00:00",
            LatestDeliveryAttemptSucceeded="2026-03-01T12:05:00+00:00",
            LatestDeliveryError="AccessDenied",
            LatestDigestDeliveryError="AccessDenied",
        )
        tx.put(NS, STATUS, trail_arn, "admin-trail", record)

    ready.store.write_sync(fake_delivery)
    status = ready("GetTrailStatus", Name="admin-trail")
    assert status == {
        "IsLogging": False,
        "LatestDeliveryTime": datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
        "LatestDeliveryError": "AccessDenied",
        "LatestDigestDeliveryError": "AccessDenied",
        **UNSET_STRINGS,
        "LatestDeliveryAttemptTime": "2026-03-01T12:10:00Z",
        "LatestDeliveryAttemptSucceeded": "2026-03-01T12:05:00Z",
    }
    parsed = ready.wire("GetTrailStatus", status)
    assert parsed["LatestDeliveryTime"] == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


# -- event selectors ---------------------------------------------------------------------------


DEFAULT = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
]


def test_event_selectors_basic(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    trail_arn = arn(ADMIN, "admin-trail")
    assert ready("GetEventSelectors", TrailName="admin-trail") == {
        "TrailARN": trail_arn,
        "EventSelectors": DEFAULT,
    }
    selectors = [
        {
            "ReadWriteType": "ReadOnly",
            "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trail-bucket/", "arn:aws:s3"]}
            ],
        },
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False},
    ]
    out = ready("PutEventSelectors", TrailName=trail_arn, EventSelectors=selectors)
    expected = [
        {
            "ReadWriteType": "ReadOnly",
            "IncludeManagementEvents": True,
            "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trail-bucket/", "arn:aws:s3"]}
            ],
            "ExcludeManagementEventSources": [],
        },
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": False,
            "DataResources": [],
            "ExcludeManagementEventSources": [],
        },
    ]
    assert out == {"TrailARN": trail_arn, "EventSelectors": expected}
    assert ready("GetEventSelectors", TrailName="admin-trail") == out
    assert ready("GetTrail", Name="admin-trail")["Trail"]["HasCustomEventSelectors"] is True


def test_event_selectors_advanced(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    advanced = [
        {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {
            "Name": "logs",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::trail-bucket/AWSLogs/"]},
                {"Field": "readOnly", "Equals": ["false"]},
            ],
        },
    ]
    out = ready("PutEventSelectors", TrailName="admin-trail", AdvancedEventSelectors=advanced)
    assert out == {"TrailARN": arn(ADMIN, "admin-trail"), "AdvancedEventSelectors": advanced}
    assert ready("GetEventSelectors", TrailName="admin-trail") == out
    # back to basic selectors: the advanced ones go
    ready("PutEventSelectors", TrailName="admin-trail", EventSelectors=[{"ReadWriteType": "All"}])
    assert "AdvancedEventSelectors" not in ready("GetEventSelectors", TrailName="admin-trail")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"EventSelectors": [{"ReadWriteType": "All"}], "AdvancedEventSelectors": [
                {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]},
            "Specify either EventSelectors or AdvancedEventSelectors, but not both.",
        ),
        ({}, "Specify either EventSelectors or AdvancedEventSelectors, but not both."),
        ({"EventSelectors": []}, "You can specify from 1 to 5 event selectors per trail."),
        (
            {"EventSelectors": [{"ReadWriteType": "All"}] * 6},
            "You can specify from 1 to 5 event selectors per trail.",
        ),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "AWS::EC2::Instance", "Values": []}]}]},
            "Value AWS::EC2::Instance for DataResources.Type is invalid.",
        ),
        (
            {"EventSelectors": [{"DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trail-bucket"]}]}]},
            "Value arn:aws:s3:::trail-bucket for DataResources.Values is invalid.",
        ),
        (
            {"EventSelectors": [{"DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["s3://trail-bucket/"]}]}]},
            "Value s3://trail-bucket/ for DataResources.Values is invalid.",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventName", "Equals": ["GetObject"]}]}]},
            "Each advanced event selector must specify eventCategory with Equals.",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]}]}]},
            "Data event selectors must specify one resources.type with Equals.",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["yes"]}]}]},
            "Invalid value for readOnly: yes.",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventName", "Equals": ["GetObject"]}]}]},
            "Field eventName is not supported for management event selectors.",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "color", "Equals": ["red"]}]}]},
            "Field color is not a valid field for advanced event selectors.",
        ),
    ],
)
def test_invalid_event_selectors(ready: World, params: dict[str, Any], message: str) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    err = ready.error("PutEventSelectors", TrailName="admin-trail", **params)
    assert (err.code, err.message) == ("InvalidEventSelectorsException", message)


def _mgmt(read_only: bool, source: str = "iam.amazonaws.com") -> dict[str, Any]:
    return {"eventCategory": "Management", "managementEvent": True, "readOnly": read_only,
            "eventSource": source, "eventName": "GetUser" if read_only else "CreateUser"}


def _data(key: str, read_only: bool = True, bucket: str = BUCKET) -> dict[str, Any]:
    return {
        "eventCategory": "Data",
        "managementEvent": False,
        "readOnly": read_only,
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject" if read_only else "PutObject",
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
    }


def test_basic_selector_matching() -> None:
    default = {"EventSelectors": DEFAULT}
    assert selects(default, _mgmt(True)) and selects(default, _mgmt(False))
    assert not selects(default, _data("a"))
    write_only = [{**DEFAULT[0], "ReadWriteType": "WriteOnly"}]
    assert basic_match(write_only, _mgmt(False)) and not basic_match(write_only, _mgmt(True))
    excluded = [{**DEFAULT[0], "ExcludeManagementEventSources": ["iam.amazonaws.com"]}]
    assert not basic_match(excluded, _mgmt(True))
    assert basic_match(excluded, _mgmt(True, "sts.amazonaws.com"))

    def data(values: list[str], rw: str = "All") -> list[dict[str, Any]]:
        return [{"ReadWriteType": rw, "IncludeManagementEvents": False,
                 "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]

    assert basic_match(data(["arn:aws:s3"]), _data("x/y"))
    assert basic_match(data([f"arn:aws:s3:::{BUCKET}/"]), _data("x/y"))
    assert not basic_match(data([f"arn:aws:s3:::{BUCKET}/"]), _data("x/y", bucket="other"))
    assert basic_match(data([f"arn:aws:s3:::{BUCKET}/x/"]), _data("x/y"))
    assert not basic_match(data([f"arn:aws:s3:::{BUCKET}/z"]), _data("x/y"))
    assert not basic_match(data(["arn:aws:s3"], "WriteOnly"), _data("x/y"))
    assert not basic_match(data(["arn:aws:s3"]), _mgmt(True))  # management events not included
    listing = {"eventCategory": "Data", "readOnly": True, "resources": [
        {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{BUCKET}/AWSLogs/"},
        {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{BUCKET}"}]}
    assert basic_match(data([f"arn:aws:s3:::{BUCKET}/"]), listing)
    assert not basic_match(data([f"arn:aws:s3:::{BUCKET}/private/"]), listing)


def test_advanced_selector_matching() -> None:
    mgmt_reads = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["true"]}]}]
    assert advanced_match(mgmt_reads, _mgmt(True))
    assert not advanced_match(mgmt_reads, _mgmt(False))
    assert not advanced_match(mgmt_reads, _data("a"))
    writes_outside = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "NotStartsWith": [f"arn:aws:s3:::{BUCKET}/tmp/"],
         "EndsWith": [".json", ".gz"]},
        {"Field": "eventName", "NotEquals": ["DeleteObject"]}]}]
    assert advanced_match(writes_outside, _data("a/b.gz", read_only=False))
    assert not advanced_match(writes_outside, _data("a/b.txt"))
    # resources.ARN applies to the objects (resources.type), not to the bucket resource
    assert not advanced_match(writes_outside, _data("tmp/b.gz"))
    assert not advanced_match(writes_outside, {**_data("a.gz"), "eventName": "DeleteObject"})
    by_source = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}]
    assert advanced_match(by_source, _mgmt(True)) and not advanced_match(
        by_source, _mgmt(True, "kms.amazonaws.com"))


# -- tags --------------------------------------------------------------------------------------


def test_tags(ready: World) -> None:
    ready("CreateTrail", Name="admin-trail", S3BucketName=BUCKET,
          TagsList=[{"Key": "a", "Value": "1"}])
    trail_arn = arn(ADMIN, "admin-trail")
    ready("AddTags", ResourceId=trail_arn, TagsList=[{"Key": "b", "Value": "2"},
                                                    {"Key": "a", "Value": "3"}])
    assert ready("ListTags", ResourceIdList=[trail_arn])["ResourceTagList"] == [
        {"ResourceId": trail_arn, "TagsList": [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]}
    ]
    ready("RemoveTags", ResourceId=trail_arn, TagsList=[{"Key": "a"}])
    assert ready("ListTags", ResourceIdList=[trail_arn])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "b", "Value": "2"}
    ]
    err = ready.error("AddTags", ResourceId="admin-trail", TagsList=[{"Key": "c", "Value": "1"}])
    assert (err.code, err.message) == ("CloudTrailARNInvalidException", "ARN admin-trail is invalid.")
    missing = arn(ADMIN, "missing")
    err = ready.error("ListTags", ResourceIdList=[missing])
    assert (err.code, err.message) == ("ResourceNotFoundException", f"Resource {missing} does not exist.")
    err = ready.error("AddTags", ResourceId=trail_arn,
                      TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert (err.code, err.message) == (
        "TagsLimitExceededException",
        "The number of tags on the trail exceeds the maximum of 50.",
    )
    err = ready.error("AddTags", ResourceId=trail_arn, TagsList=[{"Key": "aws:x", "Value": "v"}])
    assert (err.code, err.message) == ("InvalidTagParameterException", "Tag key or value is invalid: aws:x")
