"""Service control policies through boto3 on a server of their own (enabling SCPs changes
every member account): the policy type, policies, attachments, their errors, and the limit
they put on member accounts' principals (never on the management account)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .org_helpers import ACCESS_ROLE, access_role_credentials, client_as, new_member
from .server import MANAGEMENT, Server, start

DENY_BUCKETS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"}]})
ONLY_IAM_READS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "sts:*"], "Resource": "*"}]})


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("trailgate-scp")))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def org(srv: Server) -> Any:
    client = srv.client("organizations")
    client.create_organization(FeatureSet="ALL")
    return client


@pytest.fixture(scope="module")
def member(org: Any) -> str:
    return new_member(org, "scp-member")


def _admin_of(srv: Server, account: str) -> Any:
    """Credentials of the member account's OrganizationAccountAccessRole session."""
    return access_role_credentials(srv, account, "scp")


def _client(srv: Server, service: str, creds: dict[str, Any]) -> Any:
    return client_as(srv, service, creds)


def test_scps_end_to_end(srv: Server, org: Any, member: str) -> None:
    root = org.list_roots()["Roots"][0]
    assert root["PolicyTypes"] == []
    with pytest.raises(ClientError) as exc:
        org.create_policy(Content=DENY_BUCKETS, Description="", Name="x", Type="TAG_POLICY")
    assert _error(exc)[0] == "PolicyTypeNotAvailableForOrganizationException"
    deny = org.create_policy(Content=DENY_BUCKETS, Description="no new buckets",
                             Name="deny-buckets", Type="SERVICE_CONTROL_POLICY")["Policy"]
    summary = deny["PolicySummary"]
    assert summary["Id"].startswith("p-") and summary["AwsManaged"] is False
    assert summary["Arn"].startswith(f"arn:aws:organizations::{MANAGEMENT}:policy/o-")
    assert summary["Arn"].endswith(f"/service_control_policy/{summary['Id']}")
    with pytest.raises(ClientError) as exc:  # the type is not enabled yet
        org.attach_policy(PolicyId=summary["Id"], TargetId=member)
    assert _error(exc) == ("PolicyTypeNotEnabledException",
                           "This operation can be performed only for enabled policy types.")

    enabled = org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    assert enabled["Root"]["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY",
                                               "Status": "ENABLED"}]
    full = org.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY")
    assert [p["Name"] for p in full["Policies"]] == ["FullAWSAccess"]
    names = [p["Name"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert names == ["FullAWSAccess", "deny-buckets"]

    session = _admin_of(srv, member)
    s3 = _client(srv, "s3", session)
    s3.create_bucket(Bucket=f"scp-before-{member}")  # FullAWSAccess alone: allowed

    org.attach_policy(PolicyId=summary["Id"], TargetId=member)
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=summary["Id"], TargetId=member)
    assert _error(exc)[0] == "DuplicatePolicyAttachmentException"
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=f"scp-after-{member}")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    s3.list_buckets()  # other actions: still allowed
    srv.client("s3").create_bucket(Bucket=f"scp-mgmt-{member}")  # the management account: never
    targets = org.list_targets_for_policy(PolicyId=summary["Id"])["Targets"]
    assert [(t["TargetId"], t["Type"]) for t in targets] == [(member, "ACCOUNT")]
    with pytest.raises(ClientError) as exc:
        org.delete_policy(PolicyId=summary["Id"])
    assert _error(exc)[0] == "PolicyInUseException"

    # Each level must allow: the root allows everything, the account only IAM reads and STS.
    only = org.create_policy(Content=ONLY_IAM_READS, Description="", Name="only-iam-reads",
                             Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=only["Id"], TargetId=member)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    org.detach_policy(PolicyId=summary["Id"], TargetId=member)
    iam = _client(srv, "iam", session)
    iam.list_roles()
    with pytest.raises(ClientError) as exc:
        s3.list_buckets()
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as exc:  # the last SCP of a target stays
        org.detach_policy(PolicyId=only["Id"], TargetId=member)
    assert _error(exc)[0] == "ConstraintViolationException"
    assert exc.value.response.get("Reason") == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", exc.value.response

    org.disable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    s3.list_buckets()  # no SCPs apply any more
    assert org.list_roots()["Roots"][0]["PolicyTypes"] == []
    org.delete_policy(PolicyId=summary["Id"])
    with pytest.raises(ClientError) as exc:
        org.describe_policy(PolicyId=summary["Id"])
    assert _error(exc) == ("PolicyNotFoundException",
                           "We can't find a policy with the PolicyId that you specified.")


