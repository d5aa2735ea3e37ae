"""The CloudTrail scenario through boto3 (spec 7.3, 7.6-7.8): Admin, D, E and R each have a
trail delivering into one bucket of Admin's; activity in every account (IAM calls, cross-account
AssumeRole with and without MFA, S3 bucket-level calls by a role session) must show up in the
delivered log files under each account's own prefix, with the right identities, exactly once,
without secrets, and in event history.

The helpers at the top (:class:`LogReader`, :data:`KEY_RE`, :func:`rid`) are shared with the
other CloudTrail test modules."""

from __future__ import annotations

import gzip
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from trailgate import scenario as sc

from .scenario_setup import Keys, World
from .server import MANAGEMENT, REGION, ROOT_SECRET

# -- shared helpers -----------------------------------------------------------------------------

KEY_RE = re.compile(
    r"AWSLogs/(?P<acct>\d{12})/CloudTrail/us-east-1/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail_us-east-1_(?P=y)(?P=m)(?P=d)T(?P<hm>\d{4})Z_[A-Za-z0-9]{16}\.json\.gz"
)
EVENT_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WAIT = 30.0  # seconds: the session server delivers every 2 s


def rid(response: dict[str, Any]) -> str:
    """The request id boto3 received (success or ClientError response)."""
    return str(response["ResponseMetadata"]["RequestId"])


def failed(call: Any, **params: Any) -> tuple[str, str]:
    """(error code, request id) of a call that must fail."""
    with pytest.raises(ClientError) as exc:
        call(**params)
    return exc.value.response["Error"]["Code"], rid(exc.value.response)


def org_role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"


class LogReader:
    """Reads the CloudTrail log files of one bucket (and key prefix) with ``s3`` (a client of
    someone allowed to list and read them), caching every file it has fetched."""

    def __init__(self, s3: Any, bucket: str, prefix: str = "") -> None:
        self.s3 = s3
        self.bucket = bucket
        self.base = f"{prefix}/" if prefix else ""
        self.texts: dict[str, str] = {}  # key -> the gunzipped JSON text
        self.parsed: dict[str, list[dict[str, Any]]] = {}
        self.all_keys: list[str] = []

    def refresh(self) -> None:
        keys: list[str] = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.base}AWSLogs/"
        )
        for page in pages:
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        self.all_keys = keys
        for key in keys:
            if key in self.texts or "/CloudTrail/" not in key:
                continue
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            text = gzip.decompress(body).decode("utf-8")
            self.texts[key] = text
            self.parsed[key] = json.loads(text)["Records"]

    def log_keys(self, account: str) -> list[str]:
        """The log file keys (not digests) under ``account``'s folder."""
        head = f"{self.base}AWSLogs/{account}/CloudTrail/"
        return sorted(k for k in self.texts if k.startswith(head))

    def records(self, account: str | None = None) -> list[dict[str, Any]]:
        keys = self.texts if account is None else self.log_keys(account)
        return [r for k in keys for r in self.parsed[k]]

    def by_request(self, account: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for record in self.records(account):
            out.setdefault(record["requestID"], []).append(record)
        return out

    def missing(self, account: str, ids: Iterable[str]) -> set[str]:
        seen = {r["requestID"] for r in self.records(account)}
        return set(ids) - seen

    def wait_for(self, account: str, ids: Iterable[str], timeout: float = WAIT,
                 *, strict: bool = True) -> set[str]:
        """Polls the bucket until every request id is in ``account``'s records; the ids still
        missing at the deadline (an assertion error when ``strict``)."""
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        while True:
            self.refresh()
            missing = self.missing(account, wanted)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        if strict:
            assert not missing, f"not delivered for {account} within {timeout}s: {missing}"
        return missing

    def one(self, account: str, request_id: str) -> dict[str, Any]:
        found = self.by_request(account).get(request_id, [])
        assert len(found) == 1, f"{request_id} in {account}'s log {len(found)} times"
        return found[0]


def bucket_policy(bucket: str, trails: list[tuple[str, str, str]]) -> str:
    """CloudTrail's bucket policy for ``(account, trail name, key prefix)`` entries (prefixes
    may differ per trail; spec 7.3)."""
    arns = sorted({sc.trail_arn(acct, name) for acct, name, _ in trails})
    resources = sorted({
        f"arn:aws:s3:::{bucket}/" + (f"{prefix}/" if prefix else "") + f"AWSLogs/{acct}/*"
        for acct, _, prefix in trails
    })
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringEquals": {"aws:SourceArn": arns}}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": resources,
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                            "aws:SourceArn": arns}}},
        ],
    })


