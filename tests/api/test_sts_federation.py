"""GetFederationToken as AWS documents it, driven by boto3 against a real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT, Server

LIST_BUCKETS = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "iam:ListUsers",
                                                  "sts:AssumeRole"], "Resource": "*"}],
})


def _federate(world: World, keys: Keys, name: str = "bob", **extra: Any) -> tuple[Keys, Any]:
    out = world.client("sts", keys).get_federation_token(Name=name, **extra)
    creds = out["Credentials"]
    return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]), out


def _refusal(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_federated_user_identity(world: World) -> None:
    keys, out = _federate(world, world.admin, "bob")
    assert out["FederatedUser"] == {
        "FederatedUserId": f"{MANAGEMENT}:bob",
        "Arn": f"arn:aws:sts::{MANAGEMENT}:federated-user/bob",
    }
    assert keys.key.startswith("ASIA")
    assert out["PackedPolicySize"] == 0  # AWS reports 0 when nothing was passed
    ident = world.client("sts", keys).get_caller_identity()
    assert (ident["UserId"], ident["Account"], ident["Arn"]) == (
        f"{MANAGEMENT}:bob", MANAGEMENT, f"arn:aws:sts::{MANAGEMENT}:federated-user/bob"
    )
    left = out["Credentials"]["Expiration"] - datetime.now(UTC)
    assert 43100 < left.total_seconds() <= 43200  # default: 12 hours


@pytest.mark.parametrize(("policy", "outcome"), [(None, "AccessDenied"), (LIST_BUCKETS, "ok")])
def test_session_policy_is_all_a_federated_user_gets(
    world: World, policy: str | None, outcome: str
) -> None:
    extra = {"Policy": policy} if policy else {}
    keys, out = _federate(world, world.admin, "carol", **extra)
    if policy:
        assert 1 <= out["PackedPolicySize"] <= 100
    try:
        world.client("s3", keys).list_buckets()
        result = "ok"
    except ClientError as exc:
        result = str(exc.response["Error"]["Code"])
    assert result == outcome


def test_session_policy_cannot_exceed_the_users_permissions(world: World) -> None:
    member = world.users["E"]  # may only assume Admin's role: no s3:ListAllMyBuckets
    with pytest.raises(ClientError) as exc:
        _federate(world, member, "erin", Policy=LIST_BUCKETS)
    account = world.accounts["E"]
    assert _refusal(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{account}:user/e-user is not authorized to perform: "
        f"sts:GetFederationToken on resource: arn:aws:sts::{account}:federated-user/erin",
        403,
    )


@pytest.mark.parametrize(
    ("service", "call", "action"),
    [("iam", "list_users", "iam:ListUsers"),
     ("sts", "decode_authorization_message", "sts:DecodeAuthorizationMessage")],
)
def test_federated_user_calls_no_iam_and_only_get_caller_identity_in_sts(
    world: World, service: str, call: str, action: str
) -> None:
    keys, _ = _federate(world, world.admin, "dave", Policy=LIST_BUCKETS)
    with pytest.raises(ClientError) as exc:
        args = {"EncodedMessage": "abc"} if call == "decode_authorization_message" else {}
        getattr(world.client(service, keys), call)(**args)
    assert _refusal(exc) == (
        "AccessDenied",
        f"User: arn:aws:sts::{MANAGEMENT}:federated-user/dave is not authorized to perform: "
        f"{action} because no session policy allows it",
        403,
    )


def test_federated_user_cannot_assume_a_role(world: World) -> None:
    keys, _ = _federate(world, world.admin, "dave", Policy=LIST_BUCKETS)
    role = f"arn:aws:iam::{world.accounts['E']}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError) as exc:
        world.assume(keys, role)
    assert _refusal(exc)[0] == "AccessDenied"


CANNOT = ("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)


def test_session_credentials_cannot_federate(world: World) -> None:
    role = f"arn:aws:iam::{world.accounts['E']}:role/OrganizationAccountAccessRole"
    session = world.assume(world.admin, role)
    with pytest.raises(ClientError) as exc:
        _federate(world, session, "eve")
    assert _refusal(exc) == CANNOT
    federated, _ = _federate(world, world.admin, "frank", Policy=LIST_BUCKETS)
    with pytest.raises(ClientError) as exc:
        _federate(world, federated, "eve")
    assert _refusal(exc) == CANNOT
    with pytest.raises(ClientError) as exc:
        world.client("sts", federated).get_session_token()
    assert _refusal(exc) == (
        "AccessDenied", "Cannot call GetSessionToken with session credentials", 403
    )


def test_root_federation_lasts_one_hour_at_most(server: Server, world: World) -> None:
    out = server.client("sts").get_federation_token(Name="rooty", DurationSeconds=7200)
    left = out["Credentials"]["Expiration"] - datetime.now(UTC)
    assert 3500 < left.total_seconds() <= 3600
    creds = out["Credentials"]
    keys = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert world.client("sts", keys).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{MANAGEMENT}:federated-user/rooty"
    )


def test_session_tags_become_principal_tags(world: World) -> None:
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
                       "Condition": {"StringEquals": {"aws:PrincipalTag/dept": "audit"}}}],
    })
    results = []
    for dept in ("audit", "sales"):
        keys, _ = _federate(world, world.admin, "gina", Policy=policy,
                            Tags=[{"Key": "dept", "Value": dept}])
        try:
            world.client("s3", keys).list_buckets()
            results.append("ok")
        except ClientError as exc:
            results.append(str(exc.response["Error"]["Code"]))
    assert results == ["ok", "AccessDenied"]


def test_federated_users_calls_name_their_issuer_in_cloudtrail(world: World) -> None:
    keys, _ = _federate(world, world.admin, "hank", Policy=LIST_BUCKETS)
    world.client("s3", keys).list_buckets()
    trail: Any = world.client("cloudtrail", world.admin)
    events = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": keys.key}]
    )["Events"]
    identity = json.loads(events[0]["CloudTrailEvent"])["userIdentity"]
    admin = world.client("iam", world.admin).get_user(UserName="admin")["User"]
    assert identity["type"] == "FederatedUser"
    assert identity["principalId"] == f"{MANAGEMENT}:hank"
    assert identity["arn"] == f"arn:aws:sts::{MANAGEMENT}:federated-user/hank"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "IAMUser", "principalId": admin["UserId"], "arn": admin["Arn"],
        "accountId": MANAGEMENT, "userName": "admin",
    }
