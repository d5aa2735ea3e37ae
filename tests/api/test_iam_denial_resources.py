"""How IAM's refusals name the resource of its account-wide operations (AWS's recorded
wording): ``policy path /`` for ListPolicies, the ``mfa/`` prefix for ListVirtualMFADevices,
``*`` for the account-level reads."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server


@pytest.fixture(scope="module")
def nobody(server: Server, iam: Any) -> tuple[str, Any]:
    """(ARN, IAM client) of a user with no policy at all."""
    name = f"no-policy-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = f"arn:aws:iam::{MANAGEMENT}:user/{name}"
    return arn, server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


@pytest.mark.parametrize(("operation", "action", "shown"), [
    ("list_policies", "iam:ListPolicies", "policy path /"),
    ("list_virtual_mfa_devices", "iam:ListVirtualMFADevices", f"arn:aws:iam::{MANAGEMENT}:mfa/"),
    ("get_account_summary", "iam:GetAccountSummary", "*"),
    ("list_account_aliases", "iam:ListAccountAliases", "*"),
])
def test_refusal_names_the_resource(
    nobody: tuple[str, Any], operation: str, action: str, shown: str
) -> None:
    arn, client = nobody
    with pytest.raises(ClientError) as exc:
        getattr(client, operation)()
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "AccessDenied",
        f"User: {arn} is not authorized to perform: {action} on resource: {shown} because no "
        f"identity-based policy allows the {action} action",
    )


def test_existing_role_and_user_are_named_not_arned(
    nobody: tuple[str, Any], iam: Any
) -> None:
    """IAM's refusals name the target of its older role and user operations ``role NAME`` /
    ``user NAME`` (whatever the path), while creating or tagging names the ARN."""
    arn, client = nobody
    role = f"named-{secrets.token_hex(4)}"
    iam.create_role(RoleName=role, Path="/svc/", AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        f'"sts:AssumeRole", "Principal": {{"AWS": "{MANAGEMENT}"}}}}]}}'))
    user = f"named-{secrets.token_hex(4)}"
    iam.create_user(UserName=user, Path="/team/")
    cases = [
        ("get_role", {"RoleName": role}, "iam:GetRole", f"role {role}"),
        ("list_attached_role_policies", {"RoleName": role}, "iam:ListAttachedRolePolicies",
         f"role {role}"),
        ("update_assume_role_policy", {"RoleName": role, "PolicyDocument": "{}"},
         "iam:UpdateAssumeRolePolicy", f"role {role}"),
        ("delete_role", {"RoleName": role}, "iam:DeleteRole", f"role {role}"),
        ("list_access_keys", {"UserName": user}, "iam:ListAccessKeys", f"user {user}"),
        ("list_mfa_devices", {"UserName": user}, "iam:ListMFADevices", f"user {user}"),
        ("tag_role", {"RoleName": role, "Tags": [{"Key": "k", "Value": "v"}]}, "iam:TagRole",
         f"arn:aws:iam::{MANAGEMENT}:role/svc/{role}"),
        ("create_user", {"UserName": "never-made"}, "iam:CreateUser",
         f"arn:aws:iam::{MANAGEMENT}:user/never-made"),
    ]
    for operation, params, action, shown in cases:
        with pytest.raises(ClientError) as exc:
            getattr(client, operation)(**params)
        assert exc.value.response["Error"]["Message"] == (
            f"User: {arn} is not authorized to perform: {action} on resource: {shown} because "
            f"no identity-based policy allows the {action} action"
        ), operation


@pytest.mark.parametrize(("operation", "action"), [
    ("list_access_keys", "iam:ListAccessKeys"),
    ("create_access_key", "iam:CreateAccessKey"),
])
def test_own_keys_without_user_name(nobody: tuple[str, Any], operation: str, action: str) -> None:
    """AWS names the caller 'user null<name>' when the UserName is left out (its own quirk)."""
    arn, client = nobody
    with pytest.raises(ClientError) as exc:
        getattr(client, operation)()
    name = arn.rsplit("/", 1)[-1]
    assert exc.value.response["Error"]["Message"] == (
        f"User: {arn} is not authorized to perform: {action} on resource: user null{name} "
        f"because no identity-based policy allows the {action} action"
    )


def test_explicit_deny_names_the_boundary_or_session_policy(server: Server, iam: Any) -> None:
    deny_create_user = {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}
    allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    boundary = iam.create_policy(
        PolicyName=f"deny-boundary-{secrets.token_hex(4)}",
        PolicyDocument=json.dumps({"Version": "2012-10-17",
                                   "Statement": [allow_all, deny_create_user]}),
    )["Policy"]["Arn"]
    name = f"bounded-{secrets.token_hex(4)}"
    iam.create_user(UserName=name, PermissionsBoundary=boundary)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    bounded = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        bounded.create_user(UserName="blocked-by-boundary")
    # AWS names the managed policy that denied
    assert exc.value.response["Error"]["Message"].endswith(
        f"user/blocked-by-boundary with an explicit deny in a permissions boundary: {boundary}")
    # an attached managed policy that denies is named too (an inline one is not)
    iam.delete_user_permissions_boundary(UserName=name)
    denying = iam.create_policy(
        PolicyName=f"deny-managed-{secrets.token_hex(4)}",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny_create_user]}),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=denying)
    with pytest.raises(ClientError) as exc:
        bounded.create_user(UserName="blocked-by-policy")
    assert exc.value.response["Error"]["Message"].endswith(
        f"user/blocked-by-policy with an explicit deny in an identity-based policy: {denying}")
    iam.detach_user_policy(UserName=name, PolicyArn=denying)

    role = f"session-deny-{secrets.token_hex(4)}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:user/{name}"}}],
    }))
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{role}", RoleSessionName="denied",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow_all, deny_create_user]}),
    )["Credentials"]
    session = server.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                            creds["SessionToken"])
    with pytest.raises(ClientError) as exc:
        session.create_user(UserName="blocked-by-session")
    assert exc.value.response["Error"]["Message"].endswith(
        "user/blocked-by-session with an explicit deny in a session policy")


def test_s3_refusal_names_the_denying_managed_policy(server: Server, iam: Any) -> None:
    bucket = f"named-deny-{secrets.token_hex(4)}"
    server.client("s3").create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    denying = iam.create_policy(
        PolicyName=f"deny-list-{secrets.token_hex(4)}",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*"}]}),
    )["Policy"]["Arn"]
    name = f"s3-denied-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.attach_user_policy(UserName=name, PolicyArn=denying)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    s3: Any = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket)
    assert exc.value.response["Error"]["Message"] == (
        f'User: arn:aws:iam::{MANAGEMENT}:user/{name} is not authorized to perform: '
        f's3:ListBucket on resource: "arn:aws:s3:::{bucket}" with an explicit deny in an '
        f"identity-based policy: {denying}"
    )
