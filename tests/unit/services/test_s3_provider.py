"""S3Provider driven directly over a real SqliteStore and BlobStore in a temporary directory.

The harness runs an operation the way the gateway does: ``prepare_<Op>`` first (outside the
transaction), then the method in ``write_sync`` (or ``read``), ``discard()`` on failure and the
``__after_commit`` actions after a successful commit.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailgate.gateway.context import Principal
from trailgate.protocol import checksums
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.s3 import S3Provider, queries
from trailgate.services.s3.buckets import bucket_name_ok
from trailgate.services.s3.common import NS, blob_ref, canonical_id, objects_kind
from trailgate.services.s3.listing import list_page
from trailgate.store.blobs import BlobStore
from trailgate.store.interface import Entity, Tx
from trailgate.store.sqlite import SqliteStore

ACCT = "111111111111"
OTHER = "222222222222"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
MiB = 1024 * 1024
READ_PREFIXES = ("Get", "Head", "List")


def root(account: str = ACCT) -> Principal:
    return Principal(
        kind="root", arn=f"arn:aws:iam::{account}:root", account=account, user_id=account
    )


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc64nvme_b64(data: bytes) -> str:
    return checksums.encode(checksums.compute("CRC64NVME", data))


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class FileBody:
    """A RequestBody as the HTTP adapter makes it: spooled to a file, hashes known."""

    def __init__(self, data: bytes, directory: Path) -> None:
        fd, name = tempfile.mkstemp(dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        self.path = Path(name)
        self.size = len(data)
        self.md5_hex = md5_hex(data)
        self.sha256_hex = hashlib.sha256(data).hexdigest()

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        with self.open() as fh:
            while chunk := fh.read(chunk_size):
                yield chunk


class Harness:
    def __init__(self, root_dir: Path, *, region: str = "us-east-1", reader: bool = True) -> None:
        self.dir = root_dir
        self.store = SqliteStore.open(root_dir / "db" / "trailgate.db")
        self.blobs = BlobStore(root_dir / "blobs")
        self.s3 = S3Provider(self.blobs, region, read=self.store.read if reader else None)
        self.region = region
        self.now = NOW

    def close(self) -> None:
        self.store.close()

    def __call__(
        self, op: str, *, account: str = ACCT, principal: Principal | None = None, **params: Any
    ) -> dict[str, Any]:
        call = Call(account, principal or root(account), params, self.region, "req-1", self.now)
        prepare = getattr(self.s3, f"prepare_{op}", None)
        if prepare is not None:
            call = replace(call, prepared=prepare(call))
        method = getattr(self.s3, op)
        try:
            if op.startswith(READ_PREFIXES):
                result: dict[str, Any] = self.store.read(lambda tx: method(call, tx))
            else:
                result = self.store.write_sync(lambda tx: method(call, tx))
        except BaseException:
            discard = getattr(call.prepared, "discard", None)
            if discard is not None:
                discard()
            raise
        for action in result.pop("__after_commit", []):
            action()
        return result

    def error(self, op: str, *, account: str = ACCT, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self(op, account=account, **params)
        return info.value

    def body(self, bucket: str, key: str, **params: Any) -> bytes:
        out = self("GetObject", Bucket=bucket, Key=key, **params)
        return b"".join(out["Body"])

    def blob_files(self) -> set[str]:
        return {
            p.name
            for d in self.blobs.root.iterdir()
            if d.is_dir() and d.name != "tmp"
            for p in d.iterdir()
        }

    def record(self, bucket: str, key: str) -> dict[str, Any] | None:
        return self.store.read(lambda tx: tx.get(NS, objects_kind(bucket), key))

    def seed(self, bucket: str, keys: list[str]) -> None:
        """Object records written directly (listing tests need many keys, not their bytes)."""

        def fn(tx: Tx) -> None:
            for key in keys:
                tx.put(
                    NS,
                    objects_kind(bucket),
                    key,
                    key,
                    {
                        "Key": key,
                        "Size": 1,
                        "ETag": '"x"',
                        "LastModified": "2026-01-01T00:00:00.000+00:00",
                        "Owner": ACCT,
                        "StorageClass": "STANDARD",
                        "BlobId": "",
                    },
                )

        self.store.write_sync(fn)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def bucket(s3: Harness) -> str:
    s3("CreateBucket", Bucket="logs")
    return "logs"


# -- bucket names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("abc", True),
        ("trail-bucket", True),
        ("my.bucket.name", True),
        ("a1-b2.c3", True),
        ("1bucket", True),
        ("a" * 63, True),
        ("ab", False),
        ("a" * 64, False),
        ("Bucket", False),
        ("bucket_name", False),
        ("-bucket", False),
        ("bucket-", False),
        (".bucket", False),
        ("bucket.", False),
        ("my..bucket", False),
        ("my-.bucket", False),
        ("my.-bucket", False),
        ("192.168.5.4", False),
        ("xn--bucket", False),
        ("sthree-bucket", False),
        ("bucket-s3alias", False),
        ("bucket--ol-s3", False),
        ("my bucket", False),
        ("bücket", False),
        ("", False),
    ],
)
def test_bucket_names(s3: Harness, name: str, valid: bool) -> None:
    assert bucket_name_ok(name) is valid
    if valid:
        assert s3("CreateBucket", Bucket=name) == {"Location": f"/{name}"}
    else:
        err = s3.error("CreateBucket", Bucket=name)
        assert (err.code, err.status, err.message) == (
            "InvalidBucketName",
            400,
            "The specified bucket is not valid.",
        )
        assert err.extra == {"BucketName": name}


@pytest.mark.parametrize(
    ("region", "constraint", "code"),
    [
        ("us-east-1", None, None),
        ("us-east-1", "", None),
        ("us-east-1", "us-east-1", "InvalidLocationConstraint"),
        ("us-east-1", "eu-west-1", "IllegalLocationConstraintException"),
        ("us-east-1", "nowhere", "InvalidLocationConstraint"),
        ("eu-west-1", "eu-west-1", None),
        ("eu-west-1", "EU", None),
        ("eu-west-1", None, "IllegalLocationConstraintException"),
        ("eu-west-1", "us-west-2", "IllegalLocationConstraintException"),
        ("eu-west-1", "bogus", "InvalidLocationConstraint"),
    ],
)
def test_location_constraints(
    tmp_path: Path, region: str, constraint: str | None, code: str | None
) -> None:
    s3 = Harness(tmp_path, region=region)
    try:
        params: dict[str, Any] = {"Bucket": "b-1"}
        if constraint is not None:
            params["CreateBucketConfiguration"] = {"LocationConstraint": constraint}
        if code is None:
            s3("CreateBucket", **params)
            location = s3("GetBucketLocation", Bucket="b-1")["LocationConstraint"]
            assert location == (None if region == "us-east-1" else region)
            head = s3("HeadBucket", Bucket="b-1")
            assert head["BucketRegion"] == region
            assert head["__headers"] == {"x-amz-bucket-region": region}
            return
        err = s3.error("CreateBucket", **params)
        assert (err.code, err.status) == (code, 400)
        if code == "IllegalLocationConstraintException":
            shown = constraint or "unspecified"
            assert err.message == (
                f"The {shown} location constraint is incompatible for the region specific "
                "endpoint this request was sent to."
            )
        else:
            assert err.message == "The specified location-constraint is not valid"
    finally:
        s3.close()


def test_recreating_ones_own_bucket_outside_us_east_1(tmp_path: Path) -> None:
    s3 = Harness(tmp_path, region="eu-west-1")
    try:
        config = {"LocationConstraint": "eu-west-1"}
        s3("CreateBucket", Bucket="alpha", CreateBucketConfiguration=config)
        err = s3.error("CreateBucket", Bucket="alpha", CreateBucketConfiguration=config)
        assert (err.code, err.status, err.extra) == (
            "BucketAlreadyOwnedByYou",
            409,
            {"BucketName": "alpha"},
        )
        err = s3.error("CreateBucket", Bucket="alpha", CreateBucketConfiguration=config,
                       account=OTHER)
        assert (err.code, err.status) == ("BucketAlreadyExists", 409)
    finally:
        s3.close()


def test_bucket_lifecycle(s3: Harness) -> None:
    s3("CreateBucket", Bucket="alpha")
    s3("CreateBucket", Bucket="beta")
    s3("CreateBucket", Bucket="gamma", account=OTHER)
    # us-east-1's legacy answer to re-creating one's own bucket is 200 OK.
    assert s3("CreateBucket", Bucket="alpha") == {"Location": "/alpha"}
    err = s3.error("CreateBucket", Bucket="alpha", account=OTHER)
    assert (err.code, err.status) == ("BucketAlreadyExists", 409)

    listed = s3("ListBuckets")
    assert [b["Name"] for b in listed["Buckets"]] == ["alpha", "beta"]
    assert listed["Buckets"][0]["CreationDate"] == NOW.replace(microsecond=0)
    owner = listed["Owner"]
    assert owner == {"ID": canonical_id(ACCT)}
    assert len(owner["ID"]) == 64 and int(owner["ID"], 16) >= 0
    assert canonical_id(ACCT) == canonical_id(ACCT) != canonical_id(OTHER)
    assert [b["Name"] for b in s3("ListBuckets", account=OTHER)["Buckets"]] == ["gamma"]
    page = s3("ListBuckets", MaxBuckets=1)
    assert [b["Name"] for b in page["Buckets"]] == ["alpha"]
    page = s3("ListBuckets", MaxBuckets=1, ContinuationToken=page["ContinuationToken"])
    assert [b["Name"] for b in page["Buckets"]] == ["beta"]
    assert "ContinuationToken" not in page
    assert [b["Name"] for b in s3("ListBuckets", Prefix="b")["Buckets"]] == ["beta"]

    s3("PutObject", Bucket="alpha", Key="k", Body=b"x")
    err = s3.error("DeleteBucket", Bucket="alpha")
    assert (err.code, err.status, err.message) == (
        "BucketNotEmpty",
        409,
        "The bucket you tried to delete is not empty",
    )
    s3("DeleteObject", Bucket="alpha", Key="k")
    assert s3("DeleteBucket", Bucket="alpha") == {"__status": 204}
    err = s3.error("DeleteBucket", Bucket="alpha")
    assert (err.code, err.status, err.message, err.extra) == (
        "NoSuchBucket",
        404,
        "The specified bucket does not exist",
        {"BucketName": "alpha"},
    )
    assert s3.error("HeadBucket", Bucket="alpha").status == 404
    assert [b["Name"] for b in s3("ListBuckets")["Buckets"]] == ["beta"]
    # The name is free again, for anyone.
    s3("CreateBucket", Bucket="alpha", account=OTHER)
    assert s3("HeadBucket", Bucket="alpha", account=OTHER)["BucketRegion"] == "us-east-1"


def test_expected_bucket_owner(s3: Harness, bucket: str) -> None:
    assert s3("HeadBucket", Bucket=bucket, ExpectedBucketOwner=ACCT)["BucketRegion"]
    err = s3.error("HeadBucket", Bucket=bucket, ExpectedBucketOwner=OTHER)
    assert (err.code, err.status) == ("AccessDenied", 403)


def test_queries(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="a/b", Body=b"1", Tagging="team=blue&env=")
    found = s3.store.read(lambda tx: queries.bucket(tx, bucket))
    assert found is not None
    assert found["Name"] == bucket and found["Owner"] == ACCT and found["Region"] == "us-east-1"
    assert found["Policy"] is None
    assert found["ObjectOwnership"] == "BucketOwnerEnforced"
    assert found["PublicAccessBlock"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert found["OwnerCanonicalId"] == canonical_id(ACCT)
    assert found["Acl"][0]["Permission"] == "FULL_CONTROL"
    assert s3.store.read(lambda tx: queries.bucket(tx, "missing")) is None
    tags = s3.store.read(lambda tx: queries.object_tags(tx, bucket, "a/b"))
    assert tags == {"team": "blue", "env": ""}
    assert s3.store.read(lambda tx: queries.object_tags(tx, bucket, "nope")) is None
    assert s3("HeadObject", Bucket=bucket, Key="a/b")["TagCount"] == 2


# -- policies ----------------------------------------------------------------------------------


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CLOUDTRAIL_POLICY = policy(
    {
        "Sid": "AWSCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": "arn:aws:s3:::logs",
    },
    {
        "Sid": "AWSCloudTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": [
            "arn:aws:s3:::logs/AWSLogs/111111111111/*",
            "arn:aws:s3:::logs/AWSLogs/222222222222/*",
        ],
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
    },
)
PUBLIC_READ = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::logs/*",
}


def test_bucket_policy_round_trip(s3: Harness, bucket: str) -> None:
    err = s3.error("GetBucketPolicy", Bucket=bucket)
    assert (err.code, err.status, err.message) == (
        "NoSuchBucketPolicy",
        404,
        "The bucket policy does not exist",
    )
    assert s3.error("GetBucketPolicyStatus", Bucket=bucket).code == "NoSuchBucketPolicy"
    assert s3("PutBucketPolicy", Bucket=bucket, Policy=CLOUDTRAIL_POLICY) == {"__status": 204}
    compact = json.dumps(json.loads(CLOUDTRAIL_POLICY), separators=(",", ":"))  # as S3 keeps it
    assert s3("GetBucketPolicy", Bucket=bucket) == {"Policy": compact}
    assert s3("GetBucketPolicyStatus", Bucket=bucket) == {"PolicyStatus": {"IsPublic": False}}
    assert s3.store.read(lambda tx: queries.bucket(tx, bucket))["Policy"] == compact  # type: ignore[index]
    assert s3("DeleteBucketPolicy", Bucket=bucket) == {"__status": 204}
    assert s3("DeleteBucketPolicy", Bucket=bucket) == {"__status": 204}
    assert s3.error("GetBucketPolicy", Bucket=bucket).code == "NoSuchBucketPolicy"
    assert (
        s3.error("PutBucketPolicy", Bucket="nope", Policy=CLOUDTRAIL_POLICY).code == "NoSuchBucket"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            policy({**PUBLIC_READ, "Resource": "arn:aws:s3:::other/*"}),
            "Policy has invalid resource",
        ),
        (
            policy(
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}
            ),
            "Missing required field Principal",
        ),
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        (policy({**PUBLIC_READ, "Principal": {"AWS": "nobody"}}), "Invalid principal in policy"),
    ],
)
def test_malformed_policies(s3: Harness, bucket: str, text: str, message: str) -> None:
    err = s3.error("PutBucketPolicy", Bucket=bucket, Policy=text)
    assert (err.code, err.status, err.message) == ("MalformedPolicy", 400, message)


def test_policy_size_limit(s3: Harness, bucket: str) -> None:
    resources = [f"arn:aws:s3:::logs/AWSLogs/{i:012d}/*" for i in range(700)]
    write = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
    }
    big = policy({**write, "Resource": resources})
    assert len(big) > 20 * 1024
    err = s3.error("PutBucketPolicy", Bucket=bucket, Policy=big)
    assert (err.code, err.status) == ("MalformedPolicy", 400)
    s3("PutBucketPolicy", Bucket=bucket, Policy=policy({**write, "Resource": resources[:100]}))


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (PUBLIC_READ, True),
        ({**PUBLIC_READ, "Principal": {"AWS": "*"}}, True),
        ({**PUBLIC_READ, "Principal": {"AWS": "arn:aws:iam::222222222222:root"}}, False),
        ({**PUBLIC_READ, "Principal": {"Service": "cloudtrail.amazonaws.com"}}, False),
        ({**PUBLIC_READ, "Effect": "Deny"}, False),
        (
            {**PUBLIC_READ, "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
            False,
        ),
        ({**PUBLIC_READ, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}, False),
        (
            {**PUBLIC_READ, "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}},
            True,
        ),
        ({**PUBLIC_READ, "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}}, True),
        ({**PUBLIC_READ, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}}}, False),
        ({**PUBLIC_READ, "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}, True),
        ({**PUBLIC_READ, "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}}, True),
    ],
)
def test_policy_status(s3: Harness, bucket: str, statement: dict[str, Any], public: bool) -> None:
    s3("DeletePublicAccessBlock", Bucket=bucket)
    s3("PutBucketPolicy", Bucket=bucket, Policy=policy(statement))
    assert s3("GetBucketPolicyStatus", Bucket=bucket) == {"PolicyStatus": {"IsPublic": public}}


def test_block_public_policy(s3: Harness, bucket: str) -> None:
    err = s3.error("PutBucketPolicy", Bucket=bucket, Policy=policy(PUBLIC_READ))
    assert (err.code, err.status, err.message) == (
        "AccessDenied", 403,
        f"User: arn:aws:iam::{ACCT}:root is not authorized to perform: s3:PutBucketPolicy on "
        f'resource: "arn:aws:s3:::{bucket}" because public policies are blocked by the '
        "BlockPublicPolicy block public access setting.")
    s3(
        "PutPublicAccessBlock",
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True},
    )
    assert s3("GetPublicAccessBlock", Bucket=bucket) == {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        }
    }
    s3("PutBucketPolicy", Bucket=bucket, Policy=policy(PUBLIC_READ))
    s3("DeletePublicAccessBlock", Bucket=bucket)
    err = s3.error("GetPublicAccessBlock", Bucket=bucket)
    assert (err.code, err.status, err.message, err.extra) == (
        "NoSuchPublicAccessBlockConfiguration",
        404,
        "The public access block configuration was not found",
        {"BucketName": bucket},
    )
    assert s3.store.read(lambda tx: queries.bucket(tx, bucket))["PublicAccessBlock"] is None  # type: ignore[index]


# -- ACLs and ownership ------------------------------------------------------------------------


def owner_grant(account: str = ACCT) -> dict[str, Any]:
    return {
        "Grantee": {"Type": "CanonicalUser", "ID": canonical_id(account)},
        "Permission": "FULL_CONTROL",
    }


def test_bucket_acls(s3: Harness, bucket: str) -> None:
    assert s3("GetBucketAcl", Bucket=bucket) == {
        "Owner": {"ID": canonical_id(ACCT)},
        "Grants": [owner_grant()],
    }
    err = s3.error("PutBucketAcl", Bucket=bucket, ACL="public-read")
    assert (err.code, err.status, err.message) == (
        "AccessControlListNotSupported",
        400,
        "The bucket does not allow ACLs",
    )
    s3("PutBucketAcl", Bucket=bucket, ACL="private")
    s3("PutBucketAcl", Bucket=bucket, GrantFullControl=f'id="{canonical_id(ACCT)}"')
    assert s3.error("PutBucketAcl", Bucket=bucket).code == "MissingSecurityHeader"

    assert s3("GetBucketOwnershipControls", Bucket=bucket) == {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    }
    s3(
        "PutBucketOwnershipControls",
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    )
    err = s3.error("PutBucketAcl", Bucket=bucket, ACL="public-read")
    assert (err.code, err.status) == ("AccessDenied", 403)  # BlockPublicAcls
    s3("DeletePublicAccessBlock", Bucket=bucket)
    s3("PutBucketAcl", Bucket=bucket, ACL="public-read")
    grants = s3("GetBucketAcl", Bucket=bucket)["Grants"]
    assert grants == [
        owner_grant(),
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ",
        },
    ]
    err = s3.error(
        "PutBucketOwnershipControls",
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    assert err.code == "InvalidBucketAclWithObjectOwnership"
    assert (
        s3.error(
            "PutBucketOwnershipControls",
            Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "Nope"}]},
        ).code
        == "MalformedXML"
    )
    assert s3("DeleteBucketOwnershipControls", Bucket=bucket) == {"__status": 204}
    err = s3.error("GetBucketOwnershipControls", Bucket=bucket)
    assert (err.code, err.status) == ("OwnershipControlsNotFoundError", 404)
    assert s3.store.read(lambda tx: queries.bucket(tx, bucket))["ObjectOwnership"] == "ObjectWriter"  # type: ignore[index]


def test_create_bucket_acl_rules(s3: Harness) -> None:
    err = s3.error("CreateBucket", Bucket="b-acl", ACL="public-read")
    assert err.code == "InvalidBucketAclWithObjectOwnership"
    s3("CreateBucket", Bucket="b-acl", ACL="private")
    s3("CreateBucket", Bucket="b-writer", ObjectOwnership="ObjectWriter", ACL="log-delivery-write")
    grants = s3("GetBucketAcl", Bucket="b-writer")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL", "WRITE", "READ_ACP"]


def test_object_ownership_and_acls(s3: Harness, bucket: str) -> None:
    # BucketOwnerEnforced: the bucket owner owns what others write; only owner-full-control ACLs.
    s3(
        "PutObject",
        account=OTHER,
        Bucket=bucket,
        Key="AWSLogs/x",
        Body=b"1",
        ACL="bucket-owner-full-control",
    )
    assert s3.record(bucket, "AWSLogs/x")["Owner"] == ACCT  # type: ignore[index]
    acl = s3("GetObjectAcl", Bucket=bucket, Key="AWSLogs/x")
    assert acl == {
        "Owner": {"ID": canonical_id(ACCT)},
        "Grants": [owner_grant()],
    }
    err = s3.error("PutObject", Bucket=bucket, Key="k", Body=b"1", ACL="public-read")
    assert (err.code, err.message) == (
        "AccessControlListNotSupported",
        "The bucket does not allow ACLs",
    )
    assert s3.record(bucket, "k") is None
    # ObjectWriter: the writer owns its object.
    s3("CreateBucket", Bucket="w-bucket", ObjectOwnership="ObjectWriter")
    s3("PutObject", account=OTHER, Bucket="w-bucket", Key="k", Body=b"1")
    assert s3.record("w-bucket", "k")["Owner"] == OTHER  # type: ignore[index]
    s3("DeletePublicAccessBlock", Bucket="w-bucket")
    s3("PutObjectAcl", Bucket="w-bucket", Key="k", ACL="public-read")
    grants = s3("GetObjectAcl", Bucket="w-bucket", Key="k")["Grants"]
    assert grants[0]["Grantee"]["ID"] == canonical_id(OTHER)
    assert grants[1]["Grantee"]["URI"].endswith("AllUsers")


# -- put / get ---------------------------------------------------------------------------------


def test_put_get_round_trip(s3: Harness, bucket: str) -> None:
    data = b"hello world" * 1000
    out = s3(
        "PutObject",
        Bucket=bucket,
        Key="dir/file.txt",
        Body=data,
        ContentType="text/plain",
        Metadata={"Team": "blue"},
        CacheControl="no-cache",
    )
    assert out == {
        "ETag": f'"{md5_hex(data)}"',
        "ServerSideEncryption": "AES256",
        # no checksum sent: S3 adds its default, CRC64NVME
        "ChecksumCRC64NVME": crc64nvme_b64(data),
        "ChecksumType": "FULL_OBJECT",
    }
    got = s3("GetObject", Bucket=bucket, Key="dir/file.txt")
    assert b"".join(got.pop("Body")) == data
    assert got == {
        "LastModified": NOW,
        "ETag": f'"{md5_hex(data)}"',
        "ContentType": "text/plain",
        "Metadata": {"team": "blue"},
        "AcceptRanges": "bytes",
        "ServerSideEncryption": "AES256",  # every bucket's SSE-S3 default
        "CacheControl": "no-cache",
        "ContentLength": len(data),
    }
    head = s3("HeadObject", Bucket=bucket, Key="dir/file.txt")
    assert "Body" not in head and head["ContentLength"] == len(data)
    s3("PutObject", Bucket=bucket, Key="empty")
    got = s3("GetObject", Bucket=bucket, Key="empty")
    assert b"".join(got["Body"]) == b"" and got["ContentLength"] == 0
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == f'"{md5_hex(b"")}"'
    err = s3.error("GetObject", Bucket=bucket, Key="nope")
    assert (err.code, err.status, err.message, err.extra) == (
        "NoSuchKey",
        404,
        "The specified key does not exist.",
        {"Key": "nope"},
    )
    assert s3.error("GetObject", Bucket="missing", Key="k").code == "NoSuchBucket"
    assert s3.error("HeadObject", Bucket=bucket, Key="nope").status == 404
    err = s3.error("GetObject", Bucket=bucket, Key="empty", VersionId="v1")
    assert err.code == "InvalidArgument"
    assert s3("GetObject", Bucket=bucket, Key="empty", VersionId="null")["ContentLength"] == 0


def test_spooled_request_body(s3: Harness, bucket: str) -> None:
    data = os.urandom(3 * MiB + 17)
    body = FileBody(data, s3.dir)
    out = s3(
        "PutObject",
        Bucket=bucket,
        Key="big",
        Body=body,
        ContentMD5=b64md5(data),
        ChecksumCRC32=crc32_b64(data),
    )
    assert out == {
        "ETag": f'"{md5_hex(data)}"',
        "ServerSideEncryption": "AES256",
        "ChecksumCRC32": crc32_b64(data),
        "ChecksumType": "FULL_OBJECT",
    }
    assert s3.body(bucket, "big") == data
    got = s3("GetObject", Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(data) and got["ChecksumType"] == "FULL_OBJECT"
    got["Body"].close()
    ranged = s3("GetObject", Bucket=bucket, Key="big", ChecksumMode="ENABLED", Range="bytes=0-9")
    assert "ChecksumCRC32" not in ranged  # a full-object checksum would not match a range
    assert b"".join(ranged["Body"]) == data[:10]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"ContentMD5": b64md5(b"other")},
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ),
        (
            {"ContentMD5": "not base64!"},
            "InvalidDigest",
            "The Content-MD5 you specified is not valid.",
        ),
        (
            {"ContentMD5": base64.b64encode(b"short").decode()},
            "InvalidDigest",
            "The Content-MD5 you specified is not valid.",
        ),
        (
            {"ChecksumCRC32": crc32_b64(b"other")},
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        (
            {"ChecksumSHA256": base64.b64encode(hashlib.sha256(b"x").digest()).decode()},
            "BadDigest",
            "The SHA256 you specified did not match the calculated checksum.",
        ),
        (
            {"ChecksumCRC32": "%%%"},
            "InvalidRequest",
            "Value for x-amz-checksum-crc32 header is invalid.",
        ),
    ],
)
@pytest.mark.parametrize("spooled", [False, True])
def test_digest_errors(
    s3: Harness, bucket: str, params: dict[str, Any], code: str, message: str, spooled: bool
) -> None:
    data = b"payload bytes"
    before = s3.blob_files()
    body: Any = FileBody(data, s3.dir) if spooled else data
    err = s3.error("PutObject", Bucket=bucket, Key="k", Body=body, **params)
    assert (err.code, err.status, err.message) == (code, 400, message)
    assert s3.record(bucket, "k") is None
    assert s3.blob_files() == before  # nothing left behind


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("ChecksumSHA1", base64.b64encode(hashlib.sha1(b"checksummed").digest()).decode()),
        ("ChecksumSHA256", base64.b64encode(hashlib.sha256(b"checksummed").digest()).decode()),
        ("ChecksumCRC32C", "ob5LFw=="),  # CRC32C of b"checksummed", big-endian, base64
        ("ChecksumCRC64NVME", "sJleOY/uX20="),
    ],
)
def test_good_checksums(s3: Harness, bucket: str, member: str, value: str) -> None:
    data = b"checksummed"
    params: dict[str, Any] = {"ContentMD5": b64md5(data), member: value}
    out = s3("PutObject", Bucket=bucket, Key="k", Body=data, **params)
    assert (out[member], out["ChecksumType"]) == (value, "FULL_OBJECT")
    assert s3.record(bucket, "k")["Checksums"] == {member: value}  # type: ignore[index]


def test_several_checksums_are_refused(s3: Harness, bucket: str) -> None:
    data = b"checksummed"
    err = s3.error(
        "PutObject", Bucket=bucket, Key="k", Body=data,
        ChecksumSHA1=base64.b64encode(hashlib.sha1(data).digest()).decode(),
        ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
    )
    assert (err.code, err.status, err.message) == (
        "InvalidRequest", 400,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )


def test_limits(s3: Harness, bucket: str) -> None:
    err = s3.error("PutObject", Bucket=bucket, Key="k" * 1025, Body=b"")
    assert (err.code, err.message, err.extra["Size"]) == (
        "KeyTooLongError",
        "Your key is too long",
        "1025",
    )
    s3("PutObject", Bucket=bucket, Key="é" * 512, Body=b"")  # 1,024 bytes
    assert s3.error("PutObject", Bucket=bucket, Key="é" * 513, Body=b"").code == "KeyTooLongError"
    err = s3.error("PutObject", Bucket=bucket, Key="m", Body=b"", Metadata={"a": "x" * 2048})
    assert (err.code, err.status) == ("MetadataTooLarge", 400)


def test_replaced_and_deleted_blobs_are_reclaimed(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="k", Body=b"one")
    first = s3.record(bucket, "k")["BlobId"]  # type: ignore[index]
    assert s3.blob_files() == {first}
    s3("PutObject", Bucket=bucket, Key="k", Body=b"two")
    second = s3.record(bucket, "k")["BlobId"]  # type: ignore[index]
    assert s3.blob_files() == {second}
    assert s3.body(bucket, "k") == b"two"
    index = s3.store.read(
        lambda tx: (tx.index_get(blob_ref(first)), tx.index_get(blob_ref(second)))
    )
    assert index[0] is None and index[1] == (NS, objects_kind(bucket), "k")
    assert s3("DeleteObject", Bucket=bucket, Key="k") == {"__status": 204}
    assert s3.blob_files() == set()
    assert s3.store.read(lambda tx: tx.index_get(blob_ref(second))) is None
    assert s3("DeleteObject", Bucket=bucket, Key="k") == {"__status": 204}  # absent: still 204


def test_failed_transaction_discards_prepared_blob(s3: Harness, bucket: str) -> None:
    assert s3.error("PutObject", Bucket="missing", Key="k", Body=b"data").code == "NoSuchBucket"
    s3("PutObject", Bucket=bucket, Key="k", Body=b"v1")
    err = s3.error("PutObject", Bucket=bucket, Key="k", Body=b"v2", IfNoneMatch="*")
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    assert s3.blob_files() == {s3.record(bucket, "k")["BlobId"]}  # type: ignore[index]
    # A blob whose transaction outcome is unknown (the function did not raise) is kept.
    call = Call(ACCT, root(), {"Bucket": bucket, "Key": "x", "Body": b"z"}, "us-east-1", "r", NOW)
    prepared = s3.s3.prepare_PutObject(call)
    prepared.discard()
    assert prepared.info is not None and s3.blobs.exists(prepared.info.id)


def test_prepare_refuses_early(s3: Harness, bucket: str) -> None:
    """With a store reader, a PUT to a missing bucket or upload writes no bytes at all."""
    call = Call(
        ACCT, root(), {"Bucket": "missing", "Key": "k", "Body": b"z"}, "us-east-1", "r", NOW
    )
    prepared = s3.s3.prepare_PutObject(call)
    assert prepared.info is None and prepared.error is not None
    assert prepared.error.code == "NoSuchBucket"
    params = {"Bucket": bucket, "Key": "k", "UploadId": "bogus", "PartNumber": 1, "Body": b"z"}
    prepared = s3.s3.prepare_UploadPart(replace(call, params=params))
    assert prepared.info is None and prepared.error is not None
    assert prepared.error.code == "NoSuchUpload"
    assert s3.blob_files() == set()


def test_inline_prepare_without_gateway(s3: Harness, bucket: str) -> None:
    """Called without ``prepared`` (no gateway), the transaction writes the bytes itself and
    cleans up when it fails."""

    def put(bucket_name: str, data: bytes) -> dict[str, Any]:
        params = {"Bucket": bucket_name, "Key": "k", "Body": data}
        call = Call(ACCT, root(), params, "us-east-1", "r", NOW)
        result: dict[str, Any] = s3.store.write_sync(lambda tx: s3.s3.PutObject(call, tx))
        for action in result.pop("__after_commit", []):
            action()
        return result

    assert put(bucket, b"inline")["ETag"] == f'"{md5_hex(b"inline")}"'
    assert s3.body(bucket, "k") == b"inline"
    with pytest.raises(ServiceError):
        put("missing", b"lost")
    assert s3.blob_files() == {s3.record(bucket, "k")["BlobId"]}  # type: ignore[index]


def test_conditional_writes(s3: Harness, bucket: str) -> None:
    etag = s3("PutObject", Bucket=bucket, Key="k", Body=b"v1", IfNoneMatch="*")["ETag"]
    assert (
        s3.error("PutObject", Bucket=bucket, Key="k", Body=b"v2", IfMatch='"nope"').code
        == "PreconditionFailed"
    )
    s3("PutObject", Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert (
        s3.error("PutObject", Bucket=bucket, Key="new", Body=b"x", IfMatch=etag).code == "NoSuchKey"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=10-19", (10, 19)),
        ("bytes=95-", (95, 99)),
        ("bytes=90-200", (90, 99)),
        ("bytes=-5", (95, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes=99-99", (99, 99)),
        ("bytes=100-", "InvalidRange"),
        ("bytes=150-160", "InvalidRange"),
        ("bytes=-0", "InvalidRange"),
        ("bytes=5-2", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_ranges(s3: Harness, bucket: str, header: str, expected: Any) -> None:
    data = bytes(range(100))
    s3("PutObject", Bucket=bucket, Key="k", Body=data)
    if expected == "InvalidRange":
        err = s3.error("GetObject", Bucket=bucket, Key="k", Range=header)
        assert (err.code, err.status, err.message) == (
            "InvalidRange",
            416,
            "The requested range is not satisfiable",
        )
        assert err.extra == {"RangeRequested": header, "ActualObjectSize": "100"}
        return
    for op in ("GetObject", "HeadObject"):
        out = s3(op, Bucket=bucket, Key="k", Range=header)
        if expected is None:
            assert "__status" not in out and "ContentRange" not in out
            assert out["ContentLength"] == 100
            start, end = 0, 99
        else:
            start, end = expected
            assert out["__status"] == 206
            assert out["ContentRange"] == f"bytes {start}-{end}/100"
            assert out["ContentLength"] == end - start + 1
        if op == "GetObject":
            assert b"".join(out["Body"]) == data[start : end + 1]


def test_range_on_empty_object(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="e", Body=b"")
    assert s3.error("GetObject", Bucket=bucket, Key="e", Range="bytes=0-").code == "InvalidRange"
    assert s3.error("GetObject", Bucket=bucket, Key="e", Range="bytes=-0").code == "InvalidRange"
    # A suffix range of an empty object is the whole (empty) object, as S3 answers it.
    whole = s3("GetObject", Bucket=bucket, Key="e", Range="bytes=-1")
    assert "__status" not in whole and "ContentRange" not in whole
    assert (whole["ContentLength"], b"".join(whole["Body"])) == (0, b"")


EARLIER = NOW - timedelta(days=1)
LATER = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("params", "outcome"),
    [
        ({"IfMatch": "ETAG"}, 200),
        ({"IfMatch": "*"}, 200),
        ({"IfMatch": '"other", ETAG'}, 200),
        ({"IfMatch": '"other"'}, 412),
        ({"IfNoneMatch": "ETAG"}, 304),
        ({"IfNoneMatch": "*"}, 304),
        ({"IfNoneMatch": '"other"'}, 200),
        ({"IfModifiedSince": EARLIER}, 200),
        ({"IfModifiedSince": NOW}, 304),
        ({"IfModifiedSince": NOW + timedelta(microseconds=500)}, 304),
        ({"IfModifiedSince": LATER}, 304),
        ({"IfUnmodifiedSince": EARLIER}, 412),
        ({"IfUnmodifiedSince": NOW}, 200),
        ({"IfUnmodifiedSince": LATER}, 200),
        # If-Match true wins over a false If-Unmodified-Since (RFC 7232, S3 docs).
        ({"IfMatch": "ETAG", "IfUnmodifiedSince": EARLIER}, 200),
        # If-None-Match false (it matches) with If-Modified-Since true: 304.
        ({"IfNoneMatch": "ETAG", "IfModifiedSince": EARLIER}, 304),
        # If-None-Match true (no match) makes If-Modified-Since irrelevant.
        ({"IfNoneMatch": '"other"', "IfModifiedSince": LATER}, 200),
        ({"IfMatch": '"other"', "IfNoneMatch": '"other"'}, 412),
    ],
)
def test_conditional_reads(s3: Harness, bucket: str, params: dict[str, Any], outcome: int) -> None:
    etag = s3("PutObject", Bucket=bucket, Key="k", Body=b"data")["ETag"]
    resolved: dict[str, Any] = {
        k: v.replace("ETAG", etag) if isinstance(v, str) else v for k, v in params.items()
    }
    for op in ("GetObject", "HeadObject"):
        if outcome == 200:
            assert s3(op, Bucket=bucket, Key="k", **resolved)["ETag"] == etag
            continue
        err = s3.error(op, Bucket=bucket, Key="k", **resolved)
        assert err.status == outcome
        if outcome == 412:
            assert (err.code, err.message) == (
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        else:
            assert err.code == "NotModified"


def test_response_overrides(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain")
    out = s3(
        "GetObject",
        Bucket=bucket,
        Key="k",
        ResponseContentType="application/json",
        ResponseContentDisposition="attachment",
    )
    out["Body"].close()
    assert out["ContentType"] == "application/json" and out["ContentDisposition"] == "attachment"


def test_delete_objects(s3: Harness, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3("PutObject", Bucket=bucket, Key=key, Body=key.encode())
    out = s3(
        "DeleteObjects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}, {"Key": "b", "VersionId": "v9"}]},
    )
    assert out["Deleted"] == [{"Key": "a"}, {"Key": "zz"}]
    assert out["Errors"] == [
        {
            "Key": "b",
            "VersionId": "v9",
            "Code": "NoSuchVersion",
            "Message": "The specified version does not exist.",
        }
    ]
    out = s3(
        "DeleteObjects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "b"}, {"Key": "c"}], "Quiet": True},
    )
    assert out == {}
    assert s3.blob_files() == set()
    assert (
        s3.error(
            "DeleteObjects",
            Bucket=bucket,
            Delete={"Objects": [{"Key": str(i)} for i in range(1001)]},
        ).code
        == "MalformedXML"
    )


def test_reads_survive_a_concurrent_overwrite(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="k", Body=b"old" * 1000)
    reading = s3("GetObject", Bucket=bucket, Key="k")  # the blob is opened
    s3("PutObject", Bucket=bucket, Key="k", Body=b"new")  # old blob deleted after commit
    assert b"".join(reading["Body"]) == b"old" * 1000


# -- copy --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", [True, False])
def test_copy_object(tmp_path: Path, reader: bool) -> None:
    s3 = Harness(tmp_path, reader=reader)
    try:
        s3("CreateBucket", Bucket="src")
        s3("CreateBucket", Bucket="dst")
        key = "dir/a b+c?d%e é"
        data = b"copy me" * 100
        etag = s3(
            "PutObject",
            Bucket="src",
            Key=key,
            Body=data,
            ContentType="text/x",
            Metadata={"m": "1"},
            ChecksumCRC32=crc32_b64(data),
        )["ETag"]
        s3.now = NOW + timedelta(hours=1)
        source = quote(f"src/{key}") + "?versionId=null"
        out = s3("CopyObject", Bucket="dst", Key="copy", CopySource=source)
        result = {"ETag": etag, "LastModified": NOW + timedelta(hours=1),
                  "ChecksumCRC32": crc32_b64(data), "ChecksumType": "FULL_OBJECT"}
        assert out == {"CopyObjectResult": result, "ServerSideEncryption": "AES256"}
        head = s3("HeadObject", Bucket="dst", Key="copy", ChecksumMode="ENABLED")
        assert (head["ContentType"], head["Metadata"], head["ChecksumCRC32"]) == (
            "text/x",
            {"m": "1"},
            crc32_b64(data),
        )
        assert s3.body("dst", "copy") == data
        s3(
            "CopyObject",
            Bucket="dst",
            Key="copy2",
            CopySource={"Bucket": "src", "Key": key},
            MetadataDirective="REPLACE",
            Metadata={"n": "2"},
        )
        head = s3("HeadObject", Bucket="dst", Key="copy2")
        assert (head["ContentType"], head["Metadata"]) == ("binary/octet-stream", {"n": "2"})
        err = s3.error("CopyObject", Bucket="src", Key=key, CopySource=quote(f"/src/{key}"))
        assert err.code == "InvalidRequest" and "copy an object to itself" in err.message
        s3(
            "CopyObject",
            Bucket="src",
            Key=key,
            CopySource=quote(f"src/{key}"),
            MetadataDirective="REPLACE",
            ContentType="text/y",
        )
        assert s3("HeadObject", Bucket="src", Key=key)["ContentType"] == "text/y"
        assert (
            s3.error("CopyObject", Bucket="dst", Key="x", CopySource="src/nope").code == "NoSuchKey"
        )
        assert (
            s3.error("CopyObject", Bucket="dst", Key="x", CopySource="gone/k").code
            == "NoSuchBucket"
        )
        assert (
            s3.error("CopyObject", Bucket="gone", Key="x", CopySource=quote(f"src/{key}")).code
            == "NoSuchBucket"
        )
        assert (
            s3.error("CopyObject", Bucket="dst", Key="x", CopySource="src").code
            == "InvalidArgument"
        )
        err = s3.error(
            "CopyObject",
            Bucket="dst",
            Key="x",
            CopySource=quote(f"src/{key}"),
            CopySourceIfMatch='"nope"',
        )
        assert (err.code, err.status, err.extra) == (
            "PreconditionFailed",
            412,
            {"Condition": "x-amz-copy-source-If-Match"},
        )
        err = s3.error(
            "CopyObject",
            Bucket="dst",
            Key="x",
            CopySource=quote(f"src/{key}"),
            CopySourceIfNoneMatch="*",
        )
        assert err.status == 412
        err = s3.error(
            "CopyObject",
            Bucket="dst",
            Key="x",
            CopySource=quote(f"src/{key}"),
            CopySourceIfModifiedSince=LATER + timedelta(days=1),
        )
        assert err.status == 412
        # Blobs: one per object, nothing leaked by the failures.
        objects = [s3.record(b, k) for b, k in (("src", key), ("dst", "copy"), ("dst", "copy2"))]
        assert s3.blob_files() == {o["BlobId"] for o in objects if o}
    finally:
        s3.close()


# -- listing -----------------------------------------------------------------------------------


def rollup(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def reference(
    keys: list[str], prefix: str, delimiter: str, after: str | None
) -> list[tuple[str, bool]]:
    """The naive listing: (item, is_common_prefix) over UTF-8-sorted keys, items > after."""
    items: list[tuple[str, bool]] = []
    for key in sorted(set(keys), key=lambda k: k.encode("utf-8")):
        if not key.startswith(prefix):
            continue
        group = rollup(key, prefix, delimiter)
        item = (group, True) if group is not None else (key, False)
        if items and items[-1] == item:
            continue
        items.append(item)
    return [item for item in items if after is None or item[0] > after]


def page_items(out: dict[str, Any]) -> list[tuple[str, bool]]:
    found = [(c["Key"], False) for c in out.get("Contents", [])]
    found += [(p["Prefix"], True) for p in out.get("CommonPrefixes", [])]
    return sorted(found, key=lambda item: item[0].encode("utf-8"))


def list_all_v2(s3: Harness, bucket: str, **params: Any) -> tuple[list[tuple[str, bool]], int]:
    items: list[tuple[str, bool]] = []
    pages = 0
    token: str | None = None
    while True:
        extra: dict[str, Any] = {"ContinuationToken": token} if token else {}
        out = s3("ListObjectsV2", Bucket=bucket, **params, **extra)
        pages += 1
        got = page_items(out)
        assert out["KeyCount"] == len(got) <= params.get("MaxKeys", 1000)
        items += got
        if not out["IsTruncated"]:
            assert "NextContinuationToken" not in out
            return items, pages
        token = out["NextContinuationToken"]
        assert pages < 10_000


def list_all_v1(s3: Harness, bucket: str, **params: Any) -> list[tuple[str, bool]]:
    """As botocore's paginator: NextMarker, else the last key."""
    items: list[tuple[str, bool]] = []
    marker = params.pop("Marker", None)
    for _ in range(10_000):
        extra: dict[str, Any] = {"Marker": marker} if marker is not None else {}
        out = s3("ListObjects", Bucket=bucket, **params, **extra)
        got = page_items(out)
        assert len(got) <= params.get("MaxKeys", 1000)
        items += got
        if not out["IsTruncated"]:
            assert "NextMarker" not in out
            return items
        if params.get("Delimiter"):
            marker = out["NextMarker"]
        else:
            assert "NextMarker" not in out
            marker = out["Contents"][-1]["Key"]
    raise AssertionError("did not finish")


