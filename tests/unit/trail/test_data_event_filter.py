"""Data events no trail selects are not stored (AWS records them nowhere): the gateway's
DataEventFilter, over a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trailgate.gateway.recording import DataEventFilter
from trailgate.services.cloudtrail.common import NS, STATUS, TRAIL
from trailgate.store.sqlite import SqliteStore

ACCT = "111111111111"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore.open(tmp_path / "t.db")
    yield opened
    opened.close()


def add_trail(store: SqliteStore, name: str, **selectors: Any) -> None:
    def write(tx: Any) -> None:
        tx.put(ACCT, TRAIL, name, name, {"Name": name, **selectors})
        tx.put(NS, STATUS, name, name, {"Account": ACCT, "Key": name})

    store.write_sync(write)


def record(kind: str, bucket: str, key: str = "k") -> tuple[str, dict[str, Any]]:
    data = kind == "data"
    rec: dict[str, Any] = {
        "eventName": "GetObject" if data else "CreateBucket",
        "eventSource": "s3.amazonaws.com",
        "readOnly": data,
        "eventCategory": "Data" if data else "Management",
        "managementEvent": not data,
        "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                      {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
    }
    return ACCT, rec


def test_no_trail_selects_data_events(store: SqliteStore) -> None:
    f = DataEventFilter()
    add_trail(store, "mgmt")  # default selectors: management events only
    add_trail(store, "adv-mgmt", AdvancedEventSelectors=[
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
    assert f.may_want(store.read, "s3", "GetObject") is False
    assert f.may_want(store.read, "s3", "PutObject") is False
    assert f.may_want(store.read, "s3", "CreateBucket") is True  # management
    assert f.may_want(store.read, "iam", "GetUser") is True
    records = [record("data", "b"), record("mgmt", "b")]
    assert f.keep(store.read, records) == [records[1]]


def test_a_data_selector_keeps_what_it_selects_after_invalidate(store: SqliteStore) -> None:
    f = DataEventFilter()
    assert f.may_want(store.read, "s3", "GetObject") is False
    add_trail(store, "data", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::logged/"]}]}])
    assert f.may_want(store.read, "s3", "GetObject") is False  # cached until invalidated
    f.invalidate()
    assert f.may_want(store.read, "s3", "GetObject") is True
    logged, other = record("data", "logged"), record("data", "other")
    assert f.keep(store.read, [logged, other]) == [logged]


def test_advanced_data_selector(store: SqliteStore) -> None:
    f = DataEventFilter()
    add_trail(store, "adv", AdvancedEventSelectors=[{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
    assert f.may_want(store.read, "s3", "GetObject") is True
    rec = record("data", "any-bucket")
    assert f.keep(store.read, [rec]) == [rec]
