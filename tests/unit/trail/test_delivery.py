"""Log file delivery end to end on a real SqliteStore + BlobStore + S3Provider in a temporary
directory: records are appended to the events table, ``run_once`` delivers them, and the
objects are read back through the S3 provider.

Covered: the exact key layout, file contents, cursor and status, exactly-once delivery across
repeated runs and across crashes (in-process failures inside the transaction and real SIGKILLs
before and after the commit), refusals by the bucket policy or a missing bucket (nothing lost,
everything delivered after the fix), StopLogging/StartLogging gaps, organization trails, event
selectors (data events only when selected), regions, prefixes, bounded batches and the
service-principal writer.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from trailgate import scenario
from trailgate.gateway.context import Principal
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.cloudtrail import CloudTrailProvider
from trailgate.services.cloudtrail.common import NS, STATUS
from trailgate.services.organizations.provider import ORG, OrganizationsProvider
from trailgate.services.s3 import S3Provider
from trailgate.services.s3.common import objects_kind
from trailgate.store.blobs import BlobStore
from trailgate.store.interface import Tx
from trailgate.store.sqlite import SqliteStore
from trailgate.trail import delivery as delivery_module
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.delivery import DeliveryReport, DeliveryWorker
from trailgate.trail.records import build_records
from trailgate.trail.service_access import (
    Source,
    put_log_object,
    put_log_object_async,
    put_log_objects,
)

ADMIN, D, E, R = scenario.ADMIN, scenario.D, scenario.E, scenario.R
BUCKET = scenario.BUCKET
REGION = "us-east-1"
NOW = datetime(2026, 3, 1, 12, 5, 30, tzinfo=UTC)
TRAILS = {ADMIN: "admin-trail", D: "d-trail", E: "e-trail"}
KEY_RE = re.compile(
    r"(?:(?P<prefix>.+)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<acct>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz"
)


def arn(account: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def root(account: str) -> Principal:
    return Principal(
        kind="root", arn=f"arn:aws:iam::{account}:root", account=account, user_id=account
    )


def reference_policy(prefix: str = "") -> str:
    trails = {acct: arn(acct, name) for acct, name in TRAILS.items()}
    return json.dumps(scenario.cloudtrail_bucket_policy(BUCKET, trails, prefix))


def event(
    account: str,
    name: str = "CreateUser",
    *,
    read_only: bool = False,
    region: str = REGION,
    source: str = "iam.amazonaws.com",
    data_key: str | None = None,
    data_bucket: str = "data-bucket",
) -> dict[str, Any]:
    """A CloudTrail record as the recorder stores it (management, or an S3 data event)."""
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "Root", "principalId": account,
                         "arn": f"arn:aws:iam::{account}:root", "accountId": account},
        "eventTime": "2026-03-01T12:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": data_key is None,
        "recipientAccountId": account,
        "eventCategory": "Management" if data_key is None else "Data",
    }
    if data_key is not None:
        record["eventSource"] = "s3.amazonaws.com"
        record["resources"] = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{data_bucket}/{data_key}"},
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{data_bucket}"},
        ]
    return record


class World:
    def __init__(self, root_dir: Path, *, batch: int = delivery_module.BATCH) -> None:
        self.dir = root_dir
        self.store = SqliteStore.open(root_dir / "db" / "trailgate.db")
        self.blobs = BlobStore(root_dir / "blobs")
        self.s3 = S3Provider(self.blobs, REGION, read=self.store.read)
        self.ct = CloudTrailProvider()
        self.now = NOW
        self.worker = DeliveryWorker(
            self.store, self.s3, REGION, interval=0.05, clock=lambda: self.now, batch=batch
        )

    def close(self) -> None:
        self.store.close()

    def _call(self, account: str, params: dict[str, Any]) -> Call:
        return Call(account, root(account), params, REGION, "req-1", self.now)

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

    def ct_op(self, op: str, account: str = ADMIN, **params: Any) -> dict[str, Any]:
        call = self._call(account, params)
        method = getattr(self.ct, op)
        if op.startswith(("Get", "Describe", "List")):
            out: dict[str, Any] = self.store.read(lambda tx: method(call, tx))
            return out
        out = self.store.write_sync(lambda tx: method(call, tx))
        return out

    def setup(self, *, prefix: str = "", accounts: tuple[str, ...] = (ADMIN, D)) -> None:
        """The Admin bucket with the reference policy; logging trails for ``accounts``."""
        self.s3op("CreateBucket", Bucket=BUCKET)
        self.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy(prefix))
        for account in accounts:
            params: dict[str, Any] = {"Name": TRAILS[account], "S3BucketName": BUCKET}
            if prefix:
                params["S3KeyPrefix"] = prefix
            self.ct_op("CreateTrail", account=account, **params)
            self.ct_op("StartLogging", account=account, Name=TRAILS[account])

    def emit(self, *records: dict[str, Any]) -> list[dict[str, Any]]:
        def fn(tx: Tx) -> None:
            for record in records:
                tx.append_event(
                    record["recipientAccountId"], record["eventTime"], record["eventID"], record
                )

        self.store.write_sync(fn)
        return list(records)

    def run(self) -> DeliveryReport:
        return self.worker.run_once(self.now)

    def object_keys(self, bucket: str = BUCKET) -> list[str]:
        out = self.s3op("ListObjectsV2", Bucket=bucket)
        return [o["Key"] for o in out.get("Contents", [])]

    def object(self, key: str, bucket: str = BUCKET) -> dict[str, Any]:
        return self.s3op("GetObject", Bucket=bucket, Key=key)

    def records(self, key: str, bucket: str = BUCKET) -> list[dict[str, Any]]:
        body = b"".join(self.object(key, bucket)["Body"])
        document = json.loads(gzip.decompress(body))
        assert list(document) == ["Records"]
        records: list[dict[str, Any]] = document["Records"]
        return records

    def delivered(self, bucket: str = BUCKET) -> list[dict[str, Any]]:
        return [r for key in self.object_keys(bucket) for r in self.records(key, bucket)]

    def status(self, account: str = ADMIN) -> dict[str, Any]:
        found = self.store.read(lambda tx: tx.get(NS, STATUS, arn(account, TRAILS[account])))
        assert found is not None
        return found

    def trail_status(self, account: str = ADMIN) -> dict[str, Any]:
        return self.ct_op("GetTrailStatus", account=account, Name=TRAILS[account])

    def event_count(self) -> int:
        def count(tx: Tx) -> int:
            conn = tx._read()  # type: ignore[attr-defined]
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

        return int(self.store.read(count))

    def blob_files(self) -> set[str]:
        return {
            p.name
            for d in self.blobs.root.iterdir()
            if d.is_dir() and d.name != "tmp"
            for p in d.iterdir()
        }

    def org(self, members: tuple[str, ...] = (D, E)) -> str:
        orgs = OrganizationsProvider(None, ADMIN)
        call = self._call(ADMIN, {"FeatureSet": "ALL"})
        out = self.store.write_sync(lambda tx: orgs.CreateOrganization(call, tx))

        def join(tx: Tx) -> None:
            for account in members:
                tx.put(ORG, "account", account, account, {"Id": account, "Status": "ACTIVE"})

        self.store.write_sync(join)
        return str(out["Organization"]["Id"])


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.close()


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["eventID"] for r in records]


# -- the happy path ----------------------------------------------------------------------------


def test_delivery_end_to_end(w: World) -> None:
    w.setup()
    admin = w.emit(event(ADMIN, "CreateUser"), event(ADMIN, "GetUser", read_only=True),
                   event(ADMIN, "PutBucketPolicy", source="s3.amazonaws.com"))
    d = w.emit(event(D, "CreateRole"), event(D, "ListRoles", read_only=True))
    w.emit(event(E, "CreateUser"), event(R, "CreateUser"))  # no trail for E (not started), R
    before = w.event_count()
    report = w.run()
    assert report.failures == {}
    assert report.records == 5
    assert sorted((f.account, f.records) for f in report.files) == [(ADMIN, 3), (D, 2)]
    keys = w.object_keys()
    assert len(keys) == 2
    for key in keys:
        match = KEY_RE.fullmatch(key)
        assert match is not None, key
        assert match["prefix"] is None and match["org"] is None
        assert (match["region"], match["y"], match["m"], match["d"]) == (REGION, "2026", "03", "01")
        assert match["stamp"] == "20260301T1205Z"  # delivery time, minute precision
        expected = admin if match["acct"] == ADMIN else d
        assert w.records(key) == expected  # identical records, in recording order
        head = w.object(key)
        assert head["ContentType"] == "application/json"
        assert head["ContentEncoding"] == "gzip"  # as CloudTrail stores its .json.gz files
    record = w.store.read(lambda tx: tx.get("__s3__", objects_kind(BUCKET), keys[0]))
    assert record is not None and record["Owner"] == ADMIN  # the bucket owner owns log files
    assert w.event_count() == before  # delivery itself records nothing
    status = w.trail_status()
    assert status["IsLogging"] is True
    assert status["LatestDeliveryTime"] == NOW
    assert status["LatestDeliveryAttemptTime"] == "2026-03-01T12:05:30Z"
    assert status["LatestDeliveryAttemptSucceeded"] == "2026-03-01T12:05:30Z"
    assert "LatestDeliveryError" not in status
    assert w.status()["Cursor"] == before  # the newest event
    assert w.status()["DeliveredEvents"] == 3


def test_real_records_from_the_recorder(w: World) -> None:
    """Records made by trail.records: IAM management event yes, S3 GetObject (data) no."""
    w.setup(accounts=(ADMIN,))

    def info(service: str, operation: str, params: dict[str, Any]) -> CallInfo:
        return CallInfo(
            request_id=str(uuid.uuid4()), event_time=NOW, service=service, operation=operation,
            region=REGION, source_ip="198.51.100.7", user_agent="Boto3/1.44.8",
            principal=root(ADMIN), params=params, result={}, resource_account=ADMIN,
        )

    def append(tx: Tx) -> None:
        for call_info in (
            info("iam", "CreateUser", {"UserName": "alice"}),
            info("s3", "GetObject", {"Bucket": BUCKET, "Key": "x"}),
        ):
            for account, record in build_records(call_info):
                tx.append_event(account, record["eventTime"], record["eventID"], record)

    w.store.write_sync(append)
    w.run()
    assert [r["eventName"] for r in w.delivered()] == ["CreateUser"]


def test_exactly_once_across_repeated_runs(w: World) -> None:
    w.setup()
    first = w.emit(*(event(ADMIN, f"Op{i}") for i in range(4)))
    assert w.run().records == 4
    assert w.run().files == []  # nothing new: no file, no attempt
    w.now = NOW + timedelta(minutes=5)
    second = w.emit(event(ADMIN, "Later"))
    report = w.run()
    assert [f.records for f in report.files] == [1]
    assert w.run().files == []
    delivered = w.delivered()
    assert sorted(ids(delivered)) == sorted(ids(first + second))  # each exactly once
    assert len(delivered) == len(set(ids(delivered)))


def test_events_before_start_logging_are_not_delivered(w: World) -> None:
    w.s3op("CreateBucket", Bucket=BUCKET)
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy())
    w.ct_op("CreateTrail", Name="admin-trail", S3BucketName=BUCKET)
    w.emit(event(ADMIN, "BeforeStart"))
    assert w.run().files == []  # not logging: nothing at all
    w.ct_op("StartLogging", Name="admin-trail")
    after = w.emit(event(ADMIN, "AfterStart"))
    w.run()
    assert ids(w.delivered()) == ids(after)


# -- refusals ----------------------------------------------------------------------------------


def test_policy_removed_then_restored(w: World) -> None:
    w.setup()
    early = w.emit(event(ADMIN, "Early"))
    w.run()
    w.s3op("DeleteBucketPolicy", Bucket=BUCKET)
    waiting = w.emit(event(ADMIN, "One"), event(ADMIN, "Two"), event(D, "Three"))
    cursor = w.status()["Cursor"]
    w.now = NOW + timedelta(minutes=5)
    report = w.run()
    assert report.failures == {arn(ADMIN, "admin-trail"): "AccessDenied",
                               arn(D, "d-trail"): "AccessDenied"}
    assert report.files == []
    assert len(w.object_keys()) == 1  # only the early file
    status = w.trail_status()
    assert status["LatestDeliveryError"] == "AccessDenied"
    assert status["LatestDeliveryAttemptTime"] == "2026-03-01T12:10:30Z"
    assert status["LatestDeliveryTime"] == NOW  # the last success
    assert status["LatestDeliveryAttemptSucceeded"] == "2026-03-01T12:05:30Z"
    assert w.status()["Cursor"] == cursor  # the events wait
    w.now = NOW + timedelta(minutes=10)
    assert w.run().failures  # still refused, still waiting
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy())
    w.now = NOW + timedelta(minutes=15)
    report = w.run()
    assert report.failures == {}
    assert report.records == 3
    assert sorted(ids(w.delivered())) == sorted(ids(early + waiting))
    status = w.trail_status()
    assert "LatestDeliveryError" not in status
    assert status["LatestDeliveryTime"] == NOW + timedelta(minutes=15)


def test_wrong_prefix_in_policy_refuses_delivery(w: World) -> None:
    w.setup(prefix="audit", accounts=(ADMIN,))
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy())  # no prefix: mismatch
    w.emit(event(ADMIN))
    assert w.run().failures == {arn(ADMIN, "admin-trail"): "AccessDenied"}
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy("audit"))
    w.run()
    keys = w.object_keys()
    assert len(keys) == 1 and keys[0].startswith(f"audit/AWSLogs/{ADMIN}/CloudTrail/{REGION}/")
    match = KEY_RE.fullmatch(keys[0])
    assert match is not None and match["prefix"] == "audit"


def test_missing_bucket(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    w.s3op("DeleteBucket", Bucket=BUCKET)
    pending = w.emit(event(ADMIN))
    assert w.run().failures == {arn(ADMIN, "admin-trail"): "NoSuchBucket"}
    assert w.trail_status()["LatestDeliveryError"] == "NoSuchBucket"
    w.s3op("CreateBucket", Bucket=BUCKET)
    w.run()
    assert w.trail_status()["LatestDeliveryError"] == "AccessDenied"  # new bucket, no policy
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy())
    w.run()
    assert ids(w.delivered()) == ids(pending)


def test_policy_changed_between_check_and_commit(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bucket policy is re-checked inside the write transaction."""
    w.setup(accounts=(ADMIN,))
    pending = w.emit(event(ADMIN))
    real_prepare = w.s3.prepare_PutObject

    def prepare_then_revoke(call: Call) -> Any:
        prepared = real_prepare(call)
        w.s3op("DeleteBucketPolicy", Bucket=BUCKET)
        return prepared

    monkeypatch.setattr(w.s3, "prepare_PutObject", prepare_then_revoke)
    assert w.run().failures == {arn(ADMIN, "admin-trail"): "AccessDenied"}
    assert w.object_keys() == []
    assert w.blob_files() == set()  # the blob written beforehand was discarded
    monkeypatch.undo()
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=reference_policy())
    w.run()
    assert ids(w.delivered()) == ids(pending)


