"""The seed scenario's role assumptions on a real server, driven by boto3 (spec 2.5, 2.8, 4)."""

from __future__ import annotations

import json
import time
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, Server


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{MANAGEMENT}:role/{name}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_root_identity(server: Server) -> None:
    ident = server.client("sts").get_caller_identity()
    assert ident["Account"] == MANAGEMENT
    assert ident["Arn"] == f"arn:aws:iam::{MANAGEMENT}:root"
    assert ident["UserId"] == MANAGEMENT


def test_member_accounts_have_admin_role(world: World) -> None:
    for party in sc.parties():
        account = world.accounts[party.name]
        assert len(account) == 12 and account.isdigit()
        session = world.assume(
            world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        )
        ident = world.client("sts", session).get_caller_identity()
        assert ident["Arn"] == (
            f"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/session"
        )


def test_d_without_mfa_is_refused(world: World) -> None:
    user = world.users["D"]
    with pytest.raises(ClientError) as exc:
        world.assume(user, role_arn(sc.D_ROLE), "dana")
    account = world.accounts["D"]
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{account}:user/d-user is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn(sc.D_ROLE)}",
        403,
    )


def test_d_with_mfa_is_allowed_and_code_cannot_be_replayed(world: World) -> None:
    user = world.users["D"]
    code = world.next_code()
    session = world.assume(
        user, role_arn(sc.D_ROLE), "dana", SerialNumber=world.mfa_serial, TokenCode=code
    )
    ident = world.client("sts", session).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/dana"
    assert ident["UserId"].startswith("AROA") and ident["UserId"].endswith(":dana")
    with pytest.raises(ClientError) as exc:
        world.assume(
            user, role_arn(sc.D_ROLE), "dana", SerialNumber=world.mfa_serial, TokenCode=code
        )
    assert error_of(exc) == (
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        403,
    )


def test_mfa_serial_without_code(world: World) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["D"], role_arn(sc.D_ROLE), "dana", SerialNumber=world.mfa_serial)
    assert error_of(exc) == (
        "AccessDenied",
        "MultiFactorAuthentication failed, must provide both MFA serial number and one time "
        "pass code.",
        403,
    )


def test_wrong_mfa_code(world: World) -> None:
    good = {world.totp(-30), world.totp(0), world.totp(30)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in good)
    with pytest.raises(ClientError) as exc:
        world.assume(
            world.users["D"], role_arn(sc.D_ROLE), "dana",
            SerialNumber=world.mfa_serial, TokenCode=wrong,
        )
    # a wrong code on the caller's own device: AWS's answer is the one-time-pass-code refusal
    assert error_of(exc) == (
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        403,
    )


def test_mfa_serial_of_no_device_of_the_caller(world: World) -> None:
    serial = world.mfa_serial.rsplit("/", 1)[0] + "/no-such-device"
    with pytest.raises(ClientError) as exc:
        world.assume(
            world.users["D"], role_arn(sc.D_ROLE), "dana",
            SerialNumber=serial, TokenCode=world.totp(0),
        )
    assert error_of(exc) == (
        "AccessDenied",
        "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
        "serial number is valid and associated with this user.",
        403,
    )


def test_e_assumes_its_role(world: World) -> None:
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin")
    ident = world.client("sts", session).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.E_ROLE}/erin"


@pytest.mark.parametrize("external_id", [None, "wrong-id"])
def test_r_without_the_right_external_id_is_refused(world: World, external_id: str | None) -> None:
    extra = {} if external_id is None else {"ExternalId": external_id}
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["R"], role_arn(sc.R_ROLE), "rae", **extra)
    assert error_of(exc)[:1] == ("AccessDenied",)


def test_r_with_the_external_id(world: World) -> None:
    session = world.assume(world.users["R"], role_arn(sc.R_ROLE), "rae", ExternalId=sc.EXTERNAL_ID)
    assert world.client("sts", session).get_caller_identity()["Account"] == MANAGEMENT


def test_d_user_cannot_assume_es_role(world: World) -> None:
    """E's role trusts account E only; D's identity policy names only D's role."""
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["D"], role_arn(sc.E_ROLE), "dana")
    assert error_of(exc)[0] == "AccessDenied"


