"""The store's narrow contract: a generic entity store with one-writer transactions.

Services persist records as ``(account, kind, key) -> (name, data)`` where ``data`` is a JSON-able
dict, so adding a field never needs a schema change.  ``key`` is the lookup key (IAM names are
unique case-insensitively, so e.g. the lower-cased name, or an id); ``name`` is the display name.
A secondary ``ids`` index maps globally unique ids (``AIDA...``, ``AKIA...``) to a record.

Everything happens inside a :class:`Tx`:

* ``store.read(fn)`` runs ``fn(tx)`` synchronously on a consistent snapshot (never blocks writes);
* ``await store.write(fn)`` runs ``fn(tx)`` on the single writer, grouped with other writes into
  one durable commit; ``fn``'s changes are atomic and isolated from the other functions of the
  group (an exception rolls back only that ``fn`` and is raised to its own caller); the call
  returns only once the commit is on disk.

``fn`` must be a plain (non-async) function that touches nothing but ``tx``: it may be run on
another thread, and it must not wait for other writes (that would deadlock the writer).

This module holds the Protocols a backend implements (SQLite now, PostgreSQL later) and the
backend-neutral exceptions.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

__all__ = [
    "Conflict",
    "Entity",
    "IndexTarget",
    "NotFound",
    "ReadOnlyTx",
    "Store",
    "StoreClosed",
    "StoreError",
    "Tx",
    "WriteFn",
]

T = TypeVar("T")

WriteFn = Callable[["Tx"], T]
"""A unit of work: receives the transaction, returns the caller's result."""


class StoreError(Exception):
    """Base class of the store's own errors."""


class Conflict(StoreError):
    """The record or id already exists (``insert``, ``index_put``, ``append_event``)."""


class NotFound(StoreError, LookupError):
    """A referenced record does not exist (e.g. ``index_put`` towards a missing entity)."""


class ReadOnlyTx(StoreError):
    """A write method was called on the transaction of ``Store.read``."""


class StoreClosed(StoreError):
    """The store was closed; no further reads or writes are accepted."""


class Entity(NamedTuple):
    """One stored record as returned by :meth:`Tx.scan`."""

    key: str
    name: str
    data: dict[str, Any]


class IndexTarget(NamedTuple):
    """Where an id of the ``ids`` index points to."""

    account: str
    kind: str
    key: str


