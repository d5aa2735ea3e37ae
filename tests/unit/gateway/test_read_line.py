"""The journal line of a read from a per-principal template (``recording.read_line``), and
the record line of a write with an empty result (``recording.write_line``), are exactly the
record the normal path builds, but for their own eventTime, requestID and eventID, once the
compact record (``trailgate.store.event_templates``) is joined with its template."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from trailgate.gateway import recording
from trailgate.gateway.context import HttpRequest, Principal, RequestContext
from trailgate.gateway.recording import JournalLine, TemplatedLine, call_info
from trailgate.protocol.errors import ServiceError
from trailgate.services.cloudtrail.events import index_keys
from trailgate.store.event_templates import expand
from trailgate.store.journal import EventJournal, parse_segment
from trailgate.trail.records import build_records

ADMIN = "111111111111"
D = "222222222222"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def whole(made: TemplatedLine | None) -> JournalLine | None:
    """The line with its compact record joined with its template (checked compact)."""
    if made is None:
        return None
    line, template = made
    assert template is not None
    assert line[3].startswith(b"~%d %s %s " % (template.tid, line[1].encode(), line[2].encode()))
    assert len(line[3]) < 200  # the values only, not the record
    return (*line[:3], expand(line[3], {template.tid: template.pieces}.get), line[4])


def read_line(ctx: RequestContext) -> JournalLine | None:
    return whole(recording.read_line(ctx))


def write_line(ctx: RequestContext, result: dict[str, Any]) -> JournalLine | None:
    """A write's line is whole JSON (no template check in the write's transaction)."""
    made = recording.write_line(ctx, result)
    if made is None:
        return None
    line, template = made
    assert template is None and line[3].startswith(b"{")
    return line


def principals() -> dict[str, Principal]:
    return {
        "root": Principal(kind="root", arn=f"arn:aws:iam::{ADMIN}:root", account=ADMIN,
                          user_id=ADMIN, access_key_id="AKIAROOT000000000001", unique_id=ADMIN),
        "user": Principal(kind="user", arn=f"arn:aws:iam::{ADMIN}:user/alice", account=ADMIN,
                          user_id="AIDAALICE00000000001", access_key_id="AKIAALICE0000000001",
                          unique_id="AIDAALICE00000000001"),
        "role": Principal(kind="assumed_role",
                          arn=f"arn:aws:sts::{ADMIN}:assumed-role/reader/s1", account=ADMIN,
                          user_id="AROAREADER0000000001:s1", access_key_id="ASIAREADER000000001",
                          unique_id="AROAREADER0000000001",
                          role_arn=f"arn:aws:iam::{ADMIN}:role/reader", session_name="s1",
                          mfa_authenticated=True, session_issued=T0),
    }


def context(principal: Principal, service: str, operation: str, params: dict[str, Any],
            *, secure: bool = False, resource_account: str | None = None,
            user_agent: str = "aws-cli/2.0 Python/3.11", region: str = "eu-west-1",
            request_id: str = "rid-1") -> RequestContext:
    request = HttpRequest("POST", "/", "", {"user-agent": user_agent, "host": "127.0.0.1:4566"},
                          b"", "10.0.0.7", secure=secure)
    host_id = f"Host/{request_id}+id2=" if service == "s3" else ""  # S3's x-amz-id-2
    return RequestContext(request=request, received_at=T0, request_id=request_id,
                          host_id=host_id, service=service, operation=operation, region=region, params=params,
                          principal=principal, signature_version="AWS4-HMAC-SHA256",
                          auth_type="REST-HEADER", resource_account=resource_account,
                          result={"Whatever": 1})


def normal_record(ctx: RequestContext) -> tuple[str, dict[str, Any]]:
    ((account, record),) = build_records(call_info(ctx, ctx.result))
    return account, record


READS = [
    ("sts", "GetCallerIdentity", {}, {}),
    ("iam", "ListRoles", {"MaxItems": 5, "PathPrefix": "/"}, {}),
    ("iam", "GetUser", {"UserName": "bob"}, {"secure": True}),
    ("iam", "GetRole", {"RoleName": "reader"}, {"user_agent": "x" * 2000}),
    ("cloudtrail", "GetTrailStatus", {"Name": "main"}, {"region": "us-west-2"}),
    ("cloudtrail", "DescribeTrails", {"trailNameList": ["a", "b"]}, {}),
    ("organizations", "DescribeOrganization", {}, {}),
    ("iam", "GetUser", {"UserName": 'quote" and \\ and \n'}, {}),
    ("s3", "GetBucketLocation", {"Bucket": "logs"}, {"resource_account": ADMIN}),
    ("s3", "GetBucketPolicy", {"Bucket": "logs"}, {"resource_account": ADMIN, "secure": True}),
    ("s3", "ListBuckets", {}, {}),
]


@pytest.mark.parametrize("who", ["root", "user", "role"])
@pytest.mark.parametrize(("service", "operation", "params", "options"), READS)
def test_the_line_is_the_normal_record(who: str, service: str, operation: str,
                                       params: dict[str, Any], options: dict[str, Any]) -> None:
    principal = principals()[who]
    recording._read_templates.clear()
    for n in range(3):  # the template is made, then used
        ctx = context(principal, service, operation, params, request_id=f"rid-{n}", **options)
        line = read_line(ctx)
        assert line is not None
        account, event_time, event_id, data, keys = line
        got = orjson.loads(data)
        want_account, want = normal_record(ctx)
        assert account == want_account
        assert keys == index_keys(account, want)
        assert keys and keys[0] == (account, want["awsRegion"], "", "")
        assert (got["eventTime"], got["eventID"], got["requestID"]) == (
            event_time, event_id, f"rid-{n}")
        assert got == dict(want, eventTime=event_time, eventID=event_id)
        assert list(got) == list(want)  # the same member order, byte for byte otherwise
        if service == "s3":  # each call's own x-amz-id-2, as its response header said
            assert got["additionalEventData"]["x-amz-id-2"] == f"Host/rid-{n}+id2="
            assert list(got["additionalEventData"]) == list(want["additionalEventData"])
        else:
            assert "additionalEventData" not in got


@pytest.mark.parametrize(("service", "operation", "params", "change"), [
    ("iam", "CreateUser", {"UserName": "x"}, {}),  # a write
    ("sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{D}:role/r", "RoleSessionName": "s"},
     {}),  # read-only, but its response is logged
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, {}),  # a data event
    ("iam", "GetUser", {"UserName": "bob"}, {"error": ServiceError("NoSuchEntity", "no", 404)}),
    ("iam", "GetRole", {"RoleName": "r"}, {"resource_account": D}),  # two records
    ("iam", "GetUser", {"UserName": "@@trailgate:eventID@@"}, {}),  # a mark in a value
    ("iam", "GetUser", {"UserName": b"bytes"}, {}),  # params JSON cannot hold
])
def test_other_calls_go_the_normal_way(service: str, operation: str, params: dict[str, Any],
                                       change: dict[str, Any]) -> None:
    principal = principals()["user"]
    for _ in range(2):
        ctx = context(principal, service, operation, params,
                      resource_account=change.get("resource_account"))
        ctx.error = change.get("error")
        assert read_line(ctx) is None


def test_templates_are_per_identity_and_bounded() -> None:
    """Callers with the same userIdentity share templates (a role session's Principal is made
    anew for every request), others never do; the table is bounded."""
    recording._read_templates.clear()
    alice, root, role = principals()["user"], principals()["root"], principals()["role"]
    a = read_line(context(alice, "iam", "GetUser", {"UserName": "bob"}))
    r = read_line(context(root, "iam", "GetUser", {"UserName": "bob"}))
    assert a is not None and r is not None
    assert orjson.loads(a[3])["userIdentity"]["arn"].endswith(":user/alice")
    assert orjson.loads(r[3])["userIdentity"]["type"] == "Root"
    again = principals()["role"]  # the same session, another Principal object
    no_mfa = principals()["role"]
    no_mfa.mfa_authenticated = False
    for p, mfa in ((role, "true"), (again, "true"), (no_mfa, "false")):
        line = read_line(context(p, "iam", "ListRoles", {}))
        assert line is not None
        attributes = orjson.loads(line[3])["userIdentity"]["sessionContext"]["attributes"]
        assert attributes["mfaAuthenticated"] == mfa
    assert len(recording._read_templates) == 4
    for n in range(recording.TEMPLATE_LIMIT + 5):
        line = read_line(context(alice, "iam", "GetUser", {"UserName": f"u{n}"}))
        assert line is not None
        assert orjson.loads(line[3])["requestParameters"] == {"userName": f"u{n}"}
    assert len(recording._read_templates) <= recording.TEMPLATE_LIMIT


def test_s3_reads_are_keyed_by_their_transfer_sizes() -> None:
    alice = principals()["user"]
    for size in (10, 20, 10):
        ctx = context(alice, "s3", "GetBucketPolicy", {"Bucket": "logs"}, resource_account=ADMIN)
        ctx.result = {"ContentLength": size}
        line = read_line(ctx)
        assert line is not None
        got = orjson.loads(line[3])
        assert got["additionalEventData"]["bytesTransferredOut"] == size
        _, want = normal_record(ctx)
        assert got == dict(want, eventTime=line[1], eventID=line[2])


@pytest.mark.parametrize(("operation", "sent"), [("GetObject", 10), ("HeadObject", 0)])
def test_bytes_transferred_out(operation: str, sent: int) -> None:
    """HeadObject answers the object's size (Content-Length) but sends no body: 0 bytes out."""
    ctx = context(principals()["user"], "s3", operation, {"Bucket": "logs", "Key": "k"},
                  resource_account=ADMIN)
    assert call_info(ctx, {"ContentLength": 10}).extra["bytesTransferredOut"] == sent


