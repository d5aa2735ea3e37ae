from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from .scenario_setup import World, build
from .server import REGION, ROOT_KEY, ROOT_SECRET, Server, start


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(Path(tmp_path_factory.mktemp("trailgate-data")))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own, for tests whose accounts the other tests must not see."""
    srv = start(Path(tmp_path_factory.mktemp("own-server")))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def world(server: Server) -> World:
    """The seed scenario built once per test session (accounts D, E, R; Admin's roles)."""
    return build(server)


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    """IAM as the management account's root user (all-powerful in its own account)."""
    return server.client("iam")


@pytest.fixture(scope="module")
def unchecked_iam(server: Server) -> Any:
    """Root IAM client that skips botocore's client-side checks, so the server sees the value."""
    return boto3.client(
        "iam", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
