"""Organizations audit (round 16), through boto3 on a server of this module's own: the
InvalidInputException reasons of enum values, CreateAccount's reserved role names, the email
of an account that left the organization, and trusted access before a delegated
administrator."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .org_helpers import new_member
from .server import REGION, ROOT_KEY, ROOT_SECRET, Server

SERVICE = "securityhub.amazonaws.com"


@pytest.fixture(scope="module")
def org(own_server: Server) -> Any:
    client = own_server.client("organizations")
    client.create_organization(FeatureSet="ALL")
    return client


@pytest.fixture(scope="module")
def unchecked_org(own_server: Server, org: Any) -> Any:
    """Organizations without botocore's client-side checks, so the server sees the value."""
    return boto3.client(
        "organizations", endpoint_url=own_server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str | None]:
    response = exc.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response.get("Reason"))


def _statuses(org: Any) -> list[dict[str, Any]]:
    return [s for page in org.get_paginator("list_create_account_status").paginate()
            for s in page["CreateAccountStatuses"]]


def _final(org: Any, request_id: str) -> dict[str, Any]:
    status: dict[str, Any] = org.describe_create_account_status(
        CreateAccountRequestId=request_id)["CreateAccountStatus"]
    return status


@pytest.mark.parametrize(("call", "params"), [
    ("list_children", {"ParentId": "r-abcd", "ChildType": "FOLDER"}),
    ("list_create_account_status", {"States": ["DONE"]}),
    ("create_account", {"Email": "enum@example.com", "AccountName": "enum",
                        "IamUserAccessToBilling": "MAYBE"}),
])
def test_a_value_outside_an_enum_is_invalid_enum(unchecked_org: Any, call: str,
                                                 params: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(unchecked_org, call)(**params)
    assert _refusal(exc) == ("InvalidInputException", 400, "INVALID_ENUM")


@pytest.mark.parametrize(("call", "params"), [
    ("list_policies", {"Filter": "FIREWALL_POLICY"}),
    ("enable_policy_type", {"RootId": "r-abcd", "PolicyType": "scp"}),
])
def test_a_policy_type_outside_the_enum_is_invalid_enum_policy_type(
        unchecked_org: Any, call: str, params: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(unchecked_org, call)(**params)
    assert _refusal(exc) == ("InvalidInputException", 400, "INVALID_ENUM_POLICY_TYPE")


def test_create_account_refuses_a_service_linked_role_name(org: Any) -> None:
    before = len(_statuses(org))
    accounts = len(org.list_accounts()["Accounts"])
    with pytest.raises(ClientError) as exc:
        org.create_account(Email="reserved@example.com", AccountName="reserved",
                           RoleName="AWSServiceRoleForAccess")
    assert _refusal(exc) == ("InvalidInputException", 400, "INVALID_ROLE_NAME")
    assert len(_statuses(org)) == before  # refused before any request was made
    assert len(org.list_accounts()["Accounts"]) == accounts
    done = org.create_account(Email="reserved@example.com", AccountName="reserved",
                              RoleName="AccessForAWSServiceRole")["CreateAccountStatus"]
    assert _final(org, done["Id"])["State"] == "SUCCEEDED"  # the prefix only


def test_the_email_of_a_removed_account_stays_taken(org: Any) -> None:
    account = new_member(org, "departed")
    org.remove_account_from_organization(AccountId=account)
    again = org.create_account(Email="Departed@Example.com", AccountName="again")[
        "CreateAccountStatus"]
    assert again["State"] == "IN_PROGRESS"
    done = _final(org, again["Id"])
    assert (done["State"], done.get("FailureReason"), "AccountId" in done) == (
        "FAILED", "EMAIL_ALREADY_EXISTS", False)
    assert "Departed@Example.com" not in [a["Email"] for a in org.list_accounts()["Accounts"]]


def test_a_delegated_administrator_needs_trusted_access_first(org: Any) -> None:
    account = new_member(org, "delegate")
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    assert _refusal(exc) == ("ConstraintViolationException", 400, "SERVICE_ACCESS_NOT_ENABLED")
    assert org.list_delegated_administrators()["DelegatedAdministrators"] == []
    org.enable_aws_service_access(ServicePrincipal=SERVICE)
    org.register_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    assert [a["Id"] for a in org.list_delegated_administrators(ServicePrincipal=SERVICE)[
        "DelegatedAdministrators"]] == [account]
