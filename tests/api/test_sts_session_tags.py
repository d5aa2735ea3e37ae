"""Session tags (AssumeRole Tags / TransitiveTagKeys) and aws:PrincipalTag, driven by boto3.

AWS: a session's principal tags are the role's tags overridden by the session tags, plus the
transitive tags inherited through role chaining; an IAM user's principal tags are its tags.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }],
}


def _team_policy(team: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/Team": team}}},
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
             "Resource": "*"},
        ],
    })


@pytest.fixture(scope="module")
def tag_roles(world: World) -> dict[str, str]:
    iam: Any = world.client("iam", world.admin)
    arns = {}
    for name, tags in (("TagBlue", [{"Key": "team", "Value": "blue"}]), ("TagNone", [])):
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tags
        )["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="team", PolicyDocument=_team_policy("blue"))
        arns[name] = arn
    return arns


def _lists_users(world: World, keys: Keys) -> str:
    try:
        world.client("iam", keys).list_users()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


@pytest.mark.parametrize(
    ("role", "tags", "outcome"),
    [
        ("TagNone", [], "AccessDenied"),
        ("TagNone", [{"Key": "Team", "Value": "blue"}], "allowed"),
        ("TagNone", [{"Key": "Team", "Value": "red"}], "AccessDenied"),
        ("TagBlue", [], "allowed"),  # the role's own tag
        ("TagBlue", [{"Key": "TEAM", "Value": "red"}], "AccessDenied"),  # overridden
    ],
)
def test_principal_tags_of_a_role_session(
    world: World, tag_roles: dict[str, str], role: str, tags: list[dict[str, str]],
    outcome: str,
) -> None:
    extra: dict[str, Any] = {"Tags": tags} if tags else {}
    session = world.assume(world.admin, tag_roles[role], "tagged", **extra)
    assert _lists_users(world, session) == outcome


def test_assume_role_with_tags_reports_packed_policy_size(
    world: World, tag_roles: dict[str, str]
) -> None:
    out = world.client("sts", world.admin).assume_role(
        RoleArn=tag_roles["TagNone"], RoleSessionName="packed",
        Tags=[{"Key": "Team", "Value": "blue"}],
    )
    assert 1 <= out["PackedPolicySize"] <= 100


@pytest.mark.parametrize(("transitive", "outcome"), [([], "AccessDenied"), (["Team"], "allowed")])
def test_transitive_tags_pass_through_role_chaining(
    world: World, tag_roles: dict[str, str], transitive: list[str], outcome: str
) -> None:
    first = world.assume(
        world.admin, tag_roles["TagNone"], "first",
        Tags=[{"Key": "Team", "Value": "blue"}], TransitiveTagKeys=transitive,
    )
    second = world.assume(first, tag_roles["TagNone"], "second")
    assert _lists_users(world, second) == outcome


def test_inherited_transitive_tag_keeps_its_value(
    world: World, tag_roles: dict[str, str]
) -> None:
    first = world.assume(
        world.admin, tag_roles["TagNone"], "first",
        Tags=[{"Key": "Team", "Value": "blue"}], TransitiveTagKeys=["Team"],
    )
    second = world.assume(first, tag_roles["TagNone"], "second")
    third = world.assume(second, tag_roles["TagNone"], "third")  # still transitive
    assert _lists_users(world, third) == "allowed"


def test_principal_tags_of_an_iam_user(world: World) -> None:
    iam: Any = world.client("iam", world.admin)
    iam.create_user(UserName="tagged-user", Tags=[{"Key": "Team", "Value": "blue"}])
    iam.put_user_policy(UserName="tagged-user", PolicyName="team",
                        PolicyDocument=_team_policy("blue"))
    key = iam.create_access_key(UserName="tagged-user")["AccessKey"]
    keys = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    assert _lists_users(world, keys) == "allowed"
    iam.tag_user(UserName="tagged-user", Tags=[{"Key": "team", "Value": "red"}])
    assert _lists_users(world, keys) == "AccessDenied"


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"Tags": [{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]},
         "Duplicate tag keys found. Please note that Tag keys are case insensitive."),
        ({"Tags": [{"Key": "Team", "Value": "a"}], "TransitiveTagKeys": ["Project"]},
         "The specified transitive tag key must be included in the requested tags."),
        ({"TransitiveTagKeys": ["Team"]},
         "The specified transitive tag key must be included in the requested tags."),
    ],
)
def test_invalid_session_tags_are_refused(
    world: World, tag_roles: dict[str, str], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.admin, tag_roles["TagNone"], "bad-tags", **extra)
    assert _refusal(exc) == ("InvalidParameterValue", message, 400)


def test_chained_session_cannot_override_a_transitive_tag(
    world: World, tag_roles: dict[str, str]
) -> None:
    first = world.assume(
        world.admin, tag_roles["TagNone"], "first",
        Tags=[{"Key": "Team", "Value": "blue"}], TransitiveTagKeys=["Team"],
    )
    with pytest.raises(ClientError) as exc:
        world.assume(first, tag_roles["TagNone"], "second", Tags=[{"Key": "TEAM", "Value": "red"}])
    assert _refusal(exc) == (
        "InvalidParameterValue",
        "One of the specified transitive tag keys can't be set because it conflicts with a "
        "transitive tag key from the calling session.",
        400,
    )
    other = world.assume(first, tag_roles["TagNone"], "second",
                         Tags=[{"Key": "Project", "Value": "x"}])  # another key is fine
    assert _lists_users(world, other) == "allowed"


@pytest.mark.parametrize(
    "arn",
    ["arnxaws:iam::111111111111:role/TagNone", "arn:aws:iam::111111111111",
     "arn:aws:iam::111111111111:role:x:y", "arn::iam::111111111111:role/TagNone"],
)
def test_malformed_role_arn_is_a_validation_error(world: World, arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.admin, arn, "bad-arn")
    assert _refusal(exc) == ("ValidationError", f"{arn} is invalid", 400)


def test_a_well_formed_arn_that_is_no_role_is_access_denied(world: World) -> None:
    arn = f"arn:aws:iam::{MANAGEMENT}:user/admin"
    with pytest.raises(ClientError) as exc:
        world.assume(world.admin, arn, "not-a-role")
    assert _refusal(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{MANAGEMENT}:user/admin is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}",
        403,
    )
