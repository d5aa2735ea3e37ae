"""AssumeRole validates its inline session policy (``Policy``) before minting credentials:
an invalid one is refused with MalformedPolicyDocument, never stored in a session token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_tx import FakeTx

from trailgate.auth import tokens
from trailgate.gateway.context import Principal
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.sts.provider import StsProvider, check_session_policy

ACCT = "123456789012"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ROLE = {
    "RoleName": "target",
    "RoleId": "AROATARGET",
    "Arn": f"arn:aws:iam::{ACCT}:role/target",
    "MaxSessionDuration": 3600,
}
USER = Principal("user", f"arn:aws:iam::{ACCT}:user/u", ACCT, "AIDAUSER", "AKIAUSER",
                 "AIDAUSER")
SEALER = tokens.TokenSealer(b"s" * 32)


def statement(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", **extra}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


INVALID = [
    ("{bad", "This policy contains invalid Json"),
    ("[1,2]", "This policy contains invalid Json"),
    ("{}", "Syntax errors in policy."),
    (document(statement(Resource="*", Principal={"AWS": "*"})),
     "Policy document should not specify a principal."),
    (document(statement()), "Policy statement must contain resources."),
]


def assume(policy: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": ROLE["Arn"], "RoleSessionName": "s"}
    if policy is not None:
        params["Policy"] = policy
    call = Call(ACCT, USER, params, "us-east-1", "req-1", NOW, target=dict(ROLE))
    return StsProvider(SEALER).AssumeRole(call, FakeTx())


@pytest.mark.parametrize(("policy", "message"), INVALID)
def test_invalid_session_policy_is_malformed_policy_document(policy: str, message: str) -> None:
    with pytest.raises(ServiceError) as exc:
        assume(policy)
    err = exc.value
    assert (err.code, err.message, err.status) == ("MalformedPolicyDocument", message, 400)
    with pytest.raises(ServiceError) as direct:
        check_session_policy(policy)
    assert direct.value.message == message


def test_valid_session_policy_is_carried_by_the_token() -> None:
    policy = document(statement(Resource="*"))
    out = assume(policy)
    assert 1 <= out["PackedPolicySize"] <= 100
    claims = SEALER.open(out["Credentials"]["SessionToken"])
    assert claims["sp"] == [policy]


def test_no_session_policy() -> None:
    check_session_policy(None)
    out = assume(None)
    assert "PackedPolicySize" not in out
    assert SEALER.open(out["Credentials"]["SessionToken"])["sp"] is None
