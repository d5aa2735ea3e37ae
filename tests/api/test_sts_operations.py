"""STS operations beyond AssumeRole, driven by boto3 against a real server."""

from __future__ import annotations

from typing import Any

import pytest

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
