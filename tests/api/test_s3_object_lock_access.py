"""S3 Object Lock's authorization through a real server: the Object Lock actions (one each
for a bucket's configuration and a version's retention and legal hold), the lock actions a
write asking for a lock also needs, the read permissions HeadObject / GetObject need to show
a version's lock, the ``s3:object-lock-*`` condition keys, and the two actions CreateBucket
with Object Lock also needs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_s3_api import error_of, status, unique
from .test_s3_object_lock import default_bucket, later


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture()
def locked_bucket(s3: Any) -> str:
    name = unique("tg-lock-auth")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _user(server: Server, statements: list[dict[str, Any]]) -> tuple[Any, str]:
    iam = server.client("iam")
    name = unique("lock-perm")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("s3", key["AccessKeyId"], key["SecretAccessKey"]), arn


@pytest.mark.parametrize(("call", "kwargs", "action", "target"), [
    ("put_object_retention", {"Key": "k", "Retention": {"Mode": "GOVERNANCE",
                                                        "RetainUntilDate": "later"}},
     "s3:PutObjectRetention", "/k"),
    ("get_object_retention", {"Key": "k"}, "s3:GetObjectRetention", "/k"),
    ("put_object_legal_hold", {"Key": "k", "LegalHold": {"Status": "ON"}},
     "s3:PutObjectLegalHold", "/k"),
    ("get_object_legal_hold", {"Key": "k"}, "s3:GetObjectLegalHold", "/k"),
    ("put_object_lock_configuration", {"ObjectLockConfiguration": {
        "ObjectLockEnabled": "Enabled"}}, "s3:PutBucketObjectLockConfiguration", ""),
    ("get_object_lock_configuration", {}, "s3:GetBucketObjectLockConfiguration", ""),
])
def test_object_lock_actions(
    server: Server, s3: Any, locked_bucket: str, call: str, kwargs: dict[str, Any],
    action: str, target: str,
) -> None:
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")
    resources = [f"arn:aws:s3:::{locked_bucket}", f"arn:aws:s3:::{locked_bucket}/*"]
    client, arn = _user(server, [{"Effect": "Allow", "Action": "s3:*", "Resource": resources},
                                 {"Effect": "Deny", "Action": action, "Resource": resources}])
    retention = kwargs.get("Retention")
    if retention is not None:
        kwargs = {**kwargs, "Retention": {**retention, "RetainUntilDate": later(days=1)}}
    with pytest.raises(ClientError) as exc:
        getattr(client, call)(Bucket=locked_bucket, **kwargs)
    assert error_of(exc) == (
        "AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: "
        f'"arn:aws:s3:::{locked_bucket}{target}" with an explicit deny in an identity-based '
        "policy", 403)


def test_a_write_asking_for_a_lock_needs_the_lock_actions(server: Server, s3: Any) -> None:
    bucket = default_bucket(s3)
    client, arn = _user(server, [{"Effect": "Allow", "Action": "s3:PutObject",
                                  "Resource": f"arn:aws:s3:::{bucket}/*"}])
    assert status(client.put_object(Bucket=bucket, Key="k", Body=b"x")) == 200  # the default
    asks: list[tuple[dict[str, Any], str]] = [
        ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": later(days=1)},
         "s3:PutObjectRetention"),
        ({"ObjectLockLegalHoldStatus": "OFF"}, "s3:PutObjectLegalHold"),
    ]
    for headers, action in asks:
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=bucket, Key="k", Body=b"x", **headers)
        assert error_of(exc) == (
            "AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: "
            f'"arn:aws:s3:::{bucket}/k" because no identity-based policy allows the {action} '
            "action", 403)


def test_lock_headers_shown_only_with_the_read_permissions(
    server: Server, s3: Any, locked_bucket: str
) -> None:
    s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=later(days=1), ObjectLockLegalHoldStatus="ON")
    reader, _ = _user(server, [{"Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{locked_bucket}/*"}])
    head = reader.head_object(Bucket=locked_bucket, Key="k")
    assert not {"ObjectLockMode", "ObjectLockRetainUntilDate",
                "ObjectLockLegalHoldStatus"} & set(head)
    holder, _ = _user(server, [{"Effect": "Allow",
                                "Action": ["s3:GetObject", "s3:GetObjectLegalHold"],
                                "Resource": f"arn:aws:s3:::{locked_bucket}/*"}])
    head = holder.get_object(Bucket=locked_bucket, Key="k")
    assert head["ObjectLockLegalHoldStatus"] == "ON" and "ObjectLockMode" not in head


def test_condition_keys_limit_the_retention(server: Server, s3: Any,
                                            locked_bucket: str) -> None:
    """A policy that caps retention at 30 days (S3's documented use of
    s3:object-lock-remaining-retention-days) and allows only GOVERNANCE."""
    objects = f"arn:aws:s3:::{locked_bucket}/*"
    client, _ = _user(server, [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectRetention"],
         "Resource": objects},
        {"Effect": "Deny", "Action": ["s3:PutObject", "s3:PutObjectRetention"],
         "Resource": objects,
         "Condition": {"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": "30"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": objects,
         "Condition": {"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": objects,
         "Condition": {"StringEquals": {"s3:object-lock-legal-hold": "ON"}}},
    ])
    put = {"Bucket": locked_bucket, "Key": "k", "Body": b"x"}
    assert status(client.put_object(**put, ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=later(days=10))) == 200
    refused = [
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": later(days=40)},
        {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": later(days=10)},
        {"ObjectLockLegalHoldStatus": "ON"},
    ]
    for headers in refused:
        with pytest.raises(ClientError) as exc:
            client.put_object(**put, **headers)
        assert error_of(exc)[0] == "AccessDenied", headers
    with pytest.raises(ClientError) as exc:
        client.put_object_retention(Bucket=locked_bucket, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": later(days=60)})
    assert error_of(exc)[0] == "AccessDenied"
    assert status(client.put_object_retention(Bucket=locked_bucket, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": later(days=20)})) == 200


def test_creating_a_lock_bucket_needs_the_lock_and_versioning_actions(server: Server) -> None:
    client, arn = _user(server, [
        {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:PutBucketVersioning"],
         "Resource": "*"}])
    name = unique("tg-lock-perm")
    with pytest.raises(ClientError) as exc:
        client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert error_of(exc) == (
        "AccessDenied", f"User: {arn} is not authorized to perform: "
        f's3:PutBucketObjectLockConfiguration on resource: "arn:aws:s3:::{name}" because no '
        "identity-based policy allows the s3:PutBucketObjectLockConfiguration action", 403)
    assert status(client.create_bucket(Bucket=name)) == 200  # without Object Lock: allowed
