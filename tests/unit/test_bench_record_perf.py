"""``bench/record_perf.py``: parsing ``perf script`` output, its arithmetic, and, where perf
can sample a process here, one short run."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record_perf.py"

SCRIPT = """\
   4242/4242      7faad40fde45 _PyEval_EvalFrameDefault (/usr/lib/libpython3.11.so.1.0)
   4242/4242      7faad40fde45 _PyEval_EvalFrameDefault (/usr/lib/libpython3.11.so.1.0)
   4242/4250      ffffffff8a2b4c10 _raw_spin_unlock_irqrestore ([kernel.kallsyms])
   4242/4250      7f00aa001234 [unknown] (/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6)
   4242/4251      7f00aa001234 sqlite3VdbeExec+0x1f (/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6)
   9999/9999      7faad40fde45 _PyEval_EvalFrameDefault (/usr/lib/libpython3.11.so.1.0)
 not a sample line
"""


def test_samples_are_charged_to_role_object_and_symbol(bench: ModuleType) -> None:
    """The main thread is the event loop; other threads of the process are ``other``;
    another process's samples and lines that are no samples are left out."""
    found = bench.parse_samples(SCRIPT, 4242)
    assert found == Counter({
        ("loop", "libpython3.11.so.1.0", "_PyEval_EvalFrameDefault"): 2,
        ("other", "kernel", "_raw_spin_unlock_irqrestore"): 1,
        ("other", "libsqlite3.so.0.8.6", "[unknown]"): 1,
        ("other", "libsqlite3.so.0.8.6", "sqlite3VdbeExec"): 1,
    })


def test_per_call_and_comparison(bench: ModuleType) -> None:
    # 999 samples at 999 Hz are 1 s of CPU: over 10,000 calls, 100 µs per call
    assert bench.per_call_us(999, 10_000, 999) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        bench.per_call_us(1, 0, 999)
    on = Counter({"loop": 400, "other": 100})
    off = Counter({"loop": 300, "other": 25})
    rows = bench.compare(on, off, {"on": 1000.0, "off": 1000.0}, 1000.0)
    assert [row["key"] for row in rows] == ["loop", "other"]
    assert rows[0] == {"key": "loop", "on_us": 400.0, "off_us": 300.0, "diff_us": 100.0,
                       "change": 0.333, "error": round((1 / 400 + 1 / 300) ** 0.5, 3)}
    assert rows[1]["change"] == 3.0
    assert bench.compare(on, off, {"on": 1.0, "off": 1.0}, 1.0, minimum=200) == [
        bench.compare(on, off, {"on": 1.0, "off": 1.0}, 1.0)[0]]


def _perf_works() -> bool:
    if shutil.which("perf") is None:
        return False
    probe = subprocess.run(["perf", "record", "-q", "-o", "/dev/null", "--", "true"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _perf_works(), reason="perf cannot sample here")
def test_a_short_run_reports_both_threads(bench: ModuleType) -> None:
    result = bench.run(1, 1.5, 499, 4, lambda line: None)
    assert result["calls"]["on"] > 0 and result["calls"]["off"] > 0
    assert {row["key"] for row in result["roles"]} >= {"loop"}
    text = bench.report(result, 5)
    assert "thread: loop" in text
