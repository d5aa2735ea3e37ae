"""Audit 18: STS through boto3 and the stock AWS CLI's role profiles (role_arn with
source_profile or credential_source, role_session_name, duration_seconds, external_id, chained
profiles), and GetFederationToken's PackedPolicySize."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .scenario_setup import World
from .server import MANAGEMENT, Server
from .test_awscli import aws_cli, run

EXTERNAL_ID = "audit18-ext-id"


def _trust(condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_bare_federation_token_reports_packed_policy_size_zero(world: World) -> None:
    """AWS answers GetFederationToken with PackedPolicySize 0 when no session policy or tag is
    passed (unlike AssumeRole, which then leaves the element out)."""
    out = world.client("sts", world.admin).get_federation_token(Name="audit18-fed",
                                                                DurationSeconds=900)
    assert out["PackedPolicySize"] == 0
    assert out["FederatedUser"] == {
        "FederatedUserId": f"{MANAGEMENT}:audit18-fed",
        "Arn": f"arn:aws:sts::{MANAGEMENT}:federated-user/audit18-fed",
    }
    left = out["Credentials"]["Expiration"] - datetime.now(UTC)
    assert 890 < left.total_seconds() <= 900


@pytest.fixture(scope="module")
def cli_home(server: Server, world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Role profiles over the seed world's admin user: one role of a 2-hour MaxSessionDuration,
    one that needs an ExternalId."""
    iam = world.client("iam", world.admin)
    suffix = secrets.token_hex(3)
    long_role, ext_role = f"a18-long-{suffix}", f"a18-ext-{suffix}"
    iam.create_role(RoleName=long_role, AssumeRolePolicyDocument=_trust(),
                    MaxSessionDuration=7200)
    iam.put_role_policy(RoleName=long_role, PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }))
    iam.create_role(RoleName=ext_role, AssumeRolePolicyDocument=_trust(
        {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}))
    home = tmp_path_factory.mktemp("audit18-cli")
    (home / "credentials").write_text(
        f"[admin]\naws_access_key_id = {world.admin.key}\n"
        f"aws_secret_access_key = {world.admin.secret}\n"
    )
    base = f"arn:aws:iam::{MANAGEMENT}:role"
    (home / "config").write_text("\n".join([
        "[profile plain]", f"role_arn = {base}/{long_role}", "source_profile = admin",
        "[profile named]", f"role_arn = {base}/{long_role}", "source_profile = admin",
        "role_session_name = audit18-sess", "duration_seconds = 7200",
        "[profile too-long]", f"role_arn = {base}/{long_role}", "source_profile = admin",
        "duration_seconds = 7201",
        "[profile chained]", f"role_arn = {base}/{ext_role}", "source_profile = named",
        f"external_id = {EXTERNAL_ID}", "role_session_name = chain",
        "[profile chained-no-id]", f"role_arn = {base}/{ext_role}", "source_profile = named",
        "role_session_name = chain",
        "[profile env]", f"role_arn = {base}/{long_role}", "credential_source = Environment",
        "role_session_name = from-env",
        "[profile bad-name]", f"role_arn = {base}/{long_role}", "source_profile = admin",
        "role_session_name = bad name",
    ]) + "\n")
    (home / "roles.json").write_text(json.dumps([long_role, ext_role]))
    return home


def _roles(home: Path) -> tuple[str, str]:
    long_role, ext_role = json.loads((home / "roles.json").read_text())
    return long_role, ext_role


def _identity(server: Server, home: Path, profile: str) -> Any:
    out = run(server, home, "sts", "get-caller-identity", "--profile", profile)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _error_line(server: Server, home: Path, profile: str) -> str:
    out = run(server, home, "sts", "get-caller-identity", "--profile", profile)
    assert out.returncode == 255
    return out.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_role_profiles_name_their_sessions(server: Server, cli_home: Path) -> None:
    long_role, ext_role = _roles(cli_home)
    plain = _identity(server, cli_home, "plain")
    session = plain["Arn"].rsplit("/", 1)[1]
    assert session.startswith("botocore-session-")
    assert plain["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{long_role}/{session}"
    assert plain["UserId"].startswith("AROA") and plain["UserId"].endswith(f":{session}")
    named = _identity(server, cli_home, "named")
    assert named["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{long_role}/audit18-sess"
    assert named["UserId"] == plain["UserId"].split(":")[0] + ":audit18-sess"
    chained = _identity(server, cli_home, "chained")
    assert chained["Arn"] == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{ext_role}/chain"


@pytest.mark.slow
def test_role_profile_refusals(server: Server, cli_home: Path) -> None:
    long_role, ext_role = _roles(cli_home)
    assert _error_line(server, cli_home, "too-long") == (
        "An error occurred (ValidationError) when calling the AssumeRole operation: "
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    assert _error_line(server, cli_home, "chained-no-id") == (
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: "
        f"arn:aws:sts::{MANAGEMENT}:assumed-role/{long_role}/audit18-sess is not authorized "
        f"to perform: sts:AssumeRole on resource: arn:aws:iam::{MANAGEMENT}:role/{ext_role}"
    )
    assert _error_line(server, cli_home, "bad-name") == (
        "An error occurred (ValidationError) when calling the AssumeRole operation: "
        "1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
    )


@pytest.mark.slow
def test_credential_source_environment(server: Server, world: World, cli_home: Path) -> None:
    """credential_source = Environment: the CLI assumes the role with the keys of
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""
    long_role, _ = _roles(cli_home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.endpoint, AWS_CONFIG_FILE=str(cli_home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(cli_home / "credentials"),
        AWS_DEFAULT_REGION="us-east-1", HOME=str(cli_home),
        AWS_ACCESS_KEY_ID=world.admin.key, AWS_SECRET_ACCESS_KEY=world.admin.secret,
    )
    out = subprocess.run([*aws_cli(), "sts", "get-caller-identity", "--profile", "env"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["Arn"]
    assert arn == f"arn:aws:sts::{MANAGEMENT}:assumed-role/{long_role}/from-env"


@pytest.mark.slow
def test_cli_federation_token_without_policy(server: Server, cli_home: Path) -> None:
    out = run(server, cli_home, "sts", "get-federation-token", "--name", "cli-fed",
              "--profile", "admin", "--query", "[PackedPolicySize,FederatedUser.Arn]")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [0, f"arn:aws:sts::{MANAGEMENT}:federated-user/cli-fed"]
