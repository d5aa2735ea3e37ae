"""IAM behaviours found by a fidelity sweep against AWS's documented behaviour: MFA devices,
instance profiles, group renames, tag listings, the authorizations renames and PassRole need,
login profiles; driven through boto3 against one real trailgate server."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_iam_api import ACCT, error_of, fails, new_user, uid

# -- MFA device tags ---------------------------------------------------------------------------


def test_mfa_device_tags(iam: Any) -> None:
    name = uid("mfatag")
    serial = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=name, Path="/team/", Tags=[{"Key": "team", "Value": "red"}]
    )["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCT}:mfa/team/{name}"
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert next(d for d in listed if d["SerialNumber"] == serial) == {"SerialNumber": serial}
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "team", "Value": "red"}
    ]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[
        {"Key": "TEAM", "Value": "blue"}, {"Key": "env", "Value": "ci"},
    ])
    listed = iam.list_mfa_device_tags(SerialNumber=serial)
    assert (listed["Tags"], listed["IsTruncated"]) == (
        [{"Key": "TEAM", "Value": "blue"}, {"Key": "env", "Value": "ci"}], False
    )
    first = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert first["Tags"] == [{"Key": "TEAM", "Value": "blue"}] and first["IsTruncated"]
    rest = iam.list_mfa_device_tags(SerialNumber=serial, Marker=first["Marker"])
    assert rest["Tags"] == [{"Key": "env", "Value": "ci"}] and not rest["IsTruncated"]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["team"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "env", "Value": "ci"}
    ]
    with pytest.raises(ClientError) as exc:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[
            {"Key": f"k{i}", "Value": "v"} for i in range(50)
        ])
    assert error_of(exc)[0::2] == ("LimitExceeded", 409)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    for call, extra in (
        (iam.list_mfa_device_tags, {}),
        (iam.tag_mfa_device, {"Tags": [{"Key": "a", "Value": "b"}]}),
        (iam.untag_mfa_device, {"TagKeys": ["a"]}),
    ):
        with pytest.raises(ClientError) as exc:
            call(SerialNumber=serial, **extra)
        assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_mfa_device_tags_authorized_on_the_device(server: Server, iam: Any) -> None:
    device = uid("mfatag")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=device)["VirtualMFADevice"][
        "SerialNumber"
    ]
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        f'["iam:ListMFADeviceTags"], "Resource": "{serial}"}}]}}'
    )
    user, keys = new_user(iam, "mfatag", inline=policy)
    caller = server.client("iam", keys.key, keys.secret)
    assert caller.list_mfa_device_tags(SerialNumber=serial)["Tags"] == []
    with pytest.raises(ClientError) as exc:
        caller.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: "
        f"iam:TagMFADevice on resource: {serial} because no identity-based policy allows the "
        "iam:TagMFADevice action",
        403,
    )
    iam.delete_virtual_mfa_device(SerialNumber=serial)



def test_get_mfa_device(server: Server, iam: Any) -> None:
    user, keys = new_user(iam, "getmfa")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    serial = device["SerialNumber"]
    missing = ("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.", 404)
    assert fails(iam.get_mfa_device, UserName=user, SerialNumber=serial) == missing
    totp = pyotp.TOTP(device["Base32StringSeed"].decode("ascii"))
    step = int(time.time()) // 30
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp.at((step - 1) * 30),
                          AuthenticationCode2=totp.at(step * 30))
    got = iam.get_mfa_device(UserName=user, SerialNumber=serial)
    enabled = iam.list_mfa_devices(UserName=user)["MFADevices"][0]["EnableDate"]
    assert (got["UserName"], got["SerialNumber"], got["EnableDate"]) == (user, serial, enabled)
    assert "Certifications" not in got
    # without UserName: the calling user's device
    caller = server.client("iam", keys.key, keys.secret)
    iam.put_user_policy(UserName=user, PolicyName="mfa", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        f'"Action": "iam:GetMFADevice", "Resource": "arn:aws:iam::{ACCT}:user/{user}"}}]}}'
    ))
    assert caller.get_mfa_device(SerialNumber=serial)["UserName"] == user
    other = uid("getmfa")
    iam.create_user(UserName=other)
    assert fails(iam.get_mfa_device, UserName=other, SerialNumber=serial) == missing
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert fails(iam.get_mfa_device, UserName=user, SerialNumber=serial) == missing
    iam.delete_virtual_mfa_device(SerialNumber=serial)


# -- instance profiles -------------------------------------------------------------------------

EC2_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
    '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)


def test_instance_profile_lifecycle(iam: Any) -> None:
    name, role = uid("ip"), uid("iprole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    created = iam.create_instance_profile(
        InstanceProfileName=name, Path="/ec2/", Tags=[{"Key": "app", "Value": "web"}]
    )["InstanceProfile"]
    assert created["Arn"] == f"arn:aws:iam::{ACCT}:instance-profile/ec2/{name}"
    assert created["InstanceProfileId"].startswith("AIPA") and created["Roles"] == []
    assert created["Tags"] == [{"Key": "app", "Value": "web"}]
    assert fails(iam.create_instance_profile, InstanceProfileName=name.upper()) == (
        "EntityAlreadyExists", f"Instance Profile {name.upper()} already exists.", 409
    )
    assert iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    assert fails(iam.add_role_to_instance_profile, InstanceProfileName=name,
                  RoleName=role) == (
        "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409
    )
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [(r["RoleName"], r["Arn"], r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"])
            for r in got["Roles"]] == [
        (role, f"arn:aws:iam::{ACCT}:role/{role}", {"Service": "ec2.amazonaws.com"})
    ]
    listed = iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]
    assert name in [p["InstanceProfileName"] for p in listed]
    for_role = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert [p["Arn"] for p in for_role] == [created["Arn"]]
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    mine = next(d for d in details if d["RoleName"] == role)
    assert [p["InstanceProfileName"] for p in mine["InstanceProfileList"]] == [name]
    in_profile = ("DeleteConflict",
                  "Cannot delete entity, must remove roles from instance profile first.", 409)
    assert fails(iam.delete_role, RoleName=role) == in_profile
    assert fails(iam.delete_instance_profile, InstanceProfileName=name) == in_profile
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    iam.delete_role(RoleName=role)
    missing = ("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    assert fails(iam.get_instance_profile, InstanceProfileName=name) == missing
    assert fails(iam.delete_instance_profile, InstanceProfileName=name) == missing
    assert fails(iam.list_instance_profiles_for_role, RoleName=role) == (
        "NoSuchEntity", f"The role with name {role} cannot be found.", 404
    )


def test_instance_profile_tags_and_paging(iam: Any) -> None:
    prefix = f"/{uid('ipp')}/"
    names = sorted(uid("ip") for _ in range(3))
    for name in names:
        iam.create_instance_profile(InstanceProfileName=name, Path=prefix)
    first = iam.list_instance_profiles(PathPrefix=prefix, MaxItems=2)
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == names[:2]
    assert first["IsTruncated"]
    rest = iam.list_instance_profiles(PathPrefix=prefix, Marker=first["Marker"])
    assert [p["InstanceProfileName"] for p in rest["InstanceProfiles"]] == names[2:]
    assert not rest["IsTruncated"]
    iam.tag_instance_profile(InstanceProfileName=names[0], Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_instance_profile_tags(InstanceProfileName=names[0])["Tags"] == [
        {"Key": "k", "Value": "v"}
    ]
    iam.untag_instance_profile(InstanceProfileName=names[0], TagKeys=["K"])
    assert iam.list_instance_profile_tags(InstanceProfileName=names[0])["Tags"] == []
    for name in names:
        iam.delete_instance_profile(InstanceProfileName=name)
    assert iam.list_instance_profiles(PathPrefix=prefix)["InstanceProfiles"] == []


def test_instance_profile_authorized_on_its_arn(server: Server, iam: Any) -> None:
    name = uid("ip")
    iam.create_instance_profile(InstanceProfileName=name, Path="/ec2/")
    arn = f"arn:aws:iam::{ACCT}:instance-profile/ec2/{name}"
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        f'"iam:GetInstanceProfile", "Resource": "{arn}"}}]}}'
    )
    user, keys = new_user(iam, "ip", inline=policy)
    caller = server.client("iam", keys.key, keys.secret)
    assert caller.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"] == arn
    assert fails(caller.delete_instance_profile, InstanceProfileName=name) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: "
        f"iam:DeleteInstanceProfile on resource: {arn} because no identity-based policy allows "
        "the iam:DeleteInstanceProfile action",
        403,
    )
    iam.delete_instance_profile(InstanceProfileName=name)


# -- UpdateGroup -------------------------------------------------------------------------------


def test_update_group_renames_and_moves(server: Server, iam: Any) -> None:
    old, new, other = uid("grp"), uid("grp"), uid("grp")
    iam.create_group(GroupName=old)
    iam.create_group(GroupName=other)
    iam.put_group_policy(GroupName=old, PolicyName="list", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "iam:ListGroupsForUser", "Resource": "*"}]}'
    ))
    user, keys = new_user(iam, "grp")
    iam.add_user_to_group(GroupName=old, UserName=user)
    assert fails(iam.update_group, GroupName=old, NewGroupName=other.upper()) == (
        "EntityAlreadyExists", f"Group with name {other.upper()} already exists.", 409
    )
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/moved/")
    assert fails(iam.get_group, GroupName=old) == (
        "NoSuchEntity", f"The group with name {old} cannot be found.", 404
    )
    got = iam.get_group(GroupName=new)
    assert (got["Group"]["Path"], got["Group"]["Arn"]) == (
        "/moved/", f"arn:aws:iam::{ACCT}:group/moved/{new}"
    )
    assert [u["UserName"] for u in got["Users"]] == [user]
    # the member keeps the group's permissions under its new name
    caller = server.client("iam", keys.key, keys.secret)
    groups = caller.list_groups_for_user(UserName=user)["Groups"]
    assert [(g["GroupName"], g["Path"]) for g in groups] == [(new, "/moved/")]
    assert fails(iam.update_group, GroupName=old, NewGroupName=uid("grp")) == (
        "NoSuchEntity", f"The group with name {old} cannot be found.", 404
    )
    iam.remove_user_from_group(GroupName=new, UserName=user)
    iam.delete_group_policy(GroupName=new, PolicyName="list")
    iam.delete_group(GroupName=new)
    iam.delete_group(GroupName=other)


# -- tag listings are sorted by key ------------------------------------------------------------


def test_tag_listings_are_sorted_by_key(iam: Any) -> None:
    user, role, profile = uid("tags"), uid("tags"), uid("tags")
    tags = [{"Key": k, "Value": v} for k, v in (("zeta", "1"), ("alpha", "2"), ("mid", "3"))]
    expected = sorted(tags, key=lambda t: t["Key"])
    iam.create_user(UserName=user, Tags=tags)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST, Tags=tags[:1])
    iam.tag_role(RoleName=role, Tags=tags[1:])
    iam.create_instance_profile(InstanceProfileName=profile, Tags=tags)
    assert iam.list_user_tags(UserName=user)["Tags"] == expected
    assert iam.list_role_tags(RoleName=role)["Tags"] == expected
    assert iam.list_instance_profile_tags(InstanceProfileName=profile)["Tags"] == expected
    first = iam.list_user_tags(UserName=user, MaxItems=2)
    assert first["Tags"] == expected[:2] and first["IsTruncated"]
    assert iam.list_user_tags(UserName=user, Marker=first["Marker"])["Tags"] == expected[2:]
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.delete_role(RoleName=role)
    iam.delete_user(UserName=user)


# -- renames are authorized on the old and the new name ----------------------------------------


def test_rename_needs_permission_on_both_names(server: Server, iam: Any) -> None:
    tag = uid("ren")
    old_user, old_group = f"{tag}-user", f"{tag}-group"
    iam.create_user(UserName=old_user)
    iam.create_group(GroupName=old_group)
    only_old = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        '["iam:UpdateUser", "iam:UpdateGroup"], "Resource": ['
        f'"arn:aws:iam::{ACCT}:user/{old_user}", "arn:aws:iam::{ACCT}:group/{old_group}"]}}]}}'
    )
    caller_name, keys = new_user(iam, "ren", inline=only_old)
    caller = server.client("iam", keys.key, keys.secret)
    for call, kind, kwargs in (
        (caller.update_user, "user", {"UserName": old_user, "NewUserName": f"{tag}-u2"}),
        (caller.update_group, "group", {"GroupName": old_group, "NewGroupName": f"{tag}-g2"}),
        (caller.update_user, "user", {"UserName": old_user, "NewPath": "/moved/"}),
    ):
        action = "iam:UpdateUser" if kind == "user" else "iam:UpdateGroup"
        target = (kwargs.get("NewUserName") or kwargs.get("NewGroupName")
                  or kwargs.get("UserName"))
        path = kwargs.get("NewPath", "/")
        assert fails(call, **kwargs) == (
            "AccessDenied",
            f"User: arn:aws:iam::{ACCT}:user/{caller_name} is not authorized to perform: "
            f"{action} on resource: arn:aws:iam::{ACCT}:{kind}{path}{target} because no "
            f"identity-based policy allows the {action} action",
            403,
        )
    iam.put_user_policy(UserName=caller_name, PolicyName="inline", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        '["iam:UpdateUser", "iam:UpdateGroup"], "Resource": ['
        f'"arn:aws:iam::{ACCT}:user/{tag}-*", "arn:aws:iam::{ACCT}:group/{tag}-*"]}}]}}'
    ))
    caller.update_user(UserName=old_user, NewUserName=f"{tag}-u2")
    caller.update_group(GroupName=old_group, NewGroupName=f"{tag}-g2")
    assert iam.get_user(UserName=f"{tag}-u2")["User"]["UserName"] == f"{tag}-u2"
    iam.delete_user(UserName=f"{tag}-u2")
    iam.delete_group(GroupName=f"{tag}-g2")


def test_add_role_to_instance_profile_needs_pass_role(server: Server, iam: Any) -> None:
    profile, role = uid("ip"), uid("iprole")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST, Path="/svc/")
    allow_add = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        '"iam:AddRoleToInstanceProfile", "Resource": "*"}]}'
    )
    user, keys = new_user(iam, "ip", inline=allow_add)
    caller = server.client("iam", keys.key, keys.secret)
    role_arn = f"arn:aws:iam::{ACCT}:role/svc/{role}"
    assert fails(caller.add_role_to_instance_profile, InstanceProfileName=profile,
                  RoleName=role) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: iam:PassRole "
        f"on resource: {role_arn} because no identity-based policy allows the iam:PassRole "
        "action",
        403,
    )
    iam.put_user_policy(UserName=user, PolicyName="pass", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        f'"iam:PassRole", "Resource": "{role_arn}"}}]}}'
    ))
    caller.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    roles = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    assert [r["Arn"] for r in roles] == [role_arn]
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.delete_role(RoleName=role)


# -- login profiles: MaxSigninSessionDuration --------------------------------------------------


def test_login_profile_signin_session_duration(iam: Any, unchecked_iam: Any) -> None:
    user = uid("signin")
    iam.create_user(UserName=user)
    created = iam.create_login_profile(UserName=user, Password="Signin-Pass-1234",
                                       MaxSigninSessionDuration=7200)["LoginProfile"]
    assert created["MaxSigninSessionDuration"] == 7200
    iam.update_login_profile(UserName=user, MaxSigninSessionDuration=86400)
    got = iam.get_login_profile(UserName=user)["LoginProfile"]
    assert got["MaxSigninSessionDuration"] == 86400
    iam.update_login_profile(UserName=user, ResetMaxSigninSessionDuration=True)
    assert "MaxSigninSessionDuration" not in iam.get_login_profile(UserName=user)["LoginProfile"]
    assert fails(unchecked_iam.update_login_profile, UserName=user,
                  MaxSigninSessionDuration=60) == (
        "ValidationError",
        "1 validation error detected: Value '60' at 'maxSigninSessionDuration' failed to "
        "satisfy constraint: Member must have value greater than or equal to 3600",
        400,
    )
    iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName=user)


# -- OpenID Connect providers ------------------------------------------------------------------

THUMB = "6938fd4d98bab03faadb97b34396831e3780aea1"


def test_oidc_provider_lifecycle(iam: Any) -> None:
    host = f"{uid('oidc')}.example.com"
    arn = f"arn:aws:iam::{ACCT}:oidc-provider/{host}"
    made = iam.create_open_id_connect_provider(
        Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB],
        Tags=[{"Key": "ci", "Value": "gha"}],
    )
    assert (made["OpenIDConnectProviderArn"], made["Tags"]) == (
        arn, [{"Key": "ci", "Value": "gha"}]
    )
    assert fails(iam.create_open_id_connect_provider, Url=f"https://{host}/",
                  ClientIDList=["x"]) == (
        "EntityAlreadyExists", f"Provider with url https://{host}/ already exists.", 409
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["Url"], got["ClientIDList"], got["ThumbprintList"], got["Tags"]) == (
        host, ["sts.amazonaws.com"], [THUMB], [{"Key": "ci", "Value": "gha"}]
    )
    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Arn": arn} in listed
    # client ids: adding an existing one and removing a missing one are no-ops (idempotent)
    for call in (iam.add_client_id_to_open_id_connect_provider,
                 iam.add_client_id_to_open_id_connect_provider,
                 iam.remove_client_id_from_open_id_connect_provider):
        call(OpenIDConnectProviderArn=arn, ClientID="extra")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="aud")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                   ThumbprintList=["a" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["sts.amazonaws.com", "aud"],
                                                            ["a" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                     Tags=[{"Key": "app", "Value": "x"}])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert tags == [{"Key": "app", "Value": "x"}, {"Key": "ci", "Value": "gha"}]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["ci"])
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    missing = ("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}", 404)
    assert fails(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == missing
    assert fails(iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn) == missing


def test_oidc_provider_in_a_role_trust_policy(iam: Any) -> None:
    host = f"{uid('oidc')}.example.com"
    arn = iam.create_open_id_connect_provider(
        Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB]
    )["OpenIDConnectProviderArn"]
    before = int(iam.get_account_summary()["SummaryMap"]["Providers"])
    role = uid("gha")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        f'{{"Federated": "{arn}"}}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": '
        f'{{"StringEquals": {{"{host}:aud": "sts.amazonaws.com"}}}}}}]}}'
    ))
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}
    iam.delete_role(RoleName=role)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert int(iam.get_account_summary()["SummaryMap"]["Providers"]) == before - 1


@pytest.mark.parametrize("federated", [
    "", "not a domain", f"arn:aws:iam::{ACCT}:role/not-a-provider",
    f"arn:aws:iam::{ACCT}:oidc-provider/",
])
def test_trust_policy_with_an_invalid_federated_principal(iam: Any, federated: str) -> None:
    assert fails(iam.create_role, RoleName=uid("fed"), AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        f'{{"Federated": "{federated}"}}, "Action": "sts:AssumeRoleWithWebIdentity"}}]}}'
    )) == (
        "MalformedPolicyDocument",
        "Federated principals must be valid domain names or SAML metadata ARNs",
        400,
    )
