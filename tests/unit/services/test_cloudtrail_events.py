"""Event history: the lookup index and LookupEvents (spec 7.6) on a real SQLite store."""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from botocore.parsers import create_parser  # type: ignore[import-untyped]

from trailgate.gateway.context import Principal
from trailgate.protocol import json11, specs
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.cloudtrail.events import (
    INDEX_BATCH,
    EventHistoryOps,
    index_cursor,
    index_keys,
    index_pending,
    index_rows,
    lookup_view,
)
from trailgate.services.cloudtrail.journal_move import store_journaled
from trailgate.store.interface import Conflict
from trailgate.store.journal import EventRow
from trailgate.store.sqlite import MIGRATIONS, SqliteStore, apply_migrations
from trailgate.store.sqlite.events import EventsTx, _entries
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import build_records

ADMIN = "111111111111"
D = "222222222222"
T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ROLE_ARN = f"arn:aws:iam::{ADMIN}:role/LogReaderD"

ADMIN_USER = Principal(
    kind="user", arn=f"arn:aws:iam::{ADMIN}:user/alice", account=ADMIN,
    user_id="AIDAALICE00000000001", access_key_id="AKIAALICE00000000001",
    unique_id="AIDAALICE00000000001",
)
ADMIN_ROOT = Principal(kind="root", arn=f"arn:aws:iam::{ADMIN}:root", account=ADMIN,
                       user_id=ADMIN, access_key_id="AKIAROOT000000000001")
D_USER = Principal(
    kind="user", arn=f"arn:aws:iam::{D}:user/dave", account=D,
    user_id="AIDADAVE000000000001", access_key_id="AKIADAVE000000000001",
    unique_id="AIDADAVE000000000001",
)
ROLE_SESSION = Principal(
    kind="assumed_role", arn=f"arn:aws:sts::{ADMIN}:assumed-role/LogReaderD/d-audit",
    account=ADMIN, user_id="AROAROLE000000000001:d-audit",
    access_key_id="ASIASESSION000000001", unique_id="AROAROLE000000000001",
    role_arn=ROLE_ARN, session_name="d-audit", session_issued=T0,
)

Lookup = Callable[..., dict[str, Any]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore.open(tmp_path / "data" / "trailgate.db")
    yield opened
    opened.close()


def info(
    service: str, operation: str, principal: Principal, minute: int, **extra: Any
) -> CallInfo:
    fields: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "event_time": T0 + timedelta(minutes=minute),
        "service": service,
        "operation": operation,
        # STS through its global endpoint (signed for us-east-1), the others in eu-west-1
        "region": "us-east-1" if service == "sts" else "eu-west-1",
        "source_ip": "198.51.100.7",
        "user_agent": "Boto3/1.44.8",
        "principal": principal,
        "params": {},
        "result": {},
        "host": "localhost",
    }
    fields.update(extra)
    return CallInfo(**fields)


def record(
    store: SqliteStore, *calls: CallInfo, indexed: bool = True
) -> list[tuple[str, dict[str, Any]]]:
    """Append the calls' records as the gateway does and, unless ``indexed`` is False, run
    the server's index batch after them; returns them."""
    made = [pair for c in calls for pair in build_records(c)]

    def write(tx: Any) -> None:
        for account, rec in made:
            tx.append_event(account, rec["eventTime"], rec["eventID"], rec)

    store.write_sync(write)
    if indexed:
        store.write_sync(index_pending)
    return made


def lookup(
    store: SqliteStore,
    account: str = ADMIN,
    region: str = "us-east-1",
    now: datetime = T0 + timedelta(days=1),
    **params: Any,
) -> dict[str, Any]:
    call = Call(account=account, principal=ADMIN_USER, params=params, region=region,
                request_id="r", now=now)
    result: dict[str, Any] = store.read(lambda tx: EventHistoryOps().LookupEvents(call, tx))
    return result


def by(key: str, value: str) -> list[dict[str, str]]:
    return [{"AttributeKey": key, "AttributeValue": value}]


def names(result: dict[str, Any]) -> list[str]:
    return [e["EventName"] for e in result["Events"]]


@pytest.fixture
def history(store: SqliteStore) -> dict[str, Any]:
    """A small scenario: IAM and STS calls in Admin and D, S3 calls in eu-west-1."""
    made = record(
        store,
        info("iam", "CreateUser", ADMIN_USER, 0, params={"UserName": "bob"},
             result={"User": {"UserName": "bob", "UserId": "AIDABOB", "CreateDate": T0}}),
        info("iam", "CreateAccessKey", ADMIN_ROOT, 1, params={"UserName": "bob"},
             result={"AccessKey": {"UserName": "bob", "AccessKeyId": "AKIABOB0000000000001",
                                   "Status": "Active", "SecretAccessKey": "s3cr3t"}}),
        info("iam", "ListUsers", ADMIN_USER, 2),
        info("sts", "AssumeRole", D_USER, 3, resource_account=ADMIN,
             params={"RoleArn": ROLE_ARN, "RoleSessionName": "d-audit"},
             result={"Credentials": {"AccessKeyId": "ASIASESSION000000001",
                                     "SecretAccessKey": "x", "SessionToken": "t",
                                     "Expiration": T0 + timedelta(hours=1)}}),
        info("s3", "GetBucketAcl", ROLE_SESSION, 4, params={"Bucket": "trail-bucket"},
             resource_account=ADMIN),
        info("s3", "GetObject", ROLE_SESSION, 5, resource_account=ADMIN,
             params={"Bucket": "trail-bucket", "Key": "AWSLogs/x.json.gz"}),
        info("iam", "GetUser", D_USER, 6),
    )
    return {rec["eventName"] + "@" + acct: rec for acct, rec in made}


