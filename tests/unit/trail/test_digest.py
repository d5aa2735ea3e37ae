"""Digest files on a real SqliteStore + BlobStore + S3Provider (no server): the key layout, every
field, the signature over the exact string of spec 8.3, the chain, the cadence (also empty
periods), StopLogging/StartLogging, validation off/on, DeleteTrail, bucket refusals, organization
and multi-region trails, the key store (encryption at rest, rotation on demand and on schedule)
and ListPublicKeys.

``World`` here is also used by ``test_validate.py``."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trailgate import scenario
from trailgate.auth.tokens import TokenError, decrypt_secret
from trailgate.gateway.context import Principal
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.cloudtrail import CloudTrailProvider
from trailgate.services.cloudtrail.common import NS, STATUS
from trailgate.services.organizations.provider import ORG, OrganizationsProvider
from trailgate.services.s3 import S3Provider
from trailgate.store.blobs import BlobStore
from trailgate.store.interface import Tx
from trailgate.store.sqlite import SqliteStore
from trailgate.trail.delivery import DeliveryWorker
from trailgate.trail.digest import CHAIN, LOGFILE, DigestReport, DigestWorker, string_to_sign
from trailgate.trail.keys import KIND, KeyStore, PublicKey, all_public_keys, fingerprint

ADMIN, D, E = scenario.ADMIN, scenario.D, scenario.E
BUCKET = scenario.BUCKET
REGION = "us-east-1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
MASTER = b"m" * 32
TRAILS = {ADMIN: "admin-trail", D: "d-trail", E: "e-trail"}
DIGEST_RE = re.compile(
    r"(?:(?P<prefix>.+)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<acct>\d{12})/CloudTrail-Digest/"
    r"(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail-Digest_(?P=region)_(?P<name>[^_]+)_(?P<home>[a-z0-9-]+)_"
    r"(?P<stamp>\d{8}T\d{6}Z)\.json\.gz"
)
FIELDS = [
    "awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
    "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime",
    "oldestEventTime", "previousDigestS3Bucket", "previousDigestS3Object",
    "previousDigestHashValue", "previousDigestHashAlgorithm", "previousDigestSignature",
    "logFiles",
]


def arn(account: str, name: str | None = None, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name or TRAILS[account]}"


def root(account: str) -> Principal:
    return Principal(kind="root", arn=f"arn:aws:iam::{account}:root", account=account,
                     user_id=account)


def event(account: str, when: str = "2026-03-01T12:00:00Z", *, region: str = REGION,
          event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "Root", "principalId": account,
                         "arn": f"arn:aws:iam::{account}:root", "accountId": account},
        "eventTime": when,
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


class World:
    """One data directory: store, S3, CloudTrail, delivery and digest workers on a fake clock
    (``now``); digests every hour."""

    def __init__(self, root_dir: Path, *, interval: float = 3600) -> None:
        self.dir = root_dir
        self.store = SqliteStore.open(root_dir / "db" / "trailgate.db")
        self.s3 = S3Provider(BlobStore(root_dir / "blobs"), REGION, read=self.store.read)
        self.ct = CloudTrailProvider()
        self.now = NOW
        self.delivery = DeliveryWorker(self.store, self.s3, REGION, interval=1,
                                       clock=lambda: self.now)
        self.keys = KeyStore(self.store, MASTER, clock=lambda: self.now)
        self.worker = DigestWorker(self.store, self.s3, self.keys, interval,
                                   clock=lambda: self.now)

    def close(self) -> None:
        self.store.close()

    # -- operations ---------------------------------------------------------------------------

    def _call(self, account: str, params: dict[str, Any], region: str = REGION) -> Call:
        return Call(account, root(account), params, region, "req-1", self.now)

    def s3op(self, op: str, account: str = ADMIN, **params: Any) -> dict[str, Any]:
        call = self._call(account, params)
        prepare = getattr(self.s3, f"prepare_{op}", None)
        if prepare is not None:
            call = replace(call, prepared=prepare(call))
        method = getattr(self.s3, op)
        if op.startswith(("Get", "Head", "List")):
            result: dict[str, Any] = self.store.read(lambda tx: method(call, tx))
        else:
            result = self.store.write_sync(lambda tx: method(call, tx))
        for action in result.pop("__after_commit", []):
            action()
        return result

    def ct_op(self, op: str, account: str = ADMIN, region: str = REGION,
              **params: Any) -> dict[str, Any]:
        call = self._call(account, params, region)
        method = getattr(self.ct, op)
        if op.startswith(("Get", "Describe", "List")):
            out: dict[str, Any] = self.store.read(lambda tx: method(call, tx))
            return out
        out = self.store.write_sync(lambda tx: method(call, tx))
        return out

    def setup(self, *, accounts: tuple[str, ...] = (ADMIN,), prefix: str = "",
              validation: bool = True, **trail: Any) -> None:
        self.s3op("CreateBucket", Bucket=BUCKET)
        arns = {acct: arn(acct) for acct in TRAILS}
        policy = scenario.cloudtrail_bucket_policy(BUCKET, arns, prefix)
        self.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(policy))
        for account in accounts:
            params: dict[str, Any] = {"Name": TRAILS[account], "S3BucketName": BUCKET,
                                      "EnableLogFileValidation": validation, **trail}
            if prefix:
                params["S3KeyPrefix"] = prefix
            self.ct_op("CreateTrail", account=account, **params)
            self.ct_op("StartLogging", account=account, Name=TRAILS[account])

    def emit(self, *records: dict[str, Any]) -> None:
        def fn(tx: Tx) -> None:
            for record in records:
                tx.append_event(record["recipientAccountId"], record["eventTime"],
                                str(uuid.uuid4()), record)

        self.store.write_sync(fn)

    def deliver(self) -> None:
        report = self.delivery.run_once(self.now)
        assert not report.failures, report.failures

    def digest(self) -> DigestReport:
        return self.worker.run_once(self.now)

    def tick(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)

    def hour(self, *records: dict[str, Any]) -> DigestReport:
        """Events, a delivery five minutes later, the digest pass at the end of the hour."""
        if records:
            self.emit(*records)
        self.tick(5)
        self.deliver()
        self.tick(55)
        return self.digest()

    # -- reading back -------------------------------------------------------------------------

    def keys_under(self, prefix: str = "") -> list[str]:
        out = self.s3op("ListObjectsV2", Bucket=BUCKET, Prefix=prefix)
        return [o["Key"] for o in out.get("Contents", [])]

    def digest_keys(self) -> list[str]:
        return sorted((k for k in self.keys_under() if "/CloudTrail-Digest/" in k),
                      key=lambda k: (k[-24:-8], k))

    def log_keys(self) -> list[str]:
        return [k for k in self.keys_under() if "/CloudTrail/" in k]

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        got = self.s3op("GetObject", Bucket=BUCKET, Key=key)
        return b"".join(got["Body"]), dict(got["Metadata"])

    def doc(self, key: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(gzip.decompress(self.get(key)[0]))
        return data

    def status(self, account: str = ADMIN) -> dict[str, Any]:
        return self.ct_op("GetTrailStatus", account=account, Name=TRAILS[account])

    def pending(self) -> list[dict[str, Any]]:
        return self.store.read(lambda tx: tx.list(NS, LOGFILE))

    def public_keys(self) -> list[PublicKey]:
        return self.store.read(all_public_keys)

    def dump(self, target: Path, *, metadata: bool = True) -> Path:
        """A copy of the bucket on disk, each digest's user metadata in a side file."""
        for key in self.keys_under():
            data, meta = self.get(key)
            path = target / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if metadata and "/CloudTrail-Digest/" in key:
                path.with_name(path.name + ".metadata.json").write_text(json.dumps(meta))
        return target

    def export_keys(self, path: Path) -> Path:
        path.write_text(json.dumps({"keys": [k.to_json() for k in self.public_keys()]}))
        return path


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.close()


