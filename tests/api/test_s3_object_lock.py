"""S3 Object Lock through a real server, driven by boto3 (and the AWS CLI): the bucket's
configuration, a version's retention and legal hold (set by the write's headers, by the
bucket's default rule, or by their own operations), the integrity rule of locked writes, the
refusal to delete a locked version (GOVERNANCE bypass with and without the permission,
COMPLIANCE, legal hold), retention changes, and CloudTrail delivering into a lock-enabled log
bucket that ``aws cloudtrail validate-logs`` then validates.  The Object Lock actions and
condition keys: :mod:`.test_s3_object_lock_access`."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server, start
from .test_s3_api import error_of, status, unique
from .test_s3_versioning import _deliver, _digests, assert_cli_validates, run_aws

LOCKED = ("AccessDenied", "Access Denied because object protected by object lock.", 403)
MALFORMED = ("MalformedXML", "The XML you provided was not well-formed or did not validate "
             "against our published schema", 400)
MISSING_LOCK = ("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
NO_OBJECT_LOCK = ("NoSuchObjectLockConfiguration",
                  "The specified object does not have a ObjectLock configuration", 404)
MD5_OF_X = base64.b64encode(hashlib.md5(b"x").digest()).decode()
INTEGRITY = ("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
             "Object requests with Object Lock parameters", 400)


def later(**delta: float) -> datetime:
    """A time ``delta`` from now, at whole seconds (headers carry whole seconds)."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bare_s3(server: Server) -> Any:
    """A root client that sends no checksum unless an operation requires one."""
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=ROOT_KEY,
        aws_secret_access_key=ROOT_SECRET,
        config=Config(retries={"max_attempts": 1}, request_checksum_calculation="when_required"),
    )


@pytest.fixture()
def locked_bucket(s3: Any) -> str:
    """A new bucket created with Object Lock (its locked versions are never cleaned up: the
    server's data lives in a temporary directory)."""
    name = unique("tg-lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def default_bucket(s3: Any, mode: str = "GOVERNANCE", **period: int) -> str:
    name = unique("tg-lockdef")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": mode, **(period or {"Days": 1})}}})
    return name


@pytest.fixture()
def plain_bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-nolock")
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=name)


# -- the bucket's configuration ------------------------------------------------------------


def test_create_bucket_with_object_lock_enables_versioning(s3: Any, locked_bucket: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    answer = s3.get_object_lock_configuration(Bucket=locked_bucket)
    assert answer["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=locked_bucket,
                                 VersioningConfiguration={"Status": "Suspended"})
    assert error_of(exc) == ("InvalidBucketState", "An Object Lock configuration is present on "
                             "this bucket, so the versioning state cannot be changed.", 409)


def test_object_lock_needs_versioning_enabled_on_an_existing_bucket(
    s3: Any, plain_bucket: str
) -> None:
    config = {"ObjectLockEnabled": "Enabled",
              "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=plain_bucket, ObjectLockConfiguration=config)
    assert error_of(exc) == ("InvalidBucketState", "Versioning must be 'Enabled' on the bucket "
                             "to apply a Object Lock configuration", 409)
    s3.put_bucket_versioning(Bucket=plain_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=plain_bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 2}}})
    answer = s3.get_object_lock_configuration(Bucket=plain_bucket)["ObjectLockConfiguration"]
    assert answer == {"ObjectLockEnabled": "Enabled",
                      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 2}}}
    # Removing the default rule keeps Object Lock on.
    s3.put_object_lock_configuration(Bucket=plain_bucket,
                                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    answer = s3.get_object_lock_configuration(Bucket=plain_bucket)["ObjectLockConfiguration"]
    assert answer == {"ObjectLockEnabled": "Enabled"}


def test_object_lock_configuration_without_a_body(s3: Any, locked_bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=locked_bucket)
    assert error_of(exc) == ("MissingRequestBodyError", "Request Body is empty", 400)


@pytest.mark.parametrize(("config", "expected"), [
    ({}, MALFORMED),
    ({"ObjectLockEnabled": "Disabled"}, MALFORMED),
    ({"ObjectLockEnabled": "Enabled", "Rule": {}}, MALFORMED),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
     MALFORMED),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "governance", "Days": 1}}}, MALFORMED),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}}, MALFORMED),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
     ("InvalidArgument", "Default retention period must be a positive integer value", 400)),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": -1}}},
     ("InvalidArgument", "Default retention period must be a positive integer value", 400)),
])
def test_invalid_object_lock_configurations(
    s3: Any, locked_bucket: str, config: dict[str, Any], expected: tuple[str, str, int]
) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration=config)
    assert error_of(exc) == expected


