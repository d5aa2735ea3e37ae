"""Benchmark: the machine instructions CloudTrail recording adds to a call, counted (valgrind),
in a real server process, every thread included.

Usage::

    .venv/bin/python bench/record_instructions.py [--short S] [--long S] [--stretch F]
                                                  [--connections N] [--top N] [--src DIR]
                                                  [--json]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``; not a project dependency).

Why: on a shared 2-core VM the speed a process gets moves by tens of percent from second to
second, so ``bench/trail_load.py`` needs many rounds to show a difference of a few percent, and
an in-process count (``bench/record_bytecodes.py``) sees only the event loop thread's
bytecodes.  Here valgrind's ``cachegrind`` (``--cache-sim=no``) counts every instruction the
server executes, in all its threads (the store writer moving the journal into SQLite, SQLite
itself, the journal syncer), whatever the machine's speed.

What runs: ``trailgate serve`` under valgrind, twice with recording on and twice without
(``TRAILGATE_BENCH_NO_RECORDING=1``), each on a fresh data dir, each with ``trail_load``'s
setup and workload (the same IAM caller, the same 20-request cycle of reads and 10% writes,
``--connections`` keep-alive connections) for ``--short`` and for ``--long`` seconds; the on
and off servers run side by side.  Instructions per call = (instructions of the long run -
of the short run) / (calls of the long run - of the short run): start-up and setup cancel
out.  Valgrind runs the server about 25 times slower, so the server's periodic work is
stretched by ``--stretch`` (a ``sitecustomize`` on the server's ``PYTHONPATH``): the journal
moves into SQLite every ``INDEX_PERIOD`` x F seconds and is synced every ``SYNC_INTERVAL`` x F,
so that a move takes about as many records as in a server at full speed (a move costs per
batch as well as per record).  Reported: instructions per call on and off, what recording
adds (its work; the issue's goal is of throughput, which cache misses, the GIL's hand-overs
and kernel time also move), and with ``--top`` the C functions whose count per call grows
most (``cg_diff``; Python code shows as the interpreter's functions).  Runs of the same code
differ by up to about 1.5% per figure: work done per second (timers, the periodic work) is
shared by fewer calls when the machine is slower.
``--src`` runs another source tree's server (a ``src`` folder, e.g. of ``git worktree add
/tmp/old COMMIT``, put on the server's ``PYTHONPATH``).  Not a test;
``tests/unit/test_bench_record_instructions.py`` tests its arithmetic and, where valgrind is
installed, smoke-tests it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from trailgate import app as server_app
from trailgate.store import journal

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trail_load as tl  # found through the path above

SITECUSTOMIZE = """\
import sys
if "trailgate.cli" in sys.orig_argv:
    import trailgate.app
    from trailgate.store import journal
    trailgate.app.INDEX_PERIOD = {index_period!r}
    _defaults = list(journal.EventJournal.__init__.__defaults__)
    _defaults[0] = {sync_interval!r}
    journal.EventJournal.__init__.__defaults__ = tuple(_defaults)
