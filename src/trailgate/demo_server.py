"""The server of ``trailgate demo`` (:mod:`trailgate.demo`): ``trailgate serve`` as a child
process on a free port with a root access key the demo generated, stopped by its pid."""

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
from typing import Any

from .auth.tokens import new_access_key_id, new_secret_access_key
from .demo_common import (
    DELIVERY_INTERVAL,
    DIGEST_INTERVAL,
    HOST,
    REGION,
    WAIT_LIMIT,
    DemoError,
    Keys,
)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    root: Keys
    management: str = ""

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.endpoint + "/_trailgate/health", timeout=2) as r:
                body: dict[str, Any] = json.loads(r.read())
                return body if body.get("status") == "ok" else None
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM, then SIGKILL after 20 s."""
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> Server:
    """``trailgate serve`` as a child process (own session, so a terminal's Ctrl-C reaches the
    demo, which then stops it); returns once ``/_trailgate/health`` answers."""
    root = Keys(new_access_key_id("AKIA"), new_secret_access_key())
    env = dict(os.environ)
    env.update(TRAILGATE_ROOT_ACCESS_KEY_ID=root.key, TRAILGATE_ROOT_SECRET_ACCESS_KEY=root.secret)
    env.pop("TRAILGATE_MANAGEMENT_ACCOUNT_ID", None)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "trailgate.cli", "serve", "--host", HOST, "--port", str(port),
             "--data-dir", str(data_dir), "--region", REGION,
             "--delivery-interval", str(DELIVERY_INTERVAL),
             "--digest-interval", str(DIGEST_INTERVAL)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
    server = Server(process, port, data_dir, log_path, root)
    deadline = time.monotonic() + WAIT_LIMIT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                lines = log_path.read_text(errors="replace").strip().splitlines() or ["-"]
                raise DemoError(f"the server exited at start ({lines[-1]}); log: {log_path}")
            health = server.health()
            if health is not None:
                server.management = str(health["managementAccountId"])
                return server
            time.sleep(0.1)
        raise DemoError(f"the server did not answer within {WAIT_LIMIT:.0f} s; see {log_path}")
    except BaseException:
        server.stop()
        raise
