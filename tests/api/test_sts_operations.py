"""STS operations beyond AssumeRole, driven by boto3 against a real server."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, Server


def _account_of(world: World, key_id: str) -> str:
    sts: Any = world.client("sts", world.admin)
    return str(sts.get_access_key_info(AccessKeyId=key_id)["Account"])


def test_get_access_key_info_of_a_member_users_key(world: World) -> None:
    assert _account_of(world, world.users["D"].key) == world.accounts["D"]


def test_get_access_key_info_of_role_session_keys(world: World) -> None:
    account = world.accounts["E"]
    session = world.assume(
        world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    )
    assert session.key.startswith("ASIA")
    assert _account_of(world, session.key) == account


def test_get_access_key_info_of_a_deleted_key(world: World) -> None:
    iam: Any = world.client("iam", world.admin)
    iam.create_user(UserName="gone-key-user")
    key = iam.create_access_key(UserName="gone-key-user")["AccessKey"]["AccessKeyId"]
    iam.delete_access_key(UserName="gone-key-user", AccessKeyId=key)
    assert _account_of(world, key) == MANAGEMENT


@pytest.mark.parametrize(
    ("key_id", "account"),
    [("ASIAQNZGKIQY56JQ7WML", "029608264753")],  # AWS's own layout, someone else's key
)
def test_get_access_key_info_of_a_foreign_key(world: World, key_id: str, account: str) -> None:
    assert _account_of(world, key_id) == account


def test_get_access_key_info_by_root(server: Server, world: World) -> None:
    sts: Any = server.client("sts")
    out = sts.get_access_key_info(AccessKeyId=world.users["R"].key)
    assert out["Account"] == world.accounts["R"]
    assert set(out) == {"Account", "ResponseMetadata"}


def test_created_keys_encode_their_account(world: World) -> None:
    keys: Keys = world.users["E"]
    from trailgate.auth.tokens import account_of_key_id

    assert account_of_key_id(keys.key) == world.accounts["E"]


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


INVALID_TOKEN = (
    "The web identity token that was passed could not be validated by Amazon Web Services. "
    "Get a new identity token from the identity provider and then retry the request."
)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (_jwt({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:x"}),
         "No OpenIDConnect provider found in your account for "
         "https://token.actions.githubusercontent.com"),
        ("not-a-json-web-token", INVALID_TOKEN),
        (_jwt({"sub": "no-issuer"}), INVALID_TOKEN),
    ],
)
def test_assume_role_with_web_identity_is_answered_unsigned(
    server: Server, token: str, message: str
) -> None:
    sts: Any = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{sc.E_ROLE}", RoleSessionName="web",
            WebIdentityToken=token,
        )
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("InvalidIdentityToken", message)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_assume_role_with_saml_is_answered_unsigned(server: Server) -> None:
    sts: Any = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role_with_saml(
            RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{sc.E_ROLE}",
            PrincipalArn=f"arn:aws:iam::{MANAGEMENT}:saml-provider/corp",
            SAMLAssertion=base64.b64encode(b"<samlp:Response/>").decode(),
        )
    err = exc.value.response
    # No provider "corp" in this account (AWS's SAML troubleshooting guide names the answer).
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "InvalidIdentityToken", "Specified provider doesn't exist")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unsigned_web_identity_call_still_validates_its_parameters(server: Server) -> None:
    sts: Any = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, parameter_validation=False,
                      retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{sc.E_ROLE}", RoleSessionName="a b",
            WebIdentityToken="x" * 10,
        )
    err = exc.value.response
    assert err["Error"]["Code"] == "ValidationError"
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )


def test_other_sts_operations_still_need_a_signature(server: Server) -> None:
    sts: Any = boto3.client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert exc.value.response["Error"]["Code"] == "MissingAuthenticationToken"


def test_decode_authorization_message_knows_no_message(world: World) -> None:
    sts: Any = world.client("sts", world.admin)
    with pytest.raises(ClientError) as exc:
        sts.decode_authorization_message(EncodedMessage="bm90LWFuLWVuY29kZWQtbWVzc2FnZQ")
    err = exc.value.response
    assert err["Error"]["Code"] == "InvalidAuthorizationMessageException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_decode_authorization_message_needs_its_permission(world: World) -> None:
    user = world.users["E"]
    sts: Any = world.client("sts", user)
    with pytest.raises(ClientError) as exc:
        sts.decode_authorization_message(EncodedMessage="abc")
    err = exc.value.response
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
