"""The console over plain HTTP (no browser needed): sign-in records, cookies, CSRF, the
sign-in slow-down, open redirects, actions logged as the signed-in principal, the service-role
wizard path, signed S3 requests to a bucket named ``console``, and session expiry."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.server import MANAGEMENT, Server, start
from trailgate.trail.records import HIDDEN

pytestmark = pytest.mark.slow

PASSWORD = "Alice-console-Passw0rd!"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(Path(tmp_path_factory.mktemp("console-http")),
                extra_env={"TRAILGATE_TEST_CLOCK": "1"})
    iam = srv.client("iam")
    for name in ("alice", "bob"):
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name,
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    yield srv
    srv.stop()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def try_sign_in(server: Server, user: str, password: str, next_path: str = "/console/",
                account: str = MANAGEMENT) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=server.endpoint, follow_redirects=False, timeout=20)
    form = client.get("/console/signin")
    response = client.post("/console/signin", params={"next": next_path}, data={
        "csrf_token": csrf_of(form.text), "account": account, "username": user,
        "password": password,
    })
    return client, response


def signed_in(server: Server, user: str = "alice") -> httpx.Client:
    client, response = try_sign_in(server, user, PASSWORD)
    assert response.status_code == 303, response.text[:2000]
    return client


def logins(server: Server, user: str) -> list[dict[str, Any]]:
    events = server.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": user}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "ConsoleLogin"]


def test_sign_in_sets_a_sealed_http_only_cookie_and_records_console_login(
    server: Server,
) -> None:
    client, response = try_sign_in(server, "alice", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("tg_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "alice" not in cookie  # sealed, not readable
    home = client.get("/console/")
    assert home.status_code == 200 and "alice @ 111111111111" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    record = logins(server, "alice")[0]
    assert record["eventName"] == "ConsoleLogin"
    assert record["eventType"] == "AwsConsoleSignIn"
    assert record["responseElements"] == {"ConsoleLogin": "Success"}
    assert record["additionalEventData"]["MFAUsed"] == "No"
    assert record["userIdentity"]["type"] == "IAMUser"
    assert "accessKeyId" not in record["userIdentity"]  # a sign-in uses no access key (AWS)
    assert record["recipientAccountId"] == MANAGEMENT


def test_wrong_password_and_unknown_user_are_recorded_without_secrets(server: Server) -> None:
    _, response = try_sign_in(server, "bob", "wrong-password-1")
    assert response.status_code == 401
    assert "incorrect" in response.text
    failure = logins(server, "bob")[0]
    assert failure["responseElements"] == {"ConsoleLogin": "Failure"}
    assert failure["errorMessage"] == "Failed authentication"
    assert "wrong-password-1" not in json.dumps(failure)
    try_sign_in(server, "nobody-here", "whatever")
    hidden = logins(server, HIDDEN)
    assert hidden and hidden[0]["userIdentity"]["accountId"] == MANAGEMENT
    signed_in(server, "bob")  # clears bob's failure count


def test_repeated_wrong_passwords_slow_down(server: Server) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="mallory-target")
    iam.create_login_profile(UserName="mallory-target", Password=PASSWORD)
    for attempt in range(3):
        _, response = try_sign_in(server, "mallory-target", f"guess-{attempt}")
        assert "incorrect" in response.text
    _, response = try_sign_in(server, "mallory-target", PASSWORD)  # right, but too soon
    assert response.status_code == 401
    assert "Too many failed sign-in attempts" in response.text
    _, response = try_sign_in(server, "alice", PASSWORD)  # other users are not locked
    assert response.status_code == 303


def test_every_form_needs_the_csrf_token(server: Server) -> None:
    client = signed_in(server)
    refused = client.post("/console/iam/users", data={"username": "eve"})
    assert refused.status_code == 403
    forged = client.post("/console/iam/users", data={"username": "eve", "csrf_token": "x" * 32})
    assert forged.status_code == 403
    names = [u["UserName"] for u in server.client("iam").list_users()["Users"]]
    assert "eve" not in names
    fresh = httpx.Client(base_url=server.endpoint, follow_redirects=False)
    no_cookie = fresh.post("/console/signin", data={
        "csrf_token": "x", "account": MANAGEMENT, "username": "alice", "password": PASSWORD})
    assert no_cookie.status_code == 400 and "expired" in no_cookie.text


def test_sign_in_redirects_only_within_the_console(server: Server) -> None:
    _, response = try_sign_in(server, "alice", PASSWORD, next_path="https://example.com/")
    assert response.headers["location"] == "/console/"
    _, response = try_sign_in(server, "alice", PASSWORD, next_path="/console/iam/roles")
    assert response.headers["location"] == "/console/iam/roles"


def test_console_actions_are_logged_as_the_signed_in_user(server: Server) -> None:
    client = signed_in(server)
    assert client.get("/console/iam/roles").status_code == 200
    events = server.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ListRoles"}])["Events"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{MANAGEMENT}:user/alice"
    assert record["userAgent"] == "console.amazonaws.com"
    assert record["userIdentity"]["accessKeyId"].startswith("ASIA")
    history = client.get("/console/cloudtrail/events", params={
        "attr": "EventName", "value": "ListRoles", "start": "2020-01-01T00:00",
        "end": "2100-01-01T00:00:00"})
    assert history.status_code == 200 and record["eventID"] in history.text
    detail = client.get(f"/console/cloudtrail/events/{record['eventID']}")
    assert detail.status_code == 200 and "console.amazonaws.com" in detail.text
    empty = client.get("/console/cloudtrail/events", params={"start": "2100-01-01T00:00"})
    assert empty.status_code == 200 and "No events match" in empty.text


def test_wizard_creates_a_service_role(server: Server) -> None:
    client = signed_in(server)
    page = client.get("/console/iam/roles/create")
    state = {"kind": "service", "service": "lambda.amazonaws.com", "name": "LambdaRunner",
             "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
    response = client.post("/console/iam/roles/create", data={
        "csrf_token": csrf_of(page.text), "state": json.dumps(state), "step": "review",
        "goto": "create"})
    assert response.status_code == 303, response.text[:3000]
    role = server.client("iam").get_role(RoleName="LambdaRunner")["Role"]
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }
    bad = client.post("/console/iam/roles/create", data={
        "csrf_token": csrf_of(page.text), "step": "trust", "kind": "account",
        "account": "12345", "goto": "permissions"})
    assert bad.status_code == 400 and "12-digit" in bad.text


def test_signed_requests_for_a_bucket_named_console_reach_s3(server: Server) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="console")
    s3.put_object(Bucket="console", Key="signin", Body=b"not a page")
    assert s3.get_object(Bucket="console", Key="signin")["Body"].read() == b"not a page"


def test_sessions_expire(server: Server) -> None:
    client = signed_in(server)
    assert client.get("/console/").status_code == 200
    request = urllib.request.Request(server.endpoint + "/_trailgate/clock",
                                     data=json.dumps({"advance": 12 * 3600 + 5}).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    expired = client.get("/console/iam/roles")
    assert expired.status_code == 303
    assert expired.headers["location"].startswith("/console/signin?next=")
