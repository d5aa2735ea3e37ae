"""Organizations through boto3 against one real trailgate server (spec section 9): the
organization, account creation and its status, listings with paging, removal, the
OrganizationAccountAccessRole of created accounts, and who may call what.

The ``world`` fixture creates the organization (and accounts D, E, R); the tests here create
and remove accounts of their own.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT

ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")
REQUEST_ID = re.compile(r"car-[a-z0-9]{8,32}")
ACCESS_ROLE = "OrganizationAccountAccessRole"
NO_PERMISSION = ("AccessDeniedException", "You don't have permissions to access this resource.", 400)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def uid(prefix: str) -> str:
    return f"tgorg-{prefix}-{secrets.token_hex(4)}"


def final_status(org: Any, request_id: str) -> dict[str, Any]:
    """DescribeCreateAccountStatus until the request is no longer IN_PROGRESS."""
    for _ in range(50):
        status: dict[str, Any] = org.describe_create_account_status(
            CreateAccountRequestId=request_id
        )["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            return status
    raise AssertionError(f"{request_id} still IN_PROGRESS")


def create_account(org: Any, prefix: str) -> tuple[str, str, dict[str, Any]]:
    """(account id, email, final status) of a new member account."""
    email = f"{uid(prefix)}@example.com"
    status = org.create_account(Email=email, AccountName=uid(prefix))["CreateAccountStatus"]
    done = final_status(org, status["Id"])
    assert done["State"] == "SUCCEEDED", done
    return done["AccountId"], email, done


def all_accounts(org: Any, method: str = "list_accounts", **kwargs: Any) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = getattr(org, method)(**kwargs, **({"NextToken": token} if token else {}))
        accounts += page["Accounts"]
        token = page.get("NextToken")
        if not token:
            return accounts


@pytest.fixture(scope="module")
def org(world: World) -> Any:
    """Organizations as the management account's root user (the organization exists)."""
    return world.server.client("organizations")


@pytest.fixture(scope="module")
def member(org: Any) -> tuple[str, str]:
    """(account id, email) of an account created for this module."""
    account, email, _ = create_account(org, "member")
    return account, email


