"""Benchmark: trailgate's S3 under load against moto's server (GetObject of a 4 KiB object,
ListObjectsV2 of a 1,000-key prefix), and a 1 GiB ``aws s3 cp`` up and down through trailgate.

Usage::

    .venv/bin/python bench/s3_load.py [--quick] [--json] [--rounds N] [--no-big]
                                      [--get-requests N] [--list-requests N]
                                      [--moto-list-requests N] [--connections N]
                                      [--signing header|query] [--big-mib N] [--profile]
                                      [--no-install]

What runs (everything on 127.0.0.1, each server stopped by its own pid at the end):

- Installs ``moto[server]`` into this interpreter's environment when it is missing (unless
  ``--no-install``), then starts ``trailgate serve`` (fresh data dir, in the run's temporary
  directory) and moto's server (``python -m moto.server -H 127.0.0.1 -p PORT``, default
  settings) as subprocesses.
- The same setup through boto3 on both: root creates the user ``bench-reader`` with the AWS
  managed policy ``AmazonS3ReadOnlyAccess`` (and ``bench-writer`` with ``AmazonS3FullAccess``
  for the 1 GiB part), a bucket owned by root with a CloudTrail-style bucket policy, a 4 KiB
  object, 1,000 keys under ``AWSLogs/<account>/CloudTrail/us-east-1/2024/05/01/`` and 600 more
  on the days before and after.  As the reader, boto3 then checks the object's bytes and the
  listing; on trailgate a PutObject by the reader must be denied (the policy engine is on).
  (moto loads no AWS managed policies by default: its users get equivalent inline policies,
  which moto does not enforce anyway.)
- Load: requests signed as the reader (SigV4: ``S3SigV4Auth`` headers, or with
  ``--signing query`` ``S3SigV4QueryAuth`` pre-signed URLs, 1 hour) are serialised to raw
  HTTP/1.1 bytes once per pass and replayed by ``--connections`` client threads, each with one
  keep-alive socket and one request in flight; responses are parsed with ``http.client``.  The
  listing is what the SDK sends: ``list-type=2``, ``prefix``, ``encoding-type=url``.  Every
  response is checked: status 200 and the body (the object's exact bytes; a listing of exactly
  1,000 ``<Key>`` elements, not truncated).  Anything else is counted, shown, and makes the run
  exit with status 1.  A pass stops after its request count or ``--max-seconds``.  Passes
  have the same request count on both servers, except the listing: moto spends about 15x
  trailgate's CPU on one, so it lists 30 times per pass to trailgate's 100 (CPU per request
  does not depend on the count; both passes then run a few hundred CPU ticks or more).
- Per pass: requests/s, latency p50/p99 (send to last body byte), and the server's CPU per
  request: utime+stime of the server process (all threads) from ``/proc/PID/stat`` over the
  pass, divided by the requests; and the same for its main thread alone
  (``/proc/PID/task/PID/stat``: trailgate's event loop, moto's accept loop).  CPU per request
  does not count time spent waiting for a CPU, which on a small machine shared with the
  client is the steadier figure.  Per operation:
  a warm-up per server (not measured), then ``--rounds`` rounds alternating trailgate, moto;
  medians over rounds and their ratios are reported.
- 1 GiB (trailgate only; ``--no-big`` skips it): a file of random bytes is written next to the
  server's data dir (same disk), copied with plain ``cp`` (the disk's limit: page cache left
  as it is), then ``aws s3 cp`` uploads and downloads it (this environment's AWS CLI,
  ``AWS_ENDPOINT_URL``, path-style, the writer's keys, CLI defaults: 8 MiB multipart chunks,
  10 threads).  The server's RSS is sampled every 50 ms from ``/proc/PID/status`` (``VmRSS``),
  and its lifetime peak ``VmHWM`` read at the end; the downloaded file's sha256 must equal the
  original's.  Temporary files and the object are deleted afterwards.

``--profile`` (needs ``py-spy``: ``pip install py-spy``; not a project dependency) adds one
8-second pass per operation on trailgate with ``py-spy record --gil`` sampling the server at
200 Hz (only samples in which a thread holds the GIL: Python CPU time, not GIL or I/O waits;
C code that releases the GIL, such as SQLite steps, is not seen), and prints the shares by
layer (gateway step, HTTP server, response send, the store's writer thread) and the top
functions by own and by total samples.

Goals (the issue): trailgate's server CPU per request <= 0.25x moto's on GetObject and <= 0.1x
moto's on the 1,000-key listing; the server's peak RSS < 150 MiB through the 1 GiB transfers
(the larger of VmHWM and the sampled VmRSS).  A CPU ratio from passes that ran fewer than 50
clock ticks (``/proc`` counts CPU in 10 ms ticks) judges nothing: the goal prints as
inconclusive (``--quick`` runs often are).

This is a benchmark script, not a test; ``tests/unit/test_bench_s3_load.py`` smoke-tests it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
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
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/benchlib.py
from benchlib import ServerProcess, ensure_moto, free_port

REGION = "us-east-1"
ROOT_KEY = "AKIAS3BENCHROOTKEY01"
ROOT_SECRET = "trailgate/bench/s3/root/secret/access/key"
MANAGEMENT = "111111111111"
MOTO_ACCOUNT = "123456789012"  # moto's default account
MOTO_KEY = "AKIAMOTOS3BENCHROOT1"  # moto checks no signatures: any key acts as its root
MOTO_SECRET = "moto/does/not/verify/signatures/0000000"

TRAILGATE = "trailgate"
MOTO = "moto"
SERVERS: tuple[str, ...] = (TRAILGATE, MOTO)
GET = "GetObject"
LIST = "ListObjectsV2"
OPS: tuple[str, ...] = (GET, LIST)

BUCKET = "bench-trail-bucket"
OBJECT_KEY = "bench/object-4k.bin"
OBJECT_SIZE = 4096
LISTED_KEYS = 1000
OTHER_KEYS_PER_DAY = 300  # on the day before and the day after the listed one
DAY = "2024/05/01"
BIG_KEY = "bench/big-object.bin"
READER = "bench-reader"
WRITER = "bench-writer"

GOAL_GET_X = 0.25
GOAL_LIST_X = 0.1
GOAL_RSS_MIB = 150
GOALS_X: dict[str, float] = {GET: GOAL_GET_X, LIST: GOAL_LIST_X}
MIN_TICKS = 50  # CPU ticks each pass must run for a CPU ratio to judge a goal
CLK_TCK = os.sysconf("SC_CLK_TCK")
PRESIGN_EXPIRES = 3600
RSS_INTERVAL_S = 0.05
AWS_TIMEOUT_S = 600.0
SETUP_THREADS = 8
MIB = 1024 * 1024


def log_prefix(account: str) -> str:
    return f"AWSLogs/{account}/CloudTrail/{REGION}/"


def listed_prefix(account: str) -> str:
    return f"{log_prefix(account)}{DAY}/"


def trail_key(account: str, day: str, i: int) -> str:
    stamp = day.replace("/", "")
    return (f"{log_prefix(account)}{day}/{account}_CloudTrail_{REGION}_{stamp}T"
            f"{i // 60 % 24:02d}{i % 60:02d}Z_{i:08x}a1b2c3d4.json.gz")


# --------------------------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    key: str
    secret: str


def read_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process ``pid``, all threads, from /proc/PID/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2 :].split()  # fields after the command name; [0] is state
    return int(rest[11]) / CLK_TCK, int(rest[12]) / CLK_TCK


def read_thread_cpu(pid: int, tid: int) -> float:
    """CPU seconds (user + system) of one thread, from /proc/PID/task/TID/stat."""
    raw = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def read_status_kib(pid: int, names: Sequence[str]) -> dict[str, int]:
    """Fields of /proc/PID/status in KiB (e.g. VmRSS, VmHWM)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in names:
                out[name] = int(value.split()[0])
    return out


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Server(ServerProcess):
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    account: str
    root: Keys
    data_dir: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> tuple[float, float]:
        return read_cpu(self.pid)

    def main_thread_cpu(self) -> float:
        """CPU seconds of the main thread: trailgate's event loop; moto's accept loop."""
        return read_thread_cpu(self.pid, self.pid)

    def memory_kib(self) -> dict[str, int]:
        return read_status_kib(self.pid, ("VmRSS", "VmHWM"))

    def client(self, service: str, keys: Keys) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=keys.key,
            aws_secret_access_key=keys.secret,
            config=Config(
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
                max_pool_connections=SETUP_THREADS * 2,
            ),
        )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")



