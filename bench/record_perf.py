"""Benchmark: where the CPU time that CloudTrail recording adds to a call goes, per thread and
per shared object, sampled with Linux ``perf`` in real server processes.

Usage::

    .venv/bin/python bench/record_perf.py [--rounds N] [--seconds S] [--frequency HZ]
                                          [--connections N] [--top N] [--json]

Needs ``perf`` (Debian: ``apt-get install linux-perf``) allowed to sample a process of the same
user (``/proc/sys/kernel/perf_event_paranoid`` at most 2); its ``cpu-clock`` event works in a
VM without hardware counters.  Not a project dependency.

Why: ``bench/record_instructions.py`` counts the instructions recording adds (8.7% per call in
session 15), yet the server's CPU time per call grows by about 20% and its throughput drops by
as much.  The instructions are not the whole cost; this script shows where the rest goes.

What runs (everything on 127.0.0.1; each server stopped by its own pid): two ``trailgate
serve`` processes, recording on and off, with ``trail_load``'s setup and workload (the same
IAM caller, the same 20-request cycle of reads and 10% writes, ``--connections`` keep-alive
connections).  After a warm-up, ``--rounds`` rounds load one server at a time, in turn (the
order reversed every other round), for ``--seconds`` each, while ``perf record -F HZ -p PID``
samples every thread of that server.  Each sample is charged to its thread's role (the event
loop: the main thread; the others: the store's writer, the journal's syncer...), its shared
object and its symbol; samples per call become microseconds of CPU per call.  Reported per
role and shared object: on, off, the difference and its ratio, with the sampling error (one
standard deviation, from the sample counts).  The event loop thread does the same work per
call in both servers in ``libcrypto`` (SigV4's HMACs), ``loop`` (uvloop) and ``parser`` (the
HTTP parser): what those gain with recording on is the same code running slower (caches,
the other CPU's load, preemption), not recording's own work.  Python code shows as the
interpreter's functions.  Not a test; ``tests/unit/test_bench_record_perf.py`` tests its
parsing and, where perf works, smoke-tests it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trail_load as tl  # found through the path above

Key = tuple[str, str, str]
"""(role, shared object, symbol) of a sample."""

_LINE = re.compile(r"\s*(\d+)/(\d+)\s+[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$")


def shared_object(path: str) -> str:
    """A short name for a sample's shared object (``kernel`` for the kernel's symbols)."""
    if "kallsyms" in path or path.startswith("[kernel"):
        return "kernel"
    return path.rsplit("/", 1)[-1] or "?"


def parse_samples(text: str, pid: int) -> Counter[Key]:
    """Samples of ``perf script -F pid,tid,ip,sym,dso`` output, per (role, shared object,
    symbol): role ``loop`` for the process's main thread (``tid == pid``), else ``other``."""
    found: Counter[Key] = Counter()
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None or int(match.group(1)) != pid:
            continue
        role = "loop" if int(match.group(2)) == pid else "other"
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", match.group(3)) or "[unknown]"
        found[(role, shared_object(match.group(4)), symbol)] += 1
    return found


def per_call_us(samples: float, calls: float, frequency: float) -> float:
    """Microseconds of CPU per call that ``samples`` samples at ``frequency`` Hz stand for."""
    if calls <= 0 or frequency <= 0:
        raise ValueError("calls and frequency must be positive")
    return samples / frequency / calls * 1e6


def compare(on: Counter[Any], off: Counter[Any], calls: dict[str, float],
            frequency: float, minimum: int = 0) -> list[dict[str, Any]]:
    """Per key (``minimum``: fewest samples of both together): µs per call on and off, the
    difference, the ratio - 1 and its relative sampling error; biggest difference first."""
    rows = []
    for key in set(on) | set(off):
        a, b = on.get(key, 0), off.get(key, 0)
        if a + b < max(minimum, 1):
            continue
        us_on = per_call_us(a, calls["on"], frequency)
        us_off = per_call_us(b, calls["off"], frequency)
        rows.append({
            "key": list(key) if isinstance(key, tuple) else key,
            "on_us": round(us_on, 2), "off_us": round(us_off, 2),
            "diff_us": round(us_on - us_off, 2),
            "change": round(us_on / us_off - 1, 3) if us_off else None,
            "error": round(math.sqrt(1 / max(a, 1) + 1 / max(b, 1)), 3),
        })
    return sorted(rows, key=lambda row: -row["diff_us"])


def _project(counter: Counter[Key], size: int) -> Counter[Any]:
    """The counts summed over the key's first ``size`` fields."""
    out: Counter[Any] = Counter()
    for key, count in counter.items():
        out[key[:size] if size > 1 else key[0]] += count
    return out