# -- a version's lock ----------------------------------------------------------------------


def test_put_object_lock_headers_are_kept_and_shown(s3: Any, locked_bucket: str) -> None:
    until = later(days=3)
    put = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"worm",
                        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until,
                        ObjectLockLegalHoldStatus="ON")
    version = put["VersionId"]
    head = s3.head_object(Bucket=locked_bucket, Key="k")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"],
            head["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", until, "ON")
    raw = head["ResponseMetadata"]["HTTPHeaders"]
    assert raw["x-amz-object-lock-retain-until-date"] == until.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert raw["x-amz-object-lock-mode"] == "GOVERNANCE"
    assert raw["x-amz-object-lock-legal-hold"] == "ON"
    got = s3.get_object(Bucket=locked_bucket, Key="k", VersionId=version)
    assert got["ObjectLockRetainUntilDate"] == until and got["Body"].read() == b"worm"
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k", VersionId=version)
    assert retention["Retention"] == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    hold = s3.get_object_legal_hold(Bucket=locked_bucket, Key="k")
    assert hold["LegalHold"] == {"Status": "ON"}


def test_a_version_without_a_lock(s3: Any, locked_bucket: str) -> None:
    s3.put_object(Bucket=locked_bucket, Key="free", Body=b"x")
    head = s3.head_object(Bucket=locked_bucket, Key="free")
    assert not {"ObjectLockMode", "ObjectLockLegalHoldStatus"} & set(head)
    for call in ("get_object_retention", "get_object_legal_hold"):
        with pytest.raises(ClientError) as exc:
            getattr(s3, call)(Bucket=locked_bucket, Key="free")
        assert error_of(exc) == NO_OBJECT_LOCK
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="free", LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="free")["LegalHold"] == {
        "Status": "OFF"}
    assert s3.head_object(Bucket=locked_bucket, Key="free")["ObjectLockLegalHoldStatus"] == "OFF"


def test_default_retention_applies_to_new_versions(s3: Any) -> None:
    bucket = default_bucket(s3, "COMPLIANCE", Days=2)
    s3.put_object(Bucket=bucket, Key="log", Body=b"line")
    head = s3.head_object(Bucket=bucket, Key="log")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    expected = head["LastModified"] + timedelta(days=2)
    assert abs((head["ObjectLockRetainUntilDate"] - expected).total_seconds()) < 2
    # A write's own headers win over the rule.
    until = later(days=5)
    s3.put_object(Bucket=bucket, Key="own", Body=b"x", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    assert s3.head_object(Bucket=bucket, Key="own")["ObjectLockRetainUntilDate"] == until
    # A copy keeps none of its source's lock: it gets the bucket's default.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "own"})
    copied = s3.head_object(Bucket=bucket, Key="copy")
    assert copied["ObjectLockRetainUntilDate"] < until


def test_multipart_upload_gets_the_lock_it_asked_for(s3: Any, locked_bucket: str) -> None:
    until = later(days=1)
    upload = s3.create_multipart_upload(Bucket=locked_bucket, Key="mp",
                                        ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=until)["UploadId"]
    part = s3.upload_part(Bucket=locked_bucket, Key="mp", UploadId=upload, PartNumber=1,
                          Body=b"part")
    s3.complete_multipart_upload(Bucket=locked_bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": part["ETag"]}]})
    assert s3.get_object_retention(Bucket=locked_bucket, Key="mp")["Retention"] == {
        "Mode": "GOVERNANCE", "RetainUntilDate": until}


@pytest.mark.parametrize(("headers", "expected"), [
    ({"ObjectLockMode": "GOVERNANCE"},
     ("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must "
      "both be supplied", 400)),
    ({"ObjectLockRetainUntilDate": "future"},
     ("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must "
      "both be supplied", 400)),
    ({"ObjectLockMode": "governance", "ObjectLockRetainUntilDate": "future"},
     ("InvalidArgument", "Unknown wormMode directive.", 400)),
    ({"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": "past"},
     ("InvalidArgument", "The retain until date must be in the future!", 400)),
    ({"ObjectLockLegalHoldStatus": "MAYBE"},
     ("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'", 400)),
])
def test_invalid_lock_headers(
    s3: Any, locked_bucket: str, headers: dict[str, str], expected: tuple[str, str, int]
) -> None:
    dates = {"future": later(days=1), "past": later(days=-1)}
    kwargs = {k: dates.get(v, v) for k, v in headers.items()}
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=locked_bucket, Key="bad", Body=b"x", **kwargs)
    assert error_of(exc) == expected


def test_event_holds_are_not_served(s3: Any, locked_bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockEventHold="ON",
                      ObjectLockEventHoldDurationDays=1)
    assert error_of(exc) == ("NotImplemented", "A header you provided implies functionality "
                             "that is not implemented", 501)
    assert exc.value.response["Error"]["Header"] == "x-amz-object-lock-event-hold"


def test_lock_requests_on_a_bucket_without_object_lock(s3: Any, plain_bucket: str) -> None:
    s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=later(days=1))
    assert error_of(exc) == ("InvalidRequest", "Bucket is missing ObjectLockConfiguration", 400)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_object_retention", {}), ("get_object_legal_hold", {}),
        ("put_object_legal_hold", {"LegalHold": {"Status": "ON"}}),
        ("put_object_retention", {"Retention": {"Mode": "GOVERNANCE",
                                                "RetainUntilDate": later(days=1)}}),
    ]
    for call, kwargs in calls:
        with pytest.raises(ClientError) as exc:
            getattr(s3, call)(Bucket=plain_bucket, Key="k", **kwargs)
        assert error_of(exc) == MISSING_LOCK, call
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=plain_bucket, Key="k", BypassGovernanceRetention=True)
    assert error_of(exc) == ("InvalidArgument", "x-amz-bypass-governance-retention is only "
                             "applicable to Object Lock enabled buckets.", 400)
    assert exc.value.response["Error"]["ArgumentName"] == "x-amz-bypass-governance-retention"
    assert "ArgumentValue" not in exc.value.response["Error"]


