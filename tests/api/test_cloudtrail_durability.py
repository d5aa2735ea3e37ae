"""CloudTrail records survive the server: a call that got its response is delivered exactly
once, after a ``kill -9`` right behind the last response and after a clean restart (each test
runs its own server on its own data directory)."""

from __future__ import annotations

import json
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server, start
from .test_cloudtrail_scenario import LogReader, bucket_policy, rid

CALLS = 60


class Run:
    """A server on ``data`` (restartable), its bucket and trail, and what boto3 received."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.server: Server | None = None
        self.bucket = f"tg-durable-{uuid.uuid4().hex[:8]}"
        self.trail = "durable"
        self.received: list[str] = []

    def start(self, interval: str) -> Server:
        self.server = start(self.data, extra_args=("--delivery-interval", interval))
        return self.server

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.server is not None:
            self.server.stop(sig)
            self.server = None

    def client(self, service: str) -> Any:
        assert self.server is not None
        return self.server.client(service)

    def setup_trail(self) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_policy(Bucket=self.bucket,
                             Policy=bucket_policy(self.bucket, [(MANAGEMENT, self.trail, "")]))
        ct = self.client("cloudtrail")
        ct.create_trail(Name=self.trail, S3BucketName=self.bucket)
        ct.start_logging(Name=self.trail)

    def calls(self, count: int, tag: str) -> None:
        """``count`` recorded calls of every kind: IAM writes and reads, an error, STS, S3
        bucket-level calls; the last one is a write."""
        iam, sts, s3 = self.client("iam"), self.client("sts"), self.client("s3")
        for i in range(count):
            kind = i % 6 if i < count - 1 else 0
            if kind == 0:
                self.received.append(rid(iam.create_user(UserName=f"{tag}-{i}")))
            elif kind == 1:
                self.received.append(rid(iam.get_user(UserName=f"{tag}-{i - 1}")))
            elif kind == 2:
                with pytest.raises(ClientError) as exc:
                    iam.get_user(UserName=f"{tag}-missing-{i}")
                assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
                self.received.append(rid(exc.value.response))
            elif kind == 3:
                self.received.append(rid(sts.get_caller_identity()))
            elif kind == 4:
                self.received.append(rid(s3.get_bucket_acl(Bucket=self.bucket)))
            else:
                self.received.append(rid(iam.list_users(MaxItems=5)))

    def check_event_history_once(self) -> None:
        """Every received request id is in event history (LookupEvents) exactly once, whether
        or not the index had reached it when the server died."""
        counts: Counter[str] = Counter()
        for page in self.client("cloudtrail").get_paginator("lookup_events").paginate():
            for event in page["Events"]:
                counts[json.loads(event["CloudTrailEvent"])["requestID"]] += 1
        assert {i: counts[i] for i in self.received if counts[i] != 1} == {}

    def check_delivered_once(self) -> None:
        """After a marker call is delivered (delivery goes in record order), every received
        request id is in the trail's files exactly once."""
        marker = rid(self.client("sts").get_caller_identity())
        reader = LogReader(self.client("s3"), self.bucket)
        reader.wait_for(MANAGEMENT, [*self.received, marker], timeout=45)
        counts = Counter(r["requestID"] for r in reader.records(MANAGEMENT))
        assert {i: counts[i] for i in self.received if counts[i] != 1} == {}
        status = self.client("cloudtrail").get_trail_status(Name=self.trail)
        assert status["IsLogging"] is True
        assert "LatestDeliveryError" not in status


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    out = Run(tmp_path / "data")
    try:
        yield out
    finally:
        out.stop(signal.SIGKILL)


@pytest.mark.slow
def test_kill_9_right_after_the_last_response_loses_nothing(run: Run) -> None:
    # A short interval: deliveries run while the calls are made, so the kill can land in the
    # middle of one (exactly once must still hold).
    run.start("0.5")
    run.setup_trail()
    run.calls(CALLS, "k")
    # Some of them are delivered already (so a redelivery after the crash would show) ...
    reader = LogReader(run.client("s3"), run.bucket)
    reader.wait_for(MANAGEMENT, run.received[:1], timeout=15)
    # ... and more calls are pending when the server dies right after the last response.
    run.calls(CALLS // 2, "k2")
    run.stop(signal.SIGKILL)
    run.start("1")
    run.check_event_history_once()
    run.check_delivered_once()


@pytest.mark.slow
def test_clean_restart_delivers_what_was_pending(run: Run) -> None:
    # A long interval: nothing is delivered before the restart, everything is pending.
    run.start("3600")
    run.setup_trail()
    run.calls(CALLS // 2, "c")
    run.stop()
    run.start("1")
    run.calls(6, "c2")
    run.check_delivered_once()
