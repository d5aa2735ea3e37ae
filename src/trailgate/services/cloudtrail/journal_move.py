"""Moving the event journal's records into the store (see :mod:`trailgate.store.journal`):
append them to ``events`` and index them for ``LookupEvents`` (:mod:`.events`) in the same
transaction, together with the calls' own records stored since the last move.

Lines this process journaled go in as they are (:func:`store_lines`): SQLite splits them, and
the index takes its entries per template, so a record made from a template costs no Python
object but its index entry (a whole record is read for its index keys, as before).  Rows
(lines recovered after a restart, or given back after a failed move) and lines that cannot
go in as they are go through :func:`store_journaled`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from ...store.event_templates import whole
from ...store.journal import Defined, EventRow, IndexKeys, KeyedEvent
from .events import CURSOR, INDEX_BATCH, epoch_of, index_cursor, index_keys, index_pending, index_tx

__all__ = ["LINES_CHUNK", "keyed_entries", "line_pieces", "needs_rows", "put_index",
           "store_journaled", "store_lines", "stored_before"]

LINES_CHUNK: Final = 160_000
"""Bytes of journal lines stored per transaction (~1,000 compact records: the calls' own
writes get the writer thread in between)."""


def line_pieces(blob: bytes, size: int = LINES_CHUNK) -> list[bytes]:
    """``blob`` (whole lines) cut after a line's LF about every ``size`` bytes."""
    pieces = []
    start = 0
    while start < len(blob):
        end = blob.find(b"\n", start + size - 1)
        end = len(blob) if end < 0 else end + 1
        pieces.append(blob[start:end])
        start = end
    return pieces


def needs_rows(lines: bytes, defined: Defined) -> bool:
    """Whether journal lines must be stored as rows (:func:`store_journaled`): a template of
    their segment lacks its index keys (the recorder always gives them)."""
    return any(keys is None for _, keys in defined.values())


def store_lines(tx: Any, lines: bytes, defined: Defined) -> int:
    """Append the records of journal lines written by this process (whole lines, with the
    definitions of their segment's templates; not :func:`needs_rows`) and index them with
    every event stored before them; returns how many were appended.
    :class:`~trailgate.store.interface.Conflict` as ``append_journal_lines``."""
    if needs_rows(lines, defined):
        raise ValueError("these journal lines must be stored as rows")
    before = stored_before(tx)  # the calls' own records, stored before these
    by_keys = keyed_entries(before)
    first, count = tx.append_journal_lines(
        lines, {tid: text for tid, (text, _) in defined.items()})
    if not count:
        if before:
            put_index(tx, by_keys.values(), before[-1][0])
        return 0
    last = first + count - 1
    for tid, seqs, times in tx.journal_line_groups(first, last):
        keys = defined[tid][1]
        if not keys:
            continue
        entries = list(zip(map(epoch_of, times.split(",")), map(int, seqs.split(",")),
                           strict=True))
        found = by_keys.get(id(keys))
        if found is None:
            by_keys[id(keys)] = (keys, entries)
        else:
            found[1].extend(entries)
    if b"\t{" in lines:  # whole records (only their field starts with "{"): read their keys
        for seq, account, event_time, data in tx.journal_whole_rows(first, last):
            keys = index_keys(account, orjson.loads(data))
            if keys:
                by_keys[id(keys)] = (keys, [(epoch_of(event_time), seq)])
    put_index(tx, by_keys.values(), last)
    return int(count)


def store_journaled(tx: Any, rows: Sequence[EventRow],
                    templates: Mapping[int, bytes] | None = None, *,
                    skip_known: bool = False) -> int:
    """Append records moved from the event journal (compact ones with their ``templates``)
    and index them together with every event stored before them, in the caller's
    transaction; returns how many were appended.  A row's index keys are those the journal
    kept with it, else computed from its JSON (a recovered row, always whole).
    ``skip_known`` leaves out events already stored (a journal left by a crash may have been
    moved once)."""
    before = stored_before(tx)  # the calls' own records, stored before these
    if skip_known:
        rows = [row for row in rows if tx.event_by_id(row[2]) is None]
    if not rows:
        return 0
    first = tx.append_events(rows, templates)
    moved = ((seq, row[1], row[4] if len(row) == 5 else index_keys(row[0], orjson.loads(
        whole(row[3], templates or {})))) for seq, row in enumerate(rows, first))
    by_keys = keyed_entries(itertools.chain(before, moved))
    put_index(tx, by_keys.values(), first + len(rows) - 1)
    return len(rows)


KeyedEntries = dict[int, tuple[IndexKeys, list[tuple[int, int]]]]
"""Index entries ``(event time, seq)`` grouped by their events' keys tuple (by its id)."""


def keyed_entries(events: Iterable[KeyedEvent]) -> KeyedEntries:
    """The events' entries grouped by the keys tuple first: the events of a template share one
    tuple object, so most events cost one dict lookup here, not one per key."""
    by_keys: KeyedEntries = {}
    for seq, event_time, keys in events:
        if keys:
            entry = (epoch_of(event_time), seq)
            found = by_keys.get(id(keys))
            if found is None:
                by_keys[id(keys)] = (keys, [entry])
            else:
                found[1].append(entry)
    return by_keys


def put_index(tx: Any, keyed: Iterable[tuple[IndexKeys, list[tuple[int, int]]]],
              upto: int) -> None:
    """Index the entries under each of their keys; events up to ``upto`` are indexed."""
    groups: dict[tuple[str, str, str, str], list[tuple[int, int]]] = {}
    for keys, entries in keyed:
        for key in keys:
            group = groups.get(key)
            if group is None:
                groups[key] = list(entries)
            else:
                group.extend(entries)
    index_tx(tx).event_index_put(groups)
    tx.meta_set(CURSOR, str(upto))


def stored_before(tx: Any) -> list[KeyedEvent]:
    """The events not indexed yet (stored by the calls' own transactions since the last
    move), with their index keys: those the store kept when it stored them (a write's record
    made from a template comes with its template's), if it kept them for every one of those
    events; else they are indexed here from their records, and none are returned."""
    index = index_tx(tx)
    kept = index.take_keyed_events()
    cursor = index_cursor(tx)
    unindexed = tx.last_event_seq() - cursor
    if unindexed <= 0:
        return []
    kept = [event for event in kept if event[0] > cursor]
    if len(kept) == unindexed and all(keys is not None for _, _, keys in kept):
        return kept  # seqs are unique: these are every event after the cursor
    while index_pending(tx) == INDEX_BATCH:
        pass
    return []
