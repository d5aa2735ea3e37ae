"""Organizations set-ups the API tests share: a new member account, and clients acting as
its OrganizationAccountAccessRole session (assumed by an administrator of the management
account, as AWS's console and documentation do it)."""

from __future__ import annotations

from typing import Any

from .server import Server

ACCESS_ROLE = "OrganizationAccountAccessRole"


def new_member(org: Any, name: str) -> str:
    """CreateAccount (email ``NAME@example.com``); the new account's id."""
    status = org.create_account(Email=f"{name}@example.com", AccountName=name)
    return str(org.describe_create_account_status(
        CreateAccountRequestId=status["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"])


def access_role_credentials(srv: Server, account: str, session: str) -> dict[str, Any]:
    """Credentials of ``account``'s OrganizationAccountAccessRole, assumed by the management
    account's IAM user ``admin`` (made with AdministratorAccess on first use; the access key
    used is deleted again)."""
    iam = srv.client("iam")
    if not iam.list_users()["Users"]:
        iam.create_user(UserName="admin")
        iam.attach_user_policy(UserName="admin",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    creds: dict[str, Any] = srv.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName=session
    )["Credentials"]
    iam.delete_access_key(UserName="admin", AccessKeyId=key["AccessKeyId"])
    return creds


def client_as(srv: Server, service: str, creds: dict[str, Any]) -> Any:
    return srv.client(service, creds["AccessKeyId"], creds["SecretAccessKey"],
                      creds["SessionToken"])
