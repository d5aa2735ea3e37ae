"""Reading the store's ``events`` table (the CloudTrail outbox) in sequence order.

The store interface (:mod:`trailgate.store.interface`) can append events but has no method to
read them back in ``seq`` order, which delivery needs.  This adapter uses the two methods the
interface should grow (proposed, same names and signatures)::

    def last_event_seq(self) -> int: ...
    def events_after(self, after: int, *, upto: int | None, limit: int,
                     accounts: Collection[str] | None) -> list[tuple[int, str, dict]]: ...

when a transaction has them, and otherwise falls back to SQL on the SQLite transaction's own
connection (same snapshot, same transaction).  Nothing else in trailgate reads events this way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any, Final, NamedTuple

import orjson

from ...store.interface import StoreError, Tx

MAX_ACCOUNTS_IN_SQL: Final = 500
"""Above this many accounts the filter runs in Python instead of an ``IN (...)`` list."""


class EventRow(NamedTuple):
    seq: int
    account: str  # the account that receives this copy (recipientAccountId)
    record: dict[str, Any]  # the CloudTrail record (spec 7.8)


def _connection(tx: Tx) -> sqlite3.Connection:
    reader = getattr(tx, "_read", None)
    conn = reader() if callable(reader) else None
    if not isinstance(conn, sqlite3.Connection):
        raise StoreError("this store cannot read the events table (needs Tx.events_after)")
    return conn


def last_event_seq(tx: Tx) -> int:
    """The highest ``seq`` in the events table as this transaction sees it (0 when empty)."""
    native = getattr(tx, "last_event_seq", None)
    if callable(native):
        return int(native())
    row = _connection(tx).execute("SELECT MAX(seq) FROM events").fetchone()
    return int(row[0] or 0)


def events_after(
    tx: Tx,
    after: int,
    *,
    upto: int | None = None,
    limit: int,
    accounts: Collection[str] | None = None,
) -> list[EventRow]:
    """Events with ``after < seq <= upto`` (no upper bound when ``upto`` is None), of
    ``accounts`` only when given, in ``seq`` order, at most ``limit`` of them."""
    native = getattr(tx, "events_after", None)
    if callable(native):
        rows = native(after, upto=upto, limit=limit, accounts=accounts)
        return [EventRow(int(s), str(a), dict(d)) for s, a, d in rows]
    sql = "SELECT seq, account, data FROM events WHERE seq > ?"
    args: list[Any] = [after]
    if upto is not None:
        sql += " AND seq <= ?"
        args.append(upto)
    in_python = accounts is not None and len(accounts) > MAX_ACCOUNTS_IN_SQL
    if accounts is not None and not in_python:
        if not accounts:
            return []
        sql += f" AND account IN ({', '.join('?' for _ in accounts)})"
        args.extend(sorted(accounts))
    sql += " ORDER BY seq"
    if not in_python:
        sql += " LIMIT ?"
        args.append(limit)
    out: list[EventRow] = []
    for seq, account, data in _connection(tx).execute(sql, args):
        if in_python and accounts is not None and account not in accounts:
            continue
        out.append(EventRow(int(seq), str(account), orjson.loads(data)))
        if len(out) >= limit:
            break
    return out