def wait_ready(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            with urllib.request.urlopen(server.endpoint + path, timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # it answered: it is up
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not come up:\n{server.log_tail()}")


def launch(name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int,
           account: str, root: Keys, ready_path: str, data_dir: Path | None = None) -> Server:
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
            start_new_session=True,  # Ctrl-C at the terminal reaches this script only
        )
    server = Server(name, process, port, log_path, account, root, data_dir)
    wait_ready(server, ready_path)
    return server


def start_trailgate(workdir: Path) -> Server:
    port = free_port()
    data_dir = workdir / "trailgate-data"
    env = dict(os.environ)
    env.update(
        TRAILGATE_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILGATE_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        TRAILGATE_MANAGEMENT_ACCOUNT_ID=MANAGEMENT,
    )
    argv = [sys.executable, "-m", "trailgate.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--data-dir", str(data_dir)]
    return launch(TRAILGATE, argv, env, workdir, port, MANAGEMENT, Keys(ROOT_KEY, ROOT_SECRET),
                  "/_trailgate/health", data_dir)


def start_moto(workdir: Path) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return launch(MOTO, argv, env, workdir, port, MOTO_ACCOUNT, Keys(MOTO_KEY, MOTO_SECRET),
                  "/moto-api/")


@contextlib.contextmanager
def running_servers(workdir: Path) -> Iterator[dict[str, Server]]:
    running: dict[str, Server] = {}
    try:
        running[TRAILGATE] = start_trailgate(workdir)
        running[MOTO] = start_moto(workdir)
        yield running
    finally:
        for server in running.values():
            server.stop()




def dist_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("trailgate", "uvicorn", "h11", "httptools", "uvloop", "starlette", "moto",
                 "werkzeug", "flask", "boto3", "botocore", "awscli", "s3transfer"):
        out[dist] = dist_version(dist)
    # The code the server runs (an editable install's tree, or whatever PYTHONPATH puts first).
    done = subprocess.run(
        [sys.executable, "-c", "import trailgate, os; print(os.path.dirname(trailgate.__file__))"],
        capture_output=True, text=True, timeout=60,
    )
    out["trailgate_path"] = done.stdout.strip() or "?"
    return out


# --------------------------------------------------------------------------------------------
# Signed requests, serialised once and replayed
# --------------------------------------------------------------------------------------------


def signed_request(port: int, keys: Keys, path: str, query: Sequence[tuple[str, str]],
                   signing: str) -> bytes:
    """A GET signed with botocore's S3 SigV4 signers, as raw HTTP/1.1 bytes.  ``path`` is
    already URI-encoded; ``query`` values are encoded here."""
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    text = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    url = f"http://127.0.0.1:{port}{path}" + (f"?{text}" if text else "")
    request = AWSRequest(method="GET", url=url, headers={})
    credentials = Credentials(keys.key, keys.secret)
    if signing == "query":
        S3SigV4QueryAuth(credentials, "s3", REGION, expires=PRESIGN_EXPIRES).add_auth(request)
    else:
        S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
    parts = urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()
              if name.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def get_request(port: int, keys: Keys, signing: str) -> bytes:
    return signed_request(port, keys, f"/{BUCKET}/{quote(OBJECT_KEY, safe='/')}", (), signing)


def list_request(port: int, keys: Keys, account: str, signing: str) -> bytes:
    query = (("list-type", "2"), ("prefix", listed_prefix(account)), ("encoding-type", "url"))
    return signed_request(port, keys, f"/{BUCKET}", query, signing)


# --------------------------------------------------------------------------------------------
# Replay client
# --------------------------------------------------------------------------------------------


class Connection:
    """One HTTP/1.1 connection, kept alive while the server allows; one request in flight."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.reconnects = -1  # the first connection is not a reconnection

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reconnects += 1
        return sock

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None

    def exchange(self, data: bytes) -> tuple[int, bytes]:
        """Send one request, read its whole response: (status, body)."""
        if self.sock is None:
            self.sock = self._connect()
        self.sock.sendall(data)
        response = http.client.HTTPResponse(self.sock, method="GET")
        try:
            response.begin()
            body = response.read()
        finally:
            response.close()  # the socket stays open (its makefile is what closes)
        if response.will_close:
            self.close()
        return response.status, body


Check = Callable[[bytes], str | None]  # a body -> what is wrong with it, or None


@dataclass
class PassResult:
    requests: int = 0
    wall_s: float = 0.0
    server_user_s: float = 0.0
    server_sys_s: float = 0.0
    server_main_s: float = 0.0
    client_cpu_s: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bad_bodies: int = 0
    error_samples: list[str] = field(default_factory=list)
    reconnects: int = 0
    body_bytes: int = 0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200) + self.bad_bodies

    @property
    def server_cpu_s(self) -> float:
        return self.server_user_s + self.server_sys_s

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def replay(server: Server, requests: Sequence[bytes], total: int, max_seconds: float,
           check: Check) -> PassResult:
    """Send ``total`` requests over ``len(requests)`` connections (connection i repeats
    ``requests[i]``), stopping early after ``max_seconds``; every response is checked."""
    server.check_alive()
    n = len(requests)
    quotas = [total // n + (1 if i < total % n else 0) for i in range(n)]
    conns = [Connection(server.port) for _ in range(n)]
    outs = [PassResult() for _ in range(n)]
    failures: list[BaseException] = []
    ready = threading.Barrier(n + 1)  # every connection open
    go = threading.Event()  # the server's CPU is read: start
    deadline_ns = [0]

    def work(i: int) -> None:
        conn, data, out = conns[i], requests[i], outs[i]
        latencies, statuses = out.latencies_ns, out.statuses
        clock = time.perf_counter_ns
        try:
            conn.sock = conn._connect()  # connected before the clock starts
            ready.wait()
            go.wait()
            deadline = deadline_ns[0]
            for _ in range(quotas[i]):
                t0 = clock()
                status, body = conn.exchange(data)
                t1 = clock()
                latencies.append(t1 - t0)
                statuses[status] += 1
                out.body_bytes += len(body)
                problem = None if status != 200 else check(body)
                if problem is not None:
                    out.bad_bodies += 1
                if (status != 200 or problem is not None) and len(out.error_samples) < 3:
                    out.error_samples.append(
                        f"HTTP {status}: {problem or body[:300].decode(errors='replace')}"
                    )
                if t1 > deadline:
                    break
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # raised below, in the caller's thread
            failures.append(exc)
            ready.abort()
        finally:
            out.requests = len(latencies)
            out.reconnects = max(0, conn.reconnects)
            conn.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    time.sleep(0.05)  # the server accepts the connections
    cpu0, main0, self0 = server.cpu(), server.main_thread_cpu(), own_cpu()
    start = time.perf_counter_ns()
    deadline_ns[0] = start + int(max_seconds * 1e9)
    go.set()
    for thread in threads:
        thread.join(max_seconds + 120)
    wall = (time.perf_counter_ns() - start) / 1e9
    cpu1, main1, self1 = server.cpu(), server.main_thread_cpu(), own_cpu()
    if any(thread.is_alive() for thread in threads):
        failures.append(TimeoutError("a client thread did not finish"))
    if failures:
        server.check_alive()
        raise RuntimeError(f"{server.name}: client failure: {failures[0]!r}") from failures[0]
    merged = PassResult(wall_s=wall, server_user_s=cpu1[0] - cpu0[0],
                        server_sys_s=cpu1[1] - cpu0[1], server_main_s=main1 - main0,
                        client_cpu_s=self1 - self0)
    for out in outs:
        merged.requests += out.requests
        merged.latencies_ns += out.latencies_ns
        merged.statuses.update(out.statuses)
        merged.bad_bodies += out.bad_bodies
        merged.error_samples += out.error_samples
        merged.reconnects += out.reconnects
        merged.body_bytes += out.body_bytes
    return merged


def summary(result: PassResult) -> dict[str, Any]:
    n = max(1, result.requests)
    return {
        "requests": result.requests,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "bad_bodies": result.bad_bodies,
        "error_samples": result.error_samples,
        "reconnects": result.reconnects,
        "new_connections_per_req": round(result.reconnects / n, 3),
        "wall_s": round(result.wall_s, 4),
        "rps": round(result.requests / result.wall_s, 1) if result.wall_s > 0 else 0.0,
        "p50_ms": round(result.percentile_ms(0.50), 3),
        "p99_ms": round(result.percentile_ms(0.99), 3),
        "server_cpu_ms_per_req": round(1000 * result.server_cpu_s / n, 4),
        "server_sys_ms_per_req": round(1000 * result.server_sys_s / n, 4),
        "server_main_thread_ms_per_req": round(1000 * result.server_main_s / n, 4),
        "server_cpu_ticks": round(result.server_cpu_s * CLK_TCK),
        "client_cpu_ms_per_req": round(1000 * result.client_cpu_s / n, 4),
        "body_bytes_per_req": round(result.body_bytes / n),
    }


# --------------------------------------------------------------------------------------------
# Setup (boto3, the same calls on both servers)
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    server: Server
    reader: Keys
    writer: Keys
    content: bytes  # the 4 KiB object's bytes
    objects: int  # objects in the bucket


def bucket_policy(account: str) -> str:
    """CloudTrail's standard bucket policy: evaluated (and not matching) on every reader
    request, as the resource policy beside the reader's identity policy."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}"},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        ],
    })


