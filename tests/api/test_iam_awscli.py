"""IAM operations of the fidelity sweep through the stock AWS CLI: virtual MFA devices written
to --outfile (QR code PNG or Base32 seed), their tags, instance profiles and the credential
report."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from .server import MANAGEMENT, ROOT_KEY, ROOT_SECRET, Server
from .test_awscli import run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    (path / "credentials").write_text(
        f"[default]\naws_access_key_id = {ROOT_KEY}\naws_secret_access_key = {ROOT_SECRET}\n"
    )
    (path / "config").write_text("[default]\nregion = us-east-1\n")
    return path


def cli(server: Server, home: Path, *args: str) -> Any:
    out = run(server, home, "iam", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


@pytest.mark.slow
def test_virtual_mfa_device_outfiles_and_tags(server: Server, home: Path, tmp_path: Path) -> None:
    name = f"cli-mfa-{secrets.token_hex(4)}"
    png, seed = tmp_path / "qr.png", tmp_path / "seed.txt"
    made = cli(server, home, "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
               "--path", "/cli/", "--tags", "Key=team,Value=red",
               "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    serial = f"arn:aws:iam::{MANAGEMENT}:mfa/cli/{name}"
    assert made == {"VirtualMFADevice": {"SerialNumber": serial,
                                         "Tags": [{"Key": "team", "Value": "red"}]}}
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    other = cli(server, home, "create-virtual-mfa-device", "--virtual-mfa-device-name",
                f"{name}-2", "--outfile", str(seed), "--bootstrap-method", "Base32StringSeed")
    base64.b32decode(seed.read_text())
    cli(server, home, "tag-mfa-device", "--serial-number", serial, "--tags", "Key=env,Value=ci")
    tags = cli(server, home, "list-mfa-device-tags", "--serial-number", serial)
    assert tags == {"Tags": [{"Key": "env", "Value": "ci"}, {"Key": "team", "Value": "red"}]}
    for device in (serial, other["VirtualMFADevice"]["SerialNumber"]):
        cli(server, home, "delete-virtual-mfa-device", "--serial-number", device)


@pytest.mark.slow
def test_instance_profile_and_credential_report(server: Server, home: Path) -> None:
    name = f"cli-ip-{secrets.token_hex(4)}"
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
             '{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    cli(server, home, "create-role", "--role-name", name, "--assume-role-policy-document", trust)
    cli(server, home, "create-instance-profile", "--instance-profile-name", name)
    cli(server, home, "add-role-to-instance-profile", "--instance-profile-name", name,
        "--role-name", name)
    listed = cli(server, home, "list-instance-profiles-for-role", "--role-name", name,
                 "--query", "InstanceProfiles[].Roles[].RoleName")
    assert listed == [name]
    busy = run(server, home, "iam", "delete-role", "--role-name", name)
    assert busy.returncode == 255
    assert "DeleteConflict" in busy.stderr
    assert "must remove roles from instance profile first" in busy.stderr
    cli(server, home, "remove-role-from-instance-profile", "--instance-profile-name", name,
        "--role-name", name)
    cli(server, home, "delete-instance-profile", "--instance-profile-name", name)
    cli(server, home, "delete-role", "--role-name", name)
    cli(server, home, "generate-credential-report")
    report = cli(server, home, "get-credential-report")
    assert report["ReportFormat"] == "text/csv"
    content = base64.b64decode(report["Content"]).decode()
    assert content.startswith("user,arn,user_creation_time,password_enabled,")
    assert f"<root_account>,arn:aws:iam::{MANAGEMENT}:root," in content