# -- logging on and off ------------------------------------------------------------------------


def test_stop_start_gap_is_never_delivered(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    before_stop = w.emit(event(ADMIN, "A1"), event(ADMIN, "A2"))
    w.ct_op("StopLogging", Name="admin-trail")
    w.emit(event(ADMIN, "WhileStopped1"), event(ADMIN, "WhileStopped2"))
    # the final log of the stopped trail is still delivered, the stopped period is not
    assert w.run().records == 2
    assert ids(w.delivered()) == ids(before_stop)
    w.emit(event(ADMIN, "WhileStopped3"))
    assert w.run().files == []
    w.ct_op("StartLogging", Name="admin-trail")
    after_start = w.emit(event(ADMIN, "C1"))
    w.run()
    assert sorted(ids(w.delivered())) == sorted(ids(before_stop + after_start))


def test_stop_start_before_delivery_keeps_final_log(w: World) -> None:
    """Stop and start again before the worker ran: the events before the stop are still
    delivered, those recorded while stopped are skipped (a gap), the new ones delivered."""
    w.setup(accounts=(ADMIN,))
    before_stop = w.emit(event(ADMIN, "A1"))
    w.ct_op("StopLogging", Name="admin-trail")
    w.emit(event(ADMIN, "Gap1"), event(ADMIN, "Gap2"))
    w.ct_op("StartLogging", Name="admin-trail")
    after_start = w.emit(event(ADMIN, "C1"))
    w.ct_op("StopLogging", Name="admin-trail")
    w.emit(event(ADMIN, "Gap3"))
    w.ct_op("StartLogging", Name="admin-trail")
    later = w.emit(event(ADMIN, "C2"))
    report = w.run()  # one file per stretch between gaps, all in one run
    assert [f.records for f in report.files] == [1, 1, 1]
    assert sorted(ids(w.delivered())) == sorted(ids(before_stop + after_start + later))
    assert w.status()["Gaps"] == []  # passed gaps are forgotten
    assert w.run().files == []


def test_stale_batch_is_dropped(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """StopLogging + StartLogging (cursor moved) between planning and commit: the batch is
    rolled back and nothing is delivered twice or lost."""
    w.setup(accounts=(ADMIN,))
    pending = w.emit(event(ADMIN, "A1"), event(ADMIN, "A2"))
    real_prepare = w.s3.prepare_PutObject
    toggled: list[bool] = []

    def prepare_and_toggle(call: Call) -> Any:
        prepared = real_prepare(call)
        if not toggled:
            toggled.append(True)
            w.ct_op("StopLogging", Name="admin-trail")
            w.emit(event(ADMIN, "WhileStopped"))
            w.ct_op("StartLogging", Name="admin-trail")
            # a second delivery happens meanwhile (e.g. another worker)
            w.worker.run_once(w.now)
        return prepared

    monkeypatch.setattr(w.s3, "prepare_PutObject", prepare_and_toggle)
    w.run()
    monkeypatch.undo()
    w.run()
    assert ids(w.delivered()) == ids(pending)
    assert len(w.blob_files()) == 1  # the dropped batch's blob was discarded


def test_update_trail_between_planning_and_commit(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w.setup(accounts=(ADMIN,))
    doc = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN, "admin-trail")})
    doc["Statement"][1]["Resource"] = [f"arn:aws:s3:::{BUCKET}/*"]  # any prefix
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(doc))
    pending = w.emit(event(ADMIN))
    real_prepare = w.s3.prepare_PutObject

    def prepare_and_move(call: Call) -> Any:
        prepared = real_prepare(call)
        w.ct_op("UpdateTrail", Name="admin-trail", S3KeyPrefix="new")
        return prepared

    monkeypatch.setattr(w.s3, "prepare_PutObject", prepare_and_move)
    assert w.run().files == []  # planned for the old configuration: dropped
    monkeypatch.undo()
    w.run()
    keys = w.object_keys()
    assert len(keys) == 1 and keys[0].startswith("new/AWSLogs/")
    assert ids(w.records(keys[0])) == ids(pending)


