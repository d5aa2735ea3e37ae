"""IAM listings, paging and account-wide reads, checked against botocore's iam model and the
IAM API reference: MaxItems and PathPrefix constraints per operation, markers, boto3
paginators and the AWS CLI's own paging, GetAccountAuthorizationDetails' members."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .server import ROOT_KEY, ROOT_SECRET, Server
from .test_iam_api import ACCT, fails, uid
from .test_iam_awscli import cli

EC2_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
    '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)
S3_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'

# -- GetAccountAuthorizationDetails: Tags only for tagged entities -----------------------------


def test_authorization_details_leave_out_tags_of_untagged_entities(iam: Any) -> None:
    # as GetUser / GetRole (and AWS CLI's get-account-authorization-details example): an
    # entity without tags has no Tags member; lists such as UserPolicyList stay, even empty
    path = f"/{uid('gaad')}/"
    bare_user, tagged_user, bare_role, tagged_role = (uid("gaad") for _ in range(4))
    iam.create_user(UserName=bare_user, Path=path)
    iam.create_user(UserName=tagged_user, Path=path, Tags=[{"Key": "team", "Value": "red"}])
    iam.create_role(RoleName=bare_role, Path=path, AssumeRolePolicyDocument=EC2_TRUST)
    iam.create_role(RoleName=tagged_role, Path=path, AssumeRolePolicyDocument=EC2_TRUST,
                    Tags=[{"Key": "team", "Value": "blue"}])
    raw: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetAccountAuthorizationDetails",
                             lambda http_response, **_: raw.append(http_response.content))
    out = iam.get_account_authorization_details(Filter=["User", "Role"], MaxItems=1000)
    users = {u["UserName"]: u for u in out["UserDetailList"] if u["Path"] == path}
    roles = {r["RoleName"]: r for r in out["RoleDetailList"] if r["Path"] == path}
    assert "Tags" not in users[bare_user] and "Tags" not in roles[bare_role]
    assert users[tagged_user]["Tags"] == [{"Key": "team", "Value": "red"}]
    assert roles[tagged_role]["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert (users[bare_user]["UserPolicyList"], users[bare_user]["GroupList"],
            users[bare_user]["AttachedManagedPolicies"]) == ([], [], [])
    assert (roles[bare_role]["RolePolicyList"], roles[bare_role]["InstanceProfileList"],
            roles[bare_role]["RoleLastUsed"]) == ([], [], {})
    assert b"<Tags></Tags>" not in raw[-1] and b"<Tags/>" not in raw[-1]
    for name in (bare_user, tagged_user):
        iam.delete_user(UserName=name)
    for name in (bare_role, tagged_role):
        iam.delete_role(RoleName=name)


def test_authorization_details_documents_are_url_encoded(iam: Any) -> None:
    # RFC 3986 percent-encoding of every policy document in this API (boto3 decodes them)
    role = uid("gaad")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=S3_ALL)
    raw: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetAccountAuthorizationDetails",
                             lambda http_response, **_: raw.append(http_response.content))
    out = iam.get_account_authorization_details(Filter=["Role"], MaxItems=1000)
    mine = next(r for r in out["RoleDetailList"] if r["RoleName"] == role)
    assert mine["RolePolicyList"] == [{"PolicyName": "s3", "PolicyDocument": json.loads(S3_ALL)}]
    assert mine["AssumeRolePolicyDocument"] == json.loads(EC2_TRUST)
    assert b"%22Action%22%3A%20%22s3%3A%2A%22" in raw[-1]
    iam.delete_role_policy(RoleName=role, PolicyName="s3")
    iam.delete_role(RoleName=role)


# -- MaxItems and PathPrefix constraints -------------------------------------------------------


@pytest.mark.parametrize("operation", [
    "list_users", "list_roles", "list_groups", "list_policies", "list_instance_profiles",
    "list_virtual_mfa_devices", "list_account_aliases", "get_account_authorization_details",
])
@pytest.mark.parametrize(("value", "constraint"), [
    (0, "greater than or equal to 1"), (1001, "less than or equal to 1000"),
])
def test_max_items_range(unchecked_iam: Any, operation: str, value: int, constraint: str) -> None:
    assert fails(getattr(unchecked_iam, operation), MaxItems=value) == (
        "ValidationError",
        f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy "
        f"constraint: Member must have value {constraint}",
        400,
    )


@pytest.mark.parametrize(("operation", "shown"), [
    ("list_users", r"\u002F[\u0021-\u007F]*"),
    ("list_roles", r"\u002F[\u0021-\u007F]*"),
    ("list_policies", r"((/[A-Za-z0-9\.,\+@=_-]+)*)/"),
])
def test_path_prefix_patterns(unchecked_iam: Any, operation: str, shown: str) -> None:
    assert fails(getattr(unchecked_iam, operation), PathPrefix="team/") == (
        "ValidationError",
        "1 validation error detected: Value 'team/' at 'pathPrefix' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {shown}",
        400,
    )


def test_entities_for_policy_path_prefix_is_a_whole_path(unchecked_iam: Any, iam: Any) -> None:
    # ListEntitiesForPolicy's PathPrefix has the model's pathType: '/' or '/.../'
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert fails(unchecked_iam.list_entities_for_policy, PolicyArn=arn, PathPrefix="/team") == (
        "ValidationError",
        "1 validation error detected: Value '/team' at 'pathPrefix' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: (\u002F)|"
        r"(\u002F[\u0021-\u007E]+\u002F)",
        400,
    )
    listed = iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/team/")
    assert listed["IsTruncated"] is False and "Marker" not in listed


# -- markers, paginators and the CLI -----------------------------------------------------------


def test_marker_round_trip_and_last_page(iam: Any) -> None:
    path = f"/{uid('page')}/"
    names = sorted(uid("page") for _ in range(3))
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=EC2_TRUST)
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert [r["RoleName"] for r in first["Roles"]] == names[:2] and first["IsTruncated"]
    last = iam.list_roles(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [r["RoleName"] for r in last["Roles"]] == names[2:]
    assert last["IsTruncated"] is False and "Marker" not in last
    exact = iam.list_roles(PathPrefix=path, MaxItems=3)
    assert exact["IsTruncated"] is False and "Marker" not in exact
    for name in names:
        iam.delete_role(RoleName=name)


def _setup_many(iam: Any, tag: str) -> dict[str, Any]:
    user, group, role = f"{tag}-u", f"{tag}-g", f"{tag}-r"
    iam.create_user(UserName=user, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(3)])
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    policy = iam.create_policy(PolicyName=f"{tag}-p", PolicyDocument=S3_ALL)["Policy"]["Arn"]
    for i in range(3):
        iam.put_user_policy(UserName=user, PolicyName=f"in{i}", PolicyDocument=S3_ALL)
    for arn in (policy, "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::aws:policy/IAMFullAccess"):
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.add_user_to_group(UserName=user, GroupName=group)
    for _ in range(2):
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=S3_ALL)
    return {"user": user, "group": group, "role": role, "policy": policy}


def test_paginators_with_page_size_one_give_the_whole_lists(iam: Any) -> None:
    made = _setup_many(iam, uid("pg"))
    cases: list[tuple[str, dict[str, Any]]] = [
        ("list_users", {}), ("list_roles", {}), ("list_groups", {}),
        ("list_policies", {"Scope": "Local"}),
        ("list_user_policies", {"UserName": made["user"]}),
        ("list_attached_user_policies", {"UserName": made["user"]}),
        ("list_user_tags", {"UserName": made["user"]}),
        ("list_policy_versions", {"PolicyArn": made["policy"]}),
        ("list_entities_for_policy", {"PolicyArn": made["policy"]}),
        ("get_account_authorization_details", {}),
    ]
    for operation, kwargs in cases:
        whole = getattr(iam, operation)(MaxItems=1000, **kwargs)
        members = [k for k, v in whole.items() if isinstance(v, list)]
        paged = iam.get_paginator(operation).paginate(
            PaginationConfig={"PageSize": 1}, **kwargs).build_full_result()
        assert {m: paged.get(m, []) for m in members} == {m: whole[m] for m in members}, operation
    versions = iam.list_policy_versions(PolicyArn=made["policy"])["Versions"]
    assert [v["VersionId"] for v in versions] == ["v3", "v2", "v1"]  # newest first


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {ROOT_KEY}\naws_secret_access_key = {ROOT_SECRET}\n"
    )
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    return tmp_path


@pytest.mark.slow
def test_cli_max_items_and_page_size(server: Server, cli_home: Path, iam: Any) -> None:
    path = f"/{uid('cli')}/"
    names = sorted(uid("cli") for _ in range(3))
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=EC2_TRUST)
    first = cli(server, cli_home, "list-roles", "--path-prefix", path, "--max-items", "2",
                 "--page-size", "1")
    assert [r["RoleName"] for r in first["Roles"]] == names[:2]
    rest = cli(server, cli_home, "list-roles", "--path-prefix", path, "--max-items", "2",
                "--page-size", "1", "--starting-token", first["NextToken"])
    assert [r["RoleName"] for r in rest["Roles"]] == names[2:] and "NextToken" not in rest
    everything = cli(server, cli_home, "list-roles", "--path-prefix", path, "--page-size", "1")
    assert [r["Arn"] for r in everything["Roles"]] == [
        f"arn:aws:iam::{ACCT}:role{path}{n}" for n in names
    ]
    for name in names:
        iam.delete_role(RoleName=name)


# -- GetAccountSummary -------------------------------------------------------------------------

SUMMARY_KEYS = {
    "Users", "UsersQuota", "Groups", "GroupsQuota", "ServerCertificates",
    "ServerCertificatesQuota", "UserPolicySizeQuota", "GroupPolicySizeQuota",
    "GroupsPerUserQuota", "SigningCertificatesPerUserQuota", "AccessKeysPerUserQuota",
    "MFADevices", "MFADevicesInUse", "AccountMFAEnabled", "AccountAccessKeysPresent",
    "AccountPasswordPresent", "AccountSigningCertificatesPresent",
    "AttachedPoliciesPerGroupQuota", "AttachedPoliciesPerRoleQuota",
    "AttachedPoliciesPerUserQuota", "Policies", "PoliciesQuota", "PolicySizeQuota",
    "PolicyVersionsInUse", "PolicyVersionsInUseQuota", "VersionsPerPolicyQuota",
    "GlobalEndpointTokenVersion", "AssumeRolePolicySizeQuota", "InstanceProfiles",
    "InstanceProfilesQuota", "Providers", "RolePolicySizeQuota", "Roles", "RolesQuota",
}


def test_account_summary_has_every_key_and_counts(iam: Any) -> None:
    # botocore's summaryKeyType lists 34 keys; AWS returns all of them (a published real
    # `aws iam get-account-summary` answer has each, AccountPasswordPresent included)
    before = iam.get_account_summary()["SummaryMap"]
    assert set(before) == SUMMARY_KEYS
    assert (before["AccountPasswordPresent"], before["AccountMFAEnabled"],
            before["AccountAccessKeysPresent"]) == (0, 0, 1)
    user, role, group, device = uid("sum"), uid("sum"), uid("sum"), uid("sum")
    iam.create_user(UserName=user)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    iam.create_group(GroupName=group)
    policy = iam.create_policy(PolicyName=uid("sum"), PolicyDocument=S3_ALL)["Policy"]["Arn"]
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=device)["VirtualMFADevice"][
        "SerialNumber"
    ]
    after = iam.get_account_summary()["SummaryMap"]
    grown = {k: after[k] - before[k] for k in ("Users", "Roles", "Groups", "Policies",
                                               "MFADevices", "MFADevicesInUse")}
    assert grown == {"Users": 1, "Roles": 1, "Groups": 1, "Policies": 1, "MFADevices": 1,
                     "MFADevicesInUse": 0}
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_policy(PolicyArn=policy)
    iam.delete_group(GroupName=group)
    iam.delete_role(RoleName=role)
    iam.delete_user(UserName=user)
