"""Identity-policy resource ARNs through the IAM API (audit 18): what boto3 sees when a
PutUserPolicy / CreatePolicy document names access points, wildcard partitions, Route 53 or an
IAM resource of no known type."""

from __future__ import annotations

import json
from typing import Any

from .test_iam_api import ACCT, fails, uid

IAM_PATH = (
    'IAM resource path must either be "*", root, or start with user/, federated-user/, role/, '
    "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
    "oidc-provider/, report/, access-report/."
)


def document(action: str, resource: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_access_point_arns_are_accepted_in_user_policies(iam: Any) -> None:
    user = uid("ap")
    iam.create_user(UserName=user)
    resource = f"arn:aws:s3:us-east-1:{ACCT}:accesspoint/my-access-point/object/Jane/*"
    text = document("s3:GetObject", resource)
    iam.put_user_policy(UserName=user, PolicyName="ap", PolicyDocument=text)
    got = iam.get_user_policy(UserName=user, PolicyName="ap")["PolicyDocument"]
    assert got["Statement"][0]["Resource"] == resource


def test_wildcard_partition_in_a_managed_policy(iam: Any) -> None:
    resource = "arn:*:iam::*:role/aws-service-role/x.amazonaws.com/*"
    created = iam.create_policy(
        PolicyName=uid("part"), PolicyDocument=document("iam:GetRole", resource)
    )["Policy"]
    version = iam.get_policy_version(PolicyArn=created["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"]["Statement"][0]["Resource"] == resource


def test_iam_resource_of_unknown_type(iam: Any) -> None:
    text = document("iam:CreateAccountAlias", f"arn:aws:iam::{ACCT}:account-alias/*")
    assert fails(iam.create_policy, PolicyName=uid("alias"), PolicyDocument=text) == (
        "MalformedPolicyDocument",
        IAM_PATH,
        400,
    )


def test_route53_arns_carry_no_region_and_no_account(iam: Any) -> None:
    user = uid("r53")
    iam.create_user(UserName=user)
    regional = f"arn:aws:route53:eu-west-1:{ACCT}:hostedzone/*"
    with_account = f"arn:aws:route53::{ACCT}:hostedzone/*"
    put = iam.put_user_policy
    assert fails(
        put, UserName=user, PolicyName="p", PolicyDocument=document("route53:Get*", regional)
    ) == (
        "MalformedPolicyDocument",
        f"Resource {regional} can not contain region information.",
        400,
    )
    assert fails(
        put, UserName=user, PolicyName="p", PolicyDocument=document("route53:Get*", with_account)
    ) == (
        "MalformedPolicyDocument",
        f"Resource {with_account} cannot contain an account id.",
        400,
    )
    text = document("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/*")
    put(UserName=user, PolicyName="p", PolicyDocument=text)


VERSION_TOO_OLD = "Policy document must be version 2012-10-17 or greater."


def test_managed_policy_version_is_checked_before_legacy_parsing(iam: Any) -> None:
    """AWS answers a managed policy without Version 2012-10-17 with the version refusal even
    when the document has later faults (legacy effect case, bad dates, duplicate Sids)."""
    deny = {"Effect": "denY", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}
    dated = {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::b",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "sdfdsf"}},
    }
    twins = [
        {"Sid": "sdf", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "sdf", "Effect": "Allow"},
    ]
    for body in ({"Statement": deny}, {"Statement": dated}, {"Statement": twins}):
        text = json.dumps(body)
        assert fails(iam.create_policy, PolicyName=uid("old"), PolicyDocument=text) == (
            "MalformedPolicyDocument",
            VERSION_TOO_OLD,
            400,
        )
    created = iam.create_policy(
        PolicyName=uid("v"), PolicyDocument=document("s3:GetObject", "*")
    )["Policy"]
    old = json.dumps({"Version": "2008-10-17", "Statement": deny})
    assert fails(iam.create_policy_version, PolicyArn=created["Arn"], PolicyDocument=old) == (
        "MalformedPolicyDocument",
        VERSION_TOO_OLD,
        400,
    )
    # a syntax error still comes first, and an inline policy has no version requirement
    odd = {"Effect": "Allow", "Resource": "*", "Condition": {"x": {"aws:a": "1"}}}
    text = json.dumps({"Statement": odd})
    assert fails(iam.create_policy, PolicyName=uid("syn"), PolicyDocument=text) == (
        "MalformedPolicyDocument",
        "Syntax errors in policy.",
        400,
    )
    user = uid("inl")
    iam.create_user(UserName=user)
    assert fails(
        iam.put_user_policy, UserName=user, PolicyName="p", PolicyDocument=json.dumps(
            {"Statement": deny}
        )
    ) == ("MalformedPolicyDocument", "The policy failed legacy parsing", 400)
