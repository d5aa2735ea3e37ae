"""Which IAM users and roles attempted which services and actions, and when: the data behind
IAM's service last accessed reports (``GenerateServiceLastAccessedDetails``, the console's
"Access Advisor").

Every authenticated call of an IAM user or a role session counts, allowed or denied (AWS counts
attempts).  Like an access key's last use, a use is noted in memory on the calling thread, at
most once a minute per entity and action, and written by the once-a-second flush in one
transaction for everything noted since the last one (and before a report is generated); AWS's
own figures trail by up to four hours.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Final

from .. import clock
from ..services.s3_actions import s3_action
from ..trail.records import is_data_call
from .context import RequestContext

NOTE_EVERY: Final = 60.0
"""Seconds between two notes of the same entity and action."""
USAGE: Final = "iam.lastaccess"
"""Store kind: one record per entity (key: its unique id, ``AIDA...`` / ``AROA...``)."""
TRACKED_SERVICES: Final = frozenset({"iam", "s3"})
"""Services whose actions IAM reports one by one (``ACTION_LEVEL``): S3's management actions
(not object-level data actions) and IAM's.  UNSURE: AWS also tracks EC2 and Lambda, which
trailgate does not serve."""

Use = tuple[str, str, str | None]  # (service, region, the tracked action's name or None)
Pending = dict[tuple[str, str, str], dict[Use, datetime]]  # (account, id, arn) -> uses


def _action(ctx: RequestContext) -> str | None:
    """The tracked action a call attempts (its IAM action's name), or None."""
    if ctx.service == "iam":
        return ctx.operation
    if ctx.service == "s3" and not is_data_call("s3", ctx.operation):
        return s3_action(ctx.operation)[0].partition(":")[2]
    return None


class ServiceUse:
    """The uses noted since the last :meth:`take`."""

    def __init__(self) -> None:
        self._noted: dict[tuple[str, str, str], float] = {}  # (id, service, op) -> epoch
        self._pending: Pending = {}
        self._lock = threading.Lock()  # noted in the writer thread and the event loop

    def note(self, ctx: RequestContext) -> None:
        p = ctx.principal
        if p is None or p.unique_id is None or p.kind not in ("user", "assumed_role"):
            return
        key = (p.unique_id, ctx.service, ctx.operation)
        now = clock.epoch()
        last = self._noted.get(key)
        if last is not None and now - last < NOTE_EVERY:
            return
        entity = p.role_arn if p.kind == "assumed_role" and p.role_arn else p.arn
        use = (ctx.service, ctx.region, _action(ctx))
        with self._lock:
            if len(self._noted) > 100_000:
                self._noted.clear()
            self._noted[key] = now
            uses = self._pending.setdefault((p.account, p.unique_id, entity), {})
            uses[use] = ctx.received_at

    def take(self) -> Pending:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending

    def restore(self, pending: Pending) -> None:
        """Give back what a failed flush took (newer notes win)."""
        with self._lock:
            for entity, uses in pending.items():
                merged = {**uses, **self._pending.get(entity, {})}
                self._pending[entity] = merged


def _later(old: Any, when: str) -> bool:
    return not isinstance(old, list) or str(old[0]) < when


def write_uses(tx: Any, pending: Pending) -> None:
    """Merge the noted uses into the entities' usage records (in a write transaction)."""
    for (account, unique_id, arn), uses in pending.items():
        data = tx.get(account, USAGE, unique_id) or {"Arn": arn, "Services": {}, "Actions": {}}
        data["Arn"] = arn
        for (service, region, action), at in uses.items():
            when = at.replace(microsecond=0).isoformat()
            if _later(data["Services"].get(service), when):
                data["Services"][service] = [when, region]
            if action is not None:
                actions = data["Actions"].setdefault(service, {})
                if _later(actions.get(action), when):
                    actions[action] = [when, region]
        tx.put(account, USAGE, unique_id, arn, data)
