"""Benchmark: how many Python bytecodes CloudTrail recording adds to a call on the event loop
thread, counted, not timed.

Usage::

    .venv/bin/python bench/record_bytecodes.py [--calls N] [--top N] [--json]

On a shared 2-core machine a timed difference of a few microseconds per call does not show
(``bench/trail_load.py``'s rounds move by tens of percent), while the event loop thread, the
one that bounds the server's throughput, spends recording's extra time in the bytecode loop
(README, performance section, session 12).  This script counts that work exactly: it builds
the server's application (``TrailgateApp``) on a temporary data dir as ``bench/record_cost.py``
does, drives ``Gateway.handle`` from one asyncio loop with the same signed requests (STS
GetCallerIdentity, IAM ListRoles, IAM ListUsers in turn, as root), and counts every bytecode
the calling thread executes (``sys.settrace`` with ``f_trace_opcodes``), per function, in
three passes: recording off, on, off again (the two off passes must agree: the count is
deterministic).  After each pass the journal is moved into the store, untraced (that runs in
the writer thread in a server).  Reported: bytecodes per call off and on, and the functions
whose count differs, largest first.  Tracing disables CPython's specialisation and slows
everything down, so the counts are of bytecodes, not of time.  Not a test;
``tests/unit/test_bench_record_bytecodes.py`` smoke-tests it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from trailgate.app import TrailgateApp
from trailgate.config import Settings
from trailgate.gateway.context import HttpRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import record_cost as rc  # found through the path above


class OpcodeCounter:
    """Counts the bytecodes the tracing thread executes, per function."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def _local(self, name: str) -> Any:
        counts = self.counts

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                counts[name] += 1
            return local

        return local

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        code = frame.f_code
        return self._local(f"{code.co_name} ({Path(code.co_filename).name})")


async def one_pass(app: TrailgateApp, requests: list[HttpRequest], calls: int,
                   recording: bool) -> Counter[str]:
    """Bytecodes per call, per function, of ``calls`` calls."""
    gateway = app.gateway
    gateway.recording = recording
    counter = OpcodeCounter()
    sys.settrace(counter.trace)
    try:
        for n in range(calls):
            response = await gateway.handle(requests[n % len(requests)])
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {response.body[:300]!r}")
    finally:
        sys.settrace(None)
    await gateway.ingest_events()
    return Counter({name: count / calls for name, count in counter.counts.items()})


async def run(calls: int, top: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="trailgate-record-bytecodes-") as tmp:
        settings = Settings.build(data_dir=Path(tmp), env={
            "TRAILGATE_ROOT_ACCESS_KEY_ID": rc.KEY, "TRAILGATE_ROOT_SECRET_ACCESS_KEY": rc.SECRET})
        app = TrailgateApp(settings)
        try:
            requests = [rc.signed(service, body) for service, body in rc.CALLS]
            for n in range(300):  # warm-up: caches and templates made
                await app.gateway.handle(requests[n % len(requests)])
            await app.gateway.ingest_events()
            off = await one_pass(app, requests, calls, False)
            on = await one_pass(app, requests, calls, True)
            again = await one_pass(app, requests, calls, False)
        finally:
            app.journal.close()
            app.store.close()
    diff = sorted(((on[name] - off[name], name) for name in set(on) | set(off)),
                  key=lambda item: (-abs(item[0]), item[1]))
    return {
        "calls": calls,
        "per_call_off": round(sum(off.values()), 1),
        "per_call_on": round(sum(on.values()), 1),
        "per_call_off_again": round(sum(again.values()), 1),
        "added_by_recording": round(sum(on.values()) - sum(off.values()), 1),
        "functions": [{"function": name, "on": round(on[name], 1), "off": round(off[name], 1),
                       "added": round(added, 1)} for added, name in diff[:top] if added],
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        "Record bytecodes: Python bytecodes per call on the calling thread (Gateway.handle,"
        " no HTTP)",
        f"  {result['calls']} calls per pass; GetCallerIdentity / ListRoles / ListUsers as root",
        f"  recording off {result['per_call_off']:.0f} (again: {result['per_call_off_again']:.0f}),"
        f" on {result['per_call_on']:.0f}: recording adds {result['added_by_recording']:.0f}",
        f"  {'added':>8}{'on':>8}{'off':>8}  function",
    ]
    for row in result["functions"]:
        lines.append(f"  {row['added']:>+8.1f}{row['on']:>8.1f}{row['off']:>8.1f}  "
                     f"{row['function']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600, help="calls per pass (default 600)")
    parser.add_argument("--top", type=int, default=15, help="functions listed (default 15)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.calls, args.top))
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
