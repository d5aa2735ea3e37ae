"""Tags on the organization's resources through boto3 (the session's scenario server):
TagResource / UntagResource / ListTagsForResource on accounts, OUs, the root and policies,
tags given at creation, and AWS's refusals."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import World
from .server import MANAGEMENT

NOT_FOUND = ("TargetNotFoundException", "We can't find a root, OU, account, or policy with the "
             "TargetId that you specified.")
SCP_TEXT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]})


@pytest.fixture(scope="module")
def org(world: World) -> Any:
    return world.server.client("organizations")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, str | None]:
    response = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response.get("Reason")


def _tags(org: Any, resource: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=resource)["Tags"]}


def test_tag_untag_and_list_every_kind_of_resource(org: Any) -> None:
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name=f"tags-{secrets.token_hex(3)}")[
        "OrganizationalUnit"]["Id"]
    policy = org.create_policy(Name=f"tags-{secrets.token_hex(3)}", Description="",
                               Type="SERVICE_CONTROL_POLICY", Content=SCP_TEXT)[
        "Policy"]["PolicySummary"]["Id"]
    try:
        for resource in (MANAGEMENT, ou, root, policy):
            assert org.list_tags_for_resource(ResourceId=resource)["Tags"] == []
            org.tag_resource(ResourceId=resource, Tags=[{"Key": "team", "Value": "logs"},
                                                        {"Key": "empty", "Value": ""}])
            org.tag_resource(ResourceId=resource, Tags=[{"Key": "team", "Value": "security"}])
            assert _tags(org, resource) == {"team": "security", "empty": ""}
            org.untag_resource(ResourceId=resource, TagKeys=["empty", "never-set"])
            assert _tags(org, resource) == {"team": "security"}
            org.untag_resource(ResourceId=resource, TagKeys=["team"])
            assert org.list_tags_for_resource(ResourceId=resource)["Tags"] == []
    finally:
        org.delete_organizational_unit(OrganizationalUnitId=ou)
        org.delete_policy(PolicyId=policy)
    for resource in (ou, policy):  # deleted with their tags
        with pytest.raises(ClientError) as exc:
            org.list_tags_for_resource(ResourceId=resource)
        assert _error(exc)[:2] == NOT_FOUND


def test_tags_given_at_creation(org: Any) -> None:
    name = f"tagged-{secrets.token_hex(4)}"
    status = org.create_account(Email=f"{name}@example.com", AccountName=name,
                                Tags=[{"Key": "env", "Value": "prod"}])["CreateAccountStatus"]
    account = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"]["AccountId"]
    assert _tags(org, account) == {"env": "prod"}
    assert "Tags" not in org.describe_account(AccountId=account)["Account"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name=name,
                                        Tags=[{"Key": "k", "Value": "v"}])["OrganizationalUnit"]
    assert _tags(org, ou["Id"]) == {"k": "v"}
    policy = org.create_policy(Name=name, Description="", Type="SERVICE_CONTROL_POLICY",
                               Content=SCP_TEXT, Tags=[{"Key": "p", "Value": "1"}])["Policy"]
    assert _tags(org, policy["PolicySummary"]["Id"]) == {"p": "1"}
    org.delete_organizational_unit(OrganizationalUnitId=ou["Id"])
    org.delete_policy(PolicyId=policy["PolicySummary"]["Id"])


def test_tag_refusals(world: World, org: Any) -> None:
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId="999999999999", Tags=[{"Key": "a", "Value": "b"}])
    assert _error(exc)[:2] == NOT_FOUND
    with pytest.raises(ClientError) as exc:
        org.list_tags_for_resource(ResourceId="ou-zzzz-12345678")
    assert _error(exc)[:2] == NOT_FOUND
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId=MANAGEMENT, Tags=[{"Key": "a", "Value": "1"},
                                                      {"Key": "a", "Value": "2"}])
    assert (_error(exc)[0], _error(exc)[2]) == ("InvalidInputException", "DUPLICATE_TAG_KEY")
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId=MANAGEMENT, Tags=[{"Key": "aws:x", "Value": "1"}])
    assert (_error(exc)[0], _error(exc)[2]) == ("InvalidInputException",
                                                "INVALID_SYSTEM_TAGS_PARAMETER")
    with pytest.raises(ClientError) as exc:
        org.tag_resource(ResourceId=MANAGEMENT, Tags=[
            {"Key": f"k{i}", "Value": ""} for i in range(51)])
    assert (_error(exc)[0], _error(exc)[2]) == ("ConstraintViolationException",
                                                "MAX_TAG_LIMIT_EXCEEDED")
    assert org.list_tags_for_resource(ResourceId=MANAGEMENT)["Tags"] == []
    member = world.accounts["D"]
    session = world.assume(world.admin, f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                           "tags")
    with pytest.raises(ClientError) as exc:
        world.client("organizations", session).list_tags_for_resource(ResourceId=member)
    assert _error(exc)[:2] == ("AccessDeniedException",
                               "You don't have permissions to access this resource.")
