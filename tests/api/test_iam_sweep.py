"""IAM behaviours found by a fidelity sweep against AWS's documented behaviour: MFA device tags,
instance profiles and other details, driven through boto3 against one real trailgate server."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pyotp
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server
from .test_iam_api import ACCT, error_of, new_user, uid


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    """The management account's root user."""
    return server.client("iam")


@pytest.fixture(scope="module")
def unchecked_iam(server: Server) -> Any:
    """Root IAM client without botocore's client-side checks (the server sees the value)."""
    return boto3.client(
        "iam", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def _fails(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return error_of(exc)


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
    assert _fails(iam.get_mfa_device, UserName=user, SerialNumber=serial) == missing
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
    assert _fails(iam.get_mfa_device, UserName=other, SerialNumber=serial) == missing
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert _fails(iam.get_mfa_device, UserName=user, SerialNumber=serial) == missing
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
    assert _fails(iam.create_instance_profile, InstanceProfileName=name.upper()) == (
        "EntityAlreadyExists", f"Instance Profile {name.upper()} already exists.", 409
    )
    assert iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    assert _fails(iam.add_role_to_instance_profile, InstanceProfileName=name,
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
    assert _fails(iam.delete_role, RoleName=role) == in_profile
    assert _fails(iam.delete_instance_profile, InstanceProfileName=name) == in_profile
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    iam.delete_role(RoleName=role)
    missing = ("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    assert _fails(iam.get_instance_profile, InstanceProfileName=name) == missing
    assert _fails(iam.delete_instance_profile, InstanceProfileName=name) == missing
    assert _fails(iam.list_instance_profiles_for_role, RoleName=role) == (
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
    assert _fails(caller.delete_instance_profile, InstanceProfileName=name) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: "
        f"iam:DeleteInstanceProfile on resource: {arn} because no identity-based policy allows "
        "the iam:DeleteInstanceProfile action",
        403,
    )
    iam.delete_instance_profile(InstanceProfileName=name)


# -- account password policy -------------------------------------------------------------------

VIOLATION = ("PasswordPolicyViolation",
             "Password does not conform to the account password policy.", 400)


def test_account_password_policy(iam: Any) -> None:
    user = uid("pwd")
    iam.create_user(UserName=user)
    no_policy = ("NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.",
                 404)
    assert _fails(iam.delete_account_password_policy) == no_policy
    try:
        iam.update_account_password_policy()
        assert iam.get_account_password_policy()["PasswordPolicy"] == {
            "MinimumPasswordLength": 6, "RequireSymbols": False, "RequireNumbers": False,
            "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
            "AllowUsersToChangePassword": False, "ExpirePasswords": False,
        }
        # the custom policy replaces AWS's default one: six lowercase letters now pass
        iam.create_login_profile(UserName=user, Password="abcdef")
        iam.update_account_password_policy(
            MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
            RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
            AllowUsersToChangePassword=True, MaxPasswordAge=90, PasswordReusePrevention=24,
        )
        assert iam.get_account_password_policy()["PasswordPolicy"] == {
            "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
            "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
            "AllowUsersToChangePassword": True, "ExpirePasswords": True, "MaxPasswordAge": 90,
            "PasswordReusePrevention": 24, "HardExpiry": False,
        }
        for weak in ("Sh0rt!pass", "no-upper-case-1", "NO-LOWER-CASE-1", "No-Numbers-Here",
                     "NoSymbols12345"):
            assert _fails(iam.update_login_profile, UserName=user, Password=weak) == VIOLATION
        iam.update_login_profile(UserName=user, Password="Long-Enough-Pass1")
    finally:
        iam.delete_account_password_policy()
    assert _fails(iam.get_account_password_policy) == (
        "NoSuchEntity", f"The Password Policy with domain name {ACCT} cannot be found.", 404
    )
    # back to AWS's default policy
    assert _fails(iam.update_login_profile, UserName=user, Password="abcdef") == VIOLATION
    iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName=user)


@pytest.mark.parametrize(("member", "value", "constraint"), [
    ("MinimumPasswordLength", 5, "minimumPasswordLength' failed to satisfy constraint: Member "
     "must have value greater than or equal to 6"),
    ("MaxPasswordAge", 1096, "maxPasswordAge' failed to satisfy constraint: Member must have "
     "value less than or equal to 1095"),
    ("PasswordReusePrevention", 25, "passwordReusePrevention' failed to satisfy constraint: "
     "Member must have value less than or equal to 24"),
])
def test_account_password_policy_limits(
    unchecked_iam: Any, member: str, value: int, constraint: str
) -> None:
    assert _fails(unchecked_iam.update_account_password_policy, **{member: value}) == (
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{constraint}",
        400,
    )


def test_account_level_actions_are_authorized_on_star(server: Server, iam: Any) -> None:
    user, keys = new_user(iam, "acct")
    caller = server.client("iam", keys.key, keys.secret)
    for call, action in ((caller.get_account_summary, "GetAccountSummary"),
                         (caller.get_account_password_policy, "GetAccountPasswordPolicy"),
                         (caller.get_account_authorization_details,
                          "GetAccountAuthorizationDetails")):
        assert _fails(call) == (
            "AccessDenied",
            f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: iam:{action} "
            f"on resource: * because no identity-based policy allows the iam:{action} action",
            403,
        )


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
    assert _fails(iam.update_group, GroupName=old, NewGroupName=other.upper()) == (
        "EntityAlreadyExists", f"Group with name {other.upper()} already exists.", 409
    )
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/moved/")
    assert _fails(iam.get_group, GroupName=old) == (
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
    assert _fails(iam.update_group, GroupName=old, NewGroupName=uid("grp")) == (
        "NoSuchEntity", f"The group with name {old} cannot be found.", 404
    )
    iam.remove_user_from_group(GroupName=new, UserName=user)
    iam.delete_group_policy(GroupName=new, PolicyName="list")
    iam.delete_group(GroupName=new)
    iam.delete_group(GroupName=other)


# -- AWS-managed policies ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "policy_id", "version", "statements"), [
    ("PowerUserAccess", "ANPAJYRXTHIB4FOVS3ZXS", "v12", 2),
    ("IAMFullAccess", "ANPAI7XKCFMBPM3QQRRVQ", "v2", 1),
    ("IAMUserChangePassword", "ANPAJ4L4MM2A7QIEB56MS", "v3", 2),
])
def test_more_aws_managed_policies(
    iam: Any, name: str, policy_id: str, version: str, statements: int
) -> None:
    arn = f"arn:aws:iam::aws:policy/{name}"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["PolicyName"], policy["PolicyId"], policy["DefaultVersionId"]) == (
        name, policy_id, version
    )
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    assert document["Version"] == "2012-10-17" and len(document["Statement"]) == statements
    listed = [p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    assert arn in listed


def test_power_user_access_grants_all_but_iam(server: Server, iam: Any) -> None:
    user, keys = new_user(iam, "power", managed=("arn:aws:iam::aws:policy/PowerUserAccess",))
    caller_iam = server.client("iam", keys.key, keys.secret)
    caller_s3 = server.client("s3", keys.key, keys.secret)
    assert "Buckets" in caller_s3.list_buckets()
    assert "Roles" in caller_iam.list_roles()
    assert _fails(caller_iam.list_users) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: iam:ListUsers on "
        f"resource: arn:aws:iam::{ACCT}:user/ because no identity-based policy allows the "
        "iam:ListUsers action",
        403,
    )


# -- entities trailgate never holds: empty listings --------------------------------------------


def test_listings_of_absent_credentials_and_providers(iam: Any) -> None:
    user = uid("none")
    iam.create_user(UserName=user)
    per_user = (
        (iam.list_signing_certificates, "Certificates", True),
        (iam.list_ssh_public_keys, "SSHPublicKeys", True),
        (iam.list_service_specific_credentials, "ServiceSpecificCredentials", False),
    )
    for call, member, paged in per_user:
        answer = call(UserName=user)
        answer.pop("ResponseMetadata")
        assert answer == ({member: [], "IsTruncated": False} if paged else {member: []})
        assert _fails(call, UserName=uid("ghost"))[0::2] == ("NoSuchEntity", 404)
    assert iam.list_saml_providers()["SAMLProviderList"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    certs = iam.list_server_certificates(PathPrefix="/")
    assert (certs["ServerCertificateMetadataList"], certs["IsTruncated"]) == ([], False)
    iam.delete_user(UserName=user)


def test_user_lists_own_absent_credentials(server: Server, iam: Any) -> None:
    user, keys = new_user(iam, "none", inline=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        '["iam:ListSigningCertificates", "iam:ListSSHPublicKeys"], "Resource": '
        f'"arn:aws:iam::{ACCT}:user/${{aws:username}}"}}]}}'
    ))
    caller = server.client("iam", keys.key, keys.secret)
    assert caller.list_signing_certificates()["Certificates"] == []
    assert caller.list_ssh_public_keys()["SSHPublicKeys"] == []
    assert _fails(caller.list_service_specific_credentials) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: "
        f"iam:ListServiceSpecificCredentials on resource: arn:aws:iam::{ACCT}:user/{user} "
        "because no identity-based policy allows the iam:ListServiceSpecificCredentials action",
        403,
    )


