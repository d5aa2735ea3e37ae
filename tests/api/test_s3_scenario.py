"""The seed scenario's S3 decisions on real requests (spec 2.3, 2.4, 2.8, 5.6, 10): Admin's log
bucket read through Admin's roles, D's and E's users reaching it directly (identity policy AND
bucket-policy grant), an explicit Deny for one account, anonymous and public access, presigned
URLs (SigV2 and SigV4) and GetSessionToken sessions."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server

DENIED = ("AccessDenied", "Access Denied", 403)
FORBIDDEN = ("403", "Forbidden", 403)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def role_arn(name: str, account: str = MANAGEMENT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def s3_client(server: Server, keys: Keys | None, **config: Any) -> Any:
    """An S3 client for ``keys`` (None: unsigned, i.e. anonymous)."""
    if keys is None:
        return boto3.client(
            "s3", endpoint_url=server.endpoint, region_name=REGION,
            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}, **config),
        )
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=keys.key,
        aws_secret_access_key=keys.secret, aws_session_token=keys.token,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def why_not(who: str, action: str, resource: str,
            missing: str = "identity-based policy") -> tuple[str, str, int]:
    """S3's explained AccessDenied (given to callers of the owner's account or organization):
    no policy of kind ``missing`` allows the action."""
    return ("AccessDenied", f'User: {who} is not authorized to perform: {action} on resource: '
            f'"{resource}" because no {missing} allows the {action} action', 403)


def denied_by(who: str, action: str, resource: str,
              where: str = "a resource-based policy") -> tuple[str, str, int]:
    """S3's explained AccessDenied for an explicit Deny in a policy of kind ``where``."""
    return ("AccessDenied", f'User: {who} is not authorized to perform: {action} on resource: '
            f'"{resource}" with an explicit deny in {where}', 403)


def session_arn(role: str, name: str, account: str = MANAGEMENT) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role}/{name}"


