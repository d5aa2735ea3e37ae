"""What AssumeRole and GetFederationToken accept besides the role: managed session policy
ARNs (at most 10, existing, in the role's account), session tag keys (no ``aws:`` prefix) and
the packed size of policies plus tags (PackedPolicySize / PackedPolicyTooLarge)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from .scenario_setup import World
from .server import MANAGEMENT, Server

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }],
}
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="module")
def role_arn(world: World) -> str:
    iam: Any = world.client("iam", world.admin)
    iam.create_policy(PolicyName="SessionInputs", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }))
    out = iam.create_role(RoleName="SessionInputs", AssumeRolePolicyDocument=json.dumps(TRUST))
    return str(out["Role"]["Arn"])


def _assume(world: World, role_arn: str, **extra: Any) -> dict[str, Any]:
    sts: Any = world.client("sts", world.admin)
    out: dict[str, Any] = sts.assume_role(RoleArn=role_arn, RoleSessionName="inputs", **extra)
    return out


def _refused(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def _arns(*arns: str) -> list[dict[str, str]]:
    return [{"arn": arn} for arn in arns]


def test_existing_managed_session_policies_are_accepted(world: World, role_arn: str) -> None:
    own = f"arn:aws:iam::{MANAGEMENT}:policy/SessionInputs"
    out = _assume(world, role_arn, PolicyArns=_arns(own, READ_ONLY))
    assert 1 <= out["PackedPolicySize"] <= 100


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{MANAGEMENT}:policy/NoSuchPolicy",
        "arn:aws:iam::aws:policy/NoSuchAwsPolicy",
        "arn:aws:iam::222222222222:policy/SessionInputs",  # another account's
    ],
)
def test_unknown_managed_session_policy_is_refused(
    world: World, role_arn: str, arn: str
) -> None:
    sts: Any = world.client("sts", world.admin)
    assert _refused(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="inputs", PolicyArns=_arns(arn)
    ) == ("MalformedPolicyDocument", f"Policy {arn} does not exist or is not attachable.", 400)


def test_more_than_ten_managed_session_policies_are_refused(
    world: World, role_arn: str
) -> None:
    sts: Any = world.client("sts", world.admin)
    arns = [READ_ONLY] * 11
    code, message, status = _refused(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="inputs", PolicyArns=_arns(*arns)
    )
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith("1 validation error detected: Value '[PolicyDescriptorType(")
    assert message.endswith(
        "at 'policyArns' failed to satisfy constraint: Member must have length less than or "
        "equal to 10"
    )
    assert "PackedPolicySize" in _assume(world, role_arn, PolicyArns=_arns(*arns[:10]))


def test_get_federation_token_checks_managed_session_policies(world: World) -> None:
    sts: Any = world.client("sts", world.admin)
    arn = f"arn:aws:iam::{MANAGEMENT}:policy/NoSuchPolicy"
    assert _refused(sts.get_federation_token, Name="fed", PolicyArns=_arns(arn)) == (
        "MalformedPolicyDocument", f"Policy {arn} does not exist or is not attachable.", 400
    )


RESERVED = "Tag keys starting with 'aws:' are reserved for internal use."


@pytest.mark.parametrize(
    "extra",
    [
        {"Tags": [{"Key": "aws:team", "Value": "blue"}]},
        {"Tags": [{"Key": "AWS:Team", "Value": "blue"}]},
        {"Tags": [{"Key": "aws:team", "Value": "blue"}], "TransitiveTagKeys": ["aws:team"]},
    ],
)
def test_reserved_session_tag_keys_are_refused(
    world: World, role_arn: str, extra: dict[str, Any]
) -> None:
    sts: Any = world.client("sts", world.admin)
    assert _refused(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="inputs", **extra
    ) == ("InvalidParameterValue", RESERVED, 400)


def _wide_policy(actions: int) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [f"service{i:02d}:DescribeSomethingLong{i:02d}" for i in range(actions)],
            "Resource": "*",
        }],
    })


def test_packed_policy_size_grows_with_the_session_policy(world: World, role_arn: str) -> None:
    small = _assume(world, role_arn, Policy=_wide_policy(2))["PackedPolicySize"]
    large = _assume(world, role_arn, Policy=_wide_policy(20))["PackedPolicySize"]
    assert 1 <= small < large <= 100


def test_packed_policy_too_large_is_refused(world: World, role_arn: str) -> None:
    sts: Any = world.client("sts", world.admin)
    policy = _wide_policy(45)
    assert len(policy) <= 2048  # the plaintext limit is met; the packed one is not
    code, message, status = _refused(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="inputs", Policy=policy
    )
    assert (code, status) == ("PackedPolicyTooLarge", 400)
    percent = int(message.removeprefix("Packed policy consumes ").split("%")[0])
    assert percent > 100
    assert message == f"Packed policy consumes {percent}% of allotted space"


def test_tags_count_towards_the_packed_size(world: World, role_arn: str) -> None:
    sts: Any = world.client("sts", world.admin)
    tags = [{"Key": f"key-{i:02d}-" + "k" * 100, "Value": "v" * 250} for i in range(5)]
    assert _refused(
        sts.assume_role, RoleArn=role_arn, RoleSessionName="inputs", Tags=tags
    )[0] == "PackedPolicyTooLarge"
    assert _assume(world, role_arn, Tags=tags[:2])["PackedPolicySize"] > 50


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("assume_role_with_web_identity",
         {"RoleSessionName": "web", "WebIdentityToken": "x" * 10}),
        ("assume_role_with_saml",
         {"PrincipalArn": f"arn:aws:iam::{MANAGEMENT}:saml-provider/corp",
          "SAMLAssertion": "PHNhbWxwOlJlc3BvbnNlLz4="}),
    ],
)
def test_federated_assume_role_checks_the_policy_arn_count_first(
    server: Server, operation: str, params: dict[str, str]
) -> None:
    sts: Any = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    code, message, status = _refused(
        getattr(sts, operation), RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/SessionInputs",
        PolicyArns=_arns(*[READ_ONLY] * 11), **params,
    )
    assert (code, status) == ("ValidationError", 400)
    assert message.endswith("Member must have length less than or equal to 10")
