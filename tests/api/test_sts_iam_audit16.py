"""Audit 16: IAM role and STS AssumeRole behaviour checked against AWS's documentation, driven
through boto3 against a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT


def _arn(name: str) -> str:
    return f"arn:aws:iam::{MANAGEMENT}:role/{name}"


def _trust(*actions: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            "Action": list(actions),
        }],
    })


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def source_session(world: World) -> Keys:
    """A session of a role (allowed to assume roles) that carries the source identity 'alice'."""
    iam: Any = world.client("iam", world.admin)
    iam.create_role(
        RoleName="a16-si-first",
        AssumeRolePolicyDocument=_trust("sts:AssumeRole", "sts:SetSourceIdentity"),
    )
    iam.put_role_policy(
        RoleName="a16-si-first", PolicyName="assume-any",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Resource": "*",
        }]}),
    )
    iam.create_role(RoleName="a16-si-plain", AssumeRolePolicyDocument=_trust("sts:AssumeRole"))
    iam.create_role(
        RoleName="a16-si-allowed",
        AssumeRolePolicyDocument=_trust("sts:AssumeRole", "sts:SetSourceIdentity"),
    )
    return world.assume(world.admin, _arn("a16-si-first"), "first", SourceIdentity="alice")


def test_chained_source_identity_needs_set_source_identity_in_the_trust(
    world: World, source_session: Keys
) -> None:
    """AWS (IAM User Guide, 'Permissions required to set source identity'): in role chaining
    the source identity persists, and the target role's trust policy must allow
    sts:SetSourceIdentity, or the AssumeRole call fails, even when SourceIdentity is not
    passed again."""
    sts: Any = world.client("sts", source_session)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=_arn("a16-si-plain"), RoleSessionName="second")
    assert _refusal(exc) == (
        "AccessDenied",
        f"User: arn:aws:sts::{MANAGEMENT}:assumed-role/a16-si-first/first is not authorized "
        f"to perform: sts:SetSourceIdentity on resource: {_arn('a16-si-plain')}",
        403,
    )


def test_chained_source_identity_is_kept_where_the_trust_allows_it(
    world: World, source_session: Keys
) -> None:
    sts: Any = world.client("sts", source_session)
    out = sts.assume_role(RoleArn=_arn("a16-si-allowed"), RoleSessionName="second")
    assert out["SourceIdentity"] == "alice"
    assert out["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/a16-si-allowed/second"
    )


CHAIN_LIMIT = (
    "ValidationError",
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
    "chaining.",
    400,
)


@pytest.fixture(scope="module")
def long_role(world: World) -> str:
    iam: Any = world.client("iam", world.admin)
    iam.create_role(
        RoleName="a16-long", MaxSessionDuration=43200,
        AssumeRolePolicyDocument=_trust("sts:AssumeRole"),
    )
    return _arn("a16-long")


def test_session_token_credentials_assume_roles_for_one_hour_at_most(
    world: World, long_role: str
) -> None:
    """AWS's knowledge-center article on the role-chaining limit: an MFA user's
    GetSessionToken credentials used to assume a role are held to the one-hour limit, and a
    longer DurationSeconds fails with the role-chaining ValidationError (the failure tools
    such as aws-vault report for GetSessionToken followed by AssumeRole)."""
    creds = world.client("sts", world.admin).get_session_token(DurationSeconds=900)
    token = creds["Credentials"]
    keys = Keys(token["AccessKeyId"], token["SecretAccessKey"], token["SessionToken"])
    with pytest.raises(ClientError) as exc:
        world.assume(keys, long_role, "via-token", DurationSeconds=7200)
    assert _refusal(exc) == CHAIN_LIMIT
    session = world.client("sts", keys).assume_role(
        RoleArn=long_role, RoleSessionName="via-token", DurationSeconds=3600
    )
    assert session["AssumedRoleUser"]["Arn"].endswith(":assumed-role/a16-long/via-token")
    # the same user's long-term keys still get the role's longer sessions
    direct = world.client("sts", world.admin).assume_role(
        RoleArn=long_role, RoleSessionName="direct", DurationSeconds=7200
    )
    issued = direct["Credentials"]["Expiration"] - session["Credentials"]["Expiration"]
    assert 3500 < issued.total_seconds() < 3700


@pytest.fixture(scope="module")
def bounded_user(world: World) -> tuple[Keys, str]:
    """A user with no identity policy, named directly by a role's trust policy, and a
    permissions boundary that allows only S3."""
    iam: Any = world.client("iam", world.admin)
    boundary = iam.create_policy(
        PolicyName="a16-s3-only-boundary",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )["Policy"]["Arn"]
    iam.create_user(UserName="a16-bounded")
    key = iam.create_access_key(UserName="a16-bounded")["AccessKey"]
    user_arn = f"arn:aws:iam::{MANAGEMENT}:user/a16-bounded"
    iam.create_role(
        RoleName="a16-trusts-user",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}),
    )
    return Keys(key["AccessKeyId"], key["SecretAccessKey"]), boundary


def test_trust_naming_a_user_still_needs_the_users_boundary(
    world: World, bounded_user: tuple[Keys, str]
) -> None:
    """IAM User Guide (updating a role trust policy): a user named as the trust policy's
    principal who cannot assume the role should check their permissions boundary, which must
    allow sts:AssumeRole.  Without a boundary the same user needs no identity policy."""
    keys, boundary = bounded_user
    role = _arn("a16-trusts-user")
    assert world.assume(keys, role, "unbounded").token
    iam: Any = world.client("iam", world.admin)
    iam.put_user_permissions_boundary(UserName="a16-bounded", PermissionsBoundary=boundary)
    try:
        with pytest.raises(ClientError) as exc:
            world.assume(keys, role, "bounded")
        assert _refusal(exc) == (
            "AccessDenied",
            f"User: arn:aws:iam::{MANAGEMENT}:user/a16-bounded is not authorized to perform: "
            f"sts:AssumeRole on resource: {role}",
            403,
        )
        assume_ok = iam.create_policy(
            PolicyName="a16-assume-boundary",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}),
        )["Policy"]["Arn"]
        iam.put_user_permissions_boundary(UserName="a16-bounded", PermissionsBoundary=assume_ok)
        assert world.assume(keys, role, "bounded").token
    finally:
        iam.delete_user_permissions_boundary(UserName="a16-bounded")
