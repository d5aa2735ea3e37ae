"""The embedded default backend: SQLite in WAL mode, one writer thread, per-thread readers."""

from trailgate.store.sqlite.migrations import MIGRATIONS, apply_migrations, schema_version
from trailgate.store.sqlite.store import MAX_BATCH, SqliteStore, SqliteTx, WriteStats

__all__ = [
    "MAX_BATCH",
    "MIGRATIONS",
    "SqliteStore",
    "SqliteTx",
    "WriteStats",
    "apply_migrations",
    "schema_version",
]
