"""Shared by every test folder: the ``bench`` fixture of the benchmark scripts' smoke tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench(request: pytest.FixtureRequest) -> ModuleType:
    """The benchmark script the test module names in ``BENCH`` (a path under ``bench/``),
    loaded as a module (the scripts are not a package)."""
    script: Path = request.module.BENCH
    spec = importlib.util.spec_from_file_location(f"{script.stem}_bench", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
