"""Reading the store's ``events`` table (the CloudTrail outbox) in sequence order."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NamedTuple

from ...store.interface import Tx


class EventRow(NamedTuple):
    seq: int
    account: str  # the account that receives this copy (recipientAccountId)
    record: dict[str, Any]  # the CloudTrail record (spec 7.8)


def last_event_seq(tx: Tx) -> int:
    """The highest ``seq`` in the events table as this transaction sees it (0 when empty)."""
    return tx.last_event_seq()


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
    rows = tx.events_after(after, upto=upto, limit=limit, accounts=accounts)
    return [EventRow(seq, account, record) for seq, account, record in rows]
