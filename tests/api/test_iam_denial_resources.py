"""How IAM's refusals name the resource of its account-wide operations (AWS's recorded
wording): ``policy path /`` for ListPolicies, the ``mfa/`` prefix for ListVirtualMFADevices,
``*`` for the account-level reads."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server


@pytest.fixture(scope="module")
def nobody(server: Server, iam: Any) -> tuple[str, Any]:
    """(ARN, IAM client) of a user with no policy at all."""
    name = f"no-policy-{secrets.token_hex(4)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = f"arn:aws:iam::{MANAGEMENT}:user/{name}"
    return arn, server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


@pytest.mark.parametrize(("operation", "action", "shown"), [
    ("list_policies", "iam:ListPolicies", "policy path /"),
    ("list_virtual_mfa_devices", "iam:ListVirtualMFADevices", f"arn:aws:iam::{MANAGEMENT}:mfa/"),
    ("get_account_summary", "iam:GetAccountSummary", "*"),
    ("list_account_aliases", "iam:ListAccountAliases", "*"),
])
def test_refusal_names_the_resource(
    nobody: tuple[str, Any], operation: str, action: str, shown: str
) -> None:
    arn, client = nobody
    with pytest.raises(ClientError) as exc:
        getattr(client, operation)()
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "AccessDenied",
        f"User: {arn} is not authorized to perform: {action} on resource: {shown} because no "
        f"identity-based policy allows the {action} action",
    )
