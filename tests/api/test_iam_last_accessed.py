"""IAM's service last accessed reports ("Access Advisor") through boto3 and the AWS CLI: which
services a user's, role's, group's or managed policy's permissions allow, and when their
entities last attempted each (denied attempts count), and which policies grant a service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server

IAM_NAME = "AWS Identity and Access Management"


def _policy(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def _user(iam: Any, name: str, *actions: str) -> tuple[str, str]:
    iam.create_user(UserName=name)
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=_policy(*actions))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _report(iam: Any, arn: str, granularity: str = "SERVICE_LEVEL") -> dict[str, Any]:
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    got = iam.get_service_last_accessed_details(JobId=job)
    assert (got["JobStatus"], got["JobType"], got["IsTruncated"]) == (
        "COMPLETED", granularity, False)
    return {"JobId": job, **{row["ServiceNamespace"]: row
                             for row in got["ServicesLastAccessed"]}}


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client("iam")


def _denied(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_user_report_service_and_action_level(server: Server, iam: Any) -> None:
    name = f"aa-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:iam::{MANAGEMENT}:user/{name}"
    key, secret = _user(iam, name, "s3:*", "iam:Get*", "cloudtrail:Describe*")
    server.client("s3", key, secret).list_buckets()
    user_iam = server.client("iam", key, secret)
    user_iam.get_user()
    _denied(user_iam.list_users)  # an attempt that was denied counts as well
    report = _report(iam, arn)
    assert set(report) - {"JobId"} == {"cloudtrail", "iam", "s3"}
    for namespace, service in (("iam", IAM_NAME), ("s3", "Amazon S3")):
        row = report[namespace]
        assert (row["ServiceName"], row["LastAuthenticatedEntity"],
                row["LastAuthenticatedRegion"], row["TotalAuthenticatedEntities"]) == (
            service, arn, REGION, 1)
        assert "TrackedActionsLastAccessed" not in row
    assert report["cloudtrail"] == {"ServiceName": "AWS CloudTrail",
                                    "ServiceNamespace": "cloudtrail",
                                    "TotalAuthenticatedEntities": 0}
    detailed = _report(iam, arn, "ACTION_LEVEL")
    assert [a["ActionName"] for a in detailed["iam"]["TrackedActionsLastAccessed"]] == [
        "GetUser", "ListUsers"]
    assert [a["ActionName"] for a in detailed["s3"]["TrackedActionsLastAccessed"]] == [
        "ListAllMyBuckets"]
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=report["JobId"], ServiceNamespace="s3")["EntityDetailsList"]
    assert [(e["EntityInfo"]["Arn"], e["EntityInfo"]["Type"], "LastAuthenticated" in e)
            for e in entities] == [(arn, "USER", True)]


def test_role_sessions_count_for_the_role(server: Server, iam: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    key, secret = _user(iam, f"aa-caller-{suffix}", "sts:AssumeRole")
    role = iam.create_role(RoleName=f"aa-role-{suffix}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}}]}))["Role"]
    iam.attach_role_policy(RoleName=role["RoleName"],
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    creds = server.client("sts", key, secret).assume_role(
        RoleArn=role["Arn"], RoleSessionName="advisor")["Credentials"]
    server.client("s3", creds["AccessKeyId"], creds["SecretAccessKey"],
                  creds["SessionToken"]).list_buckets()
    report = _report(iam, role["Arn"])
    assert report["s3"]["LastAuthenticatedEntity"] == role["Arn"]  # the role, not the session
    assert report["s3"]["TotalAuthenticatedEntities"] == 1
    assert "sts" not in report  # the role's policies allow no STS action


def test_group_and_managed_policy_reports(server: Server, iam: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    group = iam.create_group(GroupName=f"aa-group-{suffix}")["Group"]
    policy = iam.create_policy(PolicyName=f"aa-policy-{suffix}",
                               PolicyDocument=_policy("s3:ListAllMyBuckets"))["Policy"]
    iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=policy["Arn"])
    users = []
    for n in (1, 2):
        name = f"aa-member{n}-{suffix}"
        keys = _user(iam, name)
        iam.add_user_to_group(GroupName=group["GroupName"], UserName=name)
        users.append((f"arn:aws:iam::{MANAGEMENT}:user/{name}", keys))
    server.client("s3", *users[0][1]).list_buckets()
    for arn in (group["Arn"], policy["Arn"]):
        report = _report(iam, arn)
        assert set(report) - {"JobId"} == {"s3"}
        assert (report["s3"]["LastAuthenticatedEntity"],
                report["s3"]["TotalAuthenticatedEntities"]) == (users[0][0], 1)
        entities = iam.get_service_last_accessed_details_with_entities(
            JobId=report["JobId"], ServiceNamespace="s3")["EntityDetailsList"]
        assert sorted((e["EntityInfo"]["Arn"], "LastAuthenticated" in e)
                      for e in entities) == [(users[0][0], True), (users[1][0], False)]


def test_policies_granting_service_access(iam: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = f"aa-grants-{suffix}"
    _user(iam, name, "s3:GetObject")
    iam.attach_user_policy(UserName=name,
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    group = f"aa-grants-group-{suffix}"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="iam-reads",
                         PolicyDocument=_policy("iam:List*"))
    iam.add_user_to_group(GroupName=group, UserName=name)
    got = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{MANAGEMENT}:user/{name}", ServiceNamespaces=["s3", "iam", "ec2"])
    assert got["IsTruncated"] is False
    assert got["PoliciesGrantingServiceAccess"] == [
        {"ServiceNamespace": "s3", "Policies": [
            {"PolicyName": "own", "PolicyType": "INLINE", "EntityType": "USER",
             "EntityName": name},
            {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyType": "MANAGED",
             "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}]},
        {"ServiceNamespace": "iam", "Policies": [
            {"PolicyName": "iam-reads", "PolicyType": "INLINE", "EntityType": "GROUP",
             "EntityName": group}]},
        {"ServiceNamespace": "ec2", "Policies": []},
    ]


def test_errors(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.generate_service_last_accessed_details(
            Arn=f"arn:aws:iam::{MANAGEMENT}:user/aa-nobody")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    assert exc.value.response["Error"]["Message"] == (
        "The user with name aa-nobody cannot be found.")
    with pytest.raises(ClientError) as exc:
        iam.get_service_last_accessed_details(JobId=str(uuid.uuid4()))
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    profile = f"arn:aws:iam::{MANAGEMENT}:instance-profile/aa-profile"
    with pytest.raises(ClientError) as exc:
        iam.generate_service_last_accessed_details(Arn=profile)
    assert (exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]) == (
        "InvalidInput", f"ARN {profile} is not valid.")
    job = iam.generate_service_last_accessed_details(Arn="arn:aws:iam::aws:policy/"
                                                     "AmazonS3ReadOnlyAccess")["JobId"]
    with pytest.raises(ClientError) as exc:
        iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="ec2")
    assert exc.value.response["Error"]["Code"] == "InvalidInput"


def test_needs_its_own_permission(server: Server, iam: Any) -> None:
    name = f"aa-nosy-{uuid.uuid4().hex[:8]}"
    key, secret = _user(iam, name, "iam:GetUser")
    _denied(server.client("iam", key, secret).generate_service_last_accessed_details,
            Arn=f"arn:aws:iam::{MANAGEMENT}:user/{name}")


def test_aws_cli(server: Server, iam: Any) -> None:
    cli = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if cli is None:
        pytest.skip("the AWS CLI is not installed")
    name = f"aa-cli-{uuid.uuid4().hex[:8]}"
    _user(iam, name, "s3:ListAllMyBuckets")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
               AWS_DEFAULT_REGION=REGION, AWS_ENDPOINT_URL=server.endpoint)
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)

    def run(*args: str) -> Any:
        out = subprocess.run([cli, "iam", *args], env=env, check=True, capture_output=True,
                             text=True).stdout
        return json.loads(out)

    job = run("generate-service-last-accessed-details", "--arn",
              f"arn:aws:iam::{MANAGEMENT}:user/{name}")["JobId"]
    got = run("get-service-last-accessed-details", "--job-id", job)
    assert got["JobStatus"] == "COMPLETED"
    assert [(s["ServiceNamespace"], s["TotalAuthenticatedEntities"])
            for s in got["ServicesLastAccessed"]] == [("s3", 0)]
