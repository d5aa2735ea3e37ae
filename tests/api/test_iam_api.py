"""IAM through boto3 against one real trailgate server: the operations of spec 3.7 (except the
Simulate* pair), with AWS's exact error codes, messages and HTTP statuses, and the effect of
every permission change on what the policy engine then allows.

Every test creates its own uniquely named entities (the server is shared by the session).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from .scenario_setup import Keys, World
from .server import MANAGEMENT, REGION, Server

ACCT = MANAGEMENT
AWS_POLICY = "arn:aws:iam::aws:policy/"
ADMIN = AWS_POLICY + "AdministratorAccess"
IAM_READ = AWS_POLICY + "IAMReadOnlyAccess"
S3_READ = AWS_POLICY + "AmazonS3ReadOnlyAccess"
NAME_PATTERN = r"[\w+=,.@-]+"
BAD_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)

# -- helpers -----------------------------------------------------------------------------------


def uid(prefix: str) -> str:
    return f"tgapi-{prefix}-{secrets.token_hex(4)}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def fails(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    """(code, message, status) of the ClientError ``call(**kwargs)`` raises."""
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return error_of(exc)


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(*principals: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole",
    }]})


def user_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCT}:user{path}{name}"


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCT}:role{path}{name}"


def client(server: Server, keys: Keys, service: str = "iam") -> Any:
    return server.client(service, keys.key, keys.secret, keys.token)


def denied(principal: str, action: str, resource: str, why: str = "") -> tuple[str, str, int]:
    reason = {
        "": f" because no identity-based policy allows the {action} action",
        "deny": " with an explicit deny in an identity-based policy",
        "boundary": f" because no permissions boundary allows the {action} action",
    }[why]
    return (
        "AccessDenied",
        f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
        + reason,
        403,
    )


def new_user(
    iam: Any, prefix: str, *, managed: tuple[str, ...] = (), inline: str | None = None,
    path: str = "/",
) -> tuple[str, Keys]:
    """A user with one access key, the given managed policies and an optional inline policy."""
    name = uid(prefix)
    iam.create_user(UserName=name, Path=path)
    for arn in managed:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline is not None:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, Keys(key["AccessKeyId"], key["SecretAccessKey"])


def can(call: Any, **kwargs: Any) -> bool:
    """True if the call succeeds, False on AccessDenied (anything else is raised)."""
    try:
        call(**kwargs)
    except ClientError as err:
        if err.response["Error"]["Code"] != "AccessDenied":
            raise
        return False
    return True


def list_all(iam: Any, method: str, member: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in iam.get_paginator(method).paginate(**kwargs):
        items += page[member]
    return items



# -- users -------------------------------------------------------------------------------------


def test_create_get_user_fields(iam: Any) -> None:
    name = uid("fields")
    created = iam.create_user(UserName=name, Path="/div/team/", Tags=[{"Key": "k", "Value": "v"}])
    user = created["User"]
    assert user["UserName"] == name
    assert user["Path"] == "/div/team/"
    assert user["Arn"] == user_arn(name, "/div/team/")
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["UserId"])
    assert isinstance(user["CreateDate"], datetime) and user["CreateDate"].tzinfo is not None
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_user(UserName=name)["User"]
    assert {k: got[k] for k in ("UserName", "UserId", "Arn", "Path", "CreateDate", "Tags")} == {
        k: user[k] for k in ("UserName", "UserId", "Arn", "Path", "CreateDate", "Tags")
    }
    assert "PermissionsBoundary" not in got


def test_get_user_without_name_is_the_caller(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "self", managed=(IAM_READ,))
    me = client(server, keys).get_user()["User"]
    assert me["UserName"] == name and me["Arn"] == user_arn(name)
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{ACCT}:root"
    assert root["UserId"] == ACCT
    assert "UserName" not in root


def test_user_names_are_unique_case_insensitively(iam: Any) -> None:
    name = uid("case")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name.upper())
    assert error_of(exc) == (
        "EntityAlreadyExists", f"User with name {name.upper()} already exists.", 409
    )
    # lookups ignore case too, and report the name as created
    assert iam.get_user(UserName=name.upper())["User"]["UserName"] == name


def test_no_custom_password_policy(iam: Any) -> None:
    """Without a custom password policy (the default applies) AWS answers NoSuchEntity."""
    with pytest.raises(ClientError) as exc:
        iam.get_account_password_policy()
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"],
            err["ResponseMetadata"]["HTTPStatusCode"]) == (
        "NoSuchEntity", f"The Password Policy with domain name {MANAGEMENT} cannot be found.",
        404)


def test_get_unknown_user(iam: Any) -> None:
    name = uid("ghost")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_invalid_user_name(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="has space")
    assert error_of(exc) == (
        "ValidationError",
        "1 validation error detected: Value 'has space' at 'userName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}",
        400,
    )


def test_list_users_paging_and_path_prefix(iam: Any) -> None:
    path = f"/{uid('page')}/"
    names = sorted(uid("pu") for _ in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=path)
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True and first["Marker"]
    assert [u["UserName"] for u in first["Users"]] == names[:2]
    second = iam.list_users(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert second["IsTruncated"] is True
    third = iam.list_users(PathPrefix=path, MaxItems=2, Marker=second["Marker"])
    assert third["IsTruncated"] is False and "Marker" not in third
    seen = [u["UserName"] for p in (first, second, third) for u in p["Users"]]
    assert seen == names
    # listings leave out tags and boundaries; the paginator walks the same pages
    assert all(set(u) == {"Path", "UserName", "UserId", "Arn", "CreateDate"}
               for u in first["Users"])
    assert [u["UserName"] for u in list_all(iam, "list_users", "Users", PathPrefix=path,
                                            PaginationConfig={"PageSize": 2})] == names
    # a prefix that matches nothing
    assert iam.list_users(PathPrefix=path + "none/")["Users"] == []


def test_delete_user(iam: Any) -> None:
    name = uid("del")
    iam.create_user(UserName=name)
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=name)
    assert error_of(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def _blocked_delete(iam: Any, name: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == ("DeleteConflict", message, 409)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name


def test_delete_user_conflicts(iam: Any) -> None:
    # access key
    name = uid("dc-key")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    _blocked_delete(iam, name, "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.delete_user(UserName=name)
    # login profile
    name = uid("dc-login")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="Str0ng!Passw0rd")
    _blocked_delete(iam, name, "Cannot delete entity, must delete login profile first.")
    iam.delete_login_profile(UserName=name)
    iam.delete_user(UserName=name)
    # inline policy
    name = uid("dc-inline")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(allow("iam:Get*")))
    _blocked_delete(iam, name, "Cannot delete entity, must delete policies first.")
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    # attached managed policy
    name = uid("dc-attached")
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=IAM_READ)
    _blocked_delete(iam, name, "Cannot delete entity, must detach all policies first.")
    iam.detach_user_policy(UserName=name, PolicyArn=IAM_READ)
    iam.delete_user(UserName=name)
    # group membership
    name, group = uid("dc-group"), uid("dc-grp")
    iam.create_user(UserName=name)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(UserName=name, GroupName=group)
    _blocked_delete(iam, name, "Cannot delete entity, must remove users from group first.")
    iam.remove_user_from_group(UserName=name, GroupName=group)
    iam.delete_user(UserName=name)
    iam.delete_group(GroupName=group)


def test_delete_user_with_mfa_device(iam: Any) -> None:
    name = uid("dc-mfa")
    iam.create_user(UserName=name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial, totp = device["SerialNumber"], pyotp.TOTP(device["Base32StringSeed"].decode())
    step = int(time.time()) // 30
    iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=totp.at((step - 1) * 30),
                          AuthenticationCode2=totp.at(step * 30))
    _blocked_delete(iam, name, "Cannot delete entity, must delete MFA device first.")
    iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=name)


def test_update_user_renames(iam: Any) -> None:
    old, new = uid("ren-old"), uid("ren-new")
    iam.create_user(UserName=old)
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    user = iam.get_user(UserName=new)["User"]
    assert user["Arn"] == user_arn(new, "/moved/")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=old)
    assert error_of(exc)[0] == "NoSuchEntity"


def test_user_tags(iam: Any) -> None:
    name = uid("tags")
    iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "a"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "TEAM", "Value": "b"}, {"Key": "env", "Value": ""}])
    tags = iam.list_user_tags(UserName=name)
    assert sorted((t["Key"], t["Value"]) for t in tags["Tags"]) == [("TEAM", "b"), ("env", "")]
    assert tags["IsTruncated"] is False
    iam.untag_user(UserName=name, TagKeys=["env"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "TEAM", "Value": "b"}]


# -- access keys -------------------------------------------------------------------------------


def test_access_key_lifecycle_and_limit(server: Server, iam: Any) -> None:
    name = uid("keys")
    iam.create_user(UserName=name)
    user_id = iam.get_user(UserName=name)["User"]["UserId"]
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["UserName"] == name and first["Status"] == "Active"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", first["AccessKeyId"])
    assert len(first["SecretAccessKey"]) == 40
    assert isinstance(first["CreateDate"], datetime)
    second = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    # the secret is returned only once
    listed = iam.list_access_keys(UserName=name)
    assert listed["IsTruncated"] is False
    assert sorted(k["AccessKeyId"] for k in listed["AccessKeyMetadata"]) == sorted(
        [first["AccessKeyId"], second["AccessKeyId"]]
    )
    for meta in listed["AccessKeyMetadata"]:
        assert set(meta) == {"UserName", "AccessKeyId", "Status", "CreateDate"}
    # a new key authenticates as the user
    keys = Keys(first["AccessKeyId"], first["SecretAccessKey"])
    ident = client(server, keys, "sts").get_caller_identity()
    assert (ident["Arn"], ident["UserId"], ident["Account"]) == (user_arn(name), user_id, ACCT)
    # an Inactive key is refused, and works again once reactivated
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"]
                for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses == {first["AccessKeyId"]: "Inactive", second["AccessKeyId"]: "Active"}
    with pytest.raises(ClientError) as exc:
        client(server, keys, "sts").get_caller_identity()
    assert error_of(exc) == BAD_TOKEN
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Active")
    assert client(server, keys, "sts").get_caller_identity()["Arn"] == user_arn(name)
    # a deleted key is refused
    iam.delete_access_key(UserName=name, AccessKeyId=first["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        client(server, keys, "sts").get_caller_identity()
    assert error_of(exc) == BAD_TOKEN
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(UserName=name, AccessKeyId=first["AccessKeyId"])
    assert error_of(exc) == (
        "NoSuchEntity", f"The Access Key with id {first['AccessKeyId']} cannot be found.", 404
    )
    # with one key gone, a new one may be created
    iam.create_access_key(UserName=name)


def test_access_key_for_unknown_user(iam: Any) -> None:
    name = uid("nokeys")
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The user with name {name} cannot be found.", 404)


def test_user_creates_own_key_without_user_name(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "ownkeys", inline=doc(
        allow(["iam:CreateAccessKey", "iam:DeleteAccessKey"], user_arn("${aws:username}"))
    ))
    own = client(server, keys)
    created = own.create_access_key()["AccessKey"]
    assert created["UserName"] == name
    own.delete_access_key(AccessKeyId=created["AccessKeyId"])
    # not someone else's
    other = uid("notmine")
    iam.create_user(UserName=other)
    with pytest.raises(ClientError) as exc:
        own.create_access_key(UserName=other)
    # IAM names an existing user "user NAME" in this refusal (as AWS does)
    assert error_of(exc) == denied(user_arn(name), "iam:CreateAccessKey", f"user {other}")


def test_user_lists_own_keys_and_mfa_devices(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "ownlist", inline=doc(
        allow(["iam:ListAccessKeys", "iam:ListMFADevices"], user_arn("${aws:username}"))
    ))
    own = client(server, keys)
    assert [k["AccessKeyId"] for k in own.list_access_keys()["AccessKeyMetadata"]] == [keys.key]
    assert own.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["UserName"] == name
    assert own.list_mfa_devices(UserName=name)["MFADevices"] == []


def test_access_key_never_used(iam: Any) -> None:
    name = uid("unused")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    last = iam.get_access_key_last_used(AccessKeyId=key)
    assert last["UserName"] == name
    assert last["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}


def test_access_key_last_used(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "used", managed=(IAM_READ,))
    client(server, keys).get_user()
    answer = iam.get_access_key_last_used(AccessKeyId=keys.key)
    assert answer["UserName"] == name
    last = answer["AccessKeyLastUsed"]
    assert (last["ServiceName"], last["Region"]) == ("iam", REGION)
    assert abs((datetime.now(UTC) - last["LastUsedDate"]).total_seconds()) < 120


# -- login profiles ----------------------------------------------------------------------------


def test_login_profile_lifecycle(iam: Any) -> None:
    name = uid("login")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName=name)
    assert error_of(exc) == (
        "NoSuchEntity", f"Login Profile for User {name} cannot be found.", 404
    )
    created = iam.create_login_profile(
        UserName=name, Password="Corr3ct-Horse!", PasswordResetRequired=True
    )["LoginProfile"]
    assert created["UserName"] == name and created["PasswordResetRequired"] is True
    assert isinstance(created["CreateDate"], datetime)
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=name, Password="An0ther-Passw0rd")
    assert error_of(exc) == (
        "EntityAlreadyExists", f"Login Profile for user {name} already exists.", 409
    )
    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert got["PasswordResetRequired"] is True
    assert "Password" not in got
    iam.update_login_profile(UserName=name, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    iam.delete_login_profile(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName=name)
    assert error_of(exc)[0] == "NoSuchEntity"


def test_weak_password(iam: Any) -> None:
    name = uid("weak")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=name, Password="short")
    assert error_of(exc) == (
        "PasswordPolicyViolation", "Password does not conform to the account password policy.",
        400,
    )


# -- groups ------------------------------------------------------------------------------------


def test_group_lifecycle(iam: Any) -> None:
    group, user = uid("grp"), uid("member")
    created = iam.create_group(GroupName=group, Path="/teams/")["Group"]
    assert created["Arn"] == f"arn:aws:iam::{ACCT}:group/teams/{group}"
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", created["GroupId"])
    with pytest.raises(ClientError) as exc:
        iam.create_group(GroupName=group.upper())
    assert error_of(exc) == (
        "EntityAlreadyExists", f"Group with name {group.upper()} already exists.", 409
    )
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert got["Group"]["GroupName"] == group
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert got["IsTruncated"] is False
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]].count(
        group
    ) == 1
    # inline and attached group policies
    iam.put_group_policy(GroupName=group, PolicyName="gp", PolicyDocument=doc(allow("iam:Get*")))
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["gp"]
    assert iam.get_group_policy(GroupName=group, PolicyName="gp")["PolicyDocument"] == json.loads(
        doc(allow("iam:Get*"))
    )
    iam.attach_group_policy(GroupName=group, PolicyArn=IAM_READ)
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": IAM_READ}
    ]
    # DeleteGroup needs members, inline and attached policies gone
    for message, undo in (
        ("Cannot delete entity, must remove users from group first.",
         lambda: iam.remove_user_from_group(GroupName=group, UserName=user)),
        ("Cannot delete entity, must delete policies first.",
         lambda: iam.delete_group_policy(GroupName=group, PolicyName="gp")),
        ("Cannot delete entity, must detach all policies first.",
         lambda: iam.detach_group_policy(GroupName=group, PolicyArn=IAM_READ)),
    ):
        with pytest.raises(ClientError) as exc:
            iam.delete_group(GroupName=group)
        assert error_of(exc) == ("DeleteConflict", message, 409)
        undo()
    iam.delete_group(GroupName=group)
    with pytest.raises(ClientError) as exc:
        iam.get_group(GroupName=group)
    assert error_of(exc) == ("NoSuchEntity", f"The group with name {group} cannot be found.", 404)
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []


def test_group_policies_grant_to_members(server: Server, iam: Any) -> None:
    group = uid("readers")
    iam.create_group(GroupName=group)
    iam.attach_group_policy(GroupName=group, PolicyArn=IAM_READ)
    name, keys = new_user(iam, "grp-member")
    member = client(server, keys)
    assert not can(member.list_roles)
    iam.add_user_to_group(GroupName=group, UserName=name)
    assert can(member.list_roles)
    iam.remove_user_from_group(GroupName=group, UserName=name)
    assert not can(member.list_roles)
    # an inline group policy grants as well
    iam.detach_group_policy(GroupName=group, PolicyArn=IAM_READ)
    iam.put_group_policy(GroupName=group, PolicyName="groups",
                         PolicyDocument=doc(allow("iam:ListGroups")))
    iam.add_user_to_group(GroupName=group, UserName=name)
    assert can(member.list_groups)
    iam.delete_group_policy(GroupName=group, PolicyName="groups")
    assert not can(member.list_groups)


# -- virtual MFA -------------------------------------------------------------------------------


def test_virtual_mfa_device(iam: Any) -> None:
    name = uid("mfa")
    iam.create_user(UserName=name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCT}:mfa/{name}"
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    seed = device["Base32StringSeed"].decode("ascii")
    assert re.fullmatch(r"[A-Z2-7]+=*", seed) and len(seed) >= 16
    base64.b32decode(seed)
    with pytest.raises(ClientError) as exc:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
    assert error_of(exc)[0::2] == ("EntityAlreadyExists", 409)
    unassigned = list_all(iam, "list_virtual_mfa_devices", "VirtualMFADevices",
                          AssignmentStatus="Unassigned")
    assert serial in [d["SerialNumber"] for d in unassigned]

    totp = pyotp.TOTP(seed)
    step = int(time.time()) // 30
    codes = [totp.at((step + i) * 30) for i in (-1, 0, 1)]
    # wrong codes: reversed order, and a code that is not the device's
    for wrong in ((codes[1], codes[0]), ("000000" if "000000" not in codes else "999999",
                                         codes[1])):
        with pytest.raises(ClientError) as exc:
            iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                  AuthenticationCode1=wrong[0], AuthenticationCode2=wrong[1])
        assert error_of(exc) == (
            "InvalidAuthenticationCode", "Authentication code for device is not valid.", 403
        )
    assert iam.list_mfa_devices(UserName=name)["MFADevices"] == []
    iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=codes[0], AuthenticationCode2=codes[1])
    devices = iam.list_mfa_devices(UserName=name)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [(name, serial)]
    assert isinstance(devices[0]["EnableDate"], datetime)
    assigned = list_all(iam, "list_virtual_mfa_devices", "VirtualMFADevices",
                        AssignmentStatus="Assigned")
    mine = next(d for d in assigned if d["SerialNumber"] == serial)
    assert mine["User"]["UserName"] == name and "EnableDate" in mine
    # resync: wrong codes refused, two consecutive current codes accepted
    with pytest.raises(ClientError) as exc:
        iam.resync_mfa_device(UserName=name, SerialNumber=serial,
                              AuthenticationCode1=codes[2], AuthenticationCode2=codes[1])
    assert error_of(exc)[0::2] == ("InvalidAuthenticationCode", 403)
    iam.resync_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=codes[1], AuthenticationCode2=codes[2])
    # an assigned device cannot be deleted
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=name)["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    remaining = list_all(iam, "list_virtual_mfa_devices", "VirtualMFADevices")
    assert serial not in [d["SerialNumber"] for d in remaining]


# -- roles -------------------------------------------------------------------------------------


def test_create_and_get_role_fields(iam: Any) -> None:
    name = uid("role")
    policy = trust(f"arn:aws:iam::{ACCT}:root")
    role = iam.create_role(
        RoleName=name, Path="/svc/", AssumeRolePolicyDocument=policy, Description="d e s c",
        MaxSessionDuration=7200, Tags=[{"Key": "owner", "Value": "tests"}],
    )["Role"]
    assert role["Arn"] == role_arn(name, "/svc/")
    assert role["Path"] == "/svc/" and role["RoleName"] == name
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["AssumeRolePolicyDocument"] == json.loads(policy)
    assert role["MaxSessionDuration"] == 7200
    assert role["Description"] == "d e s c"
    got = iam.get_role(RoleName=name)["Role"]
    for key in ("Arn", "Path", "RoleName", "RoleId", "CreateDate", "AssumeRolePolicyDocument",
                "MaxSessionDuration", "Description"):
        assert got[key] == role[key], key
    assert got["Tags"] == [{"Key": "owner", "Value": "tests"}]
    assert got["RoleLastUsed"] == {}
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=uid("norole"))
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_role_last_used_after_assume_role(server: Server, iam: Any) -> None:
    caller, keys = new_user(iam, "lastused")
    name = uid("used")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(user_arn(caller)))
    assert iam.get_role(RoleName=name)["Role"]["RoleLastUsed"] == {}
    client(server, keys, "sts").assume_role(RoleArn=role_arn(name), RoleSessionName="used")
    used = iam.get_role(RoleName=name)["Role"]["RoleLastUsed"]
    assert used["Region"] == REGION
    assert abs((datetime.now(UTC) - used["LastUsedDate"]).total_seconds()) < 120


def test_create_role_invalid_json(iam: Any) -> None:
    # what the AWS CLI sends when `file://` is forgotten: the file name itself
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=uid("badjson"), AssumeRolePolicyDocument="trust-policy.json")
    assert error_of(exc) == (
        "MalformedPolicyDocument", "This policy contains invalid Json", 400
    )


def test_create_role_truncated_json(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=uid("badjson"),
                        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": [')
    code, message, status = error_of(exc)
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert message


def test_trust_policy_with_resource(iam: Any) -> None:
    body = json.loads(trust(f"arn:aws:iam::{ACCT}:root"))
    body["Statement"][0]["Resource"] = "*"
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=uid("res"), AssumeRolePolicyDocument=json.dumps(body))
    assert error_of(exc) == ("MalformedPolicyDocument", "Has prohibited field Resource", 400)


def test_trust_policy_naming_a_missing_role(iam: Any) -> None:
    missing = role_arn(uid("missing"))
    name = uid("dangling")
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(missing))
    assert error_of(exc) == (
        "MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{missing}"', 400
    )
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc)[0] == "NoSuchEntity"


def test_trust_policy_grammar(iam: Any) -> None:
    """A trust policy may only allow STS role-assumption actions, and must name a principal."""
    not_sts = json.loads(trust(f"arn:aws:iam::{ACCT}:root"))
    not_sts["Statement"][0]["Action"] = "s3:GetObject"
    no_principal = json.loads(trust(f"arn:aws:iam::{ACCT}:root"))
    del no_principal["Statement"][0]["Principal"]
    for body in (not_sts, no_principal):
        with pytest.raises(ClientError) as exc:
            iam.create_role(RoleName=uid("grammar"), AssumeRolePolicyDocument=json.dumps(body))
        assert error_of(exc)[0::2] == ("MalformedPolicyDocument", 400)
    # STS wildcards, services and account ids are fine
    fine = json.loads(trust(f"arn:aws:iam::{ACCT}:root"))
    fine["Statement"][0]["Action"] = ["sts:AssumeRole", "sts:TagSession"]
    fine["Statement"].append({"Effect": "Allow", "Action": "sts:*",
                              "Principal": {"Service": "cloudtrail.amazonaws.com"}})
    iam.create_role(RoleName=uid("grammar-ok"), AssumeRolePolicyDocument=json.dumps(fine))


def test_trust_policy_size_quota(iam: Any) -> None:
    accounts = [f"{n:012d}" for n in range(1, 200)]
    big = trust(*accounts)
    assert len(re.sub(r"\s", "", big)) > 2048
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=uid("bigtrust"), AssumeRolePolicyDocument=big)
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409)


@pytest.mark.parametrize(("value", "constraint"), [
    (100, "Member must have value greater than or equal to 3600"),
    (43201, "Member must have value less than or equal to 43200"),
])
def test_max_session_duration_out_of_range(unchecked_iam: Any, value: int, constraint: str) -> None:
    with pytest.raises(ClientError) as exc:
        unchecked_iam.create_role(RoleName=uid("dur"), MaxSessionDuration=value,
                                  AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    assert error_of(exc) == (
        "ValidationError",
        f"1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to "
        f"satisfy constraint: {constraint}",
        400,
    )


def test_role_name_with_a_space(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="my role", AssumeRolePolicyDocument=trust(f"{ACCT}"))
    assert error_of(exc) == (
        "ValidationError",
        "1 validation error detected: Value 'my role' at 'roleName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}",
        400,
    )


def test_role_name_differing_only_in_case(iam: Any) -> None:
    name = uid("Case")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=name.lower(),
                        AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    assert error_of(exc) == (
        "EntityAlreadyExists", f"Role with name {name.lower()} already exists.", 409
    )


def test_list_roles_paging_prefix_and_no_tags(iam: Any) -> None:
    path = f"/{uid('rpage')}/"
    names = sorted(uid("lr") for _ in range(3))
    for name in names:
        iam.create_role(RoleName=name, Path=path, Tags=[{"Key": "t", "Value": "v"}],
                        PermissionsBoundary=IAM_READ,
                        AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True
    assert [r["RoleName"] for r in first["Roles"]] == names[:2]
    rest = iam.list_roles(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and "Marker" not in rest
    assert [r["RoleName"] for r in rest["Roles"]] == names[2:]
    for role in first["Roles"] + rest["Roles"]:
        assert "Tags" not in role and "PermissionsBoundary" not in role
        assert "RoleLastUsed" not in role
        assert role["Path"] == path and role["AssumeRolePolicyDocument"]["Statement"]
    # GetRole does show them
    got = iam.get_role(RoleName=names[0])["Role"]
    assert got["Tags"] == [{"Key": "t", "Value": "v"}]
    assert got["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": IAM_READ
    }
    all_names = [r["RoleName"] for r in list_all(iam, "list_roles", "Roles")]
    assert set(names) <= set(all_names)


def test_update_role(iam: Any) -> None:
    name = uid("upd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 3600
    iam.update_role(RoleName=name, Description="new words", MaxSessionDuration=43200)
    role = iam.get_role(RoleName=name)["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("new words", 43200)
    updated = iam.update_role_description(RoleName=name, Description="other")["Role"]
    assert updated["Description"] == "other"
    with pytest.raises(ClientError) as exc:
        iam.update_role(RoleName=uid("absent"), Description="x")
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_update_assume_role_policy_takes_effect_immediately(server: Server, iam: Any) -> None:
    first, first_keys = new_user(iam, "trusted-a")
    second, second_keys = new_user(iam, "trusted-b")
    name = uid("switch")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(user_arn(first)))
    sts_a, sts_b = client(server, first_keys, "sts"), client(server, second_keys, "sts")
    assert sts_a.assume_role(RoleArn=role_arn(name), RoleSessionName="sa")["Credentials"]
    with pytest.raises(ClientError) as exc:
        sts_b.assume_role(RoleArn=role_arn(name), RoleSessionName="sb")
    assert error_of(exc) == (
        "AccessDenied",
        f"User: {user_arn(second)} is not authorized to perform: sts:AssumeRole on resource: "
        f"{role_arn(name)}",
        403,
    )
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust(user_arn(second)))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == json.loads(
        trust(user_arn(second))
    )
    assert sts_b.assume_role(RoleArn=role_arn(name), RoleSessionName="sb")["Credentials"]
    with pytest.raises(ClientError) as exc:
        sts_a.assume_role(RoleArn=role_arn(name), RoleSessionName="sa")
    assert error_of(exc)[0::2] == ("AccessDenied", 403)
    # the same validation as CreateRole
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust(role_arn(uid("no"))))
    assert error_of(exc)[0::2] == ("MalformedPolicyDocument", 400)


def test_delete_role_conflicts(iam: Any) -> None:
    name = uid("delrole")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    iam.attach_role_policy(RoleName=name, PolicyArn=IAM_READ)
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(allow("iam:Get*")))
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.", 409
    )
    iam.detach_role_policy(RoleName=name, PolicyArn=IAM_READ)
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc) == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.", 409
    )
    iam.delete_role_policy(RoleName=name, PolicyName="p")
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def test_role_tags(iam: Any) -> None:
    name = uid("rtags")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "3"}])
    assert sorted((t["Key"], t["Value"]) for t in iam.list_role_tags(RoleName=name)["Tags"]) == [
        ("a", "3"), ("b", "2")
    ]
    iam.untag_role(RoleName=name, TagKeys=["a"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert iam.get_role(RoleName=name)["Role"]["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as exc:
        iam.tag_role(RoleName=name, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
    assert error_of(exc) == (
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    )


# -- inline policies ---------------------------------------------------------------------------

SPACED = """{
  "Statement" : [ {
      "Effect" :   "Allow",
      "Resource":"*",
      "Action": [ "iam:GetUser",
                  "iam:ListRoles" ]
  } ],
     "Version": "2012-10-17"
}"""


@pytest.fixture
def capture_policy_text(iam: Any) -> Iterator[list[str]]:
    """The raw (URL-decoded) PolicyDocument text of Get*Policy responses, before botocore turns
    it into a dict."""
    seen: list[str] = []

    def grab(http_response: Any, **_: Any) -> None:
        match = re.search(rb"<PolicyDocument>(.*?)</PolicyDocument>", http_response.content,
                          re.S)
        if match:
            text = match.group(1).decode()
            text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
            seen.append(urllib.parse.unquote(text.replace("&gt;", ">")))

    iam.meta.events.register("after-call.iam.GetUserPolicy", grab)
    iam.meta.events.register("after-call.iam.GetRolePolicy", grab)
    yield seen
    iam.meta.events.unregister("after-call.iam.GetUserPolicy", grab)
    iam.meta.events.unregister("after-call.iam.GetRolePolicy", grab)


def test_inline_user_policy_round_trip(iam: Any, capture_policy_text: list[str]) -> None:
    name = uid("inline")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="spaced", PolicyDocument=SPACED)
    got = iam.get_user_policy(UserName=name, PolicyName="spaced")
    assert got["UserName"] == name and got["PolicyName"] == "spaced"
    assert got["PolicyDocument"] == json.loads(SPACED)
    assert list(got["PolicyDocument"]) == ["Statement", "Version"]  # key order kept
    assert capture_policy_text == [SPACED]  # the text as submitted
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["spaced"]
    # put again replaces
    iam.put_user_policy(UserName=name, PolicyName="spaced", PolicyDocument=doc(allow("iam:Get*")))
    assert iam.get_user_policy(UserName=name, PolicyName="spaced")["PolicyDocument"] == (
        json.loads(doc(allow("iam:Get*")))
    )
    iam.delete_user_policy(UserName=name, PolicyName="spaced")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []
    with pytest.raises(ClientError) as exc:
        iam.get_user_policy(UserName=name, PolicyName="spaced")
    assert error_of(exc) == (
        "NoSuchEntity", "The user policy with name spaced cannot be found.", 404
    )


def test_inline_role_policy_round_trip(iam: Any, capture_policy_text: list[str]) -> None:
    name = uid("rinline")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    iam.put_role_policy(RoleName=name, PolicyName="b", PolicyDocument=SPACED)
    iam.put_role_policy(RoleName=name, PolicyName="a", PolicyDocument=doc(allow("sts:*")))
    got = iam.get_role_policy(RoleName=name, PolicyName="b")
    assert (got["RoleName"], got["PolicyName"]) == (name, "b")
    assert got["PolicyDocument"] == json.loads(SPACED)
    assert capture_policy_text == [SPACED]
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["a", "b"]
    with pytest.raises(ClientError) as exc:
        iam.get_role_policy(RoleName=name, PolicyName="zzz")
    assert error_of(exc) == (
        "NoSuchEntity", "The role policy with name zzz cannot be found.", 404
    )


def test_inline_policy_validation(iam: Any) -> None:
    name = uid("badinline")
    iam.create_user(UserName=name)
    with_principal = json.loads(doc(allow("iam:Get*")))
    with_principal["Statement"][0]["Principal"] = {"AWS": "*"}
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(with_principal))
    assert error_of(exc) == (
        "MalformedPolicyDocument", "Policy document should not specify a principal.", 400
    )
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=uid("nouser"), PolicyName="p",
                            PolicyDocument=doc(allow("iam:Get*")))
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def _padded(size: int) -> str:
    """A policy of about ``size`` non-whitespace characters."""
    base = doc(allow("iam:GetUser", "arn:aws:iam::*:user/"))
    pad = size - len(base)
    return doc(allow("iam:GetUser", "arn:aws:iam::*:user/" + "x" * pad))


def test_inline_policy_aggregate_size_quota(iam: Any) -> None:
    name = uid("quota")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="one", PolicyDocument=_padded(1100))
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=name, PolicyName="two", PolicyDocument=_padded(1100))
    assert error_of(exc) == (
        "LimitExceeded", f"Maximum policy size of 2048 bytes exceeded for user {name}", 409
    )
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["one"]
    # whitespace does not count
    roomy = _padded(900).replace(": ", ":\n" + " " * 300)
    assert len(roomy) > 2048
    iam.put_user_policy(UserName=name, PolicyName="roomy", PolicyDocument=roomy)
    # a role has 10,240
    role = uid("rquota")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    for index in range(4):
        iam.put_role_policy(RoleName=role, PolicyName=f"p{index}", PolicyDocument=_padded(2500))
    with pytest.raises(ClientError) as exc:
        iam.put_role_policy(RoleName=role, PolicyName="p4", PolicyDocument=_padded(2500))
    assert error_of(exc) == (
        "LimitExceeded", f"Maximum policy size of 10240 bytes exceeded for role {role}", 409
    )


# -- managed policies --------------------------------------------------------------------------


def policy_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCT}:policy{path}{name}"


def test_create_and_get_policy(iam: Any) -> None:
    name = uid("pol")
    text = doc(allow("iam:ListRoles"))
    policy = iam.create_policy(PolicyName=name, Path="/p/", PolicyDocument=text,
                               Description="about")["Policy"]
    assert policy["Arn"] == policy_arn(name, "/p/")
    assert policy["DefaultVersionId"] == "v1"
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", policy["PolicyId"])
    assert (policy["IsAttachable"], policy["AttachmentCount"]) == (True, 0)
    assert policy["PermissionsBoundaryUsageCount"] == 0
    got = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert got["Description"] == "about"
    assert got["PolicyId"] == policy["PolicyId"]
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(text)
    assert version["IsDefaultVersion"] is True
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=name, PolicyDocument=text)
    assert error_of(exc) == (
        "EntityAlreadyExists",
        f"A policy called {name} already exists. Duplicate names are not allowed.",
        409,
    )
    local = list_all(iam, "list_policies", "Policies", Scope="Local")
    assert policy["Arn"] in [p["Arn"] for p in local]
    assert all(not p["Arn"].startswith(AWS_POLICY) for p in local)
    missing = policy_arn(uid("nopol"))
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=missing)
    assert error_of(exc) == ("NoSuchEntity", f"Policy {missing} was not found.", 404)


def test_managed_policy_size_quota(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=uid("huge"), PolicyDocument=_padded(6300))
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    # whitespace is not counted
    spaced = _padded(6000).replace(": ", ":\n" + " " * 400)
    assert len(spaced) > 6144
    arn = iam.create_policy(PolicyName=uid("spaced"), PolicyDocument=spaced)["Policy"]["Arn"]
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_padded(6300))
    assert error_of(exc)[0::2] == ("LimitExceeded", 409)


def test_managed_policy_needs_a_current_version(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=uid("nover"), PolicyDocument=json.dumps(
            {"Statement": [allow("iam:ListRoles")]}
        ))
    assert error_of(exc)[0::2] == ("MalformedPolicyDocument", 400)


def test_policy_versions_limit_and_default(server: Server, iam: Any) -> None:
    name = uid("ver")
    arn = iam.create_policy(PolicyName=name, PolicyDocument=doc(allow("iam:ListRoles")))[
        "Policy"]["Arn"]
    user, keys = new_user(iam, "ver-user")
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    caller = client(server, keys)
    assert can(caller.list_roles) and not can(caller.list_groups)
    # v2 allows only ListGroups, not yet the default
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:ListGroups")))
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert v2["PolicyVersion"]["IsDefaultVersion"] is False
    assert can(caller.list_roles) and not can(caller.list_groups)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert can(caller.list_groups) and not can(caller.list_roles)
    # up to five versions
    for expected in ("v3", "v4", "v5"):
        made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:Get*")))
        assert made["PolicyVersion"]["VersionId"] == expected
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:Get*")))
    assert error_of(exc) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must "
        "delete an existing version.",
        409,
    )
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in listed) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in listed if v["IsDefaultVersion"]] == ["v2"]
    # the default version cannot be deleted; others can, and numbers are not reused
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert error_of(exc) == (
        "DeleteConflict", "Cannot delete the default version of a policy.", 409
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:Get*")),
                                     SetAsDefault=True)
    assert made["PolicyVersion"]["VersionId"] == "v6"
    assert made["PolicyVersion"]["IsDefaultVersion"] is True
    assert not can(caller.list_groups)
    with pytest.raises(ClientError) as exc:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_delete_policy_conflicts(iam: Any) -> None:
    name = uid("delpol")
    arn = iam.create_policy(PolicyName=name, PolicyDocument=doc(allow("iam:Get*")))["Policy"][
        "Arn"]
    role = uid("holder")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert entities["PolicyUsers"] == [] and entities["PolicyGroups"] == []
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:List*")))
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc) == (
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the "
        "policy's versions. The default version is deleted with the policy.",
        409,
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=arn)
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_policy_tags(iam: Any) -> None:
    arn = iam.create_policy(PolicyName=uid("ptag"), PolicyDocument=doc(allow("iam:Get*")),
                            Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert sorted(t["Key"] for t in iam.list_policy_tags(PolicyArn=arn)["Tags"]) == ["a", "b"]
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]


def test_aws_managed_policies(iam: Any) -> None:
    aws = list_all(iam, "list_policies", "Policies", Scope="AWS")
    arns = {p["Arn"] for p in aws}
    assert {ADMIN, IAM_READ, S3_READ} <= arns
    assert all(a.startswith(AWS_POLICY) for a in arns)
    s3 = iam.get_policy(PolicyArn=S3_READ)["Policy"]
    assert (s3["PolicyName"], s3["Path"], s3["DefaultVersionId"]) == (
        "AmazonS3ReadOnlyAccess", "/", "v3"
    )
    version = iam.get_policy_version(PolicyArn=S3_READ, VersionId="v3")["PolicyVersion"]
    assert version["Document"] == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*",
                   "s3-object-lambda:List*"],
        "Resource": "*",
    }]}
    admin = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]["Document"]
    assert admin["Statement"] in (
        [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    )


@pytest.mark.parametrize("operation", ["create_policy_version", "delete_policy",
                                       "set_default_policy_version"])
def test_aws_managed_policies_are_read_only(iam: Any, operation: str) -> None:
    kwargs: dict[str, Any] = {"PolicyArn": IAM_READ}
    if operation == "create_policy_version":
        kwargs["PolicyDocument"] = doc(allow("*"))
    if operation == "set_default_policy_version":
        kwargs["VersionId"] = "v1"
    action = "iam:" + "".join(p.title() for p in operation.split("_"))
    with pytest.raises(ClientError) as exc:
        getattr(iam, operation)(**kwargs)
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:root is not authorized to perform: {action} on resource: "
        f"policy {IAM_READ}",
        403,
    )
    assert iam.get_policy(PolicyArn=IAM_READ)["Policy"]["DefaultVersionId"] == "v4"


# -- attach / detach ---------------------------------------------------------------------------


def test_aws_managed_policy_really_grants(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "attach")
    caller = client(server, keys)
    with pytest.raises(ClientError) as exc:
        caller.list_roles()
    assert error_of(exc)[0::2] == ("AccessDenied", 403)
    iam.attach_user_policy(UserName=name, PolicyArn=IAM_READ)
    iam.attach_user_policy(UserName=name, PolicyArn=IAM_READ)  # attaching twice is a no-op
    attached = iam.list_attached_user_policies(UserName=name)
    assert attached["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": IAM_READ}
    ]
    assert attached["IsTruncated"] is False
    assert can(caller.list_roles)
    assert caller.get_user(UserName=name)["User"]["UserName"] == name
    # a write it does not grant
    target = uid("nope")
    with pytest.raises(ClientError) as exc:
        caller.create_user(UserName=target)
    assert error_of(exc) == denied(user_arn(name), "iam:CreateUser", user_arn(target))
    iam.detach_user_policy(UserName=name, PolicyArn=IAM_READ)
    assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == []
    assert not can(caller.list_roles)
    with pytest.raises(ClientError) as exc:
        iam.detach_user_policy(UserName=name, PolicyArn=IAM_READ)
    assert error_of(exc) == ("NoSuchEntity", f"Policy {IAM_READ} was not found.", 404)


def test_attached_role_policy_grants_its_sessions(server: Server, iam: Any) -> None:
    caller, keys = new_user(iam, "rolecaller")
    name = uid("s3reader")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(user_arn(caller)))
    iam.attach_role_policy(RoleName=name, PolicyArn=S3_READ)
    iam.attach_role_policy(RoleName=name, PolicyArn=IAM_READ)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([S3_READ, IAM_READ])
    filtered = iam.list_attached_role_policies(RoleName=name, PathPrefix="/", MaxItems=1)
    assert filtered["IsTruncated"] is True and len(filtered["AttachedPolicies"]) == 1
    creds = client(server, keys, "sts").assume_role(
        RoleArn=role_arn(name), RoleSessionName="reader")["Credentials"]
    session = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert can(client(server, session).list_roles)
    target = uid("x")
    with pytest.raises(ClientError) as exc:
        client(server, session).create_user(UserName=target)
    assert error_of(exc) == denied(
        f"arn:aws:sts::{ACCT}:assumed-role/{name}/reader", "iam:CreateUser", user_arn(target)
    )
    iam.detach_role_policy(RoleName=name, PolicyArn=IAM_READ)
    assert not can(client(server, session).list_roles)


def test_attach_unknown_policy(iam: Any) -> None:
    name = uid("attach-missing")
    iam.create_user(UserName=name)
    missing = policy_arn(uid("gone"))
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=name, PolicyArn=missing)
    assert error_of(exc) == (
        "NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404
    )
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=name, PolicyArn="this-is-not-an-arn-at-all")
    assert error_of(exc) == ("InvalidInput", "ARN this-is-not-an-arn-at-all is not valid.", 400)


def test_attached_policies_quota(iam: Any) -> None:
    name = uid("ten")
    iam.create_user(UserName=name)
    arns = [
        iam.create_policy(PolicyName=uid(f"q{i}"), PolicyDocument=doc(allow("iam:Get*")))[
            "Policy"]["Arn"]
        for i in range(11)
    ]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=name, PolicyArn=arns[10])
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10", 409)


# -- authorization on IAM itself ---------------------------------------------------------------


def test_list_users_denied_message(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "nopol")
    with pytest.raises(ClientError) as exc:
        client(server, keys).list_users()
    assert error_of(exc) == denied(user_arn(name), "iam:ListUsers", f"arn:aws:iam::{ACCT}:user/")


def test_list_roles_denied_message(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "nopol")
    with pytest.raises(ClientError) as exc:
        client(server, keys).list_roles()
    assert error_of(exc) == denied(user_arn(name), "iam:ListRoles", f"arn:aws:iam::{ACCT}:role/")


def test_list_actions_scoped_to_their_resource_type(server: Server, iam: Any) -> None:
    _, keys = new_user(iam, "scoped", inline=doc(allow(
        ["iam:ListUsers", "iam:ListRoles", "iam:ListGroups"],
        [f"arn:aws:iam::{ACCT}:user/*", f"arn:aws:iam::{ACCT}:role/*",
         f"arn:aws:iam::{ACCT}:group/*"],
    )))
    caller = client(server, keys)
    assert can(caller.list_users)
    assert can(caller.list_roles)
    assert can(caller.list_groups)


def test_get_policy_denied_message(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "nopol")
    with pytest.raises(ClientError) as exc:
        client(server, keys).get_policy(PolicyArn=IAM_READ)
    assert error_of(exc) == denied(user_arn(name), "iam:GetPolicy", f"policy {IAM_READ}")


def test_user_without_policies_is_refused(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "nopol")
    other = uid("other")
    iam.create_user(UserName=other, Path="/x/")
    caller = client(server, keys)
    with pytest.raises(ClientError) as exc:
        caller.get_user(UserName=other)
    assert error_of(exc) == denied(user_arn(name), "iam:GetUser", f"user {other}")
    absent = uid("absent")
    with pytest.raises(ClientError) as exc:
        caller.get_role(RoleName=absent)
    assert error_of(exc) == denied(user_arn(name), "iam:GetRole", f"role {absent}")
    # nothing was read or changed, and the refusal is not a missing-entity answer
    with pytest.raises(ClientError) as exc:
        caller.create_role(RoleName=uid("r"), AssumeRolePolicyDocument=trust(f"{ACCT}"))
    assert error_of(exc)[0::2] == ("AccessDenied", 403)


def test_explicit_deny_beats_administrator_access(server: Server, iam: Any) -> None:
    name, keys = new_user(iam, "denied-admin", managed=(ADMIN,),
                          inline=doc(deny("iam:CreateUser")))
    caller = client(server, keys)
    assert can(caller.list_roles)
    target = uid("blocked")
    with pytest.raises(ClientError) as exc:
        caller.create_user(UserName=target)
    assert error_of(exc) == denied(user_arn(name), "iam:CreateUser", user_arn(target), "deny")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=target)
    assert error_of(exc)[0] == "NoSuchEntity"
    # the deny can be narrowed to a resource
    iam.put_user_policy(UserName=name, PolicyName="inline",
                        PolicyDocument=doc(deny("iam:CreateUser", user_arn("tgapi-locked-*"))))
    allowed = uid("free")
    caller.create_user(UserName=allowed)
    locked = "tgapi-locked-" + secrets.token_hex(4)
    with pytest.raises(ClientError) as exc:
        caller.create_user(UserName=locked)
    assert error_of(exc) == denied(user_arn(name), "iam:CreateUser", user_arn(locked), "deny")


def test_permissions_boundary_limits_admin(server: Server, iam: Any) -> None:
    name = uid("bounded")
    created = iam.create_user(UserName=name, PermissionsBoundary=IAM_READ)["User"]
    boundary = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": IAM_READ}
    assert created["PermissionsBoundary"] == boundary
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"] == boundary
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    caller = client(server, Keys(key["AccessKeyId"], key["SecretAccessKey"]))
    assert can(caller.list_roles)  # admin ∩ IAM read-only
    target = uid("bt")
    with pytest.raises(ClientError) as exc:
        caller.create_user(UserName=target)
    assert error_of(exc) == denied(user_arn(name), "iam:CreateUser", user_arn(target), "boundary")
    # the boundary is counted on the policy and can be changed / removed
    assert any(u["UserName"] == name for u in iam.list_entities_for_policy(
        PolicyArn=IAM_READ, PolicyUsageFilter="PermissionsBoundary")["PolicyUsers"])
    custom = iam.create_policy(PolicyName=uid("bound"),
                               PolicyDocument=doc(allow("iam:CreateUser")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=custom)
    assert iam.get_policy(PolicyArn=custom)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    caller.create_user(UserName=target)
    assert not can(caller.list_roles)
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
    assert can(caller.list_roles)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=uid("nob"), PermissionsBoundary=policy_arn(uid("absent")))
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_role_permissions_boundary(server: Server, iam: Any) -> None:
    caller, keys = new_user(iam, "rb-caller")
    name = uid("rbound")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(user_arn(caller)),
                    PermissionsBoundary=IAM_READ)
    iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN)
    creds = client(server, keys, "sts").assume_role(
        RoleArn=role_arn(name), RoleSessionName="sb")["Credentials"]
    session = client(server, Keys(creds["AccessKeyId"], creds["SecretAccessKey"],
                                  creds["SessionToken"]))
    assert can(session.list_roles)
    assert not can(session.create_user, UserName=uid("rb"))
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    assert can(session.create_user, UserName=uid("rb"))
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=IAM_READ)
    assert not can(session.create_user, UserName=uid("rb"))


# -- account-level -----------------------------------------------------------------------------


def test_get_account_authorization_details(iam: Any) -> None:
    user, group, role = uid("gaad-u"), uid("gaad-g"), uid("gaad-r")
    policy = iam.create_policy(PolicyName=uid("gaad-p"),
                               PolicyDocument=doc(allow("iam:ListRoles")))["Policy"]
    iam.create_user(UserName=user, Tags=[{"Key": "k", "Value": "v"}])
    iam.create_group(GroupName=group)
    iam.add_user_to_group(UserName=user, GroupName=group)
    iam.put_user_policy(UserName=user, PolicyName="up", PolicyDocument=SPACED)
    iam.attach_user_policy(UserName=user, PolicyArn=policy["Arn"])
    iam.put_group_policy(GroupName=group, PolicyName="gp", PolicyDocument=doc(allow("iam:Get*")))
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:root"))
    iam.attach_role_policy(RoleName=role, PolicyArn=S3_READ)

    def details(*filters: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {
            "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []
        }
        pages = iam.get_paginator("get_account_authorization_details").paginate(
            Filter=list(filters), PaginationConfig={"PageSize": 50})
        for page in pages:
            for member in out:
                out[member] += page.get(member, [])
        return out

    users = details("User")
    assert users["RoleDetailList"] == [] and users["Policies"] == []
    mine = next(u for u in users["UserDetailList"] if u["UserName"] == user)
    assert mine["Arn"] == user_arn(user)
    assert mine["UserPolicyList"] == [{"PolicyName": "up", "PolicyDocument": json.loads(SPACED)}]
    assert mine["AttachedManagedPolicies"] == [
        {"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]}
    ]
    assert mine["GroupList"] == [group]
    assert mine["Tags"] == [{"Key": "k", "Value": "v"}]
    everything = details("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")
    grp = next(g for g in everything["GroupDetailList"] if g["GroupName"] == group)
    assert grp["GroupPolicyList"] == [
        {"PolicyName": "gp", "PolicyDocument": json.loads(doc(allow("iam:Get*")))}
    ]
    rol = next(r for r in everything["RoleDetailList"] if r["RoleName"] == role)
    assert rol["AssumeRolePolicyDocument"] == json.loads(trust(f"arn:aws:iam::{ACCT}:root"))
    assert rol["AttachedManagedPolicies"] == [
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ}
    ]
    assert rol["RolePolicyList"] == []
    pol = next(p for p in everything["Policies"] if p["Arn"] == policy["Arn"])
    assert pol["AttachmentCount"] == 1
    assert pol["PolicyVersionList"][0]["Document"] == json.loads(doc(allow("iam:ListRoles")))
    assert pol["PolicyVersionList"][0]["IsDefaultVersion"] is True
    assert S3_READ in [p["Arn"] for p in everything["Policies"]]  # attached AWS policy


def test_account_aliases(world: World, iam: Any) -> None:
    alias = "tgapi-" + secrets.token_hex(4)
    assert "AccountAliases" in iam.list_account_aliases()
    iam.create_account_alias(AccountAlias=alias)
    try:
        assert iam.list_account_aliases()["AccountAliases"] == [alias]
        # aliases are unique across accounts
        member = world.assume(
            world.admin,
            f"arn:aws:iam::{world.accounts['E']}:role/OrganizationAccountAccessRole", "alias",
        )
        with pytest.raises(ClientError) as exc:
            world.client("iam", member).create_account_alias(AccountAlias=alias)
        assert error_of(exc) == (
            "EntityAlreadyExists", f"The account alias {alias} already exists.", 409
        )
        # a second alias replaces the first (one alias per account)
        other = alias + "-b"
        iam.create_account_alias(AccountAlias=other)
        assert iam.list_account_aliases()["AccountAliases"] == [other]
        alias = other
        with pytest.raises(ClientError) as exc:
            iam.create_account_alias(AccountAlias="Not_Valid")
        assert error_of(exc)[0::2] == ("ValidationError", 400)
    finally:
        iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []
    with pytest.raises(ClientError) as exc:
        iam.delete_account_alias(AccountAlias=alias)
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_account_summary(iam: Any) -> None:
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["AccessKeysPerUserQuota"] == 2
    assert summary["VersionsPerPolicyQuota"] == 5
    assert summary["UserPolicySizeQuota"] == 2048 and summary["RolePolicySizeQuota"] == 10240
    assert summary["Users"] >= 1 and summary["Roles"] >= 1
