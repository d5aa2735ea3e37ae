"""Bucket sub-resources kept as configuration (website, server access logging, event
notifications, Transfer Acceleration, requester-pays): set, read back and removed through boto3
and the AWS CLI, with S3's refusals of what it does not accept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import World
from .server import ROOT_KEY, ROOT_SECRET, Server


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture()
def bucket(s3: Any) -> Iterator[str]:
    name = _name("tg-set")
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


# -- website ------------------------------------------------------------------------------


WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"},
                      "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301",
                                   "Protocol": "https"}}],
}


def test_website_round_trip(s3: Any, bucket: str) -> None:
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=WEBSITE)
    got = s3.get_bucket_website(Bucket=bucket)
    got.pop("ResponseMetadata")
    assert got == WEBSITE
    deleted = s3.delete_bucket_website(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert _error(exc) == ("NoSuchWebsiteConfiguration",
                           "The specified bucket does not have a website configuration", 404)
    assert exc.value.response["Error"]["BucketName"] == bucket


def test_website_redirect_all(s3: Any, bucket: str) -> None:
    config = {"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"] == config[
        "RedirectAllRequestsTo"]


@pytest.mark.parametrize(("config", "message", "argument"), [
    ({"ErrorDocument": {"Key": "e.html"}},
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
     "IndexDocument"),
    ({"IndexDocument": {"Suffix": "sub/index.html"}},
     "The IndexDocument Suffix is not well formed", "IndexDocument"),
    ({"RedirectAllRequestsTo": {"HostName": "example.com"},
      "IndexDocument": {"Suffix": "index.html"}},
     "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
     "RedirectAllRequestsTo"),
])
def test_website_refused(s3: Any, bucket: str, config: dict[str, Any], message: str,
                         argument: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    assert _error(exc) == ("InvalidArgument", message, 400)
    assert exc.value.response["Error"]["ArgumentName"] == argument
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_website(Bucket=bucket)
    assert _error(missing)[0] == "NoSuchWebsiteConfiguration"  # nothing was stored


def _aws_cli() -> str | None:
    found = shutil.which("aws", path=str(Path(sys.executable).parent))
    return found or shutil.which("aws")


def test_aws_cli_s3_website_command(server: Server, s3: Any, bucket: str) -> None:
    cli = _aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI is not installed")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=server.endpoint)
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    subprocess.run([cli, "s3", "website", f"s3://{bucket}", "--index-document", "home.html",
                    "--error-document", "oops.html"], env=env, check=True, capture_output=True)
    out = subprocess.run([cli, "s3api", "get-bucket-website", "--bucket", bucket], env=env,
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == {"IndexDocument": {"Suffix": "home.html"},
                               "ErrorDocument": {"Key": "oops.html"}}


# -- server access logging ---------------------------------------------------------------------


def test_logging_round_trip_and_off(s3: Any, bucket: str) -> None:
    target = _name("tg-set-logs")
    s3.create_bucket(Bucket=target)
    try:
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
        enabled = {"TargetBucket": target, "TargetPrefix": f"access/{bucket}/"}
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == enabled
        partitioned = dict(enabled, TargetObjectKeyFormat={
            "PartitionedPrefix": {"PartitionDateSource": "EventTime"}})
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": partitioned})
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == partitioned
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    finally:
        s3.delete_bucket(Bucket=target)


def test_logging_target_must_exist(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": "tg-set-no-such-target", "TargetPrefix": "x/"}})
    assert _error(exc) == ("InvalidTargetBucketForLogging",
                           "The target bucket for logging does not exist", 400)
    assert exc.value.response["Error"]["TargetBucket"] == "tg-set-no-such-target"


def test_logging_target_of_another_owner(world: World, s3: Any, bucket: str) -> None:
    """The scenario's central bucket idea does not extend to access logs: S3 writes them only
    into a bucket of the source bucket's owner."""
    member = world.assume(
        world.admin, f"arn:aws:iam::{world.accounts['E']}:role/OrganizationAccountAccessRole",
        "logging-test")
    theirs = world.client("s3", member)
    target = _name("tg-set-e-logs")
    theirs.create_bucket(Bucket=target)
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
                "TargetBucket": target, "TargetPrefix": ""}})
        assert _error(exc) == (
            "InvalidTargetBucketForLogging",
            "The owner for the bucket to be logged and the target bucket must be the same.", 400)
    finally:
        theirs.delete_bucket(Bucket=target)


# -- event notifications -------------------------------------------------------------------------


QUEUE = "arn:aws:sqs:us-east-1:111111111111:object-events"


def test_notifications_empty_and_eventbridge(s3: Any, bucket: str) -> None:
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    got.pop("ResponseMetadata")
    assert got == {}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert s3.get_bucket_notification_configuration(Bucket=bucket)[
        "EventBridgeConfiguration"] == {}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)


def test_notification_destination_is_validated(s3: Any, bucket: str) -> None:
    config = {"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(Bucket=bucket,
                                                  NotificationConfiguration=config)
    assert _error(exc) == ("InvalidArgument",
                           "Unable to validate the following destination configurations", 400)
    assert exc.value.response["Error"]["ArgumentName1"] == QUEUE
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    # Without the check (S3 then keeps the configuration as given, with an id made for it).
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)
    [kept] = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert (kept["QueueArn"], kept["Events"]) == (QUEUE, ["s3:ObjectCreated:*"])
    assert kept["Id"]


# -- Transfer Acceleration and requester-pays ------------------------------------------------------


def test_accelerate(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    for status in ("Enabled", "Suspended"):
        s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                               AccelerateConfiguration={"Status": status})
        assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == status


def test_accelerate_refuses_dotted_names(s3: Any) -> None:
    name = f"tg.set.{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_accelerate_configuration(
                Bucket=name, AccelerateConfiguration={"Status": "Enabled"})
        assert _error(exc) == (
            "InvalidRequest",
            "S3 Transfer Acceleration is not supported for buckets with periods (.) in their "
            "names", 400)
    finally:
        s3.delete_bucket(Bucket=name)


def test_request_payment(s3: Any, bucket: str) -> None:
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


@pytest.mark.parametrize(("redirect", "expected"), [
    ({"ReplaceKeyWith": "a.html", "ReplaceKeyPrefixWith": "b/"},
     ("InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both.", 400)),
    ({"HttpRedirectCode": "200"},
     ("InvalidArgument", "The provided HTTP redirect code is not valid. It should be a string "
      "containing a number between 300 and 399.", 400)),
])
def test_website_routing_rule_refused(s3: Any, bucket: str, redirect: dict[str, str],
                                      expected: tuple[str, str, int]) -> None:
    config = {"IndexDocument": {"Suffix": "index.html"},
              "RoutingRules": [{"Redirect": redirect}]}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    assert _error(exc) == expected
