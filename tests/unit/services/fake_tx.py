"""An in-memory stand-in for ``trailgate.store.interface.Tx``, for driving providers directly.

Semantics follow the interface: records are ``(account, kind, key) -> (name, data)``, reads
return deep copies, ``list``/``scan`` are ordered by key (code point order), ``delete`` also
drops the ``ids`` entries pointing at the record, ``index_put`` is idempotent for the same
target and raises ``Conflict`` / ``NotFound`` otherwise.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable
from typing import Any

from trailgate.store.interface import Conflict, Entity, IndexTarget, NotFound

Where = Callable[[dict[str, Any]], bool] | None


class FakeTx:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        self.ids: dict[str, IndexTarget] = {}
        self.meta: dict[str, str] = {}
        self.generation = 0
        self.events: builtins.list[dict[str, Any]] = []

    # -- entities ------------------------------------------------------------------------
    def get(self, account: str, kind: str, key: str) -> dict[str, Any] | None:
        found = self.records.get((account, kind, key))
        return None if found is None else copy.deepcopy(found[1])

    def get_entity(self, account: str, kind: str, key: str) -> Entity | None:
        found = self.records.get((account, kind, key))
        if found is None:
            return None
        return Entity(key, found[0], copy.deepcopy(found[1]))

    def put(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        self.records[(account, kind, key)] = (name, copy.deepcopy(data))

    def insert(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        if (account, kind, key) in self.records:
            raise Conflict(f"{account}/{kind}/{key} exists")
        self.put(account, kind, key, name, data)

    def delete(self, account: str, kind: str, key: str) -> bool:
        existed = self.records.pop((account, kind, key), None) is not None
        target = IndexTarget(account, kind, key)
        for id_, where in builtins.list(self.ids.items()):
            if where == target:
                del self.ids[id_]
        return existed

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
        keys = sorted(k for (a, kd, k) in self.records if a == account and kd == kind)
        out: builtins.list[Entity] = []
        for key in keys:
            if prefix is not None and not key.startswith(prefix):
                continue
            if after is not None and key <= after:
                continue
            name, data = self.records[(account, kind, key)]
            if where is not None and not where(copy.deepcopy(data)):
                continue
            out.append(Entity(key, name, copy.deepcopy(data)))
            if limit is not None and len(out) >= limit:
                break
        return out

    def list(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Where = None,
    ) -> builtins.list[dict[str, Any]]:
        entities = self.scan(account, kind, prefix=prefix, after=after, limit=limit, where=where)
        return [e.data for e in entities]

    def count(self, account: str, kind: str) -> int:
        return sum(1 for (a, kd, _) in self.records if a == account and kd == kind)

    # -- ids index -----------------------------------------------------------------------
    def index_put(self, id: str, account: str, kind: str, key: str) -> None:
        target = IndexTarget(account, kind, key)
        if (account, kind, key) not in self.records:
            raise NotFound(f"{account}/{kind}/{key}")
        existing = self.ids.get(id)
        if existing is not None and existing != target:
            raise Conflict(f"id {id} points elsewhere")
        self.ids[id] = target

    def index_get(self, id: str) -> IndexTarget | None:
        return self.ids.get(id)

    def index_delete(self, id: str) -> bool:
        return self.ids.pop(id, None) is not None

    # -- meta ----------------------------------------------------------------------------
    def meta_get(self, name: str) -> str | None:
        return self.meta.get(name)

    def meta_set(self, name: str, value: str) -> None:
        self.meta[name] = value

    def bump_generation(self) -> int:
        self.generation += 1
        return self.generation

    def append_event(
        self, account: str, event_time: str, event_id: str, data: dict[str, Any]
    ) -> int:
        self.events.append({"account": account, "time": event_time, "id": event_id, **data})
        return len(self.events)