class Tx(Protocol):
    """One transaction.  Read methods work everywhere; write methods raise :class:`ReadOnlyTx`
    inside ``Store.read``.  Returned dicts are fresh copies: mutating them changes nothing."""

    # -- entities ----------------------------------------------------------------------------
    def get(self, account: str, kind: str, key: str) -> dict[str, Any] | None:
        """The record's data, or None."""
        ...

    def get_entity(self, account: str, kind: str, key: str) -> Entity | None:
        """The record with its key and name, or None."""
        ...

    def put(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        """Create or replace the record (an upsert: its ``ids`` entries stay)."""
        ...

    def insert(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        """Create the record; :class:`Conflict` if ``(account, kind, key)`` exists."""
        ...

    def delete(self, account: str, kind: str, key: str) -> bool:
        """Remove the record (and the ``ids`` entries pointing at it); True if it existed."""
        ...

    def list(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Data of the records of one kind, ordered by key (code point order).

        ``prefix`` keeps keys starting with it, ``after`` keeps keys strictly greater (a paging
        marker: the key of the last record of the previous page), ``where`` filters on the data
        and ``limit`` caps the number returned *after* filtering.
        """
        ...

    def scan(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> builtins.list[Entity]:
        """Like :meth:`list` but with each record's key and name (what paging needs)."""
        ...

    def count(self, account: str, kind: str) -> int:
        """Number of records of one kind in one account."""
        ...

    # -- secondary unique index --------------------------------------------------------------
    def index_put(self, id: str, account: str, kind: str, key: str) -> None:
        """Map ``id`` to a record.  Idempotent for the same target; :class:`Conflict` if ``id``
        already points elsewhere; :class:`NotFound` if the record does not exist."""
        ...

    def index_get(self, id: str) -> IndexTarget | None:
        """Where ``id`` points, or None."""
        ...

    def index_delete(self, id: str) -> bool:
        """Remove ``id``; True if it existed."""
        ...

    # -- metadata, generation, events --------------------------------------------------------
    def meta_get(self, name: str) -> str | None:
        """A metadata value, or None."""
        ...

    def meta_set(self, name: str, value: str) -> None:
        """Set a metadata value (``generation`` is reserved: use :meth:`bump_generation`)."""
        ...

    def bump_generation(self) -> int:
        """Increment the IAM state generation in this transaction; returns the new value.

        Call it from every write that changes IAM state; caches keyed by ``Store.generation``
        then see the new number once the write committed."""
        ...

    def append_event(
        self, account: str, event_time: str, event_id: str, data: dict[str, Any]
    ) -> int:
        """Append a CloudTrail record; returns its sequence number.  :class:`Conflict` if
        ``event_id`` exists."""
        ...

    def append_events(
        self, rows: Sequence[tuple[str, str, str, bytes] | tuple[str, str, str, bytes, Any]],
        templates: Mapping[int, bytes] | None = None,
    ) -> int:
        """Append CloudTrail records already encoded: ``(account, eventTime, eventID,
        record)`` (a fifth member is not stored), the record a JSON object or in compact form
        (:mod:`trailgate.store.event_templates`) with its template among ``templates`` (id:
        pieces as text, stored with the records).  They get consecutive sequence numbers,
        in order, and the first one is returned.  :class:`Conflict` (and nothing stored) if
        an eventID exists."""
        ...

    def append_events_at_commit(
        self, rows: Sequence[tuple[str, str, str, bytes] | tuple[str, str, str, bytes, Any]],
    ) -> None:
        """:meth:`append_events` of whole records (no templates), done when the group this
        write commits in commits, after every other change of the group and in one
        statement for all of its writes (a few for hundreds).  They commit with this
        write's changes or not at all: if the write fails they are dropped; if they cannot
        be appended (an eventID exists) the group fails and nothing of it is stored.  Their
        sequence numbers come after those of every event the group appended otherwise."""
        ...

    def event_index_add(self, rows: Sequence[tuple[str, str, str, str, int, int]]) -> None:
        """Insert event-history index rows (account, region, attribute, value, event time,
        seq); an identical row already present is not an error."""
        ...

    def event_index_put(
        self, groups: Mapping[tuple[str, str, str, str], builtins.list[tuple[int, int]]]
    ) -> None:
        """:meth:`event_index_add` with the rows grouped by (account, region, attribute,
        value): lists of ``(event time, seq)``, which the store may sort and extend."""
        ...

    def event_index_scan(
        self,
        account: str,
        region: str,
        attr: str,
        value: str,
        start: int,
        end: int,
        before: tuple[int, int] | None,
        limit: int,
    ) -> builtins.list[tuple[int, int]]:
        """``(event_time, seq)`` of index rows with ``start <= event_time <= end`` (and below
        ``before``), newest first, at most ``limit``."""
        ...

    def events_by_seq(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored records of the given event sequence numbers."""
        ...

    def event_by_id(self, event_id: str) -> tuple[int, str, dict[str, Any]] | None:
        """``(seq, recipient account, record)`` of the event with this eventID, or None."""
        ...

    def last_event_seq(self) -> int:
        """The highest event sequence number this transaction sees (0 when none)."""
        ...

    def events_after(
        self,
        after: int,
        *,
        upto: int | None = None,
        limit: int,
        accounts: Collection[str] | None = None,
    ) -> builtins.list[tuple[int, str, dict[str, Any]]]:
        """(seq, recipient account, record) with ``after < seq <= upto``, of ``accounts`` only
        when given, in sequence order, at most ``limit`` (the CloudTrail outbox)."""
        ...


class Store(Protocol):
    """A transactional store with one writer and any number of concurrent readers."""

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` on a consistent snapshot, synchronously, in the calling thread."""
        ...

    def write(self, fn: Callable[[Tx], T]) -> Awaitable[T]:
        """Run ``fn`` in a write transaction; resolves once the change is durable.

        Implementations are ``async def``.  If ``fn`` raises, nothing it did is kept and the
        exception is raised to the caller."""
        ...

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """:meth:`write` for code without an event loop (CLI, start-up, tests).  Blocks."""
        ...

    @property
    def generation(self) -> int:
        """The IAM state generation as of the last commit."""
        ...

    def close(self) -> None:
        """Finish the queued writes, then release everything.  Idempotent."""
        ...