# -- the scenario -------------------------------------------------------------------------------


@dataclass
class Scenario:
    world: World
    bucket: str
    accounts: dict[str, str]  # Admin/D/E/R -> account id
    names: dict[str, str]  # party -> trail name
    clients: dict[str, Any]  # party -> CloudTrail client of that account
    reader: LogReader
    started: datetime
    expect: dict[str, list[str]] = field(default_factory=dict)  # account -> request ids
    secrets: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # what a call was -> its request id
    keys: dict[str, Keys] = field(default_factory=dict)  # sessions made during the activity
    missing: dict[str, set[str]] = field(default_factory=dict)

    def note(self, label: str, request_id: str, *parties: str) -> str:
        self.ids[label] = request_id
        for party in parties:
            self.expect.setdefault(self.accounts[party], []).append(request_id)
        return request_id

    def keep(self, keys: Keys) -> Keys:
        self.secrets.append(keys.secret)
        return keys


def _assume(scen: Scenario, label: str, keys: Keys, role: str, session: str,
            parties: tuple[str, ...], **extra: Any) -> Keys:
    resp = scen.world.client("sts", keys).assume_role(
        RoleArn=role, RoleSessionName=session, **extra
    )
    scen.note(label, rid(resp), *parties)
    creds = resp["Credentials"]
    return scen.keep(Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))