WRITES = [
    ("iam", "TagUser", {"UserName": "bob", "Tags": [{"Key": "k", "Value": "v"}]}, {}),
    ("iam", "UntagUser", {"UserName": "bob", "TagKeys": ["k"]}, {"secure": True}),
    ("iam", "DeleteRolePolicy", {"RoleName": "r", "PolicyName": "p"}, {}),
    ("cloudtrail", "StopLogging", {"Name": "main"}, {"region": "us-west-2"}),
    ("s3", "PutBucketPolicy", {"Bucket": "logs", "Policy": "{}"}, {"resource_account": ADMIN}),
]


@pytest.mark.parametrize("who", ["root", "user", "role"])
@pytest.mark.parametrize(("service", "operation", "params", "options"), WRITES)
def test_the_line_of_a_write_with_an_empty_result_is_the_normal_record(
    who: str, service: str, operation: str, params: dict[str, Any], options: dict[str, Any]
) -> None:
    principal = principals()[who]
    recording._read_templates.clear()
    for n in range(3):  # the template is made, then used
        ctx = context(principal, service, operation, params, request_id=f"rid-{n}", **options)
        ctx.result = None  # not set yet inside the write's transaction
        line = write_line(ctx, {})
        assert line is not None
        account, event_time, event_id, data, keys = line
        got = orjson.loads(data)
        ((want_account, want),) = build_records(call_info(ctx, {}))
        assert account == want_account
        assert keys == index_keys(account, want)
        assert "responseElements" not in want or want["responseElements"] is None
        assert got == dict(want, eventTime=event_time, eventID=event_id, requestID=f"rid-{n}")
        assert list(got) == list(want)


