"""Smoke test of ``bench/record_bytecodes.py``: one tiny in-process run.  Proves the counts
come from successful calls, are repeatable with recording off, and name the recorder's
functions as what recording adds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record_bytecodes.py"


def test_tiny_run(bench: ModuleType) -> None:
    result = asyncio.run(bench.run(60, 40))
    off, again, on = result["per_call_off"], result["per_call_off_again"], result["per_call_on"]
    assert off > 1000
    assert abs(off - again) <= off * 0.01  # counted, not timed: the same work again
    assert result["added_by_recording"] > 0
    assert abs(result["added_by_recording"] - (on - off)) <= 0.11  # each figure rounded
    added = {row["function"]: row["added"] for row in result["functions"]}
    assert added["journal_read (recording.py)"] > 0
    assert added["append_line (journal.py)"] > 0
    assert "recording adds" in bench.report(result)