# -- listing and scoping ------------------------------------------------------------------------


def test_unfiltered_lookup_is_newest_first_and_scoped(
    store: SqliteStore, history: dict[str, Any]
) -> None:
    assert names(lookup(store)) == ["AssumeRole", "ListUsers", "CreateAccessKey", "CreateUser"]
    assert names(lookup(store, account=D)) == ["GetUser", "AssumeRole"]
    assert names(lookup(store, region="eu-west-1")) == ["GetBucketAcl"]  # GetObject: data
    assert names(lookup(store, account=D, region="eu-west-1")) == []


def test_event_item_shape(store: SqliteStore, history: dict[str, Any]) -> None:
    events = lookup(store, LookupAttributes=by("EventName", "CreateAccessKey"))["Events"]
    assert len(events) == 1
    item = events[0]
    stored = history["CreateAccessKey@" + ADMIN]
    assert item == {
        "EventId": stored["eventID"],
        "EventName": "CreateAccessKey",
        "ReadOnly": "false",
        "AccessKeyId": "AKIAROOT000000000001",
        "EventTime": T0 + timedelta(minutes=1),
        "EventSource": "iam.amazonaws.com",
        "Username": "root",
        "Resources": [
            {"ResourceType": "AWS::IAM::User", "ResourceName": "bob"},
            {"ResourceType": "AWS::IAM::AccessKey", "ResourceName": "AKIABOB0000000000001"},
        ],
        "CloudTrailEvent": item["CloudTrailEvent"],
    }
    assert isinstance(item["CloudTrailEvent"], str)
    assert json.loads(item["CloudTrailEvent"]) == stored
    assert "s3cr3t" not in item["CloudTrailEvent"]


def test_cross_account_assume_role_is_in_both_histories(
    store: SqliteStore, history: dict[str, Any]
) -> None:
    mine = lookup(store, account=D, LookupAttributes=by("EventName", "AssumeRole"))["Events"]
    theirs = lookup(store, LookupAttributes=by("EventName", "AssumeRole"))["Events"]
    assert len(mine) == len(theirs) == 1
    assert mine[0]["EventId"] != theirs[0]["EventId"]
    assert mine[0]["Username"] == "dave"
    assert "Username" not in theirs[0]  # the role owner's copy names only the account
    assert theirs[0]["Resources"][0] == {"ResourceType": "AWS::IAM::Role",
                                         "ResourceName": ROLE_ARN}
    shared = {json.loads(e["CloudTrailEvent"])["sharedEventID"] for e in mine + theirs}
    assert len(shared) == 1


# -- each attribute -----------------------------------------------------------------------------


ATTRIBUTES: list[tuple[str, str, str, str, list[str]]] = [
    # (account, region, key, value, expected event names)
    (ADMIN, "us-east-1", "EventName", "CreateUser", ["CreateUser"]),
    (ADMIN, "us-east-1", "ReadOnly", "true", ["AssumeRole", "ListUsers"]),
    (ADMIN, "us-east-1", "ReadOnly", "false", ["CreateAccessKey", "CreateUser"]),
    (ADMIN, "us-east-1", "Username", "alice", ["ListUsers", "CreateUser"]),
    (ADMIN, "us-east-1", "Username", "root", ["CreateAccessKey"]),
    (ADMIN, "eu-west-1", "Username", "d-audit", ["GetBucketAcl"]),
    (D, "us-east-1", "Username", "dave", ["GetUser", "AssumeRole"]),
    (ADMIN, "us-east-1", "EventSource", "sts.amazonaws.com", ["AssumeRole"]),
    (ADMIN, "us-east-1", "EventSource", "iam.amazonaws.com",
     ["ListUsers", "CreateAccessKey", "CreateUser"]),
    (ADMIN, "us-east-1", "AccessKeyId", "AKIAALICE00000000001", ["ListUsers", "CreateUser"]),
    (ADMIN, "eu-west-1", "AccessKeyId", "ASIASESSION000000001", ["GetBucketAcl"]),
    (ADMIN, "us-east-1", "ResourceType", "AWS::IAM::User", ["CreateAccessKey", "CreateUser"]),
    (ADMIN, "us-east-1", "ResourceType", "AWS::IAM::Role", ["AssumeRole"]),
    (ADMIN, "eu-west-1", "ResourceType", "AWS::S3::Bucket", ["GetBucketAcl"]),
    (ADMIN, "eu-west-1", "ResourceType", "AWS::S3::Object", []),
    (ADMIN, "us-east-1", "ResourceName", "bob", ["CreateAccessKey", "CreateUser"]),
    (ADMIN, "us-east-1", "ResourceName", ROLE_ARN, ["AssumeRole"]),
    (ADMIN, "eu-west-1", "ResourceName", "trail-bucket", ["GetBucketAcl"]),
    (ADMIN, "us-east-1", "ResourceName", "Bob", []),  # exact, case-sensitive
    (ADMIN, "us-east-1", "EventName", "GetObject", []),
    (ADMIN, "eu-west-1", "EventName", "GetObject", []),  # data events are never shown
]


@pytest.mark.parametrize(("account", "region", "key", "value", "expected"), ATTRIBUTES,
                         ids=[f"{a[2]}={a[3]}@{a[1]}" for a in ATTRIBUTES])
def test_lookup_by_attribute(
    store: SqliteStore, history: dict[str, Any], account: str, region: str, key: str,
    value: str, expected: list[str],
) -> None:
    result = lookup(store, account=account, region=region, LookupAttributes=by(key, value))
    assert names(result) == expected