def make_user(iam: Any, name: str, policy: str, actions: list[str]) -> Keys:
    """A user with AWS managed policy ``policy``; where it does not exist (moto does not load
    AWS managed policies by default) an inline policy allowing ``actions`` instead."""
    from botocore.exceptions import ClientError

    iam.create_user(UserName=name)
    try:
        iam.attach_user_policy(UserName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
        document = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        iam.put_user_policy(UserName=name, PolicyName=policy,
                            PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def setup_world(server: Server) -> World:
    from botocore.exceptions import ClientError

    iam = server.client("iam", server.root)
    reader = make_user(iam, READER, "AmazonS3ReadOnlyAccess", ["s3:Get*", "s3:List*"])
    writer = make_user(iam, WRITER, "AmazonS3FullAccess", ["s3:*"])
    s3 = server.client("s3", server.root)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=bucket_policy(server.account))
    content = bytes(range(256)) * (OBJECT_SIZE // 256)
    account = server.account
    keys = [trail_key(account, DAY, i) for i in range(LISTED_KEYS)]
    keys += [trail_key(account, day, i) for day in ("2024/04/30", "2024/05/02")
             for i in range(OTHER_KEYS_PER_DAY)]
    entry = b'{"Records":[]}'

    def put(key: str) -> None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=entry)

    s3.put_object(Bucket=BUCKET, Key=OBJECT_KEY, Body=content)
    with concurrent.futures.ThreadPoolExecutor(SETUP_THREADS) as pool:
        for future in [pool.submit(put, key) for key in keys]:
            future.result()
    world = World(server, reader, writer, content, len(keys) + 1)
    # The setup is what it should be, as the reader through the SDK.
    as_reader = server.client("s3", reader)
    got = as_reader.get_object(Bucket=BUCKET, Key=OBJECT_KEY)["Body"].read()
    if got != content:
        raise RuntimeError(f"{server.name}: GetObject returned {len(got)} other bytes")
    listing = as_reader.list_objects_v2(Bucket=BUCKET, Prefix=listed_prefix(account))
    if listing.get("KeyCount") != LISTED_KEYS or listing.get("IsTruncated"):
        raise RuntimeError(f"{server.name}: listing of {listing.get('KeyCount')} keys, "
                           f"truncated {listing.get('IsTruncated')}")
    if server.name == TRAILGATE:  # moto authorizes nothing by default
        try:
            as_reader.put_object(Bucket=BUCKET, Key="bench/denied", Body=b"x")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AccessDenied":
                raise
        else:
            raise RuntimeError("trailgate let a read-only user PutObject")
    return world


DATA_TRAIL = "bench-data-events"


def add_data_trail(server: Server) -> None:
    """A trail that selects the bench bucket's data events (all its objects), logging: every
    GetObject is then recorded, as AWS records data events only for such a trail."""
    from trailgate.scenario import cloudtrail_bucket_policy, trail_arn

    s3 = server.client("s3", server.root)
    ct = server.client("cloudtrail", server.root)
    logs = f"{BUCKET}-trail-logs"
    arn = trail_arn(server.account, DATA_TRAIL)
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=json.dumps(
        cloudtrail_bucket_policy(logs, {server.account: arn})))
    ct.create_trail(Name=DATA_TRAIL, S3BucketName=logs)
    ct.put_event_selectors(TrailName=DATA_TRAIL, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}],
    }])
    ct.start_logging(Name=DATA_TRAIL)


