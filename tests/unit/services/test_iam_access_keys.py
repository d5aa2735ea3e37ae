"""Access keys are stored per owner: one user's key operations read that user's keys only.

``CountingTx`` records every access-key row a call reads, the way the SQLite store reads them:
a ``get`` reads one row; a ``scan``/``list`` reads the whole key range it covers (all rows of
the kind without ``prefix``, the rows starting with ``prefix`` with one; ``where`` filters
after the read, so it saves nothing).
"""

from __future__ import annotations

import builtins
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fake_tx import FakeTx, Where

from trailgate.auth import tokens
from trailgate.gateway.context import Principal
from trailgate.protocol.errors import ServiceError
from trailgate.services.base import Call
from trailgate.services.iam import IamProvider, queries
from trailgate.store.interface import Entity
from trailgate.store.sqlite import MIGRATIONS, SqliteStore, apply_migrations
from trailgate.store.sqlite.migrations import Migration

ACCT = "111111111111"
OTHER = "222222222222"
SECRET_KEY = bytes(range(32))
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY = "iam.accesskey"


class CountingTx(FakeTx):
    def __init__(self) -> None:
        super().__init__()
        self.read_keys: builtins.list[str] = []

    def reset(self) -> None:
        self.read_keys = []

    def get_entity(self, account: str, kind: str, key: str) -> Entity | None:
        found = super().get_entity(account, kind, key)
        if kind == KEY and found is not None:
            self.read_keys.append(key)
        return found

    def get(self, account: str, kind: str, key: str) -> dict[str, Any] | None:
        found = self.get_entity(account, kind, key)
        return None if found is None else found.data

    def scan(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Where = None,
    ) -> builtins.list[Entity]:
        found = super().scan(account, kind, prefix=prefix, after=after, limit=limit, where=where)
        if kind == KEY:
            in_range = sorted(
                k
                for (a, kd, k) in self.records
                if a == account
                and kd == kind
                and (not prefix or k.startswith(prefix))
                and (after is None or k > after)
            )
            if limit is not None and where is None:
                in_range = in_range[:limit]
            self.read_keys.extend(in_range)
        return found


class Harness:
    def __init__(self) -> None:
        self.iam = IamProvider(SECRET_KEY)
        self.tx = CountingTx()

    def __call__(
        self, op: str, principal: Principal | None = None, account: str = ACCT, **params: Any
    ) -> dict[str, Any]:
        who = principal or Principal(
            kind="root", arn=f"arn:aws:iam::{account}:root", account=account, user_id=account
        )
        call = Call(account, who, params, "us-east-1", "req-1", NOW)
        result: dict[str, Any] = getattr(self.iam, op)(call, self.tx)
        return result


@pytest.fixture
def h() -> Harness:
    return Harness()


def _populate(h: Harness, users: int) -> dict[str, list[str]]:
    """``users`` users with two keys each, two root keys, and keys in another account."""
    keys: dict[str, list[str]] = {}
    for i in range(users):
        name = f"user{i:03d}"
        h("CreateUser", UserName=name)
        keys[name] = [h("CreateAccessKey", UserName=name)["AccessKey"]["AccessKeyId"]]
        keys[name].append(h("CreateAccessKey", UserName=name)["AccessKey"]["AccessKeyId"])
    keys[""] = [h("CreateAccessKey")["AccessKey"]["AccessKeyId"] for _ in range(2)]
    h("CreateUser", account=OTHER, UserName="user001")
    h("CreateAccessKey", account=OTHER, UserName="user001")
    return keys


def _owners(h: Harness) -> set[str]:
    """Whose keys the recorded reads touched ('' = root)."""
    return {key.split("/", 1)[0] for key in h.tx.read_keys}


