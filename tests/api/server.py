"""Start and stop a real ``trailgate serve`` process for API tests (127.0.0.1 only, stopped
by its own pid)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

ROOT_KEY = "AKIATRAILGATEROOT001"
ROOT_SECRET = "trailgate/root/secret/key/for/tests/0001"
MANAGEMENT = "111111111111"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET,
               token: str | None = None, region: str = REGION) -> object:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start(
    data_dir: Path,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = ("--delivery-interval", "2"),
) -> Server:
    port = port or free_port()
    env = dict(os.environ)
    env.update(
        TRAILGATE_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILGATE_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        TRAILGATE_MANAGEMENT_ACCOUNT_ID=MANAGEMENT,
    )
    env.update(extra_env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    log = open(log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
    process = subprocess.Popen(
        [sys.executable, "-m", "trailgate.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--data-dir", str(data_dir), *extra_args],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    server = Server(process, port, data_dir, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited:\n" + log_path.read_text())
        try:
            with urllib.request.urlopen(server.endpoint + "/_trailgate/health", timeout=2) as r:
                if json.loads(r.read())["status"] == "ok":
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError("server did not become healthy:\n" + log_path.read_text())
