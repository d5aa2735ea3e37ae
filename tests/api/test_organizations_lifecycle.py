"""Leaving and deleting the organization through boto3, on a server of its own:
LeaveOrganization from a member (and an SCP guardrail that forbids it), the management
account that can't leave, and DeleteOrganization once no member account remains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import access_role_credentials, client_as, new_member
from .server import Server, start

NO_LEAVING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]})


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("trailgate-orglife")))
    yield server
    server.stop()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _member_org(srv: Server, org: Any, name: str) -> tuple[str, Any]:
    """A new member account and an Organizations client as its access role."""
    account = new_member(org, name)
    return account, client_as(srv, "organizations",
                              access_role_credentials(srv, account, "life"))


def test_leave_and_delete(srv: Server) -> None:
    org = srv.client("organizations")
    first_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    account, member = _member_org(srv, org, "leaver")
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    guard = org.create_policy(Name="no-leaving", Description="", Content=NO_LEAVING,
                              Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=guard, TargetId=account)
    with pytest.raises(ClientError) as exc:  # the SCP guardrail holds it in
        member.leave_organization()
    assert _error(exc) == ("AccessDeniedException", 400)
    org.detach_policy(PolicyId=guard, TargetId=account)

    with pytest.raises(ClientError) as exc:
        org.delete_organization()
    assert _error(exc) == ("OrganizationNotEmptyException", 400)
    with pytest.raises(ClientError) as exc:
        org.leave_organization()
    assert _error(exc) == ("MasterCannotLeaveOrganizationException", 400)

    member.leave_organization()
    assert account not in [a["Id"] for a in org.list_accounts()["Accounts"]]
    with pytest.raises(ClientError) as exc:
        member.describe_organization()
    assert _error(exc) == ("AWSOrganizationsNotInUseException", 400)
    with pytest.raises(ClientError) as exc:
        member.leave_organization()
    assert _error(exc) == ("AWSOrganizationsNotInUseException", 400)

    org.create_organizational_unit(ParentId=root, Name="goes-too")
    org.delete_organization()
    with pytest.raises(ClientError) as exc:
        org.describe_organization()
    assert _error(exc) == ("AWSOrganizationsNotInUseException", 400)
    with pytest.raises(ClientError) as exc:
        org.list_policies(Filter="SERVICE_CONTROL_POLICY")
    assert _error(exc) == ("AWSOrganizationsNotInUseException", 400)

    again = org.create_organization(FeatureSet="ALL")["Organization"]
    assert again["Id"] != first_id
    new_root = org.list_roots()["Roots"][0]
    assert new_root["PolicyTypes"] == []
    assert org.list_organizational_units_for_parent(ParentId=new_root["Id"])[
        "OrganizationalUnits"] == []
    assert [p["Name"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")[
        "Policies"]] == ["FullAWSAccess"]

    org.delete_organization()
    billing = org.create_organization(FeatureSet="CONSOLIDATED_BILLING")["Organization"]
    assert (billing["FeatureSet"], billing["AvailablePolicyTypes"]) == ("CONSOLIDATED_BILLING", [])
    billing_root = org.list_roots()["Roots"][0]["Id"]
    for refused in (
        lambda: org.enable_policy_type(RootId=billing_root, PolicyType="SERVICE_CONTROL_POLICY"),
        lambda: org.create_policy(Name="x", Description="", Content=NO_LEAVING,
                                  Type="SERVICE_CONTROL_POLICY"),
    ):
        with pytest.raises(ClientError) as exc:
            refused()
        assert _error(exc) == ("PolicyTypeNotAvailableForOrganizationException", 400)