def test_locked_writes_need_content_md5_or_a_checksum(s3: Any, bare_s3: Any) -> None:
    bucket = default_bucket(s3)
    plain = unique("tg-lockfree")
    s3.create_bucket(Bucket=plain, ObjectLockEnabledForBucket=True)
    with pytest.raises(ClientError) as exc:  # the default rule makes it a locked write
        bare_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(exc) == INTEGRITY
    with pytest.raises(ClientError) as exc:  # a legal hold alone too
        bare_s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockLegalHoldStatus="OFF")
    assert error_of(exc) == INTEGRITY
    assert status(bare_s3.put_object(Bucket=plain, Key="k", Body=b"x")) == 200  # no lock
    assert status(bare_s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                     ContentMD5=MD5_OF_X)) == 200
    assert status(bare_s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                     ChecksumAlgorithm="SHA256")) == 200
    assert "ObjectLockMode" in s3.head_object(Bucket=bucket, Key="k")
    # Each part of an upload that will be locked needs one too.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as exc:
        bare_s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")
    assert error_of(exc) == ("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is "
                             "required for Put Part requests with Object Lock parameters", 400)
    assert status(bare_s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
                                      Body=b"x", ContentMD5=MD5_OF_X)) == 200


# -- deleting a locked version -------------------------------------------------------------


def _lock_user(server: Server, bucket: str, *, may_bypass: bool) -> Any:
    """A user allowed every S3 action on ``bucket``, s3:BypassGovernanceRetention included
    or explicitly denied."""
    iam = server.client("iam")
    name = unique("lock-user")
    iam.create_user(UserName=name)
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": "s3:*", "Resource": resources}]
    if not may_bypass:
        statements.append({"Effect": "Deny", "Action": "s3:BypassGovernanceRetention",
                           "Resource": resources})
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("s3", key["AccessKeyId"], key["SecretAccessKey"])


# (retention mode or None, legal hold, bypass header, bypass permission) -> deleted?
DELETE_CASES = [
    ("GOVERNANCE", None, False, True, False),
    ("GOVERNANCE", None, True, True, True),
    ("GOVERNANCE", None, True, False, False),
    ("GOVERNANCE", "ON", True, True, False),
    ("GOVERNANCE", "OFF", True, True, True),
    ("COMPLIANCE", None, False, True, False),
    ("COMPLIANCE", None, True, True, False),
    (None, "ON", True, True, False),
    (None, "OFF", False, True, True),
    (None, None, False, False, True),
]


