"""State survives a restart and a kill -9 (outside contract)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from .server import start

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    "Action": "sts:AssumeRole"}]})


@pytest.mark.slow
def test_restart_and_kill_keep_every_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start(data)
    try:
        iam = srv.client("iam")
        iam.create_role(RoleName="before-restart", AssumeRolePolicyDocument=TRUST)
    finally:
        srv.stop()
    srv = start(data)
    try:
        iam = srv.client("iam")
        assert iam.get_role(RoleName="before-restart")["Role"]["RoleName"] == "before-restart"
        created = []
        for i in range(30):
            iam.create_user(UserName=f"u{i}")
            created.append(f"u{i}")
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data)
    try:
        iam = srv.client("iam")
        names = {u["UserName"] for u in iam.list_users(MaxItems=1000)["Users"]}
        assert set(created) <= names
        assert iam.get_role(RoleName="before-restart")["Role"]["Arn"].endswith(":role/before-restart")
    finally:
        srv.stop()


def test_generated_root_credentials_file(tmp_path: Path) -> None:
    data = tmp_path / "gen"
    srv = start(data, extra_env={
        "TRAILGATE_ROOT_ACCESS_KEY_ID": "", "TRAILGATE_ROOT_SECRET_ACCESS_KEY": "",
        "TRAILGATE_MANAGEMENT_ACCOUNT_ID": "",
    })
    try:
        path = data / "root-credentials.json"
        assert path.stat().st_mode & 0o777 == 0o600
        creds = json.loads(path.read_text())
        client = srv.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"])
        ident = client.get_caller_identity()
        assert ident["Account"] == creds["AccountId"]
        assert ident["Arn"] == f"arn:aws:iam::{creds['AccountId']}:root"
    finally:
        srv.stop()