def sample_pass(world: Any, pid: int, seconds: float, frequency: int,
                connections: int, workdir: Path) -> tuple[Counter[Key], int]:
    """One pass: ``perf record`` on the server while the workload runs; (samples, calls)."""
    data = workdir / "perf.data"
    perf = subprocess.Popen(
        ["perf", "record", "-q", "-F", str(frequency), "-p", str(pid), "-o", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)  # perf attaches to every thread
    try:
        result = tl.Load(world.server, tl.workload(world, connections)).run(seconds)
    finally:
        perf.send_signal(signal.SIGINT)
        _, err = perf.communicate(timeout=60)
    if perf.returncode not in (0, -signal.SIGINT):
        raise RuntimeError(f"perf record failed ({perf.returncode}): {err.decode()[-500:]}")
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,tid,ip,sym,dso"],
                            capture_output=True, text=True, check=True).stdout
    tl.expect_ok(result, "load")
    return parse_samples(script, pid), result.requests


def run(rounds: int, seconds: float, frequency: int, connections: int,
        log: Callable[[str], None]) -> dict[str, Any]:
    if shutil.which("perf") is None:
        raise RuntimeError("perf is not installed")
    samples = {"on": Counter[Key](), "off": Counter[Key]()}
    calls = {"on": 0.0, "off": 0.0}
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="trailgate-record-perf-") as tmp:
        work = Path(tmp)
        servers: dict[str, tl.Server] = {}
        with tl.running(servers):
            worlds = {}
            for name in ("on", "off"):
                data = work / f"data-{name}"
                data.mkdir()
                servers[name] = tl.start_server(name, data, work, 5.0, recording=name == "on")
                worlds[name] = tl.setup_world(servers[name])
            for world in worlds.values():
                tl.Load(world.server, tl.workload(world, connections)).run(min(3.0, seconds))
            for number in range(rounds):
                order = ("on", "off") if number % 2 == 0 else ("off", "on")
                for name in order:
                    found, done = sample_pass(worlds[name], servers[name].process.pid,
                                              seconds, frequency, connections, work)
                    samples[name].update(found)
                    calls[name] += done
                    rates[name].append(done / seconds)
                    log(f"  round {number + 1}/{rounds} {name:<3} {done / seconds:7.0f} calls/s"
                        f"  {sum(found.values())} samples")
    if not calls["on"] or not calls["off"]:
        raise RuntimeError("no calls completed")
    return {
        "rounds": rounds, "seconds": seconds, "frequency": frequency,
        "calls": calls, "calls_per_second": {n: sorted(r) for n, r in rates.items()},
        "roles": compare(_project(samples["on"], 1), _project(samples["off"], 1),
                         calls, frequency),
        "objects": compare(_project(samples["on"], 2), _project(samples["off"], 2),
                           calls, frequency, minimum=100),
        "symbols": compare(samples["on"], samples["off"], calls, frequency, minimum=50),
    }


def report(result: dict[str, Any], top: int) -> str:
    lines = [
        "Record perf: CPU per call by thread and shared object, recording on vs off (perf,"
        " cpu-clock)",
        f"  {result['rounds']} rounds of {result['seconds']:g} s per server, one at a time in"
        f" turn, {result['frequency']} Hz; calls: on {result['calls']['on']:.0f},"
        f" off {result['calls']['off']:.0f}",
        f"  {'':<48}{'on µs':>9}{'off µs':>9}{'diff':>8}{'change':>9}{'± (1 sd)':>10}",
    ]

    def row(label: str, item: dict[str, Any]) -> str:
        change = "" if item["change"] is None else f"{item['change']:+.1%}"
        return (f"  {label[:48]:<48}{item['on_us']:9.2f}{item['off_us']:9.2f}"
                f"{item['diff_us']:+8.2f}{change:>9}{item['error']:>10.1%}")

    for item in result["roles"]:
        lines.append(row(f"thread: {item['key']}", item))
    for item in result["objects"]:
        lines.append(row(f"{item['key'][0]:<6} {item['key'][1]}", item))
    if top:
        lines.append(f"  symbols whose CPU per call grows most (top {top}):")
        for item in result["symbols"][:top]:
            role, obj, symbol = item["key"]
            lines.append(row(f"{role:<6} {symbol} ({obj})", item))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds (default 6)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per pass (8)")
    parser.add_argument("--frequency", type=int, default=999, help="samples/s (999)")
    parser.add_argument("--connections", type=int, default=32, help="connections (32)")
    parser.add_argument("--top", type=int, default=20, help="symbols listed (20)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.rounds, args.seconds, args.frequency, args.connections,
                 lambda line: print(line, file=sys.stderr))
    print(json.dumps(result, indent=2) if args.json else report(result, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
