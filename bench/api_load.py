"""Benchmark: trailgate's API under load against moto's server, on STS GetCallerIdentity and
AssumeRole, plus trailgate's access-key lookup with 10 and 10,000 users.

Usage::

    .venv/bin/python bench/api_load.py [--quick] [--json] [--rounds N] [--requests N]
                                       [--connections N] [--index-users N] [--max-seconds S]
                                       [--profile] [--no-install]

A default run takes about 4-5 minutes on 2 cores; most of it is creating the 10,000 users' keys
(each CreateAccessKey reads every key of the account, so creating N keys costs O(N^2)).
``--index-users 1000`` or ``--quick`` is much shorter.

What runs (everything on 127.0.0.1, each server stopped by its own pid at the end):

- Installs ``moto[server]`` into this interpreter's environment when it is missing (unless
  ``--no-install``), then starts ``trailgate serve`` (fresh data dir) and moto's server
  (``python -m moto.server -H 127.0.0.1 -p PORT``, default settings) as subprocesses.
- The same setup through boto3 on both: root creates 10 users with an access key each, one of
  them (the caller) with an inline policy allowing ``sts:AssumeRole`` on a role that trusts the
  account.  One boto3 GetCallerIdentity and AssumeRole as the caller check the setup.
- Requests are PRE-SIGNED with botocore's ``SigV4Auth`` (a batch per connection, unique
  ``RoleSessionName`` per AssumeRole request) and serialised to raw HTTP/1.1 bytes.  They are
  replayed by ``--connections`` client threads, each owning ONE keep-alive socket and sending one
  request at a time; a response is read by its ``Content-Length`` only, so the client costs a
  few tens of microseconds per request.  Every response status is checked: any non-2xx answer
  is counted, shown, and makes the run fail (exit status 1).  moto's werkzeug server closes
  the connection after every response (``Connection: close``: werkzeug disables keep-alive), so
  against moto each request opens a new connection; the connect is inside that request's
  latency, and the report shows new connections per request.
- Per pass: requests/s (requests / wall time), latency p50/p99 (client send to last body byte),
  and server CPU per request: the server process's utime+stime from ``/proc/PID/stat`` (all
  threads) over the pass, divided by the requests.  CPU per request is the steadier figure on a
  noisy machine: it does not count the time the server waits for the CPU or for fsync.
- GetCallerIdentity first, for ``--rounds`` rounds alternating trailgate, moto, trailgate,
  moto; then AssumeRole the same way.  The order matters: moto looks a caller's key up by
  scanning every session AssumeRole ever created, so its GetCallerIdentity is measured before
  any AssumeRole load.  Medians over rounds are reported, and their ratios.
- Access keys (trailgate only): a second trailgate instance gets the same setup and then
  users up to ``--index-users`` (default 10,000), each with an access key (raw signed CreateUser
  then CreateAccessKey over 8 connections; the time this takes is printed).  Then rounds
  alternate the 10-user instance and the large one, each round on each:
  *warm*: GetCallerIdentity signed round-robin by 10 users' keys (resolved keys are cached);
  *cold*: on one connection, cycles of one IAM write (``TagUser``, which clears the key cache,
  as every IAM write does) and GetCallerIdentity signed by 10 distinct keys spread over all
  users (one of 10 fixed sets per cycle, so that each key's last-use write, at most once a
  minute, stays as rare as with 10 users), so each of those 10 reads its key from the store;
  ``TagUser`` alone is measured too and taken out of the cycle's figure;
  *ListAccessKeys* of one user: the per-user key listing (CreateAccessKey does the same to
  enforce the two-keys quota).

``--profile`` (needs ``py-spy``, ``pip install py-spy``; not a project dependency) adds, after
the timed passes, one pass per operation on trailgate with py-spy sampling every thread of the
server, and prints where the samples fall (HTTP stack, each gateway step, the store's writer
thread) and the top functions by own samples.  Idle samples (the event loop's ``select``, the
writer thread or a thread-pool worker waiting for work) are dropped; the rest is wall time the
server was busy, which includes the writer's fsync waits and a thread waiting for the GIL:
shares, not CPU figures.

Goal (the issue): trailgate's CPU per request <= 0.25x moto's on both operations; and the
access-key costs do not grow with the number of users and keys (here: each large-instance figure
within 1.25x of the 10-user one, a bound wide enough for the measurement's noise).  A CPU figure
from a pass that ran fewer than 50 clock ticks (``/proc`` counts CPU in 10 ms ticks) judges no
goal: the goal prints as inconclusive; ``--quick`` runs often are.

Versions of everything that ran are printed.  This is a benchmark script, not a test;
``tests/unit/test_bench_api_load.py`` smoke-tests it with tiny counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/benchlib.py
from benchlib import ServerProcess, ensure_moto, free_port

REGION = "us-east-1"
ROOT_KEY = "AKIABENCHROOTKEY0001"
ROOT_SECRET = "trailgate/bench/root/secret/access/key/01"
MANAGEMENT = "111111111111"
MOTO_ACCOUNT = "123456789012"  # moto's default account
MOTO_KEY = "AKIAMOTOROOTKEY00001"  # moto does not check keys; any value acts as its root
MOTO_SECRET = "moto/does/not/verify/signatures/00000000"
BASE_USERS = 10
INDEX_SAMPLE = 10  # keys used by the index passes, at each size
USER_NAME = "bench-user-{:05d}"
CALLER = USER_NAME.format(0)
ROLE_NAME = "bench-role"
BUMP_USER = "bench-bump"

GCI = "GetCallerIdentity"
ASSUME = "AssumeRole"
OPS: tuple[str, ...] = (GCI, ASSUME)
TRAILGATE = "trailgate"
MOTO = "moto"
SERVERS: tuple[str, ...] = (TRAILGATE, MOTO)
TRAILGATE_LARGE = "trailgate-large"  # the index passes' second instance

GOAL_CPU_RATIO = 0.25
INDEX_GROWTH_LIMIT = 1.25
MIN_TICKS = 50  # CPU ticks a pass must accumulate for its CPU figure to judge a goal
CLK_TCK = os.sysconf("SC_CLK_TCK")
FORM = "application/x-www-form-urlencoded; charset=utf-8"


# --------------------------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int, tid: int | None = None) -> tuple[float, float]:
    """(utime, stime) in seconds of a process, all its threads (dead ones included), or of
    one of its threads."""
    path = Path(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    text = path.read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """Live thread id -> its user + system CPU seconds."""
    out: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            out[int(task.name)] = sum(proc_cpu_seconds(pid, int(task.name)))
    return out


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages (other work on the machine skews the figures)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class ServerProc(ServerProcess):
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    account: str
    root: Keys

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process so far."""
        return proc_cpu_seconds(self.process.pid)

    def client(self, service: str, keys: Keys) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=keys.key,
            aws_secret_access_key=keys.secret,
            config=Config(retries={"max_attempts": 1}),
        )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")