def test_list_access_keys_reads_only_the_users_keys(h: Harness) -> None:
    keys = _populate(h, 40)
    h.tx.reset()
    listed = h("ListAccessKeys", UserName="USER007")
    assert [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]] == sorted(keys["user007"])
    assert {k["UserName"] for k in listed["AccessKeyMetadata"]} == {"user007"}
    assert listed["IsTruncated"] is False
    assert len(h.tx.read_keys) == 2 and _owners(h) == {"user007"}

    # A user whose name is a prefix of others' ("user00" vs "user001") reads nothing else.
    h("CreateUser", UserName="user00")
    h.tx.reset()
    assert h("ListAccessKeys", UserName="user00")["AccessKeyMetadata"] == []
    assert h.tx.read_keys == []

    h.tx.reset()
    root_keys = h("ListAccessKeys")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in root_keys] == sorted(keys[""])
    assert all("UserName" not in k for k in root_keys)
    assert len(h.tx.read_keys) == 2 and _owners(h) == {""}


def test_list_access_keys_paging(h: Harness) -> None:
    keys = _populate(h, 3)
    first = h("ListAccessKeys", UserName="user001", MaxItems=1)
    assert first["IsTruncated"] is True
    second = h("ListAccessKeys", UserName="user001", MaxItems=1, Marker=first["Marker"])
    assert second["IsTruncated"] is False and "Marker" not in second
    got = [k["AccessKeyId"] for k in first["AccessKeyMetadata"] + second["AccessKeyMetadata"]]
    assert got == sorted(keys["user001"])


def test_quota_delete_user_and_key_ops_read_only_the_users_keys(h: Harness) -> None:
    keys = _populate(h, 30)
    h("CreateUser", UserName="fresh")

    h.tx.reset()
    created = h("CreateAccessKey", UserName="fresh")["AccessKey"]["AccessKeyId"]
    assert _owners(h) <= {"fresh"}

    h.tx.reset()
    with pytest.raises(ServiceError) as info:
        h("CreateAccessKey", UserName="user005")
    assert info.value.code == "LimitExceeded"
    assert _owners(h) == {"user005"}

    h.tx.reset()
    with pytest.raises(ServiceError) as info:
        h("DeleteUser", UserName="fresh")
    assert info.value.code == "DeleteConflict"
    assert _owners(h) == {"fresh"}

    h.tx.reset()
    h("UpdateAccessKey", UserName="user003", AccessKeyId=keys["user003"][0], Status="Inactive")
    assert h("GetAccessKeyLastUsed", AccessKeyId=keys["user003"][0])["UserName"] == "user003"
    h("DeleteAccessKey", UserName="fresh", AccessKeyId=created)
    assert _owners(h) <= {"user003", "fresh"}

    h.tx.reset()
    h("DeleteUser", UserName="fresh")
    assert h.tx.read_keys == []


def test_key_of_another_user_or_account_is_not_found(h: Harness) -> None:
    keys = _populate(h, 2)
    for params in (
        {"UserName": "user001", "AccessKeyId": keys["user000"][0]},  # another user's
        {"AccessKeyId": keys["user000"][0]},  # a user's key, as the root user's
        {"UserName": "user000", "AccessKeyId": keys[""][0]},  # a root key, as a user's
    ):
        with pytest.raises(ServiceError) as info:
            h("DeleteAccessKey", **params)
        assert info.value.code == "NoSuchEntity"
    with pytest.raises(ServiceError) as info:
        h("GetAccessKeyLastUsed", account=OTHER, AccessKeyId=keys["user000"][0])
    assert info.value.code == "NoSuchEntity"
    assert queries.find_access_key(h.tx, keys["user000"][0]) is not None


def test_rename_user_moves_its_keys(h: Harness) -> None:
    keys = _populate(h, 2)
    h("UpdateUser", UserName="user000", NewUserName="Renamed")
    listed = h("ListAccessKeys", UserName="renamed")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == sorted(keys["user000"])
    assert {k["UserName"] for k in listed} == {"Renamed"}
    for key_id in keys["user000"]:
        assert h.tx.index_get(key_id) == (ACCT, KEY, f"renamed/{key_id}")
        record = queries.find_access_key(h.tx, key_id)
        assert record is not None and record.user_name == "Renamed"
    h("CreateUser", UserName="user000")
    assert h("ListAccessKeys", UserName="user000")["AccessKeyMetadata"] == []
    with pytest.raises(ServiceError) as info:
        h("DeleteUser", UserName="renamed")
    assert info.value.code == "DeleteConflict"


