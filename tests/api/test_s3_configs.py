"""S3 reads that inspection tools make of every bucket (boto3 and the AWS CLI): the bucket
configurations trailgate never holds answer as S3 answers for a bucket without them, and
ListObjectVersions lists an unversioned bucket's objects as their "null" versions."""

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

import boto3
import pytest
from botocore.exceptions import ClientError

from .server import ROOT_KEY, ROOT_SECRET, Server


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = f"tg-cfg-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    for key in ("a.json", "logs/1.gz", "logs/2.gz", "logs/sub/3.gz", "z"):
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    yield name
    boto3.resource("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1",
                   aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
                   ).Bucket(name).object_versions.delete()  # the usual teardown idiom
    s3.delete_bucket(Bucket=name)


MISSING = [
    ("get_bucket_cors", "NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration",
     "The lifecycle configuration does not exist"),
    # (CORS and lifecycle rules can be set: see below)
    ("get_bucket_website", "NoSuchWebsiteConfiguration",
     "The specified bucket does not have a website configuration"),
    ("get_bucket_replication", "ReplicationConfigurationNotFoundError",
     "The replication configuration was not found"),
    ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError",
     "Object Lock configuration does not exist for this bucket"),
]


@pytest.mark.parametrize(("method", "code", "message"), MISSING)
def test_configuration_never_set_is_not_found(s3: Any, bucket: str, method: str, code: str,
                                               message: str) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(s3, method)(Bucket=bucket)
    assert _error(exc) == (code, message, 404)
    assert exc.value.response["Error"]["BucketName"] == bucket


@pytest.mark.parametrize(("method", "expected"), [
    ("get_bucket_logging", {}),
    ("get_bucket_notification_configuration", {}),
    ("get_bucket_accelerate_configuration", {}),
    ("get_bucket_request_payment", {"Payer": "BucketOwner"}),
])
def test_configuration_defaults(s3: Any, bucket: str, method: str,
                                expected: dict[str, Any]) -> None:
    answer = getattr(s3, method)(Bucket=bucket)
    answer.pop("ResponseMetadata")
    assert answer == expected


@pytest.mark.parametrize("method", [m for m, _, _ in MISSING] + [
    "get_bucket_logging", "get_bucket_request_payment", "list_object_versions"])
def test_missing_bucket(s3: Any, method: str) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(s3, method)(Bucket=f"tg-none-{uuid.uuid4().hex[:12]}")
    assert _error(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)


def test_list_object_versions_of_an_unversioned_bucket(s3: Any, bucket: str) -> None:
    head = s3.head_object(Bucket=bucket, Key="a.json")
    page = s3.list_object_versions(Bucket=bucket)
    assert [v["Key"] for v in page["Versions"]] == [
        "a.json", "logs/1.gz", "logs/2.gz", "logs/sub/3.gz", "z"]
    first = page["Versions"][0]
    assert first["VersionId"] == "null" and first["IsLatest"] is True
    assert first["ETag"] == head["ETag"] and first["Size"] == len(b"a.json")
    assert first["StorageClass"] == "STANDARD"
    # S3's times are whole seconds: a listing and HEAD's Last-Modified (an HTTP date) agree
    assert first["LastModified"] == head["LastModified"]
    assert first["Owner"]["ID"]
    assert page["IsTruncated"] is False and "DeleteMarkers" not in page
    assert (page["KeyMarker"], page["VersionIdMarker"], page["MaxKeys"]) == ("", "", 1000)


def test_list_object_versions_delimiter_and_pages(s3: Any, bucket: str) -> None:
    rolled = s3.list_object_versions(Bucket=bucket, Prefix="logs/", Delimiter="/")
    assert [v["Key"] for v in rolled["Versions"]] == ["logs/1.gz", "logs/2.gz"]
    assert rolled["CommonPrefixes"] == [{"Prefix": "logs/sub/"}]
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert [v["Key"] for v in first["Versions"]] == ["a.json", "logs/1.gz"]
    assert first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextVersionIdMarker"]) == ("logs/1.gz", "null")
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker=first["NextKeyMarker"],
                                   VersionIdMarker=first["NextVersionIdMarker"])
    assert [v["Key"] for v in rest["Versions"]] == ["logs/2.gz", "logs/sub/3.gz", "z"]
    keys = [v["Key"] for p in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}) for v in p.get("Versions", [])]
    assert keys == ["a.json", "logs/1.gz", "logs/2.gz", "logs/sub/3.gz", "z"]


def test_list_object_versions_marker_errors(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker="null")
    assert _error(exc) == (
        "InvalidArgument", "A version-id marker cannot be specified without a key marker.", 400)
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, KeyMarker="a.json", VersionIdMarker="v1")
    assert _error(exc) == ("InvalidArgument", "Invalid version id specified", 400)