def test_lookup_by_event_id(store: SqliteStore, history: dict[str, Any]) -> None:
    wanted = history["ListUsers@" + ADMIN]["eventID"]
    events = lookup(store, LookupAttributes=by("EventId", wanted))["Events"]
    assert [e["EventId"] for e in events] == [wanted]
    other_account = lookup(store, account=D, LookupAttributes=by("EventId", wanted))
    assert other_account["Events"] == []


def test_data_events_are_stored_but_not_indexed(
    store: SqliteStore, history: dict[str, Any]
) -> None:
    get_object = history["GetObject@" + ADMIN]
    assert get_object["eventCategory"] == "Data"
    assert index_rows(1, ADMIN, get_object) == []
    count = store.read(lambda tx: tx._conn.execute("SELECT count(*) FROM events").fetchone()[0])
    assert count == 8  # 7 calls, AssumeRole twice


# -- time ranges --------------------------------------------------------------------------------


def test_time_range_bounds_are_inclusive(store: SqliteStore, history: dict[str, Any]) -> None:
    start, end = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    result = lookup(store, StartTime=start, EndTime=end)
    assert names(result) == ["AssumeRole", "ListUsers", "CreateAccessKey"]
    assert names(lookup(store, StartTime=start, EndTime=start)) == ["CreateAccessKey"]
    late = start + timedelta(milliseconds=1)  # a fraction after the event excludes it
    assert names(lookup(store, StartTime=late, EndTime=end)) == ["AssumeRole", "ListUsers"]
    assert names(lookup(store, EndTime=T0)) == ["CreateUser"]


def test_start_after_end_is_refused(store: SqliteStore) -> None:
    with pytest.raises(ServiceError) as caught:
        lookup(store, StartTime=T0, EndTime=T0 - timedelta(seconds=1))
    assert caught.value.code == "InvalidTimeRangeException"
    assert caught.value.status == 400


def test_only_the_last_90_days(store: SqliteStore, history: dict[str, Any]) -> None:
    later = T0 + timedelta(days=90, minutes=2)
    assert names(lookup(store, now=later)) == ["AssumeRole", "ListUsers"]
    assert names(lookup(store, now=later, StartTime=T0 - timedelta(days=1))) == [
        "AssumeRole", "ListUsers"]


# -- paging -------------------------------------------------------------------------------------


def test_paging_walks_every_event_once(store: SqliteStore) -> None:
    made = record(store, *[
        info("iam", f"CreateGroup{i % 3}", ADMIN_USER, i // 2) for i in range(11)
    ])
    expected = [rec["eventID"] for _, rec in sorted(
        made, key=lambda pair: pair[1]["eventTime"], reverse=True)]
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"MaxResults": 4}
        if token is not None:
            params["NextToken"] = token
        result = lookup(store, **params)
        pages += 1
        seen.extend(e["EventId"] for e in result["Events"])
        token = result.get("NextToken")
        if token is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    times = [next(r["eventTime"] for _, r in made if r["eventID"] == s) for s in seen]
    assert times == sorted(times, reverse=True)
    assert set(seen) == set(expected)


def test_paging_with_an_attribute_and_exact_page(store: SqliteStore) -> None:
    record(store, *[info("iam", "CreateGroup", ADMIN_USER, i) for i in range(4)],
           *[info("iam", "DeleteGroup", ADMIN_USER, i) for i in range(3)])
    first = lookup(store, MaxResults=2, LookupAttributes=by("EventName", "CreateGroup"))
    second = lookup(store, MaxResults=2, LookupAttributes=by("EventName", "CreateGroup"),
                    NextToken=first["NextToken"])
    assert len(first["Events"]) == len(second["Events"]) == 2
    assert "NextToken" not in second  # exactly two pages: no empty third page
    assert [e["EventTime"] for e in first["Events"] + second["Events"]] == [
        T0 + timedelta(minutes=m) for m in (3, 2, 1, 0)]


def test_default_and_maximum_page_size(store: SqliteStore) -> None:
    record(store, *[info("iam", "CreateGroup", ADMIN_USER, 0) for _ in range(55)])
    first = lookup(store)
    assert len(first["Events"]) == 50
    assert len(lookup(store, NextToken=first["NextToken"])["Events"]) == 5