def verify(w: World, key: str) -> None:
    """The digest's signature checks out against the key ListPublicKeys names."""
    data, meta = w.get(key)
    raw = gzip.decompress(data)
    doc = json.loads(raw)
    assert meta["signature-algorithm"] == "SHA256withRSA"
    keys = {k.fingerprint: k for k in w.public_keys()}
    public = keys[doc["digestPublicKeyFingerprint"]].load()
    assert isinstance(public, rsa.RSAPublicKey)
    message = (f"{doc['digestEndTime']}\n{BUCKET}/{key}\n{hashlib.sha256(raw).hexdigest()}\n"
               f"{doc['previousDigestSignature'] or 'null'}").encode()
    assert message == string_to_sign(doc["digestEndTime"], BUCKET, key,
                                     hashlib.sha256(raw).hexdigest(),
                                     doc["previousDigestSignature"])
    public.verify(bytes.fromhex(meta["signature"]), message, padding.PKCS1v15(), hashes.SHA256())


# -- layout and fields -------------------------------------------------------------------------


def test_digest_layout_fields_and_signature(w: World) -> None:
    w.setup()
    w.digest()  # opens the chain at 12:00:00
    first = [event(ADMIN, "2026-03-01T12:01:02Z"), event(ADMIN, "2026-03-01T12:03:04Z")]
    report = w.hour(*first)
    assert [d.starting for d in report.digests] == [True]
    keys = w.digest_keys()
    assert len(keys) == 1
    match = DIGEST_RE.fullmatch(keys[0])
    assert match is not None
    assert match["acct"] == ADMIN and match["region"] == REGION and match["home"] == REGION
    assert match["name"] == "admin-trail" and match["stamp"] == "20260301T130000Z"
    assert (match["y"], match["m"], match["d"]) == ("2026", "03", "01")
    doc = w.doc(keys[0])
    assert list(doc) == FIELDS
    assert doc["awsAccountId"] == ADMIN
    assert doc["digestStartTime"] == "2026-03-01T12:00:00Z"
    assert doc["digestEndTime"] == "2026-03-01T13:00:00Z"
    assert doc["digestS3Bucket"] == BUCKET and doc["digestS3Object"] == keys[0]
    assert doc["digestSignatureAlgorithm"] == "SHA256withRSA"
    assert re.fullmatch(r"[0-9a-f]{32}", doc["digestPublicKeyFingerprint"])
    for name in FIELDS[9:14]:
        assert doc[name] is None  # a starting digest
    assert doc["oldestEventTime"] == "2026-03-01T12:01:02Z"
    assert doc["newestEventTime"] == "2026-03-01T12:03:04Z"
    [entry] = doc["logFiles"]
    assert list(entry) == ["s3Bucket", "s3Object", "hashValue", "hashAlgorithm",
                           "newestEventTime", "oldestEventTime"]
    assert entry["s3Object"] == w.log_keys()[0] and entry["s3Bucket"] == BUCKET
    body, _ = w.get(entry["s3Object"])
    assert entry["hashValue"] == hashlib.sha256(gzip.decompress(body)).hexdigest()
    assert entry["hashAlgorithm"] == "SHA-256"
    assert (entry["oldestEventTime"], entry["newestEventTime"]) == (
        "2026-03-01T12:01:02Z", "2026-03-01T12:03:04Z")
    verify(w, keys[0])
    status = w.status()
    assert status["LatestDigestDeliveryTime"] == datetime(2026, 3, 1, 13, tzinfo=UTC)
    assert "LatestDigestDeliveryError" not in status
    assert w.pending() == []  # digested files are forgotten


