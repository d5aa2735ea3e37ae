"""Smoke test of ``bench/record_cost.py``: one tiny in-process run.  Proves the benchmark runs
end to end on successful calls and reports every mode and step; timings are not checked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record_cost.py"


def test_tiny_run(bench: ModuleType) -> None:
    lines: list[str] = []
    result = asyncio.run(bench.run(1, 1200, lines.append))
    medians = result["medians_us_per_call"]
    assert set(medians) == {"off", "after", "concurrent"}
    for mode in medians.values():
        assert mode["total_us"] > 0
        assert set(mode) == {"total_us", *(f"{step}_us" for step in bench.STEPS)}
    assert medians["off"]["record_us"] < medians["after"]["record_us"]
    assert len(lines) == 3
    assert "recording costs the thread" in bench.report(result)