@pytest.mark.parametrize(("content", "code"), [
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
     '"Action": "*", "Resource": "*"}]}', "MalformedPolicyDocumentException"),
    ("not json", "MalformedPolicyDocumentException"),
    (json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": f"s3:Action{i:04d}", "Resource": "*"}
        for i in range(200)]}), "ConstraintViolationException"),
])
def test_invalid_scps(org: Any, content: str, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        org.create_policy(Content=content, Description="", Name="bad",
                          Type="SERVICE_CONTROL_POLICY")
    assert _error(exc)[0] == code


def test_a_member_account_cannot_manage_policies(srv: Server, org: Any, member: str) -> None:
    session = _admin_of(srv, member)
    with pytest.raises(ClientError) as exc:
        _client(srv, "organizations", session).list_policies(Filter="SERVICE_CONTROL_POLICY")
    assert _error(exc)[0] == "AccessDeniedException"


# -- organizational units -------------------------------------------------------------------------


def test_organizational_units(srv: Server, org: Any) -> None:
    root = org.list_roots()["Roots"][0]["Id"]
    status = org.create_account(Email="ou@example.com", AccountName="ou-member")
    account = org.describe_create_account_status(
        CreateAccountRequestId=status["CreateAccountStatus"]["Id"])["CreateAccountStatus"]
    account_id = account["AccountId"]
    logs = org.create_organizational_unit(ParentId=root, Name="Logs")["OrganizationalUnit"]
    assert logs["Id"].startswith(f"ou-{root[2:]}-") and logs["Name"] == "Logs"
    assert logs["Arn"].endswith(f"/{logs['Id']}") and ":ou/o-" in logs["Arn"]
    inner = org.create_organizational_unit(ParentId=logs["Id"], Name="Readers")[
        "OrganizationalUnit"]
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId=root, Name="Logs")
    assert _error(exc) == ("DuplicateOrganizationalUnitException",
                           "An OU with the same name already exists.")
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId="ou-none-12345678", Name="x")
    assert _error(exc)[0] == "ParentNotFoundException"

    org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=inner["Id"])
    with pytest.raises(ClientError) as exc:
        org.move_account(AccountId=account_id, SourceParentId=root,
                         DestinationParentId=inner["Id"])
    assert _error(exc) == ("DuplicateAccountException",
                           "That account is already present in the specified destination.")
    assert org.list_parents(ChildId=account_id)["Parents"] == [
        {"Id": inner["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=inner["Id"])["Parents"] == [
        {"Id": logs["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=inner["Id"])["Accounts"]] == [
        account_id]
    assert account_id not in [a["Id"] for a in org.list_accounts_for_parent(
        ParentId=root)["Accounts"]]
    units = org.list_organizational_units_for_parent(ParentId=logs["Id"])
    assert [u["Name"] for u in units["OrganizationalUnits"]] == ["Readers"]
    children = org.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT")["Children"]
    assert {"Id": logs["Id"], "Type": "ORGANIZATIONAL_UNIT"} in children
    renamed = org.update_organizational_unit(OrganizationalUnitId=inner["Id"], Name="Auditors")
    assert renamed["OrganizationalUnit"]["Name"] == "Auditors"

    # An SCP on the OU in between limits the account below it.
    root_types = org.list_roots()["Roots"][0]["PolicyTypes"]
    if not root_types:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    assert [p["Name"] for p in org.list_policies_for_target(
        TargetId=logs["Id"], Filter="SERVICE_CONTROL_POLICY")["Policies"]] == ["FullAWSAccess"]
    deny = org.create_policy(Content=DENY_BUCKETS, Description="", Name="ou-no-buckets",
                             Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=deny["Id"], TargetId=logs["Id"])
    targets = org.list_targets_for_policy(PolicyId=deny["Id"])["Targets"]
    assert [(t["TargetId"], t["Type"], t["Name"]) for t in targets] == [
        (logs["Id"], "ORGANIZATIONAL_UNIT", "Logs")]
    s3 = _client(srv, "s3", _admin_of(srv, account_id))
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=f"ou-denied-{account_id}")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"

    with pytest.raises(ClientError) as exc:
        org.delete_organizational_unit(OrganizationalUnitId=logs["Id"])
    assert _error(exc)[0] == "OrganizationalUnitNotEmptyException"
    org.move_account(AccountId=account_id, SourceParentId=inner["Id"], DestinationParentId=root)
    s3.create_bucket(Bucket=f"ou-allowed-{account_id}")  # out of the OU: no longer denied
    org.detach_policy(PolicyId=deny["Id"], TargetId=logs["Id"])
    org.delete_organizational_unit(OrganizationalUnitId=inner["Id"])
    org.delete_organizational_unit(OrganizationalUnitId=logs["Id"])
    with pytest.raises(ClientError) as exc:
        org.describe_organizational_unit(OrganizationalUnitId=logs["Id"])
    assert _error(exc) == ("OrganizationalUnitNotFoundException",
                           "We can't find an OU with the OrganizationalUnitId that you specified.")


def test_other_policy_types_list_empty(org: Any, member: str) -> None:
    """Only SCPs exist here: listing another type (valid for an ALL-features organization)
    finds none."""
    assert org.list_policies(Filter="TAG_POLICY")["Policies"] == []
    assert org.list_policies_for_target(TargetId=member, Filter="BACKUP_POLICY")[
        "Policies"] == []


def test_policy_and_tree_refusals(org: Any, member: str) -> None:
    root = org.list_roots()["Roots"][0]["Id"]
    if not org.list_roots()["Roots"][0]["PolicyTypes"]:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    name = "refusals-policy"
    policy = org.create_policy(Content=DENY_BUCKETS, Description="", Name=name,
                               Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    cases = [
        (lambda: org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY"),
         "PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled."),
        (lambda: org.enable_policy_type(RootId="r-zzzz", PolicyType="SERVICE_CONTROL_POLICY"),
         "RootNotFoundException", "We can't find a root with the RootId that you specified."),
        (lambda: org.create_policy(Content=DENY_BUCKETS, Description="", Name=name,
                                   Type="SERVICE_CONTROL_POLICY"),
         "DuplicatePolicyException", "A policy with the same name already exists."),
        (lambda: org.attach_policy(PolicyId=policy, TargetId="999999999999"),
         "TargetNotFoundException", "We can't find a root, OU, account, or policy with the "
         "TargetId that you specified."),
        (lambda: org.detach_policy(PolicyId=policy, TargetId=member),
         "PolicyNotAttachedException", "Unable to find the policy attachment."),
        (lambda: org.delete_policy(PolicyId="p-FullAWSAccess"),
         "AccessDeniedException", "You don't have permissions to access this resource."),
        (lambda: org.move_account(AccountId=member, SourceParentId="ou-zzzz-12345678",
                                  DestinationParentId=root),
         "SourceParentNotFoundException",
         "We can't find a root or OU with the SourceParentId that you specified."),
    ]
    for call, code, message in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc) == (code, message), code
    parent = root
    made = []
    for level in range(5):  # five levels of OUs: the sixth is refused
        parent = org.create_organizational_unit(ParentId=parent, Name=f"level-{level}")[
            "OrganizationalUnit"]["Id"]
        made.append(parent)
    with pytest.raises(ClientError) as exc:
        org.create_organizational_unit(ParentId=parent, Name="too-deep")
    assert _error(exc)[0] == "ConstraintViolationException"
    assert exc.value.response.get("Reason") == "OU_DEPTH_LIMIT_EXCEEDED"
    for ou in reversed(made):
        org.delete_organizational_unit(OrganizationalUnitId=ou)
    org.delete_policy(PolicyId=policy)


def test_attachment_limit_renames_and_paging(org: Any, member: str) -> None:
    """Five SCPs at most on one target (FullAWSAccess counts), no rename onto a taken name,
    and MaxResults/NextToken on the policy listings."""
    root = org.list_roots()["Roots"][0]["Id"]
    if not org.list_roots()["Roots"][0]["PolicyTypes"]:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    made = [org.create_policy(Content=DENY_BUCKETS, Description="", Name=f"limit-{i}",
                              Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
            for i in range(5)]
    for policy in made[:4]:
        org.attach_policy(PolicyId=policy, TargetId=member)
    with pytest.raises(ClientError) as exc:
        org.attach_policy(PolicyId=made[4], TargetId=member)
    assert _error(exc)[0] == "ConstraintViolationException"
    assert exc.value.response.get("Reason") == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"

    with pytest.raises(ClientError) as exc:
        org.update_policy(PolicyId=made[0], Name="limit-1")
    assert _error(exc) == ("DuplicatePolicyException",
                           "A policy with the same name already exists.")
    assert org.update_policy(PolicyId=made[0], Name="limit-0")["Policy"]["PolicySummary"][
        "Name"] == "limit-0"  # its own name: no change

    first = org.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY",
                                         MaxResults=2)
    assert len(first["Policies"]) == 2 and first["NextToken"]
    on_member = [p["Id"] for page in org.get_paginator("list_policies_for_target").paginate(
        TargetId=member, Filter="SERVICE_CONTROL_POLICY", PaginationConfig={"PageSize": 2})
        for p in page["Policies"]]
    assert sorted(on_member) == sorted(["p-FullAWSAccess", *made[:4]])
    listed = [p["Name"] for page in org.get_paginator("list_policies").paginate(
        Filter="SERVICE_CONTROL_POLICY", PaginationConfig={"PageSize": 1}) for p in page[
        "Policies"]]
    assert len(listed) == len(set(listed)) and {"FullAWSAccess", "limit-4"} <= set(listed)
    one = org.list_targets_for_policy(PolicyId="p-FullAWSAccess", MaxResults=1)
    assert len(one["Targets"]) == 1 and one["NextToken"]
    for policy in made[:4]:
        org.detach_policy(PolicyId=policy, TargetId=member)
    for policy in made:
        org.delete_policy(PolicyId=policy)


def test_scp_denials_say_so(srv: Server, org: Any, member: str) -> None:
    """IAM and CloudTrail name the SCP in their AccessDenied: an explicit deny in one, or no
    SCP allowing the action once FullAWSAccess is gone."""
    root = org.list_roots()["Roots"][0]["Id"]
    if not org.list_roots()["Roots"][0]["PolicyTypes"]:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    session = _admin_of(srv, member)
    who = f"arn:aws:sts::{member}:assumed-role/{ACCESS_ROLE}/scp"
    deny = org.create_policy(Name="deny-list-users", Description="", Content=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}]}),
        Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    deny, deny_arn = deny["Id"], deny["Arn"]
    only = org.create_policy(Name="only-gets", Description="", Content=ONLY_IAM_READS,
                             Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    iam = _client(srv, "iam", session)
    org.attach_policy(PolicyId=deny, TargetId=member)
    with pytest.raises(ClientError) as exc:
        iam.list_users()
    assert _error(exc) == ("AccessDenied", f"User: {who} is not authorized to perform: "
                           f"iam:ListUsers on resource: arn:aws:iam::{member}:user/ with an "
                           f"explicit deny in a service control policy: {deny_arn}")
    org.attach_policy(PolicyId=only, TargetId=member)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    org.detach_policy(PolicyId=deny, TargetId=member)
    with pytest.raises(ClientError) as exc:
        _client(srv, "cloudtrail", session).describe_trails()
    assert _error(exc) == ("AccessDeniedException", f"User: {who} is not authorized to "
                           "perform: cloudtrail:DescribeTrails because no service control "
                           "policy allows the cloudtrail:DescribeTrails action")
    org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    org.detach_policy(PolicyId=only, TargetId=member)
    iam.list_users()
    org.delete_policy(PolicyId=deny)
    org.delete_policy(PolicyId=only)


def test_resource_level_permissions(srv: Server, org: Any, member: str) -> None:
    """Organizations authorizes calls on the ARN of the account, OU, root or policy they name
    (AttachPolicy: on the policy and on the target)."""
    organization = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    if not org.list_roots()["Roots"][0]["PolicyTypes"]:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    base = f"arn:aws:organizations::{MANAGEMENT}"
    policy = org.create_policy(Name="scoped", Description="", Content=DENY_BUCKETS,
                               Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    iam = srv.client("iam")
    iam.create_user(UserName="scoped")
    iam.put_user_policy(UserName="scoped", PolicyName="scoped", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "organizations:DescribeAccount",
             "Resource": f"{base}:account/{organization['Id']}/{member}"},
            {"Effect": "Allow", "Action": ["organizations:AttachPolicy",
                                           "organizations:DetachPolicy"],
             "Resource": [policy["Arn"], f"{base}:account/o-*/{member}"]}]}))
    key = iam.create_access_key(UserName="scoped")["AccessKey"]
    scoped = srv.client("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    assert scoped.describe_account(AccountId=member)["Account"]["Id"] == member
    denied = ("AccessDeniedException", "You don't have permissions to access this resource.")
    for call in (lambda: scoped.describe_account(AccountId=MANAGEMENT),
                 lambda: scoped.attach_policy(PolicyId=policy["Id"], TargetId=root),
                 lambda: scoped.attach_policy(PolicyId="p-FullAWSAccess", TargetId=member)):
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc) == denied
    scoped.attach_policy(PolicyId=policy["Id"], TargetId=member)
    scoped.detach_policy(PolicyId=policy["Id"], TargetId=member)
    org.delete_policy(PolicyId=policy["Id"])