def test_chain_links_and_empty_periods(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    w.hour()  # nothing delivered: still a digest
    w.hour(event(ADMIN), event(ADMIN))
    keys = w.digest_keys()
    assert len(keys) == 3
    docs = [w.doc(k) for k in keys]
    empty = docs[1]
    assert empty["logFiles"] == [] and empty["newestEventTime"] is None
    assert empty["oldestEventTime"] is None
    for older_key, older, newer in zip(keys, docs, docs[1:], strict=False):
        raw = gzip.decompress(w.get(older_key)[0])
        assert newer["previousDigestS3Bucket"] == BUCKET
        assert newer["previousDigestS3Object"] == older_key
        assert newer["previousDigestHashValue"] == hashlib.sha256(raw).hexdigest()
        assert newer["previousDigestHashAlgorithm"] == "SHA-256"
        assert newer["previousDigestSignature"] == w.get(older_key)[1]["signature"]
        assert newer["digestStartTime"] == older["digestEndTime"]
    for key in keys:
        verify(w, key)


def test_cadence_digest_only_when_due(w: World) -> None:
    w.setup()
    first = w.digest()
    assert first.digests == [] and first.next_due == NOW + timedelta(hours=1)
    w.tick(59)
    assert w.digest().digests == []
    w.tick(1)
    report = w.digest()
    assert len(report.digests) == 1 and report.next_due == NOW + timedelta(hours=2)
    assert w.digest().digests == []  # the same second: nothing more


def test_no_digests_without_validation(w: World) -> None:
    w.setup(validation=False)
    w.digest()
    w.hour(event(ADMIN))
    assert w.digest_keys() == [] and w.pending() == []
    assert len(w.log_keys()) == 1


def test_stop_logging_final_digest_then_new_chain(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    w.emit(event(ADMIN, "2026-03-01T13:10:00Z"))  # the final log's event
    w.tick(10)
    w.ct_op("StopLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    assert w.digest().digests == []  # waits for the final log
    w.deliver()
    w.tick(1)
    final = w.digest()
    assert [(d.final, d.log_files) for d in final.digests] == [(True, 1)]
    w.tick(120)
    assert w.digest().digests == []  # stopped: no more digests
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.digest()  # a new chain opens
    report = w.hour(event(ADMIN))
    assert [d.starting for d in report.digests] == [True]
    docs = [w.doc(k) for k in w.digest_keys()]
    assert len(docs) == 3
    assert docs[1]["previousDigestS3Object"] == w.digest_keys()[0]
    assert docs[1]["digestEndTime"] == "2026-03-01T13:12:00Z"
    assert docs[2]["previousDigestSignature"] is None
    assert docs[2]["digestStartTime"] == "2026-03-01T15:12:00Z"


def test_restart_between_passes_closes_the_old_chain(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    w.tick(1)
    w.ct_op("StopLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    report = w.digest()
    assert [(d.final, d.starting) for d in report.digests] == [(True, False)]
    w.tick(60)
    assert [d.starting for d in w.digest().digests] == [True]


def test_validation_off_and_on(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    w.ct_op("UpdateTrail", Name=TRAILS[ADMIN], EnableLogFileValidation=False)
    w.tick(1)
    assert [d.final for d in w.digest().digests] == [True]
    w.hour(event(ADMIN))  # delivered while validation is off: never digested
    assert w.pending() == [] and len(w.digest_keys()) == 2
    w.ct_op("UpdateTrail", Name=TRAILS[ADMIN], EnableLogFileValidation=True)
    w.digest()
    report = w.hour(event(ADMIN))
    assert [(d.starting, d.log_files) for d in report.digests] == [(True, 1)]


def test_delete_trail_final_digest(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    w.emit(event(ADMIN))
    w.tick(5)
    w.deliver()
    w.ct_op("DeleteTrail", Name=TRAILS[ADMIN])
    w.tick(1)
    report = w.digest()
    assert [(d.final, d.log_files) for d in report.digests] == [(True, 1)]
    assert w.store.read(lambda tx: tx.list(NS, CHAIN)) == [] and w.pending() == []


def test_bucket_refusal_then_recovery(w: World) -> None:
    w.setup()
    w.digest()
    w.emit(event(ADMIN))
    w.tick(5)
    w.deliver()
    w.s3op("DeleteBucketPolicy", Bucket=BUCKET)
    w.tick(55)
    report = w.digest()
    assert report.failures == {arn(ADMIN): "AccessDenied"} and report.digests == []
    assert w.status()["LatestDigestDeliveryError"] == "AccessDenied"
    assert len(w.pending()) == 1
    policy = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN)})
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(policy))
    w.tick(1)
    report = w.digest()
    assert [(d.starting, d.log_files) for d in report.digests] == [(True, 1)]
    assert "LatestDigestDeliveryError" not in w.status()
    assert w.doc(w.digest_keys()[0])["digestStartTime"] == "2026-03-01T12:00:00Z"


def test_prefix_organization_and_regions(w: World) -> None:
    orgs = OrganizationsProvider(None, ADMIN)
    call = w._call(ADMIN, {"FeatureSet": "ALL"})
    org_id = w.store.write_sync(lambda tx: orgs.CreateOrganization(call, tx))["Organization"]["Id"]
    w.store.write_sync(lambda tx: tx.put(ORG, "account", D, D, {"Id": D, "Status": "ACTIVE"}))
    w.s3op("CreateBucket", Bucket=BUCKET)
    policy = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN)}, "p")
    policy["Statement"][1]["Resource"].append(f"arn:aws:s3:::{BUCKET}/p/AWSLogs/{org_id}/*")
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(policy))
    w.ct_op("CreateTrail", Name=TRAILS[ADMIN], S3BucketName=BUCKET, S3KeyPrefix="p",
            IsOrganizationTrail=True, IsMultiRegionTrail=True, EnableLogFileValidation=True)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.digest()
    w.emit(event(ADMIN), event(D), event(ADMIN, region="eu-west-1"))
    w.tick(5)
    w.deliver()
    w.tick(55)
    report = w.digest()
    got = {(d.account, d.region, d.log_files) for d in report.digests}
    assert (ADMIN, REGION, 1) in got
    # new chains (D, eu-west-1) open now and carry their files in their first digest
    w.tick(60)
    report = w.digest()
    got |= {(d.account, d.region, d.log_files) for d in report.digests}
    assert {(D, REGION, 1), (ADMIN, "eu-west-1", 1)} <= got
    for key in w.digest_keys():
        match = DIGEST_RE.fullmatch(key)
        assert match is not None and match["prefix"] == "p" and match["org"] == org_id
        assert match["home"] == REGION
        assert w.doc(key)["awsAccountId"] == match["acct"]
        verify(w, key)
    assert {r.region for r in w.public_keys()} == {REGION, "eu-west-1"}


