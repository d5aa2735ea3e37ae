"""Audit 18 (S3 bucket configuration APIs): answers checked against S3's documented and
observed behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture()
def bucket(s3: Any) -> Iterator[str]:
    name = f"tg-cfg18-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


# -- tagging ------------------------------------------------------------------------------------


def test_bucket_tag_under_aws_prefix_is_a_system_tag(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_tagging(Bucket=bucket,
                              Tagging={"TagSet": [{"Key": "aws:sometag", "Value": "nope"}]})
    assert _error(exc) == ("InvalidTag", "System tags cannot be added/updated by requester", 400)
    assert exc.value.response["Error"]["TagKey"] == "aws:sometag"
    # "aws:" elsewhere in the key is an ordinary key
    s3.put_bucket_tagging(Bucket=bucket,
                          Tagging={"TagSet": [{"Key": "something:aws:stuff", "Value": "ok"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "something:aws:stuff", "Value": "ok"}]


# -- lifecycle filters ----------------------------------------------------------------------------

MALFORMED = ("MalformedXML",
             "The XML you provided was not well-formed or did not validate against our published "
             "schema", 400)


def _rule(rule_filter: dict[str, Any]) -> dict[str, Any]:
    return {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": rule_filter,
                       "Expiration": {"Days": 7}}]}


@pytest.mark.parametrize("rule_filter", [
    {"Prefix": "logs/", "Tag": {"Key": "k", "Value": "v"}},
    {"Prefix": "logs/", "ObjectSizeGreaterThan": 1024},
    {"Tag": {"Key": "k", "Value": "v"}, "And": {"Prefix": "a/", "ObjectSizeLessThan": 9}},
    {"And": {"Prefix": "logs/"}},
    {"And": {"Tags": [{"Key": "k", "Value": "v"}]}},
])
def test_lifecycle_filter_holds_one_predicate_or_an_and(s3: Any, bucket: str,
                                                        rule_filter: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration=_rule(rule_filter))
    assert _error(exc) == MALFORMED
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(missing)[0] == "NoSuchLifecycleConfiguration"


@pytest.mark.parametrize("rule_filter", [
    {},
    {"Prefix": "logs/"},
    {"ObjectSizeGreaterThan": 1024},
    {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}]}},
    {"And": {"Prefix": "", "ObjectSizeGreaterThan": 131072}},
    {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
])
def test_lifecycle_filter_forms_s3_accepts(s3: Any, bucket: str,
                                           rule_filter: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration=_rule(rule_filter))
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in rules] == ["r"]
    s3.delete_bucket_lifecycle(Bucket=bucket)


# -- server access logging --------------------------------------------------------------------


def test_logging_target_grants_refused_when_target_acls_are_disabled(s3: Any,
                                                                     bucket: str) -> None:
    grants = [{"Grantee": {"Type": "Group",
                           "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
               "Permission": "READ"}]
    status = {"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "logs/",
                                 "TargetGrants": grants}}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)  # BucketOwnerEnforced
    assert _error(exc) == ("AccessControlListNotSupported",
                           "Target grants not allowed for bucket owner enforced buckets", 400)
    assert s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled") is None
    # with ACLs enabled on the target the grants are kept
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    enabled = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert enabled["TargetBucket"] == bucket
    assert enabled["TargetGrants"][0]["Permission"] == "READ"


# -- lifecycle actions ----------------------------------------------------------------------------


def _put_rule(s3: Any, bucket: str, **rule: Any) -> None:
    body = {"ID": "r", "Status": "Enabled", "Filter": {}, **rule}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": [body]})


def test_lifecycle_expiration_date_must_be_midnight(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        _put_rule(s3, bucket, Expiration={"Date": datetime(2030, 2, 18, 1, 0, tzinfo=UTC)})
    assert _error(exc) == ("InvalidArgument", "'Date' must be at midnight GMT", 400)
    _put_rule(s3, bucket, Expiration={"Date": datetime(2030, 2, 18, tzinfo=UTC)})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["Expiration"]["Date"] == datetime(2030, 2, 18, tzinfo=UTC)
    s3.delete_bucket_lifecycle(Bucket=bucket)


@pytest.mark.parametrize("days", [0, -3])
def test_lifecycle_noncurrent_days_must_be_positive(s3: Any, bucket: str, days: int) -> None:
    with pytest.raises(ClientError) as exc:
        _put_rule(s3, bucket, NoncurrentVersionExpiration={"NoncurrentDays": days})
    assert _error(exc) == ("InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration "
                           "action must be a positive integer", 400)


def test_lifecycle_abort_multipart_not_with_tag_filters(s3: Any, bucket: str) -> None:
    for rule_filter in ({"Tag": {"Key": "k", "Value": "v"}},
                        {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]}}):
        with pytest.raises(ClientError) as exc:
            _put_rule(s3, bucket, Filter=rule_filter,
                      AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})
        assert _error(exc) == ("InvalidRequest",
                               "AbortIncompleteMultipartUpload cannot be specified with Tags.", 400)
    _put_rule(s3, bucket, Filter={"Prefix": "a/"},
              AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    s3.delete_bucket_lifecycle(Bucket=bucket)