def test_user_without_identity_policy_is_refused(world: World) -> None:
    """Both sides must allow: the trust names the account, the user's own side is silent."""
    account = world.accounts["E"]
    member = world.assume(world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")
    iam = world.client("iam", member)
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    nobody = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        world.assume(nobody, role_arn(sc.E_ROLE), "nobody")
    assert error_of(exc)[0] == "AccessDenied"


def test_role_session_has_only_the_roles_permissions(world: World) -> None:
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin")
    with pytest.raises(ClientError) as exc:
        world.client("iam", session).create_user(UserName="x")
    code, message, status = error_of(exc)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.E_ROLE}/erin is not authorized to "
        f"perform: iam:CreateUser on resource: arn:aws:iam::{MANAGEMENT}:user/x because no "
        "identity-based policy allows the iam:CreateUser action"
    )


def test_role_chaining_is_capped_at_one_hour(world: World) -> None:
    import json

    e = world.accounts["E"]
    world.client("iam", world.admin).create_role(
        RoleName="chain-target", MaxSessionDuration=43200,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": [f"arn:aws:iam::{e}:root", f"arn:aws:iam::{MANAGEMENT}:root"]},
        }]}),
    )
    member = world.assume(world.admin, f"arn:aws:iam::{e}:role/OrganizationAccountAccessRole")
    chained = world.assume(member, role_arn("chain-target"), "chained", DurationSeconds=3600)
    ident = world.client("sts", chained).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/chain-target/chained"
    with pytest.raises(ClientError) as exc:
        world.assume(member, role_arn("chain-target"), "chained", DurationSeconds=7200)
    assert error_of(exc) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.",
        400,
    )
    # the same role assumed by a user (not chained) may have the longer session
    direct = world.assume(world.admin, role_arn("chain-target"), "direct", DurationSeconds=7200)
    assert direct.token


def test_duration_above_max_session_duration(world: World) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin", DurationSeconds=7200)
    assert error_of(exc) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )


def test_session_policy_narrows_the_session(world: World) -> None:
    import json

    narrow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin",
                           Policy=json.dumps(narrow))
    assert world.client("sts", session).get_caller_identity()["Account"] == MANAGEMENT


ROOT_REFUSED = ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


@pytest.mark.parametrize("role", [sc.E_ROLE, "no-such-role"])
def test_root_cannot_assume_role(server: Server, world: World, role: str) -> None:
    """AWS's own wording, whatever the role (even one that does not exist)."""
    root_sts: Any = server.client("sts")
    with pytest.raises(ClientError) as exc:
        root_sts.assume_role(RoleArn=role_arn(role), RoleSessionName="root")
    assert error_of(exc) == ROOT_REFUSED


def test_root_session_token_cannot_assume_role(server: Server, world: World) -> None:
    root_sts: Any = server.client("sts")
    creds = root_sts.get_session_token()["Credentials"]
    sts: Any = server.client(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn(sc.E_ROLE), RoleSessionName="root")
    assert error_of(exc) == ROOT_REFUSED


def _statement(**extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", **extra}


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("{bad", "This policy contains invalid Json"),
        ("[1,2]", "This policy contains invalid Json"),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [
                _statement(Resource="*", Principal={"AWS": "*"})]}),
            "Policy document should not specify a principal.",
        ),
        (
            json.dumps({"Version": "2012-10-17", "Statement": [_statement()]}),
            "Policy statement must contain resources.",
        ),
    ],
    ids=["not-json", "array", "principal", "no-resource"],
)
def test_invalid_session_policy_is_refused_by_assume_role(
    world: World, policy: str, message: str
) -> None:
    """AssumeRole itself answers MalformedPolicyDocument (it used to succeed, and every later
    authorized call of the session failed with a 500)."""
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin", Policy=policy)
    assert error_of(exc) == ("MalformedPolicyDocument", message, 400)


def test_valid_session_policy_still_works_for_authorized_calls(world: World) -> None:
    allow = {"Version": "2012-10-17", "Statement": [_statement(Resource="*")]}
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin",
                           Policy=json.dumps(allow))
    assert "Buckets" in world.client("s3", session).list_buckets()
    with pytest.raises(ClientError) as exc:
        world.client("iam", session).list_users()
    code, message, status = error_of(exc)
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no identity-based policy allows the iam:ListUsers action")


def test_invalid_session_name_is_a_validation_error(world: World) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["E"], role_arn(sc.E_ROLE), "a b")
    code, message, status = error_of(exc)
    assert (code, status) == ("ValidationError", 400)
    assert "roleSessionName" in message