# -- credential report -------------------------------------------------------------------------


def test_credential_report(server: Server, iam: Any) -> None:
    raw: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetCredentialReport",
                             lambda http_response, **_: raw.append(http_response.content))
    with pytest.raises(ClientError) as exc:
        iam.get_credential_report()
    # AWS's ReportNotPresent carries no message (botocore then says "Unknown")
    error = exc.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ReportNotPresent", 410
    )
    assert "Message" not in error["Error"] and str(exc.value).endswith("operation: Unknown")
    assert b"<Message>" not in raw[-1]
    user, keys = new_user(iam, "report", inline=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", '
        '"Resource": "*"}]}'
    ))
    iam.create_login_profile(UserName=user, Password="Report-Pass-1234")
    server.client("iam", keys.key, keys.secret).get_user()  # uses the key
    first = iam.generate_credential_report()
    assert (first["State"], first["Description"]) == (
        "STARTED", "No report exists. Starting a new report generation task"
    )
    again = iam.generate_credential_report()
    assert again["State"] == "COMPLETE" and "Description" not in again
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    lines = report["Content"].decode().split("\n")
    header = lines[0].split(",")
    assert header[:8] == ["user", "arn", "user_creation_time", "password_enabled",
                          "password_last_used", "password_last_changed",
                          "password_next_rotation", "mfa_active"]
    assert len(header) == 22 and header[-1] == "cert_2_last_rotated"
    root = dict(zip(header, lines[1].split(","), strict=True))
    assert (root["user"], root["arn"], root["password_enabled"]) == (
        "<root_account>", f"arn:aws:iam::{ACCT}:root", "not_supported"
    )
    row = next(dict(zip(header, line.split(","), strict=True)) for line in lines[2:]
               if line.startswith(f"{user},"))
    assert (row["arn"], row["password_enabled"], row["password_last_used"], row["mfa_active"],
            row["password_next_rotation"]) == (
        f"arn:aws:iam::{ACCT}:user/{user}", "true", "no_information", "false", "N/A"
    )
    assert (row["access_key_1_active"], row["access_key_1_last_used_service"],
            row["access_key_1_last_used_region"], row["access_key_2_active"],
            row["access_key_2_last_rotated"], row["cert_1_active"]) == (
        "true", "iam", "us-east-1", "false", "N/A", "false"
    )
    assert row["user_creation_time"].endswith("+00:00")