def get_check(content: bytes) -> Check:
    def check(body: bytes) -> str | None:
        return None if body == content else f"body of {len(body)} bytes, not the object's"
    return check


def list_check(body: bytes) -> str | None:
    keys = body.count(b"<Key>")
    if keys != LISTED_KEYS:
        return f"listing of {keys} keys, not {LISTED_KEYS}"
    if b"<IsTruncated>false</IsTruncated>" not in body:
        return "listing truncated"
    return None


# --------------------------------------------------------------------------------------------
# Load passes
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    rounds: int
    connections: int
    requests: dict[str, dict[str, int]]  # op -> server -> requests per pass
    max_seconds: float
    warmup: dict[str, int]
    signing: str
    big_mib: int  # 0: no 1 GiB part
    data_trail: bool = False  # trailgate records every GetObject (a data-event trail)


def op_requests(world: World, op: str, settings: Settings) -> tuple[list[bytes], Check]:
    server = world.server
    if op == GET:
        data = get_request(server.port, world.reader, settings.signing)
        return [data] * settings.connections, get_check(world.content)
    data = list_request(server.port, world.reader, server.account, settings.signing)
    return [data] * settings.connections, list_check


def run_ab(worlds: dict[str, World], settings: Settings,
           log: Callable[[str], None]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """op -> server -> one summary per round; rounds alternate trailgate, moto."""
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for op in OPS:
        samples[op] = {name: [] for name in SERVERS}
        for name in SERVERS:  # warm-up, not measured
            data, check = op_requests(worlds[name], op, settings)
            warm = replay(worlds[name].server, data, settings.warmup[op], settings.max_seconds,
                          check)
            if warm.errors:
                raise RuntimeError(f"{name}: {warm.errors} errors in the {op} warm-up: "
                                   + "; ".join(warm.error_samples))
        for r in range(settings.rounds):
            for name in SERVERS:
                data, check = op_requests(worlds[name], op, settings)  # fresh signatures
                result = replay(worlds[name].server, data, settings.requests[op][name],
                                settings.max_seconds, check)
                s = summary(result)
                samples[op][name].append(s)
                log(f"  {op:<13} round {r + 1}/{settings.rounds} {name:<9} {s['requests']:>6} "
                    f"req {s['rps']:>8.1f} req/s  p50 {s['p50_ms']:>7.2f} ms  p99 "
                    f"{s['p99_ms']:>7.2f} ms  server cpu {s['server_cpu_ms_per_req']:.3f} ms/req"
                    + (f"  ERRORS {s['errors']}" if s["errors"] else ""))
    return samples


# --------------------------------------------------------------------------------------------
# The 1 GiB transfer (trailgate only)
# --------------------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's VmRSS every ``interval`` seconds in a thread; ``peak_kib``."""

    def __init__(self, pid: int, interval: float = RSS_INTERVAL_S) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, KeyError, ValueError):
                rss = read_status_kib(self.pid, ("VmRSS",))["VmRSS"]
                self.peak_kib = max(self.peak_kib, rss)
                self.samples += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def write_random_file(path: Path, size: int) -> str:
    """``size`` random bytes to ``path`` (flushed, not fsynced); returns their sha256."""
    digest = hashlib.sha256()
    chunk = 8 * MIB
    with open(path, "wb") as out:
        left = size
        while left:
            data = os.urandom(min(chunk, left))
            digest.update(data)
            out.write(data)
            left -= len(data)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while data := source.read(8 * MIB):
            digest.update(data)
    return digest.hexdigest()


