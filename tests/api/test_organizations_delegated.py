"""Delegated administrators through boto3, on a server of their own: registering a member
account for a service, what it may then read, and AWS's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import access_role_credentials, client_as, new_member
from .server import MANAGEMENT, Server, start

SERVICE = "cloudtrail.amazonaws.com"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("trailgate-orgdelegated")))
    yield server
    server.stop()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _member(srv: Server, org: Any, name: str) -> tuple[str, Any]:
    account = new_member(org, name)
    return account, client_as(srv, "organizations",
                              access_role_credentials(srv, account, "deleg"))


def test_delegated_administrator(srv: Server) -> None:
    org = srv.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account, member = _member(srv, org, "auditor")
    with pytest.raises(ClientError) as exc:
        member.list_accounts()
    assert _error(exc) == ("AccessDeniedException", 400)
    assert org.list_delegated_administrators()["DelegatedAdministrators"] == []
    with pytest.raises(ClientError) as exc:
        org.list_delegated_services_for_account(AccountId=account)
    assert _error(exc) == ("AccountNotRegisteredException", 400)

    org.enable_aws_service_access(ServicePrincipal=SERVICE)  # AWS: trusted access comes first
    org.register_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    assert _error(exc) == ("AccountAlreadyRegisteredException", 400)
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId=MANAGEMENT, ServicePrincipal=SERVICE)
    assert _error(exc) == ("ConstraintViolationException", 400)
    assert exc.value.response["Reason"] == "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
    with pytest.raises(ClientError) as exc:
        org.register_delegated_administrator(AccountId="999999999999", ServicePrincipal=SERVICE)
    assert _error(exc) == ("AccountNotFoundException", 400)

    admins = org.list_delegated_administrators(ServicePrincipal=SERVICE)[
        "DelegatedAdministrators"]
    assert [(a["Id"], a["Name"], a["Status"]) for a in admins] == [(account, "auditor", "ACTIVE")]
    assert isinstance(admins[0]["DelegationEnabledDate"], datetime)
    assert org.list_delegated_administrators(ServicePrincipal="config.amazonaws.com")[
        "DelegatedAdministrators"] == []
    services = org.list_delegated_services_for_account(AccountId=account)["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == [SERVICE]

    # A delegated administrator reads the organization; it still changes nothing.
    assert {MANAGEMENT, account} <= {a["Id"] for a in member.list_accounts()["Accounts"]}
    assert member.describe_account(AccountId=MANAGEMENT)["Account"]["Id"] == MANAGEMENT
    assert member.list_roots()["Roots"]
    with pytest.raises(ClientError) as exc:
        member.create_organizational_unit(ParentId=member.list_roots()["Roots"][0]["Id"],
                                          Name="nope")
    assert _error(exc) == ("AccessDeniedException", 400)

    org.deregister_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    with pytest.raises(ClientError) as exc:
        org.deregister_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    assert _error(exc) == ("AccountNotRegisteredException", 400)
    with pytest.raises(ClientError) as exc:
        member.list_accounts()
    assert _error(exc) == ("AccessDeniedException", 400)

    org.register_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    for leave in (lambda: org.remove_account_from_organization(AccountId=account),
                  member.leave_organization):  # a delegated administrator stays
        with pytest.raises(ClientError) as exc:
            leave()
        assert _error(exc) == ("ConstraintViolationException", 400)
        assert exc.value.response["Reason"] == "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"
    org.deregister_delegated_administrator(AccountId=account, ServicePrincipal=SERVICE)
    org.remove_account_from_organization(AccountId=account)