# -- keys --------------------------------------------------------------------------------------


def test_keys_encrypted_at_rest_and_fingerprint(w: World) -> None:
    signer = w.keys.current(REGION, NOW)
    [record] = w.store.read(lambda tx: tx.list(NS, KIND))
    assert "PRIVATE KEY" not in json.dumps(record)
    der = base64.b64decode(record["PublicKey"])
    assert record["Fingerprint"] == hashlib.md5(der).hexdigest() == fingerprint(der)
    assert record["PublicKey"].startswith("MIIBCgKCAQEA")  # PKCS#1 RSAPublicKey, 2048 bits
    pem = decrypt_secret(MASTER, record["PrivateKey"],
                         context=f"cloudtrail-signing-key:{REGION}:{record['Fingerprint']}")
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    with pytest.raises(TokenError):
        decrypt_secret(MASTER, record["PrivateKey"], context="cloudtrail-signing-key:x:y")
    with pytest.raises(TokenError):
        decrypt_secret(b"x" * 32, record["PrivateKey"],
                       context=f"cloudtrail-signing-key:{REGION}:{record['Fingerprint']}")
    # a fresh KeyStore (a restarted server) unseals the same key
    again = KeyStore(w.store, MASTER).current(REGION, NOW + timedelta(minutes=1))
    assert again.public.fingerprint == signer.public.fingerprint
    assert again.sign(b"x") == signer.sign(b"x")  # PKCS#1 v1.5 is deterministic


