"""IAM refuses tag keys with the ``aws:`` prefix (reserved by AWS, any letter case) on every
tagging path: the Tag* operations and the Create* operations that take Tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT

RESERVED = "Tag keys starting with 'aws:' are reserved for internal use."
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})
DOC = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
})


@pytest.fixture(scope="module")
def entities(iam: Any) -> Any:
    iam.create_role(RoleName="ReservedTagRole", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="reserved-tag-user")
    iam.create_policy(PolicyName="ReservedTagPolicy", PolicyDocument=DOC)
    return iam


POLICY_ARN = f"arn:aws:iam::{MANAGEMENT}:policy/ReservedTagPolicy"
CASES = [
    ("tag_role", {"RoleName": "ReservedTagRole"}),
    ("tag_user", {"UserName": "reserved-tag-user"}),
    ("tag_policy", {"PolicyArn": POLICY_ARN}),
    ("create_role", {"RoleName": "ReservedTagRole2", "AssumeRolePolicyDocument": TRUST}),
    ("create_user", {"UserName": "reserved-tag-user2"}),
    ("create_policy", {"PolicyName": "ReservedTagPolicy2", "PolicyDocument": DOC}),
]


@pytest.mark.parametrize(("operation", "params"), CASES)
@pytest.mark.parametrize("key", ["aws:team", "AWS:Team"])
def test_reserved_tag_prefix_is_refused(
    entities: Any, operation: str, params: dict[str, Any], key: str
) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(entities, operation)(Tags=[{"Key": key, "Value": "blue"}], **params)
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("InvalidInput", RESERVED)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_key_merely_containing_aws_is_accepted(entities: Any) -> None:
    entities.tag_role(RoleName="ReservedTagRole", Tags=[{"Key": "team:aws:x", "Value": "1"}])
    tags = entities.list_role_tags(RoleName="ReservedTagRole")["Tags"]
    assert tags == [{"Key": "team:aws:x", "Value": "1"}]
