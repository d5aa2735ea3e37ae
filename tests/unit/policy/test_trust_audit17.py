"""Audit 17: a trust policy statement whose Principal lists no one.

IAM refuses it with MalformedPolicyDocument "Invalid principal in policy:
com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no
principals!" (the real CreateRole answer quoted in terraform-aws-iam issue #47, whose trust
policy read ``"Principal": {"AWS": [], "Service": []}``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from trailgate.policy.model import MalformedPolicyError, PolicyType
from trailgate.policy.parse import parse_policy

NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)


def _doc(**statement: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    "principal",
    [{}, {"AWS": []}, {"AWS": [], "Service": []}, {"Service": [], "Federated": []}],
)
def test_trust_statement_naming_nobody_is_refused(principal: dict[str, Any]) -> None:
    text = _doc(Effect="Allow", Principal=principal, Action="sts:AssumeRole")
    with pytest.raises(MalformedPolicyError) as exc:
        parse_policy(text, PolicyType.TRUST)
    assert exc.value.message == NO_PRINCIPALS


def test_an_empty_list_beside_a_real_principal_keeps_the_per_value_message() -> None:
    text = _doc(
        Effect="Allow", Principal={"AWS": [], "Service": "ec2.amazonaws.com"},
        Action="sts:AssumeRole",
    )
    with pytest.raises(MalformedPolicyError) as exc:
        parse_policy(text, PolicyType.TRUST)
    assert exc.value.message == 'Invalid principal in policy: "AWS":""'


def test_identity_policy_with_an_empty_principal_still_must_not_specify_one() -> None:
    text = _doc(Effect="Allow", Principal={}, Action="s3:GetObject", Resource="*")
    with pytest.raises(MalformedPolicyError) as exc:
        parse_policy(text, PolicyType.IDENTITY)
    assert exc.value.message == "Policy document should not specify a principal."