def member_session(world: World, account: str) -> Keys:
    return world.assume(world.admin, f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", "orgtest")


# -- the organization --------------------------------------------------------------------------


def test_create_organization_twice(org: Any) -> None:
    with pytest.raises(ClientError) as exc:
        org.create_organization(FeatureSet="ALL")
    code, message, status = error_of(exc)
    assert (code, status) == ("AlreadyInOrganizationException", 400)
    assert "already a member of an organization" in message


def test_describe_organization(org: Any) -> None:
    organization = org.describe_organization()["Organization"]
    org_id = organization["Id"]
    assert ORG_ID.fullmatch(org_id)
    assert organization["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:organization/{org_id}"
    assert organization["FeatureSet"] == "ALL"
    assert organization["MasterAccountId"] == MANAGEMENT
    assert organization["MasterAccountArn"] == (
        f"arn:aws:organizations::{MANAGEMENT}:account/{org_id}/{MANAGEMENT}"
    )
    assert "@" in organization["MasterAccountEmail"]
    assert {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} in organization[
        "AvailablePolicyTypes"
    ]


def test_member_account_sees_the_same_organization(world: World, org: Any,
                                                   member: tuple[str, str]) -> None:
    session = member_session(world, member[0])
    seen = world.client("organizations", session).describe_organization()["Organization"]
    assert seen["Id"] == org.describe_organization()["Organization"]["Id"]
    assert seen["MasterAccountId"] == MANAGEMENT


# -- creating accounts -------------------------------------------------------------------------


def test_create_account_status(org: Any) -> None:
    name = uid("acct")
    email = f"{name}@example.com"
    status = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
    assert REQUEST_ID.fullmatch(status["Id"])
    assert re.fullmatch(r"car-[0-9a-f]{32}", status["Id"])  # AWS's ids: 32 hex digits
    assert status["AccountName"] == name
    assert status["State"] == "IN_PROGRESS"  # asynchronous in AWS: the outcome comes later
    assert set(status) == {"Id", "AccountName", "State", "RequestedTimestamp"}
    assert isinstance(status["RequestedTimestamp"], datetime)
    done = final_status(org, status["Id"])
    assert done["State"] == "SUCCEEDED"
    assert done["Id"] == status["Id"] and done["AccountName"] == name
    assert re.fullmatch(r"\d{12}", done["AccountId"])
    assert done["AccountId"] != MANAGEMENT
    assert isinstance(done["CompletedTimestamp"], datetime)
    assert "FailureReason" not in done
    account = org.describe_account(AccountId=done["AccountId"])["Account"]
    assert (account["Email"], account["Name"]) == (email, name)


def test_create_account_with_invalid_email(org: Any) -> None:
    """Email has a model pattern that Organizations checks before accepting the request, so
    no CreateAccountStatus is created."""
    name = uid("bademail")
    before = len(all_accounts(org))
    with pytest.raises(ClientError) as exc:
        org.create_account(Email=f"{name}.example.com", AccountName=name)
    assert error_of(exc) == (
        "InvalidInputException", "You provided a value that does not match the required pattern.",
        400,
    )
    assert exc.value.response.get("Reason") == "INVALID_PATTERN"
    assert len(all_accounts(org)) == before


def test_create_account_with_an_email_in_use(org: Any, member: tuple[str, str]) -> None:
    name = uid("dupemail")
    status = org.create_account(Email=member[1], AccountName=name)["CreateAccountStatus"]
    assert (status["State"], "FailureReason" in status) == ("IN_PROGRESS", False)
    done = final_status(org, status["Id"])
    assert (done["State"], done["FailureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS")
    assert "AccountId" not in done
    assert isinstance(done["CompletedTimestamp"], datetime)  # as AWS reports a failure


def test_unknown_create_account_request(org: Any) -> None:
    with pytest.raises(ClientError) as exc:
        org.describe_create_account_status(CreateAccountRequestId="car-" + "0" * 12)
    assert error_of(exc)[0::2] == ("CreateAccountStatusNotFoundException", 400)


def test_access_role_of_a_created_account(world: World, member: tuple[str, str]) -> None:
    session = member_session(world, member[0])
    iam = world.client("iam", session)
    role = iam.get_role(RoleName=ACCESS_ROLE)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{member[0]}:role/{ACCESS_ROLE}"
    assert role["Path"] == "/"
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}
    # AWS gives it an inline policy named AdministratorAccess, not the managed policy
    assert iam.list_attached_role_policies(RoleName=ACCESS_ROLE)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=ACCESS_ROLE)["PolicyNames"] == ["AdministratorAccess"]
    inline = iam.get_role_policy(RoleName=ACCESS_ROLE, PolicyName="AdministratorAccess")
    assert inline["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]
    # the session really is an administrator of the member account
    name = uid("made-by-admin")
    iam.create_user(UserName=name)
    assert iam.get_user(UserName=name)["User"]["Arn"] == (
        f"arn:aws:iam::{member[0]}:user/{name}"
    )


def test_create_account_with_a_custom_role_name(world: World, org: Any) -> None:
    role = uid("Access")
    email = f"{uid('custom')}@example.com"
    status = org.create_account(Email=email, AccountName=uid("custom"), RoleName=role)[
        "CreateAccountStatus"]
    account = final_status(org, status["Id"])["AccountId"]
    session = world.assume(world.admin, f"arn:aws:iam::{account}:role/{role}", "custom")
    assert world.client("sts", session).get_caller_identity()["Account"] == account


def test_member_account_cannot_create_accounts(world: World, member: tuple[str, str]) -> None:
    session = member_session(world, member[0])
    member_org = world.client("organizations", session)
    with pytest.raises(ClientError) as exc:
        member_org.create_account(Email=f"{uid('nope')}@example.com", AccountName="nope")
    assert error_of(exc) == NO_PERMISSION
    with pytest.raises(ClientError) as exc:
        member_org.list_accounts()
    assert error_of(exc) == NO_PERMISSION


def test_management_user_without_permission(world: World) -> None:
    iam = world.server.client("iam")
    name = uid("noorg")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_org = world.server.client("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        user_org.list_accounts()
    assert error_of(exc) == NO_PERMISSION


def test_management_user_with_permission(world: World) -> None:
    iam = world.server.client("iam")
    name = uid("orgreader")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="org-read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["organizations:Describe*",
                                                     "organizations:List*"], "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_org = world.server.client("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    assert MANAGEMENT in [a["Id"] for a in all_accounts(user_org)]
    assert user_org.describe_organization()["Organization"]["MasterAccountId"] == MANAGEMENT


# -- listing and describing --------------------------------------------------------------------


def test_list_accounts_paging(org: Any, member: tuple[str, str]) -> None:
    extra, _, _ = create_account(org, "paging")
    organization = org.describe_organization()["Organization"]
    first = org.list_accounts(MaxResults=1)
    assert len(first["Accounts"]) == 1 and first["NextToken"]
    accounts = all_accounts(org, MaxResults=2)
    ids = [a["Id"] for a in accounts]
    assert len(ids) == len(set(ids))  # no account twice across pages
    assert {MANAGEMENT, member[0], extra} <= set(ids)
    assert ids == [a["Id"] for a in all_accounts(org, MaxResults=20)]
    paginated = [a["Id"] for page in org.get_paginator("list_accounts").paginate(
        PaginationConfig={"PageSize": 3}) for a in page["Accounts"]]
    assert paginated == ids
    mine = next(a for a in accounts if a["Id"] == member[0])
    assert mine["Arn"] == (
        f"arn:aws:organizations::{MANAGEMENT}:account/{organization['Id']}/{member[0]}"
    )
    assert (mine["Email"], mine["Status"], mine["JoinedMethod"]) == (
        member[1], "ACTIVE", "CREATED"
    )
    assert isinstance(mine["JoinedTimestamp"], datetime)


def test_a_next_token_not_handed_out_is_refused(org: Any) -> None:
    with pytest.raises(ClientError) as exc:
        org.list_accounts(NextToken="not-a-token")
    assert error_of(exc)[0::2] == ("InvalidInputException", 400)
    assert exc.value.response.get("Reason") == "INVALID_NEXT_TOKEN"


def test_roots_and_accounts_for_parent(org: Any, member: tuple[str, str]) -> None:
    organization = org.describe_organization()["Organization"]
    roots = org.list_roots()["Roots"]
    assert len(roots) == 1
    root = roots[0]
    assert ROOT_ID.fullmatch(root["Id"])
    assert root["Arn"] == (
        f"arn:aws:organizations::{MANAGEMENT}:root/{organization['Id']}/{root['Id']}"
    )
    assert root["Name"] == "Root"
    under_root = all_accounts(org, "list_accounts_for_parent", ParentId=root["Id"], MaxResults=2)
    ids = [a["Id"] for a in under_root]
    assert member[0] in ids and MANAGEMENT in ids
    assert len(ids) == len(set(ids))
    with pytest.raises(ClientError) as exc:
        org.list_accounts_for_parent(ParentId="r-" + ("zz99" if root["Id"] != "r-zz99" else "yy88"))
    assert error_of(exc)[0::2] == ("ParentNotFoundException", 400)


def test_hierarchy_of_one_root(org: Any, member: tuple[str, str]) -> None:
    """No organizational units here: every account's parent is the root."""
    root = org.list_roots()["Roots"][0]["Id"]
    assert org.list_parents(ChildId=member[0])["Parents"] == [{"Id": root, "Type": "ROOT"}]
    assert org.list_parents(ChildId=MANAGEMENT)["Parents"] == [{"Id": root, "Type": "ROOT"}]
    children = [c for page in org.get_paginator("list_children").paginate(
        ParentId=root, ChildType="ACCOUNT", PaginationConfig={"PageSize": 2})
        for c in page["Children"]]
    assert {"Id": member[0], "Type": "ACCOUNT"} in children
    assert {"Id": MANAGEMENT, "Type": "ACCOUNT"} in children
    assert all(c["Type"] == "ACCOUNT" for c in children)
    assert org.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT")["Children"] == []
    assert org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"] == []
    with pytest.raises(ClientError) as exc:
        org.list_parents(ChildId="999999999999")
    assert error_of(exc)[0::2] == ("ChildNotFoundException", 400)
    with pytest.raises(ClientError) as exc:
        org.list_children(ParentId="r-" + ("zz99" if root != "r-zz99" else "yy88"),
                          ChildType="ACCOUNT")
    assert error_of(exc)[0::2] == ("ParentNotFoundException", 400)


def test_list_create_account_status(org: Any, member: tuple[str, str]) -> None:
    statuses = [s for page in org.get_paginator("list_create_account_status").paginate()
                for s in page["CreateAccountStatuses"]]
    assert any(s.get("AccountId") == member[0] and s["State"] == "SUCCEEDED" for s in statuses)
    failed = org.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert all(s["State"] == "FAILED" for s in failed)


def test_trusted_service_access(org: Any) -> None:
    principal = "cloudtrail.amazonaws.com"
    org.enable_aws_service_access(ServicePrincipal=principal)
    org.enable_aws_service_access(ServicePrincipal=principal)  # again: no change
    enabled = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [e["ServicePrincipal"] for e in enabled] == [principal]
    assert isinstance(enabled[0]["DateEnabled"], datetime)
    org.disable_aws_service_access(ServicePrincipal=principal)
    assert org.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []


def test_describe_account(org: Any, member: tuple[str, str]) -> None:
    organization = org.describe_organization()["Organization"]
    account = org.describe_account(AccountId=member[0])["Account"]
    assert account["Id"] == member[0]
    assert account["Arn"] == (
        f"arn:aws:organizations::{MANAGEMENT}:account/{organization['Id']}/{member[0]}"
    )
    assert account["Email"] == member[1]
    assert (account["Status"], account["JoinedMethod"]) == ("ACTIVE", "CREATED")
    management = org.describe_account(AccountId=MANAGEMENT)["Account"]
    assert management["Email"] == organization["MasterAccountEmail"]
    assert management["JoinedMethod"] == "INVITED"  # as AWS lists the management account
    absent = "9" * 12 if member[0] != "9" * 12 else "8" * 12
    with pytest.raises(ClientError) as exc:
        org.describe_account(AccountId=absent)
    assert error_of(exc) == (
        "AccountNotFoundException", "You specified an account that doesn't exist.", 400
    )


# -- removing accounts -------------------------------------------------------------------------


def test_remove_account_from_organization(world: World, org: Any) -> None:
    account, _, _ = create_account(org, "leaver")
    session = member_session(world, account)  # while still a member
    org.remove_account_from_organization(AccountId=account)
    assert account not in [a["Id"] for a in all_accounts(org)]
    with pytest.raises(ClientError) as exc:
        org.describe_account(AccountId=account)
    assert error_of(exc)[0::2] == ("AccountNotFoundException", 400)
    with pytest.raises(ClientError) as exc:
        world.client("organizations", session).describe_organization()
    assert error_of(exc)[0::2] == ("AWSOrganizationsNotInUseException", 400)
    with pytest.raises(ClientError) as exc:
        org.remove_account_from_organization(AccountId=account)
    assert error_of(exc)[0::2] == ("AccountNotFoundException", 400)


def test_management_account_cannot_be_removed(org: Any) -> None:
    with pytest.raises(ClientError) as exc:
        org.remove_account_from_organization(AccountId=MANAGEMENT)
    assert error_of(exc)[0::2] == ("MasterCannotLeaveOrganizationException", 400)
    assert MANAGEMENT in [a["Id"] for a in all_accounts(org)]