def test_deleted_trail_delivers_nothing(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    w.emit(event(ADMIN))
    w.ct_op("DeleteTrail", Name="admin-trail")
    assert w.run().files == []
    assert w.object_keys() == []


# -- what a trail selects ----------------------------------------------------------------------


def test_organization_trail_folders(w: World) -> None:
    org_id = w.org()
    doc = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN, "org-trail")})
    doc["Statement"][1]["Resource"] = [
        f"arn:aws:s3:::{BUCKET}/AWSLogs/{ADMIN}/*", f"arn:aws:s3:::{BUCKET}/AWSLogs/{org_id}/*"
    ]
    w.s3op("CreateBucket", Bucket=BUCKET)
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(doc))
    w.ct_op("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True,
            IsMultiRegionTrail=True)
    w.ct_op("StartLogging", Name="org-trail")
    by_account = {acct: w.emit(event(acct, f"Op{acct}")) for acct in (ADMIN, D, E)}
    w.emit(event(R, "Outsider"))
    report = w.run()
    assert report.failures == {}
    found: dict[str, list[str]] = {}
    for key in w.object_keys():
        match = KEY_RE.fullmatch(key)
        assert match is not None, key
        assert match["org"] == org_id
        found[match["acct"]] = ids(w.records(key))
    assert found == {acct: ids(records) for acct, records in by_account.items()}