"""

_TOTAL = re.compile(r"^summary:\s+(\d+)\s*$", re.MULTILINE)


def total_instructions(cachegrind_out: str) -> int:
    """The ``summary:`` line of a cachegrind output file (``--cache-sim=no``: Ir only)."""
    found = _TOTAL.search(cachegrind_out)
    if found is None:
        raise ValueError("no summary line in the cachegrind output")
    return int(found.group(1))


def per_call(long: tuple[int, int], short: tuple[int, int]) -> float:
    """Instructions per call from two runs' (instructions, calls): the difference cancels
    start-up and setup."""
    calls = long[1] - short[1]
    if calls <= 0:
        raise ValueError("the long run must make more calls than the short one")
    return (long[0] - short[0]) / calls


def _write_sitecustomize(folder: Path, stretch: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    sync_default = journal.EventJournal.__init__.__defaults__
    assert sync_default is not None and sync_default[0] == journal.SYNC_INTERVAL
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(
        index_period=server_app.INDEX_PERIOD * stretch,
        sync_interval=journal.SYNC_INTERVAL * stretch))


def run_one(recording: bool, seconds: float, workdir: Path, site: str,
            connections: int) -> tuple[int, int, Path]:
    """One server under cachegrind for one load of ``seconds``: (instructions, calls, the
    cachegrind file)."""
    name = f"{'on' if recording else 'off'}-{seconds:g}"
    folder = workdir / name
    data = folder / "data"
    data.mkdir(parents=True)
    out = folder / "cachegrind.out"
    # The delivery interval is the server's default (nothing is delivered: no trail).
    server = tl.start_server(
        name, data, folder, 300.0, recording=recording,
        wrapper=("valgrind", "--tool=cachegrind", "--cache-sim=no",
                 f"--cachegrind-out-file={out}"),
        env_extra={"PYTHONPATH": site}, healthy_within=600.0)
    server.stop_timeout = 300.0  # valgrind writes its file at exit
    try:
        world = tl.setup_world(server)
        result = tl.Load(server, tl.workload(world, connections)).run(seconds)
        bad = sum(n for status, n in result.statuses.items() if not 200 <= status < 300)
        if bad:
            raise RuntimeError(f"{name}: {bad} error responses: {result.error_samples}")
    finally:
        server.stop()
    return total_instructions(out.read_text()), result.requests, out


def _side_by_side(jobs: list[tuple[bool, float]], workdir: Path, site: str,
                  connections: int) -> dict[tuple[bool, float], tuple[int, int, Path]]:
    results: dict[tuple[bool, float], tuple[int, int, Path]] = {}
    errors: list[BaseException] = []

    def work(job: tuple[bool, float]) -> None:
        try:
            results[job] = run_one(job[0], job[1], workdir, site, connections)
        except BaseException as exc:  # reported after the others finished
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def top_functions(long: Path, short: Path, calls: int, limit: int) -> dict[str, float]:
    """Per C function: instructions per call between the two runs (``cg_diff``)."""
    diff = long.with_name("diff.out")
    with diff.open("wb") as sink:
        subprocess.run(["cg_diff", str(short), str(long)], check=True, stdout=sink,
                       stderr=subprocess.DEVNULL)
    text = subprocess.run(["cg_annotate", "--auto=no", "--threshold=0", str(diff)],
                          check=True, capture_output=True, text=True).stdout
    out: dict[str, float] = {}
    for line in text.splitlines():
        row = re.match(r"\s*(-?[\d,]+)\s+\(\s*-?[\d.]+%\)\s+(\S.*?)\s*$", line)
        if row and "PROGRAM TOTALS" not in line:
            name = row.group(2).rsplit("/", 1)[-1]
            out[name] = out.get(name, 0.0) + int(row.group(1).replace(",", "")) / calls
    return dict(sorted(out.items(), key=lambda kv: -kv[1])[:limit])


def run(short: float, long: float, stretch: float, connections: int, top: int,
        log: Any, src: Path | None = None) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        raise SystemExit("record_instructions: valgrind is not installed")
    with tempfile.TemporaryDirectory(prefix="trailgate-instructions-") as tmp:
        workdir = Path(tmp)
        # Every module compiled now: a server that compiled a changed source file itself
        # would count that (millions of instructions) as its calls' work.
        tree = Path(server_app.__file__).parent if src is None else src / "trailgate"
        compileall.compile_dir(tree, quiet=1)
        site = workdir / "site"
        _write_sitecustomize(site, stretch)
        path = str(site) if src is None else os.pathsep.join((str(site), str(src)))
        done: dict[tuple[bool, float], tuple[int, int, Path]] = {}
        for seconds in (long, short):
            log(f"  {seconds:g} s runs (recording on and off, side by side)...")
            done.update(_side_by_side([(True, seconds), (False, seconds)], workdir, path,
                                      connections))
        figures: dict[str, Any] = {}
        functions: dict[str, dict[str, float]] = {}
        for recording, label in ((True, "on"), (False, "off")):
            big, small = done[(recording, long)], done[(recording, short)]
            figures[label] = {"per_call": round(per_call(big[:2], small[:2])),
                              "calls": [small[1], big[1]]}
            if top:
                functions[label] = top_functions(big[2], small[2], big[1] - small[1], 10**6)
    on, off = figures["on"]["per_call"], figures["off"]["per_call"]
    result: dict[str, Any] = {
        "short_s": short, "long_s": long, "stretch": stretch, "connections": connections,
        "src": str(src) if src is not None else None,
        "per_call_on": on, "per_call_off": off,
        "added_by_recording": round(on / off - 1, 4),
        "calls": {"on": figures["on"]["calls"], "off": figures["off"]["calls"]},
    }
    if top:
        names = set(functions["on"]) | set(functions["off"])
        growth = sorted(((functions["on"].get(n, 0.0) - functions["off"].get(n, 0.0), n)
                         for n in names), reverse=True)[:top]
        result["functions"] = [{"function": n, "added": round(d)} for d, n in growth]
    return result


def report(result: dict[str, Any]) -> str:
    lines = [
        "Record instructions: machine instructions per call in a trailgate server (valgrind"
        " cachegrind, every thread)",
        f"  runs of {result['short_s']:g} s and {result['long_s']:g} s, {result['connections']}"
        f" connections; the server's periodic work stretched {result['stretch']:g}x",
        f"  server: {result['src'] or 'the installed trailgate'}",
        f"  calls (short, long): on {result['calls']['on']}, off {result['calls']['off']}",
        f"  recording off {result['per_call_off']:>12,} instructions per call",
        f"  recording on  {result['per_call_on']:>12,} instructions per call",
        f"  recording adds {result['added_by_recording']:.1%} instructions per call",
    ]
    if result.get("functions"):
        lines.append("  C functions that grow most with recording (instructions per call):")
        lines += [f"    {row['added']:>+9,}  {row['function']}" for row in result["functions"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=float, default=30.0, help="seconds of the short run")
    parser.add_argument("--long", type=float, default=130.0, help="seconds of the long run")
    parser.add_argument("--stretch", type=float, default=25.0,
                        help="factor for the server's periodic work (valgrind's slowdown)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--top", type=int, default=0, help="list the N C functions that grow most")
    parser.add_argument("--src", type=Path, help="a source tree's src folder for the server")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.short, args.long, args.stretch, args.connections, args.top,
                 lambda line: print(line, file=sys.stderr, flush=True),
                 None if args.src is None else args.src.resolve())
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
