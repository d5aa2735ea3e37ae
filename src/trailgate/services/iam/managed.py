"""AWS-managed policies: read-only, shared by every account, at ``arn:aws:iam::aws:policy/NAME``.

Documents, default version ids and dates are AWS's as published in the AWS Managed Policy
Reference (docs.aws.amazon.com/aws-managed-policy/latest/reference/) at the time of writing.
``ReadOnlyAccess`` is ABRIDGED: the real document lists a few thousand read actions of every
AWS service; this one keeps the services trailgate serves (IAM, STS, S3, CloudTrail,
Organizations) exactly as the real policy grants them, plus a sample of other services.
Policy ids marked UNSURE below were not found in public sources and are stable placeholders
of the real shape (``ANPA`` + 17 characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["AWS_ACCOUNT", "AWS_MANAGED", "AwsManagedPolicy", "aws_managed_by_arn"]

AWS_ACCOUNT = "aws"
_ARN_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class AwsManagedPolicy:
    """One AWS-managed policy with its default version (the only version trailgate keeps)."""

    name: str
    policy_id: str
    description: str
    default_version: str
    created: datetime
    updated: datetime  # also the default version's CreateDate
    document: str
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"{_ARN_PREFIX}{self.path}{self.name}"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


def _allow(
    actions: str | list[str], resource: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
    statement.update(extra)
    return statement


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_READ_ONLY_ACTIONS = [
    "access-analyzer:GetAnalyzer",
    "access-analyzer:ListAnalyzers",
    "access-analyzer:ValidatePolicy",
    "acm:Describe*",
    "acm:Get*",
    "acm:List*",
    "athena:Get*",
    "athena:List*",
    "autoscaling:Describe*",
    "cloudformation:Describe*",
    "cloudformation:Get*",
    "cloudformation:List*",
    "cloudfront:Get*",
    "cloudfront:List*",
    "cloudtrail:Describe*",
    "cloudtrail:Get*",
    "cloudtrail:List*",
    "cloudtrail:LookupEvents",
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "config:Describe*",
    "config:Get*",
    "config:List*",
    "dynamodb:BatchGet*",
    "dynamodb:Describe*",
    "dynamodb:Get*",
    "dynamodb:List*",
    "dynamodb:Query",
    "dynamodb:Scan",
    "ec2:Describe*",
    "ec2:Get*",
    "ecr:BatchGet*",
    "ecr:Describe*",
    "ecr:Get*",
    "ecr:List*",
    "ecs:Describe*",
    "ecs:List*",
    "eks:Describe*",
    "eks:List*",
    "elasticloadbalancing:Describe*",
    "events:Describe*",
    "events:List*",
    "guardduty:Describe*",
    "guardduty:Get*",
    "guardduty:List*",
    "health:Describe*",
    "iam:Generate*",
    "iam:Get*",
    "iam:List*",
    "iam:Simulate*",
    "kms:Describe*",
    "kms:Get*",
    "kms:List*",
    "lambda:Get*",
    "lambda:List*",
    "logs:Describe*",
    "logs:FilterLogEvents",
    "logs:Get*",
    "logs:ListTagsLogGroup",
    "logs:StartQuery",
    "logs:StopQuery",
    "logs:TestMetricFilter",
    "organizations:Describe*",
    "organizations:List*",
    "rds:Describe*",
    "rds:List*",
    "route53:Get*",
    "route53:List*",
    "s3-object-lambda:GetObject",
    "s3-object-lambda:GetObjectAcl",
    "s3-object-lambda:GetObjectLegalHold",
    "s3-object-lambda:GetObjectRetention",
    "s3-object-lambda:GetObjectTagging",
    "s3-object-lambda:GetObjectVersion",
    "s3-object-lambda:GetObjectVersionAcl",
    "s3-object-lambda:GetObjectVersionTagging",
    "s3-object-lambda:ListBucket",
    "s3-object-lambda:ListBucketMultipartUploads",
    "s3-object-lambda:ListBucketVersions",
    "s3-object-lambda:ListMultipartUploadParts",
    "s3:DescribeJob",
    "s3:Get*",
    "s3:List*",
    "secretsmanager:Describe*",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:List*",
    "sns:Get*",
    "sns:List*",
    "sqs:Get*",
    "sqs:List*",
    "ssm:Describe*",
    "ssm:Get*",
    "ssm:List*",
    "sts:GetAccessKeyInfo",
    "sts:GetCallerIdentity",
    "sts:GetSessionToken",
    "tag:Get*",
]

_CLOUDTRAIL_FULL = _doc(
    _allow(
        [
            "sns:AddPermission",
            "sns:CreateTopic",
            "sns:SetTopicAttributes",
            "sns:GetTopicAttributes",
        ],
        ["arn:aws:sns:*:*:aws-cloudtrail-logs*"],
    ),
    _allow(["sns:ListTopics"]),
    _allow(
        ["s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock"],
        ["arn:aws:s3:::aws-cloudtrail-logs*"],
    ),
    _allow(["s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicy"]),
    _allow("cloudtrail:*"),
    _allow(["logs:CreateLogGroup"], ["arn:aws:logs:*:*:log-group:aws-cloudtrail-logs*"]),
    _allow(["iam:ListRoles", "iam:GetRolePolicy", "iam:GetUser"]),
    _allow(
        ["iam:PassRole"],
        Condition={"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}},
    ),
    _allow(["kms:CreateKey", "kms:CreateAlias", "kms:ListKeys", "kms:ListAliases"]),
    _allow(["lambda:ListFunctions"]),
    _allow(["dynamodb:ListGlobalTables", "dynamodb:ListTables"]),
)

_POWER_USER = _doc(
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    _allow(
        [
            "account:GetAccountInformation",
            "account:GetGovCloudAccountInformation",
            "account:GetPrimaryEmail",
            "account:ListRegions",
            "iam:CreateServiceLinkedRole",
            "iam:DeleteServiceLinkedRole",
            "iam:ListRoles",
            "organizations:DescribeEffectivePolicy",
            "organizations:DescribeOrganization",
        ]
    ),
)

_POLICIES = [
    AwsManagedPolicy(
        "AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        "Provides full access to AWS services and resources.",
        "v1",
        _at("2015-02-06T18:39:46"),
        _at("2015-02-06T18:39:46"),
        _doc(_allow("*")),
    ),
    AwsManagedPolicy(
        "PowerUserAccess",
        "ANPAJYRXTHIB4FOVS3ZXS",
        "Provides full access to AWS services and resources, but does not allow management of "
        "Users and groups.",
        "v12",
        _at("2015-02-06T18:39:47"),
        _at("2026-02-12T17:59:00"),  # the reference gives minutes only
        _POWER_USER,
    ),
    AwsManagedPolicy(
        "ReadOnlyAccess",
        "ANPAILL3HVNFSB6DCOWYQ",
        "Provides read-only access to AWS services and resources.",
        "v119",  # abridged document, see the module docstring
        _at("2015-02-06T18:39:48"),
        _at("2024-01-01T00:00:00"),  # UNSURE: date of v119 not found
        _doc(_allow(_READ_ONLY_ACTIONS)),
    ),
    AwsManagedPolicy(
        "AmazonS3ReadOnlyAccess",
        "ANPAIZTJ4DXE7G6AGAE6M",
        "Provides read only access to all buckets via the AWS Management Console.",
        "v3",
        _at("2015-02-06T18:40:59"),
        _at("2023-08-10T21:31:39"),
        _doc(
            _allow(
                [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ]
            )
        ),
    ),
    AwsManagedPolicy(
        "AmazonS3FullAccess",
        "ANPAIFIR6V6BVTRAHWINE",
        "Provides full access to all buckets via the AWS Management Console.",
        "v2",
        _at("2015-02-06T18:40:58"),
        _at("2021-09-27T20:16:37"),
        _doc(_allow(["s3:*", "s3-object-lambda:*"])),
    ),
    AwsManagedPolicy(
        "AWSCloudTrail_ReadOnlyAccess",
        "ANPAZKAPJZG4ALK3ZOKFT",  # UNSURE: placeholder id
        "Provides read only access to AWS CloudTrail.",
        "v1",
        _at("2022-06-14T17:19:05"),
        _at("2022-06-14T17:19:05"),
        _doc(
            _allow(
                [
                    "cloudtrail:Get*",
                    "cloudtrail:Describe*",
                    "cloudtrail:List*",
                    "cloudtrail:LookupEvents",
                ]
            )
        ),
    ),
    AwsManagedPolicy(
        "AWSCloudTrail_FullAccess",
        "ANPAZKAPJZG4E6NCMBKQD",  # UNSURE: placeholder id
        "Provides full access to AWS CloudTrail.",
        "v3",
        _at("2020-10-08T23:41:00"),
        _at("2021-02-22T19:01:00"),
        _CLOUDTRAIL_FULL,
    ),
    AwsManagedPolicy(
        "IAMFullAccess",
        "ANPAI7XKCFMBPM3QQRRVQ",
        "Provides full access to IAM via the AWS Management Console.",
        "v2",
        _at("2015-02-06T18:40:38"),
        _at("2019-06-21T19:40:00"),  # the reference gives minutes only
        _doc(
            _allow(
                [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ]
            )
        ),
    ),
    AwsManagedPolicy(
        "IAMUserChangePassword",
        "ANPAJ4L4MM2A7QIEB56MS",
        "Provides the ability for an IAM user to change their own password.",
        "v3",
        _at("2016-11-15T00:25:16"),
        _at("2025-05-29T21:52:00"),  # the reference gives minutes only
        _doc(
            _allow(
                ["iam:ChangePassword"],
                ["arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:user/*/${aws:username}"],
            ),
            _allow(["iam:GetAccountPasswordPolicy"]),
        ),
    ),
    AwsManagedPolicy(
        "IAMReadOnlyAccess",
        "ANPAJKSO7NDY4T57MWDSQ",
        "Provides read only access to IAM via the AWS Management Console.",
        "v4",
        _at("2015-02-06T18:40:00"),
        _at("2018-01-25T19:11:27"),
        _doc(
            _allow(
                [
                    "iam:GenerateCredentialReport",
                    "iam:GenerateServiceLastAccessedDetails",
                    "iam:Get*",
                    "iam:List*",
                    "iam:SimulateCustomPolicy",
                    "iam:SimulatePrincipalPolicy",
                ]
            )
        ),
    ),
]

AWS_MANAGED: dict[str, AwsManagedPolicy] = {p.arn: p for p in _POLICIES}
"""ARN -> policy."""

_BY_LOWER_ARN = {arn.lower(): p for arn, p in AWS_MANAGED.items()}


def aws_managed_by_arn(arn: str) -> AwsManagedPolicy | None:
    """The AWS-managed policy with this ARN (name compared case-insensitively), or None."""
    return _BY_LOWER_ARN.get(arn.lower())
