"""CloudTrail management API inputs checked against AWS's answers (audit 18), through boto3
on a real server: a CloudWatch Logs log group without the role CloudTrail assumes to write to
it is InvalidCloudWatchLogsRoleArnException, and the tag operations refuse an ARN of another
account with CloudTrailARNInvalidException ('AccountID in ARN is wrong ...'), after the
Region check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, REGION, Server

BUCKET = "tg-audit18-mgmt"
TRAIL = "audit18-trail"
OTHER = "222233334444"
LOG_GROUP = f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:audit18:*"


def failure(call: Any, **params: Any) -> tuple[str, str]:
    """The error code and message of a call that must fail with HTTP 400."""
    with pytest.raises(ClientError) as exc:
        call(**params)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return response["Error"]["Code"], response["Error"]["Message"]


def arn(name: str, account: str = MANAGEMENT, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


@pytest.fixture(scope="module")
def ct(own_server: Server) -> Iterator[Any]:
    """CloudTrail as the management account's root user, with one trail (tagged) in a bucket
    any trail may use."""
    s3: Any = own_server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    statements = [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    ]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    client: Any = own_server.client("cloudtrail")
    client.create_trail(Name=TRAIL, S3BucketName=BUCKET,
                        TagsList=[{"Key": "team", "Value": "audit"}])
    yield client
    client.delete_trail(Name=TRAIL)


# -- CloudWatch Logs destination ----------------------------------------------------------------


def test_log_group_without_a_role(ct: Any) -> None:
    """AWS: a log group needs the role CloudTrail assumes to write to it
    (InvalidCloudWatchLogsRoleArnException, as AWS answered in terraform-provider-aws#148 and
    pulumi/docs#5117), for CreateTrail and UpdateTrail alike; nothing is created or changed."""
    expected = ("InvalidCloudWatchLogsRoleArnException",
                "You must specify a role ARN as well as a log group.")
    assert failure(ct.create_trail, Name="audit18-cwl", S3BucketName=BUCKET,
                   CloudWatchLogsLogGroupArn=LOG_GROUP) == expected
    assert failure(ct.update_trail, Name=TRAIL, CloudWatchLogsLogGroupArn=LOG_GROUP) == expected
    assert [t["Name"] for t in ct.list_trails()["Trails"]] == [TRAIL]
    assert "CloudWatchLogsLogGroupArn" not in ct.get_trail(Name=TRAIL)["Trail"]
    # With the role too, the log group (which does not exist here) is what AWS refuses.
    assert failure(ct.create_trail, Name="audit18-cwl", S3BucketName=BUCKET,
                   CloudWatchLogsLogGroupArn=LOG_GROUP,
                   CloudWatchLogsRoleArn=f"arn:aws:iam::{MANAGEMENT}:role/ct-logs") == (
        "InvalidCloudWatchLogsLogGroupArnException",
        "CloudTrail cannot validate the specified log group ARN.")


# -- tags by another account's ARN --------------------------------------------------------------


def account_in_arn_is_wrong() -> tuple[str, str]:
    return ("CloudTrailARNInvalidException",
            f"AccountID in ARN is wrong, you can only access resources with AccountID "
            f"{MANAGEMENT}.")


def test_tags_of_an_arn_of_another_account(ct: Any) -> None:
    """AWS: ListTags with a trail ARN of another account is CloudTrailARNInvalidException
    ('AccountID in ARN is wrong, you can only access resources with AccountID ...', as AWS
    answers in cloudquery/cq-provider-aws#405 and prowler-cloud/prowler#2025), whether or
    not such a trail exists; AddTags and RemoveTags check the ARN the same way."""
    foreign = arn(TRAIL, OTHER)
    assert failure(ct.list_tags, ResourceIdList=[foreign]) == account_in_arn_is_wrong()
    assert failure(ct.list_tags, ResourceIdList=[arn(TRAIL), foreign]) == (
        account_in_arn_is_wrong())
    assert failure(ct.add_tags, ResourceId=foreign,
                   TagsList=[{"Key": "k", "Value": "v"}]) == account_in_arn_is_wrong()
    assert failure(ct.remove_tags, ResourceId=foreign,
                   TagsList=[{"Key": "team"}]) == account_in_arn_is_wrong()
    # The Region is checked first; an own ARN naming no trail is ResourceNotFoundException.
    assert failure(ct.list_tags, ResourceIdList=[arn(TRAIL, OTHER, "us-west-2")]) == (
        "CloudTrailARNInvalidException",
        f"Region in ARN is wrong, you can only access resources in region {REGION}.")
    missing = arn("audit18-nosuch")
    assert failure(ct.list_tags, ResourceIdList=[missing]) == (
        "ResourceNotFoundException", f"Resource {missing} does not exist.")
    assert ct.list_tags(ResourceIdList=[arn(TRAIL)])["ResourceTagList"] == [
        {"ResourceId": arn(TRAIL), "TagsList": [{"Key": "team", "Value": "audit"}]}]