def _activity(scen: Scenario) -> None:
    world, acct = scen.world, scen.accounts
    suffix = scen.bucket.rsplit("-", 1)[-1]
    admin_iam = world.client("iam", world.admin)
    # Admin's own IAM calls (IAMUser admin).
    user = f"ct-sc-{suffix}"
    scen.note("admin.CreateUser", rid(admin_iam.create_user(UserName=user)), "Admin")
    scen.note("admin.GetUser", rid(admin_iam.get_user(UserName=user)), "Admin")
    resp = admin_iam.create_access_key(UserName=user)
    scen.note("admin.CreateAccessKey", rid(resp), "Admin")
    scen.secrets.append(resp["AccessKey"]["SecretAccessKey"])
    # Admin into D through OrganizationAccountAccessRole: cross-account, a copy for each.
    d_admin = _assume(scen, "admin.AssumeOrgRole.D", world.admin, org_role(acct["D"]),
                      "ct-admin-d", ("Admin", "D"))
    d_iam = world.client("iam", d_admin)
    d_user = f"ct-d-{suffix}"
    scen.note("d-admin.CreateUser", rid(d_iam.create_user(UserName=d_user)), "D")
    resp = d_iam.create_access_key(UserName=d_user)
    scen.note("d-admin.CreateAccessKey", rid(resp), "D")
    scen.secrets.append(resp["AccessKey"]["SecretAccessKey"])
    scen.note("d-admin.ListUsers", rid(d_iam.list_users()), "D")
    # d-user: its own identity, the MFA AssumeRole into Admin, a refused one without MFA, and
    # an IAM call it is not allowed to make.
    d_keys = world.users["D"]
    scen.note("d-user.GetCallerIdentity",
              rid(world.client("sts", d_keys).get_caller_identity()), "D")
    role_d = sc.role_arn(sc.D_ROLE)
    session = _assume(scen, "d-user.AssumeRole", d_keys, role_d, "ct-dana", ("D", "Admin"),
                      SerialNumber=world.mfa_serial, TokenCode=world.next_code())
    scen.keys["d-role"] = session
    code, denied = failed(world.client("sts", d_keys).assume_role,
                          RoleArn=role_d, RoleSessionName="ct-no-mfa")
    assert code == "AccessDenied"
    scen.note("d-user.AssumeRole.denied", denied, "D", "Admin")
    code, denied = failed(world.client("iam", d_keys).list_users)
    assert code == "AccessDenied"
    scen.note("d-user.ListUsers.denied", denied, "D")
    # The MFA role session's S3 bucket-level (management) calls: only in Admin's log.
    role_s3 = world.client("s3", session)
    scen.note("d-role.GetBucketLocation",
              rid(role_s3.get_bucket_location(Bucket=scen.bucket)), "Admin")
    scen.note("d-role.ListBuckets", rid(role_s3.list_buckets()), "Admin")
    code, denied = failed(role_s3.get_bucket_acl, Bucket=scen.bucket)
    assert code == "AccessDenied"
    scen.note("d-role.GetBucketAcl.denied", denied, "Admin")
    # E: IAM calls through Admin's org role session, e-user's AssumeRole (no MFA) and a call
    # of that role session.
    e_admin = _assume(scen, "admin.AssumeOrgRole.E", world.admin, org_role(acct["E"]),
                      "ct-admin-e", ("Admin", "E"))
    e_iam = world.client("iam", e_admin)
    scen.note("e-admin.CreateUser", rid(e_iam.create_user(UserName=f"ct-e-{suffix}")), "E")
    scen.note("e-admin.ListUsers", rid(e_iam.list_users()), "E")
    e_session = _assume(scen, "e-user.AssumeRole", world.users["E"], sc.role_arn(sc.E_ROLE),
                        "ct-erin", ("E", "Admin"))
    scen.keys["e-role"] = e_session
    scen.note("e-role.ListBuckets", rid(world.client("s3", e_session).list_buckets()), "Admin")
    # R: an IAM call in R and r-user's AssumeRole with the ExternalId.
    r_admin = _assume(scen, "admin.AssumeOrgRole.R", world.admin, org_role(acct["R"]),
                      "ct-admin-r", ("Admin", "R"))
    scen.note("r-admin.ListRoles", rid(world.client("iam", r_admin).list_roles()), "R")
    r_session = _assume(scen, "r-user.AssumeRole", world.users["R"], sc.role_arn(sc.R_ROLE),
                        "ct-rob", ("R", "Admin"), ExternalId=sc.EXTERNAL_ID)
    scen.note("r-role.GetBucketLocation",
              rid(world.client("s3", r_session).get_bucket_location(Bucket=scen.bucket)),
              "Admin")


def build_trails(world: World, parties: tuple[str, ...], bucket: str,
                 suffix: str) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """Admin creates ``bucket`` with the CloudTrail policy for each party's trail, then each
    party creates and starts its trail (members through OrganizationAccountAccessRole).
    Returns (party -> account, party -> trail name, party -> CloudTrail client)."""
    accounts = {p: MANAGEMENT if p == "Admin" else world.accounts[p] for p in parties}
    names = {p: f"{p.lower()}-trail-{suffix}" for p in parties}
    admin_s3 = world.client("s3", world.admin)
    admin_s3.create_bucket(Bucket=bucket)
    admin_s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(sc.cloudtrail_bucket_policy(
            bucket, {accounts[p]: sc.trail_arn(accounts[p], names[p]) for p in parties}
        )),
    )
    clients: dict[str, Any] = {}
    for party in parties:
        keys = world.admin if party == "Admin" else world.assume(
            world.admin, org_role(accounts[party]), "ct-setup"
        )
        clients[party] = world.client("cloudtrail", keys)
    for party in parties:
        created = clients[party].create_trail(
            Name=names[party], S3BucketName=bucket, EnableLogFileValidation=True
        )
        assert created["TrailARN"] == sc.trail_arn(accounts[party], names[party])
        assert created["LogFileValidationEnabled"] is True
        assert clients[party].get_trail_status(Name=names[party])["IsLogging"] is False
        clients[party].start_logging(Name=names[party])
    return accounts, names, clients


