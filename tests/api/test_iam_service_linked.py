"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
GetServiceLinkedRoleDeletionStatus, and UnmodifiableEntity for the changes users may not make."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys
from .server import MANAGEMENT, ROOT_KEY, ROOT_SECRET, Server
from .test_awscli import run

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CT_ROLE = "AWSServiceRoleForCloudTrail"
CT_PATH = f"/aws-service-role/{CLOUDTRAIL}/"
CT_ARN = f"arn:aws:iam::{MANAGEMENT}:role{CT_PATH}{CT_ROLE}"
PROTECTED = (
    f"Cannot perform the operation on the protected role '{CT_ROLE}' - this role is only "
    "modifiable by AWS"
)
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
DOC = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
})


def _refusal(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def created(iam: Any) -> dict[str, Any]:
    role: dict[str, Any] = iam.create_service_linked_role(
        AWSServiceName=CLOUDTRAIL, Description="Lets CloudTrail act for the organization"
    )["Role"]
    iam.create_instance_profile(InstanceProfileName="slr-profile")
    return role


def test_created_role_has_aws_name_path_and_trust(iam: Any, created: dict[str, Any]) -> None:
    assert (created["RoleName"], created["Path"], created["Arn"]) == (CT_ROLE, CT_PATH, CT_ARN)
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", created["RoleId"])
    assert created["Description"] == "Lets CloudTrail act for the organization"
    assert created["MaxSessionDuration"] == 3600
    assert created["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
                       "Action": "sts:AssumeRole"}],
    }
    assert iam.get_role(RoleName=CT_ROLE)["Role"]["Arn"] == CT_ARN
    listed = iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]
    assert [r["RoleName"] for r in listed] == [CT_ROLE]
    # CloudTrailServiceRolePolicy is not in trailgate's managed-policy data: nothing attached
    assert iam.list_attached_role_policies(RoleName=CT_ROLE)["AttachedPolicies"] == []


def test_creating_it_again_is_refused(iam: Any, created: dict[str, Any]) -> None:
    assert _refusal(iam.create_service_linked_role, AWSServiceName=CLOUDTRAIL) == (
        "InvalidInput",
        f"Service role name {CT_ROLE} has been taken in this account, please try a different "
        "suffix.",
        400,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"AWSServiceName": "nosuch.amazonaws.com"},
         "Unrecognized service name nosuch.amazonaws.com."),
        ({"AWSServiceName": "organizations.amazonaws.com", "CustomSuffix": "x"},
         "Custom suffix is not allowed for organizations.amazonaws.com"),
    ],
)
def test_invalid_requests(iam: Any, params: dict[str, str], message: str) -> None:
    assert _refusal(iam.create_service_linked_role, **params) == ("InvalidInput", message, 400)


def test_custom_suffix_where_the_service_allows_one(iam: Any) -> None:
    role = iam.create_service_linked_role(
        AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="fleet"
    )["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling_fleet"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"


PROTECTED_CALLS = [
    ("delete_role", {}),
    ("update_assume_role_policy", {"PolicyDocument": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]})}),
    ("put_role_policy", {"PolicyName": "p", "PolicyDocument": DOC}),
    ("delete_role_policy", {"PolicyName": "p"}),
    ("attach_role_policy", {"PolicyArn": S3_READ}),
    ("detach_role_policy", {"PolicyArn": S3_READ}),
    ("put_role_permissions_boundary", {"PermissionsBoundary": S3_READ}),
    ("delete_role_permissions_boundary", {}),
    ("add_role_to_instance_profile", {"InstanceProfileName": "slr-profile"}),
]


@pytest.mark.parametrize(("operation", "params"), PROTECTED_CALLS)
def test_users_cannot_change_a_service_linked_role(
    iam: Any, created: dict[str, Any], operation: str, params: dict[str, Any]
) -> None:
    assert _refusal(getattr(iam, operation), RoleName=CT_ROLE, **params) == (
        "UnmodifiableEntity", PROTECTED, 400
    )


