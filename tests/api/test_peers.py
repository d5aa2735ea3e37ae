"""Smoke test of ``bench/peers.py``: the seed scenario's decision table against trailgate and
moto's server (both started by the script on 127.0.0.1 and stopped by pid).  trailgate must
answer every check as expected; moto's answers are only checked to be there (they are what
the README's comparison reports, not a property of trailgate)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("moto")
pytest.importorskip("flask")  # moto's server needs moto[server]

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "peers.py"


def test_trailgate_and_moto(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    began = time.monotonic()
    assert bench.main(["--peers", "trailgate,moto", "--no-install", "--json", "--wait", "40"]) == 0
    took = time.monotonic() - began
    report = json.loads(capsys.readouterr().out)
    assert report["trailgate_as_expected"] is True
    assert report["setup_errors"]["trailgate"] == {}
    assert len(report["checks"]) == len(bench.CHECKS) >= 18
    for check in report["checks"]:
        assert check["actual"]["trailgate"] == check["expected"], check
        assert check["actual"]["moto"], check
    assert report["versions"]["moto"] != "absent"
    assert took < 60, f"bench/peers.py took {took:.0f} s"


def test_markdown_table(bench: ModuleType) -> None:
    peer = bench.Peer("trailgate", server=None, root=bench.Keys("k", "s"))
    peer.results = {c.what: c.expected for c in bench.CHECKS}
    other = bench.Peer("moto", server=None, root=bench.Keys("k", "s"))
    other.results = {bench.CHECKS[0].what: "ok"}
    lines = bench.table([peer, other], markdown=True).splitlines()
    assert lines[0].startswith("| check | expected | trailgate | moto |")
    assert len(lines) == 2 + len(bench.CHECKS) + 1
    assert lines[2].endswith("| yes / no |")
    assert lines[3].endswith("| yes / - |")
    assert f"**{len(bench.CHECKS)} of {len(bench.CHECKS)}**" in lines[-1]