# -- STS token preferences ---------------------------------------------------------------------


def test_security_token_service_preferences(unchecked_iam: Any, iam: Any) -> None:
    def version() -> int:
        return int(iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"])

    assert version() == 1
    try:
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
        assert version() == 2
    finally:
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert version() == 1
    assert _fails(unchecked_iam.set_security_token_service_preferences,
                  GlobalEndpointTokenVersion="v3Token") == (
        "ValidationError",
        "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' failed to "
        "satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]",
        400,
    )


# -- trust policies name principals by unique id -----------------------------------------------


def test_trust_policy_shows_deleted_principal_as_unique_id(iam: Any) -> None:
    user, role = uid("trusted"), uid("trusting")
    user_id = iam.create_user(UserName=user)["User"]["UserId"]
    arn = f"arn:aws:iam::{ACCT}:user/{user}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        f'{{"AWS": "{arn}"}}, "Action": "sts:AssumeRole"}}]}}'
    ))

    def principal() -> str:
        got = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        listed = next(r for r in iam.list_roles(MaxItems=1000)["Roles"] if r["RoleName"] == role)
        assert listed["AssumeRolePolicyDocument"] == got
        return str(got["Statement"][0]["Principal"]["AWS"])

    assert principal() == arn
    renamed = uid("trusted")
    iam.update_user(UserName=user, NewUserName=renamed)
    assert principal() == f"arn:aws:iam::{ACCT}:user/{renamed}"  # mapped back by id
    iam.delete_user(UserName=renamed)
    assert principal() == user_id
    iam.create_user(UserName=renamed)  # same name, new id: still the old id
    assert principal() == user_id
    iam.delete_user(UserName=renamed)
    iam.delete_role(RoleName=role)


