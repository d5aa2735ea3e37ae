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


@pytest.mark.slow
def test_expired_session_credentials_are_refused(tmp_path: Path) -> None:
    import urllib.request

    from botocore.exceptions import ClientError

    srv = start(tmp_path / "clock", extra_env={"TRAILGATE_TEST_CLOCK": "1"})
    try:
        iam = srv.client("iam")
        iam.create_user(UserName="temp")
        iam.attach_user_policy(UserName="temp",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = iam.create_access_key(UserName="temp")["AccessKey"]
        iam.create_role(RoleName="short", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]}))
        sts = srv.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        creds = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/short",
                                RoleSessionName="brief", DurationSeconds=900)["Credentials"]
        session = srv.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"],
                             creds["SessionToken"])
        assert session.get_caller_identity()["Arn"].endswith(":assumed-role/short/brief")
        request = urllib.request.Request(srv.endpoint + "/_trailgate/clock", method="POST",
                                         data=b'{"advance": 901}')
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 200
        with pytest.raises(ClientError) as exc:
            session.get_caller_identity()
        err = exc.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (
            "ExpiredToken", 403)
        assert err["Error"]["Message"] == "The security token included in the request is expired"
    finally:
        srv.stop()
