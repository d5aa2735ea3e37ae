"""Smoke test of ``bench/record_cost.py``: one tiny in-process run.  Proves the benchmark runs
end to end on successful calls and reports every mode and step; timings are not checked."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "record_cost.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_cost_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
