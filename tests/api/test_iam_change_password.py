"""ChangePassword: an IAM user changes their own console password (boto3 and the AWS CLI)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT, ROOT_KEY, ROOT_SECRET, Server
from .test_awscli import run

FIRST = "First-Passw0rd"
SECOND = "Second-Passw0rd"
CHANGE_OWN = "arn:aws:iam::aws:policy/IAMUserChangePassword"
NO_PROFILE = "pw-no-profile"


def _user(iam: Any, name: str, *, profile: bool = True, change_own: bool = True) -> Keys:
    iam.create_user(UserName=name)
    if profile:
        iam.create_login_profile(UserName=name, Password=FIRST)
    if change_own:
        iam.attach_user_policy(UserName=name, PolicyArn=CHANGE_OWN)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def users(iam: Any) -> dict[str, Keys]:
    made = {
        "alice": _user(iam, "pw-alice"),
        "bob": _user(iam, "pw-bob"),
        "carol": _user(iam, "pw-carol", change_own=False),
        "dave": _user(iam, NO_PROFILE, profile=False),
        "erin": _user(iam, "pw-erin"),
    }
    time.sleep(2.2)  # past the window in which a new login profile cannot be changed
    return made


def _change(server: Server, keys: Keys, old: str, new: str) -> Any:
    client: Any = server.client("iam", keys.key, keys.secret, keys.token)
    return client.change_password(OldPassword=old, NewPassword=new)


def _refusal(call: Any, *args: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(*args)
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_user_changes_own_password(server: Server, users: dict[str, Keys]) -> None:
    _change(server, users["alice"], FIRST, SECOND)
    # the new password is now the old one; the first no longer is
    assert _refusal(_change, server, users["alice"], FIRST, "Third-Passw0rd") == (
        "AccessDenied", "The old password is incorrect.", 403
    )
    _change(server, users["alice"], SECOND, FIRST)


def test_change_password_is_recorded_in_cloudtrail(
    server: Server, users: dict[str, Keys]
) -> None:
    _change(server, users["erin"], FIRST, SECOND)
    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "pw-erin"}]
    )["Events"]
    record = json.loads(next(e for e in events if e["EventName"] == "ChangePassword")
                        ["CloudTrailEvent"])
    assert record["eventSource"] == "iam.amazonaws.com"
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{MANAGEMENT}:user/pw-erin"
    assert "errorCode" not in record


@pytest.mark.parametrize(
    ("who", "old", "new", "refusal"),
    [
        ("dave", FIRST, SECOND,
         ("NoSuchEntity", f"Login Profile for User {NO_PROFILE} cannot be found.", 404)),
        ("bob", "Wrong-Passw0rd", SECOND,
         ("AccessDenied", "The old password is incorrect.", 403)),
        ("bob", FIRST, "short",
         ("PasswordPolicyViolation",
          "Password does not conform to the account password policy.", 400)),
        ("carol", FIRST, SECOND,
         ("AccessDenied",
          f"User: arn:aws:iam::{MANAGEMENT}:user/pw-carol is not authorized to perform: "
          f"iam:ChangePassword on resource: arn:aws:iam::{MANAGEMENT}:user/pw-carol because "
          "no identity-based policy allows the iam:ChangePassword action", 403)),
    ],
)
def test_change_password_refusals(
    server: Server, users: dict[str, Keys], who: str, old: str, new: str,
    refusal: tuple[str, str, int],
) -> None:
    assert _refusal(_change, server, users[who], old, new) == refusal


INVALID_USER_TYPE = ("InvalidUserType", "Only IAM users can change their own password.", 400)


def test_root_cannot_change_password(server: Server) -> None:
    root = Keys(ROOT_KEY, ROOT_SECRET)
    assert _refusal(_change, server, root, FIRST, SECOND) == INVALID_USER_TYPE


def test_role_session_cannot_change_password(server: Server, world: World) -> None:
    account = world.accounts["E"]
    session = world.assume(
        world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    )
    assert _refusal(_change, server, session, FIRST, SECOND) == INVALID_USER_TYPE


def test_new_login_profile_is_temporarily_unmodifiable(server: Server, iam: Any) -> None:
    keys = _user(iam, "pw-fresh")
    assert _refusal(_change, server, keys, FIRST, SECOND) == (
        "EntityTemporarilyUnmodifiable",
        "Login Profile for User pw-fresh cannot be modified while login profile is being "
        "created.",
        409,
    )


@pytest.fixture()
def password_policy(iam: Any) -> Iterator[Any]:
    iam.update_account_password_policy(
        MinimumPasswordLength=8, AllowUsersToChangePassword=True, PasswordReusePrevention=2
    )
    try:
        yield iam
    finally:
        iam.delete_account_password_policy()


def test_allow_users_to_change_password_needs_no_policy(
    server: Server, users: dict[str, Keys], password_policy: Any
) -> None:
    _change(server, users["carol"], FIRST, SECOND)
    _change(server, users["carol"], SECOND, "Third-Passw0rd")
    carol: Any = server.client("iam", users["carol"].key, users["carol"].secret)
    policy = carol.get_account_password_policy()["PasswordPolicy"]  # granted with it
    assert policy["AllowUsersToChangePassword"] is True
    # other IAM actions stay refused
    assert _refusal(carol.list_users)[0] == "AccessDenied"


def test_password_reuse_prevention(
    server: Server, users: dict[str, Keys], password_policy: Any
) -> None:
    _change(server, users["bob"], FIRST, SECOND)
    assert _refusal(_change, server, users["bob"], SECOND, FIRST)[0] == "PasswordPolicyViolation"
    _change(server, users["bob"], SECOND, "Third-Passw0rd")
    _change(server, users["bob"], "Third-Passw0rd", FIRST)  # two changes ago is allowed again


def test_aws_cli_change_password(
    server: Server, users: dict[str, Keys], tmp_path: Path
) -> None:
    keys = users["alice"]
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {keys.key}\naws_secret_access_key = {keys.secret}\n"
    )
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    args = ("iam", "change-password", "--old-password", FIRST, "--new-password", SECOND)
    done = run(server, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    done = run(server, tmp_path, *args)
    assert done.returncode == 255
    assert "(AccessDenied) when calling the ChangePassword operation" in done.stderr
