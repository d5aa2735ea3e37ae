"""Resource ARN rules of identity policies checked against AWS's answers (audit 18).

* IAM's resource-path refusal names ``root`` among the accepted forms (the wording AWS gives
  today, quoted from PutRolePolicy / CreatePolicyVersion refusals in public incident logs).
* S3 resource types whose ARNs carry a Region in AWS's Service Authorization Reference (access
  points and their objects, Batch Operations jobs, Storage Lens, Access Grants) are accepted
  with a Region; bucket and object ARNs still are not.
* Route 53 ARNs carry neither Region nor account id (AWS's PutRolePolicy answers quoted in
  public Terraform code).
"""

from __future__ import annotations

import json

import pytest

from trailgate.policy.model import MalformedPolicyError, PolicyType
from trailgate.policy.parse import parse_policy

IDN = PolicyType.IDENTITY

IAM_PATH = (
    'IAM resource path must either be "*", root, or start with user/, federated-user/, role/, '
    "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
    "oidc-provider/, report/, access-report/."
)


def doc(resource: str) -> str:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def refusal(text: str) -> str:
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(text, IDN)
    return info.value.message


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:iam::111111111111:account-alias/*",
        "arn:aws:iam::111111111111:thing/x",
        "arn:aws:iam::111111111111:",
    ],
)
def test_iam_resource_path_wording_names_root(resource: str) -> None:
    assert refusal(doc(resource)) == IAM_PATH


def test_iam_root_resource_is_accepted() -> None:
    parse_policy(doc("arn:aws:iam::111111111111:root"), IDN)


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
        "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/Jane/*",
        "arn:aws:s3:*:123456789012:accesspoint/*",
        "arn:aws:s3:us-east-1:123456789012:job/*",
        "arn:aws:s3:us-east-1:123456789012:storage-lens/default-account-dashboard",
        "arn:aws:s3:us-east-1:123456789012:storage-lens-group/g1",
        "arn:aws:s3:us-east-1:123456789012:access-grants/default",
        "arn:aws:s3:us-west-2:123456789012:async-request/mrap/CreateMultiRegionAccessPoint/x",
    ],
)
def test_regional_s3_resource_types_are_accepted(resource: str) -> None:
    policy = parse_policy(doc(resource), IDN)
    assert policy.statements[0].resource == (resource,)


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:us-east-1::example_bucket",
        "arn:aws:s3:us-east-1:123456789012:example_bucket/key",
        "arn:aws:s3:eu-west-1:123456789012:accesspointx/y",
    ],
)
def test_bucket_and_object_arns_still_refuse_a_region(resource: str) -> None:
    assert refusal(doc(resource)) == f"Resource {resource} can not contain region information."


def test_route53_arn_with_a_region() -> None:
    resource = "arn:aws:route53:eu-west-1:111111111111:hostedzone/*"
    assert refusal(doc(resource)) == f"Resource {resource} can not contain region information."


def test_route53_arn_with_an_account_id() -> None:
    resource = "arn:aws:route53::111111111111:hostedzone/*"
    assert refusal(doc(resource)) == f"Resource {resource} cannot contain an account id."


def test_route53_global_arn_is_accepted() -> None:
    parse_policy(doc("arn:aws:route53:::hostedzone/*"), IDN)


@pytest.mark.parametrize(
    "resource",
    [
        # as in AWS managed policies (AmazonFSxFullAccess, CloudWatch's Application Signals)
        "arn:*:iam::*:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/X_*",
        "arn:*:s3:::bucket/*",
    ],
)
def test_wildcard_partition_is_accepted(resource: str) -> None:
    policy = parse_policy(doc(resource), IDN)
    assert policy.statements[0].resource == (resource,)


def test_other_unknown_partitions_are_still_refused() -> None:
    resource = "arn:aws*:s3:::bucket"
    assert refusal(doc(resource)) == f'Partition "aws*" is not valid for resource "{resource}".'


# -- the order of IAM's checks and the ARN it names in a partition refusal ------------------
# Refusals AWS gives for documents with several faults, as recorded in public emulator test
# tables that were checked against AWS (moto's test_iam_policies.py).

LEGACY = "The policy failed legacy parsing"


def policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("a:bsdfdsafsad", 'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".'),
        ("a:b:cadfsdf", 'Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".'),
        ("a:b:c:d:e:f:g:h", 'Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".'),
        ("aws:s3:::example_bucket", 'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".'),
        ("arn:foo", 'Partition "foo" is not valid for resource "arn:foo:*:*:*:*".'),
        ("arn:aws::::example_bucket", LEGACY),
    ],
)
def test_partition_refusal_names_the_rebuilt_arn(resource: str, message: str) -> None:
    text = policy({"Effect": "Allow", "NotAction": "s3s:ListBucket", "Resource": resource})
    assert refusal(text) == message


def test_short_arn_without_empty_parts_is_accepted() -> None:
    parse_policy(doc("arn:aws:fdsasf"), IDN)


def test_resource_format_before_action_prefix() -> None:
    text = policy({"Effect": "Allow", "Action": "s:3:ListBucket", "Resource": "sdfsadf"})
    assert refusal(text) == 'Resource sdfsadf must be in ARN format or "*".'


def test_missing_actions_of_any_statement_before_action_prefixes() -> None:
    text = policy(
        {"Effect": "Allow", "Action": "nocolon", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
    )
    assert refusal(text) == "Policy statement must contain actions."


def test_missing_resources_before_action_prefixes() -> None:
    text = policy({"Effect": "Allow", "Action": "invalid"})
    assert refusal(text) == "Policy statement must contain resources."


@pytest.mark.parametrize("value", ["234-13", "2016-12-13t2:00:00.593194+1", "9223372036854775808"])
def test_date_values_are_legacy_parsed_before_everything_else(value: str) -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:error:s3:::example_bucket",
        "Condition": {"DateLessThanEquals": {"aws:CurrentTime": value}},
    }
    assert refusal(policy(statement)) == LEGACY
    del statement["Action"]
    assert refusal(policy(statement)) == LEGACY


def test_unknown_operator_is_a_syntax_error_before_missing_actions() -> None:
    statement = {"Effect": "Allow", "Resource": "*", "Condition": {"x": {"aws:a": "1"}}}
    assert refusal(policy(statement)) == "Syntax errors in policy."


def test_legacy_resource_before_sid_uniqueness() -> None:
    text = policy(
        {"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3::b"},
    )
    assert refusal(text) == LEGACY


def test_duplicate_sid_before_missing_actions() -> None:
    text = policy(
        {"Sid": "sdf", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "sdf", "Effect": "Allow"},
    )
    assert refusal(text) == "Statement IDs (SID) in a single policy must be unique."


def test_action_prefix_before_condition_keys() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "bad:ac:tion",
        "Resource": "*",
        "Condition": {"StringEquals": {"username": "a"}},
    }
    assert refusal(policy(statement)) == "Actions/Condition can contain only one colon."
