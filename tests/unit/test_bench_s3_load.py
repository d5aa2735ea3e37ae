"""Smoke test of ``bench/s3_load.py``: one tiny run against trailgate and moto's server (both
started by the script on 127.0.0.1 and stopped by pid), with a 16 MiB object (multipart, like
the 1 GiB one) through ``aws s3 cp``.  Proves the benchmark runs end to end, every response it
measured was checked and a success, and the transfer round-trips; timings are not checked."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("moto")
pytest.importorskip("flask")  # moto's server needs moto[server]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "s3_load.py"


def test_checks_reject_wrong_bodies(bench: ModuleType) -> None:
    content = b"x" * 4096
    assert bench.get_check(content)(content) is None
    assert bench.get_check(content)(content[:-1]) is not None
    listing = b"<IsTruncated>false</IsTruncated>" + b"<Key>k</Key>" * 1000
    assert bench.list_check(listing) is None
    assert bench.list_check(listing.replace(b"false", b"true")) is not None
    assert bench.list_check(b"<IsTruncated>false</IsTruncated>" + b"<Key>k</Key>" * 999)


def test_profile_analysis(bench: ModuleType) -> None:
    main = "thread (1): MainThread;<module> (trailgate/cli.py:1);run (uvicorn/main.py:2)"
    app = f"{main};TrailgateApp.__call__ (/x/src/trailgate/app.py:3)"
    raw = "\n".join([
        f"{main};EpollSelector.select (selectors.py:4) 5",
        f"{app};Gateway.handle (trailgate/gateway/chain.py:5);"
        "Gateway.authorize (trailgate/gateway/chain.py:6);evaluate (trailgate/policy/evaluate.py:7) 3",
        f"{app};_send (trailgate/app.py:8);write (asyncio/selector_events.py:9) 2",
        "thread (2): trailgate-store-writer:db;run (threading.py:1);"
        "SqliteStore._writer_main (trailgate/store/sqlite/store.py:2);"
        "SqliteStore._commit_group (trailgate/store/sqlite/store.py:3) 3",
    ])
    result = bench.analyse_profile(raw)
    assert (result["samples_busy"], result["samples_idle"]) == (8, 5)
    assert dict(result["layers_pct"]) == {
        "gateway: authorize": 37.5,
        "store: writer thread (transactions, commits)": 37.5,
        "app: send the response (ASGI send, HTTP framing, socket write)": 25.0,
    }
    assert result["top_own_pct"][0] == ("evaluate (trailgate/policy/evaluate.py)", 37.5)
    assert dict(result["top_total_pct"])["TrailgateApp.__call__ (trailgate/app.py)"] == 62.5
    assert "<module> (trailgate/cli.py)" not in dict(result["top_total_pct"])


@pytest.mark.slow
def test_tiny_run_against_both_servers(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--rounds", "1", "--get-requests", "40", "--list-requests", "4",
            "--moto-list-requests", "2", "--connections", "2", "--big-mib", "16",
            "--no-install", "--json"]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 0
    assert report["versions"]["moto"] != "absent"
    for op, counts in (("GetObject", (40, 40)), ("ListObjectsV2", (4, 2))):
        for server, count in zip(("trailgate", "moto"), counts, strict=True):
            (run,) = report["samples"][op][server]
            assert run["requests"] == count
            assert run["statuses"] == {"200": count}
            assert run["bad_bodies"] == 0
            assert run["server_cpu_ms_per_req"] >= 0
            assert run["server_main_thread_ms_per_req"] >= 0
        assert report["samples"][op]["trailgate"][0]["reconnects"] == 0  # keep-alive held
    assert report["samples"]["GetObject"]["trailgate"][0]["body_bytes_per_req"] == 4096
    big = report["big"]
    assert big["size_mib"] == 16
    assert big["sha256_match"] is True
    assert 0 < big["server_peak_rss_mib"] < 1024
    assert {"cp", "upload", "download"} <= set(big)
    goals = report["goals"]
    assert goals["no_error_responses"] is True
    assert goals["big_sha256_match"] is True
    assert set(goals) >= {"GetObject_cpu_le_0.25x_moto", "ListObjectsV2_cpu_le_0.1x_moto",
                          "big_peak_rss_lt_150MiB"}
