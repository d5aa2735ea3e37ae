"""The console's pure parts: sealed session cookies, the sign-in slow-down, wizard documents,
log-file tables, statement excerpts and which requests reach the console."""

from __future__ import annotations

import gzip
import json

from trailgate import scenario as sc
from trailgate.console import is_console_request
from trailgate.console.s3_pages import log_rows
from trailgate.console.session import (
    ActiveRole,
    RecentRole,
    Session,
    SessionCodec,
    SignInThrottle,
    new_pending,
)
from trailgate.console.why import excerpt
from trailgate.console.wizard import Choices, problems

KEY = bytes(range(32))


def session(**changes: object) -> Session:
    base = Session(sid="s1", account="111111111111", alias=None, user="alice",
                   user_id="AIDAEXAMPLE", arn="arn:aws:iam::111111111111:user/alice",
                   access_key_id="ASIAEXAMPLE", issued=1000, expires=2000, mfa=True,
                   csrf="token")
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_session_cookie_round_trip_tamper_expiry_and_revocation() -> None:
    codec = SessionCodec(KEY)
    role = ActiveRole("222222222222", "R", "arn:aws:sts::222222222222:assumed-role/R/alice",
                      "R", "green", "ASIAROLE", "TG1token", 1500)
    cookie = codec.seal_session(session(role=role,
                                        recent=[RecentRole("222222222222", "R", "R", "green")]))
    opened = codec.open_session(cookie, 1100)
    assert opened is not None and opened.role == role and opened.recent[0].colour == "green"
    assert codec.open_session(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1],
                              1100) is None
    assert codec.open_session(cookie, 2000) is None  # expired
    role_gone = codec.open_session(cookie, 1600)
    assert role_gone is not None and role_gone.role is None  # the role session ended
    assert "ended" in role_gone.notice
    assert codec.open_session(codec.seal_session(role_gone), 1600).notice == ""  # shown once
    codec.revoke(opened, 1100)
    assert codec.open_session(cookie, 1100) is None
    assert SessionCodec(bytes(32)).open_session(cookie, 1100) is None  # another key
    pending = codec.seal_pending(new_pending(1000))
    assert codec.open_session(pending, 1000) is None  # a sign-in cookie is not a session


def test_recent_roles_are_unique_and_bounded() -> None:
    s = session()
    for i in range(7):
        s.remember(RecentRole("222222222222", f"Role{i}", f"R{i}", "red"))
    s.remember(RecentRole("222222222222", "role3", "again", "blue"))
    assert [r.display for r in s.recent] == ["again", "R6", "R5", "R4", "R2"]


def test_throttle_locks_after_repeated_failures() -> None:
    throttle = SignInThrottle(free=2, free_per_address=5)
    keys = ["user:1/alice", "ip:127.0.0.1"]
    throttle.failed(keys, now=0)
    throttle.failed(keys, now=0)
    assert throttle.wait_seconds(keys, now=0) == 0
    throttle.failed(keys, now=0)
    assert throttle.wait_seconds(keys, now=0) == 2
    throttle.failed(keys, now=3)
    assert throttle.wait_seconds(keys, now=3) == 4
    assert throttle.wait_seconds(["user:1/bob", "ip:127.0.0.1"], now=3) == 0
    throttle.succeeded(keys)
    assert throttle.wait_seconds(keys, now=3) == 0


def test_wizard_documents_are_the_scenarios() -> None:
    c = Choices(account=sc.D, require_mfa=True, template=True)
    assert c.trust_policy() == sc.trust_account(sc.D, mfa=True)
    assert c.template_policy() == sc.prefix_read(sc.BUCKET, sc.D)
    r = Choices.load(json.dumps({"account": sc.R, "require_external_id": True,
                                 "external_id": sc.EXTERNAL_ID, "unknown": 1}))
    assert r.trust_policy() == sc.trust_account(sc.R, external_id=sc.EXTERNAL_ID)
    assert problems("trust", Choices(account="12")) != []
    assert problems("trust", Choices(account=sc.R, require_external_id=True,
                                     external_id="x")) != []
    assert problems("details", Choices(name="bad name")) != []
    assert problems("details", Choices(name="Good-Name_1")) == []
    assert Choices.load("not json") == Choices()


def test_log_file_rows() -> None:
    records = [{"eventTime": "2026-01-01T00:00:02Z", "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject", "userIdentity": {"arn": "arn:aws:sts::1:x"},
                "recipientAccountId": "1", "errorCode": "AccessDenied"},
               {"eventTime": "2026-01-01T00:00:01Z", "eventSource": "iam.amazonaws.com",
                "eventName": "ListUsers", "userIdentity": {"type": "Root"}}]
    rows, doc, problem = log_rows(gzip.compress(json.dumps({"Records": records}).encode()))
    assert [r["name"] for r in rows] == ["ListUsers", "GetObject"]
    assert rows[1]["error"] == "AccessDenied" and rows[1]["source"] == "s3"
    assert doc is None and problem == ""
    _, digest, _ = log_rows(json.dumps({"digestEndTime": "x"}).encode())
    assert digest == {"digestEndTime": "x"}
    assert log_rows(b"\x1f\x8bnot gzip")[2].startswith("Not a readable")


def test_statement_excerpt() -> None:
    text = '{\n  "Statement": [\n    {\n      "Sid": "A"\n    },\n    {"Sid": "B"}\n  ]\n}'
    assert excerpt(text, {"Line": 3, "Column": 5}, {"Line": 5, "Column": 5}) == \
        '{\n  "Sid": "A"\n}'
    assert excerpt(text, {"Line": 6, "Column": 5}, {"Line": 6, "Column": 16}) == '{"Sid": "B"}'


def test_which_requests_reach_the_console() -> None:
    def scope(path: str, query: bytes = b"", auth: bool = False) -> dict[str, object]:
        headers = [(b"authorization", b"AWS4-HMAC-SHA256 ...")] if auth else []
        return {"path": path, "query_string": query, "headers": headers}

    assert is_console_request(scope("/console"))
    assert is_console_request(scope("/console/iam/roles", b"q=x"))
    assert not is_console_request(scope("/consoles/x"))
    assert not is_console_request(scope("/console/key", auth=True))  # S3, bucket "console"
    assert not is_console_request(scope("/console/key", b"X-Amz-Credential=a&X-Amz-Signature=b"))
    assert not is_console_request(scope("/console/key", b"AWSAccessKeyId=a&Signature=b"))
