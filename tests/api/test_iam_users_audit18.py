"""IAM users, groups, access keys, login profiles and virtual MFA devices, checked through boto3
against the IAM API reference, botocore's iam model and AWS answers quoted in public reports:
the wording of the errors, what a rename carries along, and what the listings show."""

from __future__ import annotations

import json
import time
from typing import Any

import pyotp

from .server import Server
from .test_iam_api import ACCT, fails, uid

GET_USER_ONLY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}],
})


def _enable(iam: Any, user: str, device: dict[str, Any]) -> None:
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    step = int(time.time()) // 30
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at((step - 1) * 30),
                          AuthenticationCode2=totp.at(step * 30))


def test_virtual_mfa_device_name_taken_at_the_same_path(iam: Any) -> None:
    # the console and CloudTrail records show AWS's wording for a second device of that name
    name = uid("mfa-dup")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCT}:mfa/{name}"
    assert fails(iam.create_virtual_mfa_device, VirtualMFADeviceName=name) == (
        "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409)
    # another path is another device
    other = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/team/")
    assert other["VirtualMFADevice"]["SerialNumber"] == f"arn:aws:iam::{ACCT}:mfa/team/{name}"
    for serial in (device["SerialNumber"], other["VirtualMFADevice"]["SerialNumber"]):
        iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_virtual_mfa_listing_by_assignment_status(iam: Any) -> None:
    # AssignmentStatus defaults to Any; unassigned devices show only their serial number
    user, free = uid("mfa-as"), uid("mfa-as")
    iam.create_user(UserName=user)
    used = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    spare = iam.create_virtual_mfa_device(VirtualMFADeviceName=free)["VirtualMFADevice"]
    _enable(iam, user, used)

    def serials(**kw: Any) -> dict[str, dict[str, Any]]:
        pages = iam.get_paginator("list_virtual_mfa_devices").paginate(**kw)
        return {d["SerialNumber"]: d for p in pages for d in p["VirtualMFADevices"]}

    every = serials()
    assert set(every) >= {used["SerialNumber"], spare["SerialNumber"]}
    assert every[spare["SerialNumber"]] == {"SerialNumber": spare["SerialNumber"]}
    assert every[used["SerialNumber"]]["User"]["UserName"] == user
    assert "EnableDate" in every[used["SerialNumber"]]
    assigned, unassigned = serials(AssignmentStatus="Assigned"), serials(AssignmentStatus="Unassigned")
    assert used["SerialNumber"] in assigned and spare["SerialNumber"] not in assigned
    assert spare["SerialNumber"] in unassigned and used["SerialNumber"] not in unassigned
    assert iam.list_mfa_devices(UserName=user)["MFADevices"][0].keys() == {
        "UserName", "SerialNumber", "EnableDate"}
    iam.deactivate_mfa_device(UserName=user, SerialNumber=used["SerialNumber"])
    for serial in (used["SerialNumber"], spare["SerialNumber"]):
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=user)


def test_add_user_to_group_twice_is_no_error(iam: Any) -> None:
    user, group = uid("grp2"), uid("grp2")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    members = iam.get_group(GroupName=group)["Users"]
    assert [m["UserName"] for m in members] == [user]
    assert fails(iam.delete_group, GroupName=group) == (
        "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_rename_carries_keys_groups_policies_and_login(server: Server, iam: Any) -> None:
    old, new, group = uid("mv"), uid("mv"), uid("mv")
    iam.create_user(UserName=old)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    arn = iam.create_policy(PolicyName=uid("mv"), PolicyDocument=GET_USER_ONLY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=old, PolicyArn=arn)
    key = iam.create_access_key(UserName=old)["AccessKey"]
    iam.create_login_profile(UserName=old, Password="Rename-Me-42!x")
    user_id = iam.get_user(UserName=old)["User"]["UserId"]

    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")

    assert fails(iam.get_user, UserName=old) == (
        "NoSuchEntity", f"The user with name {old} cannot be found.", 404)
    assert iam.get_login_profile(UserName=new)["LoginProfile"]["UserName"] == new
    assert iam.list_access_keys(UserName=new)["AccessKeyMetadata"][0]["UserName"] == new
    assert iam.get_group(GroupName=group)["Users"][0]["Arn"] == (
        f"arn:aws:iam::{ACCT}:user/moved/{new}")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
    assert iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"] == [
        {"UserName": new, "UserId": user_id}]
    # the key still signs, as the renamed user; its owner is reported under the new name
    own = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert own.get_user()["User"]["UserName"] == new
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == new and last["AccessKeyLastUsed"]["ServiceName"] == "iam"

    iam.delete_login_profile(UserName=new)
    iam.delete_access_key(UserName=new, AccessKeyId=key["AccessKeyId"])
    iam.detach_user_policy(UserName=new, PolicyArn=arn)
    iam.remove_user_from_group(GroupName=group, UserName=new)
    iam.delete_user(UserName=new)
    iam.delete_group(GroupName=group)
    iam.delete_policy(PolicyArn=arn)


def test_rename_onto_a_taken_name(iam: Any) -> None:
    first, second = uid("taken"), uid("taken")
    iam.create_user(UserName=first)
    iam.create_user(UserName=second)
    assert fails(iam.update_user, UserName=first, NewUserName=second) == (
        "EntityAlreadyExists", f"User with name {second} already exists.", 409)
    assert iam.get_user(UserName=first)["User"]["UserName"] == first
    iam.delete_user(UserName=first)
    iam.delete_user(UserName=second)


def test_never_used_key_and_other_users_key(iam: Any) -> None:
    owner, other = uid("nu"), uid("nu")
    iam.create_user(UserName=owner)
    iam.create_user(UserName=other)
    key_id = iam.create_access_key(UserName=owner)["AccessKey"]["AccessKeyId"]
    out = iam.get_access_key_last_used(AccessKeyId=key_id)
    assert out["UserName"] == owner
    assert out["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    missing = ("NoSuchEntity", f"The Access Key with id {key_id} cannot be found.", 404)
    assert fails(iam.delete_access_key, UserName=other, AccessKeyId=key_id) == missing
    assert fails(iam.update_access_key, UserName=other, AccessKeyId=key_id,
                 Status="Inactive") == missing
    iam.delete_access_key(UserName=owner, AccessKeyId=key_id)
    iam.delete_user(UserName=owner)
    iam.delete_user(UserName=other)
