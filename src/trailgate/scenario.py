"""The seed scenario's accounts and policy documents (spec section 10), shared by the offline
policy demo, the live demo and the tests.

Admin owns the central CloudTrail bucket; D and E are accounts the company owns; R is the
third-party log analyzer.  Each gets a role in Admin:
- D's role requires MFA and reads only D's prefix;
- E's role has AWS-managed ``AmazonS3ReadOnlyAccess`` (every log file);
- R's role requires the agreed ExternalId and has ``AmazonS3ReadOnlyAccess``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ADMIN = "111111111111"
D = "222222222222"
E = "333333333333"
R = "444444444444"
BUCKET = "trail-bucket"
REGION = "us-east-1"
EXTERNAL_ID = "R-analyzer-7f3c2a"

D_ROLE = "CloudTrailReader-D"
E_ROLE = "CloudTrailReader-E"
R_ROLE = "CloudTrailReader-R"

Document = dict[str, Any]


def dumps(doc: Document) -> str:
    return json.dumps(doc, indent=2)


def role_arn(name: str, account: str = ADMIN) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def trust_account(account: str, *, mfa: bool = False, external_id: str | None = None) -> Document:
    """The trust policy the console's "Another AWS account" wizard produces (spec 3.4)."""
    condition: Document = {}
    if external_id is not None:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    if mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    statement: Document = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def prefix_read(bucket: str, account: str) -> Document:
    """Read access to one account's log prefix only (listing limited to that prefix)."""
    prefix = f"AWSLogs/{account}/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOwnPrefix",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
            },
            {
                "Sid": "ListOwnPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": ["", "AWSLogs/", f"{prefix}*"]}},
            },
            {
                "Sid": "LocateBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
                "Resource": "*",
            },
        ],
    }


AMAZON_S3_READ_ONLY_ACCESS: Document = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            "Resource": "*",
        }
    ],
}


def assume_role_policy(role: str) -> Document:
    """The caller-side identity policy: may assume one role in Admin."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn(role)}],
    }


def trail_arn(account: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def cloudtrail_bucket_policy(bucket: str, trails: dict[str, str], prefix: str = "") -> Document:
    """The bucket policy CloudTrail needs (spec 7.3): account id -> trail ARN."""
    base = f"arn:aws:s3:::{bucket}/" + (f"{prefix}/" if prefix else "")
    sources = sorted(trails.values())
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringEquals": {"aws:SourceArn": sources}},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [f"{base}AWSLogs/{acct}/*" for acct in sorted(trails)],
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": sources,
                    }
                },
            },
        ],
    }


@dataclass(frozen=True)
class Party:
    """One account of the scenario and the role it uses in Admin."""

    name: str
    account: str
    role: str
    trust: Document
    permissions: Document
    description: str


def parties() -> list[Party]:
    return [
        Party(
            "D",
            D,
            D_ROLE,
            trust_account(D, mfa=True),
            prefix_read(BUCKET, D),
            "account you own; Require MFA; reads only AWSLogs/D/",
        ),
        Party(
            "E",
            E,
            E_ROLE,
            trust_account(E),
            AMAZON_S3_READ_ONLY_ACCESS,
            "account you own; AmazonS3ReadOnlyAccess (every log file)",
        ),
        Party(
            "R",
            R,
            R_ROLE,
            trust_account(R, external_id=EXTERNAL_ID),
            AMAZON_S3_READ_ONLY_ACCESS,
            "third-party analyzer; ExternalId; AmazonS3ReadOnlyAccess",
        ),
    ]
