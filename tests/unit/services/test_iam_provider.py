"""IamProvider driven directly with an in-memory Tx: behaviour, exact error codes/messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fake_tx import FakeTx

from trailgate.auth import tokens
from trailgate.gateway.context import Principal
from trailgate.protocol.errors import ServiceError
from trailgate.scenario import AMAZON_S3_READ_ONLY_ACCESS
from trailgate.services.base import Call
from trailgate.services.iam import IamProvider, queries
from trailgate.services.iam.managed import AWS_MANAGED

ACCT = "111111111111"
OTHER = "222222222222"
SECRET_KEY = bytes(range(32))
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
S3_RO = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def root(account: str = ACCT) -> Principal:
    return Principal(
        kind="root", arn=f"arn:aws:iam::{account}:root", account=account, user_id=account
    )


def user_principal(name: str, account: str = ACCT) -> Principal:
    return Principal(
        kind="user", arn=f"arn:aws:iam::{account}:user/{name}", account=account, user_id="AIDAX"
    )


def role_principal(account: str = ACCT) -> Principal:
    return Principal(
        kind="assumed_role",
        arn=f"arn:aws:sts::{account}:assumed-role/R/s",
        account=account,
        user_id="AROAX:s",
        role_arn=f"arn:aws:iam::{account}:role/R",
    )


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_ALL = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
S3_READ = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


def trust(principal: str | dict[str, Any]) -> str:
    value = principal if isinstance(principal, dict) else {"AWS": principal}
    return doc({"Effect": "Allow", "Principal": value, "Action": "sts:AssumeRole"})


class Harness:
    def __init__(self) -> None:
        self.iam = IamProvider(SECRET_KEY)
        self.tx = FakeTx()
        self.now = NOW

    def __call__(
        self,
        op: str,
        principal: Principal | None = None,
        account: str = ACCT,
        **params: Any,
    ) -> dict[str, Any]:
        call = Call(account, principal or root(account), params, "us-east-1", "req-1", self.now)
        result: dict[str, Any] = getattr(self.iam, op)(call, self.tx)
        return result

    def fails(
        self,
        op: str,
        code: str,
        message: str | None = None,
        status: int | None = None,
        **params: Any,
    ) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self(op, **params)
        error = info.value
        assert error.code == code, error
        if message is not None:
            assert error.message == message
        if status is not None:
            assert error.status == status
        return error


@pytest.fixture
def h() -> Harness:
    return Harness()


# -- users ------------------------------------------------------------------------------------


def test_create_get_user(h: Harness) -> None:
    out = h("CreateUser", UserName="alice", Path="/div/", Tags=[{"Key": "team", "Value": "a"}])
    user = out["User"]
    assert user["UserName"] == "alice"
    assert user["Path"] == "/div/"
    assert user["Arn"] == f"arn:aws:iam::{ACCT}:user/div/alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["CreateDate"] == NOW
    assert user["Tags"] == [{"Key": "team", "Value": "a"}]
    got = h("GetUser", UserName="ALICE")["User"]
    assert got["UserName"] == "alice" and got["UserId"] == user["UserId"]
    assert h.tx.index_get(user["UserId"]) == (ACCT, "iam.user", "alice")


def test_user_name_unique_case_insensitively(h: Harness) -> None:
    h("CreateUser", UserName="Admins")
    h.fails(
        "CreateUser",
        "EntityAlreadyExists",
        "User with name ADMINS already exists.",
        409,
        UserName="ADMINS",
    )


def test_user_validation_errors(h: Harness) -> None:
    h.fails(
        "CreateUser",
        "ValidationError",
        "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        400,
        UserName="a b",
    )
    err = h.fails("CreateUser", "ValidationError", UserName="x" * 65, Path="nope")
    assert err.message.startswith("2 validation errors detected: ")
    assert "Member must have length less than or equal to 64" in err.message
    assert "at 'path'" in err.message


def test_get_user_not_found_and_caller(h: Harness) -> None:
    h.fails(
        "GetUser", "NoSuchEntity", "The user with name bob cannot be found.", 404, UserName="bob"
    )
    h("CreateUser", UserName="bob")
    assert h("GetUser", principal=user_principal("bob"))["User"]["UserName"] == "bob"
    me = h("GetUser")["User"]
    assert me == {"UserId": ACCT, "Arn": f"arn:aws:iam::{ACCT}:root", "CreateDate": NOW}
    with pytest.raises(ServiceError) as info:
        h("GetUser", principal=role_principal())
    assert info.value.code == "ValidationError"
    assert info.value.message == "Must specify userName when calling with non-User credentials"


def test_list_users_paging_and_prefix(h: Harness) -> None:
    for name in ("d", "a", "c", "b", "e"):
        h("CreateUser", UserName=name, Path="/x/" if name in "bd" else "/")
    first = h("ListUsers", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["a", "b"]
    assert first["IsTruncated"] is True
    second = h("ListUsers", MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["c", "d"]
    last = h("ListUsers", MaxItems=2, Marker=second["Marker"])
    assert [u["UserName"] for u in last["Users"]] == ["e"]
    assert last["IsTruncated"] is False and "Marker" not in last
    assert [u["UserName"] for u in h("ListUsers", PathPrefix="/x/")["Users"]] == ["b", "d"]
    assert "Tags" not in h("ListUsers")["Users"][0]


def test_delete_user_conflicts_in_order(h: Harness) -> None:
    h("CreateUser", UserName="u")
    h("CreateLoginProfile", UserName="u", Password="Str0ng-pass")
    h("CreateAccessKey", UserName="u")
    h("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=S3_READ)
    h("AttachUserPolicy", UserName="u", PolicyArn=S3_RO)
    h("CreateGroup", GroupName="g")
    h("AddUserToGroup", GroupName="g", UserName="u")
    steps = [
        (
            "Cannot delete entity, must delete login profile first.",
            lambda: h("DeleteLoginProfile", UserName="u"),
        ),
        (
            "Cannot delete entity, must delete access keys first.",
            lambda: h(
                "DeleteAccessKey",
                UserName="u",
                AccessKeyId=h("ListAccessKeys", UserName="u")["AccessKeyMetadata"][0][
                    "AccessKeyId"
                ],
            ),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            lambda: h("DeleteUserPolicy", UserName="u", PolicyName="p"),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            lambda: h("DetachUserPolicy", UserName="u", PolicyArn=S3_RO),
        ),
        (
            "Cannot delete entity, must remove users from group first.",
            lambda: h("RemoveUserFromGroup", GroupName="g", UserName="u"),
        ),
    ]
    for message, fix in steps:
        h.fails("DeleteUser", "DeleteConflict", message, 409, UserName="u")
        fix()
    h("DeleteUser", UserName="u")
    assert queries.get_user(h.tx, ACCT, "u") is None
    assert h("GetAccountSummary")["SummaryMap"]["Users"] == 0


def test_update_user_rename_moves_references(h: Harness) -> None:
    h("CreateUser", UserName="old")
    h("CreateGroup", GroupName="g")
    h("AddUserToGroup", GroupName="g", UserName="old")
    key = h("CreateAccessKey", UserName="old")["AccessKey"]["AccessKeyId"]
    h("CreateLoginProfile", UserName="old", Password="Str0ng-pass")
    h("CreateUser", UserName="taken")
    h.fails(
        "UpdateUser",
        "EntityAlreadyExists",
        "User with name TAKEN already exists.",
        UserName="old",
        NewUserName="TAKEN",
    )
    h("UpdateUser", UserName="old", NewUserName="new", NewPath="/p/")
    user = h("GetUser", UserName="new")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCT}:user/p/new"
    assert [u["UserName"] for u in h("GetGroup", GroupName="g")["Users"]] == ["new"]
    record = queries.find_access_key(h.tx, key)
    assert record is not None and record.user_name == "new"
    assert h("GetLoginProfile", UserName="new")["LoginProfile"]["UserName"] == "new"
    assert h.tx.index_get(user["UserId"]) == (ACCT, "iam.user", "new")
    h.fails("GetUser", "NoSuchEntity", UserName="old")


def test_user_tags(h: Harness) -> None:
    h("CreateUser", UserName="t")
    h("TagUser", UserName="t", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    h("TagUser", UserName="t", Tags=[{"Key": "A", "Value": "3"}])
    assert h("ListUserTags", UserName="t")["Tags"] == [
        {"Key": "A", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    h("UntagUser", UserName="t", TagKeys=["b"])
    assert h("ListUserTags", UserName="t")["Tags"] == [{"Key": "A", "Value": "3"}]
    h.fails(
        "TagUser",
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        UserName="t",
        Tags=[{"Key": "k", "Value": ""}, {"Key": "K", "Value": ""}],
    )


# -- access keys ------------------------------------------------------------------------------


def test_access_keys_lifecycle(h: Harness) -> None:
    h("CreateUser", UserName="k")
    created = h("CreateAccessKey", UserName="k")["AccessKey"]
    key_id, secret = created["AccessKeyId"], created["SecretAccessKey"]
    assert key_id.startswith("AKIA") and len(key_id) == 20 and len(secret) == 40
    assert created["Status"] == "Active" and created["UserName"] == "k"
    assert h.tx.index_get(key_id) == (ACCT, "iam.accesskey", f"k/{key_id}")
    stored = h.tx.get(ACCT, "iam.accesskey", f"k/{key_id}")
    assert stored is not None and secret not in json.dumps(stored)
    record = queries.find_access_key(h.tx, key_id)
    assert record is not None
    assert (record.account, record.user_name, record.status) == (ACCT, "k", "Active")
    assert tokens.decrypt_secret(SECRET_KEY, record.secret_blob) == secret
    h("CreateAccessKey", UserName="k")
    h.fails(
        "CreateAccessKey",
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
        409,
        UserName="k",
    )
    listed = h("ListAccessKeys", UserName="k")["AccessKeyMetadata"]
    assert len(listed) == 2 and "SecretAccessKey" not in listed[0]
    h("UpdateAccessKey", UserName="k", AccessKeyId=key_id, Status="Inactive")
    assert queries.find_access_key(h.tx, key_id).status == "Inactive"  # type: ignore[union-attr]
    h.fails("UpdateAccessKey", "ValidationError", UserName="k", AccessKeyId=key_id, Status="Off")
    h("CreateUser", UserName="other")
    h.fails(
        "DeleteAccessKey",
        "NoSuchEntity",
        f"The Access Key with id {key_id} cannot be found.",
        404,
        UserName="other",
        AccessKeyId=key_id,
    )
    h("DeleteAccessKey", UserName="k", AccessKeyId=key_id)
    assert queries.find_access_key(h.tx, key_id) is None


def test_access_key_of_the_caller_and_root_keys(h: Harness) -> None:
    h("CreateUser", UserName="me")
    mine = h("CreateAccessKey", principal=user_principal("me"))["AccessKey"]
    assert mine["UserName"] == "me"
    root_key = h("CreateAccessKey")["AccessKey"]
    assert "UserName" not in root_key
    record = queries.find_access_key(h.tx, root_key["AccessKeyId"])
    assert record is not None and record.user_name is None
    assert [k["AccessKeyId"] for k in h("ListAccessKeys")["AccessKeyMetadata"]] == [
        root_key["AccessKeyId"]
    ]
    key_id, secret = queries.create_root_access_key(
        h.tx, SECRET_KEY, OTHER, key_id="AKIAFIXEDFIXEDFIXED1", secret="s" * 40
    )
    found = queries.find_access_key(h.tx, key_id)
    assert found is not None and found.account == OTHER and found.user_name is None
    assert tokens.decrypt_secret(SECRET_KEY, found.secret_blob) == secret


def test_access_key_last_used(h: Harness) -> None:
    h("CreateUser", UserName="k")
    key_id = h("CreateAccessKey", UserName="k")["AccessKey"]["AccessKeyId"]
    assert h("GetAccessKeyLastUsed", AccessKeyId=key_id)["AccessKeyLastUsed"] == {
        "ServiceName": "N/A",
        "Region": "N/A",
    }
    queries.record_access_key_used(h.tx, key_id, NOW, "s3", "us-east-1")
    out = h("GetAccessKeyLastUsed", AccessKeyId=key_id)
    assert out["UserName"] == "k"
    assert out["AccessKeyLastUsed"] == {
        "LastUsedDate": NOW,
        "ServiceName": "s3",
        "Region": "us-east-1",
    }


# -- login profiles ---------------------------------------------------------------------------


def test_login_profile(h: Harness) -> None:
    h("CreateUser", UserName="web")
    h.fails(
        "GetLoginProfile",
        "NoSuchEntity",
        "Login Profile for User web cannot be found.",
        404,
        UserName="web",
    )
    h.fails(
        "CreateLoginProfile",
        "PasswordPolicyViolation",
        "Password does not conform to the account password policy.",
        400,
        UserName="web",
        Password="short",
    )
    out = h(
        "CreateLoginProfile", UserName="web", Password="Str0ng-pass", PasswordResetRequired=True
    )
    assert out["LoginProfile"] == {
        "UserName": "web",
        "CreateDate": NOW,
        "PasswordResetRequired": True,
    }
    h.fails(
        "CreateLoginProfile",
        "EntityAlreadyExists",
        "Login Profile for user web already exists.",
        409,
        UserName="web",
        Password="Str0ng-pass",
    )
    stored = h.tx.get(ACCT, "iam.login", "web")
    assert stored is not None and "Str0ng-pass" not in json.dumps(stored)
    assert stored["PasswordHash"].startswith("$argon2")
    assert queries.verify_password(h.tx, ACCT, "web", "Str0ng-pass")
    assert not queries.verify_password(h.tx, ACCT, "web", "wrong")
    h("UpdateLoginProfile", UserName="web", Password="An0ther-pass", PasswordResetRequired=False)
    assert queries.verify_password(h.tx, ACCT, "web", "An0ther-pass")
    assert h("GetLoginProfile", UserName="web")["LoginProfile"]["PasswordResetRequired"] is False
    h("DeleteLoginProfile", UserName="web")
    assert not queries.verify_password(h.tx, ACCT, "web", "An0ther-pass")


# -- groups -----------------------------------------------------------------------------------


def test_groups(h: Harness) -> None:
    group = h("CreateGroup", GroupName="devs", Path="/eng/")["Group"]
    assert group["GroupId"].startswith("AGPA")
    assert group["Arn"] == f"arn:aws:iam::{ACCT}:group/eng/devs"
    h.fails(
        "CreateGroup",
        "EntityAlreadyExists",
        "Group with name DEVS already exists.",
        409,
        GroupName="DEVS",
    )
    h.fails(
        "GetGroup", "NoSuchEntity", "The group with name ops cannot be found.", 404, GroupName="ops"
    )
    h("CreateUser", UserName="u1")
    h("CreateUser", UserName="u2")
    h("AddUserToGroup", GroupName="devs", UserName="u2")
    h("AddUserToGroup", GroupName="devs", UserName="u1")
    h("AddUserToGroup", GroupName="devs", UserName="u1")  # idempotent
    got = h("GetGroup", GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["u1", "u2"]
    assert got["IsTruncated"] is False
    assert [g["GroupName"] for g in h("ListGroupsForUser", UserName="u1")["Groups"]] == ["devs"]
    assert [g["GroupName"] for g in h("ListGroups", PathPrefix="/eng")["Groups"]] == ["devs"]
    h.fails(
        "DeleteGroup",
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
        409,
        GroupName="devs",
    )
    h("RemoveUserFromGroup", GroupName="devs", UserName="u1")
    h("RemoveUserFromGroup", GroupName="devs", UserName="u2")
    h("PutGroupPolicy", GroupName="devs", PolicyName="gp", PolicyDocument=S3_READ)
    h.fails(
        "DeleteGroup",
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        GroupName="devs",
    )
    h("DeleteGroupPolicy", GroupName="devs", PolicyName="gp")
    h("AttachGroupPolicy", GroupName="devs", PolicyArn=S3_RO)
    assert h("ListAttachedGroupPolicies", GroupName="devs")["AttachedPolicies"] == [
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_RO}
    ]
    h.fails(
        "DeleteGroup",
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        GroupName="devs",
    )
    h("DetachGroupPolicy", GroupName="devs", PolicyArn=S3_RO)
    h("DeleteGroup", GroupName="devs")
    assert h("ListGroups")["Groups"] == []


def test_identity_policies_include_groups(h: Harness) -> None:
    h("CreateUser", UserName="u")
    h("CreateGroup", GroupName="g")
    h("AddUserToGroup", GroupName="g", UserName="u")
    h("PutUserPolicy", UserName="u", PolicyName="own", PolicyDocument=S3_READ)
    h("AttachUserPolicy", UserName="u", PolicyArn=S3_RO)
    h("PutGroupPolicy", GroupName="g", PolicyName="shared", PolicyDocument=ALLOW_ALL)
    h("AttachGroupPolicy", GroupName="g", PolicyArn=S3_RO)
    h("AttachGroupPolicy", GroupName="g", PolicyArn=ADMIN)
    pairs = queries.identity_policies_for_user(h.tx, ACCT, "U")
    assert [pid for pid, _ in pairs] == ["user/u/own", S3_RO, "group/g/shared", ADMIN]
    assert dict(pairs)[S3_RO] == AWS_MANAGED[S3_RO].document
    assert queries.identity_policies_for_user(h.tx, ACCT, "ghost") == []


# -- roles ------------------------------------------------------------------------------------


def test_create_and_get_role(h: Harness) -> None:
    text = trust(f"arn:aws:iam::{OTHER}:root")
    role = h(
        "CreateRole",
        RoleName="Reader",
        AssumeRolePolicyDocument=text,
        Path="/ct/",
        Description="reads logs",
        MaxSessionDuration=7200,
        Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["Arn"] == f"arn:aws:iam::{ACCT}:role/ct/Reader"
    assert role["AssumeRolePolicyDocument"] == text
    assert role["MaxSessionDuration"] == 7200 and role["Description"] == "reads logs"
    assert role["Tags"] == [{"Key": "k", "Value": "v"}]
    got = h("GetRole", RoleName="reader")["Role"]
    assert got["RoleLastUsed"] == {}
    queries.record_role_last_used(h.tx, ACCT, "Reader", NOW, "eu-west-1")
    assert h("GetRole", RoleName="Reader")["Role"]["RoleLastUsed"] == {
        "LastUsedDate": NOW,
        "Region": "eu-west-1",
    }
    found = queries.role_by_arn(h.tx, f"arn:aws:iam::{ACCT}:role/ct/Reader")
    assert found is not None and found["RoleId"] == role["RoleId"]
    assert queries.role_by_arn(h.tx, f"arn:aws:iam::{ACCT}:role/Reader") is None
    h.fails(
        "CreateRole",
        "EntityAlreadyExists",
        "Role with name READER already exists.",
        409,
        RoleName="READER",
        AssumeRolePolicyDocument=text,
    )
    h.fails(
        "GetRole", "NoSuchEntity", "The role with name Nope cannot be found.", 404, RoleName="Nope"
    )


def test_trust_policy_principals_must_exist(h: Harness) -> None:
    missing = f"arn:aws:iam::{ACCT}:role/x"
    h.fails(
        "CreateRole",
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"{missing}"',
        400,
        RoleName="R",
        AssumeRolePolicyDocument=trust(missing),
    )
    h("CreateUser", UserName="alice")
    alice = f"arn:aws:iam::{ACCT}:user/alice"
    role = h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(alice))["Role"]
    stored = queries.get_role(h.tx, ACCT, "R")
    assert stored is not None
    user = queries.get_user(h.tx, ACCT, "alice")
    assert user is not None and stored["TrustPrincipalIds"] == {alice: user["UserId"]}
    assert role["AssumeRolePolicyDocument"] == trust(alice)
    h(
        "CreateRole",
        RoleName="S",
        AssumeRolePolicyDocument=trust({"Service": "cloudtrail.amazonaws.com"}),
    )
    h.fails(
        "UpdateAssumeRolePolicy",
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"arn:aws:iam::{OTHER}:user/bob"',
        RoleName="R",
        PolicyDocument=trust(f"arn:aws:iam::{OTHER}:user/bob"),
    )
    h("UpdateAssumeRolePolicy", RoleName="R", PolicyDocument=trust(OTHER))
    assert h("GetRole", RoleName="R")["Role"]["AssumeRolePolicyDocument"] == trust(OTHER)


def test_trust_policy_grammar_and_size(h: Harness) -> None:
    bad = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": "sts:AssumeRole",
            "Resource": "*",
        }
    )
    h.fails(
        "CreateRole",
        "MalformedPolicyDocument",
        "Has prohibited field Resource",
        RoleName="R",
        AssumeRolePolicyDocument=bad,
    )
    h.fails(
        "CreateRole",
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
        RoleName="R",
        AssumeRolePolicyDocument="{not json",
    )
    big = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "x" * 2100}},
        }
    )
    h.fails(
        "CreateRole",
        "LimitExceeded",
        "Cannot exceed quota for ACLSizePerRole: 2048",
        409,
        RoleName="R",
        AssumeRolePolicyDocument=big,
    )


def test_role_duration_and_description_checks(h: Harness) -> None:
    h.fails(
        "CreateRole",
        "ValidationError",
        "1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy "
        "constraint: Member must have value greater than or equal to 3600",
        RoleName="R",
        AssumeRolePolicyDocument=trust(OTHER),
        MaxSessionDuration=100,
    )
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    assert h("GetRole", RoleName="R")["Role"]["MaxSessionDuration"] == 3600
    h.fails("UpdateRole", "ValidationError", RoleName="R", MaxSessionDuration=43201)
    h("UpdateRole", RoleName="R", MaxSessionDuration=43200, Description="d1")
    role = h("GetRole", RoleName="R")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (43200, "d1")
    out = h("UpdateRoleDescription", RoleName="R", Description="d2")
    assert out["Role"]["Description"] == "d2"


def test_list_roles_paging_without_extras(h: Harness) -> None:
    for name in ("r3", "r1", "r2"):
        h(
            "CreateRole",
            RoleName=name,
            AssumeRolePolicyDocument=trust(OTHER),
            Path="/a/" if name != "r2" else "/b/",
            Tags=[{"Key": "k", "Value": "v"}],
            PermissionsBoundary=S3_RO,
        )
    page1 = h("ListRoles", MaxItems=2)
    assert [r["RoleName"] for r in page1["Roles"]] == ["r1", "r2"] and page1["IsTruncated"]
    page2 = h("ListRoles", MaxItems=2, Marker=page1["Marker"])
    assert [r["RoleName"] for r in page2["Roles"]] == ["r3"] and not page2["IsTruncated"]
    for role in page1["Roles"]:
        assert not {"Tags", "PermissionsBoundary", "RoleLastUsed"} & set(role)
    assert [r["RoleName"] for r in h("ListRoles", PathPrefix="/a/")["Roles"]] == ["r1", "r3"]
    assert h("GetRole", RoleName="r1")["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": S3_RO,
    }


def test_delete_role_conflicts_and_tags(h: Harness) -> None:
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    h("AttachRolePolicy", RoleName="R", PolicyArn=S3_RO)
    h("PutRolePolicy", RoleName="R", PolicyName="p", PolicyDocument=S3_READ)
    h.fails(
        "DeleteRole",
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
        RoleName="R",
    )
    h("DetachRolePolicy", RoleName="R", PolicyArn=S3_RO)
    h.fails(
        "DeleteRole",
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        RoleName="R",
    )
    h("DeleteRolePolicy", RoleName="R", PolicyName="p")
    h("TagRole", RoleName="R", Tags=[{"Key": "a", "Value": "1"}])
    assert h("ListRoleTags", RoleName="R")["Tags"] == [{"Key": "a", "Value": "1"}]
    h("UntagRole", RoleName="R", TagKeys=["a"])
    assert h("ListRoleTags", RoleName="R")["Tags"] == []
    h("DeleteRole", RoleName="R")
    h.fails("GetRole", "NoSuchEntity", RoleName="R")


def test_role_boundary_and_identity_policies(h: Harness) -> None:
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    h.fails(
        "PutRolePermissionsBoundary",
        "NoSuchEntity",
        f"Scope ARN: arn:aws:iam::{ACCT}:policy/none does not exist or is not attachable.",
        RoleName="R",
        PermissionsBoundary=f"arn:aws:iam::{ACCT}:policy/none",
    )
    h("PutRolePermissionsBoundary", RoleName="R", PermissionsBoundary=S3_RO)
    assert queries.boundary_for(h.tx, ACCT, "role", "R") == (S3_RO, AWS_MANAGED[S3_RO].document)
    assert h("GetPolicy", PolicyArn=S3_RO)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    h("DeleteRolePermissionsBoundary", RoleName="R")
    assert queries.boundary_for(h.tx, ACCT, "role", "R") is None
    assert h("GetPolicy", PolicyArn=S3_RO)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    h("PutRolePolicy", RoleName="R", PolicyName="p", PolicyDocument=S3_READ)
    h("AttachRolePolicy", RoleName="R", PolicyArn=S3_RO)
    assert queries.identity_policies_for_role(h.tx, ACCT, "r") == [
        ("role/R/p", S3_READ),
        (S3_RO, AWS_MANAGED[S3_RO].document),
    ]


# -- inline policies --------------------------------------------------------------------------


def test_inline_policies(h: Harness) -> None:
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    h("PutRolePolicy", RoleName="R", PolicyName="b", PolicyDocument=S3_READ)
    h("PutRolePolicy", RoleName="R", PolicyName="a", PolicyDocument=ALLOW_ALL)
    assert h("ListRolePolicies", RoleName="R")["PolicyNames"] == ["a", "b"]
    assert h("GetRolePolicy", RoleName="R", PolicyName="b") == {
        "RoleName": "R",
        "PolicyName": "b",
        "PolicyDocument": S3_READ,
    }
    h.fails(
        "GetRolePolicy",
        "NoSuchEntity",
        "The role policy with name c cannot be found.",
        404,
        RoleName="R",
        PolicyName="c",
    )
    h.fails(
        "DeleteRolePolicy",
        "NoSuchEntity",
        "The role policy with name c cannot be found.",
        RoleName="R",
        PolicyName="c",
    )
    h("DeleteRolePolicy", RoleName="R", PolicyName="a")
    assert h("ListRolePolicies", RoleName="R")["PolicyNames"] == ["b"]
    h.fails(
        "PutRolePolicy",
        "NoSuchEntity",
        "The role with name X cannot be found.",
        RoleName="X",
        PolicyName="p",
        PolicyDocument=S3_READ,
    )


def test_inline_policy_documents_are_validated(h: Harness) -> None:
    h("CreateUser", UserName="u")
    with_principal = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    h.fails(
        "PutUserPolicy",
        "MalformedPolicyDocument",
        "Policy document should not specify a principal.",
        400,
        UserName="u",
        PolicyName="p",
        PolicyDocument=with_principal,
    )
    h.fails(
        "PutUserPolicy",
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
        UserName="u",
        PolicyName="p",
        PolicyDocument="[]",
    )
    err = h.fails(
        "PutUserPolicy",
        "ValidationError",
        UserName="u",
        PolicyName="p",
        PolicyDocument=S3_READ.replace("s3", "s3\u0100"),
    )
    assert "at 'policyDocument'" in err.message


def _sized_doc(size: int, *, padding: int = 0) -> str:
    base = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/"})
    filler = "x" * (size - len(base.replace(" ", "")))
    text = base.replace("arn:aws:s3:::b/", "arn:aws:s3:::b/" + filler)
    return text.replace("{", "{" + " " * padding, 1)


def test_inline_aggregate_quota_ignores_whitespace(h: Harness) -> None:
    h("CreateUser", UserName="u")
    h("PutUserPolicy", UserName="u", PolicyName="a", PolicyDocument=_sized_doc(1000, padding=5000))
    h("PutUserPolicy", UserName="u", PolicyName="b", PolicyDocument=_sized_doc(1048))
    h.fails(
        "PutUserPolicy",
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user u",
        409,
        UserName="u",
        PolicyName="c",
        PolicyDocument=_sized_doc(10),
    )
    h("PutUserPolicy", UserName="u", PolicyName="b", PolicyDocument=_sized_doc(1000))  # replace
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    h("PutRolePolicy", RoleName="R", PolicyName="a", PolicyDocument=_sized_doc(6000))
    h.fails(
        "PutRolePolicy",
        "LimitExceeded",
        "Maximum policy size of 10240 bytes exceeded for role R",
        RoleName="R",
        PolicyName="b",
        PolicyDocument=_sized_doc(4300),
    )


# -- managed policies -------------------------------------------------------------------------


def _create_policy(h: Harness, name: str = "P", path: str = "/") -> dict[str, Any]:
    policy: dict[str, Any] = h(
        "CreatePolicy", PolicyName=name, PolicyDocument=S3_READ, Path=path, Description="desc"
    )["Policy"]
    return policy


def test_create_and_get_policy(h: Harness) -> None:
    policy = _create_policy(h, path="/team/")
    assert policy["PolicyId"].startswith("ANPA")
    assert policy["Arn"] == f"arn:aws:iam::{ACCT}:policy/team/P"
    assert policy["DefaultVersionId"] == "v1"
    assert (policy["AttachmentCount"], policy["IsAttachable"]) == (0, True)
    assert "Description" not in policy
    got = h("GetPolicy", PolicyArn=policy["Arn"])["Policy"]
    assert got["Description"] == "desc" and got["PolicyId"] == policy["PolicyId"]
    h.fails(
        "CreatePolicy",
        "EntityAlreadyExists",
        "A policy called p already exists. Duplicate names are not allowed.",
        409,
        PolicyName="p",
        PolicyDocument=S3_READ,
    )
    missing = f"arn:aws:iam::{ACCT}:policy/nope"
    h.fails("GetPolicy", "NoSuchEntity", f"Policy {missing} was not found.", 404, PolicyArn=missing)
    version = h("GetPolicyVersion", PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version == {
        "VersionId": "v1",
        "IsDefaultVersion": True,
        "CreateDate": NOW,
        "Document": S3_READ,
    }
    assert queries.managed_policy_document(h.tx, policy["Arn"]) == S3_READ


def test_policy_documents_checked(h: Harness) -> None:
    old = json.dumps(
        {
            "Version": "2008-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    )
    h.fails(
        "CreatePolicy",
        "MalformedPolicyDocument",
        "Policy document must be version 2012-10-17 or greater.",
        PolicyName="P",
        PolicyDocument=old,
    )
    h.fails(
        "CreatePolicy",
        "LimitExceeded",
        "Cannot exceed quota for PolicySize: 6144",
        409,
        PolicyName="P",
        PolicyDocument=_sized_doc(6200),
    )
    h("CreatePolicy", PolicyName="P", PolicyDocument=_sized_doc(6100, padding=3000))


def test_policy_versions(h: Harness) -> None:
    arn = _create_policy(h)["Arn"]
    h.now = NOW + timedelta(hours=1)
    v2 = h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=ALLOW_ALL)["PolicyVersion"]
    assert v2 == {"VersionId": "v2", "IsDefaultVersion": False, "CreateDate": h.now}
    assert queries.managed_policy_document(h.tx, arn) == S3_READ
    h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=ALLOW_ALL, SetAsDefault=True)
    assert h("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert h("GetPolicy", PolicyArn=arn)["Policy"]["UpdateDate"] == h.now
    assert queries.managed_policy_document(h.tx, arn) == ALLOW_ALL
    h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_READ)
    h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_READ)
    h.fails(
        "CreatePolicyVersion",
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you "
        "must delete an existing version.",
        409,
        PolicyArn=arn,
        PolicyDocument=S3_READ,
    )
    listed = h("ListPolicyVersions", PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in listed] == [False, False, True, False, False]
    h.fails(
        "DeletePolicyVersion",
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
        409,
        PolicyArn=arn,
        VersionId="v3",
    )
    h("DeletePolicyVersion", PolicyArn=arn, VersionId="v1")
    h.fails(
        "GetPolicyVersion",
        "NoSuchEntity",
        f"Policy {arn} version v1 does not exist or is not attachable.",
        404,
        PolicyArn=arn,
        VersionId="v1",
    )
    h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_READ)
    assert h("ListPolicyVersions", PolicyArn=arn)["Versions"][0]["VersionId"] == "v6"
    h("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
    assert h("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    h.fails("SetDefaultPolicyVersion", "ValidationError", PolicyArn=arn, VersionId="2")


def test_delete_policy_conflicts(h: Harness) -> None:
    arn = _create_policy(h)["Arn"]
    h("CreateUser", UserName="u")
    h("AttachUserPolicy", UserName="u", PolicyArn=arn)
    assert h("GetPolicy", PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    h.fails(
        "DeletePolicy",
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
        PolicyArn=arn,
    )
    h("DetachUserPolicy", UserName="u", PolicyArn=arn)
    h("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=ALLOW_ALL)
    h.fails(
        "DeletePolicy",
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete "
        "the policy's versions. The default version is deleted with the policy.",
        PolicyArn=arn,
    )
    h("DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    h("DeletePolicy", PolicyArn=arn)
    h.fails("GetPolicy", "NoSuchEntity", PolicyArn=arn)


def test_aws_managed_policies_are_read_only(h: Harness) -> None:
    policy = h("GetPolicy", PolicyArn=S3_RO)["Policy"]
    assert policy["PolicyId"] == "ANPAIZTJ4DXE7G6AGAE6M" and policy["DefaultVersionId"] == "v3"
    version = h("GetPolicyVersion", PolicyArn=S3_RO, VersionId="v3")["PolicyVersion"]
    assert json.loads(version["Document"]) == AMAZON_S3_READ_ONLY_ACCESS
    for op, extra in (
        ("CreatePolicyVersion", {"PolicyDocument": S3_READ}),
        ("DeletePolicy", {}),
        ("SetDefaultPolicyVersion", {"VersionId": "v3"}),
        ("DeletePolicyVersion", {"VersionId": "v2"}),
    ):
        err = h.fails(op, "AccessDenied", status=403, PolicyArn=S3_RO, **extra)
        assert f"iam:{op} on resource: policy {S3_RO}" in err.message


def test_every_aws_managed_document_parses() -> None:
    from trailgate.policy import PolicyType, parse_policy

    names = {p.name for p in AWS_MANAGED.values()}
    assert names == {
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonS3FullAccess",
        "AWSCloudTrail_ReadOnlyAccess",
        "AWSCloudTrail_FullAccess",
        "IAMReadOnlyAccess",
        "IAMFullAccess",
        "IAMUserChangePassword",
        "PowerUserAccess",
    }
    for policy in AWS_MANAGED.values():
        parse_policy(policy.document, PolicyType.IDENTITY)
        assert policy.policy_id.startswith("ANPA") and len(policy.policy_id) == 21


def test_attach_quota_and_unknown_arns(h: Harness) -> None:
    h("CreateUser", UserName="u")
    missing = f"arn:aws:iam::{ACCT}:policy/none"
    h.fails(
        "AttachUserPolicy",
        "NoSuchEntity",
        f"Policy {missing} does not exist or is not attachable.",
        404,
        UserName="u",
        PolicyArn=missing,
    )
    h.fails(
        "AttachUserPolicy",
        "InvalidInput",
        "ARN not-an-arn is not valid.",
        400,
        UserName="u",
        PolicyArn="not-an-arn",
    )
    h.fails(
        "DetachUserPolicy",
        "NoSuchEntity",
        f"Policy {S3_RO} was not found.",
        404,
        UserName="u",
        PolicyArn=S3_RO,
    )
    arns = [str(AWS_MANAGED_ARN) for AWS_MANAGED_ARN in AWS_MANAGED]
    arns += [_create_policy(h, name=f"P{i}")["Arn"] for i in range(4)]
    for arn in arns[:10]:
        h("AttachUserPolicy", UserName="u", PolicyArn=arn)
    h("AttachUserPolicy", UserName="u", PolicyArn=arns[0])  # already attached: no-op
    h.fails(
        "AttachUserPolicy",
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerUser: 10",
        409,
        UserName="u",
        PolicyArn=arns[10],
    )
    attached = h("ListAttachedUserPolicies", UserName="u", MaxItems=4)
    assert len(attached["AttachedPolicies"]) == 4 and attached["IsTruncated"]
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    for arn in arns[:10]:
        h("AttachRolePolicy", RoleName="R", PolicyArn=arn)
    h.fails(
        "AttachRolePolicy",
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
        RoleName="R",
        PolicyArn=arns[10],
    )
    other = h(
        "CreatePolicy",
        account=OTHER,
        principal=root(OTHER),
        PolicyName="Theirs",
        PolicyDocument=S3_READ,
    )["Policy"]["Arn"]
    h.fails(
        "AttachUserPolicy",
        "NoSuchEntity",
        f"Policy {other} does not exist or is not attachable.",
        UserName="u",
        PolicyArn=other,
    )


def test_list_policies(h: Harness) -> None:
    local = _create_policy(h, name="Local1", path="/team/")["Arn"]
    _create_policy(h, name="Local2")
    every = h("ListPolicies", MaxItems=1000)["Policies"]
    assert len(every) == len(AWS_MANAGED) + 2
    assert all("Description" not in p and "Tags" not in p for p in every)
    assert {p["PolicyName"] for p in h("ListPolicies", Scope="Local")["Policies"]} == {
        "Local1",
        "Local2",
    }
    assert len(h("ListPolicies", Scope="AWS")["Policies"]) == len(AWS_MANAGED)
    assert [p["Arn"] for p in h("ListPolicies", PathPrefix="/team/")["Policies"]] == [local]
    h("CreateUser", UserName="u")
    h("AttachUserPolicy", UserName="u", PolicyArn=local)
    h("AttachUserPolicy", UserName="u", PolicyArn=S3_RO)
    attached = h("ListPolicies", OnlyAttached=True)["Policies"]
    assert {p["Arn"] for p in attached} == {local, S3_RO}
    assert {p["AttachmentCount"] for p in attached} == {1}
    names: list[str] = []
    marker = None
    while True:
        params: dict[str, Any] = {"MaxItems": 3}
        if marker:
            params["Marker"] = marker
        out = h("ListPolicies", **params)
        names += [p["PolicyName"] for p in out["Policies"]]
        if not out["IsTruncated"]:
            break
        marker = out["Marker"]
    assert names == sorted((p["PolicyName"] for p in every), key=str.lower)
    h.fails("ListPolicies", "ValidationError", Scope="Everything")


def test_list_entities_for_policy(h: Harness) -> None:
    h("CreateUser", UserName="u", Path="/p/")
    h("CreateGroup", GroupName="g")
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER), PermissionsBoundary=S3_RO)
    h("AttachUserPolicy", UserName="u", PolicyArn=S3_RO)
    h("AttachGroupPolicy", GroupName="g", PolicyArn=S3_RO)
    out = h("ListEntitiesForPolicy", PolicyArn=S3_RO)
    user = queries.get_user(h.tx, ACCT, "u")
    assert user is not None
    assert out["PolicyUsers"] == [{"UserName": "u", "UserId": user["UserId"]}]
    assert [g["GroupName"] for g in out["PolicyGroups"]] == ["g"]
    assert [r["RoleName"] for r in out["PolicyRoles"]] == ["R"]
    only = h("ListEntitiesForPolicy", PolicyArn=S3_RO, EntityFilter="User")
    assert only["PolicyGroups"] == [] and len(only["PolicyUsers"]) == 1
    perms = h("ListEntitiesForPolicy", PolicyArn=S3_RO, PolicyUsageFilter="PermissionsPolicy")
    assert perms["PolicyRoles"] == []
    assert h("ListEntitiesForPolicy", PolicyArn=S3_RO, PathPrefix="/p/")["PolicyGroups"] == []
    paged = h("ListEntitiesForPolicy", PolicyArn=S3_RO, MaxItems=2)
    assert paged["IsTruncated"]
    rest = h("ListEntitiesForPolicy", PolicyArn=S3_RO, MaxItems=2, Marker=paged["Marker"])
    assert len(rest["PolicyRoles"]) == 1 and not rest["IsTruncated"]


def test_policy_tags(h: Harness) -> None:
    arn = _create_policy(h)["Arn"]
    h("TagPolicy", PolicyArn=arn, Tags=[{"Key": "a", "Value": "b"}])
    assert h("ListPolicyTags", PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "b"}]
    h("UntagPolicy", PolicyArn=arn, TagKeys=["a"])
    assert h("ListPolicyTags", PolicyArn=arn)["Tags"] == []


# -- MFA --------------------------------------------------------------------------------------


def _codes(seed: str, now: datetime) -> tuple[str, str]:
    totp = pyotp.TOTP(seed)
    step = int(now.timestamp()) // 30
    return totp.at(step * 30 - 30), totp.at(step * 30)


def test_virtual_mfa_lifecycle(h: Harness) -> None:
    h("CreateUser", UserName="m")
    device = h("CreateVirtualMFADevice", VirtualMFADeviceName="m-phone")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCT}:mfa/m-phone"
    seed = device["Base32StringSeed"].decode("ascii")
    assert len(seed) >= 16 and device["QRCodePNG"].startswith(b"\x89PNG")
    h.fails(
        "CreateVirtualMFADevice",
        "EntityAlreadyExists",
        "MFADevice entity at the same path and name already exists.",
        409,
        VirtualMFADeviceName="m-phone",
    )
    assert h("ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"] == [
        {"SerialNumber": serial}
    ]
    h.fails(
        "EnableMFADevice",
        "InvalidAuthenticationCode",
        "Authentication code for device is not valid.",
        403,
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1="000000",
        AuthenticationCode2="000000",
    )
    code1, code2 = _codes(seed, h.now)
    h.fails(
        "EnableMFADevice",
        "InvalidAuthenticationCode",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1=code2,
        AuthenticationCode2=code1,
    )
    h.fails(
        "EnableMFADevice",
        "ValidationError",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1="12345",
        AuthenticationCode2=code2,
    )
    h(
        "EnableMFADevice",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    record = queries.mfa_device(h.tx, ACCT, serial)
    assert record is not None and record["UserName"] == "m" and record["Seed"] == seed
    assert record["LastStep"] == int(h.now.timestamp()) // 30
    queries.set_mfa_last_step(h.tx, ACCT, serial, 42)
    assert queries.mfa_device(h.tx, ACCT, serial)["LastStep"] == 42  # type: ignore[index]
    assert h("ListMFADevices", UserName="m")["MFADevices"] == [
        {"UserName": "m", "SerialNumber": serial, "EnableDate": h.now}
    ]
    assert (
        h("ListMFADevices", principal=user_principal("m"))["MFADevices"][0]["SerialNumber"]
        == serial
    )
    assigned = h("ListVirtualMFADevices", AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["User"]["UserName"] == "m"
    h.fails(
        "EnableMFADevice",
        "EntityAlreadyExists",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    h.now = NOW + timedelta(minutes=10)
    r1, r2 = _codes(seed, h.now)
    h(
        "ResyncMFADevice",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1=r1,
        AuthenticationCode2=r2,
    )
    h.fails(
        "ResyncMFADevice",
        "InvalidAuthenticationCode",
        UserName="m",
        SerialNumber=serial,
        AuthenticationCode1="111111",
        AuthenticationCode2="222222",
    )
    h.fails(
        "DeleteVirtualMFADevice",
        "DeleteConflict",
        "MFA device is still in use.",
        409,
        SerialNumber=serial,
    )
    h.fails(
        "DeleteUser",
        "DeleteConflict",
        "Cannot delete entity, must delete MFA device first.",
        UserName="m",
    )
    h("DeactivateMFADevice", UserName="m", SerialNumber=serial)
    assert h("ListMFADevices", UserName="m")["MFADevices"] == []
    h("DeleteVirtualMFADevice", SerialNumber=serial)
    assert queries.mfa_device(h.tx, ACCT, serial) is None
    h.fails("DeleteVirtualMFADevice", "NoSuchEntity", SerialNumber=serial)


# -- account ----------------------------------------------------------------------------------


def test_account_alias(h: Harness) -> None:
    assert h("ListAccountAliases")["AccountAliases"] == []
    h("CreateAccountAlias", AccountAlias="my-org")
    assert h("ListAccountAliases")["AccountAliases"] == ["my-org"]
    assert queries.account_alias(h.tx, ACCT) == "my-org"
    with pytest.raises(ServiceError) as info:
        h("CreateAccountAlias", account=OTHER, principal=root(OTHER), AccountAlias="my-org")
    assert (info.value.code, info.value.message) == (
        "EntityAlreadyExists",
        "The account alias my-org already exists.",
    )
    h("CreateAccountAlias", AccountAlias="renamed")
    assert h("ListAccountAliases")["AccountAliases"] == ["renamed"]
    h("CreateAccountAlias", account=OTHER, principal=root(OTHER), AccountAlias="my-org")
    h.fails("CreateAccountAlias", "ValidationError", AccountAlias="Bad--Alias")
    h.fails(
        "DeleteAccountAlias",
        "NoSuchEntity",
        "The account alias nope cannot be found.",
        AccountAlias="nope",
    )
    h("DeleteAccountAlias", AccountAlias="renamed")
    assert h("ListAccountAliases")["AccountAliases"] == []


def test_account_authorization_details(h: Harness) -> None:
    h("CreateUser", UserName="u")
    h("CreateGroup", GroupName="g")
    h("AddUserToGroup", GroupName="g", UserName="u")
    h("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=S3_READ)
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    h("AttachRolePolicy", RoleName="R", PolicyArn=S3_RO)
    local = _create_policy(h)["Arn"]
    out = h("GetAccountAuthorizationDetails")
    user = out["UserDetailList"][0]
    assert user["GroupList"] == ["g"]
    assert user["UserPolicyList"] == [{"PolicyName": "p", "PolicyDocument": S3_READ}]
    role = out["RoleDetailList"][0]
    assert role["AttachedManagedPolicies"] == [
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_RO}
    ]
    assert role["AssumeRolePolicyDocument"] == trust(OTHER)
    assert {p["Arn"] for p in out["Policies"]} == {local, S3_RO}
    assert out["Policies"][0]["PolicyVersionList"][0]["IsDefaultVersion"] is True
    only = h("GetAccountAuthorizationDetails", Filter=["Role"])
    assert only["UserDetailList"] == [] and len(only["RoleDetailList"]) == 1
    first = h("GetAccountAuthorizationDetails", MaxItems=2)
    assert first["IsTruncated"]
    second = h("GetAccountAuthorizationDetails", MaxItems=10, Marker=first["Marker"])
    total = sum(
        len(first[k]) + len(second[k])
        for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    )
    assert total == 5


def test_account_summary_and_bootstrap(h: Harness) -> None:
    queries.bootstrap_account(h.tx, ACCT, NOW - timedelta(days=1))
    queries.bootstrap_account(h.tx, ACCT, NOW)
    assert h("GetUser")["User"]["CreateDate"] == NOW - timedelta(days=1)
    h("CreateUser", UserName="u")
    h("CreateRole", RoleName="R", AssumeRolePolicyDocument=trust(OTHER))
    summary = h("GetAccountSummary")["SummaryMap"]
    assert (summary["Users"], summary["Roles"], summary["Groups"]) == (1, 1, 0)
    assert summary["AccessKeysPerUserQuota"] == 2


# -- generation and read-only operations ------------------------------------------------------


def test_writes_bump_generation_and_reads_do_not(h: Harness) -> None:
    before = h.tx.generation
    h("CreateUser", UserName="u")
    assert h.tx.generation > before
    snapshot = (h.tx.generation, repr(sorted(h.tx.records.items())))
    for op, params in (
        ("GetUser", {"UserName": "u"}),
        ("ListUsers", {}),
        ("ListPolicies", {}),
        ("GetAccountAuthorizationDetails", {}),
        ("ListRoles", {}),
        ("GetAccountSummary", {}),
    ):
        h(op, **params)
    assert (h.tx.generation, repr(sorted(h.tx.records.items()))) == snapshot
    for op, params in (
        ("AttachUserPolicy", {"UserName": "u", "PolicyArn": S3_RO}),
        ("PutUserPolicy", {"UserName": "u", "PolicyName": "p", "PolicyDocument": S3_READ}),
        ("CreateAccessKey", {"UserName": "u"}),
        ("CreateRole", {"RoleName": "R", "AssumeRolePolicyDocument": trust(OTHER)}),
    ):
        generation = h.tx.generation
        h(op, **params)
        assert h.tx.generation == generation + 1, op


def test_entity_path_lookup(h: Harness) -> None:
    h("CreateUser", UserName="u", Path="/a/b/")
    assert queries.entity_path(h.tx, ACCT, "user", "U") == "/a/b/"
    assert queries.entity_path(h.tx, ACCT, "role", "x") is None


def test_with_the_sqlite_store(tmp_path: Path) -> None:
    from trailgate.store.sqlite import SqliteStore

    store = SqliteStore.open(tmp_path / "iam.db")
    iam = IamProvider(SECRET_KEY)
    try:

        def run(op: str, **params: Any) -> Any:
            call = Call(ACCT, root(), params, "us-east-1", "r", NOW)
            if op.startswith(("Get", "List")):
                return store.read(lambda tx: getattr(iam, op)(call, tx))
            return store.write_sync(lambda tx: getattr(iam, op)(call, tx))

        run("CreateUser", UserName="alice")
        key = run("CreateAccessKey", UserName="alice")["AccessKey"]
        run(
            "CreateRole",
            RoleName="R",
            AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCT}:user/alice"),
        )
        run("AttachRolePolicy", RoleName="R", PolicyArn=S3_RO)
        assert run("GetRole", RoleName="R")["Role"]["RoleName"] == "R"
        record = store.read(lambda tx: queries.find_access_key(tx, key["AccessKeyId"]))
        assert record is not None and record.user_name == "alice"
        pairs = store.read(lambda tx: queries.identity_policies_for_role(tx, ACCT, "R"))
        assert [pid for pid, _ in pairs] == [S3_RO]
        with pytest.raises(ServiceError):
            run("CreateUser", UserName="ALICE")
        assert [u["UserName"] for u in run("ListUsers")["Users"]] == ["alice"]
    finally:
        store.close()


# -- output shapes ----------------------------------------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "timestamp": (datetime,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "blob": (bytes,),
    "list": (list,),
    "structure": (dict,),
    "map": (dict,),
}


# AWS leaves out the user name and path of the root user (no such members exist for it).
_ROOT_OMISSIONS = {"GetUser.User": {"UserName", "Path"}, "CreateAccessKey.AccessKey": {"UserName"}}


def _conforms(shape: Any, value: Any, where: str, root: bool = False) -> None:
    assert isinstance(value, _TYPES[shape.type_name]), f"{where}: {type(value)} for {shape.name}"
    if shape.type_name == "structure":
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: unknown members {unknown}"
        omitted = _ROOT_OMISSIONS.get(where, set()) if root else set()
        for name in shape.required_members:
            assert name in value or name in omitted, f"{where}: missing required {name}"
        for name, item in value.items():
            _conforms(shape.members[name], item, f"{where}.{name}", root)
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _conforms(shape.member, item, f"{where}[{index}]", root)
    elif shape.type_name == "map":
        for key, item in value.items():
            _conforms(shape.value, item, f"{where}[{key}]")


def test_outputs_match_botocore_shapes(h: Harness) -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("iam")
    original = h.__call__
    seen: set[str] = set()

    class Checked(Harness):
        def __call__(
            self, op: str, principal: Principal | None = None, account: str = ACCT, **params: Any
        ) -> dict[str, Any]:
            out = original(op, principal, account, **params)
            output = model.operation_model(op).output_shape
            if output is None:
                assert out == {}, op
            else:
                _conforms(output, out, op, root="UserName" not in params)
            seen.add(op)
            return out

    checked = Checked()
    checked.tx, checked.iam = h.tx, h.iam
    root_key = checked("CreateAccessKey")["AccessKey"]["AccessKeyId"]
    checked(
        "CreateUser", UserName="u", Tags=[{"Key": "a", "Value": "b"}], PermissionsBoundary=S3_RO
    )
    checked("GetUser", UserName="u")
    checked("GetUser")
    checked("ListUsers")
    key = checked("CreateAccessKey", UserName="u")["AccessKey"]["AccessKeyId"]
    checked("ListAccessKeys", UserName="u")
    checked("ListAccessKeys")
    checked("GetAccessKeyLastUsed", AccessKeyId=key)
    checked("GetAccessKeyLastUsed", AccessKeyId=root_key)
    checked("UpdateAccessKey", UserName="u", AccessKeyId=key, Status="Inactive")
    checked("CreateLoginProfile", UserName="u", Password="Str0ng-pass")
    checked("GetLoginProfile", UserName="u")
    checked("ListUserTags", UserName="u")
    checked("CreateGroup", GroupName="g")
    checked("AddUserToGroup", GroupName="g", UserName="u")
    checked("GetGroup", GroupName="g")
    checked("ListGroups")
    checked("ListGroupsForUser", UserName="u")
    checked("PutGroupPolicy", GroupName="g", PolicyName="p", PolicyDocument=S3_READ)
    checked("GetGroupPolicy", GroupName="g", PolicyName="p")
    checked("ListGroupPolicies", GroupName="g")
    checked("AttachGroupPolicy", GroupName="g", PolicyArn=S3_RO)
    checked("ListAttachedGroupPolicies", GroupName="g")
    checked("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=S3_READ)
    checked("GetUserPolicy", UserName="u", PolicyName="p")
    checked("ListUserPolicies", UserName="u")
    checked("AttachUserPolicy", UserName="u", PolicyArn=ADMIN)
    checked("ListAttachedUserPolicies", UserName="u")
    checked(
        "CreateRole",
        RoleName="R",
        AssumeRolePolicyDocument=trust(OTHER),
        Tags=[{"Key": "a", "Value": "b"}],
        PermissionsBoundary=S3_RO,
        Description="d",
    )
    queries.record_role_last_used(h.tx, ACCT, "R", NOW, "us-east-1")
    checked("GetRole", RoleName="R")
    checked("ListRoles")
    checked("UpdateRoleDescription", RoleName="R", Description="e")
    checked("ListRoleTags", RoleName="R")
    checked("PutRolePolicy", RoleName="R", PolicyName="p", PolicyDocument=S3_READ)
    checked("GetRolePolicy", RoleName="R", PolicyName="p")
    checked("ListRolePolicies", RoleName="R")
    arn = checked(
        "CreatePolicy", PolicyName="P", PolicyDocument=S3_READ, Tags=[{"Key": "a", "Value": "b"}]
    )["Policy"]["Arn"]
    checked("AttachRolePolicy", RoleName="R", PolicyArn=arn)
    checked("ListAttachedRolePolicies", RoleName="R")
    checked("GetPolicy", PolicyArn=arn)
    checked("GetPolicy", PolicyArn=S3_RO)
    checked("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=ALLOW_ALL)
    checked("GetPolicyVersion", PolicyArn=arn, VersionId="v2")
    checked("ListPolicyVersions", PolicyArn=arn)
    checked("ListPolicies", MaxItems=3)
    checked("ListPolicyTags", PolicyArn=arn)
    checked("ListEntitiesForPolicy", PolicyArn=S3_RO)
    checked("GetAccountAuthorizationDetails")
    checked("CreateAccountAlias", AccountAlias="acme")
    checked("ListAccountAliases")
    checked("GetAccountSummary")
    serial = checked(
        "CreateVirtualMFADevice", VirtualMFADeviceName="d", Tags=[{"Key": "a", "Value": "b"}]
    )["VirtualMFADevice"]["SerialNumber"]
    seed = str(queries.mfa_device(h.tx, ACCT, serial)["Seed"])  # type: ignore[index]
    code1, code2 = _codes(seed, NOW)
    checked(
        "EnableMFADevice",
        UserName="u",
        SerialNumber=serial,
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    checked("ListMFADevices", UserName="u")
    checked("ListVirtualMFADevices")
    assert len(seen) > 50