@pytest.mark.parametrize("bad_token", [
    "not a token", "", "eyJ2IjoxfQ==", "%%%", "AAAA",
])
def test_garbage_tokens_are_refused(
    store: SqliteStore, history: dict[str, Any], bad_token: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        lookup(store, NextToken=bad_token)
    assert caught.value.code == "InvalidNextTokenException"


def test_token_is_bound_to_its_query(store: SqliteStore, history: dict[str, Any]) -> None:
    token = lookup(store, MaxResults=1)["NextToken"]
    assert lookup(store, MaxResults=1, NextToken=token)["Events"]  # same query: fine
    assert lookup(store, MaxResults=3, NextToken=token)["Events"]  # page size may change
    changed: list[dict[str, Any]] = [
        {"LookupAttributes": by("EventName", "ListUsers")},
        {"StartTime": T0},
        {"EndTime": T0 + timedelta(hours=1)},
        {"account": D},
        {"region": "eu-west-1"},
    ]
    for extra in changed:
        with pytest.raises(ServiceError) as caught:
            lookup(store, MaxResults=1, NextToken=token, **extra)
        assert caught.value.code == "InvalidNextTokenException", extra


# -- parameter errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "code"), [
    ({"MaxResults": 0}, "InvalidMaxResultsException"),
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"LookupAttributes": by("EventName", "A") + by("EventName", "B")},
     "InvalidLookupAttributesException"),
    ({"LookupAttributes": by("Region", "us-east-1")}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": by("EventName", "")}, "InvalidLookupAttributesException"),
])
def test_invalid_parameters(store: SqliteStore, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as caught:
        lookup(store, **params)
    assert caught.value.code == code
    assert caught.value.status == 400


def test_insight_category_has_no_events(store: SqliteStore, history: dict[str, Any]) -> None:
    assert lookup(store, EventCategory="insight") == {"Events": []}


def test_indexing_needs_a_store_transaction() -> None:
    rec = build_records(info("iam", "CreateUser", ADMIN_USER, 0))[0][1]

    class NoIndex:  # reads events and metadata, but has no event-history index
        def meta_get(self, name: str) -> str | None:
            return None

        def events_after(self, after: int, **_: Any) -> list[tuple[int, str, dict[str, Any]]]:
            return [(1, ADMIN, rec)]

    with pytest.raises(TypeError):
        index_pending(NoIndex())


# -- scale ----------------------------------------------------------------------------------------

SCALE_EVENTS = 200_000


class _RawTx(EventsTx):
    """The store's event methods on a plain connection (for a bulk load)."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _read(self) -> sqlite3.Connection:
        return self.conn

    def _write(self) -> sqlite3.Connection:
        return self.conn


def _bulk_load(conn: sqlite3.Connection, count: int) -> None:
    """``count`` management events of one account in one transaction, indexed with the rows
    :func:`index_rows` gives (computed once per event name, then re-keyed per event)."""
    start = int(T0.timestamp())
    protos: list[tuple[dict[str, Any], list[tuple[str, str, str, str]]]] = []
    for n in range(40):
        rec = build_records(info("iam", f"Op{n}", ADMIN_USER, 0))[0][1]
        keys = [(r.account, r.region, r.attr, r.value) for r in index_rows(0, ADMIN, rec)
                if r.attr != "EventId"]
        protos.append((rec, keys))
    conn.execute("BEGIN")
    for base in range(0, count, 20_000):
        events: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for i in range(base, min(base + 20_000, count)):
            template, proto_rows = protos[i % 40]
            seq, when, event_id = i + 1, start + i, f"evt-{i:08d}"
            rec = dict(template, eventID=event_id, eventTime=datetime.fromtimestamp(
                when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            events.append((seq, ADMIN, rec["eventTime"], event_id, orjson.dumps(rec)))
            rows.extend((*key, when, seq) for key in proto_rows)
        conn.executemany(
            "INSERT INTO events (seq, account, event_time, event_id, data) VALUES (?,?,?,?,?)",
            events)
        _RawTx(conn).event_index_add(rows)
    conn.execute("UPDATE meta SET value = ? WHERE name = 'event_index_seq'", (str(count),))
    conn.execute("COMMIT")


def _instructions(store: SqliteStore, **params: Any) -> tuple[int, dict[str, Any]]:
    """SQLite VM instructions (in units of 100) spent answering one lookup."""
    now = T0 + timedelta(days=5)
    call = Call(account=ADMIN, principal=ADMIN_USER, params=params, region="us-east-1",
                request_id="r", now=now)
    ticks = [0]

    def count() -> int:
        ticks[0] += 1
        return 0

    def run(tx: Any) -> dict[str, Any]:
        tx._conn.set_progress_handler(count, 100)
        try:
            out: dict[str, Any] = EventHistoryOps().LookupEvents(call, tx)
            return out
        finally:
            tx._conn.set_progress_handler(None, 0)

    result = store.read(run)
    return ticks[0], result


def _scan_ticks(store: SqliteStore) -> int:
    ticks = [0]

    def count() -> int:
        ticks[0] += 1
        return 0

    def run(tx: Any) -> None:
        tx._conn.set_progress_handler(count, 100)
        try:
            tx._conn.execute("SELECT count(*) FROM events WHERE event_time >= ''").fetchone()
        finally:
            tx._conn.set_progress_handler(None, 0)

    store.read(run)
    return ticks[0]


@pytest.mark.slow
def test_lookup_reads_a_bounded_number_of_rows_at_scale(tmp_path: Path) -> None:
    path = tmp_path / "scale.db"
    SqliteStore.open(path).close()  # create and migrate
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size = -262144")  # a big load in one transaction
        _bulk_load(conn, SCALE_EVENTS)
        total = conn.execute("SELECT sum(length(entries)) FROM event_blocks").fetchone()[0]
        assert total == 16 * 6 * SCALE_EVENTS  # (time, seq) in 16 bytes: 6 rows of every event
        plan = " | ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id, hi, lo FROM event_blocks"
            " WHERE key = ? AND hi >= ? AND lo <= ? ORDER BY hi DESC", (7, 0, 2**62)))
        assert "SEARCH event_blocks USING COVERING INDEX event_blocks_by_key" in plan
        assert "TEMP B-TREE" not in plan  # blocks come out in order: the scan stops early
    finally:
        conn.close()

    with SqliteStore.open(path) as store:
        first_ticks, first = _instructions(store)
        assert len(first["Events"]) == 50
        assert first["Events"][0]["EventId"] == f"evt-{SCALE_EVENTS - 1:08d}"
        deep_ticks, deep = _instructions(store, NextToken=first["NextToken"])
        assert deep["Events"][0]["EventId"] == f"evt-{SCALE_EVENTS - 51:08d}"
        attr_ticks, by_name = _instructions(store, LookupAttributes=by("EventName", "Op7"),
                                            MaxResults=10)
        assert [e["EventName"] for e in by_name["Events"]] == ["Op7"] * 10
        rare_ticks, rare = _instructions(store, LookupAttributes=by("EventId", "evt-00000003"))
        assert [e["EventId"] for e in rare["Events"]] == ["evt-00000003"]
        # Every lookup stays within a small constant number of VM instructions, while
        # merely counting the events (what any unindexed plan would at least do) costs
        # more than a hundred times as much.
        for ticks in (first_ticks, deep_ticks, attr_ticks, rare_ticks):
            assert ticks < 20, ticks
        assert _scan_ticks(store) > 100 * 20


def test_index_rows_of_a_role_session_record() -> None:
    rec = build_records(info("s3", "PutBucketPolicy", ROLE_SESSION, 0, resource_account=ADMIN,
                             params={"Bucket": "trail-bucket", "Policy": "{}"}))[0][1]
    rows = {(r.attr, r.value) for r in index_rows(9, ADMIN, rec)}
    assert rows == {
        ("", ""),  # no EventId row: LookupEvents finds an eventID in the events table
        ("EventName", "PutBucketPolicy"),
        ("ReadOnly", "false"),
        ("EventSource", "s3.amazonaws.com"),
        ("Username", "d-audit"),
        ("AccessKeyId", "ASIASESSION000000001"),
        ("ResourceType", "AWS::S3::Bucket"),
        ("ResourceName", "trail-bucket"),
    }
    assert {(r.account, r.region, r.seq) for r in index_rows(9, ADMIN, rec)} == {
        (ADMIN, "eu-west-1", 9)}
    assert index_rows(9, ADMIN, rec)[0].event_time == int(T0.timestamp())


def test_response_parses_in_botocore(store: SqliteStore, history: dict[str, Any]) -> None:
    result = lookup(store, MaxResults=2)
    body = json11.serialize_json("cloudtrail", "LookupEvents", result)
    op = specs.operation_model("cloudtrail", "LookupEvents")
    assert op is not None
    parsed = create_parser("json").parse(
        {"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    assert parsed["NextToken"] == result["NextToken"]
    assert [e["EventId"] for e in parsed["Events"]] == [e["EventId"] for e in result["Events"]]
    first = parsed["Events"][0]
    assert first["EventTime"] == T0 + timedelta(minutes=3)
    assert first["ReadOnly"] == "true"
    assert json.loads(first["CloudTrailEvent"])["eventName"] == "AssumeRole"


# -- the index follows in batches; lookups see what it has not reached yet ----------------------


def test_lookup_finds_events_the_index_has_not_reached(store: SqliteStore) -> None:
    old = record(store, *(info("iam", "GetUser", ADMIN_USER, m) for m in range(3)))
    fresh = record(store, *(info("iam", "ListRoles", ADMIN_USER, m) for m in range(3, 6)),
                   indexed=False)
    assert store.read(index_cursor) == 3
    everything = lookup(store, MaxResults=4)
    names = [e["EventName"] for e in everything["Events"]]
    assert names == ["ListRoles"] * 3 + ["GetUser"]
    rest = lookup(store, MaxResults=4, NextToken=everything["NextToken"])
    assert [e["EventName"] for e in rest["Events"]] == ["GetUser"] * 2
    assert "NextToken" not in rest
    by_name = lookup(store, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ListRoles"}])
    assert [e["EventId"] for e in by_name["Events"]] == [r["eventID"] for _, r in fresh][::-1]
    by_id = lookup(store, LookupAttributes=[
        {"AttributeKey": "EventId", "AttributeValue": old[0][1]["eventID"]}])
    assert [e["EventId"] for e in by_id["Events"]] == [old[0][1]["eventID"]]


def test_index_pending_indexes_each_event_once_in_batches(store: SqliteStore) -> None:
    made = record(store, *(info("iam", "GetUser", ADMIN_USER, m) for m in range(5)),
                  indexed=False)
    assert store.write_sync(lambda tx: index_pending(tx, limit=2)) == 2
    assert store.read(index_cursor) == 2
    assert store.write_sync(index_pending) == 3
    assert store.write_sync(index_pending) == 0
    assert store.read(index_cursor) == 5

    expected = sorted(
        tuple(row) for seq, (account, rec) in enumerate(made, 1)
        for row in index_rows(seq, account, rec)
    )
    assert store.read(_index_of) == expected
    assert [e["EventName"] for e in lookup(store)["Events"]] == ["GetUser"] * 5


def test_index_rows_are_the_lookup_view_fields(history: dict[str, Any]) -> None:
    """The index rows hold exactly what a lookup compares: the fields of lookup_view."""
    for key, rec in history.items():
        account = key.split("@")[1]
        rows = {(r.attr, r.value) for r in index_rows(7, account, rec)}
        if rec.get("eventCategory") == "Data":
            assert rows == set()
            continue
        view = lookup_view(rec)
        expected = {("", ""), ("EventName", view.event_name), ("ReadOnly", view.read_only),
                    ("EventSource", view.event_source)}
        expected |= {("Username", view.username)} if view.username else set()
        expected |= {("AccessKeyId", view.access_key_id)} if view.access_key_id else set()
        for kind, name in view.resources:
            expected |= {("ResourceType", kind), ("ResourceName", name)}
        assert rows == expected, key
        times = {r.event_time for r in index_rows(7, account, rec)}
        assert times == {int(view.event_time.timestamp())}


def _journal_rows(made: list[tuple[str, dict[str, Any]]], *,
                  keys: bool = False) -> list[EventRow]:
    """Rows as the gateway journals them (with their index keys) or as recovery reads them."""
    return [(account, rec["eventTime"], rec["eventID"], orjson.dumps(rec),
             index_keys(account, rec)) if keys else
            (account, rec["eventTime"], rec["eventID"], orjson.dumps(rec))
            for account, rec in made]


def _index_of(tx: Any) -> list[tuple[Any, ...]]:
    """Every (account, region, attr, value, event_time, seq) entry of the stored blocks."""
    out: list[tuple[Any, ...]] = []
    for account, region, attr, value, lo, base, entries in tx._conn.execute(
        "SELECT k.account, k.region, k.attr, k.value, b.lo, b.base, b.entries"
        " FROM event_blocks AS b JOIN event_keys AS k ON k.id = b.key"
    ):
        out.extend((account, region, attr, value, at, seq)
                   for at, seq in _entries(lo, base, entries))
    return sorted(out)


@pytest.mark.parametrize("keys", [True, False], ids=["keys-given", "keys-computed"])
def test_store_journaled_appends_after_the_calls_own_events_and_indexes_all(
    store: SqliteStore, keys: bool
) -> None:
    """A call's own records (stored in its transaction, not indexed yet) come first; the
    journaled ones follow with the next sequence numbers, byte for byte as journaled, and
    everything is indexed exactly as index_rows says, the cursor at the last one."""
    own = record(store, info("iam", "CreateRole", ADMIN_USER, 0), indexed=False)
    # Two in the same minute, another kind of call (keys in common and keys of its own)
    # with them, then others.
    made = [pair for m in (1, 1, 2, 3)
            for pair in build_records(info("iam", "GetUser", ADMIN_USER, m))]
    made[2:2] = build_records(info("iam", "ListRoles", ADMIN_USER, 1))
    made += build_records(info("s3", "GetObject", ADMIN_USER, 4, resource_account=ADMIN,
                               params={"Bucket": "trail-bucket", "Key": "k"}))  # data: no keys
    rows = _journal_rows(made, keys=keys)
    assert store.write_sync(lambda tx: store_journaled(tx, rows)) == 6
    stored = store.read(lambda tx: list(tx._conn.execute(
        "SELECT seq, account, event_id, data FROM events ORDER BY seq")))
    assert [(s, e) for s, _, e, _ in stored] == [
        (1, own[0][1]["eventID"]), *[(n, rec["eventID"]) for n, (_, rec) in enumerate(made, 2)]]
    assert [bytes(d) for _, _, _, d in stored[1:]] == [r[3] for r in rows]
    assert store.read(index_cursor) == 7
    expected = sorted(
        tuple(r) for seq, (account, rec) in enumerate([*own, *made], 1)
        for r in index_rows(seq, account, rec)
    )
    assert store.read(_index_of) == expected
    assert names(lookup(store)) == ["GetUser", "GetUser", "ListRoles", "GetUser", "GetUser",
                                   "CreateRole"]


@pytest.mark.parametrize("case", ["all-kept", "one-without-keys", "one-stored-directly",
                                  "taken-and-rolled-back"])
def test_store_journaled_indexes_writes_events_from_the_keys_kept_at_commit(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Events appended at a write's commit with their index keys are indexed by the next move
    from the keys the store kept (their records are not read back), exactly as from their
    records; when the kept keys do not cover every event after the index cursor (one came
    without keys, one was stored another way, or a move took them and rolled back), those
    events are indexed from their records instead, with the same result."""
    import trailgate.services.cloudtrail.journal_move as events_module

    writes = [pair for m in range(3) for pair in build_records(
        info("iam", "TagUser", ADMIN_USER, m, params={"UserName": "bob", "Tags": []}))]
    commit_rows = _journal_rows(writes, keys=True)
    if case == "one-without-keys":
        commit_rows[1] = commit_rows[1][:4]
    for row in commit_rows:
        store.write_sync(lambda tx, r=row: tx.append_events_at_commit([r]))
    direct = record(store, info("iam", "CreateRole", ADMIN_USER, 3),
                    indexed=False) if case == "one-stored-directly" else []
    if case == "taken-and-rolled-back":
        def fails(tx: Any) -> None:
            store_journaled(tx, _journal_rows(build_records(
                info("iam", "GetUser", ADMIN_USER, 4)), keys=True))
            raise RuntimeError("rolled back")
        with pytest.raises(RuntimeError, match="rolled back"):
            store.write_sync(fails)
    slow = case != "all-kept"
    calls: list[int] = []
    real = events_module.index_pending

    def counted(tx: Any, limit: int = INDEX_BATCH) -> int:
        calls.append(limit)
        return real(tx, limit)

    monkeypatch.setattr(events_module, "index_pending", counted)
    reads = [pair for m in (5, 6) for pair in build_records(
        info("iam", "GetUser", ADMIN_USER, m))]
    assert store.write_sync(lambda tx: store_journaled(
        tx, _journal_rows(reads, keys=True))) == 2
    assert bool(calls) is slow
    everything = [*writes, *direct, *reads]
    assert store.read(index_cursor) == len(everything)
    expected = sorted(tuple(r) for seq, (account, rec) in enumerate(everything, 1)
                      for r in index_rows(seq, account, rec))
    assert store.read(_index_of) == expected
    assert names(lookup(store)) == ["GetUser", "GetUser", *(["CreateRole"] * len(direct)),
                                   "TagUser", "TagUser", "TagUser"]


def test_store_journaled_skip_known_makes_recovery_idempotent(store: SqliteStore) -> None:
    made = [pair for m in range(3)
            for pair in build_records(info("iam", "GetUser", ADMIN_USER, m))]
    rows = _journal_rows(made)
    assert store.write_sync(lambda tx: store_journaled(tx, rows[:2])) == 2
    # a crash after the commit, before the segment was deleted: all three come back
    assert store.write_sync(
        lambda tx: store_journaled(tx, rows, skip_known=True)) == 1
    assert store.read(lambda tx: tx.last_event_seq()) == 3
    assert len(lookup(store)["Events"]) == 3
    with pytest.raises(Conflict):  # without skip_known a known eventID is refused
        store.write_sync(lambda tx: store_journaled(tx, rows[:1]))
    assert store.read(lambda tx: tx.last_event_seq()) == 3


SERVICE_PRINCIPAL = Principal(kind="service", arn="cloudtrail.amazonaws.com", account="",
                              user_id="cloudtrail.amazonaws.com")
FEDERATED = Principal(kind="federated_user", arn=f"arn:aws:sts::{ADMIN}:federated-user/fed",
                      account=ADMIN, user_id=f"{ADMIN}:fed", access_key_id="ASIAFED0000000000001",
                      session_issued=T0)


def _varied_records() -> list[tuple[str, dict[str, Any]]]:
    """Records of many shapes: every identity type, resources of each kind, data events."""
    calls = [
        info("iam", "CreatePolicy", ADMIN_USER, 1, params={"PolicyName": "p", "PolicyDocument": "{}"},
             result={"Policy": {"PolicyName": "p", "Arn": f"arn:aws:iam::{ADMIN}:policy/p"}}),
        info("iam", "AttachRolePolicy", ROLE_SESSION, 2,
             params={"RoleName": "r", "PolicyArn": f"arn:aws:iam::{ADMIN}:policy/p"}, result={}),
        info("iam", "AddUserToGroup", ADMIN_ROOT, 3, params={"GroupName": "g", "UserName": ""},
             result={}),
        info("iam", "DeleteAccessKey", ADMIN_USER, 4, params={"AccessKeyId": "AKIAX"}, result={},
             error_code="NoSuchEntity", error_message="not found"),
        info("sts", "AssumeRole", ROLE_SESSION, 5, resource_account=ADMIN,
             params={"RoleArn": ROLE_ARN, "RoleSessionName": "chained"},
             result={"Credentials": {"AccessKeyId": "ASIACHAIN00000000001",
                                     "SecretAccessKey": "x", "SessionToken": "t",
                                     "Expiration": T0},
                     "AssumedRoleUser": {"Arn": "a", "AssumedRoleId": "b"}}),
        info("sts", "GetCallerIdentity", FEDERATED, 6),
        info("cloudtrail", "CreateTrail", ADMIN_ROOT, 7,
             params={"Name": "t1", "S3BucketName": "b"}, result={"Name": "t1"}),
        info("cloudtrail", "GetTrailStatus", ADMIN_USER, 8, params={"Name": "t1"}),
        info("s3", "PutBucketPolicy", SERVICE_PRINCIPAL, 9, resource_account=ADMIN,
             params={"Bucket": "trail-bucket", "Policy": "{}"}),
        info("s3", "PutObject", ROLE_SESSION, 10, resource_account=ADMIN,
             params={"Bucket": "trail-bucket", "Key": "k"}),
        info("s3", "ListObjectsV2", D_USER, 11, resource_account=ADMIN,
             params={"Bucket": "trail-bucket"}),
        info("organizations", "DescribeOrganization", ADMIN_USER, 12),
    ]
    made = [pair for c in calls for pair in build_records(c)]
    odd: list[dict[str, Any]] = [
        {"eventName": "Odd", "eventSource": "iam.amazonaws.com", "eventTime": "garbage",
         "awsRegion": "", "readOnly": "yes", "userIdentity": {"type": "AssumedRole", "arn": "x"},
         "requestParameters": ["not", "a", "dict"], "responseElements": None},
        {"eventName": "Old", "eventSource": "sts.amazonaws.com",
         "eventTime": "2026-11-28T12:00:00Z", "managementEvent": True,
         "userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
         "requestParameters": {"roleSessionName": "s"},
         "responseElements": {"assumedRoleUser": {}, "credentials": {"accessKeyId": ""}},
         "resources": [{"type": "AWS::S3::Bucket", "ARN": "bucket-without-prefix"},
                       {"type": "AWS::IAM::Role", "ARN": 5}, {"ARN": "no-type"}]},
        {"eventName": "DataByFlag", "eventSource": "s3.amazonaws.com", "managementEvent": False,
         "eventTime": "2026-11-28T12:00:00Z", "userIdentity": {}},
        {"eventName": "", "eventSource": "cloudtrail.amazonaws.com", "eventCategory": None,
         "eventTime": "2026-11-28T12:00:01Z", "userIdentity": {"type": "Unknown"},
         "requestParameters": {"name": "", "trailName": "t2"}},
    ]
    for n, rec in enumerate(odd):
        made.append((ADMIN, dict(rec, eventID=f"odd-{n}")))
    return made


def test_index_pending_indexes_records_of_every_shape(
    store: SqliteStore, history: dict[str, Any]
) -> None:
    """The stored blocks hold exactly index_rows of every record: the history fixture and
    records of many other shapes (data events get none)."""
    made = [(acct, rec) for key, rec in history.items() for acct in [key.split("@")[1]]]
    made += _varied_records()

    def fresh(tx: Any) -> None:
        for table in ("event_blocks", "event_keys", "events"):
            tx._conn.execute(f"DELETE FROM {table}")
        tx.meta_set("event_index_seq", "0")
        for account, rec in made:
            tx.append_event(account, str(rec.get("eventTime", "")), rec["eventID"], rec)

    store.write_sync(fresh)
    stored = store.read(lambda tx: tx.events_after(0, limit=1000))
    expected = sorted(tuple(r) for seq, account, rec in stored
                      for r in index_rows(seq, account, rec))
    assert store.write_sync(index_pending) == stored[-1][0]  # seqs from the cursor (0) on
    assert store.read(_index_of) == expected
    assert {attr for _, _, attr, *_ in expected} >= {
        "", "EventName", "ReadOnly", "EventSource", "Username", "AccessKeyId", "ResourceType",
        "ResourceName"}


def _scan_all(tx: Any, key: tuple[str, str, str, str], start: int, end: int,
              before: tuple[int, int] | None, limit: int) -> list[tuple[int, int]]:
    return cast(list[tuple[int, int]], tx.event_index_scan(*key, start, end, before, limit))


@pytest.mark.parametrize("seed", range(6))
def test_block_scan_equals_a_sorted_filter(store: SqliteStore, seed: int) -> None:
    """event_index_scan over blocks added in batches of any size (times out of seq order, rows
    added twice, keys spanning many blocks) answers exactly what sorting and filtering every
    row would, for any time range, NextToken position and page size."""
    rng = random.Random(seed)
    keys = [(ADMIN, "us-east-1", "", ""), (ADMIN, "us-east-1", "EventName", "GetUser"),
            (ADMIN, "us-east-1", "Username", "rare"), (D, "us-east-1", "", ""),
            (ADMIN, "eu-west-1", "", "")]
    weights = [1.0, 0.5, 0.01, 0.2, 0.2]
    rows: list[tuple[str, str, str, str, int, int]] = []
    at = 1_000_000
    for seq in range(1, 3001):
        at += rng.choice((0, 0, 1, 2, 30))
        when = at - rng.choice((0, 0, 0, 1, 5)) if rng.random() < 0.3 else at  # disorder
        rows.extend((*key, when, seq) for key, w in zip(keys, weights, strict=True)
                    if rng.random() < w)
    pos = 0
    while pos < len(rows):  # batches of any size; now and then one added twice
        size = rng.choice((1, 7, 250, 900))
        batch = rows[pos:pos + size]
        store.write_sync(lambda tx, b=batch: tx.event_index_add(b))
        if rng.random() < 0.2:
            store.write_sync(lambda tx, b=batch: tx.event_index_add(b))
        pos += size
    for _ in range(60):
        key = rng.choice([*keys, (ADMIN, "us-east-1", "EventName", "absent")])
        every = sorted(((r[4], r[5]) for r in rows if r[:4] == key), reverse=True)
        start = rng.choice((0, 1_000_000 + rng.randrange(60_000)))
        end = rng.choice((2**62, start + rng.randrange(40_000)))
        before = rng.choice([None, *every[:: max(1, len(every) // 5)]]) if every else None
        limit = rng.choice((1, 10, 50, 51))
        want = [hit for hit in every if start <= hit[0] <= end
                and (before is None or hit < before)][:limit]
        got = store.read(lambda tx, k=key, s=start, e=end, b=before, n=limit:
                         _scan_all(tx, k, s, e, b, n))
        assert got == want, (key, start, end, before, limit)


def test_migration_moves_the_postings_into_blocks(tmp_path: Path) -> None:
    """A database indexed by the postings of migration 5 keeps every entry in migration 6's
    blocks, and lookups find the same events."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        apply_migrations(conn, MIGRATIONS[:5])
        conn.executemany("INSERT INTO event_keys (id, account, region, attr, value)"
                         " VALUES (?, ?, ?, ?, ?)",
                         [(1, ADMIN, "us-east-1", "", ""), (2, ADMIN, "us-east-1", "x", "y"),
                          (3, ADMIN, "us-east-1", "z", "w")])
        postings = [(1, 5000 + seq // 3, seq) for seq in range(1, 700)]
        postings += [(2, 9000 - seq, seq) for seq in range(1, 700, 7)]
        postings += [(3, 7000 + seq, seq) for seq in range(1, 700, 70)]  # small blocks: 4, 4, 2
        conn.executemany("INSERT INTO event_postings VALUES (?, ?, ?)", postings)
        assert apply_migrations(conn) == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'event_postings'"
                            ).fetchone()[0] == 0
    finally:
        conn.close()
    with SqliteStore.open(path) as store:
        got = store.read(_index_of)
        names = {1: (ADMIN, "us-east-1", "", ""), 2: (ADMIN, "us-east-1", "x", "y"),
                 3: (ADMIN, "us-east-1", "z", "w")}
        assert got == sorted((*names[k], t, s) for k, t, s in postings)
        newest = store.read(lambda tx: _scan_all(tx, names[2], 0, 2**62, None, 3))
        assert newest == [(8999, 1), (8992, 8), (8985, 15)]
        # A new entry of key 3 takes its newest small migrated (JSON) block into a new (BLOB)
        # one, entries as 16-byte (time, seq) pairs.
        store.write_sync(lambda tx: tx.event_index_add([(*names[3], 6000, 800)]))
        blocks = store.read(lambda tx: tx._conn.execute(
            "SELECT typeof(entries), hi, lo, base, length(entries) FROM event_blocks"
            " WHERE key = 3 ORDER BY id").fetchall())
        assert blocks == [("text", 7211, 7001, 1, 27), ("text", 7491, 7281, 281, 27),
                          ("blob", 7631, 6000, 800, 16 * 3)]
        got = store.read(_index_of)
        postings.append((3, 6000, 800))
        assert got == sorted((*names[k], t, s) for k, t, s in postings)
        assert store.read(lambda tx: _scan_all(tx, names[3], 0, 6500, None, 5)) == [(6000, 800)]
