"""The AccessDenied wording when a service control policy refuses an IAM call: AWS names the
policy type that denied ("with an explicit deny in a service control policy", "because no
service control policy allows the ACTION action").  On a server of its own: enabling SCPs
changes every member account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import ACCESS_ROLE, access_role_credentials, client_as, new_member
from .server import Server, start


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("trailgate-scp-denials")))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def setup(srv: Server) -> tuple[Any, str, str, Any]:
    """(organizations client, root id, member account, IAM client of the member's admin)."""
    org = srv.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account = new_member(org, "deny-member")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member_iam = client_as(srv, "iam", access_role_credentials(srv, account, "scp"))
    return org, root, account, member_iam


def _scp(org: Any, name: str, statements: list[dict[str, Any]]) -> str:
    content = json.dumps({"Version": "2012-10-17", "Statement": statements})
    policy = org.create_policy(Name=name, Description=name, Content=content,
                               Type="SERVICE_CONTROL_POLICY")
    return str(policy["Policy"]["PolicySummary"]["Id"])


def _message(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_explicit_deny_in_a_service_control_policy(setup: tuple[Any, str, str, Any]) -> None:
    org, _, account, member_iam = setup
    deny = _scp(org, "deny-create-user", [
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}])
    org.attach_policy(PolicyId=deny, TargetId=account)
    try:
        with pytest.raises(ClientError) as exc:
            member_iam.create_user(UserName="blocked")
    finally:
        org.detach_policy(PolicyId=deny, TargetId=account)
    arn = org.describe_policy(PolicyId=deny)["Policy"]["PolicySummary"]["Arn"]
    assert _message(exc) == (
        "AccessDenied",
        f"User: arn:aws:sts::{account}:assumed-role/{ACCESS_ROLE}/scp is not authorized to "
        f"perform: iam:CreateUser on resource: arn:aws:iam::{account}:user/blocked with an "
        f"explicit deny in a service control policy: {arn}",
        403,
    )


def test_no_service_control_policy_allows(setup: tuple[Any, str, str, Any]) -> None:
    org, _, account, member_iam = setup
    reads = _scp(org, "only-gets", [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}])
    org.attach_policy(PolicyId=reads, TargetId=account)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=account)
    try:
        member_iam.get_role(RoleName=ACCESS_ROLE)
        with pytest.raises(ClientError) as exc:
            member_iam.list_roles()
    finally:
        org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=account)
        org.detach_policy(PolicyId=reads, TargetId=account)
    assert _message(exc) == (
        "AccessDenied",
        f"User: arn:aws:sts::{account}:assumed-role/{ACCESS_ROLE}/scp is not authorized to "
        f"perform: iam:ListRoles on resource: arn:aws:iam::{account}:role/ because no service "
        "control policy allows the iam:ListRoles action",
        403,
    )
