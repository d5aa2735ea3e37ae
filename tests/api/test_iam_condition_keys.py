"""IAM's own condition keys in delegation policies, through boto3: ``iam:PolicyARN``,
``iam:PermissionsBoundary`` (passed, or the target's), ``aws:RequestTag/*`` / ``aws:TagKeys``,
``iam:ResourceTag/*`` / ``aws:ResourceTag/*``."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server

S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": MANAGEMENT}}]})
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def _allow(actions: str | list[str], condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": "*", "Condition": condition}


def _delegate(server: Server, iam: Any, *statements: dict[str, Any]) -> Any:
    """IAM client of a new user whose only policy holds ``statements``."""
    name = f"delegate-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="delegation", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


def _role(iam: Any, **extra: Any) -> str:
    name = f"keys-{secrets.token_hex(4)}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, **extra)
    return name


def _refused(call: Any, **params: Any) -> None:
    with pytest.raises(ClientError) as exc:
        call(**params)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def test_policy_arn_limits_what_may_be_attached(server: Server, iam: Any) -> None:
    caller = _delegate(server, iam, _allow(
        ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
        {"ArnEquals": {"iam:PolicyARN": S3_READ}}))
    role = _role(iam)
    caller.attach_role_policy(RoleName=role, PolicyArn=S3_READ)
    _refused(caller.attach_role_policy, RoleName=role, PolicyArn=ADMIN)
    caller.detach_role_policy(RoleName=role, PolicyArn=S3_READ)


def test_create_role_only_with_the_boundary(server: Server, iam: Any) -> None:
    caller = _delegate(server, iam, _allow(
        "iam:CreateRole", {"StringEquals": {"iam:PermissionsBoundary": S3_READ}}))
    _refused(caller.create_role, RoleName=f"keys-{secrets.token_hex(4)}",
             AssumeRolePolicyDocument=TRUST)
    created = caller.create_role(RoleName=f"keys-{secrets.token_hex(4)}",
                                 AssumeRolePolicyDocument=TRUST, PermissionsBoundary=S3_READ)
    assert created["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == S3_READ


def test_existing_boundary_of_the_target_role(server: Server, iam: Any) -> None:
    caller = _delegate(server, iam, _allow(
        "iam:PutRolePolicy", {"StringEquals": {"iam:PermissionsBoundary": S3_READ}}))
    bounded = _role(iam, PermissionsBoundary=S3_READ)
    caller.put_role_policy(RoleName=bounded, PolicyName="read", PolicyDocument=INLINE)
    _refused(caller.put_role_policy, RoleName=_role(iam), PolicyName="read",
             PolicyDocument=INLINE)


def test_request_tags_and_tag_keys(server: Server, iam: Any) -> None:
    caller = _delegate(
        server, iam,
        _allow("iam:TagRole", {"StringEquals": {"aws:RequestTag/team": "logs"},
                               "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
        _allow("iam:UntagRole", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
    )
    role = _role(iam)
    _refused(caller.tag_role, RoleName=role, Tags=[{"Key": "team", "Value": "other"}])
    _refused(caller.tag_role, RoleName=role,
             Tags=[{"Key": "team", "Value": "logs"}, {"Key": "owner", "Value": "x"}])
    caller.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "logs"}])
    _refused(caller.untag_role, RoleName=role, TagKeys=["owner"])
    caller.untag_role(RoleName=role, TagKeys=["team"])


def test_resource_tags_of_the_target_role(server: Server, iam: Any) -> None:
    caller = _delegate(
        server, iam,
        _allow("iam:GetRole", {"StringEquals": {"iam:ResourceTag/team": "logs"}}),
        _allow("iam:UpdateRole", {"StringEquals": {"aws:ResourceTag/team": "logs"}}),
    )
    tagged = _role(iam, Tags=[{"Key": "team", "Value": "logs"}])
    untagged = _role(iam)
    assert caller.get_role(RoleName=tagged)["Role"]["RoleName"] == tagged
    caller.update_role(RoleName=tagged, MaxSessionDuration=7200)
    _refused(caller.get_role, RoleName=untagged)
    _refused(caller.update_role, RoleName=untagged, MaxSessionDuration=7200)


def test_assume_role_sees_the_roles_tags(server: Server, iam: Any) -> None:
    name = f"tag-assumer-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [_allow(
            "sts:AssumeRole", {"StringEquals": {"aws:ResourceTag/team": "logs"}})]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    tagged = _role(iam, Tags=[{"Key": "team", "Value": "logs"}])
    sts.assume_role(RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{tagged}", RoleSessionName="ok")
    _refused(sts.assume_role, RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{_role(iam)}",
             RoleSessionName="no")


@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_trust_policy_refuses_the_bare_star_principal(iam: Any, effect: str) -> None:
    """IAM refuses ``"Principal": "*"`` in a trust policy (``{"AWS": "*"}`` is accepted)."""
    def trust(principal: Any) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": effect, "Action": "sts:AssumeRole", "Principal": principal,
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}}}]})

    for call, params, member in (
        (iam.create_role, {"RoleName": f"keys-{secrets.token_hex(4)}"},
         "AssumeRolePolicyDocument"),
        (iam.update_assume_role_policy, {"RoleName": _role(iam)}, "PolicyDocument"),
    ):
        with pytest.raises(ClientError) as exc:
            call(**params, **{member: trust("*")})
        err = exc.value.response
        assert (err["Error"]["Code"], err["Error"]["Message"],
                err["ResponseMetadata"]["HTTPStatusCode"]) == (
            "MalformedPolicyDocument",
            'AssumeRolepolicy contained an invalid principal: "STAR":"*".', 400)
        call(**params, **{member: trust({"AWS": "*"})})
