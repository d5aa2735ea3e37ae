"""Smoke test of ``bench/api_load.py``: one tiny run against trailgate and moto's server (both
started by the script on 127.0.0.1 and stopped by pid), with the access-key passes at 10 and 30
users.  Proves the benchmark runs end to end and every response it measured was a success;
timings are not checked."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("moto")
pytest.importorskip("flask")  # moto's server needs moto[server]

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "api_load.py"


def test_profile_analysis_drops_idle_samples(bench: ModuleType) -> None:
    raw = "\n".join([
        "thread (1): MainThread;run (uvicorn/main.py:1);EpollSelector.select (selectors.py:4) 7",
        "thread (1): MainThread;TrailgateApp.__call__ (trailgate/app.py:1);"
        "Gateway.handle (trailgate/gateway/chain.py:2);"
        "Gateway.authenticate (trailgate/gateway/chain.py:3);verify (trailgate/auth/sigv4.py:9) 3",
        "thread (2): trailgate.db;SqliteStore._writer_main (trailgate/store/sqlite/store.py:5) 9",
        "thread (1): MainThread;TrailgateApp.__call__ (trailgate/app.py:1);"
        "_send (trailgate/app.py:2);write (asyncio/selector_events.py:3) 1",
    ])
    result = bench.analyse_profile(raw)
    assert result["samples_active"] == 4
    assert result["samples_idle"] == 16
    assert dict(result["categories_pct"])["gateway: authenticate"] == 75.0
    assert result["top_own_pct"][0] == ("verify (trailgate/auth/sigv4.py)", 75.0)


def test_tiny_run_against_both_servers(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--requests", "40", "--rounds", "1", "--connections", "2",
            "--index-users", "30", "--no-install", "--json"]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 0
    assert report["goals"]["no_error_responses"] is True
    assert report["versions"]["moto"] != "absent"
    for op in ("GetCallerIdentity", "AssumeRole"):
        for server in ("trailgate", "moto"):
            (run,) = report["samples"][op][server]
            assert run["requests"] == 40
            assert run["statuses"] == {"200": 40}
            assert run["server_cpu_ms_per_req"] >= 0
        assert report["samples"][op]["trailgate"][0]["reconnects"] == 0  # keep-alive held
    assert [entry["users"] for entry in report["index"]] == [10, 30]
    assert report["index_creation"]["added"] == 20
    assert set(report["index_growth_x"]) == {
        "warm_cpu_ms_per_req", "cold_lookup_cpu_ms_per_req", "list_keys_cpu_ms_per_req"
    }