# -- data written before the per-owner layout ----------------------------------------------------


def _old_key(conn: sqlite3.Connection, key_id: str, user: str | None, account: str = ACCT) -> None:
    data = {
        "AccessKeyId": key_id,
        "UserName": user,
        "Status": "Active",
        "SecretBlob": tokens.encrypt_secret(SECRET_KEY, "s" * 40),
        "CreateDate": "2026-01-01T00:00:00+00:00",
        "LastUsed": None,
    }
    conn.execute(
        "INSERT INTO entities VALUES (?, ?, ?, ?, ?)",
        (account, KEY, key_id, key_id, orjson.dumps(data)),
    )
    conn.execute("INSERT INTO ids VALUES (?, ?, ?, ?)", (key_id, account, KEY, key_id))


def test_migration_moves_keys_stored_by_access_key_id(tmp_path: Path) -> None:
    path = tmp_path / "trailgate.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    step = next(i for i, m in enumerate(MIGRATIONS)
                if m.description.startswith("IAM access keys keyed by owner"))
    before: list[Migration] = MIGRATIONS[:step]  # the schema just before the step
    apply_migrations(conn, before)
    user = {"UserName": "Alice", "UserId": "AIDAALICE", "Path": "/", "Groups": []}
    conn.execute(
        "INSERT INTO entities VALUES (?, 'iam.user', 'alice', 'Alice', ?)",
        (ACCT, orjson.dumps(user)),
    )
    _old_key(conn, "AKIAALICE00000000002", "Alice")
    _old_key(conn, "AKIAALICE00000000001", "Alice")
    _old_key(conn, "AKIAROOT000000000001", None)
    _old_key(conn, "AKIAOTHER00000000001", "alice", OTHER)
    conn.close()

    with SqliteStore.open(path) as store:
        def check(tx: Any) -> None:
            assert tx.index_get("AKIAALICE00000000001") == (
                ACCT, KEY, "alice/AKIAALICE00000000001"
            )
            assert tx.index_get("AKIAROOT000000000001") == (ACCT, KEY, "/AKIAROOT000000000001")
            assert tx.index_get("AKIAOTHER00000000001") == (
                OTHER, KEY, "alice/AKIAOTHER00000000001"
            )
            assert [e.key for e in tx.scan(ACCT, KEY)] == [
                "/AKIAROOT000000000001",
                "alice/AKIAALICE00000000001",
                "alice/AKIAALICE00000000002",
            ]
            record = queries.find_access_key(tx, "AKIAALICE00000000002")
            assert record is not None and record.user_name == "Alice"

        store.read(check)
        iam = IamProvider(SECRET_KEY)
        root = Principal(kind="root", arn=f"arn:aws:iam::{ACCT}:root", account=ACCT, user_id=ACCT)

        def call(op: str, **params: Any) -> Any:
            return store.write_sync(
                lambda tx: getattr(iam, op)(Call(ACCT, root, params, "us-east-1", "r", NOW), tx)
            )

        listed = call("ListAccessKeys", UserName="alice")["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in listed] == [
            "AKIAALICE00000000001",
            "AKIAALICE00000000002",
        ]
        assert [k["AccessKeyId"] for k in call("ListAccessKeys")["AccessKeyMetadata"]] == [
            "AKIAROOT000000000001"
        ]
        call("DeleteAccessKey", UserName="alice", AccessKeyId="AKIAALICE00000000001")
        assert store.read(lambda tx: tx.index_get("AKIAALICE00000000001")) is None