KEYS = [
    "a",
    "a/",
    "a/b",
    "a/b/c",
    "a/c",
    "a-b",
    "ab",
    "b/1",
    "b/2",
    "c",
    "é/1",
    "z\U0001f600",
    "z\uffff",
]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [(k, False) for k in sorted(KEYS, key=lambda k: k.encode())]),
        (
            {"Delimiter": "/"},
            [
                ("a", False),
                ("a-b", False),
                ("a/", True),
                ("ab", False),
                ("b/", True),
                ("c", False),
                ("z\uffff", False),
                ("z\U0001f600", False),
                ("é/", True),
            ],
        ),
        (
            {"Prefix": "a/", "Delimiter": "/"},
            [("a/", False), ("a/b", False), ("a/b/", True), ("a/c", False)],
        ),
        ({"Prefix": "a/b"}, [("a/b", False), ("a/b/c", False)]),
        ({"Prefix": "zz"}, []),
        (
            {"Delimiter": "/", "StartAfter": "a/"},
            [
                ("ab", False),
                ("b/", True),
                ("c", False),
                ("z\uffff", False),
                ("z\U0001f600", False),
                ("é/", True),
            ],
        ),
        (
            {"Delimiter": "/", "StartAfter": "a/b"},
            [
                ("ab", False),
                ("b/", True),
                ("c", False),
                ("z\uffff", False),
                ("z\U0001f600", False),
                ("é/", True),
            ],
        ),
        (
            {"Delimiter": "/", "StartAfter": "a-b"},
            [
                ("a/", True),
                ("ab", False),
                ("b/", True),
                ("c", False),
                ("z\uffff", False),
                ("z\U0001f600", False),
                ("é/", True),
            ],
        ),
        ({"Delimiter": "/", "MaxKeys": 2}, [("a", False), ("a-b", False)]),
        (
            {"Delimiter": "b"},
            [
                ("a", False),
                ("a-b", True),
                ("a/", False),
                ("a/b", True),
                ("a/c", False),
                ("ab", True),
                ("b", True),
                ("c", False),
                ("z\uffff", False),
                ("z\U0001f600", False),
                ("é/1", False),
            ],
        ),
        ({"MaxKeys": 0}, []),
    ],
)
def test_listing_cases(
    s3: Harness, bucket: str, params: dict[str, Any], expected: list[tuple[str, bool]]
) -> None:
    s3.seed(bucket, KEYS)
    out = s3("ListObjectsV2", Bucket=bucket, **params)
    assert page_items(out) == expected
    assert out["KeyCount"] == len(expected)
    assert out["MaxKeys"] == params.get("MaxKeys", 1000)
    assert out["Name"] == bucket and out["Prefix"] == params.get("Prefix", "")
    assert "Owner" not in (out.get("Contents") or [{}])[0]


