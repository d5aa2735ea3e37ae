"""Helpers shared by the server benchmarks (api_load, s3_load, trail_load, peers): a free port,
the server subprocess's log tail and stop, moto's installation.  The scripts put this folder on
``sys.path`` themselves, so they also run when loaded by path (their smoke tests)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Mixin of a benchmark's server record: ``process`` (the Popen) and ``log_path``."""

    process: subprocess.Popen[bytes]
    log_path: Path
    stop_timeout: float = 30.0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended in time (by the process's own pid)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=self.stop_timeout)


def ensure_moto(install: bool, who: str) -> None:
    """Install ``moto[server]`` into this interpreter's environment when it is missing."""
    missing = [m for m in ("moto", "flask", "werkzeug") if importlib.util.find_spec(m) is None]
    if not missing:
        return
    if not install:
        raise SystemExit(f"{who}: {', '.join(missing)} missing; pip install 'moto[server]'")
    print(f"{who}: installing moto[server] (missing: {', '.join(missing)})", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "moto[server]"], check=True)
    importlib.invalidate_caches()