def remove_trails(names: dict[str, str], clients: dict[str, Any]) -> None:
    for party, name in names.items():
        try:
            clients[party].stop_logging(Name=name)
            clients[party].delete_trail(Name=name)
        except ClientError:
            pass


@pytest.fixture(scope="module")
def scen(world: World) -> Iterator[Scenario]:
    suffix = uuid.uuid4().hex[:10]
    bucket = f"tg-trails-{suffix}"
    started = datetime.now(UTC)
    accounts, names, clients = build_trails(world, ("Admin", "D", "E", "R"), bucket, suffix)
    reader = LogReader(world.client("s3", world.admin), bucket)
    scen = Scenario(world, bucket, accounts, names, clients, reader, started)
    scen.secrets += [ROOT_SECRET, world.admin.secret, *(k.secret for k in world.users.values())]
    try:
        _activity(scen)
        for account, ids in scen.expect.items():
            scen.missing[account] = reader.wait_for(account, ids, strict=False)
        yield scen
    finally:
        remove_trails(names, clients)


# -- tests --------------------------------------------------------------------------------------


def test_trails_are_logging_and_visible_to_their_owners(scen: Scenario) -> None:
    for party, client in scen.clients.items():
        name, account = scen.names[party], scen.accounts[party]
        status = client.get_trail_status(Name=name)
        assert status["IsLogging"] is True
        assert "StartLoggingTime" in status
        assert "LatestDeliveryError" not in status
        trail = client.get_trail(Name=sc.trail_arn(account, name))["Trail"]
        assert trail["S3BucketName"] == scen.bucket
        assert trail["LogFileValidationEnabled"] is True
        assert trail["HomeRegion"] == REGION
        # Each account sees only its own trail.
        listed = {t["TrailARN"] for t in client.describe_trails()["trailList"]}
        assert sc.trail_arn(account, name) in listed
        assert all(f":{account}:trail/" in arn for arn in listed)


def test_files_appear_under_each_accounts_prefix_with_the_key_format(scen: Scenario) -> None:
    reader = scen.reader
    reader.refresh()
    own = set(scen.accounts.values())
    for key in reader.all_keys:
        account = key.split("/")[1]
        assert account in own, key
        if "/CloudTrail-Digest/" in key:
            continue  # digests are not this test's subject
        match = KEY_RE.fullmatch(key)
        assert match is not None, key
        assert match["acct"] == account
    for party, account in scen.accounts.items():
        keys = reader.log_keys(account)
        assert keys, f"no log file for {party}"
        for key in keys:
            match = KEY_RE.fullmatch(key)
            assert match is not None
            # The file name's time is the delivery time: no record is newer than its minute.
            stamp = f"{match['y']}-{match['m']}-{match['d']}T{match['hm'][:2]}:{match['hm'][2:]}"
            assert scen.started.strftime("%Y-%m-%dT%H:%M") <= stamp
            for record in reader.parsed[key]:
                assert record["eventTime"][:16] <= stamp, (key, record["eventTime"])


def test_objects_are_plain_gzip_json_written_for_the_bucket_owner(scen: Scenario) -> None:
    s3 = scen.world.client("s3", scen.world.admin)
    key = scen.reader.log_keys(scen.accounts["D"])[0]
    head = s3.head_object(Bucket=scen.bucket, Key=key)
    # CloudTrail's metadata; boto3 does not inflate, the body below is the stored gzip
    assert (head["ContentType"], head["ContentEncoding"]) == ("application/json", "gzip")
    acl = s3.get_object_acl(Bucket=scen.bucket, Key=key)
    assert acl["Owner"]["ID"]
    assert any(g["Permission"] == "FULL_CONTROL" for g in acl["Grants"])
    raw = s3.get_object(Bucket=scen.bucket, Key=key)["Body"].read()
    assert raw[:2] == b"\x1f\x8b"
    assert list(json.loads(gzip.decompress(raw))) == ["Records"]


