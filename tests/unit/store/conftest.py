"""Fixtures of the store tests.

``store`` is parametrised by backend so the contract suite (test_store_contract.py) runs on
every implementation of :mod:`trailgate.store.interface` (SQLite today, PostgreSQL later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trailgate.store.interface import Store
from trailgate.store.sqlite import SqliteStore

OpenStore = Callable[[], Store]


@pytest.fixture(params=["sqlite"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens the store of this test's data dir (again: a reopen sees the same data)."""
    opened: list[Store] = []

    def factory() -> Store:
        if request.param == "sqlite":
            store: Store = SqliteStore.open(tmp_path / "data" / "trailgate.db")
        else:  # pragma: no cover
            raise AssertionError(request.param)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore.open(tmp_path / "data" / "trailgate.db")
    yield store
    store.close()
