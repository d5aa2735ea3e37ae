"""Smoke test of ``bench/compare_trees.py``: two servers of the installed tree (recording on
and off) loaded together for one short round.  Proves the script runs end to end on
successful calls and reports both servers and their ratio; timings are not checked."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "compare_trees.py"


def test_specs_are_parsed(bench: ModuleType) -> None:
    assert bench.parse_spec("a=.:on") == ("a", None, True)
    assert bench.parse_spec("b=/tmp/x/src:off") == ("b", "/tmp/x/src", False)
    for bad in ("a", "a=.", "a=.:maybe", "=.:on"):
        with pytest.raises(Exception, match="NAME=SRC"):
            bench.parse_spec(bad)


def test_tiny_run(bench: ModuleType) -> None:
    lines: list[str] = []
    result = bench.run([("on", None, True), ("off", None, False)], 1, 1.0, 2, lines.append)
    assert set(result["servers"]) == {"on", "off"}
    for row in result["servers"].values():
        assert row["calls_per_s"] > 0
        assert row["cpu_ms_per_call"] >= 0
    assert list(result["throughput_ratios"]) == ["on/off"]
    assert len(result["throughput_ratios"]["on/off"]["rounds"]) == 1
    assert len(lines) == 2  # the warm-up and the round
    assert "throughput on/off" in bench.report(result)


def test_tiny_alternating_run(bench: ModuleType) -> None:
    """``--alternate``: one server at a time, each round in turn; the same report."""
    lines: list[str] = []
    result = bench.run([("on", None, True), ("off", None, False)], 2, 1.0, 2, lines.append,
                       alternate=True)
    assert result["alternate"] is True
    assert all(row["calls_per_s"] > 0 for row in result["servers"].values())
    assert len(result["throughput_ratios"]["on/off"]["rounds"]) == 2
    assert len(lines) == 3  # the warm-up and two rounds
    assert bench.report(result).startswith("Servers loaded one at a time, in turn: 2 rounds")


def test_bootstrap_interval(bench: ModuleType) -> None:
    """The shared helper behind both benchmarks' intervals: seeded, so reproducible; rounds
    all alike give a point; the interval holds the statistic of the rounds themselves."""
    import statistics

    bootstrap_interval = bench.bootstrap_interval
    assert bootstrap_interval([0.8] * 9, statistics.median) == (0.8, 0.8)
    rounds = [0.70, 0.95, 0.88, 0.81, 0.99, 0.77, 0.85, 0.90, 0.83, 0.92]
    low, high = bootstrap_interval(rounds, statistics.median)
    assert min(rounds) <= low <= statistics.median(rounds) <= high <= max(rounds)
    assert low < high
    assert bootstrap_interval(rounds, statistics.median) == (low, high)
    wider = bootstrap_interval(rounds, statistics.median, level=0.99)
    assert wider[0] <= low and wider[1] >= high
    nan = bootstrap_interval([], statistics.median)
    assert all(v != v for v in nan)
