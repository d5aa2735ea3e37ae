"""Helpers shared by the server benchmarks (api_load, s3_load, trail_load, peers): a free port,
the server subprocess's log tail and stop, moto's installation, a bootstrap interval.  The
scripts put this folder on ``sys.path`` themselves, so they also run when loaded by path (their
smoke tests)."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def bootstrap_interval(
    rounds: Sequence[T], statistic: Callable[[Sequence[T]], float], *,
    level: float = 0.9, resamples: int = 2000, seed: int = 1,
) -> tuple[float, float]:
    """A percentile bootstrap interval of ``statistic`` over ``rounds`` (each round, e.g. a
    pair of passes run a few seconds apart, resampled whole, with replacement): the range
    that holds ``level`` of the statistic's values over ``resamples`` resamples.  Seeded, so
    the same rounds give the same interval.  The rounds are treated as independent; on a
    machine whose speed drifts slowly they are not quite, so read it as a guide."""
    if not rounds:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    n = len(rounds)
    values = sorted(statistic([rounds[rng.randrange(n)] for _ in range(n)])
                    for _ in range(resamples))
    tail = (1.0 - level) / 2
    low = values[int(tail * resamples)]
    high = values[min(resamples - 1, int((1.0 - tail) * resamples))]
    return low, high


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