def test_awscli_list_object_versions(server: Server, bucket: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=server.endpoint,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    out = subprocess.run([aws, "s3api",
                          "list-object-versions", "--bucket", bucket, "--prefix", "logs/sub/"],
                         env=env, capture_output=True, text=True, check=True)
    versions = json.loads(out.stdout)["Versions"]
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == [
        ("logs/sub/3.gz", "null", True)]


# -- GetObjectAttributes ------------------------------------------------------------------------


def test_get_object_attributes_of_a_simple_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="attr/simple", Body=b"hello", ChecksumAlgorithm="SHA256",
                  StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="attr/simple")
    got = s3.get_object_attributes(Bucket=bucket, Key="attr/simple", ObjectAttributes=[
        "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
    got.pop("ResponseMetadata")
    assert got == {
        "LastModified": head["LastModified"],
        "ETag": head["ETag"].strip('"'),
        "Checksum": {"ChecksumSHA256": "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
                     "ChecksumType": "FULL_OBJECT"},
        "StorageClass": "STANDARD_IA",
        "ObjectSize": 5,
    }
    only = s3.get_object_attributes(Bucket=bucket, Key="attr/simple", ObjectAttributes=["ObjectSize"])
    assert {k for k in only if k != "ResponseMetadata"} == {"LastModified", "ObjectSize"}
    s3.delete_object(Bucket=bucket, Key="attr/simple")


def test_get_object_attributes_of_a_multipart_object(s3: Any, bucket: str) -> None:
    key = "attr/multi"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 1024]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                      PartNumber=n, Body=b"x" * size)["ETag"]}
             for n, size in enumerate(sizes, 1)]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    got = s3.get_object_attributes(Bucket=bucket, Key=key, MaxParts=2,
                                   ObjectAttributes=["ObjectParts", "ETag", "ObjectSize"])
    assert got["ETag"].endswith("-3") and not got["ETag"].startswith('"')
    assert got["ObjectSize"] == sum(sizes)
    assert got["ObjectParts"] == {
        "TotalPartsCount": 3, "PartNumberMarker": 0, "NextPartNumberMarker": 2, "MaxParts": 2,
        "IsTruncated": True, "Parts": [{"PartNumber": 1, "Size": sizes[0]},
                                       {"PartNumber": 2, "Size": sizes[1]}]}
    rest = s3.get_object_attributes(Bucket=bucket, Key=key, PartNumberMarker=2,
                                    ObjectAttributes=["ObjectParts"])["ObjectParts"]
    assert rest["Parts"] == [{"PartNumber": 3, "Size": 1024}] and rest["IsTruncated"] is False
    s3.delete_object(Bucket=bucket, Key=key)


def test_get_object_attributes_errors(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="attr/none", ObjectAttributes=["ETag"])
    assert _error(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="a.json", ObjectAttributes=["Colour"])
    assert _error(exc) == ("InvalidArgument", "Invalid attribute name specified.", 400)


@pytest.mark.parametrize(("granted", "refused_action"), [
    (["s3:GetObjectAttributes"], "s3:GetObject"),
    (["s3:GetObject"], "s3:GetObjectAttributes"),
    (["s3:GetObject", "s3:GetObjectAttributes"], None),
])
def test_get_object_attributes_needs_both_actions(server: Server, bucket: str,
                                                  granted: list[str],
                                                  refused_action: str | None) -> None:
    iam = server.client("iam")
    name = f"attr-{uuid.uuid4().hex[:8]}"
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": granted,
                                                "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    if refused_action is None:
        got = client.get_object_attributes(Bucket=bucket, Key="z", ObjectAttributes=["ObjectSize"])
        assert got["ObjectSize"] == 1
        return
    with pytest.raises(ClientError) as exc:
        client.get_object_attributes(Bucket=bucket, Key="z", ObjectAttributes=["ObjectSize"])
    assert _error(exc) == (
        "AccessDenied",
        f"User: {user['Arn']} is not authorized to perform: {refused_action} on resource: "
        f'"arn:aws:s3:::{bucket}/z" because no identity-based policy allows the '
        f"{refused_action} action", 403)


# -- CORS and lifecycle rules: kept and returned ------------------------------------------------


def test_cors_rules_round_trip(s3: Any, bucket: str) -> None:
    rules = [{"ID": "console", "AllowedMethods": ["GET", "HEAD"],
              "AllowedOrigins": ["https://console.example.com"], "AllowedHeaders": ["*"],
              "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert _error(exc)[0] == "NoSuchCORSConfiguration"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]})
    assert _error(exc) == ("InvalidRequest", "Found unsupported HTTP method in CORS config. "
                           "Unsupported method is PATCH", 400)


LOG_RULES = [
    {"ID": "expire-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
     "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
     "Expiration": {"Days": 365}},
    {"ID": "abort-uploads", "Filter": {}, "Status": "Disabled",
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
]


def test_lifecycle_rules_round_trip(s3: Any, bucket: str) -> None:
    put = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": LOG_RULES})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == LOG_RULES
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(exc)[0] == "NoSuchLifecycleConfiguration"


@pytest.mark.parametrize(("rules", "expected"), [
    ([{"ID": "a", "Filter": {}, "Status": "Enabled"}],
     ("InvalidRequest", "At least one action needs to be specified in a rule")),
    ([{"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}},
      {"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 2}}],
     ("InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule")),
    ([{"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}],
     ("InvalidArgument", "'Days' for Expiration action must be a positive integer")),
    ([{"ID": "a", "Filter": {}, "Status": "Enabled",
       "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}],
     ("InvalidArgument",
      "'Days' in Transition action for StorageClass STANDARD_IA must be greater than or equal "
      "to 30")),
])
def test_lifecycle_rules_refused(s3: Any, bucket: str, rules: list[dict[str, Any]],
                                 expected: tuple[str, str]) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": rules})
    assert _error(exc) == (*expected, 400)
    with pytest.raises(ClientError) as exc:  # nothing was stored
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(exc)[0] == "NoSuchLifecycleConfiguration"
