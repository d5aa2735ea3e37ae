"""Smoke test of ``bench/trail_load.py``: one tiny run (two servers, recording on and off, a
short soak with a logging trail, a few thousand stored events and a few LookupEvents calls;
every server started by the script on 127.0.0.1 and stopped by its pid).  Proves the benchmark
runs end to end and what it measured were successes; timings and verdicts are not checked."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "trail_load.py"


def test_profile_analysis_per_call(bench: ModuleType) -> None:
    raw = "\n".join([
        "thread (1): MainThread;run (uvicorn/main.py:1);EpollSelector.select (selectors.py:4) 7",
        "thread (2): writer;SqliteStore._writer_main (trailgate/store/sqlite/store.py:5);"
        "SqliteStore._commit_group (trailgate/store/sqlite/store.py:6);"
        "SqliteStore._finish (trailgate/store/sqlite/store.py:7) 4",
        "thread (1): MainThread;TrailgateApp.__call__ (trailgate/app.py:1);"
        "Gateway.handle (trailgate/gateway/chain.py:2);"
        "Gateway.authenticate (trailgate/gateway/chain.py:3);verify (trailgate/auth/sigv4.py:9) 2",
    ])
    result = bench.analyse_profile(raw)
    assert result["samples_active"] == 6 and result["samples_idle"] == 7
    assert result["categories"] == {"store writer: COMMIT (fsync)": 4,
                                    "gateway: authenticate": 2}
    on = {"own": {"a": 3.0, "b": 1.0}}
    off = {"own": {"a": 1.0, "c": 0.5}}
    assert bench.per_call_diff(on, off, "own", 2) == [("a", 3.0, 1.0, 2.0), ("b", 1.0, 0.0, 1.0)]


def test_tiny_run(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--quick", "--json", "--rounds", "1", "--pass-seconds", "1", "--connections", "4",
            "--soak", "6", "--delivery-interval", "1", "--sample-seconds", "1",
            "--events", "3000", "--lookup-calls", "5"]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 0
    assert report["goals"]["no_error_responses"] is True
    for name in ("recording-on", "recording-off"):
        (run,) = report["ab_samples"][name]
        assert run["requests"] > 0
        assert set(run["statuses"]) == {"200"}
        assert run["connections_opened"] == 4  # keep-alive held
    assert report["ab_samples"]["recording-on"][0]["events_per_req"] == 1.0
    assert report["ab_samples"]["recording-off"][0]["events_recorded"] == 0
    soak = report["soak"]
    assert soak["pass"]["requests"] > 0 and soak["samples"]
    assert soak["drained_after_s"] is not None
    delivery = soak["delivery"]
    assert delivery["exactly_once"] is True and delivery["latest_delivery_error"] is None
    assert delivery["delivered_events"] > 0
    assert delivery["objects_in_bucket"] == delivery["delivered_files"] > 0
    lookups = report["lookups"]
    assert lookups["populate"]["events"] == 3000
    assert lookups["populate"]["rows_checked_against_index_rows"] == 3
    assert len(lookups["kinds"]) == 4
    for kind in lookups["kinds"].values():
        assert kind["calls"] == 5
        assert kind["p50_ms"] > 0


def test_control_run(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """``--control``: both servers record nothing, no soak, no goal about recording."""
    argv = ["--quick", "--json", "--control", "--rounds", "1", "--pass-seconds", "1",
            "--connections", "4", "--soak", "6", "--events", "0"]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["control"] is True
    assert report["goals"] == {"control_both_store_none": True, "no_error_responses": True}
    for name in ("recording-on", "recording-off"):
        (run,) = report["ab_samples"][name]
        assert run["requests"] > 0 and set(run["statuses"]) == {"200"}
        assert run["events_recorded"] == 0
    assert report["soak"] is None and report["lookups"] is None
    bench.print_report(report)
    assert "A/A CONTROL: recording-on records nothing either" in capsys.readouterr().out