def test_common_prefix_skip_with_highest_code_points(s3: Harness, bucket: str) -> None:
    top = "\U0010ffff"
    keys = ["a/" + top, "a/" + top * 3, "a/" + top * 2 + "x", "a" + top, "b"]
    s3.seed(bucket, keys)
    for max_keys in (1, 2, 1000):
        items, _ = list_all_v2(s3, bucket, Delimiter="/", MaxKeys=max_keys)
        assert items == [("a/", True), ("a" + top, False), ("b", False)]
        assert items == reference(keys, "", "/", None)


def test_utf8_byte_order_in_store(s3: Harness, bucket: str) -> None:
    keys = [
        "\U0001f600",
        "\uffff",
        "\ue000",
        "\u00e9",
        "z",
        "Z",
        "\x7f",
        "a\U00010000",
        "a\uffee",
        "a",
        " ",
        "\t",
    ]
    s3.seed(bucket, keys)
    listed = [c["Key"] for c in s3("ListObjectsV2", Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))
    assert listed == sorted(keys)  # code point order agrees for valid text


def test_v1_and_v2_shapes(s3: Harness, bucket: str) -> None:
    s3.seed(bucket, ["x/1", "x/2", "y", "a b+c"])
    v1 = s3("ListObjects", Bucket=bucket, Delimiter="/", MaxKeys=1, Marker="a")
    assert v1["Marker"] == "a" and v1["IsTruncated"] and v1["NextMarker"] == "a b+c"
    assert v1["Contents"][0]["Owner"] == {"ID": canonical_id(ACCT)}
    v1 = s3("ListObjects", Bucket=bucket, MaxKeys=1)
    assert v1["IsTruncated"] and "NextMarker" not in v1
    v2 = s3("ListObjectsV2", Bucket=bucket, FetchOwner=True, StartAfter="b", MaxKeys=5000)
    assert v2["MaxKeys"] == 1000 and v2["StartAfter"] == "b"
    assert v2["Contents"][0]["Owner"]["ID"] == canonical_id(ACCT)
    assert [c["Key"] for c in v2["Contents"]] == ["x/1", "x/2", "y"]
    # Raw values and the EncodingType echo: the wire layer percent-encodes.
    enc = s3("ListObjectsV2", Bucket=bucket, EncodingType="url", Delimiter="/", Prefix="a b")
    assert enc["EncodingType"] == "url" and enc["Prefix"] == "a b"
    assert [c["Key"] for c in enc["Contents"]] == ["a b+c"]
    enc = s3("ListObjects", Bucket=bucket, EncodingType="url", Delimiter="/", Marker="a b")
    assert enc["Marker"] == "a b" and enc["CommonPrefixes"] == [{"Prefix": "x/"}]
    assert "EncodingType" not in s3("ListObjects", Bucket=bucket)
    assert s3.error("ListObjectsV2", Bucket=bucket, EncodingType="base64").code == "InvalidArgument"
    assert s3.error("ListObjectsV2", Bucket=bucket, MaxKeys=-1).code == "InvalidArgument"
    err = s3.error("ListObjectsV2", Bucket=bucket, ContinuationToken="!!!")
    assert (err.code, err.message) == (
        "InvalidArgument",
        "The continuation token provided is incorrect",
    )
    assert s3.error("ListObjects", Bucket="nope").code == "NoSuchBucket"


