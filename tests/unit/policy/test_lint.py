"""Lint findings on valid policies: exact lists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trailgate.policy.bucket_checks import check_bucket_policy_actions
from trailgate.policy.lint import (
    Finding,
    catalog,
    expand_action,
    lint,
)
from trailgate.policy.model import MalformedPolicyError, PolicyType
from trailgate.policy.parse import parse_policy

IDN = PolicyType.IDENTITY
T = PolicyType.TRUST
R = PolicyType.RESOURCE


def run(
    *statements: dict[str, Any],
    policy_type: PolicyType = IDN,
    version: str | None = "2012-10-17",
    account: str | None = None,
) -> list[Finding]:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    flavor = "s3" if policy_type is R else "iam"
    policy = parse_policy(json.dumps(body), policy_type, flavor=flavor)
    return lint(policy, policy_type, account=account)


def codes(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.code, f.statement) for f in findings]


READ_D = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::trail-bucket", "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/*"],
}


def test_clean_policies_have_no_findings() -> None:
    assert run(READ_D) == []
    assert (
        run(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "r-external-id"}},
            },
            policy_type=T,
        )
        == []
    )
    assert (
        run(
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/111111111111/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
                    }
                },
            },
            policy_type=R,
        )
        == []
    )


def test_trust_policy_for_another_account_without_condition() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "111111111111"]},
            "Action": "sts:AssumeRole",
        },
        policy_type=T,
        account="111111111111",
    )
    assert findings == [
        Finding(
            "security_warning",
            "TRUST_POLICY_EXTERNAL_ACCOUNT_WITHOUT_CONDITION",
            "The role can be assumed from account(s) 222222222222 without an sts:ExternalId "
            "or aws:MultiFactorAuthPresent condition.",
            0,
        )
    ]


def test_trust_policy_with_mfa_condition_is_fine() -> None:
    assert (
        run(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            policy_type=T,
            account="111111111111",
        )
        == []
    )


def test_trust_policy_trusting_everyone() -> None:
    findings = run({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}, policy_type=T)
    assert findings == [
        Finding(
            "security_warning",
            "TRUST_POLICY_ALLOWS_ANY_PRINCIPAL",
            'The role trusts every principal ("*") without an sts:ExternalId or '
            "aws:MultiFactorAuthPresent condition: anyone with AWS credentials can assume it.",
            0,
        )
    ]


def test_trust_without_account_counts_every_account_as_other() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
            "Action": "sts:AssumeRole",
        },
        policy_type=T,
    )
    assert codes(findings) == [("TRUST_POLICY_EXTERNAL_ACCOUNT_WITHOUT_CONDITION", 0)]


def test_deny_trust_statements_are_not_reported() -> None:
    assert (
        run({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}, policy_type=T) == []
    )


def test_allow_with_not_action_not_resource_not_principal() -> None:
    findings = run(
        {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret"},
        {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::public"},
    )
    assert findings == [
        Finding(
            "security_warning",
            "ALLOW_WITH_NOT_ACTION",
            "Allow with NotAction grants every action that is not listed, including those of "
            "services added later; list the actions to allow instead.",
            0,
        ),
        Finding(
            "security_warning",
            "ALLOW_WITH_NOT_RESOURCE",
            "Allow with NotResource grants access to every resource that is not listed, "
            "including resources created later; list the resources instead.",
            0,
        ),
    ]
    bucket = run(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
        policy_type=R,
    )
    assert codes(bucket) == [("ALLOW_WITH_NOT_PRINCIPAL", 0)]


def test_unknown_actions_of_known_services() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObjects",
                "s3:Frobnicate*",
                "iam:passrole",
                "acme:DoThings",
                "ec2:DescribeInstances",
                "ec2:DescribeUnicorns",
            ],
            "Resource": "arn:aws:s3:::b",
        }
    )
    assert findings == [
        Finding("error", "INVALID_ACTION", "The action s3:GetObjects does not exist.", 0),
        Finding(
            "error",
            "INVALID_ACTION",
            "The action s3:Frobnicate* does not match any action of s3.",
            0,
        ),
        Finding("error", "INVALID_ACTION", "The action ec2:DescribeUnicorns does not exist.", 0),
    ]


def test_wildcard_in_service_name() -> None:
    findings = run({"Effect": "Allow", "Action": "s*:GetObject", "Resource": "arn:aws:s3:::b/*"})
    assert findings == [
        Finding(
            "suggestion",
            "WILDCARD_IN_SERVICE_NAME",
            "The action s*:GetObject uses a wildcard in the service name; name the service in "
            "full.",
            0,
        )
    ]


def test_condition_key_that_no_action_supports() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringLike": {"s3:prefix": "AWSLogs/*"}},
        }
    )
    assert findings == [
        Finding(
            "warning",
            "CONDITION_KEY_NOT_SUPPORTED",
            "The condition key s3:prefix is not supported by any action of this statement, so "
            "the condition never matches.",
            0,
        )
    ]
    # one supporting action is enough; wildcards expand; unknown services stop the check
    for action in (["s3:GetObject", "s3:ListBucket"], "s3:List*", ["s3:GetObject", "acme:X"]):
        assert (
            run(
                {
                    "Effect": "Allow",
                    "Action": action,
                    "Resource": "*",
                    "Condition": {"StringLike": {"s3:prefix": "AWSLogs/*"}},
                }
            )
            == []
        )


def test_tag_keys_with_names_are_recognised() -> None:
    assert (
        run(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {
                    "StringEquals": {
                        "s3:ExistingObjectTag/team": "blue",
                        "aws:PrincipalTag/team": "blue",
                    }
                },
            }
        )
        == []
    )


def test_unknown_condition_keys() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceIpAddress": "x", "s3:Prefixes": "y", "saml:aud": "z"}
            },
        }
    )
    assert findings == [
        Finding(
            "error",
            "INVALID_GLOBAL_CONDITION_KEY",
            "The condition key aws:SourceIpAddress is not a global condition key.",
            0,
        ),
        Finding(
            "error",
            "INVALID_SERVICE_CONDITION_KEY",
            "The condition key s3:Prefixes does not exist in the service s3.",
            0,
        ),
    ]


def test_operator_type_checks() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {
                "NumericLessThan": {"s3:max-keys": "100", "aws:EpochTime": "1700000000"},
                "DateGreaterThan": {"s3:prefix": "2020-01-01"},
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Bool": {"aws:SecureTransport": "true"},
                "ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1", "aws:TagKeys": "a"},
            },
        }
    )
    assert findings == [
        Finding(
            "warning",
            "TYPE_MISMATCH",
            "The operator DateGreaterThan compares Date values but the condition key s3:prefix "
            "is of type String.",
            0,
        ),
        Finding(
            "security_warning",
            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
            "ForAllValues with the single-valued key aws:SourceVpc is true when the key is "
            "absent; use the operator without ForAllValues.",
            0,
        ),
    ]


def test_empty_condition_values() -> None:
    findings = run(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": []}},
        }
    )
    assert codes(findings) == [("EMPTY_ARRAY_CONDITION", 0)]
    assert findings[0].message == (
        "The condition key aws:TagKeys has no values; remove it or add values."
    )


def test_full_access_and_pass_role() -> None:
    findings = run({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert codes(findings) == [
        ("ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES", 0),
        ("PASS_ROLE_WITH_STAR_IN_RESOURCE", 0),
    ]
    findings = run({"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"})
    assert findings == [
        Finding(
            "security_warning",
            "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            'iam:PassRole with Resource "*" lets the principal pass any role to a service; '
            "name the roles that may be passed.",
            0,
        )
    ]
    assert run({"Effect": "Deny", "Action": "*", "Resource": "*"}) == []


def test_redundant_actions_and_resources() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:Get*", "S3:GETOBJECT", "s3:Get?bject"],
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b/logs/x", "arn:aws:s3:::b"],
        }
    )
    assert findings == [
        Finding(
            "suggestion",
            "REDUNDANT_ACTION",
            "The action s3:GetObject is redundant: s3:Get* already includes it.",
            0,
        ),
        Finding(
            "suggestion", "REDUNDANT_ACTION", "The action S3:GETOBJECT is listed more than once.", 0
        ),
        Finding(
            "suggestion",
            "REDUNDANT_RESOURCE",
            "The resource arn:aws:s3:::b/logs/x is redundant: arn:aws:s3:::b/* already "
            "includes it.",
            0,
        ),
    ]


def test_missing_version_and_legacy_variables() -> None:
    stmt = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/home/${aws:username}/*",
    }
    assert run(stmt, version=None) == [
        Finding(
            "warning",
            "MISSING_VERSION",
            'Add "Version": "2012-10-17": without it the policy is read with the 2008 rules '
            "and policy variables are not substituted.",
            None,
        ),
        Finding(
            "warning",
            "POLICY_VARIABLE_WITHOUT_CURRENT_VERSION",
            "Policy variables are not substituted when Version is absent: ${...} is matched "
            'literally. Use "Version": "2012-10-17".',
            0,
        ),
    ]
    assert codes(run(stmt, version="2008-10-17")) == [
        ("POLICY_VARIABLE_WITHOUT_CURRENT_VERSION", 0)
    ]
    assert run(stmt) == []


def test_sids_in_bucket_policies() -> None:
    stmt = {
        "Sid": "Same",
        "Effect": "Allow",
        "Principal": {"AWS": "111111111111"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    assert codes(run(stmt, stmt, policy_type=R)) == [("UNIQUE_SIDS_RECOMMENDED", None)]
    assert codes(run({**stmt, "Sid": ""}, policy_type=R)) == [("EMPTY_SID_VALUE", 0)]


def test_public_bucket_statement() -> None:
    findings = run(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
        policy_type=R,
    )
    assert findings == [
        Finding(
            "security_warning",
            "ALLOW_PUBLIC_ACCESS",
            'Principal "*" without a condition grants access to everyone, anonymous callers '
            "included.",
            0,
        )
    ]


def test_catalog_contents() -> None:
    cat = catalog()
    for prefix in (
        "s3",
        "iam",
        "sts",
        "cloudtrail",
        "organizations",
        "s3-object-lambda",
        "kms",
        "ec2",
    ):
        assert cat.service(prefix) is not None
    sts = cat.service("sts")
    assert sts is not None
    for name in ("assumerole", "tagsession", "setsourceidentity", "getcalleridentity"):
        assert name in sts.actions
    assert "sts:externalid" in (sts.actions["assumerole"].keys or frozenset())
    trail = cat.service("cloudtrail")
    assert trail is not None
    for name in ("createtrail", "lookupevents", "listpublickeys", "putinsightselectors"):
        assert name in trail.actions
    assert [a.name for a in expand_action("s3:ListBucket*") or []] == [
        "ListBucket",
        "ListBucketMultipartUploads",
        "ListBucketVersions",
    ]
    assert expand_action("*") is None
    assert expand_action("acme:Thing") is None
    assert expand_action("s3:Nope") == []


def test_policies_that_only_limit_are_not_reported_for_breadth() -> None:
    full = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    for policy_type in (PolicyType.SCP, PolicyType.BOUNDARY, PolicyType.SESSION):
        assert run(full, policy_type=policy_type) == []
        assert run({"Effect": "Allow", "NotAction": "iam:*"}, policy_type=PolicyType.SCP) == []


def test_bucket_policy_actions_must_apply_to_a_resource() -> None:
    def bucket_policy(action: Any, resource: Any) -> Any:
        text = json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "111111111111"},
                        "Action": action,
                        "Resource": resource,
                    }
                ]
            }
        )
        return parse_policy(text, R, flavor="s3")

    for action, resource in [
        ("s3:ListBucket", "arn:aws:s3:::b/*"),
        ("s3:GetObject", "arn:aws:s3:::b"),
        (["s3:GetObject", "s3:GetBucketAcl"], "arn:aws:s3:::b/AWSLogs/*"),
        ("s3:ListAllMyBuckets", "arn:aws:s3:::b"),
    ]:
        with pytest.raises(MalformedPolicyError) as info:
            check_bucket_policy_actions(bucket_policy(action, resource))
        assert info.value.message == "Action does not apply to any resource(s) in statement"
    for action, resource in [
        ("s3:ListBucket", "arn:aws:s3:::b"),
        ("s3:GetObject", "arn:aws:s3:::b/*"),
        ("s3:*", "arn:aws:s3:::b/*"),
        ("s3:Get*", "arn:aws:s3:::b"),
        (["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]),
        ("s3:GetObject", "arn:aws:s3:::b*"),
    ]:
        check_bucket_policy_actions(bucket_policy(action, resource))
    for action in ("s3:GetObjectt", "s3:HeadObject", ["s3:GetObject", "s3:ListObjects"]):
        with pytest.raises(MalformedPolicyError) as info:
            check_bucket_policy_actions(bucket_policy(action, "arn:aws:s3:::b/*"))
        assert info.value.message == "Policy has invalid action"
