"""Benchmark: the cost of CloudTrail recording on sustained API throughput, delivery and memory
under that load, and LookupEvents latency over 1,000,000 stored events.

Usage::

    .venv/bin/python bench/trail_load.py [--quick] [--json] [--soak SECONDS] [--events N]
                                         [--rounds N] [--pass-seconds S] [--connections N]
                                         [--delivery-interval S] [--sample-seconds S]
                                         [--lookup-calls N] [--profile] [--control]

A default run takes about 5 minutes on 2 cores: A/B passes (5 rounds of 6 s) ~1.5 min, the
soak 2 min (plus the drain), writing 1,000,000 events ~1.5 min, the lookups well under a
minute.  ``--soak 600`` is the issue's 10 minutes.  ``--quick`` (the smoke test's mode) takes
well under a minute.

What runs (everything on 127.0.0.1; each server is stopped by its own pid at the end):

1. Recording on vs off. Two ``trailgate serve`` processes, each on a fresh data dir: A as
   shipped (every call recorded), B with ``TRAILGATE_BENCH_NO_RECORDING=1`` (the benchmark-only
   switch in ``trailgate/app.py``: ``Gateway.recording = False``). The same setup on both,
   through boto3 as root: a bucket, a role, 8 target users and the caller ``bench-caller`` (an
   IAM user with an access key and an inline policy allowing exactly the calls below). The
   workload, signed as the caller: a 20-request cycle of 6 ``sts:GetCallerIdentity``, 4
   ``iam:GetUser``, 4 ``iam:ListRoles``, 4 S3 ``GetBucketLocation`` (a management event) and one
   ``iam:TagUser`` plus one ``iam:UntagUser`` (10% writes; each connection writes its own target
   user). Requests are pre-signed with botocore's signers (re-signed per pass), serialised to
   raw HTTP/1.1 bytes and replayed by ``--connections`` client threads (default 32: group commit
   needs concurrency), each with ONE keep-alive socket and one request in flight; a response is
   read by its ``Content-Length``. Every status is checked: a non-2xx answer is counted and
   shown, and makes the run exit with status 1. After a warm-up per server, ``--rounds`` rounds
   of timed passes (``--pass-seconds`` each) alternate A, B (A first in odd rounds, B first in
   even ones, so that neither server always follows the other). Per pass: calls/s, latency
   p50/p99, and the server's CPU per call (utime+stime of the process, all threads, and of its
   running child processes, from ``/proc/PID/stat``; it does not count waiting for a CPU or for
   fsync, so it is the steadier figure on a busy machine). The events each server stored
   during a pass are counted from its SQLite file (opened read-only), each count after one
   LookupEvents call as root (the server moves its event journal into the store before
   answering one): A must store ~1 per call, B none. Reported: medians per server and the
   cost of recording, ``1 - calls/s(A) / calls/s(B)`` (goal < 15%), and the same
   from CPU per call, ``1 - cpu(B) / cpu(A)``: what throughput recording costs when the server
   is CPU-bound, the steadier figure on a shared machine.  With the cost, a 90% bootstrap
   interval of it over the rounds (each round's pair of passes resampled together:
   ``benchlib.bootstrap_interval``): how far the figure could move with other rounds like
   these; a goal is only shown when the whole interval is below it.
2. Soak (``--soak SECONDS``, default 120; 0 skips).  On server A (started with
   ``--delivery-interval``, default 5 s): root creates a log bucket with CloudTrail's bucket
   policy and a trail, and starts logging.  The same workload then runs at full speed for the
   soak; the requests are re-signed every 5 minutes (SigV4 allows 15 minutes of skew).  Every
   ``--sample-seconds`` (default 2) the script reads, from the server's SQLite file
   (read-only), the newest event ``seq`` and the trail's delivery cursor: the backlog is their
   difference and the delivery lag is the age of the oldest undelivered event; and the server's
   memory from ``/proc/PID/status``: ``VmRSS``, split into ``RssAnon`` (heap, stacks),
   ``RssFile`` and ``RssShmem`` (SQLite's WAL index), and its thread count.  When the load
   stops, the backlog must drain to 0 within three delivery intervals plus 10 s.  Then the
   trail's status is checked (no delivery error; the events it
   counts as delivered equal the management events recorded during the soak, counted from
   the store: exactly once) and the log objects in the bucket are counted.
   Verdicts: *delivery keeps up* when it drained, the lag never exceeded 3 delivery intervals,
   and the mean backlog of the soak's last third is at most 1.5x that of its first third
   (plus 1 second of calls); *memory flat* when, after a 30 s warm-up (caches filling), the
   median RSS of the last quarter is at most 5% (and at least 8 MiB) above that of the first
   quarter.  A soak shorter than 6 delivery intervals judges neither (inconclusive), and one
   with fewer than 8 samples after the warm-up judges no memory verdict.
3. LookupEvents (``--events N``, default 1,000,000; 0 skips).  B's data dir (B stopped) is
   copied and N events are written straight into the copy with the store API:
   ``SqliteStore.open``, one ``write_sync`` per 250,000 events, ``tx.append_event`` per
   record, and the batch's index rows in one ``tx.event_index_add``, grouped by key (B-tree pages
   filled in order).  The records come from ``trail.records.build_records`` (one template per
   operation and target user: 8 operations; 100 calling users), each with a new random
   eventID and requestID (uuid4, as the server makes them) and an eventTime (oldest first,
   spread over the last 30 days).  A record's index rows are its template's
   ``services.cloudtrail.events.index_rows`` with its own EventId, time and seq; every
   1,000th event they are checked against ``index_rows`` of the record itself.  A server C
   then starts on that copy, and ``--lookup-calls`` (default 300) LookupEvents calls per kind
   are timed, sequentially on one keep-alive connection, after 20 unmeasured ones: no
   attributes (first page), EventName=GetUser, Username=one of the 100 users (first pages),
   and a NextToken chain (each page signed when the previous one answered) of the unfiltered
   listing whose EndTime is the middle of the stored history, i.e. about N/2 events deep.
   Every answer but a chain's last must be a full page (50 events).

``--profile`` (needs ``py-spy``, ``pip install py-spy``; not a project dependency) adds, per
server (A and B), two load passes under py-spy: *wall* samples every busy thread (fsync and GIL
waits included), *gil* only the thread holding the GIL (Python's CPU; SQLite's C code runs
without the GIL and is missing there).  Samples become milliseconds per call, by category (HTTP
stack, gateway steps, building the records, the store writer's COMMIT, appending and indexing
the records) and by function (own samples); the A-B difference is what recording costs.  Idle
samples (event loop ``select``, an idle writer or pool thread) are dropped.

``--control`` runs part 1 as an A/A control: A starts with recording off too, so the two
servers differ only in their order (A is started, set up and warmed up first) and in chance.
The "cost" it reports is then this machine's noise and any order bias of the procedure: how
far from 0 a cost measured the same way lands when recording costs nothing.  No goal is
judged; the soak (it needs recording) is skipped.

A CPU figure from a pass that ran fewer than 50 clock ticks (``/proc`` counts 10 ms ticks)
judges no goal: the goal prints as inconclusive (``--quick`` runs often are).  This is a
benchmark script, not a test; ``tests/unit/test_bench_trail_load.py`` smoke-tests it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3  # type: ignore[import-untyped]
from botocore.auth import S3SigV4Auth, SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from trailgate.gateway.context import Principal
from trailgate.scenario import cloudtrail_bucket_policy
from trailgate.services.cloudtrail.events import CURSOR as INDEX_CURSOR
from trailgate.services.cloudtrail.events import index_rows
from trailgate.store.event_templates import expand, is_compact, parse_pieces
from trailgate.store.sqlite import SqliteStore
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import build_records, user_identity

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/benchlib.py
from benchlib import ServerProcess, bootstrap_interval, free_port

REGION = "us-east-1"
ROOT_KEY = "AKIABENCHTRAILROOT01"
ROOT_SECRET = "trailgate/bench/trail/root/secret/key/01"
ACCOUNT = "111111111111"
CALLER = "bench-caller"
TARGET = "bench-target-{:d}"
TARGETS = 8
ROLE_NAME = "bench-role"
TRAIL_NAME = "bench-trail"
NO_RECORDING_ENV = "TRAILGATE_BENCH_NO_RECORDING"

ON = "recording-on"
OFF = "recording-off"
SERVERS: tuple[str, ...] = (ON, OFF)

GOAL_COST = 0.15  # recording may cost less than 15% of throughput
MIN_TICKS = 50  # CPU ticks a pass must accumulate for its CPU figure to judge a goal
CLK_TCK = os.sysconf("SC_CLK_TCK")
RESIGN_SECONDS = 300.0  # soak requests are re-signed this often (SigV4 allows 15 min skew)
LAG_INTERVALS = 3  # delivery lag limit, in delivery intervals
GROWTH_LIMIT = 1.5  # last third's mean backlog / first third's
RSS_GROWTH = 0.05  # memory flat: last quarter's median RSS within 5% (>= 8 MiB) of the first
RSS_SLACK = 8 * 1024 * 1024
MIN_SOAK_INTERVALS = 6  # a shorter soak judges nothing
WARMUP_SECONDS = 30.0  # memory samples before this are the server warming up
MIN_SETTLED_SAMPLES = 8  # fewer samples after the warm-up judge no memory verdict

POPULATE_BATCH = 250_000
HISTORY_DAYS = 30
HISTORY_USERS = 100
PAGE = 50  # LookupEvents' default MaxResults
LOOKUP_WARMUP = 20

FORM = "application/x-www-form-urlencoded; charset=utf-8"
USER_AGENT = "trailgate-bench/trail_load"
CT_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


# --------------------------------------------------------------------------------------------
# Machine, versions
# --------------------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{name: _version(name) for name in (
            "trailgate", "uvicorn", "h11", "httptools", "uvloop", "botocore", "boto3", "py-spy"
        )},
    }


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def math_nan() -> float:
    return float("nan")


def _ms(value: float) -> float | None:
    """Rounded milliseconds; None (JSON null) when there is no figure."""
    return None if value != value else round(value, 3)


# --------------------------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    key: str
    secret: str


ROOT = Keys(ROOT_KEY, ROOT_SECRET)


@dataclass
class Server(ServerProcess):
    name: str
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "trailgate.db"

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process so far (all threads), and of its
        running child processes (it starts none today; a helper process doing part of its
        work would otherwise hide that work's cost)."""
        user = system = 0.0
        for pid in [self.process.pid, *child_pids(self.process.pid)]:
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue  # a child that ended meanwhile
            fields = text[text.rindex(")") + 2 :].split()
            user += int(fields[11]) / CLK_TCK
            system += int(fields[12]) / CLK_TCK
        return user, system

    def memory(self) -> dict[str, int]:
        """From ``/proc/PID/status``: VmRSS, VmHWM (peak RSS) and the RSS by kind (RssAnon:
        heap and stacks, RssFile: mapped files, RssShmem: e.g. SQLite's WAL index) in bytes,
        and the number of Threads."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[name] = int(value.split()[0]) * 1024
            elif name == "Threads":
                out[name] = int(value)
        return out

    def client(self, service: str, keys: Keys = ROOT) -> Any:
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=keys.key, aws_secret_access_key=keys.secret,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")



def child_pids(pid: int) -> list[int]:
    """The running child processes of ``pid`` (Linux: ``/proc/PID/task/TID/children``)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def start_server(
    name: str, data_dir: Path, workdir: Path, delivery_interval: float, *, recording: bool,
    wrapper: Sequence[str] = (), env_extra: dict[str, str] | None = None,
    healthy_within: float = 120.0,
) -> Server:
    """``trailgate serve`` on a free port (its log ``workdir/NAME.log``), once healthy.
    ``wrapper``: a command the server runs under (e.g. valgrind's); ``env_extra``: more
    environment for it."""
    port = free_port()
    env = dict(os.environ)
    env.pop(NO_RECORDING_ENV, None)
    env.update(
        TRAILGATE_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILGATE_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        TRAILGATE_MANAGEMENT_ACCOUNT_ID=ACCOUNT,
        **(env_extra or {}),
    )
    if not recording:
        env[NO_RECORDING_ENV] = "1"
    log_path = workdir / f"{name}.log"
    argv = [*wrapper, sys.executable, "-m", "trailgate.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--data-dir", str(data_dir),
            "--delivery-interval", str(delivery_interval)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the script only
        )
    server = Server(name, process, port, data_dir, log_path)
    deadline = time.monotonic() + healthy_within
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            with urllib.request.urlopen(server.endpoint + "/_trailgate/health", timeout=2) as r:
                if json.loads(r.read())["status"] == "ok":
                    return server
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not become healthy:\n{server.log_tail()}")