def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> tuple[
    subprocess.Popen[bytes], Path
]:
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the script only
        )
    return process, log_path


def _wait_http(server: ServerProc, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            with urllib.request.urlopen(server.endpoint + path, timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # the server answered: it is up
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not come up:\n{server.log_tail()}")


def start_trailgate(workdir: Path, name: str = "trailgate") -> ServerProc:
    port = free_port()
    data_dir = workdir / f"{name}-data"
    env = dict(os.environ)
    env.update(
        TRAILGATE_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILGATE_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        TRAILGATE_MANAGEMENT_ACCOUNT_ID=MANAGEMENT,
    )
    argv = [sys.executable, "-m", "trailgate.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--data-dir", str(data_dir)]
    process, log_path = _spawn(name, argv, env, workdir)
    server = ServerProc(name, process, port, log_path, MANAGEMENT, Keys(ROOT_KEY, ROOT_SECRET))
    _wait_http(server, "/_trailgate/health")
    return server


def start_moto(workdir: Path) -> ServerProc:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process, log_path = _spawn(MOTO, argv, env, workdir)
    server = ServerProc(MOTO, process, port, log_path, MOTO_ACCOUNT, Keys(MOTO_KEY, MOTO_SECRET))
    _wait_http(server, "/moto-api/")
    return server




def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "trailgate": _version("trailgate"),
        "uvicorn": _version("uvicorn"),
        "h11": _version("h11"),
        "httptools": _version("httptools"),
        "uvloop": _version("uvloop"),
        "moto": _version("moto"),
        "werkzeug": _version("werkzeug"),
        "flask": _version("flask"),
        "botocore": _version("botocore"),
        "boto3": _version("boto3"),
    }


# --------------------------------------------------------------------------------------------
# Pre-signed raw requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    key: str
    secret: str


def presign(port: int, service: str, keys: Keys, params: dict[str, str]) -> bytes:
    """A query-protocol POST signed with botocore's SigV4Auth, as raw HTTP/1.1 bytes."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = urlencode(params)
    request = AWSRequest(
        method="POST", url=f"http://127.0.0.1:{port}/", data=body,
        headers={"Content-Type": FORM},
    )
    SigV4Auth(Credentials(keys.key, keys.secret), service, REGION).add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines += [f"Content-Length: {len(body)}", "", body]
    return "\r\n".join(lines).encode()


def gci_request(port: int, keys: Keys) -> bytes:
    return presign(port, "sts", keys, {"Action": GCI, "Version": "2011-06-15"})


def assume_request(port: int, keys: Keys, role_arn: str, session: str) -> bytes:
    params = {"Action": ASSUME, "Version": "2011-06-15", "RoleArn": role_arn,
              "RoleSessionName": session}
    return presign(port, "sts", keys, params)


def iam_request(port: int, keys: Keys, action: str, **params: str) -> bytes:
    return presign(port, "iam", keys, {"Action": action, "Version": "2010-05-08", **params})


# --------------------------------------------------------------------------------------------
# Replay client
# --------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; one request in flight."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = self._open()
        self.buf = b""
        self.reconnects = 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None

    def roundtrip(self, data: bytes) -> tuple[int, bytes]:
        """Send one request; the response's status and body.  When the server closed the
        connection after the previous response, connect again first (counted)."""
        sock = self.sock
        if sock is None:
            sock = self.sock = self._open()
            self.reconnects += 1
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
        head = buf[:end].lower()
        status = int(head[9:12])
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise ConnectionError("response without Content-Length: " + head[:200].decode())
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        while len(buf) < total:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection mid-body")
            buf += chunk
        body = buf[end + 4 : total]
        self.buf = buf[total:]
        if b"\r\nconnection: close" in head or head.startswith(b"http/1.0"):
            self.close()  # the next request opens a new connection
            self.buf = b""
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
    reconnects: int = 0
    bodies: list[bytes] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def rps(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000.0 * self.server_cpu_s / self.requests if self.requests else math_nan()

    @property
    def client_cpu_ms_per_request(self) -> float:
        return 1000.0 * self.client_cpu_s / self.requests if self.requests else math_nan()

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return math_nan()
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def math_nan() -> float:
    return float("nan")


def replay(
    server: ServerProc,
    batches: Sequence[Sequence[bytes]],
    total: int,
    max_seconds: float,
    *,
    keep_bodies: bool = False,
    sequence: bool = False,
) -> PassResult:
    """Replay ``total`` requests over ``len(batches)`` connections (connection i cycles through
    ``batches[i]``), stopping early after ``max_seconds``.  With ``sequence`` each connection
    sends its batch once, in order (``total`` is ignored)."""
    server.check_alive()
    n_conn = len(batches)
    quotas = [len(b) for b in batches] if sequence else [
        total // n_conn + (1 if i < total % n_conn else 0) for i in range(n_conn)
    ]
    conns = [Connection(server.port) for _ in range(n_conn)]
    results = [PassResult() for _ in range(n_conn)]
    barrier = threading.Barrier(n_conn + 1)
    failures: list[BaseException] = []
    deadline_box: list[float] = [0.0]

    def work(i: int) -> None:
        conn, batch, out, quota = conns[i], batches[i], results[i], quotas[i]
        lat = out.latencies_ns
        statuses = out.statuses
        size = len(batch)
        clock = time.perf_counter_ns
        barrier.wait()
        deadline = deadline_box[0]
        try:
            for n in range(quota):
                data = batch[n % size]
                t0 = clock()
                status, body = conn.roundtrip(data)
                t1 = clock()
                lat.append(t1 - t0)
                statuses[status] += 1
                if not 200 <= status < 300 and len(out.error_samples) < 3:
                    text = body[:400].decode(errors="replace")
                    out.error_samples.append(f"HTTP {status}: {text}")
                if keep_bodies:
                    out.bodies.append(body)
                if t1 > deadline:
                    break
        except BaseException as exc:  # reported by the caller
            failures.append(exc)
        finally:
            out.requests = len(lat)
            out.reconnects = conn.reconnects

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n_conn)]
    for thread in threads:
        thread.start()
    cpu0, self0 = server.cpu(), self_cpu_seconds()
    start = time.perf_counter_ns()
    deadline_box[0] = start + int(max_seconds * 1e9)
    barrier.wait()
    for thread in threads:
        thread.join(max_seconds + 60)
    wall = (time.perf_counter_ns() - start) / 1e9
    cpu1, self1 = server.cpu(), self_cpu_seconds()
    for conn in conns:
        conn.close()
    if failures:
        server.check_alive()
        raise RuntimeError(f"{server.name}: client failure: {failures[0]!r}") from failures[0]
    merged = PassResult(
        wall_s=wall,
        server_cpu_s=sum(cpu1) - sum(cpu0),
        server_sys_s=cpu1[1] - cpu0[1],
        client_cpu_s=self1 - self0,
    )
    for out in results:
        merged.requests += out.requests
        merged.latencies_ns += out.latencies_ns
        merged.statuses.update(out.statuses)
        merged.error_samples += out.error_samples
        merged.reconnects += out.reconnects
        merged.bodies += out.bodies
    return merged


# --------------------------------------------------------------------------------------------
# Setup (boto3, the same calls on both servers)
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    server: ServerProc
    role_arn: str
    caller: Keys
    users: list[Keys]  # users[i] is USER_NAME.format(i)


def setup_world(server: ServerProc) -> World:
    iam = server.client("iam", server.root)
    account = server.account
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                       "Action": "sts:AssumeRole"}],
    }
    role_arn = iam.create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    users: list[Keys] = []
    for i in range(BASE_USERS):
        name = USER_NAME.format(i)
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        users.append(Keys(key["AccessKeyId"], key["SecretAccessKey"]))
    iam.put_user_policy(
        UserName=CALLER, PolicyName="assume-bench-role",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
        }),
    )
    iam.create_user(UserName=BUMP_USER)
    world = World(server, role_arn, users[0], users)
    # The setup works as meant, through the SDK: the caller is who it should be.
    sts = server.client("sts", world.caller)
    identity = sts.get_caller_identity()
    if not identity["Arn"].endswith(f":user/{CALLER}"):
        raise RuntimeError(f"{server.name}: GetCallerIdentity answered {identity['Arn']}")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="setup-check")["Credentials"]
    if not creds["AccessKeyId"].startswith("ASIA"):
        raise RuntimeError(f"{server.name}: AssumeRole returned {creds['AccessKeyId']}")
    return world


def op_batches(world: World, op: str, connections: int, batch: int) -> list[list[bytes]]:
    port = world.server.port
    if op == GCI:
        return [[gci_request(port, world.caller)] * batch for _ in range(connections)]
    tag = f"{random.getrandbits(32):08x}"
    return [
        [assume_request(port, world.caller, world.role_arn, f"bench-{tag}-{c}-{i}")
         for i in range(batch)]
        for c in range(connections)
    ]


def expect_ok(server: ServerProc, result: PassResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(
            f"{server.name}: {result.errors} error responses during {what}: "
            + "; ".join(result.error_samples)
        )


_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_SECRET = re.compile(rb"<SecretAccessKey>([^<]+)</SecretAccessKey>")


def add_users(
    world: World, upto: int, connections: int, max_seconds: float
) -> dict[str, Any]:
    """Create users (each with one access key) until ``world.users`` has ``upto``.  Raw signed
    requests over keep-alive connections, CreateUser for all, then CreateAccessKey for all;
    every answer must be 2xx.  Returns the seconds it took and each phase's pass summary."""
    server = world.server
    start = time.perf_counter()
    names = [USER_NAME.format(i) for i in range(len(world.users), upto)]
    if not names:
        return {"added": 0, "seconds": 0.0}
    per = [names[c::connections] for c in range(connections)]
    creates = [[iam_request(server.port, server.root, "CreateUser", UserName=n) for n in group]
               for group in per if group]
    result = replay(server, creates, 0, max_seconds, sequence=True)
    expect_ok(server, result, "CreateUser")
    if result.requests != len(names):
        raise RuntimeError(f"CreateUser: {result.requests} of {len(names)} within {max_seconds}s")
    groups = [group for group in per if group]
    key_batches = [[iam_request(server.port, server.root, "CreateAccessKey", UserName=n)
                     for n in group] for group in groups]
    keys = replay(server, key_batches, 0, max_seconds, keep_bodies=True, sequence=True)
    expect_ok(server, keys, "CreateAccessKey")
    if keys.requests != len(names):
        raise RuntimeError(f"CreateAccessKey: {keys.requests} of {len(names)} in time")
    created: dict[str, Keys] = {}
    ordered = [name for group in groups for name in group]  # replay keeps connection order
    for name, body in zip(ordered, keys.bodies, strict=True):
        key_id, secret = _KEY_ID.search(body), _SECRET.search(body)
        if key_id is None or secret is None or f"<UserName>{name}<".encode() not in body:
            raise RuntimeError(f"CreateAccessKey answered {body[:300]!r}")
        created[name] = Keys(key_id.group(1).decode(), secret.group(1).decode())
    world.users += [created[n] for n in names]
    return {
        "added": len(names),
        "seconds": time.perf_counter() - start,
        "CreateUser": summary(result),
        "CreateAccessKey": summary(keys),
    }


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    rounds: int
    requests: int
    connections: int
    batch: int
    max_seconds: float
    index_users: int
    index_requests: int
    cold_cycles: int
    tag_requests: int
    list_requests: int
    list_seconds: float
    warmup: int


def summary(result: PassResult) -> dict[str, Any]:
    return {
        "requests": result.requests,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "error_samples": result.error_samples,
        "reconnects": result.reconnects,
        "new_connections_per_req": round(result.reconnects / max(1, result.requests), 3),
        "wall_s": round(result.wall_s, 4),
        "rps": round(result.rps, 1),
        "p50_ms": round(result.percentile_ms(0.50), 3),
        "p99_ms": round(result.percentile_ms(0.99), 3),
        "server_cpu_ms_per_req": round(result.cpu_ms_per_request, 4),
        "server_cpu_ticks": round(result.server_cpu_s * CLK_TCK),
        "server_sys_ms_per_req": round(1000 * result.server_sys_s / max(1, result.requests), 4),
        "client_cpu_ms_per_req": round(result.client_cpu_ms_per_request, 4),
    }


def median_of(samples: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(s[key] for s in samples))


def run_ab(
    worlds: dict[str, World], settings: Settings, log: Callable[[str], None]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """op -> server -> per-round summaries; per op, rounds alternate trailgate, moto."""
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for op in OPS:
        samples[op] = {name: [] for name in SERVERS}
        batches = {
            name: op_batches(worlds[name], op, settings.connections, settings.batch)
            for name in SERVERS
        }
        for name in SERVERS:  # warm-up (not measured): caches, first-call costs, JIT-less paths
            warm = replay(worlds[name].server, batches[name], settings.warmup, settings.max_seconds)
            expect_ok(worlds[name].server, warm, f"{op} warm-up")
        for r in range(settings.rounds):
            for name in SERVERS:
                result = replay(
                    worlds[name].server, batches[name], settings.requests, settings.max_seconds
                )
                s = summary(result)
                samples[op][name].append(s)
                log(f"  {op:<17} round {r + 1}/{settings.rounds} {name:<9} "
                    f"{s['requests']:>6} req {s['rps']:>8.0f} req/s  p50 {s['p50_ms']:.2f} ms  "
                    f"p99 {s['p99_ms']:.2f} ms  cpu {s['server_cpu_ms_per_req']:.3f} ms/req"
                    + (f"  ERRORS {s['errors']}" if s["errors"] else ""))
    return samples


def index_keys(world: World, offset: int) -> list[Keys]:
    """INDEX_SAMPLE keys spread evenly over all users (shifted by ``offset``)."""
    n = len(world.users)
    step = max(1, n // INDEX_SAMPLE)
    return [world.users[(offset + i * step) % n] for i in range(min(INDEX_SAMPLE, n))]


class IndexProbe:
    """The access-key passes on one trailgate instance (its users as they are now):

    - warm: GetCallerIdentity signed round-robin by INDEX_SAMPLE keys (resolved before: cached);
    - cold: one connection, cycles of TagUser (an IAM write, which clears the key cache) and
      INDEX_SAMPLE GetCallerIdentity signed by distinct keys, each read from the store;
    - tag_user: TagUser alone, to take it out of the cycle's figure;
    - list_access_keys: ListAccessKeys of one user (the per-user key listing that
      CreateAccessKey does too)."""

    KINDS: tuple[str, ...] = ("warm", "cold", "tag_user", "list_access_keys")

    def __init__(self, world: World, settings: Settings) -> None:
        self.world = world
        self.settings = settings
        server = world.server
        port = server.port
        self.warm = [[gci_request(port, k) for k in index_keys(world, 0)]
                     for _ in range(settings.connections)]
        self.bump = iam_request(port, server.root, "TagUser", UserName=BUMP_USER,
                                **{"Tags.member.1.Key": "bench", "Tags.member.1.Value": "bump"})
        self.listing = [[iam_request(port, server.root, "ListAccessKeys", UserName=CALLER)]
                        for _ in range(settings.connections)]
        self.rng = random.Random(len(world.users))
        # The cold cycles draw from 10 fixed sets of keys: still spread over all users (a
        # key's first use after an IAM write reads it from the store), but each key's
        # GetAccessKeyLastUsed write (at most once a minute per key) stays rare, as it is with
        # 10 users; fresh keys every cycle would measure those writes, not the lookup.
        self.cold_offsets = [self.rng.randrange(len(world.users)) for _ in range(10)]
        self.runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in self.KINDS}
        warm = replay(server, self.warm, settings.warmup, settings.max_seconds)
        expect_ok(server, warm, "index warm-up")

    def round(self) -> None:
        world, settings, server = self.world, self.settings, self.world.server
        passes: dict[str, PassResult] = {}
        passes["warm"] = replay(server, self.warm, settings.index_requests, settings.max_seconds)
        cycle: list[bytes] = []
        for _ in range(settings.cold_cycles):
            cycle.append(self.bump)
            cycle += [gci_request(server.port, k)
                      for k in index_keys(world, self.rng.choice(self.cold_offsets))]
        passes["cold"] = replay(server, [cycle], 0, settings.max_seconds, sequence=True)
        passes["tag_user"] = replay(server, [[self.bump]], settings.tag_requests,
                                    settings.max_seconds)
        passes["list_access_keys"] = replay(server, self.listing, settings.list_requests,
                                            settings.list_seconds)
        for kind, result in passes.items():
            expect_ok(server, result, f"index {kind} pass")
            self.runs[kind].append(summary(result))

    def result(self, log: Callable[[str], None]) -> dict[str, Any]:
        per_cycle = min(INDEX_SAMPLE, len(self.world.users))
        cycle_ms = median_of(self.runs["cold"], "server_cpu_ms_per_req")
        bump_ms = median_of(self.runs["tag_user"], "server_cpu_ms_per_req")
        # a cycle is 1 TagUser + per_cycle lookups; take out the TagUser measured alone
        lookup_ms = ((per_cycle + 1) * cycle_ms - bump_ms) / per_cycle
        out = {
            "users": len(self.world.users),
            "server": self.world.server.name,
            "warm_cpu_ms_per_req": median_of(self.runs["warm"], "server_cpu_ms_per_req"),
            "warm_rps": median_of(self.runs["warm"], "rps"),
            "cold_cycle_cpu_ms_per_req": cycle_ms,
            "tag_user_cpu_ms_per_req": bump_ms,
            "cold_lookup_cpu_ms_per_req": lookup_ms,
            "list_keys_cpu_ms_per_req": median_of(self.runs["list_access_keys"],
                                                  "server_cpu_ms_per_req"),
            "runs": self.runs,
        }
        log(f"  index {out['users']:>6} users: GetCallerIdentity warm "
            f"{out['warm_cpu_ms_per_req']:.3f} ms/req, cold cycle {cycle_ms:.3f} (lookup "
            f"{lookup_ms:.3f}, TagUser {bump_ms:.3f}); ListAccessKeys "
            f"{out['list_keys_cpu_ms_per_req']:.3f} ms/req")
        return out


def run_index(
    small: World, large: World | None, settings: Settings, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Index passes, rounds alternating the small and the large instance."""
    probes = [IndexProbe(small, settings)]
    if large is not None:
        probes.append(IndexProbe(large, settings))
    for r in range(settings.rounds):
        for probe in probes:
            probe.round()
        log(f"  index round {r + 1}/{settings.rounds} done")
    return [probe.result(log) for probe in probes]


# --------------------------------------------------------------------------------------------
# Profile (optional, py-spy)
# --------------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(.*) \((.*?):\d+\)$")
_THREAD = re.compile(r"^thread \((\w+)\): (.*)$")
IDLE_LEAVES = frozenset({
    "EpollSelector.select",  # the event loop waiting for I/O
    "SqliteStore._writer_main",  # the store's writer waiting for work (SimpleQueue.get)
    "_worker",  # an idle concurrent.futures worker thread
    "Condition.wait",
})
GATEWAY_STEPS: tuple[str, ...] = (
    "identify", "parse", "authenticate", "authorize", "dispatch", "serialize", "record"
)


def find_py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def _frame_name(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if match is None:
        return frame, ""
    path = match.group(2)
    return match.group(1), path


def _category(thread: str, names: list[str]) -> str:
    present = set(names)
    if "SqliteStore._writer_main" in present or thread.endswith(".db"):
        if "SqliteStore._finish" in present:
            return "store writer thread: COMMIT (incl. fsync wait)"
        if "SqliteStore._run_one" in present:
            return "store writer thread: write functions (dispatch of writes)"
        return "store writer thread: other"
    if "Gateway.handle" in present:
        for step in GATEWAY_STEPS:
            if f"Gateway.{step}" in present:
                return f"gateway: {step}"
        return "gateway: other"
    if "_send" in present:
        return "HTTP: response (uvicorn/h11 serialise + socket send)"
    if "TrailgateApp.__call__" in present:
        return "app: request body and headers"
    return "HTTP: uvicorn/h11/asyncio (request parsing, event loop)"


def analyse_profile(raw: str, top: int = 15) -> dict[str, Any]:
    """py-spy ``--format raw`` text (``frame;frame;... count`` lines) -> shares of non-idle
    samples by category and by function (own samples)."""
    categories: Counter[str] = Counter()
    own: Counter[str] = Counter()
    thread_names: dict[int, str] = {}
    active = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0]
        header = _THREAD.match(thread)
        if header is not None:
            with contextlib.suppress(ValueError):
                thread_names[int(header.group(1), 0)] = header.group(2)
        parsed = [_frame_name(f) for f in frames[1:]]
        if not parsed or parsed[-1][0] in IDLE_LEAVES:
            idle += count
            continue
        active += count
        names = [name for name, _ in parsed]
        categories[_category(thread, names)] += count
        leaf, path = parsed[-1]
        own[f"{leaf} ({path})"] += count

    def shares(counter: Counter[str], n: int | None) -> list[tuple[str, float]]:
        return [(k, round(100.0 * v / active, 1)) for k, v in counter.most_common(n)]

    return {
        "samples_active": active,
        "samples_idle": idle,
        "categories_pct": shares(categories, None) if active else [],
        "top_own_pct": shares(own, top) if active else [],
        "thread_names": thread_names,
    }


def profile_trailgate(
    world: World, settings: Settings, workdir: Path, seconds: float, log: Callable[[str], None]
) -> dict[str, Any]:
    py_spy = find_py_spy()
    if py_spy is None:
        raise SystemExit("api_load: --profile needs py-spy (pip install py-spy)")
    server = world.server
    out: dict[str, Any] = {"tool": "py-spy", "version": _version("py-spy")}
    pid = server.process.pid
    for op in OPS:
        batches = op_batches(world, op, settings.connections, settings.batch)
        # CPU per request of each server thread, in a pass of its own (py-spy perturbs)
        before = thread_cpu_seconds(pid)
        plain = replay(server, batches, settings.requests, settings.max_seconds)
        after = thread_cpu_seconds(pid)
        expect_ok(server, plain, f"{op} thread CPU pass")
        per_thread = {
            tid: 1000.0 * (after[tid] - before.get(tid, 0.0)) / max(1, plain.requests)
            for tid in after
        }
        path = workdir / f"profile-{op}.txt"
        spy = subprocess.Popen(
            [py_spy, "record", "--format", "raw", "--threads", "-r", "250",
             "-d", str(int(seconds) + 2), "-o", str(path), "-p", str(server.process.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)  # attach
            result = replay(server, batches, 10**7, seconds)
            spy.wait(timeout=seconds + 60)
        finally:
            if spy.poll() is None:
                spy.kill()
                spy.wait()
        expect_ok(server, result, f"{op} profile pass")
        analysis = analyse_profile(path.read_text() if path.exists() else "")
        analysis["pass"] = summary(result)
        names: dict[int, str] = analysis.pop("thread_names")
        analysis["thread_cpu_ms_per_req"] = sorted(
            ((names.get(tid, "main" if tid == pid else f"thread {tid}"), round(ms, 4))
             for tid, ms in per_thread.items() if ms > 0),
            key=lambda item: -item[1],
        )
        analysis["thread_cpu_pass"] = summary(plain)
        out[op] = analysis
        log(f"  profiled {op}: {analysis['samples_active']} busy samples over "
            f"{result.requests} requests")
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def build_report(
    settings: Settings,
    vers: dict[str, str],
    samples: dict[str, dict[str, list[dict[str, Any]]]],
    index: list[dict[str, Any]],
    creation: dict[str, Any] | None,
    profile: dict[str, Any] | None = None,
    load_start: str = "",
) -> dict[str, Any]:
    medians: dict[str, dict[str, dict[str, float]]] = {}
    ratios: dict[str, dict[str, float]] = {}
    errors = 0
    for op, per_server in samples.items():
        medians[op] = {}
        for name, runs in per_server.items():
            errors += sum(r["errors"] for r in runs)
            medians[op][name] = {
                k: median_of(runs, k)
                for k in ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_req",
                          "server_sys_ms_per_req", "client_cpu_ms_per_req",
                          "new_connections_per_req")
            }
        tg, mo = medians[op][TRAILGATE], medians[op][MOTO]
        ratios[op] = {
            "throughput_x": tg["rps"] / mo["rps"] if mo["rps"] else math_nan(),
            "cpu_per_req_x": (tg["server_cpu_ms_per_req"] / mo["server_cpu_ms_per_req"]
                              if mo["server_cpu_ms_per_req"] else math_nan()),
        }
    for entry in index:
        errors += sum(r["errors"] for runs in entry["runs"].values() for r in runs)
    for phase in ("CreateUser", "CreateAccessKey"):
        if creation and phase in creation:
            errors += creation[phase]["errors"]
    def judged(runs: list[dict[str, Any]], met: bool) -> bool | None:
        """None (inconclusive) when a pass ran too few CPU ticks for its figure to count."""
        return met if min(r["server_cpu_ticks"] for r in runs) >= MIN_TICKS else None

    goals: dict[str, bool | None] = {
        f"{op}_cpu_le_{GOAL_CPU_RATIO}x_moto": judged(
            samples[op][TRAILGATE] + samples[op][MOTO],
            ratios[op]["cpu_per_req_x"] <= GOAL_CPU_RATIO,
        )
        for op in OPS
    }
    index_growth: dict[str, float] = {}
    if len(index) == 2:
        small, large = index
        for key, goal, kinds in (
            ("warm_cpu_ms_per_req", "GetCallerIdentity_warm", ("warm",)),
            ("cold_lookup_cpu_ms_per_req", "GetCallerIdentity_cold", ("cold", "tag_user")),
            ("list_keys_cpu_ms_per_req", "ListAccessKeys", ("list_access_keys",)),
        ):
            index_growth[key] = large[key] / small[key] if small[key] > 0 else math_nan()
            runs = [r for entry in index for kind in kinds for r in entry["runs"][kind]]
            goals[f"index_{goal}_growth_le_{INDEX_GROWTH_LIMIT}x"] = judged(
                runs, index_growth[key] <= INDEX_GROWTH_LIMIT
            )
    goals["no_error_responses"] = errors == 0
    return {
        "versions": vers,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_start": load_start, "load_average_end": load_average()},
        "settings": settings.__dict__,
        "median": medians,
        "ratio_trailgate_over_moto": ratios,
        "samples": samples,
        "index": index,
        "index_growth_x": index_growth,
        "index_creation": creation,
        "errors": errors,
        "goals": goals,
        "profile": profile,
    }


def print_report(report: dict[str, Any]) -> None:
    v = report["versions"]
    s = report["settings"]
    print("API load: STS GetCallerIdentity and AssumeRole, trailgate vs moto's server")
    machine = report["machine"]
    print(f"  python {v['python']}, {machine['cpus']} CPUs, {machine['platform']}")
    print(f"  load average at start {machine['load_average_start']}, "
          f"at end {machine['load_average_end']}")
    print(f"  trailgate {v['trailgate']} on uvicorn {v['uvicorn']} (h11 {v['h11']}, "
          f"httptools {v['httptools']}, uvloop {v['uvloop']})")
    print(f"  moto {v['moto']} server (werkzeug {v['werkzeug']}, flask {v['flask']}), "
          "default settings")
    print(f"  client: botocore {v['botocore']} SigV4Auth pre-signed, {s['connections']} "
          f"keep-alive connections, {s['requests']} requests per pass, {s['rounds']} rounds "
          "A B A B per operation, medians")
    print()
    print(f"  {'':<29}{'':>18}{'server CPU ms/req':>19}{'client CPU':>12}{'new conn':>10}")
    print(f"  {'operation':<18}{'server':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'total':>10}{'(sys)':>9}{'ms/req':>12}{'per req':>10}")
    for op, per_server in report["median"].items():
        for name, m in per_server.items():
            print(f"  {op:<18}{name:<11}{m['rps']:>9.0f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
                  f"{m['server_cpu_ms_per_req']:>10.3f}{m['server_sys_ms_per_req']:>9.3f}"
                  f"{m['client_cpu_ms_per_req']:>12.3f}{m['new_connections_per_req']:>10.2f}")
        r = report["ratio_trailgate_over_moto"][op]
        print(f"  {'':<18}{'ratio':<11}{r['throughput_x']:>8.2f}x{'':>18}"
              f"{r['cpu_per_req_x']:>9.3f}x   (trailgate / moto)")
    if any(m[MOTO]["new_connections_per_req"] > 0.5 for m in report["median"].values()):
        print("  new conn per req: moto's werkzeug server answers every request with "
              "'Connection: close'")
        print("  (werkzeug disables keep-alive), so the client connects again for each request.")
    print()
    if report["index"]:
        print("  trailgate access keys, server CPU ms/request (users each with one key):")
        print(f"  {'':>8}{'GetCallerIdentity':>34}{'ListAccessKeys':>16}")
        print(f"  {'users':>8}{'warm':>8}{'cold':>8}{'(cycle':>9}{'TagUser)':>9}"
              f"{'(one user)':>16}")
        for entry in report["index"]:
            print(f"  {entry['users']:>8}{entry['warm_cpu_ms_per_req']:>8.3f}"
                  f"{entry['cold_lookup_cpu_ms_per_req']:>8.3f}"
                  f"{entry['cold_cycle_cpu_ms_per_req']:>9.3f}"
                  f"{entry['tag_user_cpu_ms_per_req']:>9.3f}"
                  f"{entry['list_keys_cpu_ms_per_req']:>16.3f}")
        growth = report["index_growth_x"]
        if growth:
            print(f"  {'growth':>8}{growth['warm_cpu_ms_per_req']:>7.2f}x"
                  f"{growth['cold_lookup_cpu_ms_per_req']:>7.2f}x{'':>18}"
                  f"{growth['list_keys_cpu_ms_per_req']:>15.2f}x")
        print("  warm: keys resolved before (cached); cold: first use after an IAM write, read "
              "from the store")
        print("  (the cycle is 1 TagUser + 10 GetCallerIdentity; TagUser measured alone, "
              "subtracted).")
        creation = report["index_creation"]
        if creation and creation.get("added"):
            cu, ck = creation["CreateUser"], creation["CreateAccessKey"]
            print(f"  creating {creation['added']} users took {creation['seconds']:.1f} s: "
                  f"CreateUser {cu['server_cpu_ms_per_req']:.3f}, CreateAccessKey "
                  f"{ck['server_cpu_ms_per_req']:.3f} server CPU ms/request on average")
        print()
    profile = report.get("profile")
    if profile:
        print(f"  trailgate profile ({profile['tool']} {profile['version']}), share of busy "
              "samples (wall time, not CPU):")
        for op in OPS:
            entry = profile[op]
            plain = entry["thread_cpu_pass"]
            threads = ", ".join(f"{name} {ms:.3f}" for name, ms in entry["thread_cpu_ms_per_req"])
            print(f"  {op}: server CPU {plain['server_cpu_ms_per_req']:.3f} ms/req in an "
                  f"unprofiled pass of {plain['requests']} requests; by thread: {threads}")
            print(f"    profiled pass: {entry['samples_active']} busy samples, "
                  f"{entry['pass']['requests']} requests")
            for name, pct in entry["categories_pct"]:
                print(f"    {pct:5.1f}%  {name}")
            print("    top functions by own samples:")
            for name, pct in entry["top_own_pct"]:
                print(f"    {pct:5.1f}%  {name}")
        print()
    print("  goals:")
    for goal, met in report["goals"].items():
        verdict = {True: "met", False: "MISSED"}.get(
            met, f"inconclusive (a pass ran < {MIN_TICKS} CPU ticks; raise --requests)"
        )
        print(f"    {goal:<46} {verdict}")
    if report["errors"]:
        print()
        print(f"!!! {report['errors']} ERROR RESPONSES: the figures above measured failures !!!")
        for op, per_server in report["samples"].items():
            for name, runs in per_server.items():
                for run in runs:
                    for sample in run["error_samples"]:
                        print(f"!!! {op} {name}: {sample}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true",
                        help="small counts: 2 rounds, 400 requests, 1,000 index users")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--rounds", type=int, help="rounds per operation (default 3)")
    parser.add_argument("--requests", type=int, help="requests per pass (default 2000)")
    parser.add_argument("--connections", type=int, default=4,
                        help="client connections, one thread each (default 4)")
    parser.add_argument("--index-users", type=int,
                        help="users for the second index measurement (default 10000; 0 skips)")
    parser.add_argument("--max-seconds", type=float, default=15.0,
                        help="time bound of one pass (default 15)")
    parser.add_argument("--profile", action="store_true",
                        help="add a py-spy profiled pass per operation on trailgate")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install moto[server] when missing")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be >= 1")
    if args.connections < 1:
        parser.error("--connections must be >= 1")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    rounds = args.rounds or (2 if args.quick else 3)
    requests = args.requests or (400 if args.quick else 2000)
    index_users = args.index_users if args.index_users is not None else (
        1000 if args.quick else 10_000
    )
    return Settings(
        rounds=rounds,
        requests=requests,
        connections=args.connections,
        batch=25,
        max_seconds=args.max_seconds,
        index_users=index_users,
        index_requests=requests,
        cold_cycles=max(2, requests // (INDEX_SAMPLE + 1)),
        tag_requests=max(2, requests // 3),
        list_requests=requests,
        list_seconds=min(3.0, args.max_seconds),
        warmup=max(args.connections * 2, min(200, requests // 5)),
    )


@contextlib.contextmanager
def servers(workdir: Path, large: bool) -> Iterator[dict[str, ServerProc]]:
    running: dict[str, ServerProc] = {}
    try:
        running[TRAILGATE] = start_trailgate(workdir)
        running[MOTO] = start_moto(workdir)
        if large:
            running[TRAILGATE_LARGE] = start_trailgate(workdir, TRAILGATE_LARGE)
        yield running
    finally:
        for server in running.values():
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    ensure_moto(not args.no_install, "api_load")
    vers = versions()
    load_start = load_average()

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    large = settings.index_users > BASE_USERS
    with tempfile.TemporaryDirectory(prefix="trailgate-api-load-") as tmp, \
            servers(Path(tmp), large) as running:
        log(f"api_load: trailgate on :{running[TRAILGATE].port}, moto on :{running[MOTO].port}")
        worlds = {name: setup_world(running[name]) for name in SERVERS}
        samples = run_ab(worlds, settings, log)
        index: list[dict[str, Any]] = []
        creation: dict[str, Any] | None = None
        if settings.index_users:
            big: World | None = None
            if large:
                log(f"  second trailgate: creating users up to {settings.index_users} ...")
                big = setup_world(running[TRAILGATE_LARGE])
                creation = add_users(big, settings.index_users, 8, 900.0)
                log(f"  created {creation['added']} users in {creation['seconds']:.1f} s")
            index = run_index(worlds[TRAILGATE], big, settings, log)
        profile = None
        if args.profile:
            profile = profile_trailgate(worlds[TRAILGATE], settings, Path(tmp), 8.0, log)
        report = build_report(settings, vers, samples, index, creation, profile, load_start)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print()
        print_report(report)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