def test_every_record_parses_and_belongs_to_its_folder(scen: Scenario) -> None:
    event_ids: Counter[str] = Counter()
    for account in scen.accounts.values():
        records = scen.reader.records(account)
        assert records
        for record in records:
            assert record["eventVersion"] in ("1.08", "1.09", "1.10", "1.11")
            assert EVENT_TIME_RE.fullmatch(record["eventTime"])
            assert record["eventSource"].endswith(".amazonaws.com")
            assert record["eventName"]
            assert record["awsRegion"] == REGION
            assert record["sourceIPAddress"]
            assert record["requestID"]
            assert UUID_RE.fullmatch(record["eventID"])
            assert record["eventType"] == "AwsApiCall"
            assert record["recipientAccountId"] == account
            assert isinstance(record["readOnly"], bool)
            assert record["managementEvent"] is True  # default selectors: no data events
            assert record["eventCategory"] == "Management"
            assert "requestParameters" in record
            assert "userIdentity" in record and "type" in record["userIdentity"]
            event_ids[record["eventID"]] += 1
    assert [e for e, n in event_ids.items() if n > 1] == []


def test_every_call_was_delivered(scen: Scenario) -> None:
    assert {a: m for a, m in scen.missing.items() if m} == {}


def test_d_request_ids_appear_exactly_once_in_ds_log(scen: Scenario) -> None:
    d = scen.accounts["D"]
    counts = Counter(r["requestID"] for r in scen.reader.records(d))
    assert {i: counts[i] for i in scen.expect[d] if counts[i] != 1} == {}
    # And every other account's expected ids exactly once in that account's log.
    for account, ids in scen.expect.items():
        counts = Counter(r["requestID"] for r in scen.reader.records(account))
        assert {i: counts[i] for i in ids if counts[i] != 1} == {}, account
    # Calls of one account never leak into an uninvolved account's folder.
    e_ids = {r["requestID"] for r in scen.reader.records(scen.accounts["E"])}
    assert e_ids.isdisjoint(scen.expect[d])


def test_d_user_assume_role_is_an_iam_user_event_in_ds_log(scen: Scenario) -> None:
    d = scen.accounts["D"]
    record = scen.reader.one(d, scen.ids["d-user.AssumeRole"])
    ident = record["userIdentity"]
    assert ident["type"] == "IAMUser"
    assert ident["userName"] == "d-user"
    assert ident["arn"] == f"arn:aws:iam::{d}:user/d-user"
    assert ident["accountId"] == d
    assert ident["accessKeyId"] == scen.world.users["D"].key
    assert ident["principalId"].startswith("AIDA")
    assert "sessionContext" not in ident
    assert record["eventSource"] == "sts.amazonaws.com"
    assert record["eventName"] == "AssumeRole"
    assert record["readOnly"] is True
    assert record["recipientAccountId"] == d
    params = record["requestParameters"]
    assert params["roleArn"] == sc.role_arn(sc.D_ROLE)
    assert params["roleSessionName"] == "ct-dana"
    assert params["serialNumber"] == scen.world.mfa_serial
    assert "tokenCode" not in params
    response = record["responseElements"]
    session = scen.keys["d-role"]
    assert response["credentials"]["accessKeyId"] == session.key
    assert "secretAccessKey" not in response["credentials"]
    assert response["assumedRoleUser"]["arn"] == (
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/ct-dana"
    )
    assert record["resources"] == [
        {"ARN": sc.role_arn(sc.D_ROLE), "accountId": MANAGEMENT, "type": "AWS::IAM::Role"}
    ]
    assert record["sharedEventID"]