@contextlib.contextmanager
def running(servers: dict[str, Server]) -> Iterator[dict[str, Server]]:
    """Stops every server put in ``servers`` (by its pid) on the way out."""
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


# --------------------------------------------------------------------------------------------
# Pre-signed raw requests
# --------------------------------------------------------------------------------------------

Req = tuple[bytes, bool]  # raw HTTP/1.1 request, whether it is a HEAD (no body in the answer)


def _serialise(method: str, target: str, port: int, headers: dict[str, str], body: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "host"]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def query_request(port: int, service: str, keys: Keys, params: dict[str, str]) -> Req:
    """An IAM/STS query-protocol POST signed with botocore's SigV4Auth."""
    body = urlencode(params)
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=body,
                         headers={"Content-Type": FORM, "User-Agent": USER_AGENT})
    SigV4Auth(Credentials(keys.key, keys.secret), service, REGION).add_auth(request)
    return _serialise("POST", "/", port, dict(request.headers.items()), body), False


def iam_request(port: int, keys: Keys, action: str, **params: str) -> Req:
    return query_request(port, "iam", keys, {"Action": action, "Version": "2010-05-08", **params})


def sts_request(port: int, keys: Keys, action: str) -> Req:
    return query_request(port, "sts", keys, {"Action": action, "Version": "2011-06-15"})


def bucket_location_request(port: int, keys: Keys, bucket: str) -> Req:
    """S3 GetBucketLocation: a bucket-level management event (HeadBucket would be a data
    event, which AWS, and trailgate, record only for a trail that selects it)."""
    request = AWSRequest(method="GET", url=f"http://127.0.0.1:{port}/{bucket}?location",
                         headers={"User-Agent": USER_AGENT})
    S3SigV4Auth(Credentials(keys.key, keys.secret), "s3", REGION).add_auth(request)
    return _serialise("GET", f"/{bucket}?location", port, dict(request.headers.items()),
                      ""), False


def cloudtrail_request(port: int, keys: Keys, operation: str, payload: dict[str, Any]) -> Req:
    """A CloudTrail JSON-protocol POST signed with botocore's SigV4Auth."""
    body = json.dumps(payload)
    request = AWSRequest(
        method="POST", url=f"http://127.0.0.1:{port}/", data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "User-Agent": USER_AGENT,
                 "X-Amz-Target": CT_TARGET + operation},
    )
    SigV4Auth(Credentials(keys.key, keys.secret), "cloudtrail", REGION).add_auth(request)
    return _serialise("POST", "/", port, dict(request.headers.items()), body), False


# --------------------------------------------------------------------------------------------
# Replay client
# --------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; one request in flight."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""
        self.opened = 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1
        return sock

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None
        self.buf = b""

    def roundtrip(self, req: Req) -> tuple[int, bytes]:
        """Send one request; the answer's status and body (read by its Content-Length)."""
        data, head = req
        sock = self.sock
        if sock is None:
            sock = self.sock = self._open()
        sock.sendall(data)
        buf = self.buf
        recv = sock.recv
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
        head_text = buf[:end].lower()
        status = int(head_text[9:12])
        length = 0
        if not head:
            at = head_text.find(b"\r\ncontent-length:")
            if at < 0:
                raise ConnectionError("answer without Content-Length: " + head_text[:200].decode())
            stop = head_text.find(b"\r\n", at + 2)
            length = int(head_text[at + 17 : stop if stop >= 0 else len(head_text)])
        total = end + 4 + length
        while len(buf) < total:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection mid-body")
            buf += chunk
        body = buf[end + 4 : total]
        self.buf = buf[total:]
        if b"\r\nconnection: close" in head_text:
            self.close()
        return status, body


@dataclass
class PassResult:
    requests: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    server_sys_s: float = 0.0
    client_cpu_s: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    connections_opened: int = 0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return math_nan()
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    def summary(self) -> dict[str, Any]:
        n = max(1, self.requests)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "error_samples": self.error_samples,
            "connections_opened": self.connections_opened,
            "wall_s": round(self.wall_s, 3),
            "rps": round(self.rps, 1),
            "p50_ms": _ms(self.percentile_ms(0.50)),
            "p99_ms": _ms(self.percentile_ms(0.99)),
            "server_cpu_ms_per_req": round(1000 * self.server_cpu_s / n, 4),
            "server_sys_ms_per_req": round(1000 * self.server_sys_s / n, 4),
            "server_cpu_ticks": round(self.server_cpu_s * CLK_TCK),
            "client_cpu_ms_per_req": round(1000 * self.client_cpu_s / n, 4),
        }