@pytest.mark.parametrize(("service", "operation", "params", "result"), [
    ("iam", "CreateUser", {"UserName": "x"}, {"User": {"UserName": "x"}}),  # responseElements
    ("s3", "PutObject", {"Bucket": "b", "Key": "k"}, {}),  # a data event
    ("iam", "GetUser", {"UserName": "bob"}, {}),  # a read
    ("sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{D}:role/r", "RoleSessionName": "s"},
     {}),
])
def test_other_writes_go_the_normal_way(service: str, operation: str, params: dict[str, Any],
                                        result: dict[str, Any]) -> None:
    principal = principals()["user"]
    for _ in range(2):
        assert write_line(context(principal, service, operation, params), result) is None
    ctx = context(principal, "iam", "TagUser", {"UserName": "bob", "Tags": []})
    ctx.error = ServiceError("NoSuchEntity", "no", 404)
    assert write_line(ctx, {}) is None


@pytest.mark.parametrize("segment_bytes", [8 * 1024 * 1024, 4096])
def test_journal_read_appends_what_read_line_and_append_one_append(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segment_bytes: int) -> None:
    """The gateway's fast path (``journal_read``) writes the journal byte for byte as
    ``read_line`` and ``EventJournal.append_one`` do, with the same rows and templates for
    the move (small segments: new segments and template definitions on the way); a call
    that is no such read appends nothing and says so."""
    stamps = iter([(f"2026-11-29T10:00:{n % 60:02d}Z", f"e{n:07d}-0000-4000-8000-000000000000")
                   for n in range(10_000)])
    current: list[tuple[str, str]] = []

    def stamp() -> tuple[bytes, bytes]:
        current[:] = [next(stamps)]
        return current[0][0].encode(), current[0][1].encode()

    monkeypatch.setattr(recording, "event_stamp_bytes", stamp)
    monkeypatch.setattr(recording, "event_time_now", lambda: current[0][0])
    monkeypatch.setattr(recording, "new_event_id", lambda: current[0][1])
    fast = EventJournal(tmp_path / "fast", segment_bytes=segment_bytes)
    slow = EventJournal(tmp_path / "slow", segment_bytes=segment_bytes)
    try:
        for journal in (fast, slow):
            journal.recover()
        recording._read_templates.clear()
        calls = [(who, read) for who in ("root", "user", "role") for read in READS] * 12
        for n, (who, (service, operation, params, options)) in enumerate(calls):
            ctx = context(principals()[who], service, operation, params,
                          request_id=f"rid-{n}", **options)
            assert recording.journal_read(ctx, fast) is True
            made = recording.read_line(ctx)
            assert made is not None
            slow.append_one(*made)
        other = context(principals()["user"], "iam", "CreateUser", {"UserName": "x"})
        assert recording.journal_read(other, fast) is False
        assert fast.backlog == slow.backlog == len(calls)
        fast_batch, slow_batch = fast.take(seal=True), slow.take(seal=True)
        assert fast_batch.rows == slow_batch.rows
        assert fast_batch.templates == slow_batch.templates
        assert len(fast_batch.paths) == len(slow_batch.paths) >= (
            2 if segment_bytes == 4096 else 1)
        fast.close()
        slow.close()
        for a, b in zip(fast_batch.paths, slow_batch.paths, strict=True):
            assert a.read_bytes() == b.read_bytes()
            assert parse_segment(a.read_bytes())[1] == 0
    finally:
        fast.close()
        slow.close()
