"""Benchmark: ``trailgate validate-logs`` against ``aws cloudtrail validate-logs`` on the same
delivered logs, and both against the machine's sha256 + gunzip throughput on the same bytes.

Usage::

    .venv/bin/python bench/validate.py [--gib 1.0] [--hours 4] [--file-events 2000]
                                       [--workers N] [--json] [--keep DIR] [--quick]

``--keep DIR`` keeps the generated data; a later run with the same ``--keep`` skips step 1.

What runs (everything on 127.0.0.1; the server is stopped by its own pid at the end):

1. Data.  ``trailgate serve`` starts on a fresh data dir (in the run's temporary directory);
   through boto3 as root: a bucket with CloudTrail's bucket policy and a trail with log file
   validation, logging.  The server is stopped and ``--gib`` GiB (default 1) of log JSON
   (UNCOMPRESSED size; gzip makes it ~8-10x smaller on disk) is produced by the real pipeline on
   the same data dir, in this process: synthetic but varied CloudTrail records (management and
   S3 data events, random ids) are appended to the event store, the DeliveryWorker delivers
   them (``--file-events`` records per file, gzip as delivered) and the DigestWorker writes the
   hourly signed digests, on a simulated clock spread over ``--hours`` hours ending now;
   logging is then stopped (final digest).
2. The server restarts on that data dir.  The bucket is downloaded (digests with their S3
   metadata in side files) and the public keys exported (``trailgate keys export``).
3. Machine limit: every log file's bytes (read from the copy, in memory) are gunzipped with
   ``zlib`` and sha256-hashed, once on one core and once on all cores (a process per core),
   after a warm-up read.  That is the least work any validator must do on these bytes.
4. Validators, each timed as a whole command (start-up included), in this order:
   ``aws cloudtrail validate-logs`` (this environment's AWS CLI, ``AWS_ENDPOINT_URL``);
   ``trailgate validate-logs`` online (same endpoint, every check) and with
   ``--no-record-checks`` (hashes only, what the AWS CLI checks); ``trailgate validate-logs
   --offline`` on the copy.  Each must report every digest and log file valid (else exit 1).

Reported: the data (events, files, digests, compressed and uncompressed bytes), each run's
seconds, MB/s (uncompressed), CPU seconds (the validator with its worker processes) and the
server's CPU seconds during the run; the speed-up over the AWS CLI (goal >= 5x), also in CPU
seconds (validator + server: independent of other load on the machine), and trailgate's time
over the machine limit's (goal <= 2x; the all-core limit is the machine's real limit, the
one-core figure and the offline run's ratio are shown too).

trailgate gunzips with ISA-L (``isal``, 3-4x zlib's speed here), forks one worker process per
core that reads (or GETs, over keep-alive connections) the files itself, and scans the records
with two regular-expression passes.  Where the time goes (2-core box, 1 GiB, 581 files): per
file ~2 ms gunzip, ~1.5 ms SHA-256, ~2.5 ms record scan (``--no-record-checks`` skips it) in
the workers; the server spends ~2 ms CPU per GET (~1.3 s in all; the AWS CLI's run pays it
too, but it waits for it instead of overlapping it); start-up (imports, DescribeTrails,
ListPublicKeys, digests) ~0.6 s.  The AWS CLI spends its time in zlib (~2.5 s), SHA-256 (~1 s),
botocore's per-object overhead and 1 KiB reads, and waiting for the server, on one core.  With
2 cores, the AWS CLI's one-core zlib run is already within ~2-3x of what any validator needs
(gunzip + hash + the server's GETs on 2 cores), so a 5x speed-up is out of reach there; other
load on the machine (other processes, the server itself) moves every wall-clock figure a lot,
so compare figures from the same run only, and look at the CPU seconds.

This is a benchmark script, not a test.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

ACCOUNT = "111111111111"
KEY_ID = "AKIABENCHVALIDATE001"
SECRET = "bench/validate/secret/key/0000000000001"
REGION = "us-east-1"
BUCKET = "bench-trail-bucket"
TRAIL = "bench-trail"
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL}"
MB = 1_000_000


# -- the server --------------------------------------------------------------------------------


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(endpoint: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(TRAILGATE_ROOT_ACCESS_KEY_ID=KEY_ID, TRAILGATE_ROOT_SECRET_ACCESS_KEY=SECRET,
               TRAILGATE_MANAGEMENT_ACCOUNT_ID=ACCOUNT, AWS_ACCESS_KEY_ID=KEY_ID,
               AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               PYTHONPATH=str(ROOT / "src"))
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = _port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(data_dir.parent / "server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trailgate.cli", "serve", "--port", str(self.port),
             "--data-dir", str(data_dir), "--delivery-interval", "3600",
             "--digest-interval", "3600"],
            stdout=self.log, stderr=subprocess.STDOUT, env=_env())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.endpoint + "/_trailgate/health", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("server exited") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# -- the data ----------------------------------------------------------------------------------

_NAMES = ["GetObject", "PutObject", "ListBuckets", "AssumeRole", "GetUser", "ListRoles",
          "DescribeTrails", "CreateUser", "HeadBucket", "GetCallerIdentity"]
_AGENTS = ["Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux#6.1 md/arch#x86_64 lang/python#3.11",
           "aws-cli/1.46.3 md/Botocore#1.44.8 ua/2.1 os/linux#6.1 md/arch#x86_64 lang/python#3.11",
           "console.amazonaws.com"]


def _record(rng: random.Random, when: str) -> dict[str, Any]:
    user = f"user-{rng.randrange(200)}"
    data = rng.random() < 0.5
    name = rng.choice(_NAMES[:2] if data else _NAMES[2:])
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{rng.getrandbits(68):017X}",
                         "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "accountId": ACCOUNT,
                         "accessKeyId": f"AKIA{rng.getrandbits(64):016X}", "userName": user},
        "eventTime": when,
        "eventSource": "s3.amazonaws.com" if data else "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": rng.choice(_AGENTS),
        "requestParameters": {"bucketName": "data-bucket", "key": f"k/{uuid.uuid4().hex}",
                              "Host": "data-bucket.s3.us-east-1.amazonaws.com"}
        if data else {"userName": user},
        "responseElements": None,
        "requestID": f"{rng.getrandbits(64):016X}",
        "eventID": str(uuid.uuid4()),
        "readOnly": name.startswith(("Get", "List", "Describe", "Head")),
        "eventType": "AwsApiCall",
        "managementEvent": not data,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data" if data else "Management",
    }
    if data:
        record["resources"] = [
            {"type": "AWS::S3::Object",
             "ARN": f"arn:aws:s3:::data-bucket/{record['requestParameters']['key']}"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::data-bucket"},
        ]
        record["additionalEventData"] = {"SignatureVersion": "SigV4",
                                         "bytesTransferredIn": 0, "bytesTransferredOut": 512}
    return record


def setup_trail(server: Server) -> None:
    from trailgate import scenario

    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    policy = scenario.cloudtrail_bucket_policy(BUCKET, {ACCOUNT: ARN})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName=TRAIL, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    ct.start_logging(Name=TRAIL)


def generate(data_dir: Path, gib: float, hours: int, file_events: int) -> dict[str, Any]:
    """Events -> delivered log files -> hourly digests, on a simulated clock starting now
    (after the set-up's own events) and running ``hours`` hours ahead."""
    from trailgate.auth.tokens import load_or_create_master_key
    from trailgate.gateway.context import Principal
    from trailgate.services.base import Call
    from trailgate.services.cloudtrail import CloudTrailProvider
    from trailgate.services.s3 import S3Provider
    from trailgate.store.blobs import BlobStore
    from trailgate.store.sqlite import SqliteStore
    from trailgate.trail.delivery import DeliveryWorker
    from trailgate.trail.digest import DigestWorker
    from trailgate.trail.keys import KeyStore

    store = SqliteStore.open(data_dir / "trailgate.db")
    s3 = S3Provider(BlobStore(data_dir / "blobs"), REGION, read=store.read)
    clock = [datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)]
    delivery = DeliveryWorker(store, s3, REGION, 60, clock=lambda: clock[0], batch=file_events,
                              max_batches=1_000_000)
    keys = KeyStore(store, load_or_create_master_key(data_dir), clock=lambda: clock[0])
    digests = DigestWorker(store, s3, keys, 3600, clock=lambda: clock[0])
    digests.run_once(clock[0])  # opens the chain
    target = int(gib * 2**30)
    rng = random.Random(7)
    per_hour = target // hours
    produced = events = 0
    for _hour in range(hours):
        hour_bytes = 0
        while hour_bytes < per_hour:
            batch = []
            when = clock[0].strftime("%Y-%m-%dT%H:%M:%SZ")
            for _ in range(10_000):
                record = _record(rng, when)
                batch.append(record)
                hour_bytes += len(json.dumps(record, separators=(",", ":"))) + 1
            store.write_sync(lambda tx, b=batch: [  # type: ignore[misc]
                tx.append_event(ACCOUNT, r["eventTime"], r["eventID"], r) for r in b])
            events += len(batch)
            clock[0] += timedelta(minutes=1)
            delivery.run_once(clock[0])
        produced += hour_bytes
        clock[0] += timedelta(minutes=60 - (clock[0].minute % 60) or 60)
        digests.run_once(clock[0])
    root = Principal(kind="root", arn=f"arn:aws:iam::{ACCOUNT}:root", account=ACCOUNT,
                     user_id=ACCOUNT)
    call = Call(ACCOUNT, root, {"Name": TRAIL}, REGION, "bench", clock[0])
    store.write_sync(lambda tx: CloudTrailProvider().StopLogging(call, tx))
    clock[0] += timedelta(minutes=1)
    delivery.run_once(clock[0])
    clock[0] += timedelta(minutes=1)
    digests.run_once(clock[0])
    store.close()
    end = clock[0] + timedelta(minutes=1)
    return {"events": events, "approxUncompressedBytes": produced,
            "endTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


# -- copies, limit ------------------------------------------------------------------------------


def download(server: Server, target: Path) -> dict[str, Any]:
    s3 = server.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]

    def fetch(key: str) -> int:
        got = s3.get_object(Bucket=BUCKET, Key=key)
        path = target / key
        path.parent.mkdir(parents=True, exist_ok=True)
        data = got["Body"].read()
        path.write_bytes(data)
        if "/CloudTrail-Digest/" in key:
            path.with_name(path.name + ".metadata.json").write_text(json.dumps(got["Metadata"]))
        return len(data)

    with cf.ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(fetch, keys))
    logs = [k for k in keys if "/CloudTrail/" in k]
    return {"logFiles": len(logs), "digests": len(keys) - len(logs),
            "compressedBytes": sum(s for k, s in zip(keys, sizes, strict=True)
                                   if "/CloudTrail/" in k)}