class Load:
    """Closed-loop load on one server: connection ``i`` sends ``batches[i]`` round and round,
    one request in flight, until :meth:`run`'s time is up (or ``max_requests`` per connection).
    :meth:`swap` replaces the batches while it runs (re-signed requests)."""

    def __init__(self, server: Server, batches: list[list[Req]], *,
                 keep_latencies: bool = True, max_requests: int = 10**8) -> None:
        self.server = server
        self.batches = batches
        self.keep_latencies = keep_latencies
        self.max_requests = max_requests
        self.counts = [0] * len(batches)  # requests done so far, per connection (live)
        self._stop = False

    def swap(self, batches: list[list[Req]]) -> None:
        if len(batches) != len(self.batches):
            raise ValueError("swap needs one batch per connection")
        self.batches = batches

    def completed(self) -> int:
        return sum(self.counts)

    def run(
        self, seconds: float, on_tick: Callable[[float], None] | None = None,
        tick: float = 1.0,
    ) -> PassResult:
        server = self.server
        server.check_alive()
        n_conn = len(self.batches)
        results = [PassResult() for _ in range(n_conn)]
        conns = [Connection(server.port) for _ in range(n_conn)]
        barrier = threading.Barrier(n_conn + 1)
        failures: list[BaseException] = []
        self._stop = False
        self.counts = [0] * n_conn

        def work(i: int) -> None:
            conn, out = conns[i], results[i]
            lat, statuses = out.latencies_ns, out.statuses
            keep = self.keep_latencies
            clock = time.perf_counter_ns
            counts = self.counts
            n = 0
            barrier.wait()
            try:
                while not self._stop and n < self.max_requests:
                    batch = self.batches[i]
                    req = batch[n % len(batch)]
                    t0 = clock()
                    status, body = conn.roundtrip(req)
                    if keep:
                        lat.append(clock() - t0)
                    statuses[status] += 1
                    if not 200 <= status < 300 and len(out.error_samples) < 3:
                        out.error_samples.append(
                            f"HTTP {status}: {body[:300].decode(errors='replace')}"
                        )
                    n += 1
                    counts[i] = n
            except BaseException as exc:  # reported by the caller
                failures.append(exc)
            finally:
                out.requests = n
                out.connections_opened = conn.opened
                conn.close()

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n_conn)]
        for thread in threads:
            thread.start()
        cpu0, self0 = server.cpu(), self_cpu_seconds()
        start = time.monotonic()
        barrier.wait()
        deadline = start + seconds
        next_tick = start + tick
        while True:
            now = time.monotonic()
            if now >= deadline or failures:
                break
            time.sleep(max(0.0, min(next_tick, deadline) - now))
            if on_tick is not None and time.monotonic() >= next_tick:
                on_tick(time.monotonic() - start)
                next_tick += tick
        self._stop = True
        for thread in threads:
            thread.join(120)
        wall = time.monotonic() - start
        cpu1, self1 = server.cpu(), self_cpu_seconds()
        if failures:
            server.check_alive()
            raise RuntimeError(f"{server.name}: client failure: {failures[0]!r}") from failures[0]
        merged = PassResult(
            wall_s=wall, server_cpu_s=sum(cpu1) - sum(cpu0), server_sys_s=cpu1[1] - cpu0[1],
            client_cpu_s=self1 - self0,
        )
        for out in results:
            merged.requests += out.requests
            merged.latencies_ns += out.latencies_ns
            merged.statuses.update(out.statuses)
            merged.error_samples += out.error_samples
            merged.connections_opened += out.connections_opened
        return merged


def expect_ok(result: PassResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"{result.errors} error responses during {what}: "
                           + "; ".join(result.error_samples))


# --------------------------------------------------------------------------------------------
# The server's store, read-only from outside
# --------------------------------------------------------------------------------------------


class StoreProbe:
    """Reads a running server's SQLite file through a read-only connection (WAL mode: it never
    blocks the server's writer).  Only counts and the trail's status are read."""

    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10,
                                    isolation_level=None, check_same_thread=False)

    def close(self) -> None:
        self.conn.close()

    def max_seq(self) -> int:
        row = self.conn.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def trail_status(self) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT data FROM entities WHERE account = '__cloudtrail__'"
            " AND kind = 'cloudtrail.status' LIMIT 1"
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def delivery_sample(self) -> tuple[int, int, float]:
        """(newest seq, the trail's cursor, age in seconds of the oldest undelivered event) on
        one snapshot."""
        self.conn.execute("BEGIN")
        try:
            newest = self.max_seq()
            status = self.trail_status()
            cursor = int(status["Cursor"]) if status is not None else newest
            row = self.conn.execute(
                "SELECT event_time FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (cursor,)
            ).fetchone()
        finally:
            self.conn.execute("ROLLBACK")
        lag = 0.0
        if row is not None:
            oldest = datetime.strptime(str(row[0]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        return newest, cursor, lag

    def _pieces(self, tid: int) -> tuple[bytes, ...] | None:
        """A compact record's template (``trailgate.store.event_templates``)."""
        row = self.conn.execute("SELECT pieces FROM event_templates WHERE id = ?",
                                (tid,)).fetchone()
        return None if row is None else parse_pieces(row[0])

    def management_events(self, after: int, upto: int, account: str) -> int:
        """Management events of ``account`` with ``after < seq <= upto`` (what a default
        trail in the home region delivers: IAM/STS events are global, in us-east-1)."""
        count = 0
        rows = self.conn.execute(
            "SELECT data FROM events WHERE seq > ? AND seq <= ? AND account = ?",
            (after, upto, account),
        )
        for (data,) in rows:
            record = json.loads(expand(data, self._pieces) if is_compact(data) else data)
            if record.get("managementEvent") and record.get("awsRegion") == REGION:
                count += 1
        return count


# --------------------------------------------------------------------------------------------
# Setup and workload
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    server: Server
    caller: Keys
    bucket: str


def setup_world(server: Server) -> World:
    """Through boto3 as root: a data bucket, a role, the target users, the caller with its
    key and an inline policy allowing exactly the workload's calls."""
    iam = server.client("iam")
    s3 = server.client("s3")
    bucket = f"bench-data-{ACCOUNT}"
    s3.create_bucket(Bucket=bucket)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    for i in range(TARGETS):
        iam.create_user(UserName=TARGET.format(i))
    iam.create_user(UserName=CALLER)
    iam.put_user_policy(UserName=CALLER, PolicyName="bench-workload", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListRoles", "iam:TagUser",
                                           "iam:UntagUser"], "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetBucketLocation",
             "Resource": f"arn:aws:s3:::{bucket}"},
        ],
    }))
    key = iam.create_access_key(UserName=CALLER)["AccessKey"]
    caller = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    identity = server.client("sts", caller).get_caller_identity()
    if not identity["Arn"].endswith(f":user/{CALLER}"):
        raise RuntimeError(f"{server.name}: GetCallerIdentity answered {identity['Arn']}")
    return World(server, caller, bucket)


def workload_cycle(world: World, connection: int) -> list[Req]:
    """One connection's 20-request cycle: 6 GetCallerIdentity, 4 GetUser, 4 ListRoles,
    4 GetBucketLocation, TagUser and UntagUser of its own target user (10% writes)."""
    port, keys = world.server.port, world.caller
    target = TARGET.format(connection % TARGETS)
    gci = sts_request(port, keys, "GetCallerIdentity")
    get_user = iam_request(port, keys, "GetUser", UserName=target)
    list_roles = iam_request(port, keys, "ListRoles")
    head = bucket_location_request(port, keys, world.bucket)
    tag = iam_request(port, keys, "TagUser", UserName=target,
                      **{"Tags.member.1.Key": "bench", "Tags.member.1.Value": "trail-load"})
    untag = iam_request(port, keys, "UntagUser", UserName=target,
                        **{"TagKeys.member.1": "bench"})
    half = [gci, get_user, head, list_roles, gci, get_user, head, list_roles, gci]
    return [*half, tag, *half, untag]


def workload(world: World, connections: int) -> list[list[Req]]:
    return [workload_cycle(world, c) for c in range(connections)]


# --------------------------------------------------------------------------------------------
# 1. Recording on vs off
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    rounds: int
    pass_seconds: float
    warmup_seconds: float
    connections: int
    delivery_interval: float
    soak_seconds: float
    sample_seconds: float
    events: int
    lookup_calls: int
    profile: bool
    control: bool = False
    """A/A control: both servers record nothing (see the module docstring)."""


