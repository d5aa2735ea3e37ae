"""S3 details that boto3 users and the AWS CLI's high-level commands run into, checked against
AWS's documented answers: copies and their tags, bucket re-creation, conditional and ranged
reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .scenario_setup import World
from .server import Server
from .test_s3_api import empty_bucket, error_of, unique


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-aud")
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def tags_of(s3: Any, bucket: str, key: str) -> dict[str, str]:
    found = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in found}


def test_copy_keeps_tags_unless_the_tagging_directive_replaces_them(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="tags/src", Body=b"x", Tagging="team=a&tier=1")
    source = {"Bucket": bucket, "Key": "tags/src"}
    # REPLACE of the metadata leaves the tags to the (default COPY) tagging directive.
    s3.copy_object(Bucket=bucket, Key="tags/meta", CopySource=source,
                   MetadataDirective="REPLACE", Metadata={"m": "1"})
    assert tags_of(s3, bucket, "tags/meta") == {"team": "a", "tier": "1"}
    assert s3.head_object(Bucket=bucket, Key="tags/meta")["Metadata"] == {"m": "1"}
    s3.copy_object(Bucket=bucket, Key="tags/both", CopySource=source,
                   MetadataDirective="REPLACE", TaggingDirective="REPLACE", Tagging="new=yes")
    assert tags_of(s3, bucket, "tags/both") == {"new": "yes"}
    s3.copy_object(Bucket=bucket, Key="tags/cleared", CopySource=source,
                   TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "tags/cleared") == {}


def test_recreating_a_bucket_in_us_east_1(s3: Any, world: World) -> None:
    name = unique("tg-again")
    s3.create_bucket(Bucket=name)
    try:
        # One's own bucket again: us-east-1's legacy 200 OK (other regions: 409).
        again = s3.create_bucket(Bucket=name)
        assert (again["ResponseMetadata"]["HTTPStatusCode"], again["Location"]) == (
            200, f"/{name}"
        )
        account = world.accounts["E"]
        keys = world.assume(
            world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")
        with pytest.raises(ClientError) as exc:
            world.client("s3", keys).create_bucket(Bucket=name)
        assert error_of(exc) == (
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all "
            "users of the system. Please select a different name and try again.",
            409,
        )
        assert exc.value.response["Error"]["BucketName"] == name
    finally:
        s3.delete_bucket(Bucket=name)


def test_conditional_delete_object(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="cdel/a", Body=b"keep?")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="cdel/a", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert error_of(exc) == (
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412
    )
    assert exc.value.response["Error"]["Condition"] == "If-Match"
    assert s3.get_object(Bucket=bucket, Key="cdel/a")["Body"].read() == b"keep?"
    deleted = s3.delete_object(Bucket=bucket, Key="cdel/a", IfMatch=etag)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="cdel/a", IfMatch="*")
    assert error_of(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    s3.put_object(Bucket=bucket, Key="cdel/b", Body=b"b")
    assert s3.delete_object(Bucket=bucket, Key="cdel/b", IfMatch="*")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204


def test_conditional_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("cdels/a", "cdels/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "cdels/a", "ETag": '"0123456789abcdef0123456789abcdef"'},
        {"Key": "cdels/b", "ETag": "*"},
        {"Key": "cdels/plain"},
    ]})
    assert [d["Key"] for d in out["Deleted"]] == ["cdels/b", "cdels/plain"]
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("cdels/a", "PreconditionFailed")]
    assert s3.get_object(Bucket=bucket, Key="cdels/a")["Body"].read() == b"cdels/a"


def test_not_modified_names_the_object(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="nm/a", Body=b"same")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="nm/a")["ResponseMetadata"]["HTTPHeaders"]
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as exc:
            call(Bucket=bucket, Key="nm/a", IfNoneMatch=etag)
        assert error_of(exc)[::2] == ("304", 304)
        headers = exc.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert (headers["etag"], headers["last-modified"]) == (etag, head["last-modified"])


def test_customer_key_on_a_read_of_an_sse_s3_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="ssec/a", Body=b"a")
    key = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32}
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="ssec/a", **key)
    assert error_of(exc) == (
        "InvalidRequest", "The encryption parameters are not applicable to this object.", 400
    )
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="ssec/a", **key)
    assert error_of(exc) == ("400", "Bad Request", 400)


def test_an_archived_object_cannot_be_copied(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold/src", Body=b"frozen", StorageClass="DEEP_ARCHIVE")
    expected = (
        "InvalidObjectState", "Operation is not valid for the source object's storage class", 403
    )
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="cold/dst", CopySource=f"{bucket}/cold/src")
    assert error_of(exc) == expected
    uid = s3.create_multipart_upload(Bucket=bucket, Key="cold/mp")["UploadId"]
    try:
        with pytest.raises(ClientError) as exc:
            s3.upload_part_copy(Bucket=bucket, Key="cold/mp", UploadId=uid, PartNumber=1,
                                CopySource=f"{bucket}/cold/src")
        assert error_of(exc) == expected
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="cold/mp", UploadId=uid)


def _deny_unless(action: str, resource: str, key: str, **extra: dict[str, str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource,
            "Condition": {"Null": {key: "true"}, **extra}}


def test_bucket_policy_enforcing_conditional_writes_and_deletes(s3: Any) -> None:
    name = unique("tg-cond")
    s3.create_bucket(Bucket=name)
    try:
        objects = f"arn:aws:s3:::{name}/*"
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            # Multipart steps take no conditional header: s3:ObjectCreationOperation exempts them.
            _deny_unless("s3:PutObject", objects, "s3:if-none-match",
                         Bool={"s3:ObjectCreationOperation": "true"}),
            _deny_unless("s3:DeleteObject", objects, "s3:if-match"),
        ]}))
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=name, Key="k", Body=b"x")
        assert error_of(exc)[::2] == ("AccessDenied", 403)
        etag = s3.put_object(Bucket=name, Key="k", Body=b"x", IfNoneMatch="*")["ETag"]
        uid = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
        part = s3.upload_part(Bucket=name, Key="mp", UploadId=uid, PartNumber=1, Body=b"p")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=uid,
                                         MultipartUpload=parts)
        assert error_of(exc)[::2] == ("AccessDenied", 403)
        s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=uid, MultipartUpload=parts,
                                     IfNoneMatch="*")
        with pytest.raises(ClientError) as exc:
            s3.delete_object(Bucket=name, Key="k")
        assert error_of(exc)[::2] == ("AccessDenied", 403)
        out = s3.delete_objects(Bucket=name, Delete={"Objects": [
            {"Key": "k"}, {"Key": "mp", "ETag": "*"}]})
        assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("k", "AccessDenied")]
        assert [d["Key"] for d in out["Deleted"]] == ["mp"]
        s3.delete_object(Bucket=name, Key="k", IfMatch=etag)
    finally:
        s3.delete_bucket_policy(Bucket=name)
        empty_bucket(s3, name)
        s3.delete_bucket(Bucket=name)


def test_a_delete_conditional_on_an_etag_needs_get_object(
    s3: Any, bucket: str, iam: Any, server: Server
) -> None:
    user = unique("tg-deleter")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="delete-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:DeleteObject",
                       "Resource": f"arn:aws:s3:::{bucket}/gate/*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        deleter: Any = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        etag = s3.put_object(Bucket=bucket, Key="gate/a", Body=b"a")["ETag"]
        with pytest.raises(ClientError) as exc:
            deleter.delete_object(Bucket=bucket, Key="gate/a", IfMatch=etag)
        assert error_of(exc)[::2] == ("AccessDenied", 403)
        assert "s3:GetObject" in error_of(exc)[1]
        s3.put_object(Bucket=bucket, Key="gate/b", Body=b"b")
        out = deleter.delete_objects(Bucket=bucket, Delete={"Objects": [
            {"Key": "gate/a", "ETag": etag}, {"Key": "gate/b", "ETag": "*"}]})
        assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("gate/a", "AccessDenied")]
        assert [d["Key"] for d in out["Deleted"]] == ["gate/b"]
        deleter.delete_object(Bucket=bucket, Key="gate/a", IfMatch="*")  # existence only
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=user, PolicyName="delete-only")
        iam.delete_user(UserName=user)
