"""Numbered schema steps for the SQLite backend, applied at start.

``PRAGMA user_version`` holds the number of steps applied.  Each step runs in its own
transaction together with the version bump, so a crash mid-migration leaves the previous version
intact.  Steps are append-only: never edit a released step, add a new one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = ["MIGRATIONS", "Migration", "SchemaTooNew", "apply_migrations", "schema_version"]


@dataclass(frozen=True)
class Migration:
    """One schema step: a description and the statements it runs, in order."""

    description: str
    statements: tuple[str, ...]


class SchemaTooNew(Exception):
    """The database was written by a newer trailgate (more steps than this version knows)."""


MIGRATIONS: list[Migration] = [
    Migration(
        "generic entity store, unique-id index, metadata, CloudTrail events",
        (
            """
            CREATE TABLE entities (
                account TEXT NOT NULL,
                kind    TEXT NOT NULL,
                key     TEXT NOT NULL,
                name    TEXT NOT NULL,
                data    BLOB NOT NULL,
                PRIMARY KEY (account, kind, key)
            )
            """,
            """
            CREATE TABLE ids (
                id      TEXT PRIMARY KEY,
                account TEXT NOT NULL,
                kind    TEXT NOT NULL,
                key     TEXT NOT NULL,
                FOREIGN KEY (account, kind, key)
                    REFERENCES entities (account, kind, key) ON DELETE CASCADE
            )
            """,
            # The foreign key's child index, so deleting an entity finds its ids quickly.
            "CREATE INDEX ids_by_target ON ids (account, kind, key)",
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO meta (name, value) VALUES ('generation', '0')",
            """
            CREATE TABLE events (
                seq        INTEGER PRIMARY KEY AUTOINCREMENT,
                account    TEXT NOT NULL,
                event_time TEXT NOT NULL,
                event_id   TEXT NOT NULL UNIQUE,
                data       BLOB NOT NULL
            )
            """,
        ),
    ),
    Migration(
        "CloudTrail event history index (LookupEvents)",
        (
            # One row per (recipient account, region, lookup attribute, value) of a management
            # event, clustered so that one lookup is one contiguous range read, newest first.
            # attr = value = '' is the unfiltered listing (real values are 1-2000 characters).
            """
            CREATE TABLE event_lookup (
                account    TEXT NOT NULL,
                region     TEXT NOT NULL,
                attr       TEXT NOT NULL,
                value      TEXT NOT NULL,
                event_time INTEGER NOT NULL,
                seq        INTEGER NOT NULL,
                PRIMARY KEY (account, region, attr, value, event_time, seq)
            ) WITHOUT ROWID
            """,
        ),
    ),
    Migration(
        "IAM access keys keyed by owner: <user key>/<AccessKeyId>, root keys /<AccessKeyId>",
        (
            # Records were keyed by AccessKeyId; the new key puts one user's keys in one range
            # (ListAccessKeys, the key quota and DeleteUser read only that user's keys).  The user
            # key is the lower-cased UserName (IAM names are ASCII, so SQL lower() agrees with
            # Python's).  Copy, re-point the ids index, then delete the old rows: each statement
            # keeps the foreign key from ids satisfied.
            """
            CREATE TEMP TABLE access_key_moves AS
            SELECT account, key AS old_key,
                   coalesce(lower(json_extract(CAST(data AS TEXT), '$.UserName')), '')
                   || '/' || key AS new_key
            FROM entities WHERE kind = 'iam.accesskey'
            """,
            """
            INSERT INTO entities (account, kind, key, name, data)
            SELECT e.account, e.kind, m.new_key, e.name, e.data
            FROM entities AS e
            JOIN access_key_moves AS m ON m.account = e.account AND m.old_key = e.key
            WHERE e.kind = 'iam.accesskey'
            """,
            """
            UPDATE ids SET key = (
                SELECT m.new_key FROM access_key_moves AS m
                WHERE m.account = ids.account AND m.old_key = ids.key
            )
            WHERE kind = 'iam.accesskey'
            """,
            """
            DELETE FROM entities
            WHERE kind = 'iam.accesskey'
              AND (account, key) IN (SELECT account, old_key FROM access_key_moves)
            """,
            "DROP TABLE access_key_moves",
        ),
    ),
    Migration(
        "CloudTrail event history indexed in batches after the fact",
        (
            # Events up to this seq have their event_lookup rows (before this step every event
            # was indexed in its own transaction, so all of them are).
            """
            INSERT INTO meta (name, value)
            SELECT 'event_index_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM events
            """,
        ),
    ),
    Migration(
        "CloudTrail event history index keyed by small integers",
        (
            # One row per distinct (recipient account, region, attribute, value)...
            """
            CREATE TABLE event_keys (
                id      INTEGER PRIMARY KEY,
                account TEXT NOT NULL,
                region  TEXT NOT NULL,
                attr    TEXT NOT NULL,
                value   TEXT NOT NULL,
                UNIQUE (account, region, attr, value)
            )
            """,
            # ... and one row per (key, event): a lookup is one contiguous range read, newest
            # first.  Integer keys make a row ~15 bytes instead of ~100, and inserting the ~8
            # rows of every event costs half as much.
            """
            CREATE TABLE event_postings (
                key        INTEGER NOT NULL,
                event_time INTEGER NOT NULL,
                seq        INTEGER NOT NULL,
                PRIMARY KEY (key, event_time, seq)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO event_keys (account, region, attr, value)
            SELECT DISTINCT account, region, attr, value FROM event_lookup
            """,
            """
            INSERT INTO event_postings (key, event_time, seq)
            SELECT k.id, l.event_time, l.seq
            FROM event_lookup AS l
            JOIN event_keys AS k
              ON k.account = l.account AND k.region = l.region AND k.attr = l.attr
             AND k.value = l.value
            """,
            "DROP TABLE event_lookup",
        ),
    ),
    Migration(
        "CloudTrail event history index in blocks: one row per key and batch of events",
        (
            # A row holds up to a few hundred (event time, seq) entries of one key: a batch of
            # indexed events adds a row per key it names instead of a row per (key, event),
            # ~8x fewer B-tree inserts.  ``entries`` is a JSON array [t0, s0, t1, s1, ...] of
            # event_time - lo and seq - base here; blocks written later hold a BLOB of packed
            # (event_time, seq) pairs instead (``sqlite/events.py``, ``_entries``).  A lookup
            # reads the key's blocks newest ``hi`` first from the index (which also holds
            # ``lo``, so blocks outside the time range are skipped without reading their
            # entries).
            """
            CREATE TABLE event_blocks (
                id      INTEGER PRIMARY KEY,
                key     INTEGER NOT NULL,
                hi      INTEGER NOT NULL,
                lo      INTEGER NOT NULL,
                base    INTEGER NOT NULL,
                entries TEXT NOT NULL
            )
            """,
            "CREATE INDEX event_blocks_by_key ON event_blocks (key, hi, lo)",
            # The postings, 256 consecutive seqs of a key per block.
            """
            INSERT INTO event_blocks (key, hi, lo, base, entries)
            SELECT key, max(event_time), lo, base,
                   '[' || group_concat((event_time - lo) || ',' || (seq - base), ',') || ']'
            FROM (
                SELECT key, event_time, seq, seq >> 8 AS part,
                       min(event_time) OVER w AS lo, min(seq) OVER w AS base
                FROM event_postings
                WINDOW w AS (PARTITION BY key, seq >> 8)
            )
            GROUP BY key, part
            """,
            "DROP TABLE event_postings",
        ),
    ),
    Migration(
        "CloudTrail records in compact form: their templates",
        (
            # A template's pieces (a JSON array of strings), under a hash of them: see
            # ``trailgate/store/event_templates.py``.  Events whose ``data`` starts with "~"
            # name one of these; older events are whole JSON objects.
            "CREATE TABLE event_templates (id INTEGER PRIMARY KEY, pieces BLOB NOT NULL)",
        ),
    ),
]


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of steps applied to this database."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def apply_migrations(
    conn: sqlite3.Connection, migrations: list[Migration] | None = None
) -> int:
    """Apply the missing steps, each in one transaction; returns the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and not in a transaction.
    Running it again is a no-op.
    """
    steps = MIGRATIONS if migrations is None else migrations
    current = schema_version(conn)
    if current > len(steps):
        raise SchemaTooNew(
            f"database schema version {current} is newer than this trailgate ({len(steps)})"
        )
    for number in range(current + 1, len(steps) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check under the write lock: another process may have migrated meanwhile.
            if schema_version(conn) >= number:
                conn.execute("ROLLBACK")
                continue
            for statement in steps[number - 1].statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return schema_version(conn)