def median_of(samples: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(s[key] for s in samples))


def sync_events(world: World) -> None:
    """One LookupEvents call as root: the server moves its event journal (the records of calls
    that changed nothing, kept about a second before they enter the store) into the store
    first, so the store then holds every call answered before it."""
    conn = Connection(world.server.port)
    try:
        req = cloudtrail_request(world.server.port, ROOT, "LookupEvents", {"MaxResults": 1})
        status, body = conn.roundtrip(req)
        if status != 200:
            raise RuntimeError(f"LookupEvents: HTTP {status}: {body[:300]!r}")
    finally:
        conn.close()


def measured_pass(world: World, settings: Settings, probe: StoreProbe,
                  seconds: float) -> dict[str, Any]:
    sync_events(world)
    before = probe.max_seq()
    result = Load(world.server, workload(world, settings.connections)).run(seconds)
    summary = result.summary()
    sync_events(world)
    # The first sync call's own record is stored by the second one: not the pass's.
    summary["events_recorded"] = max(0, probe.max_seq() - before - 1)
    summary["events_per_req"] = round(summary["events_recorded"] / max(1, result.requests), 3)
    return summary


def run_ab(worlds: dict[str, World], probes: dict[str, StoreProbe], settings: Settings,
           log: Callable[[str], None]) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVERS}
    for name in SERVERS:  # warm-up (not measured): caches, first-call costs
        warm = Load(worlds[name].server, workload(worlds[name], settings.connections))
        expect_ok(warm.run(settings.warmup_seconds), f"{name} warm-up")
    for r in range(settings.rounds):
        for name in SERVERS if r % 2 == 0 else SERVERS[::-1]:
            s = measured_pass(worlds[name], settings, probes[name], settings.pass_seconds)
            samples[name].append(s)
            log(f"  round {r + 1}/{settings.rounds} {name:<14} {s['requests']:>7} calls "
                f"{s['rps']:>7.0f}/s  p50 {s['p50_ms']:6.2f} ms  p99 {s['p99_ms']:6.2f} ms  "
                f"cpu {s['server_cpu_ms_per_req']:.3f} ms/call  events/call "
                f"{s['events_per_req']:.2f}" + (f"  ERRORS {s['errors']}" if s["errors"] else ""))
    return samples


def _cost_of(pairs: Sequence[tuple[float, float]]) -> float:
    """The cost of recording from (calls/s on, calls/s off) pairs: 1 - the ratio of medians."""
    return 1.0 - statistics.median(a for a, _ in pairs) / statistics.median(b for _, b in pairs)


def ab_summary(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    medians = {
        name: {k: median_of(runs, k) for k in (
            "rps", "p50_ms", "p99_ms", "server_cpu_ms_per_req", "server_sys_ms_per_req",
            "client_cpu_ms_per_req", "events_per_req")}
        for name, runs in samples.items()
    }
    on, off = medians[ON], medians[OFF]
    cost = 1.0 - on["rps"] / off["rps"] if off["rps"] else math_nan()
    cpu_x = (on["server_cpu_ms_per_req"] / off["server_cpu_ms_per_req"]
             if off["server_cpu_ms_per_req"] else math_nan())
    cpu_cost = 1.0 - 1.0 / cpu_x if cpu_x == cpu_x and cpu_x else math_nan()
    per_round = [1.0 - a["rps"] / b["rps"] if b["rps"] else math_nan()
                 for a, b in zip(samples[ON], samples[OFF], strict=True)]
    pairs = [(a["rps"], b["rps"]) for a, b in zip(samples[ON], samples[OFF], strict=True)]
    interval = bootstrap_interval(pairs, _cost_of) if all(b for _, b in pairs) else (
        math_nan(), math_nan())
    ticks = min(s["server_cpu_ticks"] for runs in samples.values() for s in runs)
    return {
        "median": medians,
        "throughput_cost": cost,
        "throughput_cost_per_round": per_round,
        "throughput_cost_interval_90": list(interval),
        "cpu_per_call_x": cpu_x,
        "cpu_cost": cpu_cost,
        "min_cpu_ticks": ticks,
        "errors": sum(s["errors"] for runs in samples.values() for s in runs),
    }


# --------------------------------------------------------------------------------------------
# 2. Soak: a logging trail, delivery every interval, backlog and RSS sampled
# --------------------------------------------------------------------------------------------


def create_trail(server: Server) -> tuple[str, str]:
    """A log bucket with CloudTrail's bucket policy, a trail, logging started (as root)."""
    s3 = server.client("s3")
    ct = server.client("cloudtrail")
    bucket = f"bench-logs-{ACCOUNT}"
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        cloudtrail_bucket_policy(bucket, {ACCOUNT: arn})))
    made = ct.create_trail(Name=TRAIL_NAME, S3BucketName=bucket)
    if made["TrailARN"] != arn:
        raise RuntimeError(f"CreateTrail answered {made['TrailARN']}")
    ct.start_logging(Name=TRAIL_NAME)
    return bucket, arn


def count_objects(server: Server, bucket: str) -> int:
    s3 = server.client("s3")
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        total += int(page.get("KeyCount", 0))
    return total