def test_trust_policy_does_not_trust_a_recreated_user(server: Server, iam: Any) -> None:
    role = uid("trusting")
    assume = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "sts:AssumeRole", "Resource": "*"}]}'
    )
    user, keys = new_user(iam, "trusted", inline=assume)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        f'{{"AWS": "arn:aws:iam::{ACCT}:user/{user}"}}, "Action": "sts:AssumeRole"}}]}}'
    ))
    role_arn = f"arn:aws:iam::{ACCT}:role/{role}"

    def assume_as(creds: Any) -> Any:
        return server.client("sts", creds.key, creds.secret).assume_role(
            RoleArn=role_arn, RoleSessionName="ses"
        )

    assert assume_as(keys)["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role}/ses")
    # renamed: the trust policy follows the user (it holds the unique id)
    renamed = uid("trusted")
    iam.update_user(UserName=user, NewUserName=renamed)
    assert assume_as(keys)["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role}/ses")
    iam.update_user(UserName=renamed, NewUserName=user)
    # deleted and recreated under the same name: a new user, no longer trusted
    iam.delete_access_key(UserName=user, AccessKeyId=keys.key)
    iam.delete_user_policy(UserName=user, PolicyName="inline")
    iam.delete_user(UserName=user)
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=assume)
    fresh = iam.create_access_key(UserName=user)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        server.client("sts", fresh["AccessKeyId"], fresh["SecretAccessKey"]).assume_role(
            RoleArn=role_arn, RoleSessionName="ses"
        )
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: sts:AssumeRole "
        f"on resource: {role_arn}",
        403,
    )


# -- context keys ------------------------------------------------------------------------------

DYNAMO_BY_USER = (
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
    '"Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}",'
    '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}'
)


def test_context_keys_for_custom_policy(iam: Any) -> None:
    # the AWS CLI reference's example
    answer = iam.get_context_keys_for_custom_policy(PolicyInputList=[DYNAMO_BY_USER])
    assert answer["ContextKeyNames"] == ["aws:username", "aws:CurrentTime"]
    second = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket",'
        '"Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:UserName}/*"},'
        '"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}'
    )
    both = iam.get_context_keys_for_custom_policy(PolicyInputList=[DYNAMO_BY_USER, second])
    assert both["ContextKeyNames"] == [
        "aws:username", "aws:CurrentTime", "s3:prefix", "aws:MultiFactorAuthPresent"
    ]
    assert _fails(iam.get_context_keys_for_custom_policy, PolicyInputList=["{"])[0::2] == (
        "InvalidInput", 400
    )


def test_context_keys_for_principal_policy(iam: Any) -> None:
    user, group = uid("ctx"), uid("ctx")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="p", PolicyDocument=DYNAMO_BY_USER)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",'
        '"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}'
    ))
    keys = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCT}:user/{user}"
    )["ContextKeyNames"]
    assert sorted(keys) == ["aws:CurrentTime", "aws:SourceIp", "aws:username"]
    only_group = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCT}:group/{group}",
        PolicyInputList=['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*",'
                         '"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}'],
    )["ContextKeyNames"]
    assert only_group == ["aws:username", "aws:CurrentTime", "aws:SecureTransport"]
    ghost = uid("ghost")
    assert _fails(iam.get_context_keys_for_principal_policy,
                  PolicySourceArn=f"arn:aws:iam::{ACCT}:role/{ghost}") == (
        "NoSuchEntity", f"The role with name {ghost} cannot be found.", 404
    )


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
        assert _fails(call, **kwargs) == (
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
    assert _fails(caller.add_role_to_instance_profile, InstanceProfileName=profile,
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
    assert _fails(unchecked_iam.update_login_profile, UserName=user,
                  MaxSigninSessionDuration=60) == (
        "ValidationError",
        "1 validation error detected: Value '60' at 'maxSigninSessionDuration' failed to "
        "satisfy constraint: Member must have value greater than or equal to 3600",
        400,
    )
    iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName=user)