@pytest.mark.parametrize("batch", [False, True], ids=["DeleteObject", "DeleteObjects"])
@pytest.mark.parametrize(("mode", "hold", "bypass", "permitted", "deleted"), DELETE_CASES)
def test_deleting_a_locked_version(
    server: Server, s3: Any, locked_bucket: str, batch: bool, mode: str | None,
    hold: str | None, bypass: bool, permitted: bool, deleted: bool,
) -> None:
    lock: dict[str, Any] = {}
    if mode is not None:
        lock.update(ObjectLockMode=mode, ObjectLockRetainUntilDate=later(days=1))
    if hold is not None:
        lock["ObjectLockLegalHoldStatus"] = hold
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", **lock)["VersionId"]
    client = _lock_user(server, locked_bucket, may_bypass=permitted)
    extra = {"BypassGovernanceRetention": True} if bypass else {}
    if batch:
        answer = client.delete_objects(Bucket=locked_bucket, Delete={"Objects": [
            {"Key": "k", "VersionId": version}]}, **extra)
        if deleted:
            assert answer["Deleted"] == [{"Key": "k", "VersionId": version}]
        else:
            assert answer["Errors"] == [{"Key": "k", "VersionId": version, "Code": LOCKED[0],
                                         "Message": LOCKED[1]}]
    elif deleted:
        assert status(client.delete_object(Bucket=locked_bucket, Key="k", VersionId=version,
                                           **extra)) == 204
    else:
        with pytest.raises(ClientError) as exc:
            client.delete_object(Bucket=locked_bucket, Key="k", VersionId=version, **extra)
        assert error_of(exc) == LOCKED
    versions = s3.list_object_versions(Bucket=locked_bucket).get("Versions", [])
    assert (version in [v["VersionId"] for v in versions]) is not deleted


def test_a_locked_key_still_takes_delete_markers(s3: Any) -> None:
    bucket = default_bucket(s3, "COMPLIANCE", Days=1)
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert status(marker) == 204 and marker["DeleteMarker"] is True
    # The delete marker itself is not protected; the version stays.
    assert status(s3.delete_object(Bucket=bucket, Key="k",
                                   VersionId=marker["VersionId"])) == 204
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == version
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(exc)[0] == "BucketNotEmpty"


def test_an_expired_retention_protects_no_more(s3: Any, locked_bucket: str) -> None:
    until = later(seconds=2)
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x",
                            ObjectLockMode="COMPLIANCE",
                            ObjectLockRetainUntilDate=until)["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)
    assert error_of(exc) == LOCKED
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.5)
    assert s3.get_object_retention(Bucket=locked_bucket, Key="k")["Retention"]["Mode"] == (
        "COMPLIANCE")  # still told, no longer in force
    assert status(s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)) == 204
    s3.delete_bucket(Bucket=locked_bucket)


# -- changing a retention ------------------------------------------------------------------


# (current mode, new mode, days from now (None: remove), bypass) -> allowed?
CHANGE_CASES = [
    ("GOVERNANCE", "GOVERNANCE", 20, False, True),
    ("GOVERNANCE", "GOVERNANCE", 5, False, False),
    ("GOVERNANCE", "GOVERNANCE", 5, True, True),
    ("GOVERNANCE", None, None, False, False),
    ("GOVERNANCE", None, None, True, True),
    ("GOVERNANCE", "COMPLIANCE", 20, False, False),
    ("GOVERNANCE", "COMPLIANCE", 20, True, True),
    ("COMPLIANCE", "COMPLIANCE", 20, False, True),
    ("COMPLIANCE", "COMPLIANCE", 5, True, False),
    ("COMPLIANCE", "GOVERNANCE", 20, True, False),
    ("COMPLIANCE", None, None, True, False),
]


@pytest.mark.parametrize(("current", "new", "days", "bypass", "allowed"), CHANGE_CASES)
def test_changing_a_retention(
    s3: Any, locked_bucket: str, current: str, new: str | None, days: int | None,
    bypass: bool, allowed: bool,
) -> None:
    first = later(days=10)
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode=current,
                  ObjectLockRetainUntilDate=first)
    retention = {} if new is None else {"Mode": new, "RetainUntilDate": later(days=days or 0)}
    extra = {"BypassGovernanceRetention": True} if bypass else {}
    if not allowed:
        with pytest.raises(ClientError) as exc:
            s3.put_object_retention(Bucket=locked_bucket, Key="k", Retention=retention, **extra)
        assert error_of(exc) == LOCKED
        expected = {"Mode": current, "RetainUntilDate": first}
    else:
        assert status(s3.put_object_retention(Bucket=locked_bucket, Key="k",
                                              Retention=retention, **extra)) == 200
        expected = retention
    if expected:
        assert s3.get_object_retention(Bucket=locked_bucket, Key="k")["Retention"] == expected
    else:
        with pytest.raises(ClientError) as exc:
            s3.get_object_retention(Bucket=locked_bucket, Key="k")
        assert error_of(exc) == NO_OBJECT_LOCK


