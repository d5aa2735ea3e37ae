"""Audit 17: the cross-account log-reading roles' trust policies, checked against IAM through
boto3 and a real server.

A trust policy statement whose Principal lists no one is refused with the message real IAM
gives (quoted from a CreateRole refusal in terraform-aws-iam issue #47, whose trust policy read
``"Principal": {"AWS": [], "Service": []}``), on CreateRole and UpdateAssumeRolePolicy alike.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import World

NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)


def _trust(principal: Any) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    })


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("principal", [{"AWS": [], "Service": []}, {}, {"AWS": []}])
def test_create_role_whose_trust_names_nobody_is_refused(
    world: World, principal: dict[str, Any]
) -> None:
    iam: Any = world.client("iam", world.admin)
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="a17-nobody", AssumeRolePolicyDocument=_trust(principal))
    assert _refusal(exc) == ("MalformedPolicyDocument", NO_PRINCIPALS, 400)
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName="a17-nobody")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


def test_update_assume_role_policy_naming_nobody_keeps_the_old_trust(world: World) -> None:
    iam: Any = world.client("iam", world.admin)
    account_e = world.accounts["E"]
    before = _trust({"AWS": f"arn:aws:iam::{account_e}:root"})
    iam.create_role(RoleName="a17-keep", AssumeRolePolicyDocument=before)
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(
            RoleName="a17-keep", PolicyDocument=_trust({"AWS": [], "Service": []})
        )
    assert _refusal(exc) == ("MalformedPolicyDocument", NO_PRINCIPALS, 400)
    shown = iam.get_role(RoleName="a17-keep")["Role"]["AssumeRolePolicyDocument"]
    assert shown == json.loads(before)
