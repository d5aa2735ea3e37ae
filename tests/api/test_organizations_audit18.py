"""Organizations audit (round 18), through boto3 on a server of this module's own: the words
AWS answers with for an SCP over the size limit, a sixth SCP on one target, detaching a
target's last SCP and deleting an organization that still has members, plus the errors of
unknown ids that were already AWS's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import new_member
from .server import Server

SCP = "SERVICE_CONTROL_POLICY"
DENY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]})


@pytest.fixture(scope="module")
def org(own_server: Server) -> Any:
    client = own_server.client("organizations")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    client.enable_policy_type(RootId=root, PolicyType=SCP)
    return client


@pytest.fixture(scope="module")
def member(org: Any) -> str:
    return new_member(org, "audit18")


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int, str | None]:
    response = exc.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"], response.get("Reason"))


def _new_scp(org: Any, name: str) -> str:
    policy = org.create_policy(Content=DENY, Description="", Name=name, Type=SCP)
    return str(policy["Policy"]["PolicySummary"]["Id"])


def test_a_policy_over_5120_characters_is_refused_in_aws_words(org: Any) -> None:
    padded = DENY[:-1] + " " * (5121 - len(DENY)) + "}"
    assert len(padded) == 5121
    with pytest.raises(ClientError) as exc:
        org.create_policy(Content=padded, Description="", Name="too-big", Type=SCP)
    assert _refusal(exc) == ("ConstraintViolationException",
                             "You have exceeded the maximum policy size.", 400,
                             "POLICY_CONTENT_LIMIT_EXCEEDED")
    exact = DENY[:-1] + " " * (5120 - len(DENY)) + "}"  # 5120 characters: accepted
    policy = org.create_policy(Content=exact, Description="", Name="just-fits", Type=SCP)
    policy_id = policy["Policy"]["PolicySummary"]["Id"]
    with pytest.raises(ClientError) as exc:
        org.update_policy(PolicyId=policy_id, Content=padded)
    assert _refusal(exc)[1] == "You have exceeded the maximum policy size."
    org.delete_policy(PolicyId=policy_id)


def test_a_sixth_scp_on_one_target_is_refused_in_aws_words(org: Any, member: str) -> None:
    made = [_new_scp(org, f"six-{i}") for i in range(5)]
    for policy in made[:4]:  # with FullAWSAccess: five
        org.attach_policy(PolicyId=policy, TargetId=member)
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=made[4], TargetId=member)
    assert _refusal(exc) == ("ConstraintViolationException",
                             "You have attached the maximum number of policies to the specified "
                             "target.", 400, "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    for policy in made[:4]:
        org.detach_policy(PolicyId=policy, TargetId=member)
    for policy in made:
        org.delete_policy(PolicyId=policy)


def test_the_last_scp_of_a_target_stays_in_aws_words(org: Any, member: str) -> None:
    with pytest.raises(ClientError) as exc:
        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    assert _refusal(exc) == ("ConstraintViolationException",
                             "You cannot remove the last policy attached to the specified "
                             "target. You must have at least one attached at all times.", 400,
                             "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    assert [p["Id"] for p in org.list_policies_for_target(
        TargetId=member, Filter=SCP)["Policies"]] == ["p-FullAWSAccess"]


def test_an_organization_with_members_is_not_deleted(org: Any, member: str) -> None:
    with pytest.raises(ClientError) as exc:
        org.delete_organization()
    assert _refusal(exc) == ("OrganizationNotEmptyException",
                             "The organization isn't empty. To delete an organization, you must "
                             "first remove all accounts except the management account.", 400,
                             None)
    assert org.describe_account(AccountId=member)["Account"]["Status"] == "ACTIVE"


def test_unknown_ids_already_answered_as_aws_does(org: Any, member: str) -> None:
    """Already right before this audit; pinned here with their exact words."""
    unknown = "999999999999" if member != "999999999999" else "888888888888"
    with pytest.raises(ClientError) as exc:
        org.describe_account(AccountId=unknown)
    assert _refusal(exc) == ("AccountNotFoundException",
                             "You specified an account that doesn't exist.", 400, None)
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="audit18")["OrganizationalUnit"]
    with pytest.raises(ClientError) as exc:
        org.move_account(AccountId=unknown, SourceParentId=root, DestinationParentId=ou["Id"])
    assert _refusal(exc)[0::2] == ("AccountNotFoundException", 400)
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId=root, Name="audit18")
    assert _refusal(exc) == ("DuplicateOrganizationalUnitException",
                             "An OU with the same name already exists.", 400, None)
    with pytest.raises(ClientError) as exc:
        org.describe_create_account_status(
            CreateAccountRequestId="car-0123456789abcdef0123456789abcdef")
    assert _refusal(exc)[0::2] == ("CreateAccountStatusNotFoundException", 400)
    with pytest.raises(ClientError) as exc:
        org.enable_policy_type(RootId=root, PolicyType=SCP)
    assert _refusal(exc) == ("PolicyTypeAlreadyEnabledException",
                             "The specified policy type is already enabled.", 400, None)
    org.delete_organizational_unit(OrganizationalUnitId=ou["Id"])
