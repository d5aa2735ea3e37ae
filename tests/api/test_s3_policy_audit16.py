"""Audit 16: bucket policy checks of PutBucketPolicy and GetBucketPolicyStatus, around a
central CloudTrail log bucket."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server

KMS_KEY = f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def log_bucket(s3: Any) -> Iterator[str]:
    name = f"tg-bp16-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket_policy(Bucket=name)
    s3.delete_bucket(Bucket=name)


def _policy(bucket: str, principal: Any, action: str, condition: dict[str, Any]) -> str:
    resource = f"arn:aws:s3:::{bucket}/AWSLogs/*"
    statement = {"Sid": "Audit16", "Effect": "Allow", "Principal": principal, "Action": action,
                 "Resource": resource, "Condition": condition}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize("key", ["s3:x-amz-acls", "s3:SourceArn", "s3:ExistingTag/team"])
def test_an_s3_condition_key_s3_does_not_define_is_refused(
    s3: Any, log_bucket: str, key: str
) -> None:
    policy = _policy(log_bucket, {"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject",
                     {"StringEquals": {key: "bucket-owner-full-control"}})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=log_bucket, Policy=policy)
    assert error_of(exc) == ("MalformedPolicy", "Policy has an invalid condition key", 400)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=log_bucket)
    assert error_of(exc)[::2] == ("NoSuchBucketPolicy", 404)


@pytest.mark.parametrize("key", ["s3:x-amz-acl", "S3:X-Amz-Acl", "s3:ExistingObjectTag/team",
                                 "aws:SourceArn"])
def test_defined_s3_keys_and_global_keys_are_accepted(s3: Any, log_bucket: str, key: str) -> None:
    policy = _policy(log_bucket, {"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject",
                     {"StringEquals": {key: "bucket-owner-full-control"}})
    assert s3.put_bucket_policy(Bucket=log_bucket, Policy=policy)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204


def test_a_fixed_kms_key_id_makes_an_everyone_grant_non_public(s3: Any, log_bucket: str) -> None:
    fixed = _policy(log_bucket, "*", "s3:PutObject", {
        "StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY}})
    # BlockPublicPolicy is on (new bucket): a non-public policy goes through.
    s3.put_bucket_policy(Bucket=log_bucket, Policy=fixed)
    assert s3.get_bucket_policy_status(Bucket=log_bucket)["PolicyStatus"] == {"IsPublic": False}
    wildcard = _policy(log_bucket, "*", "s3:PutObject", {
        "StringLike": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:*"}})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=log_bucket, Policy=wildcard)
    assert error_of(exc)[::2] == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=log_bucket)
    s3.put_bucket_policy(Bucket=log_bucket, Policy=wildcard)
    assert s3.get_bucket_policy_status(Bucket=log_bucket)["PolicyStatus"] == {"IsPublic": True}
