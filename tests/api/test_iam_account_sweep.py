"""IAM account-level behaviours found by a fidelity sweep against AWS's documented behaviour:
the password policy, credential report, STS token preferences, AWS-managed policies, empty
listings of entities trailgate never holds, trust-policy principals and context keys."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_iam_api import ACCT, error_of, fails, new_user, uid

# -- account password policy -------------------------------------------------------------------

VIOLATION = ("PasswordPolicyViolation",
             "Password does not conform to the account password policy.", 400)


def test_account_password_policy(iam: Any) -> None:
    user = uid("pwd")
    iam.create_user(UserName=user)
    no_policy = ("NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.",
                 404)
    assert fails(iam.delete_account_password_policy) == no_policy
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
        # "\u00b2" (superscript two) is no number: AWS counts 0-9 only
        for weak in ("Sh0rt!pass", "no-upper-case-1", "NO-LOWER-CASE-1", "No-Numbers-Here",
                     "NoSymbols12345", "Superscript-Two-\u00b2"):
            assert fails(iam.update_login_profile, UserName=user, Password=weak) == VIOLATION
        iam.update_login_profile(UserName=user, Password="Long-Enough-Pass1")
    finally:
        iam.delete_account_password_policy()
    assert fails(iam.get_account_password_policy) == (
        "NoSuchEntity", f"The Password Policy with domain name {ACCT} cannot be found.", 404
    )
    # back to AWS's default policy
    assert fails(iam.update_login_profile, UserName=user, Password="abcdef") == VIOLATION
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
    assert fails(unchecked_iam.update_account_password_policy, **{member: value}) == (
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
        assert fails(call) == (
            "AccessDenied",
            f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: iam:{action} "
            f"on resource: * because no identity-based policy allows the iam:{action} action",
            403,
        )


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
    assert fails(caller_iam.list_users) == (
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
        assert fails(call, UserName=uid("ghost"))[0::2] == ("NoSuchEntity", 404)
    assert iam.list_saml_providers()["SAMLProviderList"] == []
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
    assert fails(caller.list_service_specific_credentials) == (
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
    assert fails(unchecked_iam.set_security_token_service_preferences,
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
    assert fails(iam.get_context_keys_for_custom_policy, PolicyInputList=["{"])[0::2] == (
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
    assert fails(iam.get_context_keys_for_principal_policy,
                  PolicySourceArn=f"arn:aws:iam::{ACCT}:role/{ghost}") == (
        "NoSuchEntity", f"The role with name {ghost} cannot be found.", 404
    )