def test_retention_date_must_be_in_the_future(s3: Any, locked_bucket: str) -> None:
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked_bucket, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": datetime(2020, 1, 1, tzinfo=UTC)})
    assert error_of(exc) == ("InvalidArgument", "The retain until date must be in the future!",
                             400)
    error = exc.value.response["Error"]
    assert (error["ArgumentName"], error["ArgumentValue"]) == (
        "RetainUntilDate", "Tue Dec 31 16:00:00 PST 2019")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked_bucket, Key="k", Retention={"Mode": "GOVERNANCE"})
    assert error_of(exc) == MALFORMED
    with pytest.raises(ClientError) as exc:
        s3.put_object_legal_hold(Bucket=locked_bucket, Key="k", LegalHold={"Status": "on"})
    assert error_of(exc) == MALFORMED


# -- the AWS CLI -------------------------------------------------------------------------------


def _aws(server: Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_aws(server, "s3api", *args, check=check)


def test_awscli_object_lock(server: Server, tmp_path: Path) -> None:
    name = unique("tg-lock-cli")
    _aws(server, "create-bucket", "--bucket", name, "--object-lock-enabled-for-bucket")
    _aws(server, "put-object-lock-configuration", "--bucket", name,
         "--object-lock-configuration",
         '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":'
         '{"Mode":"COMPLIANCE","Days":1}}}')
    body = tmp_path / "body"
    body.write_bytes(b"cli")
    put = json.loads(_aws(server, "put-object", "--bucket", name, "--key", "k", "--body",
                          str(body)).stdout)
    got = json.loads(_aws(server, "get-object-retention", "--bucket", name, "--key", "k").stdout)
    assert got["Retention"]["Mode"] == "COMPLIANCE"
    refused = _aws(server, "delete-object", "--bucket", name, "--key", "k", "--version-id",
                   put["VersionId"], "--bypass-governance-retention", check=False)
    assert refused.returncode != 0
    assert ("An error occurred (AccessDenied) when calling the DeleteObject operation: Access "
            "Denied because object protected by object lock.") in refused.stderr


# -- CloudTrail into a lock-enabled log bucket ---------------------------------------------


@pytest.mark.slow
def test_cloudtrail_delivers_into_a_lock_enabled_bucket(tmp_path: Path) -> None:
    """Log files and digests land in a log bucket with a COMPLIANCE default retention (each
    version locked for a day, so nothing can delete it); ``aws cloudtrail validate-logs``
    finds them all valid."""
    from .test_s3_versioning import LOG_BUCKET, TRAIL_ARN

    server = start(tmp_path / "data", extra_args=("--delivery-interval", "1",
                                                  "--digest-interval", "5"))
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket=LOG_BUCKET, ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket=LOG_BUCKET, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
        s3.put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(
            sc.cloudtrail_bucket_policy(LOG_BUCKET, {MANAGEMENT: TRAIL_ARN})))
        data_bucket = unique("tg-lock-data")
        s3.create_bucket(Bucket=data_bucket, ObjectLockEnabledForBucket=True)
        version = s3.put_object(Bucket=data_bucket, Key="k", Body=b"audited")["VersionId"]
        began = datetime.now(UTC) - timedelta(minutes=2)
        _deliver(server, data_bucket, version)
        digests = _digests(s3)
        assert len(digests) >= 3
        files = [v for p in s3.get_paginator("list_object_versions").paginate(Bucket=LOG_BUCKET)
                 for v in p.get("Versions", [])]
        assert len(files) > len(digests)
        for item in files:
            head = s3.head_object(Bucket=LOG_BUCKET, Key=item["Key"])
            assert head["ObjectLockMode"] == "COMPLIANCE"
        digest_version = next(v["VersionId"] for v in files if v["Key"] == digests[0])
        with pytest.raises(ClientError) as exc:
            s3.delete_object(Bucket=LOG_BUCKET, Key=digests[0], VersionId=digest_version)
        assert error_of(exc) == LOCKED
        assert_cli_validates(server, began)
    finally:
        server.stop()