def obj(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def bkt(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


D_SESSION = session_arn(sc.D_ROLE, "dana-s3")


def refused(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    return error_of(exc)


def empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


_D_SESSIONS: dict[int, Keys] = {}


def d_role_session(world: World) -> Keys:
    """One MFA-authenticated session of CloudTrailReader-D per test session (TOTP codes cannot
    be replayed, so every new one may mean waiting for the next 30 s step)."""
    if id(world) not in _D_SESSIONS:
        _D_SESSIONS[id(world)] = world.assume(
            world.users["D"], role_arn(sc.D_ROLE), "dana-s3",
            SerialNumber=world.mfa_serial, TokenCode=world.next_code(),
        )
    return _D_SESSIONS[id(world)]


def grant_d_role(world: World, bucket: str) -> str:
    """The scenario's own-prefix policy for ``bucket`` on Admin's D role (the seed attaches it
    for ``trail-bucket``; tests use buckets of their own); returns the policy name."""
    name = f"read-own-prefix-{bucket}"
    world.client("iam", world.admin).put_role_policy(
        RoleName=sc.D_ROLE, PolicyName=name,
        PolicyDocument=sc.dumps(sc.prefix_read(bucket, world.accounts["D"])),
    )
    return name


def member_iam(world: World, party: str) -> Any:
    session = world.assume(
        world.admin, role_arn("OrganizationAccountAccessRole", world.accounts[party]), "setup"
    )
    return world.client("iam", session)


@dataclass
class Logs:
    name: str
    keys: dict[str, list[str]] = field(default_factory=dict)  # party -> its log object keys
    bodies: dict[str, bytes] = field(default_factory=dict)

    def first(self, party: str) -> str:
        return self.keys[party][0]

    def policy(self, *statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def logs(world: World) -> Iterator[Logs]:
    admin = world.client("s3", world.admin)
    out = Logs(f"tg-logs-{uuid.uuid4().hex[:12]}")
    admin.create_bucket(Bucket=out.name)
    for party in ("D", "E", "R"):
        account = world.accounts[party]
        out.keys[party] = []
        for hour in ("0000", "0100"):
            key = (f"AWSLogs/{account}/CloudTrail/us-east-1/2026/01/01/"
                   f"{account}_CloudTrail_us-east-1_20260101T{hour}Z_{party}.json.gz")
            body = json.dumps({"Records": [{"recipientAccountId": account, "hour": hour}]})
            admin.put_object(Bucket=out.name, Key=key, Body=body.encode(),
                             ContentType="application/json")
            out.keys[party].append(key)
            out.bodies[key] = body.encode()
    policy_name = grant_d_role(world, out.name)
    yield out
    world.client("iam", world.admin).delete_role_policy(RoleName=sc.D_ROLE, PolicyName=policy_name)
    admin.delete_bucket_policy(Bucket=out.name)
    empty_and_delete(admin, out.name)


# -- through Admin's roles (same-account decisions, spec 2.4) --------------------------------------


def test_d_role_reads_only_its_own_prefix(world: World, logs: Logs) -> None:
    s3 = s3_client(world.server, d_role_session(world))
    for key in logs.keys["D"]:
        assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
    assert s3.head_object(Bucket=logs.name, Key=logs.first("D"))["ContentType"] == (
        "application/json"
    )
    for party in ("E", "R"):
        assert refused(s3.get_object, Bucket=logs.name, Key=logs.first(party)) == why_not(
            D_SESSION, "s3:GetObject", obj(logs.name, logs.first(party)))
        assert refused(s3.head_object, Bucket=logs.name, Key=logs.first(party)) == FORBIDDEN
    # Read-only: no writes, even under its own prefix.
    own = f"AWSLogs/{world.accounts['D']}/forged.json.gz"
    assert refused(s3.put_object, Bucket=logs.name, Key=own, Body=b"x") == why_not(
        D_SESSION, "s3:PutObject", obj(logs.name, own))
    assert refused(s3.delete_object, Bucket=logs.name, Key=logs.first("D")) == why_not(
        D_SESSION, "s3:DeleteObject", obj(logs.name, logs.first("D")))
    assert s3.get_bucket_location(Bucket=logs.name)["LocationConstraint"] is None
    assert logs.name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert refused(s3.get_bucket_policy, Bucket=logs.name) == why_not(
        D_SESSION, "s3:GetBucketPolicy", bkt(logs.name))


def test_d_role_listing_is_limited_by_the_prefix_condition(world: World, logs: Logs) -> None:
    s3 = s3_client(world.server, d_role_session(world))
    d, e = world.accounts["D"], world.accounts["E"]
    own = s3.list_objects_v2(Bucket=logs.name, Prefix=f"AWSLogs/{d}/")
    assert [o["Key"] for o in own["Contents"]] == logs.keys["D"]
    v1 = s3.list_objects(Bucket=logs.name, Prefix=f"AWSLogs/{d}/CloudTrail/", Delimiter="/")
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == [f"AWSLogs/{d}/CloudTrail/us-east-1/"]
    # The console-style walk down from the top: "" and "AWSLogs/" are allowed prefixes.
    top = s3.list_objects_v2(Bucket=logs.name, Prefix="", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["AWSLogs/"]
    accounts = s3.list_objects_v2(Bucket=logs.name, Prefix="AWSLogs/", Delimiter="/")
    assert [p["Prefix"] for p in accounts["CommonPrefixes"]] == sorted(
        f"AWSLogs/{world.accounts[p]}/" for p in ("D", "E", "R")
    )
    listing = why_not(D_SESSION, "s3:ListBucket", bkt(logs.name))
    assert refused(s3.list_objects_v2, Bucket=logs.name, Prefix=f"AWSLogs/{e}/") == listing
    assert refused(s3.list_objects, Bucket=logs.name, Prefix=f"AWSLogs/{e}/") == listing
    # No prefix parameter at all: s3:prefix is absent, the StringLike condition fails.
    assert refused(s3.list_objects_v2, Bucket=logs.name) == listing
    # "AWSLogs/<D>" without the slash matches none of the allowed patterns.
    assert refused(s3.list_objects_v2, Bucket=logs.name, Prefix=f"AWSLogs/{d}") == listing
    assert refused(s3.head_bucket, Bucket=logs.name) == FORBIDDEN


def test_e_role_reads_every_prefix_and_cannot_write(world: World, logs: Logs) -> None:
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin-s3")
    s3 = s3_client(world.server, session)
    for party in ("D", "E", "R"):
        key = logs.first(party)
        assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=logs.name)["Contents"]]
    assert listed == sorted(k for keys in logs.keys.values() for k in keys)
    assert s3.head_bucket(Bucket=logs.name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    e_key = logs.first("E")
    erin = session_arn(sc.E_ROLE, "erin-s3")
    assert refused(s3.put_object, Bucket=logs.name, Key=e_key, Body=b"overwrite") == why_not(
        erin, "s3:PutObject", obj(logs.name, e_key))
    assert refused(s3.delete_object, Bucket=logs.name, Key=e_key) == why_not(
        erin, "s3:DeleteObject", obj(logs.name, e_key))
    assert refused(s3.copy_object, Bucket=logs.name, Key="copied",
                   CopySource={"Bucket": logs.name, "Key": e_key}) == why_not(
        erin, "s3:PutObject", obj(logs.name, "copied"))
    new_bucket = f"tg-e-{uuid.uuid4().hex[:12]}"
    assert refused(s3.create_bucket, Bucket=new_bucket) == why_not(
        erin, "s3:CreateBucket", bkt(new_bucket))
    assert refused(s3.put_bucket_policy, Bucket=logs.name, Policy=logs.policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{world.accounts['E']}:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{logs.name}/*"})) == why_not(
        erin, "s3:PutBucketPolicy", bkt(logs.name))
    # DeleteObjects: refused as a whole or per key, but the object stays.
    try:
        result = s3.delete_objects(Bucket=logs.name, Delete={"Objects": [{"Key": e_key}]})
        assert [(x["Key"], x["Code"]) for x in result.get("Errors", [])] == [
            (e_key, "AccessDenied")
        ]
        assert "Deleted" not in result
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
    admin = world.client("s3", world.admin)
    assert admin.get_object(Bucket=logs.name, Key=e_key)["Body"].read() == logs.bodies[e_key]


def test_a_missing_key_is_told_only_to_callers_that_may_list(world: World, logs: Logs) -> None:
    """S3 answers NoSuchKey (404) for a missing key only when the caller has s3:ListBucket on
    the bucket; otherwise AccessDenied (403), so that a reader cannot probe for keys."""
    d = world.accounts["D"]
    missing = f"AWSLogs/{d}/CloudTrail/us-east-1/2026/01/01/missing.json.gz"
    # D's role may GetObject under its prefix, but ListBucket only with an s3:prefix
    # condition, which a GetObject does not carry.
    d_s3 = s3_client(world.server, d_role_session(world))
    # The refusal names the permission that is missing: s3:ListBucket on the bucket.
    assert refused(d_s3.get_object, Bucket=logs.name, Key=missing) == why_not(
        D_SESSION, "s3:ListBucket", bkt(logs.name))
    assert refused(d_s3.head_object, Bucket=logs.name, Key=missing) == FORBIDDEN
    # E's role (AmazonS3ReadOnlyAccess: s3:List* too) learns that the key is not there.
    e_s3 = s3_client(world.server, world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin"))
    assert refused(e_s3.get_object, Bucket=logs.name, Key=missing) == (
        "NoSuchKey", "The specified key does not exist.", 404)
    assert refused(e_s3.head_object, Bucket=logs.name, Key=missing) == ("404", "Not Found", 404)
    # The bucket owner too.
    admin = world.client("s3", world.admin)
    assert refused(admin.get_object, Bucket=logs.name, Key=missing)[0] == "NoSuchKey"


def test_delete_objects_reports_denied_keys(world: World, logs: Logs) -> None:
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "erin-s3")
    s3 = s3_client(world.server, session)
    result = s3.delete_objects(Bucket=logs.name, Delete={"Objects": [{"Key": logs.first("E")}]})
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert result["Errors"] == [
        {"Key": logs.first("E"), "Code": "AccessDenied", "Message": "Access Denied"}
    ]


def test_r_role_with_external_id_reads_everything(world: World, logs: Logs) -> None:
    with pytest.raises(ClientError) as exc:
        world.assume(world.users["R"], role_arn(sc.R_ROLE), "analyzer")
    assert error_of(exc)[::2] == ("AccessDenied", 403)
    session = world.assume(world.users["R"], role_arn(sc.R_ROLE), "analyzer",
                           ExternalId=sc.EXTERNAL_ID)
    s3 = s3_client(world.server, session)
    for keys in logs.keys.values():
        for key in keys:
            assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
    accounts = s3.list_objects_v2(Bucket=logs.name, Prefix="AWSLogs/", Delimiter="/")
    assert len(accounts["CommonPrefixes"]) == 3
    assert refused(s3.put_object, Bucket=logs.name, Key="AWSLogs/x", Body=b"x") == why_not(
        session_arn(sc.R_ROLE, "analyzer"), "s3:PutObject", obj(logs.name, "AWSLogs/x"))


def test_session_policy_narrows_a_role_session(world: World, logs: Logs) -> None:
    d = world.accounts["D"]
    narrow = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{logs.name}/AWSLogs/{d}/*"}]})
    session = world.assume(world.users["E"], role_arn(sc.E_ROLE), "narrow", Policy=narrow)
    s3 = s3_client(world.server, session)
    key = logs.first("D")
    assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
    narrowed = session_arn(sc.E_ROLE, "narrow")
    assert refused(s3.get_object, Bucket=logs.name, Key=logs.first("E")) == why_not(
        narrowed, "s3:GetObject", obj(logs.name, logs.first("E")), "session policy")
    assert refused(s3.list_objects_v2, Bucket=logs.name, Prefix="AWSLogs/") == why_not(
        narrowed, "s3:ListBucket", bkt(logs.name), "session policy")


@pytest.mark.parametrize("grantee", ["role", "session", "account"])
def test_same_account_bucket_grant(world: World, logs: Logs, grantee: str) -> None:
    """Spec 2.3: in the owner's account a bucket-policy grant naming the role or the session
    allows without any identity policy; one naming the account still needs the identity
    policy (which D's role lacks for E's prefix)."""
    principal = {
        "role": role_arn(sc.D_ROLE),
        "session": f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/dana-s3",
        "account": f"arn:aws:iam::{MANAGEMENT}:root",
    }[grantee]
    admin = world.client("s3", world.admin)
    e_prefix = f"arn:aws:s3:::{logs.name}/AWSLogs/{world.accounts['E']}/*"
    admin.put_bucket_policy(Bucket=logs.name, Policy=logs.policy({
        "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
        "Resource": e_prefix}))
    try:
        s3 = s3_client(world.server, d_role_session(world))
        key = logs.first("E")
        if grantee == "account":
            assert refused(s3.get_object, Bucket=logs.name, Key=key) == why_not(
                D_SESSION, "s3:GetObject", obj(logs.name, key))
        else:
            assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        assert refused(s3.get_object, Bucket=logs.name, Key=logs.first("R")) == why_not(
            D_SESSION, "s3:GetObject", obj(logs.name, logs.first("R")))
    finally:
        admin.delete_bucket_policy(Bucket=logs.name)


# -- users reaching the bucket directly (cross-account decisions, spec 2.4) ------------------------


def put_identity_policy(world: World, party: str, name: str, document: dict[str, Any]) -> Any:
    """Through OrganizationAccountAccessRole in the party's account; returns its IAM client."""
    iam = member_iam(world, party)
    iam.put_user_policy(UserName=f"{party.lower()}-user", PolicyName=name,
                        PolicyDocument=json.dumps(document))
    return iam


def read_logs_document(bucket: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}


def test_direct_user_access_needs_identity_policy_and_bucket_grant(
    world: World, logs: Logs
) -> None:
    admin = world.client("s3", world.admin)
    d = world.accounts["D"]
    admin.put_bucket_policy(Bucket=logs.name, Policy=logs.policy({
        "Sid": "DReadsOwnPrefix", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{d}:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{logs.name}/AWSLogs/{d}/*"}))
    d_user = s3_client(world.server, world.users["D"])
    e_user = s3_client(world.server, world.users["E"])
    # Bucket grant only: d-user's identity policy allows nothing but sts:AssumeRole.
    # (D and E are accounts of Admin's organization: S3 explains its refusals to them.)
    dana, erin = f"arn:aws:iam::{d}:user/d-user", f"arn:aws:iam::{world.accounts['E']}:user/e-user"
    no_identity = why_not(dana, "s3:GetObject", obj(logs.name, logs.first("D")))
    assert refused(d_user.get_object, Bucket=logs.name, Key=logs.first("D")) == no_identity
    name = f"s3-read-{logs.name}"
    d_iam = put_identity_policy(world, "D", name, read_logs_document(logs.name))
    e_iam = put_identity_policy(world, "E", name, read_logs_document(logs.name))
    try:
        # Identity policy AND bucket grant: allowed.
        key = logs.first("D")
        assert d_user.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        # The grant covers D's prefix only, and not listing.
        grant = "resource-based policy"
        # So a missing key under D's prefix is not told as such: listing is not granted.
        gone = f"AWSLogs/{d}/missing.json.gz"
        assert refused(d_user.get_object, Bucket=logs.name, Key=gone) == why_not(
            dana, "s3:ListBucket", bkt(logs.name), grant)
        assert refused(d_user.get_object, Bucket=logs.name, Key=logs.first("E")) == why_not(
            dana, "s3:GetObject", obj(logs.name, logs.first("E")), grant)
        assert refused(d_user.list_objects_v2, Bucket=logs.name, Prefix=f"AWSLogs/{d}/") == (
            why_not(dana, "s3:ListBucket", bkt(logs.name), grant))
        # Identity policy alone (no grant to E's account): refused.
        for party in ("E", "D"):
            assert refused(e_user.get_object, Bucket=logs.name, Key=logs.first(party)) == (
                why_not(erin, "s3:GetObject", obj(logs.name, logs.first(party)), grant))
        assert refused(e_user.list_objects_v2, Bucket=logs.name) == why_not(
            erin, "s3:ListBucket", bkt(logs.name), grant)
        # The grant names D's account: any principal of D whose identity policy allows is in,
        # e.g. a session of D's OrganizationAccountAccessRole (AdministratorAccess).
        d_admin = world.assume(world.admin, role_arn("OrganizationAccountAccessRole", d), "ops")
        assert world.client("s3", d_admin).get_object(
            Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        assert refused(world.client("s3", d_admin).get_object,
                       Bucket=logs.name, Key=logs.first("E")) == why_not(
            session_arn("OrganizationAccountAccessRole", "ops", d), "s3:GetObject",
            obj(logs.name, logs.first("E")), grant)
    finally:
        d_iam.delete_user_policy(UserName="d-user", PolicyName=name)
        e_iam.delete_user_policy(UserName="e-user", PolicyName=name)
        admin.delete_bucket_policy(Bucket=logs.name)
    # Identity policy and grant removed: refused again (a cross-account request is told
    # first about the missing grant).
    assert refused(d_user.get_object, Bucket=logs.name, Key=logs.first("D")) == why_not(
        dana, "s3:GetObject", obj(logs.name, logs.first("D")), "resource-based policy")


def test_bucket_policy_deny_for_one_account(world: World, logs: Logs) -> None:
    admin = world.client("s3", world.admin)
    root = world.server.client("s3", ROOT_KEY, ROOT_SECRET)
    d, e = world.accounts["D"], world.accounts["E"]
    allow = {"Sid": "MembersRead", "Effect": "Allow",
             "Principal": {"AWS": [f"arn:aws:iam::{d}:root", f"arn:aws:iam::{e}:root"]},
             "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{logs.name}/*"}
    deny = {"Sid": "NotE", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{e}:root"},
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{logs.name}", f"arn:aws:s3:::{logs.name}/*"]}
    name = f"s3-read-{logs.name}-deny"
    d_iam = put_identity_policy(world, "D", name, read_logs_document(logs.name))
    e_iam = put_identity_policy(world, "E", name, read_logs_document(logs.name))
    d_user = s3_client(world.server, world.users["D"])
    e_user = s3_client(world.server, world.users["E"])
    key = logs.first("E")
    try:
        admin.put_bucket_policy(Bucket=logs.name, Policy=logs.policy(allow))
        assert e_user.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        admin.put_bucket_policy(Bucket=logs.name, Policy=logs.policy(allow, deny))
        assert refused(e_user.get_object, Bucket=logs.name, Key=key) == denied_by(
            f"arn:aws:iam::{e}:user/e-user", "s3:GetObject", obj(logs.name, key))
        assert d_user.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        # A session of E's role lives in Admin's account: the Deny names E's account only.
        e_role = s3_client(world.server, world.assume(world.users["E"], role_arn(sc.E_ROLE)))
        assert e_role.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
        # The owner's principals are untouched.
        for owner in (admin, root):
            assert owner.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
            assert owner.list_objects_v2(Bucket=logs.name, Prefix="AWSLogs/")["KeyCount"] == 6
            owner.put_object(Bucket=logs.name, Key="owner-note.txt", Body=b"still mine")
            owner.delete_object(Bucket=logs.name, Key="owner-note.txt")
            assert json.loads(owner.get_bucket_policy(Bucket=logs.name)["Policy"]) == json.loads(
                logs.policy(allow, deny))
    finally:
        d_iam.delete_user_policy(UserName="d-user", PolicyName=name)
        e_iam.delete_user_policy(UserName="e-user", PolicyName=name)
        admin.delete_bucket_policy(Bucket=logs.name)


def d_admin_s3(world: World) -> Any:
    """A session of D's OrganizationAccountAccessRole (AdministratorAccess in D)."""
    session = world.assume(
        world.admin, role_arn("OrganizationAccountAccessRole", world.accounts["D"]), "ops"
    )
    return world.client("s3", session)


def test_an_administrator_of_another_account_has_no_access(world: World, logs: Logs) -> None:
    s3 = d_admin_s3(world)
    assert logs.name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # Administrator in D, but no bucket-policy grant: cross-account requests are refused.
    ops = session_arn("OrganizationAccountAccessRole", "ops", world.accounts["D"])
    grant = "resource-based policy"
    assert refused(s3.get_object, Bucket=logs.name, Key=logs.first("D")) == why_not(
        ops, "s3:GetObject", obj(logs.name, logs.first("D")), grant)
    for call, action in ((s3.list_objects_v2, "s3:ListBucket"),
                         (s3.get_bucket_policy, "s3:GetBucketPolicy"),
                         (s3.delete_bucket, "s3:DeleteBucket")):
        assert refused(call, Bucket=logs.name) == why_not(ops, action, bkt(logs.name), grant)


def test_another_account_cannot_take_the_bucket_name(world: World, logs: Logs) -> None:
    assert refused(d_admin_s3(world).create_bucket, Bucket=logs.name) == (
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users "
        "of the system. Please select a different name and try again.",
        409,
    )


# -- anonymous and public access -------------------------------------------------------------------


def test_anonymous_access_and_the_public_access_block(world: World) -> None:
    admin = world.client("s3", world.admin)
    name = f"tg-public-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name)
    anonymous = s3_client(world.server, None)
    policy_name = f"read-{name}"
    e_iam = put_identity_policy(world, "E", policy_name, {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]})
    try:
        admin.put_object(Bucket=name, Key="site/index.html", Body=b"<h1>public</h1>",
                         ContentType="text/html")
        assert refused(anonymous.get_object, Bucket=name, Key="site/index.html") == DENIED
        assert refused(anonymous.head_object, Bucket=name, Key="site/index.html") == FORBIDDEN
        assert refused(anonymous.list_objects_v2, Bucket=name) == DENIED
        assert refused(anonymous.list_buckets) == DENIED
        assert refused(anonymous.create_bucket, Bucket=f"tg-anon-{uuid.uuid4().hex[:12]}") == (
            DENIED)
        public = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/site/*"}]})
        # BlockPublicPolicy (on for new buckets) refuses the public statement itself.
        assert refused(admin.put_bucket_policy, Bucket=name, Policy=public) == (
            "AccessDenied",
            f"User: arn:aws:iam::{MANAGEMENT}:user/admin is not authorized to perform: "
            f's3:PutBucketPolicy on resource: "{bkt(name)}" because public policies are '
            "blocked by the BlockPublicPolicy block public access setting.", 403)
        admin.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False,
            "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        admin.put_bucket_policy(Bucket=name, Policy=public)
        got = anonymous.get_object(Bucket=name, Key="site/index.html")
        assert (got["Body"].read(), got["ContentType"]) == (b"<h1>public</h1>", "text/html")
        assert urllib.request.urlopen(
            f"{world.server.endpoint}/{name}/site/index.html", timeout=10).read() == (
            b"<h1>public</h1>")
        # The statement grants reads under site/ only.
        assert refused(anonymous.list_objects_v2, Bucket=name) == DENIED
        assert refused(anonymous.put_object, Bucket=name, Key="site/x", Body=b"x") == DENIED
        admin.put_object(Bucket=name, Key="private.txt", Body=b"secret")
        assert refused(anonymous.get_object, Bucket=name, Key="private.txt") == DENIED
        # Another account's user whose identity policy allows: the public statement grants it.
        e_user = s3_client(world.server, world.users["E"])
        assert e_user.get_object(Bucket=name, Key="site/index.html")["Body"].read() == (
            b"<h1>public</h1>")
        # RestrictPublicBuckets: the public statement no longer grants anyone outside Admin.
        admin.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False,
            "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
        assert refused(anonymous.get_object, Bucket=name, Key="site/index.html") == DENIED
        # E's user is of Admin's organization: told why.
        assert refused(e_user.get_object, Bucket=name, Key="site/index.html") == why_not(
            f"arn:aws:iam::{world.accounts['E']}:user/e-user", "s3:GetObject",
            obj(name, "site/index.html"), "resource-based policy")
        assert admin.get_object(Bucket=name, Key="site/index.html")["Body"].read() == (
            b"<h1>public</h1>")
        # Lifted again, the public grant works again.
        admin.delete_public_access_block(Bucket=name)
        assert anonymous.get_object(Bucket=name, Key="site/index.html")["Body"].read() == (
            b"<h1>public</h1>")
    finally:
        e_iam.delete_user_policy(UserName="e-user", PolicyName=policy_name)
        admin.delete_bucket_policy(Bucket=name)
        empty_and_delete(admin, name)


# -- presigned URLs (spec 5.4, 5.6) ----------------------------------------------------------------


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def s3_error(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    assert root.tag == "Error"
    return root.findtext("Code") or "", root.findtext("Message") or ""


def test_presigned_urls_sigv2_and_sigv4(world: World, logs: Logs) -> None:
    v2 = world.client("s3", world.admin)
    v4 = s3_client(world.server, world.admin, signature_version="s3v4")
    key = logs.first("E")
    params = {"Bucket": logs.name, "Key": key}
    # Valid for 2 s (botocore's boto3 default for S3 is the SigV2 query form, spec 5.6).
    short_v2 = v2.generate_presigned_url("get_object", Params=params, ExpiresIn=2)
    assert fetch(short_v2) == (200, logs.bodies[key])
    short_v4 = v4.generate_presigned_url("get_object", Params=params, ExpiresIn=2)
    issued = time.monotonic()
    assert fetch(short_v4) == (200, logs.bodies[key])
    assert "AWSAccessKeyId=" in short_v2 and "Signature=" in short_v2 and "Expires=" in short_v2
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in short_v4 and "X-Amz-Expires=2" in short_v4
    # Longer-lived URLs, a tampered one, and ones signed by principals without access.
    long_v2 = v2.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert fetch(long_v2) == (200, logs.bodies[key])
    tampered = long_v2.replace("Signature=", "Signature=AAAA")
    code, body = fetch(tampered)
    assert (code, s3_error(body)[0]) == (403, "SignatureDoesNotMatch")
    e_user = world.client("s3", world.users["E"])
    e_refused = why_not(f"arn:aws:iam::{world.accounts['E']}:user/e-user", "s3:GetObject",
                        obj(logs.name, key), "resource-based policy")
    for client in (e_user, s3_client(world.server, world.users["E"], signature_version="s3v4")):
        code, body = fetch(client.generate_presigned_url("get_object", Params=params))
        assert (code, s3_error(body)) == (403, e_refused[:2])
    # A role session's URL carries its token: D's session reads D's prefix only.
    d_session = d_role_session(world)
    for client in (s3_client(world.server, d_session),
                   s3_client(world.server, d_session, signature_version="s3v4")):
        own = client.generate_presigned_url(
            "get_object", Params={"Bucket": logs.name, "Key": logs.first("D")})
        assert "x-amz-security-token=" in own.lower()
        assert fetch(own) == (200, logs.bodies[logs.first("D")])
        code, body = fetch(client.generate_presigned_url("get_object", Params=params))
        assert (code, s3_error(body)) == (403, why_not(D_SESSION, "s3:GetObject",
                                                       obj(logs.name, key))[:2])
    # A presigned PUT (SigV4) writes the object.
    put_url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": logs.name, "Key": "uploads/presigned.txt"}, ExpiresIn=60)
    assert fetch(put_url, "PUT", b"via presigned PUT")[0] == 200
    assert v2.get_object(Bucket=logs.name, Key="uploads/presigned.txt")["Body"].read() == (
        b"via presigned PUT")
    v2.delete_object(Bucket=logs.name, Key="uploads/presigned.txt")
    # Expired.
    time.sleep(max(0.0, 3.2 - (time.monotonic() - issued)))
    for url in (short_v2, short_v4):
        code, body = fetch(url)
        assert (code, s3_error(body)) == (403, ("AccessDenied", "Request has expired"))


# -- GetSessionToken ---------------------------------------------------------------------------------


def test_session_token_acts_as_its_user(world: World, logs: Logs) -> None:
    creds = world.client("sts", world.admin).get_session_token()["Credentials"]
    session = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert world.client("sts", session).get_caller_identity()["Arn"] == (
        f"arn:aws:iam::{MANAGEMENT}:user/admin"
    )
    s3 = s3_client(world.server, session)
    key = logs.first("R")
    assert s3.get_object(Bucket=logs.name, Key=key)["Body"].read() == logs.bodies[key]
    s3.put_object(Bucket=logs.name, Key="notes/session.txt", Body=b"by a session")
    assert s3.get_object(Bucket=logs.name, Key="notes/session.txt")["Body"].read() == (
        b"by a session")
    s3.delete_object(Bucket=logs.name, Key="notes/session.txt")
    # E's user has no S3 rights, and neither has its session.
    creds = world.client("sts", world.users["E"]).get_session_token()["Credentials"]
    e_session = s3_client(world.server, Keys(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))
    e_user = f"arn:aws:iam::{world.accounts['E']}:user/e-user"  # a session acts as its user
    assert refused(e_session.get_object, Bucket=logs.name, Key=logs.first("E")) == why_not(
        e_user, "s3:GetObject", obj(logs.name, logs.first("E")), "resource-based policy")
    assert refused(e_session.list_objects_v2, Bucket=logs.name) == why_not(
        e_user, "s3:ListBucket", bkt(logs.name), "resource-based policy")
