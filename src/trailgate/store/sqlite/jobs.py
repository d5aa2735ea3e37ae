"""The writer thread's jobs: a queued write function, and how its outcome goes back to its
caller (one wake-up per event loop for a whole group).  Used by :mod:`.store`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailgate.store.sqlite.store import SqliteTx

__all__ = ["Job", "Outcome", "WriteStats", "settle"]


_Future = asyncio.Future[Any] | concurrent.futures.Future[Any]


class Job:
    """A queued write function; its caller waits on ``future`` (an asyncio one if ``loop``).
    Its outcome is delivered exactly once, by :func:`settle`."""

    __slots__ = ("fn", "future", "loop", "settled")

    def __init__(
        self, fn: Callable[[SqliteTx], Any], loop: asyncio.AbstractEventLoop | None
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future: _Future = concurrent.futures.Future() if loop is None else loop.create_future()
        self.settled = False

    def cancelled(self) -> bool:
        # Read across threads: a stale answer only means the fn runs and its result is dropped.
        return self.future.cancelled()


Outcome = tuple[Job, bool, Any]
"""A job, whether it succeeded, and its result or exception."""


def _resolve_all(outcomes: list[tuple[_Future, bool, Any]]) -> None:
    """Runs on the callers' event loop (or the writer thread for ``write_sync`` callers)."""
    for future, ok, value in outcomes:
        if future.done():  # the caller was cancelled meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def settle(outcomes: list[Outcome]) -> None:
    """Hand the outcomes to the callers: one wake-up per event loop, not one per job."""
    per_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Future, bool, Any]]] = {}
    for job, ok, value in outcomes:
        if job.settled:
            continue
        job.settled = True
        if job.loop is None:
            _resolve_all([(job.future, ok, value)])
            continue
        if not ok and isinstance(value, StopIteration):  # asyncio futures refuse it
            value = RuntimeError(f"write function raised {value!r}")
        per_loop.setdefault(job.loop, []).append((job.future, ok, value))
    for loop, items in per_loop.items():
        # RuntimeError: that loop is closed, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve_all, items)


@dataclass
class WriteStats:
    """Counters of the writer thread (for benchmarks and diagnostics)."""

    commits: int = 0
    writes: int = 0
    failed: int = 0
