"""S3 access checks as AWS makes them: who may read what (anonymous overrides, HeadBucket's region
on a refusal), unknown keys, ACL grants, bucket policies' principals and the condition keys S3
takes from the request and the object."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_s3_api import empty_bucket, error_of, unique


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = unique("tg-fid-access")
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("grant", ['id="abc"', "id=82a31e6c", 'id="' + "g" * 64 + '"'])
def test_grant_to_a_malformed_canonical_id(s3: Any, grant: str) -> None:
    name = unique("tg-fid-acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
        with pytest.raises(ClientError) as exc:
            s3.put_object_acl(Bucket=name, Key="k", GrantRead=grant)
        assert error_of(exc) == ("InvalidArgument", "Invalid id", 400)
        value = grant.split("=", 1)[1].strip('"')
        assert exc.value.response["Error"]["ArgumentName"] == "CanonicalUser/ID"
        assert exc.value.response["Error"]["ArgumentValue"] == value
        owner = s3.get_object_acl(Bucket=name, Key="k")["Owner"]["ID"]
        s3.put_object_acl(Bucket=name, Key="k", GrantRead=f'id="{owner}"')
    finally:
        s3.delete_object(Bucket=name, Key="k")
        s3.delete_bucket(Bucket=name)


def test_anonymous_get_may_not_override_response_headers(s3: Any) -> None:
    name = unique("tg-fid-pub")
    s3.create_bucket(Bucket=name)
    try:
        s3.delete_public_access_block(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{name}/*"}]}))
        s3.put_object(Bucket=name, Key="pub.txt", Body=b"public")
        url = f"{s3.meta.endpoint_url}/{name}/pub.txt"
        with urllib.request.urlopen(url) as plain:
            assert plain.read() == b"public"
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url + "?response-content-type=text/plain")
        body = exc.value.read().decode()
        assert exc.value.code == 400
        assert "<Code>InvalidRequest</Code><Message>Request specific response headers cannot be " \
            "used for anonymous GET requests.</Message>" in body
        signed = s3.generate_presigned_url("get_object", Params={
            "Bucket": name, "Key": "pub.txt", "ResponseContentType": "text/plain"})
        with urllib.request.urlopen(signed) as got:
            assert got.headers["Content-Type"] == "text/plain"
    finally:
        empty_bucket(s3, name)
        s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize(("acl", "expected"), [
    ("public-read", ("InvalidBucketAclWithBlockPublicAccessError",
                     "Bucket cannot have public ACLs set with BlockPublicAccess enabled", 400)),
    ("authenticated-read", ("InvalidBucketAclWithBlockPublicAccessError",
                            "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
                            400)),
])
def test_create_bucket_with_a_public_acl(
    s3: Any, acl: str, expected: tuple[str, str, int]
) -> None:
    name = unique("tg-fid-acl")
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, ACL=acl, ObjectOwnership="ObjectWriter")
    assert error_of(exc) == expected
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.create_bucket(Bucket=name, ACL="private", ObjectOwnership="ObjectWriter")
    s3.delete_bucket(Bucket=name)


def test_head_bucket_names_the_region_even_when_it_refuses(s3: Any, bucket: str) -> None:
    url = f"{s3.meta.endpoint_url}/{bucket}"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"))
    assert exc.value.code == 403
    assert exc.value.headers["x-amz-bucket-region"] == "us-east-1"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(urllib.request.Request(url + "-missing-zz", method="HEAD"))
    assert exc.value.code == 404 and exc.value.headers["x-amz-bucket-region"] is None


def test_unknown_access_key_is_named(server: Server, bucket: str) -> None:
    for key in ("AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"):
        stranger = server.client("s3", key=key, secret="not-a-secret")
        with pytest.raises(ClientError) as exc:
            stranger.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
        assert error_of(exc) == (
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
            "records.", 403,
        )
        assert exc.value.response["Error"]["AWSAccessKeyId"] == key


def test_bucket_policy_conditions_on_request_headers(s3: Any) -> None:
    name = unique("tg-fid-cond")
    s3.create_bucket(Bucket=name)
    deny = [
        {"Sid": "RequireSSE", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{name}/sse/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}},
        {"Sid": "RequireTeamTag", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{name}/tagged/*",
         "Condition": {"StringNotEquals": {"s3:RequestObjectTag/Team": "audit"}}},
        {"Sid": "NoColdCopies", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{name}/copies/*",
         "Condition": {"StringEquals": {"s3:x-amz-storage-class": "GLACIER"},
                       "StringLike": {"s3:x-amz-copy-source": f"{name}/src/*"}}},
    ]
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17",
                                                         "Statement": deny}))
    try:
        denied = [
            lambda: s3.put_object(Bucket=name, Key="sse/a", Body=b"x"),
            lambda: s3.put_object(Bucket=name, Key="tagged/a", Body=b"x", Tagging="team=other"),
            lambda: s3.put_object(Bucket=name, Key="tagged/a", Body=b"x"),
            lambda: s3.copy_object(Bucket=name, Key="copies/a", CopySource=f"{name}/src/k",
                                   StorageClass="GLACIER"),
        ]
        s3.put_object(Bucket=name, Key="src/k", Body=b"x")
        for call in denied:
            with pytest.raises(ClientError) as exc:
                call()
            assert error_of(exc)[0::2] == ("AccessDenied", 403)
        s3.put_object(Bucket=name, Key="sse/a", Body=b"x", ServerSideEncryption="AES256")
        s3.put_object(Bucket=name, Key="tagged/a", Body=b"x", Tagging="Team=audit")
        s3.copy_object(Bucket=name, Key="copies/a", CopySource=f"{name}/src/k",
                       StorageClass="STANDARD_IA")
    finally:
        s3.delete_bucket_policy(Bucket=name)
        empty_bucket(s3, name)
        s3.delete_bucket(Bucket=name)


def test_identity_policy_on_existing_object_tags(server: Server, s3: Any, bucket: str) -> None:
    iam: Any = server.client("iam")
    user = unique("tg-fid-abac")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="public-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                       "Condition": {"StringEqualsIfExists": {
                           "s3:ExistingObjectTag/classification": "public"}}}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        s3.put_object(Bucket=bucket, Key="abac/open", Body=b"open", Tagging="classification=public")
        s3.put_object(Bucket=bucket, Key="abac/closed", Body=b"closed",
                      Tagging="classification=secret")
        reader: Any = server.client("s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert reader.get_object(Bucket=bucket, Key="abac/open")["Body"].read() == b"open"
        with pytest.raises(ClientError) as exc:
            reader.get_object(Bucket=bucket, Key="abac/closed")
        assert error_of(exc)[0::2] == ("AccessDenied", 403)
        with pytest.raises(ClientError) as exc:
            reader.get_object(Bucket=bucket, Key="abac/missing")
        assert error_of(exc)[0::2] == ("NoSuchKey", 404)
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=user, PolicyName="public-only")
        iam.delete_user(UserName=user)


def test_bucket_policy_principals_must_exist(server: Server, s3: Any, bucket: str) -> None:
    iam: Any = server.client("iam")
    user = unique("tg-fid-principal")
    iam.create_user(UserName=user, Path="/team/")
    account = iam.get_user(UserName=user)["User"]["Arn"].split(":")[4]

    def policy(principal: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*"}]})

    try:
        for principal in (f"arn:aws:iam::{account}:user/nobody-{user}",
                          f"arn:aws:iam::{account}:role/no-such-role-{user}"):
            with pytest.raises(ClientError) as exc:
                s3.put_bucket_policy(Bucket=bucket, Policy=policy(principal))
            assert error_of(exc) == ("MalformedPolicy", "Invalid principal in policy", 400)
        for principal in (f"arn:aws:iam::{account}:user/team/{user}", "222233334444",
                          "arn:aws:iam::222233334444:root"):
            s3.put_bucket_policy(Bucket=bucket, Policy=policy(principal))
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
        iam.delete_user(UserName=user)
