"""Smoke test of ``bench/policy_eval.py``: the workload generator and both engines on a few
requests with a tiny iteration count.  Proves the benchmark runs and that trailgate and Cedar
(on the translated policies) decide the same; timings are not checked."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("cedarpy")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "policy_eval.py"


def test_workload_is_balanced_and_engines_agree(bench: ModuleType) -> None:
    workload = bench.build_workload(7, 40, bench.trailgate_classifier, n_roles=12)
    assert len(workload.requests) == 40
    assert len(workload.roles) == 12
    tg = bench.TrailgateEngine(workload.roles)
    cd = bench.CedarEngine(workload.roles, (r.resource for r in workload.requests))
    agreement = bench.check_agreement(workload, tg, cd)
    assert agreement.trailgate_allowed == 20
    assert agreement.disagreements == 0, agreement.examples
    assert agreement.batch_mismatches == 0
    assert agreement.cedar_errors == 0, agreement.examples

    samples = bench.run_rounds(workload, tg, cd, rounds=2)
    assert all(len(runs) == 2 for runs in samples.values())
    report = bench.build_report(workload, tg, cd, agreement, samples)
    assert report["allow_share_trailgate"] == 0.5
    assert report["allow_share_cedar"] == 0.5
    assert report["median"][bench.PATH_TRAILGATE]["dec_per_s"] > 0
    assert report["cedar_path_for_ratio"] in bench.PUBLIC_PATHS


def test_main_json_output(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--requests", "20", "--rounds", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["workload"]["roles"] == 100
    assert report["workload"]["requests"] == 20
    assert report["disagreements"] == 0
    assert set(report["goals"]) == {"ratio_ge_10x", "trailgate_p50_le_10us", "zero_disagreements"}