def test_session_token_carries_mfa_into_later_calls(world: World) -> None:
    user = world.users["D"]
    sts = world.client("sts", user)
    plain = sts.get_session_token(DurationSeconds=900)["Credentials"]
    plain_keys = Keys(plain["AccessKeyId"], plain["SecretAccessKey"], plain["SessionToken"])
    with pytest.raises(ClientError) as exc:
        world.assume(plain_keys, role_arn(sc.D_ROLE), "dana")
    assert error_of(exc)[0] == "AccessDenied"
    with_mfa = sts.get_session_token(
        DurationSeconds=900, SerialNumber=world.mfa_serial, TokenCode=world.next_code()
    )["Credentials"]
    mfa_keys = Keys(with_mfa["AccessKeyId"], with_mfa["SecretAccessKey"], with_mfa["SessionToken"])
    ident = world.client("sts", mfa_keys).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{world.accounts['D']}:user/d-user"
    session = world.assume(mfa_keys, role_arn(sc.D_ROLE), "dana-mfa")
    assert world.client("sts", session).get_caller_identity()["Arn"].endswith(
        f":assumed-role/{sc.D_ROLE}/dana-mfa"
    )
    for keys in (mfa_keys, plain_keys):
        with pytest.raises(ClientError) as exc:
            world.client("sts", keys).get_session_token()
        assert error_of(exc) == SESSION_CREDENTIALS_REFUSED
    # IAM refuses session-token credentials obtained without MFA outright, before any policy
    with pytest.raises(ClientError) as exc:
        world.client("iam", plain_keys).get_user()
    assert error_of(exc) == NO_MFA_TOKEN_REFUSED
    # with MFA the call reaches the policies (d-user's allow only sts:AssumeRole)
    with pytest.raises(ClientError) as exc:
        world.client("iam", mfa_keys).get_user()
    code, message, status = error_of(exc)
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no identity-based policy allows the iam:GetUser action")


SESSION_CREDENTIALS_REFUSED = (
    "AccessDenied", "Cannot call GetSessionToken with session credentials", 403
)
NO_MFA_TOKEN_REFUSED = (
    "InvalidClientTokenId", "The security token included in the request is invalid", 403
)


def _session(sts: Any, **extra: Any) -> Keys:
    creds = sts.get_session_token(**extra)["Credentials"]
    return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_session_token_iam_needs_mfa(server: Server) -> None:
    """A user allowed IAM reads: its GetSessionToken credentials call IAM only with MFA, while
    its long-term keys and an MFA'd session work as before."""
    root: Any = server.client("iam")
    name = "gst-iam-reader"
    root.create_user(UserName=name)
    root.put_user_policy(UserName=name, PolicyName="iam-read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"],
                       "Resource": "*"}],
    }))
    device = root.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial = device["SerialNumber"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    step = int(time.time()) // 30
    root.enable_mfa_device(UserName=name, SerialNumber=serial,
                           AuthenticationCode1=totp.at((step - 1) * 30),
                           AuthenticationCode2=totp.at(step * 30))
    key = root.create_access_key(UserName=name)["AccessKey"]
    user = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    user_sts: Any = server.client("sts", user.key, user.secret)
    user_iam: Any = server.client("iam", user.key, user.secret)
    assert user_iam.get_user()["User"]["UserName"] == name

    plain = _session(user_sts)
    plain_iam: Any = server.client("iam", plain.key, plain.secret, plain.token)
    for call in (plain_iam.get_user, plain_iam.list_users):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == NO_MFA_TOKEN_REFUSED
    plain_sts: Any = server.client("sts", plain.key, plain.secret, plain.token)
    assert plain_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/{name}"

    unused = max(step + 1, int(time.time()) // 30)  # a step not consumed by EnableMFADevice
    mfa = _session(user_sts, SerialNumber=serial, TokenCode=totp.at(unused * 30))
    mfa_iam: Any = server.client("iam", mfa.key, mfa.secret, mfa.token)
    assert mfa_iam.get_user()["User"]["UserName"] == name
    assert any(u["UserName"] == name for u in mfa_iam.list_users()["Users"])
    mfa_sts: Any = server.client("sts", mfa.key, mfa.secret, mfa.token)
    with pytest.raises(ClientError) as exc:
        mfa_sts.get_session_token()
    assert error_of(exc) == SESSION_CREDENTIALS_REFUSED


def test_role_session_cannot_call_get_session_token(world: World) -> None:
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin")
    with pytest.raises(ClientError) as exc:
        world.client("sts", session).get_session_token()
    assert error_of(exc) == SESSION_CREDENTIALS_REFUSED