def filesystem_of(path: Path) -> str:
    """``device fstype`` of the mount holding ``path`` (from /proc/mounts), or ``?``."""
    best, found = "", "?"
    target = str(path.resolve())
    with contextlib.suppress(OSError), open("/proc/mounts") as mounts:
        for line in mounts:
            device, mount, fstype = line.split()[:3]
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                best, found = mount, f"{device} {fstype}"
    return found


def find_aws() -> str:
    local = Path(sys.executable).with_name("aws")
    found = str(local) if local.exists() else shutil.which("aws")
    if found is None:
        raise SystemExit("s3_load: the AWS CLI (aws) is not installed; pip install awscli")
    return found


def aws_version(aws: str) -> str:
    done = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr).strip()


def aws_env(server: Server, keys: Keys, workdir: Path) -> dict[str, str]:
    config = workdir / "aws-config"
    config.write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID=keys.key,
        AWS_SECRET_ACCESS_KEY=keys.secret,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(workdir / "aws-credentials-none"),
        AWS_MAX_ATTEMPTS="1",
    )
    return env


def timed_command(argv: list[str], env: dict[str, str] | None,
                  server: Server | None) -> dict[str, Any]:
    """Run a command (bounded by AWS_TIMEOUT_S); wall time, its CPU, and the server's CPU and
    sampled peak RSS over it."""
    cpu0 = server.cpu() if server else (0.0, 0.0)
    child0 = children_cpu()
    sampler = RssSampler(server.pid) if server else None
    start = time.perf_counter()
    with sampler or contextlib.nullcontext():
        done = subprocess.run(argv, env=env, capture_output=True, text=True,
                              timeout=AWS_TIMEOUT_S)
    wall = time.perf_counter() - start
    cpu1 = server.cpu() if server else (0.0, 0.0)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
                           + (f"\n{server.name} log:\n{server.log_tail()}" if server else ""))
    out: dict[str, Any] = {"seconds": round(wall, 3),
                           "command_cpu_s": round(children_cpu() - child0, 2)}
    if server and sampler:
        out["server_cpu_s"] = round(sum(cpu1) - sum(cpu0), 2)
        out["server_peak_rss_mib"] = round(sampler.peak_kib / 1024, 1)
        out["rss_samples"] = sampler.samples
    return out


def big_transfer(world: World, workdir: Path, size_mib: int,
                 log: Callable[[str], None]) -> dict[str, Any]:
    server = world.server
    size = size_mib * MIB
    big = workdir / "big"
    big.mkdir()
    need = 3 * size + 256 * MIB  # source, the server's blob, the download (the cp copy is gone)
    free = shutil.disk_usage(big).free
    if free < need:
        return {"skipped": f"{free / MIB:.0f} MiB free on the data disk, {need / MIB:.0f} needed"}
    aws = find_aws()
    env = aws_env(server, world.writer, workdir)
    source, copied, downloaded = big / "source.bin", big / "copy.bin", big / "downloaded.bin"
    out: dict[str, Any] = {"size_mib": size_mib, "aws": aws_version(aws), "path": str(big),
                           "filesystem": filesystem_of(big),
                           "filesystem_free_mib": round(free / MIB)}
    before = server.memory_kib()
    out["server_rss_before_mib"] = round(before["VmRSS"] / 1024, 1)
    out["server_hwm_before_mib"] = round(before["VmHWM"] / 1024, 1)
    try:
        start = time.perf_counter()
        sha = write_random_file(source, size)
        out["write_seconds"] = round(time.perf_counter() - start, 3)
        log(f"  1 GiB part: wrote {size_mib} MiB of random bytes in {out['write_seconds']:.1f} s")
        out["cp"] = timed_command(["cp", str(source), str(copied)], None, None)
        copied.unlink()
        log(f"  plain cp: {out['cp']['seconds']:.2f} s")
        target = f"s3://{BUCKET}/{BIG_KEY}"
        quiet = ["--no-progress", "--only-show-errors"]
        out["upload"] = timed_command([aws, "s3", "cp", str(source), target, *quiet], env,
                                      server)
        log(f"  aws s3 cp up: {out['upload']['seconds']:.1f} s, server peak RSS "
            f"{out['upload']['server_peak_rss_mib']:.0f} MiB")
        out["download"] = timed_command([aws, "s3", "cp", target, str(downloaded), *quiet], env,
                                        server)
        log(f"  aws s3 cp down: {out['download']['seconds']:.1f} s, server peak RSS "
            f"{out['download']['server_peak_rss_mib']:.0f} MiB")
        after = server.memory_kib()
        out["server_hwm_after_mib"] = round(after["VmHWM"] / 1024, 1)
        out["server_rss_after_mib"] = round(after["VmRSS"] / 1024, 1)
        # VmHWM is the kernel's own peak, but its counters are approximate (a sample can read
        # a little above it): the goal takes the larger.
        out["server_peak_rss_mib"] = max(out["server_hwm_after_mib"],
                                         out["upload"]["server_peak_rss_mib"],
                                         out["download"]["server_peak_rss_mib"])
        got_size = downloaded.stat().st_size
        out["sha256_match"] = got_size == size and file_sha256(downloaded) == sha
        out["sha256"] = sha
        for leg in ("cp", "upload", "download"):
            out[leg]["mib_per_s"] = round(size_mib / out[leg]["seconds"], 1)
        timed_command([aws, "s3", "rm", target, "--only-show-errors"], env, None)
    finally:
        for path in (source, copied, downloaded):
            path.unlink(missing_ok=True)
        big.rmdir()
    return out


