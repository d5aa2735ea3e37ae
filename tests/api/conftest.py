from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .scenario_setup import World, build
from .server import Server, start


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(Path(tmp_path_factory.mktemp("trailgate-data")))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def world(server: Server) -> World:
    """The seed scenario built once per test session (accounts D, E, R; Admin's roles)."""
    return build(server)