def test_rotation_on_demand_and_on_schedule(w: World) -> None:
    w.setup()
    w.digest()
    w.hour(event(ADMIN))
    old = w.keys.current(REGION, w.now)
    w.tick(1)
    new = w.keys.rotate(REGION)
    assert new.fingerprint != old.public.fingerprint
    w.tick(59)
    w.digest()
    docs = [w.doc(k) for k in w.digest_keys()]
    assert docs[0]["digestPublicKeyFingerprint"] == old.public.fingerprint
    assert docs[1]["digestPublicKeyFingerprint"] == new.fingerprint
    keys = {k.fingerprint: k for k in w.public_keys()}
    assert keys[old.public.fingerprint].valid_until == NOW + timedelta(hours=1, minutes=1)
    # on schedule: 30 days later the current key has expired and a new one signs
    w.now += timedelta(days=31)
    w.digest()
    last = w.doc(w.digest_keys()[-1])
    assert last["digestPublicKeyFingerprint"] not in (old.public.fingerprint, new.fingerprint)
    assert len(w.public_keys()) == 3
    for key in w.digest_keys():
        verify(w, key)


def test_list_public_keys(w: World) -> None:
    first = w.keys.current(REGION, NOW).public
    w.now = NOW + timedelta(days=2)
    second = w.keys.rotate(REGION, w.now)
    w.keys.current("eu-west-1", w.now)

    def ask(region: str = REGION, **params: Any) -> dict[str, Any]:
        return w.ct_op("ListPublicKeys", region=region, **params)

    now_only = ask()["PublicKeyList"]
    assert [k["Fingerprint"] for k in now_only] == [second.fingerprint]
    both = ask(StartTime=NOW, EndTime=w.now)["PublicKeyList"]
    assert [k["Fingerprint"] for k in both] == [first.fingerprint, second.fingerprint]
    item = both[0]
    assert item["Value"] == first.der and item["Value"][:4] == b"\x30\x82\x01\x0a"
    assert item["ValidityStartTime"] == NOW
    assert item["ValidityEndTime"] == w.now  # retired by the rotation
    assert both[1]["ValidityEndTime"] == w.now + timedelta(days=30)
    old_only = ask(StartTime=NOW, EndTime=NOW + timedelta(hours=1))["PublicKeyList"]
    assert [k["Fingerprint"] for k in old_only] == [first.fingerprint]
    assert len(ask("eu-west-1")["PublicKeyList"]) == 1
    assert ask("ap-south-1")["PublicKeyList"] == []
    with pytest.raises(ServiceError) as err:
        ask(StartTime=w.now, EndTime=NOW)
    assert err.value.code == "InvalidTimeRangeException"
    with pytest.raises(ServiceError) as err:
        ask(NextToken="bogus")
    assert err.value.code == "InvalidTokenException"


def test_two_workers_write_each_digest_once(w: World) -> None:
    w.setup()
    w.digest()
    w.emit(event(ADMIN))
    w.tick(5)
    w.deliver()
    w.tick(55)
    other = DigestWorker(w.store, w.s3, KeyStore(w.store, MASTER), 3600, clock=lambda: w.now)
    one, two = w.digest(), other.run_once(w.now)
    assert len(one.digests) + len(two.digests) == 1
    assert len(w.digest_keys()) == 1 and w.pending() == []


def test_status_record_untouched_by_other_trails(w: World) -> None:
    w.setup(accounts=(ADMIN, D))
    w.digest()
    w.hour(event(ADMIN), event(D))
    for account in (ADMIN, D):
        status = w.store.read(lambda tx, a=account: tx.get(NS, STATUS, arn(a)))
        assert status is not None and status["LatestDigestDeliveryTime"]
    assert {DIGEST_RE.fullmatch(k)["acct"] for k in w.digest_keys()} == {ADMIN, D}  # type: ignore[index]
