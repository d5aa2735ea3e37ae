"""The stock AWS CLI against trailgate (AWS_ENDPOINT_URL), with role profiles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trailgate import scenario as sc

from .scenario_setup import World
from .server import MANAGEMENT, ROOT_KEY, ROOT_SECRET, Server


def aws_cli() -> list[str]:
    exe = shutil.which("aws", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the AWS CLI is not installed")
    return [exe]


def run(server: Server, home: Path, *args: str, profile: str | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_DEFAULT_REGION="us-east-1",
        HOME=str(home),
    )
    if profile:
        env["AWS_PROFILE"] = profile
    return subprocess.run(
        [*aws_cli(), *args], env=env, capture_output=True, text=True, timeout=120,
        input=stdin,
    )


@pytest.fixture(scope="module")
def cli_world(
    server: Server, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Path]]:
    home = tmp_path_factory.mktemp("awscli-home")
    creds = [
        "[default]", f"aws_access_key_id = {ROOT_KEY}", f"aws_secret_access_key = {ROOT_SECRET}",
    ]
    config = ["[default]", "region = us-east-1"]
    for name, keys in world.users.items():
        creds += [f"[{name}-user]", f"aws_access_key_id = {keys.key}",
                  f"aws_secret_access_key = {keys.secret}"]
    party = {p.name: p for p in sc.parties()}
    config += [
        "[profile r-role]", f"role_arn = arn:aws:iam::{MANAGEMENT}:role/{party['R'].role}",
        "source_profile = R-user", f"external_id = {sc.EXTERNAL_ID}", "region = us-east-1",
        "[profile r-role-no-id]", f"role_arn = arn:aws:iam::{MANAGEMENT}:role/{party['R'].role}",
        "source_profile = R-user", "region = us-east-1",
        "[profile d-role]", f"role_arn = arn:aws:iam::{MANAGEMENT}:role/{party['D'].role}",
        "source_profile = D-user", f"mfa_serial = {world.mfa_serial}", "region = us-east-1",
    ]
    (home / "credentials").write_text("\n".join(creds) + "\n")
    (home / "config").write_text("\n".join(config) + "\n")
    yield world, home


@pytest.mark.slow
def test_create_role_with_the_cli(server: Server, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(sc.trust_account(sc.D, mfa=True)))
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials").write_text(
        f"[default]\naws_access_key_id = {ROOT_KEY}\naws_secret_access_key = {ROOT_SECRET}\n"
    )
    (home / "config").write_text("[default]\nregion = us-east-1\n")
    out = run(server, home, "iam", "create-role", "--role-name", "CliRole",
              "--assume-role-policy-document", f"file://{trust}")
    assert out.returncode == 0, out.stderr
    role = json.loads(out.stdout)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{MANAGEMENT}:role/CliRole"
    assert role["AssumeRolePolicyDocument"] == sc.trust_account(sc.D, mfa=True)
    again = run(server, home, "iam", "create-role", "--role-name", "CliRole",
                "--assume-role-policy-document", f"file://{trust}")
    assert again.returncode == 255  # AWS CLI v1: service errors exit 255
    assert "EntityAlreadyExists" in again.stderr


@pytest.mark.slow
def test_profiles_with_external_id_and_mfa(cli_world: tuple[World, Path], server: Server) -> None:
    world, home = cli_world
    ok = run(server, home, "sts", "get-caller-identity", profile="r-role")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Arn"].startswith(
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.R_ROLE}/botocore-session-"
    )
    refused = run(server, home, "sts", "get-caller-identity", profile="r-role-no-id")
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr
    mfa = run(server, home, "sts", "get-caller-identity", profile="d-role",
              stdin=world.next_code() + "\n")
    assert mfa.returncode == 0, mfa.stderr
    assert json.loads(mfa.stdout)["Arn"].startswith(
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/{sc.D_ROLE}/botocore-session-"
    )
