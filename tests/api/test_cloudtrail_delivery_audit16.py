"""CloudTrail's bucket checks and log delivery checked against AWS's documentation (audit 16),
on a server of this module's own with a one-second delivery interval.

CloudTrail writes as the service principal, so its requests carry the resource keys every S3
request has: ``aws:ResourceAccount`` (the bucket owner, "always included" per IAM's global
condition key reference) and ``aws:ResourceOrgID`` / ``aws:ResourceOrgPaths`` when the bucket
owner belongs to an organization.  A central log bucket in another account may condition its
policy on them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import access_role_credentials, client_as, new_member
from .server import MANAGEMENT, REGION, Server, start

SERVICE = "cloudtrail.amazonaws.com"


@dataclass
class Central:
    """A member account's bucket that receives the management account's trails."""

    srv: Server
    member: str
    org_id: str
    s3: Any  # the member's S3 (its OrganizationAccountAccessRole session)
    ct: Any  # the management account's CloudTrail

    def bucket(self, name: str, condition: dict[str, dict[str, str]]) -> str:
        """A bucket of the member's whose CloudTrail statements carry ``condition``."""
        self.s3.create_bucket(Bucket=name)
        statements = [
            {"Effect": "Allow", "Principal": {"Service": SERVICE},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{name}",
             "Condition": condition},
            {"Effect": "Allow", "Principal": {"Service": SERVICE},
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/AWSLogs/{MANAGEMENT}/*",
             "Condition": {**condition, "StringEquals": {
                 **condition.get("StringEquals", {}),
                 "s3:x-amz-acl": "bucket-owner-full-control"}}},
        ]
        self.s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        return name


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    srv = start(Path(tmp_path_factory.mktemp("ct-delivery-audit16")),
                extra_args=("--delivery-interval", "1"))
    try:
        org: Any = srv.client("organizations")
        org_id = str(org.create_organization(FeatureSet="ALL")["Organization"]["Id"])
        member = new_member(org, "logarchive")
        creds = access_role_credentials(srv, member, "log-archive")
        yield Central(srv, member, org_id, client_as(srv, "s3", creds), srv.client("cloudtrail"))
    finally:
        srv.stop()


def insufficient(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return response["Error"]["Code"], response["Error"]["Message"]


def delivered(central: Central, bucket: str, timeout: float = 20.0) -> list[str]:
    """The keys of the log files in ``bucket`` once there is one (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = central.s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/")
        keys = [str(o["Key"]) for o in listed.get("Contents", [])]
        if keys:
            return keys
        assert time.monotonic() < deadline, "no log file delivered"
        time.sleep(0.5)


def test_policy_conditioned_on_the_bucket_owners_account(central: Central) -> None:
    """aws:ResourceAccount is the bucket owner (the member), not the trail's account."""
    bucket = central.bucket("tg-a16-resacct", {"StringEquals": {
        "aws:ResourceAccount": central.member, "aws:SourceAccount": MANAGEMENT}})
    name = "resacct-trail"
    created = central.ct.create_trail(Name=name, S3BucketName=bucket)
    assert created["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/{name}"
    try:
        central.ct.start_logging(Name=name)
        central.srv.client("iam").list_users()  # an event to deliver
        keys = delivered(central, bucket)
        assert all(k.startswith(f"AWSLogs/{MANAGEMENT}/CloudTrail/{REGION}/") for k in keys)
        assert "LatestDeliveryError" not in central.ct.get_trail_status(Name=name)
    finally:
        central.ct.delete_trail(Name=name)


def test_policy_conditioned_on_another_resource_account_is_insufficient(
        central: Central) -> None:
    bucket = central.bucket("tg-a16-resacct-other", {"StringEquals": {
        "aws:ResourceAccount": MANAGEMENT}})
    assert insufficient(central.ct.create_trail, Name="other-trail", S3BucketName=bucket) == (
        "InsufficientS3BucketPolicyException",
        f"Incorrect S3 bucket policy is detected for bucket: {bucket}")


def test_policy_conditioned_on_the_bucket_owners_organization(central: Central) -> None:
    bucket = central.bucket("tg-a16-resorg", {
        "StringEquals": {"aws:ResourceOrgID": central.org_id},
        "ForAnyValue:StringLike": {"aws:ResourceOrgPaths": [f"{central.org_id}/*"]},
    })
    name = "resorg-trail"
    central.ct.create_trail(Name=name, S3BucketName=bucket)
    try:
        central.ct.start_logging(Name=name)
        central.srv.client("iam").list_users()
        assert delivered(central, bucket)
    finally:
        central.ct.delete_trail(Name=name)