def test_data_events_only_with_a_data_selector(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    management = w.emit(event(ADMIN, "CreateUser"))
    w.emit(event(ADMIN, "GetObject", read_only=True, data_key="a.txt"))
    w.run()
    assert ids(w.delivered()) == ids(management)
    w.ct_op("PutEventSelectors", TrailName="admin-trail", EventSelectors=[{
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::data-bucket/in/"]}],
    }])
    selected = w.emit(
        event(ADMIN, "PutObject", data_key="in/b.txt"),
        event(ADMIN, "GetObject", read_only=True, data_key="in/c.txt"),
        event(ADMIN, "ListBuckets", read_only=True, source="s3.amazonaws.com"),
    )
    w.emit(
        event(ADMIN, "GetObject", read_only=True, data_key="out/d.txt"),
        event(ADMIN, "GetObject", read_only=True, data_key="in/e.txt", data_bucket="other"),
    )
    w.run()
    assert sorted(ids(w.delivered())) == sorted(ids(management + selected))


def test_read_write_type_and_cursor_past_unselected(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    w.ct_op("PutEventSelectors", TrailName="admin-trail",
            EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    w.emit(event(ADMIN, "GetUser", read_only=True), event(ADMIN, "ListUsers", read_only=True))
    assert w.run().files == []
    assert w.status()["Cursor"] == w.event_count()  # done with them although none selected
    writes = w.emit(event(ADMIN, "CreateUser"))
    w.run()
    assert ids(w.delivered()) == ids(writes)


def test_regions(w: World) -> None:
    w.setup(accounts=(ADMIN, D))
    doc_trail = w.ct_op("UpdateTrail", account=D, Name="d-trail", IsMultiRegionTrail=True)
    assert doc_trail["IsMultiRegionTrail"] is True
    w.emit(event(ADMIN, "Home"), event(ADMIN, "Away", region="eu-west-1"))
    w.emit(event(D, "Home"), event(D, "Away", region="eu-west-1"))
    w.run()
    folders = sorted(
        (m["acct"], m["region"]) for k in w.object_keys() if (m := KEY_RE.fullmatch(k)) is not None
    )
    assert folders == [(ADMIN, REGION), (D, "eu-west-1"), (D, REGION)]


def test_global_service_events_can_be_left_out(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    w.ct_op("UpdateTrail", Name="admin-trail", IncludeGlobalServiceEvents=False)
    w.emit(event(ADMIN, "CreateUser", source="iam.amazonaws.com"))
    kept = w.emit(event(ADMIN, "CreateTrail", source="cloudtrail.amazonaws.com"))
    w.run()
    assert ids(w.delivered()) == ids(kept)


# -- bounded batches ---------------------------------------------------------------------------


def test_batches_bound_file_size(tmp_path: Path) -> None:
    world = World(tmp_path, batch=3)
    try:
        world.setup(accounts=(ADMIN,))
        emitted = world.emit(*(event(ADMIN, f"Op{i}") for i in range(8)))
        report = world.run()
        assert [f.records for f in report.files] == [3, 3, 2]
        assert report.scanned == 8
        assert sorted(ids(world.delivered())) == sorted(ids(emitted))
        world.worker.max_batches = 1
        more = world.emit(*(event(ADMIN, f"More{i}") for i in range(5)))
        assert [f.records for f in world.run().files] == [3]
        assert [f.records for f in world.run().files] == [2]
        assert sorted(ids(world.delivered())) == sorted(ids(emitted + more))
    finally:
        world.close()


def test_batches_skip_other_accounts_events(tmp_path: Path) -> None:
    """A trail's cursor moves past other accounts' events (scanned in SQL by account)."""
    world = World(tmp_path, batch=2)
    try:
        world.setup(accounts=(ADMIN,))
        world.emit(*(event(E, f"Other{i}") for i in range(5)))
        mine = world.emit(event(ADMIN, "Mine"))
        world.run()
        assert ids(world.delivered()) == ids(mine)
        assert world.status()["Cursor"] == world.event_count()
    finally:
        world.close()


# -- crashes -----------------------------------------------------------------------------------


def test_failure_inside_the_transaction_rolls_everything_back(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w.setup(accounts=(ADMIN,))
    pending = w.emit(event(ADMIN, "A"), event(ADMIN, "B"))
    real_advance = delivery_module._advance

    def crash(*args: Any, **kwargs: Any) -> None:
        real_advance(*args, **kwargs)
        raise RuntimeError("crash before commit")

    monkeypatch.setattr(delivery_module, "_advance", crash)
    report = w.run()
    assert report.failures == {arn(ADMIN, "admin-trail"): "InternalError"}
    assert w.object_keys() == [] and w.blob_files() == set()
    assert w.status()["Cursor"] < w.event_count()
    monkeypatch.undo()
    w.run()
    w.run()
    assert ids(w.delivered()) == ids(pending)


CHILD = r"""
import os, signal, sys
from datetime import datetime, UTC
from pathlib import Path
from trailgate.services.s3 import S3Provider
from trailgate.store.blobs import BlobStore
from trailgate.store.sqlite import SqliteStore
from trailgate.trail import delivery

root, mode = Path(sys.argv[1]), sys.argv[2]
store = SqliteStore.open(root / "db" / "trailgate.db")
s3 = S3Provider(BlobStore(root / "blobs"), "us-east-1", read=store.read)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if mode == "before-commit":  # killed inside the write transaction, after the PutObjects
    real_advance = delivery._advance
    def advance(*args, **kwargs):
        real_advance(*args, **kwargs)
        die()
    delivery._advance = advance
else:  # killed right after the commit, before anything else happens
    real_put = delivery.put_log_objects
    def put(*args, **kwargs):
        code = real_put(*args, **kwargs)
        if code is None:
            die()
        return code
    delivery.put_log_objects = put

worker = delivery.DeliveryWorker(store, s3, "us-east-1", 1.0)
worker.run_once(datetime(2026, 3, 1, 12, 5, tzinfo=UTC))
print("survived")
"""


@pytest.mark.parametrize("mode", ["before-commit", "after-commit"])
def test_real_crash_delivers_exactly_once(tmp_path: Path, mode: str) -> None:
    world = World(tmp_path)
    world.setup()
    pending = world.emit(event(ADMIN, "A"), event(ADMIN, "B"), event(D, "C"))
    cursor = world.status()["Cursor"]
    world.close()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), mode],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )
    assert child.returncode == -9, child.stderr
    world = World(tmp_path)
    try:
        if mode == "before-commit":
            assert world.object_keys() == []
            assert world.status()["Cursor"] == cursor
        else:
            assert len(world.object_keys()) == 1  # the first trail's batch committed
        world.run()
        world.run()
        delivered = world.delivered()
        assert sorted(ids(delivered)) == sorted(ids(pending))  # each exactly once
        assert len(world.object_keys()) == 2
    finally:
        world.close()


# -- the service-principal writer --------------------------------------------------------------


def test_put_log_object_writes_as_cloudtrail(w: World) -> None:
    w.setup(accounts=())
    key = f"AWSLogs/{ADMIN}/CloudTrail/{REGION}/2026/03/01/x.json.gz"
    data = gzip.compress(orjson.dumps({"Records": []}))
    trail_arn = arn(ADMIN, "admin-trail")
    assert put_log_object(w.s3, w.store, BUCKET, key, data, trail_arn, ADMIN, now=NOW) is None
    assert b"".join(w.object(key)["Body"]) == data
    # not granted: another account's folder, another trail, a missing bucket
    other = f"AWSLogs/{R}/CloudTrail/x.json.gz"
    assert put_log_object(w.s3, w.store, BUCKET, other, data, trail_arn, ADMIN) == "AccessDenied"
    assert put_log_object(w.s3, w.store, BUCKET, key, data, arn(ADMIN, "x"), ADMIN) == "AccessDenied"
    assert put_log_object(w.s3, w.store, "nope", key, data, trail_arn, ADMIN) == "NoSuchBucket"
    assert w.object_keys() == [key]


def test_put_log_objects_is_atomic(w: World) -> None:
    w.setup(accounts=())
    source = Source(arn(ADMIN, "admin-trail"), ADMIN)
    good = f"AWSLogs/{ADMIN}/CloudTrail/a.json.gz"
    bad = f"AWSLogs/{R}/CloudTrail/b.json.gz"
    assert put_log_objects(w.s3, w.store, BUCKET, [(good, b"1"), (bad, b"2")], source) == (
        "AccessDenied"
    )
    assert w.object_keys() == []

    def boom(tx: Tx) -> None:
        raise ServiceError("InternalError", "boom", 500)

    assert put_log_objects(w.s3, w.store, BUCKET, [(good, b"1")], source, also=boom) == (
        "InternalError"
    )
    assert w.object_keys() == [] and w.blob_files() == set()


def test_put_log_object_async(w: World) -> None:
    w.setup(accounts=())
    key = f"AWSLogs/{D}/CloudTrail/{REGION}/x.json.gz"

    async def main() -> str | None:
        return await put_log_object_async(
            w.s3, w.store, BUCKET, key, b"data", arn(D, "d-trail"), D
        )

    assert asyncio.run(main()) is None
    assert w.object_keys() == [key]


def test_run_forever_delivers_until_stopped(w: World) -> None:
    w.setup(accounts=(ADMIN,))
    pending = w.emit(event(ADMIN))

    async def main() -> None:
        task = asyncio.create_task(w.worker.run_forever())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if w.object_keys():
                break
        w.worker.stop()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())
    assert ids(w.delivered()) == ids(pending)



def test_cancelling_run_forever_waits_for_the_pass_in_progress(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's shutdown cancels the task and then closes the store: the pass running in
    its thread must be over by the time the task has finished."""
    events: list[str] = []
    real_run_once = w.worker.run_once

    def slow_run_once(now: datetime | None = None) -> DeliveryReport:
        events.append("started")
        time.sleep(0.3)
        report = real_run_once(now)
        events.append("finished")
        return report

    monkeypatch.setattr(w.worker, "run_once", slow_run_once)

    async def main() -> None:
        task = asyncio.create_task(w.worker.run_forever())
        while not events:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("task done")

    asyncio.run(main())
    assert events == ["started", "finished", "task done"]
