"""``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` in trust policies: the keys AWS sets for
every principal of an account in an organization (a common way to share a role with a whole
organization instead of naming each account), and the resource side's ``aws:ResourceAccount``
/ ``aws:ResourceOrgID``.  On a server of its own: the OUs made here would show in the shared
organization's tree."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT, start


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """An organization with only its management account and an administrator user there."""
    server = start(Path(tmp_path_factory.mktemp("trailgate-org-keys")))
    try:
        root: Any = server.client("iam")
        root.create_user(UserName="admin")
        root.attach_user_policy(UserName="admin",
                                PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = root.create_access_key(UserName="admin")["AccessKey"]
        server.client("organizations").create_organization(FeatureSet="ALL")
        yield World(server, Keys(key["AccessKeyId"], key["SecretAccessKey"]))
    finally:
        server.stop()


def _trust(operator: str, key: str, value: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"},
                       "Condition": {operator: {key: value}}}],
    })


def _new_member(world: World) -> tuple[str, str]:
    """A new account of the organization, moved into a new OU under the root: (id, OU id)."""
    org = world.client("organizations", world.admin)
    status = org.create_account(
        Email=f"orgkeys-{secrets.token_hex(3)}@example.com", AccountName="orgkeys"
    )["CreateAccountStatus"]
    for _ in range(100):
        status = org.describe_create_account_status(
            CreateAccountRequestId=status["Id"]
        )["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            break
        time.sleep(0.1)
    account = status["AccountId"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name=f"ou-{secrets.token_hex(3)}")
    ou_id = ou["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou_id)
    return account, ou_id


@pytest.fixture(scope="module")
def member(world: World) -> tuple[Keys, str, str]:
    """A user of a member account in an OU, allowed to assume any role: (keys, account, OU)."""
    account, ou_id = _new_member(world)
    admin = world.assume(
        world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "setup"
    )
    iam = world.client("iam", admin)
    iam.create_user(UserName="org-member")
    iam.put_user_policy(UserName="org-member", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="org-member")["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"]), account, ou_id


def _role(world: World, trust: str) -> str:
    name = f"org-keys-{secrets.token_hex(4)}"
    world.client("iam", world.admin).create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    return f"arn:aws:iam::{MANAGEMENT}:role/{name}"


def _org_id(world: World) -> str:
    org: Any = world.client("organizations", world.admin)
    return str(org.describe_organization()["Organization"]["Id"])


def test_trust_by_principal_org_id(world: World, member: tuple[Keys, str, str]) -> None:
    keys, _, _ = member
    role = _role(world, _trust("StringEquals", "aws:PrincipalOrgID", _org_id(world)))
    session = world.assume(keys, role, "org-wide")
    ident = world.client("sts", session).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{role.split('/')[-1]}/org-wide"
    # a management-account user is in the organization too
    world.assume(world.admin, role, "from-management")


def test_trust_by_another_org_id_is_refused(world: World, member: tuple[Keys, str, str]) -> None:
    keys, account, _ = member
    role = _role(world, _trust("StringEquals", "aws:PrincipalOrgID", "o-aaaaaaaaaa"))
    with pytest.raises(ClientError) as exc:
        world.assume(keys, role, "other-org")
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "AccessDenied",
        f"User: arn:aws:iam::{account}:user/org-member is not authorized to perform: "
        f"sts:AssumeRole on resource: {role}",
    )


def test_trust_by_principal_org_paths(world: World, member: tuple[Keys, str, str]) -> None:
    keys, _, ou_id = member
    org: Any = world.client("organizations", world.admin)
    root = org.list_roots()["Roots"][0]["Id"]
    path = f"{_org_id(world)}/{root}/{ou_id}/"
    role = _role(world, _trust("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", path + "*"))
    world.assume(keys, role, "in-the-ou")
    # the management account sits directly under the root, outside the OU
    with pytest.raises(ClientError) as exc:
        world.assume(world.admin, role, "outside-the-ou")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def _member_user(world: World, account: str, name: str, condition: dict[str, Any]) -> Keys:
    """A user of ``account`` who may assume roles only under ``condition``."""
    admin = world.assume(
        world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "setup"
    )
    iam = world.client("iam", admin)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*",
                       "Condition": condition}],
    }))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def test_identity_policy_by_resource_org_id_and_account(
    world: World, member: tuple[Keys, str, str]
) -> None:
    _, account, _ = member
    role = _role(world, json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}],
    }))
    inside = _member_user(world, account, "perimeter-in", {"StringEquals": {
        "aws:ResourceOrgID": _org_id(world), "aws:ResourceAccount": MANAGEMENT}})
    world.assume(inside, role, "inside-the-perimeter")
    outside = _member_user(world, account, "perimeter-out", {"StringEquals": {
        "aws:ResourceOrgID": "o-aaaaaaaaaa"}})
    with pytest.raises(ClientError) as exc:
        world.assume(outside, role, "outside-the-perimeter")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_iam_calls_carry_the_resource_account(world: World) -> None:
    root: Any = world.client("iam", world.admin)
    granted = {}
    for name, account in (("ra-own", MANAGEMENT), ("ra-other", "222222222222")):
        root.create_user(UserName=name)
        root.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
                           "Condition": {"StringEquals": {"aws:ResourceAccount": account}}}],
        }))
        key = root.create_access_key(UserName=name)["AccessKey"]
        granted[name] = world.client("iam", Keys(key["AccessKeyId"], key["SecretAccessKey"]))
    granted["ra-own"].list_roles(MaxItems=1)
    with pytest.raises(ClientError) as exc:
        granted["ra-other"].list_roles(MaxItems=1)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_bucket_policy_shared_with_the_organization(
    world: World, member: tuple[Keys, str, str]
) -> None:
    """A grant to everyone pinned by aws:PrincipalOrgID is not public: the bucket's default
    RestrictPublicBuckets does not stop a member account's principal."""
    _, account, _ = member
    bucket = f"org-shared-{secrets.token_hex(4)}"
    s3 = world.client("s3", world.admin)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="AWSLogs/x.json", Body=b"{}")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*",
                       "Condition": {"StringEquals": {"aws:PrincipalOrgID": _org_id(world)}}}],
    }))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    admin = world.assume(
        world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "reader"
    )
    body = world.client("s3", admin).get_object(Bucket=bucket, Key="AWSLogs/x.json")["Body"]
    assert body.read() == b"{}"


def test_s3_requests_carry_the_bucket_owners_keys(world: World) -> None:
    """aws:ResourceAccount / aws:ResourceOrgID of an S3 request are the bucket owner's."""
    bucket = f"perimeter-{secrets.token_hex(4)}"
    s3 = world.client("s3", world.admin)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    iam: Any = world.client("iam", world.admin)
    readers = {}
    for name, condition in (
        ("in-perimeter", {"aws:ResourceOrgID": _org_id(world), "aws:ResourceAccount": MANAGEMENT}),
        ("out-perimeter", {"aws:ResourceAccount": "222222222222"}),
    ):
        user = f"{name}-{secrets.token_hex(3)}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                           "Condition": {"StringEquals": condition}}],
        }))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        readers[name] = world.client("s3", Keys(key["AccessKeyId"], key["SecretAccessKey"]))
    assert readers["in-perimeter"].get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    with pytest.raises(ClientError) as exc:
        readers["out-perimeter"].get_object(Bucket=bucket, Key="k")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
