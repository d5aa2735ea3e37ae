"""``bench/record_instructions.py``: its arithmetic and the server-side stretch, and, where
valgrind is installed, one short run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record_instructions.py"


def test_total_instructions_reads_the_summary(bench: ModuleType) -> None:
    text = "desc: --cache-sim=no\ncmd: python\nevents: Ir\nfl=a.c\nfn=f\n3 12\nsummary: 98765\n"
    assert bench.total_instructions(text) == 98765
    with pytest.raises(ValueError):
        bench.total_instructions("events: Ir\n")


def test_per_call_cancels_start_up(bench: ModuleType) -> None:
    # start-up 1,000,000 instructions, then 500 per call: 100 calls and 300 calls
    assert bench.per_call((1_000_000 + 300 * 500, 300), (1_000_000 + 100 * 500, 100)) == 500
    with pytest.raises(ValueError):
        bench.per_call((10, 5), (8, 5))


def test_sitecustomize_stretches_the_servers_periodic_work(
    bench: ModuleType, tmp_path: Path
) -> None:
    """Loaded by a ``python -m trailgate.cli`` process, it multiplies the journal's move and
    sync periods; any other process is left alone."""
    bench._write_sitecustomize(tmp_path, 10.0)
    probe = ("import trailgate.app, trailgate.store.journal as j; "
             "print(trailgate.app.INDEX_PERIOD, j.EventJournal.__init__.__defaults__[0])")
    other = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True, env={"PYTHONPATH": str(tmp_path)})
    from trailgate import app
    from trailgate.store import journal

    assert other.stdout.split() == [str(app.INDEX_PERIOD), str(journal.SYNC_INTERVAL)]
    code = (tmp_path / "sitecustomize.py").read_text()
    namespace: dict[str, object] = {}
    saved = (app.INDEX_PERIOD, journal.EventJournal.__init__.__defaults__)
    real_argv = sys.orig_argv
    try:
        sys.orig_argv = [sys.executable, "-m", "trailgate.cli", "serve"]
        exec(compile(code, "sitecustomize.py", "exec"), namespace)
        stretched = app.INDEX_PERIOD
        assert stretched == saved[0] * 10
        assert journal.EventJournal.__init__.__defaults__[0] == journal.SYNC_INTERVAL * 10
    finally:
        sys.orig_argv = real_argv
        app.INDEX_PERIOD = saved[0]
        journal.EventJournal.__init__.__defaults__ = saved[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_short_run(bench: ModuleType) -> None:
    result = bench.run(4.0, 12.0, 25.0, 4, 5, lambda line: None)
    assert result["per_call_off"] > 100_000
    assert result["per_call_on"] > result["per_call_off"]
    assert 0 < result["added_by_recording"] < 1
    assert len(result["functions"]) == 5
    assert "recording adds" in bench.report(result)