# --------------------------------------------------------------------------------------------
# Profile (optional, py-spy)
# --------------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")
IDLE_LEAVES = frozenset({"EpollSelector.select", "select", "Condition.wait", "wait",
                         "SqliteStore._writer_main", "_worker"})


def find_py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def short_path(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3."):
        at = path.find(marker)
        if at >= 0:
            rest = path[at + len(marker):]
            return rest.split("/", 1)[1] if marker == "/lib/python3." and "/" in rest else rest
    return path


_ENTRY_FRAMES: tuple[str, ...] = ("<module> ", "main ", "_serve ", "serve ")  # cli -> uvicorn


def _app_frame(name: str) -> bool:
    """A frame of trailgate's code, other than the entry point around uvicorn's loop."""
    return "(trailgate/" in name and not name.startswith(_ENTRY_FRAMES)


def _category(names: Sequence[str]) -> str:
    """Where a sample falls: the store's writer thread, the deepest gateway step on its stack,
    the response send, other trailgate code, or the HTTP server around it."""
    step = None
    for name in names:
        if name.startswith("Gateway.") and "(trailgate/" in name:
            method = name.split(" (", 1)[0].split(".")[1]
            if method != "handle" or step is None:
                step = method
    if any(name.startswith("SqliteStore._writer_main ") for name in names):
        return "store: writer thread (transactions, commits)"
    if step == "handle":
        return "gateway: handle (between its steps)"
    if step is not None:
        return f"gateway: {step}"
    if any(name.startswith("_send (trailgate/") for name in names):
        return "app: send the response (ASGI send, HTTP framing, socket write)"
    if any(_app_frame(name) for name in names):
        return "app: other trailgate code (request intake)"
    return "HTTP server: uvicorn, its HTTP parser and event loop"


def analyse_profile(raw: str, top: int = 15) -> dict[str, Any]:
    """py-spy ``--format raw`` lines (``frame;frame;... count``) -> shares of the busy samples
    by layer and by function: own (the leaf, any code) and total (trailgate's functions
    anywhere on the stack, once per stack)."""
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        names = []
        for frame in stack.split(";")[1:]:  # [0] is the thread
            match = _FRAME.match(frame)
            names.append(f"{match.group(1)} ({short_path(match.group(2))})" if match else frame)
        if not names or names[-1].split(" (", 1)[0] in IDLE_LEAVES:
            idle += count
            continue
        busy += count
        layers[_category(names)] += count
        own[names[-1]] += count
        for name in set(names):
            if _app_frame(name):
                total[name] += count

    def shares(counter: Counter[str], n: int | None = top) -> list[tuple[str, float]]:
        return [(k, round(100 * v / busy, 1)) for k, v in counter.most_common(n)] if busy else []

    return {"samples_busy": busy, "samples_idle": idle, "layers_pct": shares(layers, None),
            "top_own_pct": shares(own), "top_total_pct": shares(total)}


def profile_trailgate(world: World, settings: Settings, workdir: Path, seconds: float,
                      log: Callable[[str], None]) -> dict[str, Any]:
    py_spy = find_py_spy()
    if py_spy is None:
        raise SystemExit("s3_load: --profile needs py-spy (pip install py-spy)")
    server = world.server
    out: dict[str, Any] = {"tool": "py-spy", "version": dist_version("py-spy")}
    for op in OPS:
        data, check = op_requests(world, op, settings)
        path = workdir / f"profile-{op}.txt"
        spy = subprocess.Popen(
            [py_spy, "record", "--format", "raw", "--threads", "--gil", "-r", "200",
             "-d", str(int(seconds) + 2), "-o", str(path), "-p", str(server.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)  # attach
            result = replay(server, data, 10**7, seconds, check)
            spy.wait(timeout=seconds + 60)
        finally:
            if spy.poll() is None:
                os.kill(spy.pid, signal.SIGKILL)
                spy.wait()
        analysis = analyse_profile(path.read_text() if path.exists() else "")
        analysis["pass"] = summary(result)
        out[op] = analysis
        log(f"  profiled {op}: {analysis['samples_busy']} busy samples, {result.requests} "
            f"requests, {result.errors} errors")
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

MEDIAN_KEYS: tuple[str, ...] = (
    "rps", "p50_ms", "p99_ms", "server_cpu_ms_per_req", "server_sys_ms_per_req",
    "server_main_thread_ms_per_req", "client_cpu_ms_per_req", "new_connections_per_req",
    "body_bytes_per_req",
)


def build_report(settings: Settings, vers: dict[str, str],
                 samples: dict[str, dict[str, list[dict[str, Any]]]],
                 big: dict[str, Any] | None, profile: dict[str, Any] | None,
                 worlds: dict[str, World], loadavg_before: Sequence[float]) -> dict[str, Any]:
    medians: dict[str, dict[str, dict[str, float]]] = {}
    ratios: dict[str, dict[str, float]] = {}
    goals: dict[str, bool | None] = {}
    errors = 0
    for op, per_server in samples.items():
        medians[op] = {}
        for name, runs in per_server.items():
            errors += sum(r["errors"] for r in runs)
            medians[op][name] = {k: float(statistics.median(r[k] for r in runs))
                                 for k in MEDIAN_KEYS}
        tg, mo = medians[op][TRAILGATE], medians[op][MOTO]
        cpu_x = (tg["server_cpu_ms_per_req"] / mo["server_cpu_ms_per_req"]
                 if mo["server_cpu_ms_per_req"] > 0 else float("nan"))
        ratios[op] = {"cpu_per_req_x": cpu_x,
                      "throughput_x": tg["rps"] / mo["rps"] if mo["rps"] else float("nan")}
        ticks = min(r["server_cpu_ticks"] for runs in per_server.values() for r in runs)
        goals[f"{op}_cpu_le_{GOALS_X[op]}x_moto"] = (
            cpu_x <= GOALS_X[op] if ticks >= MIN_TICKS else None
        )
    if big is not None and "skipped" not in big:
        goals[f"big_peak_rss_lt_{GOAL_RSS_MIB}MiB"] = big["server_peak_rss_mib"] < GOAL_RSS_MIB
        goals["big_sha256_match"] = bool(big["sha256_match"])
    elif big is not None:
        goals[f"big_peak_rss_lt_{GOAL_RSS_MIB}MiB"] = None
    goals["no_error_responses"] = errors == 0
    return {
        "versions": vers,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_before": list(loadavg_before), "loadavg_after": list(os.getloadavg())},
        "settings": settings.__dict__,
        "objects_per_bucket": {name: w.objects for name, w in worlds.items()},
        "median": medians,
        "ratio_trailgate_over_moto": ratios,
        "samples": samples,
        "big": big,
        "profile": profile,
        "errors": errors,
        "goals": goals,
    }


def print_report(report: dict[str, Any]) -> None:
    v, s, machine = report["versions"], report["settings"], report["machine"]
    print("S3 load: GetObject 4 KiB and ListObjectsV2 of a 1,000-key prefix, trailgate vs moto")
    print(f"  python {v['python']}, {machine['cpus']} CPUs, {machine['platform']}")
    load0, load1 = machine["loadavg_before"], machine["loadavg_after"]
    print(f"  load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after"
          + ("  (other processes competed for the CPUs: figures are noisier)"
             if max(load0[0], load1[0]) > (machine["cpus"] or 1) + 0.5 else ""))
    print(f"  trailgate {v['trailgate']} ({v['trailgate_path']})")
    http = f"httptools {v['httptools']}" if v["httptools"] != "absent" else f"h11 {v['h11']}"
    loop = f"uvloop {v['uvloop']}" if v["uvloop"] != "absent" else "asyncio"
    print(f"    on uvicorn {v['uvicorn']} ({http}, {loop}: what uvicorn picks by default); "
          "authorizing every request:")
    print("    a user with AmazonS3ReadOnlyAccess, a bucket with a bucket policy, owned by root")
    print("    " + ("a logging trail selects the bucket's data events: every GetObject is recorded"
                    if s.get("data_trail") else
                    "no trail selects data events: GetObject is not recorded (as on AWS); "
                    "--data-trail records it"))
    print(f"  moto {v['moto']} server (werkzeug {v['werkzeug']}, flask {v['flask']}), default "
          "settings")
    print(f"  client: botocore {v['botocore']} SigV4 {s['signing']}-signed, replayed over "
          f"{s['connections']} keep-alive connections, {s['rounds']} rounds A B, medians")
    n = s["requests"]
    print(f"  per pass (<= {s['max_seconds']:.0f} s): {n[GET][TRAILGATE]} GetObject; "
          f"ListObjectsV2 {n[LIST][TRAILGATE]} on trailgate, {n[LIST][MOTO]} on moto")
    objects = report["objects_per_bucket"]
    print(f"  bucket: {objects[TRAILGATE]} objects; the listing returns {LISTED_KEYS} keys "
          f"(about {report['median'][LIST][TRAILGATE]['body_bytes_per_req'] / 1024:.0f} KiB "
          "of XML)")
    print()
    print(f"  {'':<25}{'':>27}{'server CPU ms/req':>24}{'':>8}{'client':>9}{'new conn':>10}")
    print(f"  {'operation':<14}{'server':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'total':>11}{'(sys)':>9}{'main thr':>10}{'ms/req':>9}{'per req':>10}")
    for op, per_server in report["median"].items():
        for name, m in per_server.items():
            print(f"  {op:<14}{name:<11}{m['rps']:>9.1f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}"
                  f"{m['server_cpu_ms_per_req']:>11.3f}{m['server_sys_ms_per_req']:>9.3f}"
                  f"{m['server_main_thread_ms_per_req']:>10.3f}"
                  f"{m['client_cpu_ms_per_req']:>9.3f}{m['new_connections_per_req']:>10.2f}")
        r = report["ratio_trailgate_over_moto"][op]
        print(f"  {'':<14}{'ratio':<11}{r['throughput_x']:>8.2f}x{'':>18}"
              f"{r['cpu_per_req_x']:>10.3f}x   trailgate / moto (goal <= {GOALS_X[op]}x)")
    print("  main thr: the server's main thread (trailgate: the event loop, the other threads are "
          "the store's;")
    print("  moto: the accept loop, requests run on a thread per connection).")
    if any(m[MOTO]["new_connections_per_req"] > 0.5 for m in report["median"].values()):
        print("  new conn per req: moto's werkzeug server closes the connection after each "
              "response; the client reconnects.")
    big = report["big"]
    if big is not None:
        print()
        if "skipped" in big:
            print(f"  1 GiB transfer skipped: {big['skipped']}")
        else:
            print(f"  {big['size_mib']} MiB object through trailgate with {big['aws']}")
            print(f"  (random bytes in {big['path']}, on {big['filesystem']} like the data dir; "
                  "page cache as is)")
            print(f"  {'':<22}{'seconds':>9}{'MiB/s':>9}{'server CPU s':>14}"
                  f"{'server peak RSS':>17}{'client CPU s':>14}")
            print(f"  {'plain cp':<22}{big['cp']['seconds']:>9.2f}{big['cp']['mib_per_s']:>9.0f}"
                  f"{'':>14}{'':>17}{big['cp']['command_cpu_s']:>14.2f}")
            for leg, label in (("upload", "aws s3 cp (upload)"),
                               ("download", "aws s3 cp (download)")):
                m = big[leg]
                print(f"  {label:<22}{m['seconds']:>9.2f}{m['mib_per_s']:>9.0f}"
                      f"{m['server_cpu_s']:>14.2f}{m['server_peak_rss_mib']:>13.1f} MiB"
                      f"{m['command_cpu_s']:>14.2f}")
            print(f"  server RSS before {big['server_rss_before_mib']:.1f} MiB, after "
                  f"{big['server_rss_after_mib']:.1f} MiB; VmHWM (lifetime peak) before "
                  f"{big['server_hwm_before_mib']:.1f} MiB, after "
                  f"{big['server_hwm_after_mib']:.1f} MiB; peak (goal < {GOAL_RSS_MIB} MiB) "
                  f"{big['server_peak_rss_mib']:.1f} MiB")
            print(f"  downloaded sha256 {'equals' if big['sha256_match'] else 'DIFFERS FROM'} "
                  f"the original's ({big['sha256'][:16]}...)")
    profile = report.get("profile")
    if profile:
        print()
        print(f"  trailgate profile ({profile['tool']} {profile['version']} --gil, 200 Hz): share "
              "of the samples in which a server thread held the GIL")
        print("  (Python CPU time; C code that releases the GIL, e.g. SQLite steps and socket "
              "sends, is not counted)")
        for op in OPS:
            entry = profile[op]
            print(f"  {op}: {entry['samples_busy']} busy samples over "
                  f"{entry['pass']['requests']} requests")
            for title, key in (("layer", "layers_pct"), ("own samples", "top_own_pct"),
                               ("total samples (trailgate's own code)", "top_total_pct")):
                print(f"    {'by' if key == 'layers_pct' else 'top functions by'} {title}:")
                for name, pct in entry[key]:
                    print(f"    {pct:5.1f}%  {name}")
    print()
    print("  goals:")
    for goal, met in report["goals"].items():
        verdict = {True: "met", False: "MISSED"}.get(
            met, f"inconclusive (a pass ran < {MIN_TICKS} CPU ticks, or skipped)"
        )
        print(f"    {goal:<40} {verdict}")
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true",
                        help="small counts: 2 rounds, 300 GetObject, 12 / 6 listings per pass")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--rounds", type=int, help="rounds per operation (default 5)")
    parser.add_argument("--get-requests", type=int, help="GetObject per pass (default 2000)")
    parser.add_argument("--list-requests", type=int,
                        help="ListObjectsV2 per pass on trailgate (default 100)")
    parser.add_argument("--moto-list-requests", type=int,
                        help="ListObjectsV2 per pass on moto (default 30: moto spends about "
                             "15x trailgate's CPU on one)")
    parser.add_argument("--connections", type=int, default=4,
                        help="client connections, one thread each (default 4)")
    parser.add_argument("--max-seconds", type=float, default=20.0,
                        help="time bound of one pass (default 20)")
    parser.add_argument("--signing", choices=("header", "query"), default="header",
                        help="SigV4 in headers, or pre-signed query URLs (default header)")
    parser.add_argument("--no-big", action="store_true", help="skip the 1 GiB aws s3 cp part")
    parser.add_argument("--data-trail", action="store_true",
                        help="trailgate gets a logging trail selecting the bucket's data events, "
                             "so every GetObject is recorded (without one, AWS records none)")
    parser.add_argument("--big-mib", type=int, default=1024,
                        help="size of the big object in MiB (default 1024)")
    parser.add_argument("--profile", action="store_true",
                        help="add a py-spy profiled pass per operation on trailgate")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install moto[server] when missing")
    args = parser.parse_args(argv)
    for name in ("rounds", "get_requests", "list_requests", "moto_list_requests"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.connections < 1 or args.big_mib < 1 or args.max_seconds <= 0:
        parser.error("--connections, --big-mib and --max-seconds must be positive")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    gets = args.get_requests or (300 if args.quick else 2000)
    requests = {
        GET: {TRAILGATE: gets, MOTO: gets},
        LIST: {TRAILGATE: args.list_requests or (12 if args.quick else 100),
               MOTO: args.moto_list_requests or (6 if args.quick else 30)},
    }
    return Settings(
        rounds=args.rounds or (2 if args.quick else 5),
        connections=args.connections,
        requests=requests,
        max_seconds=args.max_seconds,
        warmup={GET: max(2 * args.connections, gets // 10), LIST: args.connections},
        signing=args.signing,
        big_mib=0 if args.no_big else args.big_mib,
        data_trail=args.data_trail,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    ensure_moto(not args.no_install, "s3_load")
    vers = versions()
    started = time.perf_counter()
    loadavg = os.getloadavg()

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    with tempfile.TemporaryDirectory(prefix="trailgate-s3-load-") as tmp:
        workdir = Path(tmp)
        with running_servers(workdir) as running:
            log(f"s3_load: trailgate on :{running[TRAILGATE].port} (pid "
                f"{running[TRAILGATE].pid}), moto on :{running[MOTO].port} (pid "
                f"{running[MOTO].pid}); work dir {workdir}")
            worlds: dict[str, World] = {}
            for name in SERVERS:
                t0 = time.perf_counter()
                worlds[name] = setup_world(running[name])
                if name == TRAILGATE and settings.data_trail:
                    add_data_trail(running[name])
                log(f"  {name}: set up {worlds[name].objects} objects in "
                    f"{time.perf_counter() - t0:.1f} s")
            samples = run_ab(worlds, settings, log)
            profile = None
            if args.profile:
                profile = profile_trailgate(worlds[TRAILGATE], settings, workdir, 8.0, log)
            big = None
            if settings.big_mib:
                big = big_transfer(worlds[TRAILGATE], workdir, settings.big_mib, log)
            report = build_report(settings, vers, samples, big, profile, worlds, loadavg)
    report["seconds"] = round(time.perf_counter() - started, 1)
    log(f"s3_load: done in {report['seconds']:.0f} s")
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print()
        print_report(report)
    failed = report["errors"] or (big is not None and big.get("sha256_match") is False)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
