"""Benchmark: what CloudTrail recording costs the event loop thread, per call, in-process.

Usage::

    .venv/bin/python bench/record_cost.py [--quick] [--json] [--rounds N] [--calls N]

``bench/trail_load.py`` measures recording end to end through HTTP, where a shared 2-core
machine makes single runs noisy.  This script takes HTTP and the other core's load out: it
builds the server's application (``TrailgateApp``) on a temporary data dir, with root
credentials fixed by the environment, and drives ``Gateway.handle`` directly from one asyncio
loop with requests signed once by botocore (SigV4, verified on every call): STS
GetCallerIdentity, IAM ListRoles, IAM ListUsers in turn (calls that change nothing, so their
records go through the event journal).  Rounds alternate recording on and off
(``Gateway.recording``).  Per pass: the CPU time of the calling thread (``time.thread_time``)
per call, in total and per pipeline step (the step methods wrapped with timers), and, with
recording on, the same with the journal moved into the store (``Gateway.ingest_events``) every
1,000 calls in the writer thread *while* calls go on (``concurrent``) instead of after the pass
(``after``): the difference is what that work costs the event loop thread through the GIL and
the shared cores.  Medians over the rounds.  Not a test; ``tests/unit/test_bench_record_cost.py``
smoke-tests it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from trailgate.app import TrailgateApp
from trailgate.config import Settings
from trailgate.gateway.chain import Gateway
from trailgate.gateway.context import HttpRequest

KEY = "AKIABENCHRECORDCOST1"
SECRET = "trailgate/bench/record-cost/secret/key/1"
REGION = "us-east-1"
CALLS: tuple[tuple[str, str], ...] = (
    ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
    ("iam", "Action=ListRoles&Version=2010-05-08"),
    ("iam", "Action=ListUsers&Version=2010-05-08"),
)
STEPS: tuple[str, ...] = ("identify", "parse", "authenticate", "authorize", "dispatch",
                          "serialize", "record")
INGEST_EVERY = 1000


def signed(service: str, body: str) -> HttpRequest:
    req = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, SECRET), service, REGION).add_auth(req)
    prepared = req.prepare()
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    headers["user-agent"] = "Botocore/1.44.8 ua/2.1 os/linux lang/python#3.11"
    return HttpRequest("POST", "/", "", headers, body.encode(), "127.0.0.1")


class StepTimer:
    """Wraps the gateway's step methods (on the instance) to add up their thread CPU time."""

    def __init__(self, gateway: Gateway) -> None:
        self.spent: dict[str, int] = dict.fromkeys(STEPS, 0)
        for name in STEPS:
            method = getattr(gateway, name)
            if asyncio.iscoroutinefunction(method):
                setattr(gateway, name, self._async(name, method))
            else:
                setattr(gateway, name, self._sync(name, method))
        gateway.steps = [gateway.identify, gateway.parse, gateway.authenticate,
                         gateway.authorize, gateway.dispatch]

    def _sync(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return method(*args, **kwargs)
            finally:
                self.spent[name] += time.thread_time_ns() - start
        return timed

    def _async(self, name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return await method(*args, **kwargs)
            finally:
                self.spent[name] += time.thread_time_ns() - start
        return timed

    def reset(self) -> None:
        self.spent = dict.fromkeys(STEPS, 0)


async def one_pass(app: TrailgateApp, timer: StepTimer, calls: int, mode: str,
                   requests: list[HttpRequest]) -> dict[str, float]:
    gateway = app.gateway
    gateway.recording = mode != "off"
    timer.reset()
    pending: asyncio.Future[int] | None = None
    start = time.thread_time_ns()
    for n in range(calls):
        response = await gateway.handle(requests[n % len(requests)])
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {response.body[:300]!r}")
        if mode == "concurrent" and n % INGEST_EVERY == INGEST_EVERY - 1:
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(gateway.ingest_events())
        if n % 50 == 0:
            await asyncio.sleep(0)  # a turn of the loop, as a server gets between requests
    total = time.thread_time_ns() - start
    if pending is not None:
        await pending
    await gateway.ingest_events()  # "after" (and the rest of "concurrent"): not timed
    out = {"total_us": total / calls / 1000}
    for name, spent in timer.spent.items():
        out[f"{name}_us"] = spent / calls / 1000
    return out


async def run(rounds: int, calls: int, log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="trailgate-record-cost-") as tmp:
        settings = Settings.build(data_dir=Path(tmp), env={
            "TRAILGATE_ROOT_ACCESS_KEY_ID": KEY, "TRAILGATE_ROOT_SECRET_ACCESS_KEY": SECRET})
        app = TrailgateApp(settings)
        try:
            requests = [signed(service, body) for service, body in CALLS]
            timer = StepTimer(app.gateway)
            await one_pass(app, timer, min(calls, 500), "after", requests)  # warm-up
            samples: dict[str, list[dict[str, float]]] = {
                "off": [], "after": [], "concurrent": []}
            for number in range(1, rounds + 1):
                for mode in samples:
                    sample = await one_pass(app, timer, calls, mode, requests)
                    samples[mode].append(sample)
                    log(f"  round {number}/{rounds} {mode:<10} {sample['total_us']:7.1f} µs/call"
                        f"  (record step {sample['record_us']:5.1f})")
        finally:
            app.journal.close()
            app.store.close()
    medians = {mode: {key: round(statistics.median(s[key] for s in runs), 2)
                      for key in runs[0]} for mode, runs in samples.items()}
    off = medians["off"]["total_us"]
    return {
        "calls_per_pass": calls,
        "rounds": rounds,
        "medians_us_per_call": medians,
        "record_step_share_of_off": round(medians["after"]["record_us"] / off, 3),
        "cost_after": round(1 - off / medians["after"]["total_us"], 3),
        "cost_concurrent": round(1 - off / medians["concurrent"]["total_us"], 3),
    }


def report(result: dict[str, Any]) -> str:
    med = result["medians_us_per_call"]
    lines = [
        "Record cost: event loop thread CPU per call, in-process (Gateway.handle, no HTTP)",
        f"  {result['calls_per_pass']} calls per pass, {result['rounds']} rounds, medians;"
        " GetCallerIdentity / ListRoles / ListUsers as root",
        f"  {'mode':<34}{'total':>8}" + "".join(f"{s:>13}" for s in STEPS),
    ]
    names = {"off": "recording off",
             "after": "on, journal moved after the pass",
             "concurrent": "on, journal moved meanwhile"}
    for mode, label in names.items():
        row = med[mode]
        lines.append(f"  {label:<34}{row['total_us']:8.1f}"
                     + "".join(f"{row[s + '_us']:13.1f}" for s in STEPS))
    lines.append(f"  recording costs the thread {result['cost_after']:.1%} of its time per call"
                 f" ({result['cost_concurrent']:.1%} with the journal moved meanwhile)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1,000 calls")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--rounds", type=int, help="rounds (default 5)")
    parser.add_argument("--calls", type=int, help="calls per pass (default 4000)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    calls = args.calls or (1000 if args.quick else 4000)
    result = asyncio.run(run(rounds, calls, lambda line: print(line, file=sys.stderr)))
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
