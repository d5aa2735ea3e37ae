"""Audit 16 (S3 on a log reader's paths): ACL grants on buckets whose ACLs are enabled are
resource-based grants beside the bucket policy, as S3 weighs them."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from .scenario_setup import World
from .server import REGION, Server

DENIED = ("AccessDenied", "Access Denied", 403)
FORBIDDEN = ("403", "Forbidden", 403)
OPEN_PAB = {"BlockPublicAcls": False, "IgnorePublicAcls": False,
            "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
KEY = "AWSLogs/222222222222/CloudTrail/us-east-1/2026/11/30/f.json.gz"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def refused(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    return error_of(exc)


def anonymous_client(server: Server) -> Any:
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def why(who: str, action: str, resource: str, reason: str) -> tuple[str, str, int]:
    """S3's explained AccessDenied (the caller is of the owner's organization)."""
    return ("AccessDenied", f'User: {who} is not authorized to perform: {action} on resource: '
            f'"{resource}" {reason}', 403)


def keys_of(page: dict[str, Any]) -> list[str]:
    return [o["Key"] for o in page.get("Contents", [])]


def member_iam(world: World, party: str) -> Any:
    session = world.assume(
        world.admin,
        f"arn:aws:iam::{world.accounts[party]}:role/OrganizationAccountAccessRole", "audit16",
    )
    return world.client("iam", session)


def allow_user(iam: Any, user: str, name: str, actions: list[str]) -> None:
    iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }))


@pytest.fixture()
def writer_bucket(world: World) -> Iterator[tuple[Any, str]]:
    """A bucket of the management account with ACLs enabled (ObjectWriter), public access
    block lifted."""
    admin = world.client("s3", world.admin)
    name = f"tg-a16-acl-{uuid.uuid4().hex[:10]}"
    admin.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    admin.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
    yield admin, name
    admin.delete_bucket_policy(Bucket=name)
    admin.put_bucket_acl(Bucket=name, ACL="private")
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            admin.delete_object(Bucket=name, Key=obj["Key"])
    admin.delete_bucket(Bucket=name)


def test_public_read_acls_grant_anonymous_reads(
    world: World, writer_bucket: tuple[Any, str]
) -> None:
    admin, name = writer_bucket
    anonymous = anonymous_client(world.server)
    admin.put_object(Bucket=name, Key=KEY, Body=b"gz-bytes", ACL="public-read",
                     ContentEncoding="gzip", ContentType="application/json")
    admin.put_object(Bucket=name, Key="private.txt", Body=b"secret")
    odd = "odd/${aws:username}*?.gz"  # read as itself, not as a pattern
    admin.put_object(Bucket=name, Key=odd, Body=b"odd", ACL="public-read")
    assert anonymous.get_object(Bucket=name, Key=odd)["Body"].read() == b"odd"
    got = anonymous.get_object(Bucket=name, Key=KEY)
    assert (got["Body"].read(), got["ContentEncoding"]) == (b"gz-bytes", "gzip")
    assert anonymous.head_object(Bucket=name, Key=KEY)["ContentLength"] == 8
    assert refused(anonymous.get_object, Bucket=name, Key="private.txt") == DENIED
    # The object's READ is no bucket READ: listing stays refused, a missing key too.
    assert refused(anonymous.list_objects_v2, Bucket=name) == DENIED
    assert refused(anonymous.get_object, Bucket=name, Key="nope") == DENIED
    admin.put_bucket_acl(Bucket=name, ACL="public-read")
    assert keys_of(anonymous.list_objects_v2(Bucket=name)) == [KEY, odd, "private.txt"]
    assert keys_of(anonymous.list_objects(Bucket=name, Prefix="AWSLogs/")) == [KEY]
    # Bucket READ is no object READ, and no write.
    assert refused(anonymous.get_object, Bucket=name, Key="private.txt") == DENIED
    assert refused(anonymous.put_object, Bucket=name, Key="x", Body=b"x") == DENIED
    assert refused(anonymous.get_bucket_acl, Bucket=name) == DENIED
    # IgnorePublicAcls: the public grants count no more.
    admin.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        **OPEN_PAB, "IgnorePublicAcls": True})
    assert refused(anonymous.get_object, Bucket=name, Key=KEY) == DENIED
    assert refused(anonymous.head_object, Bucket=name, Key=KEY) == FORBIDDEN
    assert refused(anonymous.list_objects_v2, Bucket=name) == DENIED
    admin.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
    assert anonymous.get_object(Bucket=name, Key=KEY)["Body"].read() == b"gz-bytes"
    # ACLs disabled (BucketOwnerEnforced): only policies decide.
    admin.put_bucket_acl(Bucket=name, ACL="private")
    admin.put_bucket_ownership_controls(Bucket=name, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert refused(anonymous.get_object, Bucket=name, Key=KEY) == DENIED


def test_an_acl_grant_to_another_account_still_needs_its_identity_allow(
    world: World, writer_bucket: tuple[Any, str]
) -> None:
    admin, name = writer_bucket
    e_iam = member_iam(world, "E")
    allow_user(e_iam, "e-user", "a16-list", ["s3:ListAllMyBuckets"])
    e_user = world.client("s3", world.users["E"])
    try:
        e_id = e_user.list_buckets()["Owner"]["ID"]
        admin.put_object(Bucket=name, Key=KEY, Body=b"for-e", GrantRead=f'id="{e_id}"')
        who = f"arn:aws:iam::{world.accounts['E']}:user/e-user"
        assert refused(e_user.get_object, Bucket=name, Key=KEY) == why(
            who, "s3:GetObject", f"arn:aws:s3:::{name}/{KEY}",
            "because no identity-based policy allows the s3:GetObject action")
        allow_user(e_iam, "e-user", "a16-read", ["s3:GetObject"])
        assert e_user.get_object(Bucket=name, Key=KEY)["Body"].read() == b"for-e"
        # A grant to the account is no grant to anyone else.
        admin.put_object(Bucket=name, Key="other", Body=b"o")
        assert refused(e_user.get_object, Bucket=name, Key="other") == why(
            who, "s3:GetObject", f"arn:aws:s3:::{name}/other",
            "because no resource-based policy allows the s3:GetObject action")
        # A bucket-policy Deny outweighs the ACL's grant.
        admin.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": {"AWS": world.accounts["E"]},
                "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]}))
        assert refused(e_user.get_object, Bucket=name, Key=KEY) == why(
            who, "s3:GetObject", f"arn:aws:s3:::{name}/{KEY}",
            "with an explicit deny in a resource-based policy")
    finally:
        for policy in ("a16-list", "a16-read"):
            with contextlib.suppress(ClientError):
                e_iam.delete_user_policy(UserName="e-user", PolicyName=policy)


def test_an_object_of_another_owner_is_granted_by_its_acl_not_the_bucket_policy(
    world: World, writer_bucket: tuple[Any, str]
) -> None:
    admin, name = writer_bucket
    e_account = world.accounts["E"]
    e_iam = member_iam(world, "E")
    allow_user(e_iam, "e-user", "a16-write", ["s3:PutObject", "s3:GetObject"])
    e_user = world.client("s3", world.users["E"])
    writes = {"Effect": "Allow", "Principal": {"AWS": e_account}, "Action": "s3:PutObject",
              "Resource": f"arn:aws:s3:::{name}/*"}
    admin.put_bucket_policy(Bucket=name, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [writes]}))
    try:
        e_user.put_object(Bucket=name, Key="by-e", Body=b"E's")
        e_user.put_object(Bucket=name, Key="handed", Body=b"handed over",
                          ACL="bucket-owner-full-control")
        admin.put_object(Bucket=name, Key="own", Body=b"own")
        # E owns "by-e": the bucket owner's administrator reads neither it nor its ACL.
        for call, code in ((admin.get_object, "AccessDenied"), (admin.head_object, "403"),
                           (admin.get_object_acl, "AccessDenied")):
            assert refused(call, Bucket=name, Key="by-e")[::2] == (code, 403)
        # A grant of FULL_CONTROL to the bucket owner opens it; the owner's own objects as ever.
        assert admin.get_object(Bucket=name, Key="handed")["Body"].read() == b"handed over"
        assert admin.get_object(Bucket=name, Key="own")["Body"].read() == b"own"
        # E reads its own object through its identity policy alone...
        assert e_user.get_object(Bucket=name, Key="by-e")["Body"].read() == b"E's"
        # ...but not what the bucket owner owns, nor past a Deny of the bucket policy.
        assert refused(e_user.get_object, Bucket=name, Key="own")[::2] == ("AccessDenied", 403)
        admin.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [writes, {
                "Effect": "Deny", "Principal": {"AWS": e_account}, "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/by-*"}]}))
        assert refused(e_user.get_object, Bucket=name, Key="by-e")[::2] == ("AccessDenied", 403)
    finally:
        e_iam.delete_user_policy(UserName="e-user", PolicyName="a16-write")