def test_admins_copy_names_the_caller_as_aws_account(scen: Scenario) -> None:
    d = scen.accounts["D"]
    request = scen.ids["d-user.AssumeRole"]
    mine = scen.reader.one(d, request)
    theirs = scen.reader.one(MANAGEMENT, request)
    assert theirs["userIdentity"] == {
        "type": "AWSAccount", "principalId": mine["userIdentity"]["principalId"], "accountId": d,
    }
    assert theirs["recipientAccountId"] == MANAGEMENT
    assert theirs["sharedEventID"] == mine["sharedEventID"]
    assert UUID_RE.fullmatch(theirs["sharedEventID"])
    assert theirs["eventID"] != mine["eventID"]
    for member in ("eventName", "eventSource", "requestParameters", "responseElements",
                   "resources", "readOnly", "eventTime"):
        assert theirs[member] == mine[member], member
    # Same-account calls carry no sharedEventID.
    assert "sharedEventID" not in scen.reader.one(d, scen.ids["d-admin.ListUsers"])


def test_org_role_sessions_are_assumed_role_events_in_the_member_log(scen: Scenario) -> None:
    d = scen.accounts["D"]
    record = scen.reader.one(d, scen.ids["d-admin.CreateUser"])
    ident = record["userIdentity"]
    assert ident["type"] == "AssumedRole"
    assert ident["arn"] == f"arn:aws:sts::{d}:assumed-role/OrganizationAccountAccessRole/ct-admin-d"
    issuer = ident["sessionContext"]["sessionIssuer"]
    assert issuer["arn"] == org_role(d)
    assert issuer["accountId"] == d
    assert ident["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert record["responseElements"]["user"]["userName"] == f"ct-d-{scen.bucket.rsplit('-', 1)[-1]}"
    # Admin's own copy of the AssumeRole names admin as an IAMUser, D's copy as AWSAccount.
    request = scen.ids["admin.AssumeOrgRole.D"]
    assert scen.reader.one(MANAGEMENT, request)["userIdentity"]["userName"] == "admin"
    assert scen.reader.one(d, request)["userIdentity"]["type"] == "AWSAccount"


def test_role_session_calls_show_assumed_role_with_mfa(scen: Scenario) -> None:
    session = scen.keys["d-role"]
    d = scen.accounts["D"]
    for label in ("d-role.GetBucketLocation", "d-role.ListBuckets", "d-role.GetBucketAcl.denied"):
        record = scen.reader.one(MANAGEMENT, scen.ids[label])
        assert scen.ids[label] not in scen.reader.by_request(d)  # only the role's account
        ident = record["userIdentity"]
        assert ident["type"] == "AssumedRole"
        assert ident["arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/ct-dana"
        assert ident["accountId"] == MANAGEMENT
        assert ident["accessKeyId"] == session.key
        context = ident["sessionContext"]
        issuer = context["sessionIssuer"]
        assert issuer["type"] == "Role"
        assert issuer["arn"] == sc.role_arn(sc.D_ROLE)
        assert issuer["accountId"] == MANAGEMENT
        assert issuer["userName"] == sc.D_ROLE
        assert issuer["principalId"].startswith("AROA")
        assert ident["principalId"] == f"{issuer['principalId']}:ct-dana"
        assert context["attributes"]["mfaAuthenticated"] == "true"
        assert EVENT_TIME_RE.fullmatch(context["attributes"]["creationDate"])
        assert record["eventSource"] == "s3.amazonaws.com"
        assert record["requestParameters"] is not None
    location = scen.reader.one(MANAGEMENT, scen.ids["d-role.GetBucketLocation"])
    assert location["eventName"] == "GetBucketLocation"
    assert location["requestParameters"]["bucketName"] == scen.bucket
    assert {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{scen.bucket}"}.items() <= (
        location["resources"][0].items()
    )
    acl = scen.reader.one(MANAGEMENT, scen.ids["d-role.GetBucketAcl.denied"])
    assert acl["errorCode"] == "AccessDenied"
    # E's role was assumed without MFA.
    e_call = scen.reader.one(MANAGEMENT, scen.ids["e-role.ListBuckets"])
    assert e_call["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert e_call["eventName"] == "ListBuckets"


def test_failed_assume_role_records_access_denied(scen: Scenario) -> None:
    request = scen.ids["d-user.AssumeRole.denied"]
    d = scen.accounts["D"]
    mine = scen.reader.one(d, request)
    assert mine["eventName"] == "AssumeRole"
    assert mine["errorCode"] == "AccessDenied"
    assert mine["errorMessage"]
    assert "responseElements" in mine and mine["responseElements"] is None
    assert mine["userIdentity"]["type"] == "IAMUser"
    assert mine["requestParameters"]["roleSessionName"] == "ct-no-mfa"
    assert "serialNumber" not in mine["requestParameters"]
    theirs = scen.reader.one(MANAGEMENT, request)
    assert theirs["errorCode"] == "AccessDenied"
    assert theirs["responseElements"] is None
    assert theirs["userIdentity"]["type"] == "AWSAccount"
    assert theirs["sharedEventID"] == mine["sharedEventID"]
    # The IAM call d-user may not make.
    iam_denied = scen.reader.one(d, scen.ids["d-user.ListUsers.denied"])
    assert iam_denied["errorCode"] == "AccessDenied"
    assert iam_denied["eventSource"] == "iam.amazonaws.com"
    assert iam_denied["responseElements"] is None


def test_external_id_is_logged_for_rs_assume_role(scen: Scenario) -> None:
    r = scen.accounts["R"]
    mine = scen.reader.one(r, scen.ids["r-user.AssumeRole"])
    assert mine["requestParameters"]["externalId"] == sc.EXTERNAL_ID
    assert mine["userIdentity"]["userName"] == "r-user"
    theirs = scen.reader.one(MANAGEMENT, scen.ids["r-user.AssumeRole"])
    assert theirs["userIdentity"]["accountId"] == r


def test_no_secret_access_key_in_any_delivered_file(scen: Scenario) -> None:
    scen.reader.refresh()
    secrets = [s for s in scen.secrets if s]
    assert len(secrets) >= 10
    for key, text in scen.reader.texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret access key is in {key}"
        assert "secretAccessKey" not in text
        assert "SecretAccessKey" not in text


def test_lookup_events_finds_the_scenario_calls(scen: Scenario) -> None:
    world = scen.world
    admin_ct = world.client("cloudtrail", world.admin)
    # Admin's event history has its copy of d-user's AssumeRole.
    request = scen.ids["d-user.AssumeRole"]
    found = _lookup(admin_ct, "EventName", "AssumeRole")
    mine = [e for e in found if json.loads(e["CloudTrailEvent"])["requestID"] == request]
    assert len(mine) == 1
    event = json.loads(mine[0]["CloudTrailEvent"])
    assert event["userIdentity"]["type"] == "AWSAccount"
    delivered = scen.reader.one(MANAGEMENT, request)
    assert mine[0]["EventId"] == delivered["eventID"] == event["eventID"]
    assert mine[0]["ReadOnly"] == "true"
    # D's event history (read through Admin's org role into D) has d-user's calls.
    d_keys = world.assume(world.admin, org_role(scen.accounts["D"]), "ct-lookup")
    d_ct = world.client("cloudtrail", d_keys)
    events = _lookup(d_ct, "AccessKeyId", world.users["D"].key)
    got = {json.loads(e["CloudTrailEvent"])["requestID"] for e in events}
    wanted = {scen.ids[k] for k in ("d-user.GetCallerIdentity", "d-user.AssumeRole",
                                     "d-user.AssumeRole.denied", "d-user.ListUsers.denied")}
    assert wanted <= got
    assert all(e.get("Username") == "d-user" for e in events)
    # The role session's S3 calls by its access key, in Admin's history.
    events = _lookup(admin_ct, "AccessKeyId", scen.keys["d-role"].key)
    got = {json.loads(e["CloudTrailEvent"])["requestID"] for e in events}
    assert {scen.ids["d-role.GetBucketLocation"], scen.ids["d-role.ListBuckets"]} <= got


def _lookup(client: Any, key: str, value: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pages = client.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
        PaginationConfig={"MaxItems": 500},
    )
    for page in pages:
        out.extend(page["Events"])
    return out
