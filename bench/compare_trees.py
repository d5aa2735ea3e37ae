"""Benchmark: servers built from different source trees (or the same tree with recording on
and off), loaded AT THE SAME TIME, each by its own client process.

Usage::

    .venv/bin/python bench/compare_trees.py NAME=SRC:on|off [NAME=SRC:on|off ...]
                                            [--rounds 8] [--pass-seconds 6]
                                            [--connections 16] [--alternate] [--json]

``SRC`` is a ``src`` folder (e.g. of ``git worktree add /tmp/old COMMIT``: ``/tmp/old/src``)
put first on the server's ``PYTHONPATH``, or ``.`` for the installed trailgate; ``on``/``off``
is recording (``off`` sets trailgate's benchmark-only ``TRAILGATE_BENCH_NO_RECORDING``).

Why: on a shared 2-core machine the speed of the CPU a process gets varies from second to
second by tens of percent, so passes run one after the other (``bench/trail_load.py``'s A/B)
need many rounds before a difference of a few percent shows.  Here every server runs through
the same seconds: after a warm-up pass, each round starts one client process per server (the
workload of ``trail_load``: the same 20-request cycle of reads and 10% writes, signed as the
same IAM caller, ``--connections`` keep-alive connections, one request in flight each) for
``--pass-seconds``; per server the calls per second and its CPU per call (``/proc``).  The
result: per pair of servers, the median over the rounds of their throughput ratio, and a 90%
bootstrap interval of that median (``benchlib.bootstrap_interval``).  The
servers also share the machine with each other, so compare ratios, not absolute figures with
``trail_load``'s.  ``--alternate`` loads one server at a time instead (each round in turn,
the order reversed every other round, so neither is always first): no server shares the
machine with another, and each ratio is of passes a few seconds apart, which a slow drift of
the machine's speed affects little.  Everything binds 127.0.0.1; every server is stopped by
its own pid.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trail_load as tl  # found through the path above
from benchlib import bootstrap_interval


def parse_spec(text: str) -> tuple[str, str | None, bool]:
    """``NAME=SRC:on|off`` -> (name, src folder or None, recording)."""
    name, sep, rest = text.partition("=")
    src, sep2, mode = rest.rpartition(":")
    if not sep or not sep2 or not name or mode not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"expected NAME=SRC:on|off, got {text!r}")
    return name, None if src == "." else str(Path(src).resolve()), mode == "on"


def start(name: str, src: str | None, workdir: Path, recording: bool) -> tl.Server:
    data = workdir / f"data-{name}"
    data.mkdir()
    saved = os.environ.get("PYTHONPATH")
    try:
        if src is not None:
            os.environ["PYTHONPATH"] = src
        return tl.start_server(name, data, workdir, 5.0, recording=recording)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _client(world: tl.World, connections: int, seconds: float, out: Any, name: str) -> None:
    """One pass on one server, in a client process of its own (forked: the server's Popen is
    the parent's, so this process does not poll it)."""
    world.server.check_alive = lambda: None  # type: ignore[method-assign]
    result = tl.Load(world.server, tl.workload(world, connections)).run(seconds)
    out.put((name, result.requests, result.errors))


def _passes(servers: dict[str, tl.Server], worlds: dict[str, tl.World], group: list[str],
            connections: int, seconds: float) -> dict[str, tuple[int, float]]:
    """One pass on each server of ``group`` at the same time: (calls, server CPU seconds)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    before = {name: sum(servers[name].cpu()) for name in group}
    clients = [ctx.Process(target=_client, args=(worlds[name], connections, seconds, queue, name))
               for name in group]
    for client in clients:
        client.start()
    done = [queue.get(timeout=seconds + 120) for _ in clients]
    for client in clients:
        client.join()
        if client.exitcode != 0:
            raise RuntimeError(f"a client process failed ({client.exitcode})")
    out = {}
    for name, calls, errors in done:
        if errors:
            raise RuntimeError(f"{name}: {errors} error responses")
        out[name] = (calls, sum(servers[name].cpu()) - before[name])
    return out


def run(specs: list[tuple[str, str | None, bool]], rounds: int, seconds: float,
        connections: int, log: Any, alternate: bool = False) -> dict[str, Any]:
    names = [name for name, _, _ in specs]
    if len(set(names)) != len(names) or len(names) < 2:
        raise SystemExit("compare_trees: give two or more servers with distinct names")
    with tempfile.TemporaryDirectory(prefix="trailgate-compare-") as tmp:
        servers: dict[str, tl.Server] = {}
        with tl.running(servers):
            for name, src, recording in specs:
                servers[name] = start(name, src, Path(tmp), recording)
            worlds = {name: tl.setup_world(server) for name, server in servers.items()}
            rps: dict[str, list[float]] = {name: [] for name in names}
            cpu: dict[str, list[float]] = {name: [] for name in names}
            for number in range(rounds + 1):  # round 0: the warm-up
                if alternate:  # one server at a time, the order reversed every other round
                    order = names if number % 2 == 0 else names[::-1]
                    groups = [[name] for name in order]
                else:
                    groups = [names]
                done: dict[str, tuple[int, float]] = {}
                for group in groups:
                    done.update(_passes(servers, worlds, group, connections, seconds))
                parts = []
                for name in names:
                    calls, used = done[name]
                    parts.append(f"{name} {calls / seconds:7.0f}/s "
                                 f"{used / max(1, calls) * 1e3:.3f} ms CPU/call")
                    if number:
                        rps[name].append(calls / seconds)
                        cpu[name].append(used / max(1, calls) * 1e3)
                log(("  warm-up " if not number else f"  round {number}/{rounds} ")
                    + " | ".join(parts))
    pairs = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ratios = [x / y for x, y in zip(rps[a], rps[b], strict=True)]
            low, high = bootstrap_interval(ratios, statistics.median)
            pairs[f"{a}/{b}"] = {"median": round(statistics.median(ratios), 3),
                                 "interval_90": [round(low, 3), round(high, 3)],
                                 "rounds": [round(r, 3) for r in ratios]}
    return {
        "rounds": rounds, "pass_seconds": seconds, "connections": connections,
        "alternate": alternate,
        "servers": {name: {"calls_per_s": round(statistics.median(rps[name])),
                           "cpu_ms_per_call": round(statistics.median(cpu[name]), 3)}
                    for name in names},
        "throughput_ratios": pairs,
    }


def report(result: dict[str, Any]) -> str:
    how = ("loaded one at a time, in turn" if result.get("alternate")
           else "loaded together")
    lines = [f"Servers {how}: {result['rounds']} rounds of {result['pass_seconds']} s,"
             f" {result['connections']} connections each; medians"]
    for name, row in result["servers"].items():
        lines.append(f"  {name:<16}{row['calls_per_s']:>8} calls/s"
                     f"{row['cpu_ms_per_call']:>9.3f} ms CPU/call")
    for pair, row in result["throughput_ratios"].items():
        low, high = row["interval_90"]
        lines.append(f"  throughput {pair}: {row['median']:.3f}, 90% bootstrap interval "
                     f"{low:.3f} to {high:.3f} (per round {row['rounds']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("servers", nargs="+", type=parse_spec, metavar="NAME=SRC:on|off")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--pass-seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--alternate", action="store_true",
                        help="load one server at a time, in turn (order reversed every other "
                             "round); ratios are then of passes a few seconds apart")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.servers, args.rounds, args.pass_seconds, args.connections,
                 lambda line: print(line, file=sys.stderr, flush=True), args.alternate)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
