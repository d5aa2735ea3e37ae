"""GetAccessKeyLastUsed is IAM's, not CloudTrail's: a call notes its key's use whether or not
CloudTrail recording is on (recording off exists only for benchmarks)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from trailgate.app import TrailgateApp
from trailgate.config import Settings
from trailgate.gateway.context import HttpRequest

KEY = "AKIATESTKEYUSE000001"
SECRET = "trailgate/tests/key-use/secret/key/0001"


def signed(service: str, body: str) -> HttpRequest:
    req = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, SECRET), service, "us-east-1").add_auth(req)
    headers = {k.lower(): v for k, v in req.prepare().headers.items()}
    headers["host"] = "127.0.0.1:4566"
    return HttpRequest("POST", "/", "", headers, body.encode(), "127.0.0.1")


@pytest.mark.parametrize("recording", [True, False])
def test_key_use_noted_with_and_without_recording(tmp_path: Path, recording: bool) -> None:
    settings = Settings.build(data_dir=tmp_path, env={
        "TRAILGATE_ROOT_ACCESS_KEY_ID": KEY, "TRAILGATE_ROOT_SECRET_ACCESS_KEY": SECRET})
    app = TrailgateApp(settings)

    async def scenario() -> bytes:
        gateway = app.gateway
        gateway.recording = recording
        before = await gateway.handle(signed(
            "iam", f"Action=GetAccessKeyLastUsed&AccessKeyId={KEY}&Version=2010-05-08"))
        assert before.status == 200
        answer = await gateway.handle(signed(
            "sts", "Action=GetCallerIdentity&Version=2011-06-15"))
        assert answer.status == 200
        after = await gateway.handle(signed(
            "iam", f"Action=GetAccessKeyLastUsed&AccessKeyId={KEY}&Version=2010-05-08"))
        assert after.status == 200
        return bytes(after.body)

    try:
        body = asyncio.run(scenario())
    finally:
        app.journal.close()
        app.store.close()
    # The first call (GetAccessKeyLastUsed itself) noted the use: iam, us-east-1.
    assert b"<LastUsedDate>" in body
    assert b"<ServiceName>iam</ServiceName>" in body
    assert b"<Region>us-east-1</Region>" in body