def _third_means(values: Sequence[float]) -> tuple[float, float]:
    n = max(1, len(values) // 3)
    return statistics.fmean(values[:n]), statistics.fmean(values[-n:])


def _quarter_medians(values: Sequence[float]) -> tuple[float, float]:
    n = max(1, len(values) // 4)
    return statistics.median(values[:n]), statistics.median(values[-n:])


def run_soak(world: World, settings: Settings, log: Callable[[str], None]) -> dict[str, Any]:
    server = world.server
    interval = settings.delivery_interval
    bucket, arn = create_trail(server)
    probe = StoreProbe(server.db_path)
    try:
        samples: list[dict[str, Any]] = []
        first = probe.trail_status()
        assert first is not None and first.get("IsLogging"), "the trail is not logging"
        cursor0 = int(first["Cursor"])
        delivered0 = int(first.get("DeliveredEvents", 0))
        load = Load(server, workload(world, settings.connections), keep_latencies=False)
        signed_at = [time.monotonic()]
        last_report = [0.0]

        def sample(elapsed: float) -> None:
            newest, cursor, lag = probe.delivery_sample()
            mem = server.memory()
            samples.append({"t": round(elapsed, 2), "calls": load.completed(), "seq": newest,
                            "cursor": cursor, "backlog": newest - cursor, "lag_s": round(lag, 1),
                            "rss": mem.get("VmRSS", 0), "rss_anon": mem.get("RssAnon", 0),
                            "rss_file": mem.get("RssFile", 0),
                            "rss_shmem": mem.get("RssShmem", 0), "threads": mem.get("Threads", 0)})
            if time.monotonic() - signed_at[0] >= RESIGN_SECONDS:
                load.swap(workload(world, settings.connections))
                signed_at[0] = time.monotonic()
            if elapsed - last_report[0] >= 30 or not last_report[0]:
                last_report[0] = max(elapsed, 1e-9)
                log(f"  soak {elapsed:6.0f} s: {load.completed():>8} calls, backlog "
                    f"{newest - cursor:>6} events, lag {lag:4.0f} s, RSS "
                    f"{mem.get('VmRSS', 0) / 2**20:6.1f} MiB")

        result = load.run(settings.soak_seconds, sample, settings.sample_seconds)
        # Drain: the load stopped; delivery must catch up within a few intervals.
        drain_start = time.monotonic()
        drain_limit = LAG_INTERVALS * interval + 10.0
        drained_after: float | None = None
        while time.monotonic() - drain_start < drain_limit:
            newest, cursor, _ = probe.delivery_sample()
            if cursor >= newest:
                drained_after = time.monotonic() - drain_start
                break
            time.sleep(0.25)
        newest, cursor, _ = probe.delivery_sample()
        status = probe.trail_status() or {}
        recorded_mgmt = probe.management_events(cursor0, cursor, ACCOUNT)
        memory_end = server.memory()
    finally:
        probe.close()
    delivered = int(status.get("DeliveredEvents", 0)) - delivered0
    objects = count_objects(server, bucket)
    backlogs = [float(s["backlog"]) for s in samples] or [0.0]
    lags = [float(s["lag_s"]) for s in samples] or [0.0]
    rss = [float(s["rss"]) for s in samples] or [0.0]
    first_third, last_third = _third_means(backlogs)
    # Memory is judged after the warm-up (page caches, delivery buffers fill in the first
    # half minute); the quarters are those of the samples after it.
    t0 = samples[0]["t"] if samples else 0.0
    settled = [float(s["rss"]) for s in samples if s["t"] - t0 >= WARMUP_SECONDS]
    rss_first, rss_last = _quarter_medians(settled or rss)
    rate = result.rps
    judged = settings.soak_seconds >= MIN_SOAK_INTERVALS * interval
    not_growing = last_third <= GROWTH_LIMIT * first_third + rate * 1.0
    lag_ok = max(lags) <= LAG_INTERVALS * interval
    keeps_up = drained_after is not None and not_growing and lag_ok
    rss_flat = rss_last - rss_first <= max(RSS_SLACK, RSS_GROWTH * rss_first)
    minutes = max(1e-9, (samples[-1]["t"] - samples[0]["t"]) / 60) if len(samples) > 1 else 1.0
    return {
        "trail": arn,
        "seconds": settings.soak_seconds,
        "delivery_interval_s": interval,
        "sample_seconds": settings.sample_seconds,
        "pass": result.summary(),
        "samples": samples,
        "backlog": {"start": backlogs[0], "end": backlogs[-1], "max": max(backlogs),
                    "mean_first_third": round(first_third, 1),
                    "mean_last_third": round(last_third, 1)},
        "lag_s": {"max": max(lags), "end": lags[-1], "limit": LAG_INTERVALS * interval},
        "drained_after_s": None if drained_after is None else round(drained_after, 2),
        "drain_limit_s": drain_limit,
        "rss": {"start": rss[0], "end": rss[-1], "max": max(rss),
                "median_first_quarter": rss_first, "median_last_quarter": rss_last,
                "warmup_s": WARMUP_SECONDS,
                # between the first and the last quarter's medians (after the warm-up)
                "growth_mib_per_min": round((rss_last - rss_first) / 2**20 / (0.75 * minutes), 2),
                "hwm": memory_end.get("VmHWM", 0),
                "by_kind": {kind: {"start": samples[0][key], "end": samples[-1][key]}
                            for kind, key in (("anon", "rss_anon"), ("file", "rss_file"),
                                              ("shmem", "rss_shmem"))} if samples else {},
                "threads": {"start": samples[0]["threads"], "end": samples[-1]["threads"],
                            "max": max(x["threads"] for x in samples)} if samples else {}},
        "delivery": {"delivered_events": delivered, "recorded_management_events": recorded_mgmt,
                     "delivered_files": int(status.get("DeliveredFiles", 0)),
                     "objects_in_bucket": objects,
                     "latest_delivery_error": status.get("LatestDeliveryError"),
                     "exactly_once": delivered == recorded_mgmt},
        "verdict": {
            "delivery_keeps_up": keeps_up if judged else None,
            "memory_flat": rss_flat if judged and len(settled) >= MIN_SETTLED_SAMPLES else None,
            "drained": drained_after is not None,
            "lag_within_limit": lag_ok,
            "backlog_not_growing": not_growing,
        },
    }


# --------------------------------------------------------------------------------------------
# 3. LookupEvents over N stored events
# --------------------------------------------------------------------------------------------

HISTORY_OPS: tuple[tuple[str, str, bool], ...] = (  # service, operation, names a target user
    ("sts", "GetCallerIdentity", False),
    ("iam", "GetUser", True),
    ("iam", "ListRoles", False),
    ("iam", "ListUsers", False),
    ("iam", "GetRole", False),
    ("iam", "ListAttachedUserPolicies", True),
    ("iam", "TagUser", True),
    ("iam", "UntagUser", True),
)
HISTORY_USER = "history-user-{:03d}"


def _templates(now: datetime) -> list[list[dict[str, Any]]]:
    """templates[op][target]: a record from ``build_records`` per operation and target user."""
    who = Principal(kind="user", arn=f"arn:aws:iam::{ACCOUNT}:user/{HISTORY_USER.format(0)}",
                    account=ACCOUNT, user_id="AIDAHISTORY000000000",
                    access_key_id="AKIAHISTORY000000000", unique_id="AIDAHISTORY000000000")
    out: list[list[dict[str, Any]]] = []
    for service, operation, named in HISTORY_OPS:
        per_target: list[dict[str, Any]] = []
        for t in range(TARGETS if named else 1):
            params: dict[str, Any] = {"UserName": TARGET.format(t)} if named else {}
            if operation == "GetRole":
                params = {"RoleName": ROLE_NAME}
            elif operation == "TagUser":
                params["Tags"] = [{"Key": "bench", "Value": "history"}]
            elif operation == "UntagUser":
                params["TagKeys"] = ["bench"]
            info = CallInfo(
                request_id=str(uuid.uuid4()), event_time=now, service=service,
                operation=operation, region=REGION, source_ip="127.0.0.1",
                user_agent=USER_AGENT, principal=who, params=params, result={},
                host="127.0.0.1",
            )
            ((account, record),) = build_records(info)
            if account != ACCOUNT:
                raise RuntimeError(f"template recorded for {account}")
            per_target.append(record)
        out.append(per_target)
    return out


def _identities() -> list[dict[str, Any]]:
    out = []
    for u in range(HISTORY_USERS):
        name = HISTORY_USER.format(u)
        out.append(user_identity(Principal(
            kind="user", arn=f"arn:aws:iam::{ACCOUNT}:user/{name}", account=ACCOUNT,
            user_id=f"AIDAHISTORY{u:09d}", access_key_id=f"AKIAHISTORY{u:09d}",
            unique_id=f"AIDAHISTORY{u:09d}",
        )))
    return out


Row = tuple[str, str, str, str, int, int]  # an index row (IndexRow's fields)
CHECK_EVERY = 1000  # every so many events, the rows are checked against index_rows itself


def _template_rows(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """``index_rows`` of a template record, without the per-event parts (time, seq)."""
    return [(r.account, r.region, r.attr, r.value) for r in index_rows(0, ACCOUNT, record)]


def populate(data_dir: Path, events: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Write ``events`` management events into the (stopped) server's data dir with the store
    API, oldest first, spread over the last HISTORY_DAYS days.

    Per batch, one ``write_sync``: each record (a template with a new eventID, requestID and
    eventTime) is appended with ``tx.append_event``; its index rows are the
    template's ``index_rows`` with the event's own EventId, time and seq, checked against
    ``index_rows`` of the record itself every CHECK_EVERY events; the batch's rows go in
    sorted by key, in one ``tx.event_index_add``."""
    now = datetime.now(UTC).replace(microsecond=0)
    newest = now - timedelta(minutes=5)
    oldest = newest - timedelta(days=HISTORY_DAYS)
    span = (newest - oldest).total_seconds()
    templates = _templates(now)
    identities = _identities()
    # (op, target, user) -> the index rows of that template called by that user
    row_cache: dict[tuple[int, int, int], list[tuple[str, str, str, str]]] = {}
    rng = random.Random(20261128)
    start = time.perf_counter()
    base_epoch = oldest.timestamp()
    checked = 0
    with SqliteStore.open(data_dir / "trailgate.db") as store:
        done = 0
        while done < events:
            n = min(POPULATE_BATCH, events - done)
            plan = [(rng.randrange(len(templates)), rng.randrange(TARGETS),
                     rng.randrange(HISTORY_USERS)) for _ in range(n)]

            def write(tx: Any, first: int = done, plan: list[tuple[int, int, int]] = plan) -> int:
                # Rows grouped by key (event_index_add groups them anyway; this order keeps
                # its sorts cheap): events come in (time, seq) order, so each (account,
                # region, attr, value) group is already sorted.
                groups: dict[tuple[str, str, str, str], list[Row]] = {}
                by_id: list[Row] = []
                verified = 0
                for offset, (op, target, user) in enumerate(plan):
                    i = first + offset
                    variants = templates[op]
                    target %= len(variants)
                    record = dict(variants[target])
                    record["userIdentity"] = identities[user]
                    event_id = str(uuid.uuid4())
                    record["eventID"] = event_id
                    record["requestID"] = str(uuid.uuid4())
                    when = int(base_epoch + span * i / max(1, events - 1))
                    record["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
                    seq = tx.append_event(ACCOUNT, record["eventTime"], event_id, record)
                    key = (op, target, user)
                    shape = row_cache.get(key)
                    if shape is None:
                        shape = row_cache[key] = _template_rows(record)
                    mine: list[Row] = []
                    for group in shape:
                        a, r, attr, value = group
                        if attr == "EventId":
                            row = (a, r, attr, event_id, when, seq)
                            by_id.append(row)
                        else:
                            row = (a, r, attr, value, when, seq)
                            found = groups.get(group)
                            if found is None:
                                groups[group] = [row]
                            else:
                                found.append(row)
                        mine.append(row)
                    if i % CHECK_EVERY == 0:
                        real = sorted(tuple(row) for row in index_rows(seq, ACCOUNT, record))
                        if sorted(mine) != real:
                            raise RuntimeError(f"index rows differ from index_rows: {record}")
                        verified += 1
                by_id.sort()
                ordered = [groups[k] for k in sorted(groups)]
                ordered.append(by_id)
                tx.event_index_add(list(itertools.chain.from_iterable(ordered)))
                tx.meta_set(INDEX_CURSOR, str(seq))  # indexed here, not by the server later
                return verified

            checked += store.write_sync(write)
            done += n
            if done % POPULATE_BATCH == 0 or done == events:
                log(f"  populated {done:>9} events ({time.perf_counter() - start:5.1f} s)")
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in data_dir.glob("trailgate.db*"))
    return {"events": events, "seconds": round(seconds, 1),
            "events_per_s": round(events / seconds) if seconds else 0,
            "rows_checked_against_index_rows": checked,
            "db_bytes": size, "oldest": oldest.isoformat(), "newest": newest.isoformat(),
            "middle": (oldest + (newest - oldest) / 2).isoformat()}


def _lookup_body(body: bytes, what: str, full: bool = True) -> dict[str, Any]:
    """The parsed answer; a full page (or, with ``full`` False, at least one event) or an
    error."""
    data = json.loads(body)
    events = data.get("Events") or []
    if len(events) != PAGE and (full or not events):
        raise RuntimeError(f"LookupEvents {what}: {len(events)} events, expected {PAGE}")
    return dict(data)


def time_lookups(server: Server, calls: int, events: int, middle: datetime,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Sequential LookupEvents on one keep-alive connection, per kind: warm-up, then timed."""
    port = server.port
    kinds: dict[str, dict[str, Any]] = {
        "no attributes": {},
        "EventName=GetUser": {"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "GetUser"}]},
        f"Username={HISTORY_USER.format(42)}": {"LookupAttributes": [
            {"AttributeKey": "Username", "AttributeValue": HISTORY_USER.format(42)}]},
    }
    out: dict[str, Any] = {}
    conn = Connection(port)
    try:
        for name, payload in kinds.items():
            req = cloudtrail_request(port, ROOT, "LookupEvents", payload)
            result = PassResult()
            cpu0 = server.cpu()
            for n in range(LOOKUP_WARMUP + calls):
                t0 = time.perf_counter_ns()
                status, body = conn.roundtrip(req)
                elapsed = time.perf_counter_ns() - t0
                if status != 200:
                    raise RuntimeError(f"LookupEvents {name}: HTTP {status}: {body[:300]!r}")
                if n == LOOKUP_WARMUP - 1:
                    cpu0 = server.cpu()
                if n >= LOOKUP_WARMUP:
                    result.latencies_ns.append(elapsed)
                    result.statuses[status] += 1
                    if n == LOOKUP_WARMUP:
                        # each user made ~1% of the events: full pages from 100 pages' worth
                        _lookup_body(body, name, full=events >= HISTORY_USERS * PAGE)
            cpu1 = server.cpu()
            result.requests = calls
            result.server_cpu_s = sum(cpu1) - sum(cpu0)
            out[name] = _lookup_summary(result)
        # Deep: a NextToken chain of the unfiltered listing, from the middle of the history.
        name = "NextToken pages (from mid-history)"
        base = {"EndTime": middle.timestamp()}
        token: str | None = None
        result = PassResult()
        cpu_s = 0.0
        pages = 0
        for n in range(LOOKUP_WARMUP + calls):
            payload = dict(base, NextToken=token) if token else dict(base)
            req = cloudtrail_request(port, ROOT, "LookupEvents", payload)
            c0 = server.cpu()
            t0 = time.perf_counter_ns()
            status, body = conn.roundtrip(req)
            elapsed = time.perf_counter_ns() - t0
            c1 = server.cpu()
            if status != 200:
                raise RuntimeError(f"LookupEvents {name}: HTTP {status}: {body[:300]!r}")
            data = json.loads(body)
            token = data.get("NextToken")
            if token:
                _lookup_body(body, name)  # every page but the last is full
            if n >= LOOKUP_WARMUP:
                result.latencies_ns.append(elapsed)
                result.statuses[status] += 1
                cpu_s += sum(c1) - sum(c0)
            pages = n + 1
            if not token:
                break  # the history ran out (a small --events)
        result.requests = len(result.latencies_ns)
        result.server_cpu_s = cpu_s
        out[name] = _lookup_summary(result)
        out[name]["pages_deep"] = pages
        out[name]["events_newer_than_start"] = events // 2
    finally:
        conn.close()
    for name, s in out.items():
        log(f"  LookupEvents {name:<36} p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms  "
            f"cpu {s['server_cpu_ms_per_call']:.2f} ms/call")
    return out


def _lookup_summary(result: PassResult) -> dict[str, Any]:
    return {
        "calls": result.requests,
        "p50_ms": _ms(result.percentile_ms(0.50)),
        "p99_ms": _ms(result.percentile_ms(0.99)),
        "max_ms": _ms(max(result.latencies_ns) / 1e6 if result.latencies_ns else math_nan()),
        "server_cpu_ms_per_call": round(1000 * result.server_cpu_s / max(1, result.requests), 3),
    }


def run_lookups(source_dir: Path, workdir: Path, settings: Settings,
                log: Callable[[str], None]) -> dict[str, Any]:
    data_dir = workdir / "lookup-data"
    shutil.copytree(source_dir, data_dir)
    log(f"  writing {settings.events} events into a copy of {source_dir.name} ...")
    populated = populate(data_dir, settings.events, log)
    log(f"  {settings.events} events in {populated['seconds']} s "
        f"({populated['events_per_s']}/s), database {populated['db_bytes'] / 2**20:.0f} MiB")
    servers: dict[str, Server] = {}
    with running(servers):
        servers["lookup"] = start_server("lookup", data_dir, workdir, 300.0, recording=True)
        server = servers["lookup"]
        answered = server.client("cloudtrail").lookup_events(MaxResults=PAGE)
        if len(answered["Events"]) != PAGE or "NextToken" not in answered:
            raise RuntimeError("LookupEvents through boto3 did not answer a full page")
        middle = datetime.fromisoformat(populated["middle"])
        kinds = time_lookups(server, settings.lookup_calls, settings.events, middle, log)
        memory = server.memory()
    return {"populate": populated, "kinds": kinds, "server_rss": memory.get("VmRSS", 0)}


# --------------------------------------------------------------------------------------------
# Profile (optional, py-spy)
# --------------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(.*) \((.*?):\d+\)$")
IDLE_LEAVES = frozenset({
    "EpollSelector.select", "select",  # the event loop waiting for I/O
    "Runner.run",  # uvloop's loop (C code under Runner.run): almost all of it epoll waits
    "SqliteStore._writer_main",  # the store's writer waiting for work
    "_worker",  # an idle thread-pool worker
    "Condition.wait", "Event.wait",
})
PROFILE_RATE = 200  # py-spy samples per second
PROFILE_TOP = 15
GATEWAY_STEPS: tuple[str, ...] = (
    "identify", "parse", "authenticate", "authorize", "dispatch", "serialize", "record"
)


def find_py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def _category(thread: str, names: list[str]) -> str:
    present = set(names)
    if "SqliteStore._writer_main" in present:
        if "SqliteStore._finish" in present:
            return "store writer: COMMIT (fsync)"
        if "store_journaled" in present:
            return "store writer: the journal moved into the store (store_journaled)"
        if "index_pending" in present:
            return "store writer: event history index batches (index_pending)"
        if "append_records" in present:
            return "store writer: recording: append the records (append_event)"
        if "SqliteStore._run_one" in present:
            return "store writer: the calls' own writes"
        return "store writer: other"
    if "DeliveryWorker.run_once" in present:
        return "delivery worker"
    if "EventJournal._syncer" in present:
        return "journal syncer (flush to disk)"
    if "Gateway.handle" in present:
        if "EventJournal.append" in present:
            return "gateway: record: copy into the journal"
        if "records_for" in present:
            return "gateway: build the records (record step / write call)"
        for step in GATEWAY_STEPS:
            if f"Gateway.{step}" in present:
                return f"gateway: {step}"
        return "gateway: other"
    if "_send" in present:
        return "HTTP: response (serialise + send)"
    if "TrailgateApp.__call__" in present:
        return "app: request body and headers"
    return "HTTP: uvicorn/h11/asyncio (parse, event loop)"


def analyse_profile(raw: str) -> dict[str, Any]:
    """py-spy ``--format raw`` text (``thread;frame;... count`` lines) -> busy samples by
    category and by function (own samples); idle samples are counted apart."""
    categories: Counter[str] = Counter()
    own: Counter[str] = Counter()
    active = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        parsed: list[tuple[str, str]] = []
        for frame in frames[1:]:
            match = _FRAME.match(frame)
            parsed.append((match.group(1), match.group(2)) if match else (frame, ""))
        if not parsed or parsed[-1][0] in IDLE_LEAVES:
            idle += count
            continue
        active += count
        categories[_category(frames[0], [name for name, _ in parsed])] += count
        leaf, path = parsed[-1]
        own[f"{leaf} ({path})"] += count
    return {"samples_active": active, "samples_idle": idle, "categories": dict(categories),
            "own": dict(own)}


def per_call_diff(on: dict[str, Any], off: dict[str, Any], key: str,
                  top: int | None) -> list[tuple[str, float, float, float]]:
    """(name, ms/call on, ms/call off, difference), largest difference first."""
    names = set(on[key]) | set(off[key])
    rows = [(n, on[key].get(n, 0.0), off[key].get(n, 0.0)) for n in names]
    ranked = sorted(((n, a, b, a - b) for n, a, b in rows), key=lambda r: -r[3])
    return ranked[:top] if top else ranked


def profile_servers(worlds: dict[str, World], settings: Settings, workdir: Path,
                    log: Callable[[str], None]) -> dict[str, Any]:
    """Per mode (``wall``: every busy thread; ``gil``: the thread holding the GIL, i.e.
    Python's CPU) and server: one load pass under py-spy; samples turned into milliseconds
    per call (count / rate / calls) by category and by function."""
    py_spy = find_py_spy()
    if py_spy is None:
        raise SystemExit("trail_load: --profile needs py-spy (pip install py-spy)")
    seconds = max(4.0, settings.pass_seconds)
    out: dict[str, Any] = {"tool": "py-spy", "version": _version("py-spy"),
                           "rate_hz": PROFILE_RATE, "seconds": seconds}
    for mode in ("wall", "gil"):
        out[mode] = {}
        for name in SERVERS:
            world = worlds[name]
            path = workdir / f"profile-{mode}-{name}.txt"
            argv = [py_spy, "record", "--format", "raw", "--threads", "-r", str(PROFILE_RATE),
                    "-d", str(int(seconds) + 2), "-o", str(path),
                    "-p", str(world.server.process.pid)]
            if mode == "gil":
                argv.append("--gil")
            spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(1.0)  # attach
                result = Load(world.server, workload(world, settings.connections)).run(seconds)
                spy.wait(timeout=seconds + 60)
            finally:
                if spy.poll() is None:
                    spy.kill()
                    spy.wait()
            expect_ok(result, f"{name} profile pass")
            analysis = analyse_profile(path.read_text() if path.exists() else "")
            # py-spy ran 1 s before and ~2 s after the pass: idle then, those samples dropped
            scale = 1000.0 / PROFILE_RATE / max(1, result.requests)
            analysis["categories"] = {k: v * scale for k, v in analysis["categories"].items()}
            analysis["own"] = {k: v * scale for k, v in analysis["own"].items()}
            analysis["pass"] = result.summary()
            out[mode][name] = analysis
            log(f"  profiled {name} ({mode}): {analysis['samples_active']} busy samples, "
                f"{result.requests} calls")
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


def _verdict(met: bool | None, why: str) -> str:
    if met is None:
        return f"inconclusive ({why})"
    return "met" if met else "MISSED"


def build_report(settings: Settings, vers: dict[str, str], load_start: str,
                 samples: dict[str, list[dict[str, Any]]], soak: dict[str, Any] | None,
                 lookups: dict[str, Any] | None, profile: dict[str, Any] | None) -> dict[str, Any]:
    ab = ab_summary(samples)
    errors = ab["errors"] + (soak["pass"]["errors"] if soak else 0)
    cost_ok = ab["throughput_cost"] < GOAL_COST
    goals: dict[str, bool | None]
    if settings.control:  # A/A: no recording anywhere, so no goal about it
        goals = {"control_both_store_none": all(ab["median"][name]["events_per_req"] == 0
                                                for name in SERVERS)}
    else:
        goals = {
            f"recording_costs_lt_{round(GOAL_COST * 100)}pct_throughput":
                cost_ok if ab["min_cpu_ticks"] >= MIN_TICKS else None,
            "recording_on_stores_events": ab["median"][ON]["events_per_req"] >= 0.99,
            "recording_off_stores_none": ab["median"][OFF]["events_per_req"] == 0,
        }
    if soak is not None:
        goals["delivery_keeps_up"] = soak["verdict"]["delivery_keeps_up"]
        goals["delivery_exactly_once"] = (soak["delivery"]["exactly_once"]
                                          and soak["delivery"]["latest_delivery_error"] is None)
        goals["server_memory_flat"] = soak["verdict"]["memory_flat"]
    goals["no_error_responses"] = errors == 0
    return {
        "versions": vers,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_start": load_start, "load_average_end": load_average()},
        "settings": settings.__dict__,
        "ab": ab,
        "ab_samples": samples,
        "soak": soak,
        "lookups": lookups,
        "profile": profile,
        "errors": errors,
        "goals": goals,
    }


def print_profile(profile: dict[str, Any]) -> None:
    print()
    print(f"  profile ({profile['tool']} {profile['version']}, {profile['rate_hz']} Hz, one "
          f"{profile['seconds']:g} s pass per server and mode): milliseconds per call")
    print("  wall: samples of every busy thread (fsync and GIL waits included; threads add up);")
    print("  gil: samples of the thread holding the GIL (Python's CPU; SQLite's C code runs")
    print("  without the GIL and is missing there).")
    for mode in ("wall", "gil"):
        on, off = profile[mode][ON], profile[mode][OFF]
        print(f"  [{mode}] {ON}: {on['pass']['requests']} calls, {on['pass']['rps']:.0f}/s; "
              f"{OFF}: {off['pass']['requests']} calls, {off['pass']['rps']:.0f}/s")
        print(f"    {'category':<58}{'on':>7}{'off':>7}{'on-off':>8}")
        for cat, a, b, d in per_call_diff(on, off, "categories", None):
            print(f"    {cat:<58}{a:>7.3f}{b:>7.3f}{d:>+8.3f}")
        total_on, total_off = sum(on["categories"].values()), sum(off["categories"].values())
        print(f"    {'total':<58}{total_on:>7.3f}{total_off:>7.3f}{total_on - total_off:>+8.3f}")
        print("    top functions by own samples, largest on-off difference first:")
        for fn, a, b, d in per_call_diff(on, off, "own", PROFILE_TOP):
            print(f"    {fn[:58]:<58}{a:>7.3f}{b:>7.3f}{d:>+8.3f}")


def print_report(report: dict[str, Any]) -> None:
    v, s, m = report["versions"], report["settings"], report["machine"]
    print("Trail load: CloudTrail recording on vs off, delivery under load, LookupEvents")
    print(f"  python {v['python']} (sqlite {v['sqlite']}), {m['cpus']} CPUs, {m['platform']}")
    print(f"  load average at start {m['load_average_start']}, at end {m['load_average_end']}")
    print(f"  trailgate {v['trailgate']} on uvicorn {v['uvicorn']} (h11 {v['h11']}, httptools "
          f"{v['httptools']}, uvloop {v['uvloop']}); client botocore {v['botocore']} "
          "pre-signed raw HTTP/1.1")
    print("  workload: 30% GetCallerIdentity, 20% GetUser, 20% ListRoles, 20% GetBucketLocation, "
          "5% TagUser, 5% UntagUser")
    print(f"  {s['connections']} keep-alive connections, one call in flight each; "
          f"{s['rounds']} rounds of {s['pass_seconds']:g} s passes, A B, B A, ..., medians")
    if s.get("control"):
        print(f"  A/A CONTROL: {ON} records nothing either; every 'cost' below is this "
              "machine's noise and the order's bias, not recording's")
    print()
    ab = report["ab"]
    print(f"  {'server':<16}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/call':>13}"
          f"{'(sys)':>8}{'events/call':>13}")
    for name in SERVERS:
        med = ab["median"][name]
        print(f"  {name:<16}{med['rps']:>9.0f}{med['p50_ms']:>9.2f}{med['p99_ms']:>9.2f}"
              f"{med['server_cpu_ms_per_req']:>13.3f}{med['server_sys_ms_per_req']:>8.3f}"
              f"{med['events_per_req']:>13.2f}")
    rounds = ", ".join(f"{100 * c:.1f}%" for c in ab["throughput_cost_per_round"])
    print(f"  cost of recording: {100 * ab['throughput_cost']:.1f}% of throughput (goal < "
          f"{100 * GOAL_COST:.0f}%; per round: {rounds})")
    low, high = ab["throughput_cost_interval_90"]
    shown = "below the goal" if high < GOAL_COST else "not all below the goal"
    print(f"  90% bootstrap interval of that cost over the rounds: {100 * low:.1f}% to "
          f"{100 * high:.1f}% ({shown})")
    print(f"  from CPU per call ({ab['cpu_per_call_x']:.2f}x): {100 * ab['cpu_cost']:.1f}% of "
          "throughput when CPU-bound (the steadier figure on a shared machine)")
    soak = report["soak"]
    if soak:
        p, b, lag, r, d = (soak["pass"], soak["backlog"], soak["lag_s"], soak["rss"],
                           soak["delivery"])
        print()
        print(f"  soak: {soak['seconds']:g} s with trail logging, delivery every "
              f"{soak['delivery_interval_s']:g} s, sampled every {soak['sample_seconds']:g} s "
              f"({len(soak['samples'])} samples)")
        print(f"    {p['requests']} calls, {p['rps']:.0f} calls/s, CPU "
              f"{p['server_cpu_ms_per_req']:.3f} ms/call")
        print(f"    backlog (events not yet delivered): start {b['start']:.0f}, end "
              f"{b['end']:.0f}, max {b['max']:.0f}; mean first third {b['mean_first_third']:.0f}"
              f", last third {b['mean_last_third']:.0f}")
        drained = ("never" if soak["drained_after_s"] is None
                   else f"{soak['drained_after_s']:.1f} s")
        print(f"    delivery lag (oldest undelivered event): max {lag['max']:.0f} s (limit "
              f"{lag['limit']:g} s), end {lag['end']:.0f} s; drained to 0 after the load in "
              f"{drained} (limit {soak['drain_limit_s']:g} s)")
        print(f"    delivered {d['delivered_events']} events = {d['recorded_management_events']} "
              f"management events recorded: {'yes' if d['exactly_once'] else 'NO'}; "
              f"{d['delivered_files']} files, {d['objects_in_bucket']} objects in the bucket, "
              f"last error {d['latest_delivery_error']}")
        print(f"    server RSS MiB: start {_mib(r['start'])}, end {_mib(r['end'])}, max "
              f"{_mib(r['max'])} (after a {r['warmup_s']:g} s warm-up, median first quarter "
              f"{_mib(r['median_first_quarter'])}, last "
              f"{_mib(r['median_last_quarter'])}: {r['growth_mib_per_min']:+.2f} MiB/min; "
              f"peak VmHWM {_mib(r['hwm'])})")
        if r["by_kind"]:
            kinds = ", ".join(f"{kind} {_mib(v['start'])} -> {_mib(v['end'])}"
                              for kind, v in r["by_kind"].items())
            t = r["threads"]
            print(f"    RSS by kind MiB, start -> end: {kinds}; threads {t['start']} -> "
                  f"{t['end']} (max {t['max']})")
        short = f"soak < {MIN_SOAK_INTERVALS} delivery intervals"
        print(f"    verdict: delivery keeps up: "
              f"{_verdict(soak['verdict']['delivery_keeps_up'], short)}; memory flat: "
              f"{_verdict(soak['verdict']['memory_flat'], short)}")
    lookups = report["lookups"]
    if lookups:
        pop = lookups["populate"]
        print()
        print(f"  LookupEvents over {pop['events']:,} stored events (written in "
              f"{pop['seconds']:g} s, {pop['events_per_s']:,}/s; database "
              f"{pop['db_bytes'] / 2**20:.0f} MiB), sequential, one connection, "
              f"{report['settings']['lookup_calls']} timed calls per kind, 50 per page")
        print(f"  {'query':<40}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU ms/call':>13}")
        for name, k in lookups["kinds"].items():
            print(f"  {name:<40}{k['p50_ms']:>9.2f}{k['p99_ms']:>9.2f}{k['max_ms']:>9.2f}"
                  f"{k['server_cpu_ms_per_call']:>13.2f}")
    profile = report["profile"]
    if profile:
        print_profile(profile)
    print()
    print("  goals:")
    for goal, met in report["goals"].items():
        print(f"    {goal:<44} {_verdict(met, 'a pass ran < 50 CPU ticks or the soak was short')}")
    if report["errors"]:
        print()
        print(f"!!! {report['errors']} ERROR RESPONSES: the figures above measured failures !!!")
        for name, runs in report["ab_samples"].items():
            for run in runs:
                for sample in run["error_samples"]:
                    print(f"!!! {name}: {sample}")
        if soak:
            for sample in soak["pass"]["error_samples"]:
                print(f"!!! soak: {sample}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true",
                        help="small numbers: 2 rounds of 2 s, 12 s soak (delivery every 2 s), "
                             "20,000 events, 50 lookups per kind")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--soak", type=float, help="soak seconds (default 120; 0 skips)")
    parser.add_argument("--events", type=int, help="stored events for LookupEvents "
                                                   "(default 1,000,000; 0 skips)")
    parser.add_argument("--rounds", type=int, help="A/B rounds (default 5)")
    parser.add_argument("--pass-seconds", type=float, help="seconds per A/B pass (default 6)")
    parser.add_argument("--connections", type=int, default=32,
                        help="client connections, one thread each (default 32)")
    parser.add_argument("--delivery-interval", type=float,
                        help="server's --delivery-interval (default 5)")
    parser.add_argument("--sample-seconds", type=float, help="soak sampling period (default 2)")
    parser.add_argument("--lookup-calls", type=int, help="timed LookupEvents per kind "
                                                         "(default 300)")
    parser.add_argument("--profile", action="store_true",
                        help="add a py-spy profiled pass on each A/B server")
    parser.add_argument("--control", action="store_true",
                        help="A/A control: both servers with recording off (no soak); the "
                             "cost shown is the machine's noise and the order's bias")
    args = parser.parse_args(argv)
    for name in ("rounds", "lookup_calls"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("pass_seconds", "delivery_interval", "sample_seconds"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0")
    if args.connections < 1:
        parser.error("--connections must be >= 1")
    if (args.soak is not None and args.soak < 0) or (args.events is not None and args.events < 0):
        parser.error("--soak and --events must be >= 0")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else (small if quick else full)

    return Settings(
        rounds=pick(args.rounds, 5, 2),
        pass_seconds=pick(args.pass_seconds, 6.0, 2.0),
        warmup_seconds=1.0 if quick else 3.0,
        connections=args.connections,
        delivery_interval=pick(args.delivery_interval, 5.0, 2.0),
        soak_seconds=pick(args.soak, 120.0, 12.0),
        sample_seconds=pick(args.sample_seconds, 2.0, 1.0),
        events=pick(args.events, 1_000_000, 20_000),
        lookup_calls=pick(args.lookup_calls, 300, 50),
        profile=args.profile,
        control=args.control,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    vers = versions()
    load_start = load_average()

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    soak: dict[str, Any] | None = None
    lookups: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="trailgate-trail-load-") as tmp:
        workdir = Path(tmp)
        servers: dict[str, Server] = {}
        with running(servers):
            for name in SERVERS:
                servers[name] = start_server(name, workdir / f"{name}-data", workdir,
                                             settings.delivery_interval,
                                             recording=name == ON and not settings.control)
            log(f"trail_load: {ON} on :{servers[ON].port}, {OFF} on :{servers[OFF].port}")
            worlds = {name: setup_world(servers[name]) for name in SERVERS}
            probes = {name: StoreProbe(servers[name].db_path) for name in SERVERS}
            try:
                samples = run_ab(worlds, probes, settings, log)
            finally:
                for probe in probes.values():
                    probe.close()
            if settings.profile:
                profile = profile_servers(worlds, settings, workdir, log)
            servers[OFF].stop()
            if settings.soak_seconds > 0 and not settings.control:
                log(f"  soak: {settings.soak_seconds:g} s on {ON} with a logging trail ...")
                soak = run_soak(worlds[ON], settings, log)
        if settings.events > 0:
            lookups = run_lookups(servers[OFF].data_dir, workdir, settings, log)
        report = build_report(settings, vers, load_start, samples, soak, lookups, profile)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print()
        print_report(report)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