key_text = st.text(alphabet="ab/-é\U0001f600\uffff\U0010ffff", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=st.lists(key_text, min_size=0, max_size=40),
    prefix=st.sampled_from(["", "a", "a/", "b", "é", "ab/"]),
    delimiter=st.sampled_from(["", "/", "-", "b/", "é"]),
    max_keys=st.integers(min_value=1, max_value=7),
    start=st.one_of(st.none(), key_text),
)
def test_listing_matches_reference(
    listing_harness: Harness,
    keys: list[str],
    prefix: str,
    delimiter: str,
    max_keys: int,
    start: str | None,
) -> None:
    s3 = listing_harness
    name = f"h-{next(_COUNTER)}"
    s3("CreateBucket", Bucket=name)
    s3.seed(name, keys)
    params: dict[str, Any] = {"Prefix": prefix, "Delimiter": delimiter, "MaxKeys": max_keys}
    expected = reference(keys, prefix, delimiter, start)
    start_after: dict[str, Any] = {"StartAfter": start} if start is not None else {}
    got_v2, pages = list_all_v2(s3, name, **params, **start_after)
    assert got_v2 == expected
    assert pages == max(1, -(-len(expected) // max_keys))  # no empty trailing page
    marker: dict[str, Any] = {"Marker": start} if start is not None else {}
    assert list_all_v1(s3, name, **params, **marker) == expected
    whole = s3("ListObjectsV2", Bucket=name, Prefix=prefix, Delimiter=delimiter, **start_after)
    assert page_items(whole) == expected


_COUNTER = itertools.count()


@pytest.fixture(scope="module")
def listing_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("listing"))
    yield harness
    harness.close()


class CountingTx:
    """A Tx proxy counting the rows ``scan`` hands out."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.rows = 0
        self.scans = 0

    def scan(self, *args: Any, **kwargs: Any) -> list[Entity]:
        rows = self.tx.scan(*args, **kwargs)
        self.rows += len(rows)
        self.scans += 1
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tx, name)


def test_listing_reads_only_what_a_page_needs(s3: Harness, bucket: str) -> None:
    keys = [f"p{i:03d}/k{j:04d}" for i in range(100) for j in range(1000)]  # 100,000 keys
    s3.seed(bucket, keys)
    kind = objects_kind(bucket)

    def page(**kwargs: Any) -> tuple[Any, CountingTx]:
        def fn(tx: Tx) -> tuple[Any, CountingTx]:
            counting = CountingTx(tx)
            return list_page(counting, kind, **kwargs), counting

        return s3.store.read(fn)

    flat, counting = page(prefix="", delimiter="", after="p050/k0499", max_keys=1000)
    assert len(flat.contents) == 1000 and flat.truncated
    assert flat.contents[0].key == "p050/k0500"
    assert counting.rows <= 1001 and counting.scans <= 2

    rolled, counting = page(prefix="", delimiter="/", after=None, max_keys=1000)
    assert rolled.prefixes == [f"p{i:03d}/" for i in range(100)] and not rolled.truncated
    assert counting.rows <= 100 * 64 and counting.scans <= 101

    start = time.perf_counter()
    out = s3("ListObjectsV2", Bucket=bucket, Prefix="p042/", StartAfter="p042/k0100", MaxKeys=1000)
    assert out["KeyCount"] == 899 and not out["IsTruncated"]
    assert time.perf_counter() - start < 2.0


# -- multipart ---------------------------------------------------------------------------------


def upload_parts(
    s3: Harness, bucket: str, key: str, parts: list[bytes], **create: Any
) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3("CreateMultipartUpload", Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3(
            "UploadPart", Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        assert etag == f'"{md5_hex(data)}"'
        done.append({"ETag": etag, "PartNumber": number})
    return upload_id, done


@pytest.mark.parametrize("reader", [True, False])
def test_multipart_upload(tmp_path: Path, reader: bool) -> None:
    s3 = Harness(tmp_path, reader=reader)
    try:
        s3("CreateBucket", Bucket="mpb")
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 3), b"tail"]
        upload_id, done = upload_parts(
            s3, "mpb", "big/object", parts, ContentType="video/x", Metadata={"k": "v"}
        )
        out = s3(
            "CompleteMultipartUpload",
            Bucket="mpb",
            Key="big/object",
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
        )
        digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
        assert out == {
            "Location": "/mpb/big/object",
            "Bucket": "mpb",
            "Key": "big/object",
            "ETag": f'"{digest}-3"',
            "ServerSideEncryption": "AES256",
            # an upload created without a checksum algorithm: S3's default, full-object
            "ChecksumCRC64NVME": crc64nvme_b64(b"".join(parts)),
            "ChecksumType": "FULL_OBJECT",
        }
        data = b"".join(parts)
        assert s3.body("mpb", "big/object") == data
        head = s3("HeadObject", Bucket="mpb", Key="big/object")
        assert (head["ContentLength"], head["ContentType"], head["Metadata"]) == (
            len(data),
            "video/x",
            {"k": "v"},
        )
        assert (
            s3.body("mpb", "big/object", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 1}")
            == data[5 * MiB - 2 : 5 * MiB + 2]
        )
        # Part blobs are gone, the upload too.
        assert s3.blob_files() == {s3.record("mpb", "big/object")["BlobId"]}  # type: ignore[index]
        err = s3.error("ListParts", Bucket="mpb", Key="big/object", UploadId=upload_id)
        assert (err.code, err.status, err.extra) == ("NoSuchUpload", 404, {"UploadId": upload_id})
        assert s3("ListMultipartUploads", Bucket="mpb")["Uploads"] == []
    finally:
        s3.close()


def test_part_number_reads(s3: Harness, bucket: str) -> None:
    # Upload part numbers 2, 5 and 9: the object's parts are numbered 1..3 in that order.
    parts = {2: os.urandom(5 * MiB), 5: os.urandom(5 * MiB + 7), 9: b"last part"}
    upload_id = s3("CreateMultipartUpload", Bucket=bucket, Key="p")["UploadId"]
    done = [
        {"PartNumber": n, "ETag": s3("UploadPart", Bucket=bucket, Key="p", UploadId=upload_id,
                                     PartNumber=n, Body=data)["ETag"]}
        for n, data in parts.items()
    ]
    etag = s3("CompleteMultipartUpload", Bucket=bucket, Key="p", UploadId=upload_id,
              MultipartUpload={"Parts": done})["ETag"]
    record = s3.record(bucket, "p")
    assert record is not None
    assert (record["PartsCount"], record["PartSizes"]) == (3, [5 * MiB, 5 * MiB + 7, 9])
    data = b"".join(parts.values())
    start = 0
    for number, chunk in enumerate(parts.values(), start=1):
        for op in ("GetObject", "HeadObject"):
            out = s3(op, Bucket=bucket, Key="p", PartNumber=number)
            end = start + len(chunk) - 1
            assert (out["__status"], out["ContentRange"], out["ContentLength"]) == (
                206, f"bytes {start}-{end}/{len(data)}", len(chunk)
            )
            assert (out["PartsCount"], out["ETag"]) == (3, etag)
        assert s3.body(bucket, "p", PartNumber=number) == chunk
        start += len(chunk)
    err = s3.error("GetObject", Bucket=bucket, Key="p", PartNumber=4)
    assert (err.code, err.status, err.extra) == (
        "InvalidPartNumber", 416, {"PartNumberRequested": "4", "ActualPartCount": "3"}
    )
    err = s3.error("HeadObject", Bucket=bucket, Key="p", PartNumber=1, Range="bytes=0-1")
    assert (err.code, err.status, err.message) == (
        "InvalidRequest", 400, "Cannot specify both Range header and partNumber query parameter"
    )
    for bad in (0, 10001, "x"):
        err = s3.error("GetObject", Bucket=bucket, Key="p", PartNumber=bad)
        assert (err.code, err.status) == ("InvalidArgument", 400)
    # Errors about the parameters come before the object lookup.
    err = s3.error("GetObject", Bucket=bucket, Key="missing", PartNumber=1, Range="bytes=0-1")
    assert err.code == "InvalidRequest"
    assert s3.error("GetObject", Bucket=bucket, Key="missing", PartNumber=1).code == "NoSuchKey"
    # A copy is a simple object: one part.
    s3("CopyObject", Bucket=bucket, Key="copy", CopySource=f"{bucket}/p")
    out = s3("HeadObject", Bucket=bucket, Key="copy", PartNumber=1)
    assert (out["ContentRange"], "PartsCount" in out) == (f"bytes 0-{len(data) - 1}/{len(data)}",
                                                          False)


def test_part_number_of_simple_old_and_empty_objects(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="s", Body=b"simple")
    out = s3("GetObject", Bucket=bucket, Key="s", PartNumber=1)
    assert (out["__status"], out["ContentRange"], out["ContentLength"]) == (206, "bytes 0-5/6", 6)
    assert "PartsCount" not in out and b"".join(out["Body"]) == b"simple"
    err = s3.error("HeadObject", Bucket=bucket, Key="s", PartNumber=2)
    assert (err.code, err.status, err.extra["ActualPartCount"]) == ("InvalidPartNumber", 416, "1")

    # A multipart object completed before the part sizes were kept: one part, the whole object.
    upload_id, done = upload_parts(s3, bucket, "old", [os.urandom(5 * MiB), b"tail"])
    s3("CompleteMultipartUpload", Bucket=bucket, Key="old", UploadId=upload_id,
       MultipartUpload={"Parts": done})

    def forget_sizes(tx: Tx) -> None:
        record = tx.get(NS, objects_kind(bucket), "old")
        assert record is not None and record.pop("PartSizes") == [5 * MiB, 4]
        tx.put(NS, objects_kind(bucket), "old", "old", record)

    s3.store.write_sync(forget_sizes)
    out = s3("HeadObject", Bucket=bucket, Key="old", PartNumber=1)
    size = 5 * MiB + 4
    assert (out["ContentRange"], out["ContentLength"]) == (f"bytes 0-{size - 1}/{size}", size)
    assert "PartsCount" not in out
    assert s3.error("GetObject", Bucket=bucket, Key="old", PartNumber=2).code == (
        "InvalidPartNumber"
    )

    s3("PutObject", Bucket=bucket, Key="empty", Body=b"")
    out = s3("GetObject", Bucket=bucket, Key="empty", PartNumber=1)
    assert out["ContentLength"] == 0 and "ContentRange" not in out


def test_multipart_etag_single_part(s3: Harness, bucket: str) -> None:
    upload_id, done = upload_parts(s3, bucket, "one", [b"only part"])
    out = s3(
        "CompleteMultipartUpload",
        Bucket=bucket,
        Key="one",
        UploadId=upload_id,
        MultipartUpload={"Parts": done},
    )
    assert out["ETag"] == f'"{hashlib.md5(hashlib.md5(b"only part").digest()).hexdigest()}-1"'


def test_multipart_errors(s3: Harness, bucket: str) -> None:
    upload_id, done = upload_parts(s3, bucket, "k", [b"small", b"x" * (5 * MiB), b"end"])

    def complete(
        parts: list[dict[str, Any]], key: str = "k", upload: str = upload_id
    ) -> ServiceError:
        return s3.error(
            "CompleteMultipartUpload",
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            MultipartUpload={"Parts": parts},
        )

    err = complete([done[1], done[0]])
    assert (err.code, err.status, err.message) == (
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
    )
    err = complete([done[0], done[0]])
    assert err.code == "InvalidPartOrder"
    err = complete([done[0], {"ETag": '"0000"', "PartNumber": 2}])
    assert (err.code, err.status) == ("InvalidPart", 400)
    assert err.message.startswith("One or more of the specified parts could not be found.")
    err = complete([done[0], {"ETag": done[1]["ETag"], "PartNumber": 7}])
    assert err.code == "InvalidPart"
    err = complete(done)
    assert (err.code, err.status, err.message) == (
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed object size.",
    )
    assert err.extra["PartNumber"] == "1"
    assert complete([]).code == "MalformedXML"
    assert complete(done, key="other").code == "NoSuchUpload"
    assert complete(done, upload="bogus").code == "NoSuchUpload"
    err = s3.error(
        "UploadPart", Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x"
    )
    assert (err.code, err.extra["ArgumentName"]) == ("InvalidArgument", "partNumber")
    # Only the two parts without the small one make a valid upload (the last part may be small).
    out = s3(
        "CompleteMultipartUpload",
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [done[1], done[2]]},
    )
    assert out["ETag"].endswith('-2"')
    assert s3.body(bucket, "k") == b"x" * (5 * MiB) + b"end"
    assert s3.blob_files() == {s3.record(bucket, "k")["BlobId"]}  # type: ignore[index]


def test_part_replacement_and_abort(s3: Harness, bucket: str) -> None:
    upload_id = s3("CreateMultipartUpload", Bucket=bucket, Key="k")["UploadId"]
    s3("UploadPart", Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"first")
    s3("UploadPart", Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"second")
    assert len(s3.blob_files()) == 1
    parts = s3("ListParts", Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (1, f'"{md5_hex(b"second")}"', 6)
    ]
    err = s3.error(
        "UploadPart",
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        PartNumber=2,
        Body=b"x",
        ContentMD5=b64md5(b"y"),
    )
    assert err.code == "BadDigest"
    assert len(s3.blob_files()) == 1
    assert s3("AbortMultipartUpload", Bucket=bucket, Key="k", UploadId=upload_id) == {
        "__status": 204
    }
    assert s3.blob_files() == set()
    assert (
        s3.error("AbortMultipartUpload", Bucket=bucket, Key="k", UploadId=upload_id).code
        == "NoSuchUpload"
    )
    assert (
        s3.error(
            "UploadPart", Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x"
        ).code
        == "NoSuchUpload"
    )
    assert s3.blob_files() == set()


def test_list_parts_paging(s3: Harness, bucket: str) -> None:
    upload_id, _ = upload_parts(s3, bucket, "k", [bytes([i]) for i in range(5)])
    page = s3("ListParts", Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] and page["NextPartNumberMarker"] == 2
    assert page["Initiator"]["ID"] == canonical_id(ACCT)  # an account initiator: as Owner
    assert page["Owner"]["ID"] == canonical_id(ACCT)
    page = s3(
        "ListParts", Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2, PartNumberMarker=4
    )
    assert [p["PartNumber"] for p in page["Parts"]] == [5] and not page["IsTruncated"]


def test_list_multipart_uploads(s3: Harness, bucket: str) -> None:
    ids: dict[str, list[str]] = {}
    for offset, key in enumerate(["b/x", "a", "b/y", "a", "c"]):
        s3.now = NOW + timedelta(seconds=offset)
        ids.setdefault(key, []).append(
            s3("CreateMultipartUpload", Bucket=bucket, Key=key)["UploadId"]
        )
    out = s3("ListMultipartUploads", Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in out["Uploads"]] == [
        ("a", ids["a"][0]),
        ("a", ids["a"][1]),
        ("b/x", ids["b/x"][0]),
        ("b/y", ids["b/y"][0]),
        ("c", ids["c"][0]),
    ]
    out = s3("ListMultipartUploads", Bucket=bucket, Delimiter="/", MaxUploads=2)
    assert [u["Key"] for u in out["Uploads"]] == ["a", "a"] and out["IsTruncated"]
    assert (out["NextKeyMarker"], out["NextUploadIdMarker"]) == ("a", ids["a"][1])
    out = s3(
        "ListMultipartUploads",
        Bucket=bucket,
        Delimiter="/",
        KeyMarker="a",
        UploadIdMarker=ids["a"][0],
    )
    assert [u["Key"] for u in out["Uploads"]] == ["a", "c"]
    assert out["CommonPrefixes"] == [{"Prefix": "b/"}]
    out = s3("ListMultipartUploads", Bucket=bucket, Delimiter="/", KeyMarker="b/")
    assert [u["Key"] for u in out["Uploads"]] == ["c"] and out["CommonPrefixes"] == []
    out = s3("ListMultipartUploads", Bucket=bucket, Prefix="b/", EncodingType="url")
    assert [u["Key"] for u in out["Uploads"]] == ["b/x", "b/y"]
    assert out["EncodingType"] == "url"


def test_delete_bucket_drops_incomplete_uploads(s3: Harness, bucket: str) -> None:
    upload_parts(s3, bucket, "k", [b"part"])
    assert len(s3.blob_files()) == 1
    s3("DeleteBucket", Bucket=bucket)
    assert s3.blob_files() == set()
    s3("CreateBucket", Bucket=bucket)
    assert s3("ListMultipartUploads", Bucket=bucket)["Uploads"] == []


# -- orphan sweep ------------------------------------------------------------------------------


def test_sweep_orphans(s3: Harness, bucket: str) -> None:
    s3("PutObject", Bucket=bucket, Key="kept", Body=b"kept")
    upload_id = s3("CreateMultipartUpload", Bucket=bucket, Key="mp")["UploadId"]
    s3("UploadPart", Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part")
    referenced = s3.blob_files()
    old_orphan = s3.blobs.write_bytes(b"left by a crash").id
    young_orphan = s3.blobs.write_bytes(b"a request in flight").id
    an_hour_ago = time.time() - 7200
    for blob_id in (*referenced, old_orphan):
        path = s3.blobs.root / blob_id[:2] / blob_id
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert s3.s3.sweep_orphans(s3.store.read) == 1
    assert s3.blob_files() == referenced | {young_orphan}
    assert s3.s3.sweep_orphans(older_than=0) == 1
    assert s3.blob_files() == referenced
    assert s3.body(bucket, "kept") == b"kept"
