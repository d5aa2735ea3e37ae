"""The organization condition keys through boto3 on a server of their own (the tests move
accounts between OUs): ``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` in bucket and
trust policies, ``aws:ResourceOrgID`` / ``aws:ResourceAccount`` in identity policies and
SCPs, and the ``${aws:PrincipalOrgID}`` policy variable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server, start

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass
class Org:
    srv: Server
    client: Any
    org_id: str
    root: str
    ou: str  # the OU "Workloads" under the root
    inside: str  # a member account in Workloads
    beside: str  # a member account under the root
    outsider: str  # an account removed from the organization
    sessions: dict[str, dict[str, Any]]  # account -> its access role's credentials

    def client_of(self, service: str, account: str) -> Any:
        creds = self.sessions[account]
        return self.srv.client(service, creds["AccessKeyId"], creds["SecretAccessKey"],
                               creds["SessionToken"])


def _new_account(org: Any, name: str) -> str:
    request = org.create_account(Email=f"{name}@example.com", AccountName=name)
    return str(org.describe_create_account_status(CreateAccountRequestId=request[
        "CreateAccountStatus"]["Id"])["CreateAccountStatus"]["AccountId"])


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("trailgate-orgkeys")))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def world(srv: Server) -> Org:
    client = srv.client("organizations")
    org_id = client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = client.list_roots()["Roots"][0]["Id"]
    ou = client.create_organizational_unit(ParentId=root, Name="Workloads")[
        "OrganizationalUnit"]["Id"]
    inside, beside, outsider = (_new_account(client, n) for n in ("inside", "beside", "gone"))
    client.move_account(AccountId=inside, SourceParentId=root, DestinationParentId=ou)
    iam = srv.client("iam")
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN)
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    sts = srv.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    sessions = {account: sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName="orgkeys")[
        "Credentials"] for account in (inside, beside, outsider)}
    client.remove_account_from_organization(AccountId=outsider)
    return Org(srv, client, org_id, root, ou, inside, beside, outsider, sessions)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _bucket_with_policy(world: Org, name: str, condition: dict[str, Any],
                        blocked: bool = True) -> None:
    """A bucket of the management account (Block Public Access on, as for every new bucket,
    unless not ``blocked``) whose policy lets anyone read under the condition."""
    s3 = world.srv.client("s3")
    s3.create_bucket(Bucket=name)
    if not blocked:
        s3.delete_public_access_block(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"data")
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*", "Condition": condition}]}))
    if blocked:
        assert s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is False


def _reads(world: Org, account: str, bucket: str) -> bool:
    try:
        world.client_of("s3", account).get_object(Bucket=bucket, Key="k")["Body"].read()
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
        return False
    return True


def test_principal_org_id_in_a_bucket_policy(world: Org) -> None:
    bucket = "orgkeys-by-org-id"
    _bucket_with_policy(world, bucket, {"StringEquals": {"aws:PrincipalOrgID": world.org_id}})
    assert _reads(world, world.inside, bucket)
    assert _reads(world, world.beside, bucket)
    assert not _reads(world, world.outsider, bucket)


def test_principal_org_paths_in_a_bucket_policy(world: Org) -> None:
    bucket = "orgkeys-by-org-path"
    path = f"{world.org_id}/{world.root}/{world.ou}/*"
    _bucket_with_policy(world, bucket, {
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [path]}}, blocked=False)
    assert _reads(world, world.inside, bucket)
    assert not _reads(world, world.beside, bucket)
    assert not _reads(world, world.outsider, bucket)
    exact = f"{world.org_id}/{world.root}/"  # the path of an account right under the root
    _bucket_with_policy(world, "orgkeys-by-root-path", {
        "ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": [exact]}}, blocked=False)
    assert _reads(world, world.beside, "orgkeys-by-root-path")
    assert not _reads(world, world.inside, "orgkeys-by-root-path")


def test_principal_org_id_in_a_trust_policy(world: Org) -> None:
    iam = world.srv.client("iam")
    role = "OrgWideReader"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": world.org_id}}}]}))
    arn = f"arn:aws:iam::{MANAGEMENT}:role/{role}"
    assumed = world.client_of("sts", world.inside).assume_role(
        RoleArn=arn, RoleSessionName="member")["AssumedRoleUser"]["Arn"]
    assert assumed == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{role}/member"
    with pytest.raises(ClientError) as exc:
        world.client_of("sts", world.outsider).assume_role(RoleArn=arn, RoleSessionName="x1")
    assert _code(exc) == "AccessDenied"


def test_resource_org_id_and_account_in_identity_policies(world: Org) -> None:
    s3 = world.srv.client("s3")
    s3.create_bucket(Bucket="orgkeys-own")
    s3.put_object(Bucket="orgkeys-own", Key="k", Body=b"own")
    iam = world.srv.client("iam")
    results = {}
    for name, condition in (
        ("same-org", {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}),
        ("other-org", {"StringEquals": {"aws:ResourceOrgID": "o-0000000000"}}),
        ("own-account", {"StringEquals": {"aws:ResourceAccount": MANAGEMENT}}),
        ("in-root", {"ForAnyValue:StringLike": {
            "aws:ResourceOrgPaths": f"{world.org_id}/{world.root}/"}}),
    ):
        iam.create_user(UserName=f"reader-{name}")
        iam.put_user_policy(UserName=f"reader-{name}", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:GetObject", "iam:GetUser"], "Resource": "*",
                "Condition": condition}]}))
        key = iam.create_access_key(UserName=f"reader-{name}")["AccessKey"]
        user_s3 = world.srv.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        user_iam = world.srv.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
        try:
            user_s3.get_object(Bucket="orgkeys-own", Key="k")
            user_iam.get_user()  # IAM resources are the caller's own account's
            results[name] = True
        except ClientError as err:
            assert err.response["Error"]["Code"] == "AccessDenied"
            results[name] = False
    assert results == {"same-org": True, "other-org": False, "own-account": True,
                       "in-root": True}


def test_data_perimeter_scp(world: Org) -> None:
    """An SCP denying S3 outside the caller's organization: a member reads the management
    account's bucket, not a bucket of the account that left."""
    client = world.client
    client.enable_policy_type(RootId=world.root, PolicyType="SERVICE_CONTROL_POLICY")
    policy = client.create_policy(Name="perimeter", Description="", Type="SERVICE_CONTROL_POLICY",
                                  Content=json.dumps({"Version": "2012-10-17", "Statement": [{
                                      "Effect": "Deny", "Action": "s3:GetObject",
                                      "Resource": "*", "Condition": {"StringNotEquals": {
                                          "aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}}]}))
    policy_id = policy["Policy"]["PolicySummary"]["Id"]
    client.attach_policy(PolicyId=policy_id, TargetId=world.ou)
    try:
        outside = world.client_of("s3", world.outsider)
        outside.create_bucket(Bucket="orgkeys-outside")
        outside.put_object(Bucket="orgkeys-outside", Key="k", Body=b"x")
        outside.put_bucket_policy(Bucket="orgkeys-outside", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "s3:GetObject",
                "Principal": {"AWS": [f"arn:aws:iam::{world.inside}:root",
                                      f"arn:aws:iam::{world.beside}:root"]},
                "Resource": "arn:aws:s3:::orgkeys-outside/*"}]}))
        _bucket_with_policy(world, "orgkeys-perimeter",
                            {"StringEquals": {"aws:PrincipalOrgID": world.org_id}})
        assert _reads(world, world.inside, "orgkeys-perimeter")
        assert not _reads(world, world.inside, "orgkeys-outside")  # the SCP denies
        assert _reads(world, world.beside, "orgkeys-outside")  # not under the OU
    finally:
        client.detach_policy(PolicyId=policy_id, TargetId=world.ou)
        client.disable_policy_type(RootId=world.root, PolicyType="SERVICE_CONTROL_POLICY")


def test_copy_source_is_judged_with_its_own_account(world: Org) -> None:
    """CopyObject reads its source with the source bucket's owner as aws:ResourceAccount."""
    member_s3 = world.client_of("s3", world.inside)
    member_s3.create_bucket(Bucket="orgkeys-src")
    member_s3.put_object(Bucket="orgkeys-src", Key="k", Body=b"src")
    member_s3.put_bucket_policy(Bucket="orgkeys-src", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orgkeys-src/*"}]}))
    world.srv.client("s3").create_bucket(Bucket="orgkeys-dst")
    iam = world.srv.client("iam")
    iam.create_user(UserName="copier")
    iam.put_user_policy(UserName="copier", PolicyName="copy", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": MANAGEMENT}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": world.inside}}}]}))
    key = iam.create_access_key(UserName="copier")["AccessKey"]
    copier = world.srv.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    copier.copy_object(Bucket="orgkeys-dst", Key="copy",
                       CopySource={"Bucket": "orgkeys-src", "Key": "k"})
    assert world.srv.client("s3").get_object(Bucket="orgkeys-dst", Key="copy")[
        "Body"].read() == b"src"


def test_entity_paths_in_descriptions(world: Org) -> None:
    """DescribeAccount's Paths and DescribeOrganizationalUnit's Path: the ids from the
    organization down to the entity itself, each followed by a slash."""
    client, org_id, root = world.client, world.org_id, world.root
    assert client.describe_account(AccountId=world.inside)["Account"]["Paths"] == [
        f"{org_id}/{root}/{world.ou}/{world.inside}/"]
    assert client.describe_account(AccountId=world.beside)["Account"]["Paths"] == [
        f"{org_id}/{root}/{world.beside}/"]
    assert client.describe_organizational_unit(OrganizationalUnitId=world.ou)[
        "OrganizationalUnit"]["Path"] == f"{org_id}/{root}/{world.ou}/"


def test_create_bucket_is_a_resource_of_the_callers_account(world: Org) -> None:
    iam = world.srv.client("iam")
    iam.create_user(UserName="bucket-maker")
    iam.put_user_policy(UserName="bucket-maker", PolicyName="make", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}",
                                           "aws:ResourceAccount": MANAGEMENT}}}]}))
    key = iam.create_access_key(UserName="bucket-maker")["AccessKey"]
    maker = world.srv.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    maker.create_bucket(Bucket="orgkeys-made")


def test_requested_region_of_global_services(world: Org) -> None:
    """IAM and Organizations are served from us-east-1: aws:RequestedRegion says so whatever
    region the client signs with (so a region-restricting SCP must exempt them, as on AWS)."""
    iam = world.srv.client("iam")
    iam.create_user(UserName="regional")
    iam.put_user_policy(UserName="regional", PolicyName="r", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:GetUser", "organizations:DescribeOrganization"],
             "Resource": "*", "Condition": {"StringEquals": {
                 "aws:RequestedRegion": "us-east-1"}}},
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}))
    key = iam.create_access_key(UserName="regional")["AccessKey"]
    creds = (key["AccessKeyId"], key["SecretAccessKey"])
    world.srv.client("iam", *creds, region="eu-west-1").get_user()
    world.srv.client("organizations", *creds, region="eu-west-1").describe_organization()
    world.srv.client("s3", *creds, region="eu-west-1").list_buckets()


def _trail_bucket(world: Org, name: str, statements: list[dict[str, Any]]) -> None:
    """A log bucket of the management account: CloudTrail may check its ACL and write under
    AWSLogs/ with ``statements`` (conditions) added."""
    s3 = world.srv.client("s3")
    s3.create_bucket(Bucket=name)
    service = {"Service": "cloudtrail.amazonaws.com"}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": service, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{name}"},
        {"Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{name}/AWSLogs/*"},
        *statements]}))


def _trail_accepted(world: Org, account: str, bucket: str) -> bool:
    """Whether ``account`` may create a trail (not an organization trail) into ``bucket``."""
    try:
        world.client_of("cloudtrail", account).create_trail(Name=f"to-{bucket}",
                                                            S3BucketName=bucket)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"
        return False
    return True


def _deny_unless(bucket: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": condition}


def test_cloudtrail_writes_carry_the_trail_owners_source_org_keys(world: Org) -> None:
    """CloudTrail acting for a member account's trail (an ordinary trail, not an organization
    trail) carries ``aws:SourceOrgID`` and ``aws:SourceOrgPaths`` of the trail's owner; for
    an account in no organization neither key is there.  AWS's confused-deputy guardrail
    (deny a service acting for another organization, ``IfExists``) relies on it."""
    _trail_bucket(world, "orgkeys-trail-guardrail", [_deny_unless("orgkeys-trail-guardrail", {
        "StringNotEqualsIfExists": {"aws:SourceOrgID": world.org_id},
        "Null": {"aws:SourceAccount": "false"},
        "Bool": {"aws:PrincipalIsAWSService": "true"}})])
    assert _trail_accepted(world, world.inside, "orgkeys-trail-guardrail")
    assert _trail_accepted(world, world.beside, "orgkeys-trail-guardrail")
    assert not _trail_accepted(world, world.outsider, "orgkeys-trail-guardrail")
    _trail_bucket(world, "orgkeys-trail-path", [_deny_unless("orgkeys-trail-path", {
        "ForAllValues:StringNotLike": {
            "aws:SourceOrgPaths": [f"{world.org_id}/{world.root}/{world.ou}/*"]}})])
    assert _trail_accepted(world, world.inside, "orgkeys-trail-path")
    assert not _trail_accepted(world, world.beside, "orgkeys-trail-path")
    _trail_bucket(world, "orgkeys-trail-other-org", [_deny_unless("orgkeys-trail-other-org", {
        "StringNotEqualsIfExists": {"aws:SourceOrgID": "o-0000000000"}})])
    assert not _trail_accepted(world, world.inside, "orgkeys-trail-other-org")
    _trail_bucket(world, "orgkeys-trail-no-org", [_deny_unless("orgkeys-trail-no-org", {
        "Null": {"aws:SourceOrgID": "true"}})])  # the key is absent
    assert _trail_accepted(world, world.inside, "orgkeys-trail-no-org")
    assert not _trail_accepted(world, world.outsider, "orgkeys-trail-no-org")