def test_organizations_condition_keys(srv: Server, org: Any) -> None:
    """organizations:PolicyType and aws:RequestTag/aws:TagKeys reach identity policies."""
    iam = srv.client("iam")
    iam.create_user(UserName="tagged-creator")
    iam.put_user_policy(UserName="tagged-creator", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "organizations:CreatePolicy", "Resource": "*",
             "Condition": {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY",
                                            "aws:RequestTag/team": "logs"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}},
            {"Effect": "Allow", "Action": "organizations:DeletePolicy", "Resource": "*",
             "Condition": {"StringEquals": {
                 "organizations:PolicyType": "SERVICE_CONTROL_POLICY"}}}]}))
    key = iam.create_access_key(UserName="tagged-creator")["AccessKey"]
    user = srv.client("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    for tags in ([], [{"Key": "team", "Value": "other"}],
                 [{"Key": "team", "Value": "logs"}, {"Key": "extra", "Value": "x"}]):
        with pytest.raises(ClientError) as exc:
            user.create_policy(Name="keys", Description="", Content=DENY_BUCKETS,
                               Type="SERVICE_CONTROL_POLICY", Tags=tags)
        assert _error(exc)[0] == "AccessDeniedException", tags
    made = user.create_policy(Name="keys", Description="", Content=DENY_BUCKETS,
                              Type="SERVICE_CONTROL_POLICY",
                              Tags=[{"Key": "team", "Value": "logs"}])["Policy"]
    user.delete_policy(PolicyId=made["PolicySummary"]["Id"])