def _limit_one(paths: list[str]) -> int:
    size = 0
    for path in paths:
        with open(path, "rb") as handle:
            data = zlib.decompress(handle.read(), zlib.MAX_WBITS | 16)
        hashlib.sha256(data).digest()
        size += len(data)
    return size


def limit(copy: Path, processes: int) -> tuple[float, int]:
    """Seconds to gunzip + sha256 every log file (files read from the page cache)."""
    paths = sorted(str(p) for p in copy.rglob("*.json.gz") if "/CloudTrail/" in str(p))
    for path in paths:  # warm the page cache
        Path(path).read_bytes()
    began = time.perf_counter()
    if processes == 1:
        size = _limit_one(paths)
    else:
        chunks = [paths[i::processes] for i in range(processes)]
        with cf.ProcessPoolExecutor(processes) as pool:
            size = sum(pool.map(_limit_one, chunks))
    return time.perf_counter() - began, size


# -- runs --------------------------------------------------------------------------------------


def _cpu(pid: int | None = None) -> float:
    """CPU seconds (user + system): of the waited-for children (and their waited-for
    children: a validator's worker processes) of this process, or of process ``pid`` (the
    server; Linux /proc, else 0)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(name: str, command: list[str], env: dict[str, str],
        server: Server | None = None) -> dict[str, Any]:
    served = _cpu(server.process.pid) if server else 0.0
    cpu = _cpu()
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    return {"name": name, "seconds": seconds, "cpu": _cpu() - cpu,
            "serverCpu": (_cpu(server.process.pid) - served) if server else 0.0,
            "code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def validators(server: Server, copy: Path, keys: Path, window: list[str],
               workers: int | None) -> Iterator[dict[str, Any]]:
    env = _env(server.endpoint)
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    extra = ["--workers", str(workers)] if workers else []
    tg = [sys.executable, "-m", "trailgate.cli", "validate-logs", "--trail-arn", ARN,
          *window, "--no-progress", *extra]
    yield run("aws cloudtrail validate-logs",
              [aws, "cloudtrail", "validate-logs", "--trail-arn", ARN, *window], env, server)
    yield run("trailgate validate-logs (online)", tg, env, server)
    yield run("trailgate validate-logs (online, --no-record-checks)",
              [*tg, "--no-record-checks"], env, server)
    yield run("trailgate validate-logs (offline)",
              [*tg, "--offline", str(copy), "--public-keys", str(keys)], env, server)


def _valid(result: dict[str, Any], logs: int, digests: int) -> bool:
    out = result["stdout"]
    return (result["code"] == 0 and f"{logs}/{logs} log files valid" in out
            and f"{digests}/{digests} digest files valid" in out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="GiB of uncompressed log JSON")
    parser.add_argument("--hours", type=int, default=4, help="digest periods to spread over")
    parser.add_argument("--file-events", type=int, default=2000, help="records per log file")
    parser.add_argument("--workers", type=int, default=None, help="trailgate --workers")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", help="keep the data here; a later run with the same "
                        "--keep reuses it (no new data)")
    parser.add_argument("--quick", action="store_true", help="0.05 GiB, 2 hours (smoke)")
    args = parser.parse_args(argv)
    if args.quick:
        args.gib, args.hours = 0.05, 2
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-validate-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    began = time.perf_counter()
    saved = work / "generated.json"
    if args.keep and saved.is_file():  # the data of an earlier run with the same --keep
        made = json.loads(saved.read_text())
    else:
        server = Server(data_dir)
        try:
            setup_trail(server)
        finally:
            server.stop()
        start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        made = generate(data_dir, args.gib, args.hours, args.file_events)
        made["startTime"] = start
        saved.write_text(json.dumps(made))
    window = ["--start-time", made.pop("startTime"), "--end-time", made.pop("endTime")]
    generated = time.perf_counter() - began
    server = Server(data_dir)
    try:
        copy = work / "copy" / BUCKET
        made.update(download(server, copy))
        keys = work / "keys.json"
        subprocess.run([sys.executable, "-m", "trailgate.cli", "keys", "export", "-o",
                        str(keys)], env=_env(server.endpoint), check=True)
        one, size = limit(copy, 1)
        cores = os.cpu_count() or 1
        every, _ = limit(copy, cores)
        made["uncompressedBytes"] = size
        results = list(validators(server, copy, keys, window, args.workers))
    finally:
        server.stop()
    ok = all(_valid(r, made["logFiles"], made["digests"]) for r in results)
    cli = results[0]["seconds"]
    best = min(r["seconds"] for r in results[1:])
    online = results[1]["seconds"]
    offline = results[3]["seconds"]
    cli_cpu = results[0]["cpu"] + results[0]["serverCpu"]
    online_cpu = results[1]["cpu"] + results[1]["serverCpu"]
    from trailgate.trail.validate import GUNZIP

    summary = {
        "machine": {"cpus": cores, "python": platform.python_version(),
                    "platform": platform.platform(), "trailgateGunzip": GUNZIP,
                    "loadAverage": os.getloadavg()},
        "data": made, "generateSeconds": generated,
        "limit": {"oneCoreSeconds": one, "allCoresSeconds": every},
        "runs": [{k: v for k, v in r.items() if k in ("name", "seconds", "cpu", "serverCpu",
                                                        "code")}
                 for r in results],
        "speedupOverAwsCli": {"online": cli / online, "best": cli / best,
                              "cpuOnline": cli_cpu / online_cpu if online_cpu else 0.0},
        "overLimit": {"online": online / every, "onlineVsOneCore": online / one,
                      "offline": offline / every},
        "allValid": ok,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print(summary, size)
        if not ok:
            for r in results:
                print(f"--- {r['name']} (exit {r['code']})\n{r['stdout'][-2000:]}"
                      f"{r['stderr'][-2000:]}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def _print(s: dict[str, Any], size: int) -> None:
    d = s["data"]
    m = s["machine"]
    print(f"machine: {m['cpus']} cpus, Python {m['python']}, load average "
          f"{m['loadAverage'][0]:.1f} at the end; trailgate gunzips with {m['trailgateGunzip']}")
    print(f"data: {d['events']:,} events in {d['logFiles']} log files, {d['digests']} digests; "
          f"{size / 2**30:.2f} GiB uncompressed, {d['compressedBytes'] / 2**20:.0f} MiB gzip "
          f"(generated in {s['generateSeconds']:.0f} s)")
    rows: list[tuple[str, float, str]] = [
        ("gunzip+sha256, one core (limit)", s["limit"]["oneCoreSeconds"], ""),
        (f"gunzip+sha256, {s['machine']['cpus']} cores (limit)",
         s["limit"]["allCoresSeconds"], "")]
    rows += [(r["name"] + ("" if r["code"] == 0 else f"  [exit {r['code']}]"), r["seconds"],
              f"{r['cpu']:7.2f} s {r['serverCpu']:7.2f} s") for r in s["runs"]]
    print(f"  {'':<58}{'wall':>10} {'uncompressed':>13} {'CPU':>9} {'server CPU':>10}")
    for name, seconds, cpu in rows:
        print(f"  {name:<58}{seconds:8.2f} s {size / seconds / MB:8.1f} MB/s {cpu}")
    up, over = s["speedupOverAwsCli"], s["overLimit"]
    print(f"speed-up over the AWS CLI: {up['online']:.2f}x online (best run {up['best']:.2f}x);"
          f" goal >= 5x: {'met' if up['online'] >= 5 else 'NOT met'}")
    print(f"  in CPU seconds (validator + its workers + the server; independent of other load):"
          f" AWS CLI / trailgate online = {up['cpuOnline']:.2f}x")
    print(f"trailgate online / machine limit: {over['online']:.2f}x all cores, "
          f"{over['onlineVsOneCore']:.2f}x one core; goal <= 2x: "
          f"{'met' if over['online'] <= 2 else 'NOT met'} (offline: {over['offline']:.2f}x)")
    print("all runs valid" if s["allValid"] else "SOME RUN DID NOT REPORT EVERYTHING VALID")


if __name__ == "__main__":
    sys.exit(main())