def test_session_duration_is_unmodifiable_but_description_and_tags_are_not(
    iam: Any, created: dict[str, Any]
) -> None:
    assert _refusal(iam.update_role, RoleName=CT_ROLE, MaxSessionDuration=7200) == (
        "UnmodifiableEntity",
        f"{CT_ROLE} is an AWS service linked role, max session duration cannot be changed.",
        400,
    )
    iam.update_role(RoleName=CT_ROLE, Description="new words")
    iam.tag_role(RoleName=CT_ROLE, Tags=[{"Key": "team", "Value": "audit"}])
    role = iam.get_role(RoleName=CT_ROLE)["Role"]
    assert role["Description"] == "new words"
    assert role["Tags"] == [{"Key": "team", "Value": "audit"}]


def test_create_is_authorized_on_the_role_with_the_service_name_key(
    server: Server, iam: Any
) -> None:
    iam.create_user(UserName="slr-maker")
    iam.put_user_policy(UserName="slr-maker", PolicyName="slr", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
            "Resource": "arn:aws:iam::*:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}},
        }],
    }))
    key = iam.create_access_key(UserName="slr-maker")["AccessKey"]
    maker = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    client: Any = server.client("iam", maker.key, maker.secret)
    client.create_service_linked_role(
        AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="authz"
    )
    service = "organizations.amazonaws.com"
    code, message, status = _refusal(client.create_service_linked_role, AWSServiceName=service)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{MANAGEMENT}:user/slr-maker is not authorized to perform: "
        "iam:CreateServiceLinkedRole on resource: "
        f"arn:aws:iam::{MANAGEMENT}:role/aws-service-role/{service}/"
        "AWSServiceRoleForOrganizations because no identity-based policy allows the "
        "iam:CreateServiceLinkedRole action"
    )


def test_delete_and_deletion_status(server: Server, iam: Any, tmp_path: Path) -> None:
    iam.create_service_linked_role(AWSServiceName="organizations.amazonaws.com")
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForOrganizations")[
        "DeletionTaskId"
    ]
    assert re.fullmatch(
        r"task/aws-service-role/organizations\.amazonaws\.com/AWSServiceRoleForOrganizations/"
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        task,
    )
    assert _refusal(iam.get_role, RoleName="AWSServiceRoleForOrganizations")[0] == "NoSuchEntity"
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == (
        "SUCCEEDED"
    )
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {ROOT_KEY}\naws_secret_access_key = {ROOT_SECRET}\n"
    )
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    out = run(server, tmp_path, "iam", "get-service-linked-role-deletion-status",
              "--deletion-task-id", task)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"Status": "SUCCEEDED"}
    events = server.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DeleteServiceLinkedRole"}
    ])["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventSource"] == "iam.amazonaws.com"
    assert record["requestParameters"] == {"roleName": "AWSServiceRoleForOrganizations"}
    assert record["responseElements"] == {"deletionTaskId": task}


@pytest.mark.parametrize(
    ("operation", "params", "refusal"),
    [
        ("delete_service_linked_role", {"RoleName": "NoSuchRole"},
         ("NoSuchEntity", "The role with name NoSuchRole cannot be found.", 404)),
        ("get_service_linked_role_deletion_status", {"DeletionTaskId": "nonsense"},
         ("InvalidInput", "Invalid deletion task id: nonsense", 400)),
        ("get_service_linked_role_deletion_status",
         {"DeletionTaskId": "task/aws-service-role/x.amazonaws.com/R/1"},
         ("NoSuchEntity",
          "Deletion task task/aws-service-role/x.amazonaws.com/R/1 cannot be found.", 404)),
    ],
)
def test_delete_refusals(
    iam: Any, operation: str, params: dict[str, str], refusal: tuple[str, str, int]
) -> None:
    assert _refusal(getattr(iam, operation), **params) == refusal


def test_an_ordinary_role_is_not_deleted_as_service_linked(iam: Any) -> None:
    iam.create_role(RoleName="OrdinaryRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))
    assert _refusal(iam.delete_service_linked_role, RoleName="OrdinaryRole") == (
        "InvalidInput", "Role OrdinaryRole is not a service-linked role.", 400
    )
    iam.delete_role(RoleName="OrdinaryRole")
