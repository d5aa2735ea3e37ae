"""The web console in a real Chromium: sign-in with and without MFA, the create-role wizard
for both scenario shapes (asserted through boto3), renaming from the review page, switching into
a scoped role (another account's logs refused) and back, event history showing the switch."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest

from api.server import MANAGEMENT
from trailgate import scenario as sc

from .conftest import shot
from .world import ADMIN_PASSWORD, BUCKET, D_ROLE, DANA_PASSWORD, VIEWER_PASSWORD, ConsoleWorld

pytestmark = pytest.mark.slow


def sign_in(page: Any, world: ConsoleWorld, account: str, user: str, password: str,
            mfa: bool = False, screenshot: str = "") -> None:
    page.goto(world.server.endpoint + "/console/")
    page.get_by_label("Account ID (12 digits) or account alias").fill(account)
    page.get_by_label("IAM user name").fill(user)
    page.get_by_label("Password").fill(password)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Sign in").click()
    if mfa:
        page.get_by_label("MFA code").wait_for()
        if screenshot:
            shot(page, screenshot + "-mfa")
        page.get_by_label("MFA code").fill(world.devices[user].next_code())
        page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Console home").wait_for()


def identity(page: Any) -> str:
    return str(page.get_by_test_id("identity").inner_text())


def console_logins(world: ConsoleWorld, user: str, iam_client: Any = None) -> list[dict[str, Any]]:
    trail = iam_client or world.admin("cloudtrail")
    events = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": user}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "ConsoleLogin"]


@pytest.fixture(scope="module")
def admin_state(chromium: Any, console_world: ConsoleWorld) -> dict[str, Any]:
    """Sign in once as admin (password, then MFA code); later tests reuse the cookies."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    sign_in(page, console_world, MANAGEMENT, "admin", ADMIN_PASSWORD, mfa=True,
            screenshot="signin")
    shot(page, "home")
    state: dict[str, Any] = ctx.storage_state()
    ctx.close()
    return state


@pytest.fixture
def admin(chromium: Any, admin_state: dict[str, Any]) -> Iterator[Any]:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 860},
                               storage_state=admin_state)
    ctx.set_default_timeout(15_000)
    yield ctx.new_page()
    ctx.close()


def test_sign_in_with_mfa(admin: Any, console_world: ConsoleWorld) -> None:
    admin.goto(console_world.server.endpoint + "/console/")
    assert "admin @ 111111111111" in identity(admin)
    record = console_logins(console_world, "admin")[0]
    assert record["eventSource"] == "signin.amazonaws.com"
    assert record["eventType"] == "AwsConsoleSignIn"
    assert record["responseElements"] == {"ConsoleLogin": "Success"}
    assert record["additionalEventData"]["MFAUsed"] == "Yes"
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{MANAGEMENT}:user/admin"


def test_sign_in_without_mfa_and_sign_out(context: Any, console_world: ConsoleWorld) -> None:
    page = context.new_page()
    page.goto(console_world.server.endpoint + "/console/iam/roles")
    assert "/console/signin" in page.url  # not signed in: sent to sign in, then back
    page.get_by_label("Account ID (12 digits) or account alias").fill(MANAGEMENT)
    page.get_by_label("IAM user name").fill("viewer")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert "incorrect" in page.get_by_test_id("signin-error").inner_text()
    page.get_by_label("Password").fill(VIEWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("^Roles")).wait_for()
    assert "viewer @ 111111111111" in identity(page)
    cookie = next(c for c in context.cookies() if c["name"] == "tg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    outcomes = [r["responseElements"]["ConsoleLogin"] for r in console_logins(console_world,
                                                                               "viewer")]
    assert outcomes[:2] == ["Success", "Failure"]  # newest first
    assert console_logins(console_world, "viewer")[0]["additionalEventData"]["MFAUsed"] == "No"
    page.get_by_test_id("identity").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in as IAM user").wait_for()
    page.goto(console_world.server.endpoint + "/console/")
    assert "/console/signin" in page.url


def start_wizard(page: Any, world: ConsoleWorld) -> None:
    page.goto(world.server.endpoint + "/console/iam/roles")
    page.get_by_role("link", name="Create role").click()
    page.get_by_role("heading", name="Select trusted entity").wait_for()


def next_step(page: Any, heading: str) -> None:
    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name=heading).wait_for()


def test_wizard_role_for_an_account_with_mfa_and_the_prefix_template(
    admin: Any, console_world: ConsoleWorld
) -> None:
    d = console_world.accounts["D"]
    start_wizard(admin, console_world)
    admin.get_by_label("Another AWS account").check()
    admin.get_by_label("Account ID").fill(d)
    admin.get_by_label("Require MFA").check()
    shot(admin, "wizard-trust")
    next_step(admin, "Add permissions")
    admin.get_by_label("Read one account's CloudTrail logs").check()
    assert admin.get_by_label("Account whose logs").input_value() == d
    shot(admin, "wizard-permissions")
    next_step(admin, "Name and describe")
    admin.get_by_label("Role name").fill("WizardReader-D")
    admin.get_by_label("Description").fill("D reads its own logs")
    next_step(admin, "Review and create")
    shown = json.loads(admin.get_by_test_id("review-trust").inner_text())
    assert shown == sc.trust_account(d, mfa=True)
    shot(admin, "wizard-review")
    admin.get_by_role("button", name="Create role").click()
    admin.get_by_test_id("notice").wait_for()
    assert "WizardReader-D" in admin.get_by_test_id("notice").inner_text()
    assert admin.get_by_role("link", name="WizardReader-D", exact=True).count() >= 1

    iam = console_world.admin("iam")
    role = iam.get_role(RoleName="WizardReader-D")["Role"]
    assert role["AssumeRolePolicyDocument"] == sc.trust_account(d, mfa=True)
    assert role["Description"] == "D reads its own logs"
    inline = iam.get_role_policy(RoleName="WizardReader-D", PolicyName="read-own-prefix")
    assert inline["PolicyDocument"] == sc.prefix_read(BUCKET, d)
    assert iam.list_attached_role_policies(RoleName="WizardReader-D")["AttachedPolicies"] == []


def test_wizard_third_party_role_and_rename_from_review(
    admin: Any, console_world: ConsoleWorld
) -> None:
    start_wizard(admin, console_world)
    admin.get_by_label("Account ID").fill(sc.R)
    admin.get_by_label("Require external ID").check()
    admin.get_by_label("External ID", exact=True).fill(sc.EXTERNAL_ID)
    next_step(admin, "Add permissions")
    admin.get_by_label("Search policies").fill("S3ReadOnly")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_label("AmazonS3ReadOnlyAccess").check()
    next_step(admin, "Name and describe")
    admin.get_by_label("Role name").fill("Draft-R")
    next_step(admin, "Review and create")
    assert admin.get_by_test_id("review-name").inner_text() == "Draft-R"
    admin.get_by_test_id("edit-details").click()  # back from review: only the name changes
    admin.get_by_label("Role name").fill("WizardReader-R")
    next_step(admin, "Review and create")
    assert admin.get_by_test_id("review-name").inner_text() == "WizardReader-R"
    trust = sc.trust_account(sc.R, external_id=sc.EXTERNAL_ID)
    assert json.loads(admin.get_by_test_id("review-trust").inner_text()) == trust
    assert "AmazonS3ReadOnlyAccess" in admin.get_by_test_id("review-permissions").inner_text()
    admin.get_by_role("button", name="Create role").click()
    admin.get_by_test_id("notice").wait_for()

    iam = console_world.admin("iam")
    role = iam.get_role(RoleName="WizardReader-R")["Role"]
    assert role["AssumeRolePolicyDocument"] == trust
    attached = iam.list_attached_role_policies(RoleName="WizardReader-R")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert "Draft-R" not in names

    admin.get_by_label("Search roles").fill("WizardReader")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("link", name="WizardReader-R").click()
    admin.get_by_role("heading", name="Role WizardReader-R").wait_for()
    assert "requires an external ID" in admin.content()
    shot(admin, "role-detail")


def test_roles_policies_and_users_pages(admin: Any, console_world: ConsoleWorld) -> None:
    base = console_world.server.endpoint
    admin.goto(base + "/console/iam/roles?q=CloudTrailReader")
    assert admin.get_by_role("link", name=D_ROLE).count() == 1
    assert admin.get_by_role("link", name="NeedsMfa").count() == 0
    shot(admin, "roles")
    admin.goto(base + "/console/iam/policies?scope=AWS")
    assert admin.get_by_role("cell", name="AmazonS3ReadOnlyAccess", exact=True).count() == 1
    shot(admin, "policies")
    admin.goto(base + "/console/iam/users")
    admin.get_by_label("New user name").fill("carol")
    admin.get_by_role("button", name="Create user").click()
    admin.get_by_role("heading", name="User carol").wait_for()
    admin.get_by_label("Password").fill("Carol-console-Passw0rd!")
    admin.get_by_role("button", name="Enable console access").click()
    admin.get_by_test_id("notice").wait_for()
    admin.get_by_role("button", name="Create access key").click()
    key_id = admin.get_by_test_id("new-key").locator("code").first.inner_text()
    admin.get_by_role("button", name="Assign virtual MFA device").click()
    qr = admin.get_by_test_id("mfa-qr")
    assert qr.get_attribute("src").startswith("data:image/png;base64,")
    assert qr.evaluate("img => img.naturalWidth") > 50
    shot(admin, "user-mfa")
    iam = console_world.admin("iam")
    assert iam.get_login_profile(UserName="carol")["LoginProfile"]["UserName"] == "carol"
    keys = iam.list_access_keys(UserName="carol")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key_id]
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert any(d["SerialNumber"].endswith(":mfa/carol") for d in unassigned)


def test_refused_switch_shows_why(context: Any, console_world: ConsoleWorld) -> None:
    page = context.new_page()
    sign_in(page, console_world, MANAGEMENT, "viewer", VIEWER_PASSWORD)
    page.goto(console_world.server.endpoint
              + f"/console/switchrole?account={MANAGEMENT}&roleName=NeedsMfa")
    page.get_by_role("button", name="Switch role").click()
    failure = page.get_by_test_id("failure")
    failure.wait_for()
    text = failure.inner_text()
    assert "AccessDenied" in text
    assert "is not authorized to perform: sts:AssumeRole" in text
    assert "requires MFA" in text and "without an MFA code" in text
    shot(page, "switch-refused")
    assert "viewer @ 111111111111" in identity(page)


def test_switch_into_a_scoped_role_and_back(context: Any, console_world: ConsoleWorld) -> None:
    d, e = console_world.accounts["D"], console_world.accounts["E"]
    base = console_world.server.endpoint
    page = context.new_page()
    sign_in(page, console_world, d, "dana", DANA_PASSWORD, mfa=True)
    page.get_by_test_id("identity").click()
    page.get_by_role("link", name="Switch role", exact=True).click()
    page.get_by_label("Account ID").fill(MANAGEMENT)
    page.get_by_label("Role name").fill(D_ROLE)
    page.get_by_label("Display name").fill("D logs")
    page.get_by_label("green").check()
    shot(page, "switch-role")
    page.get_by_role("button", name="Switch role").click()
    page.get_by_role("heading", name="Console home").wait_for()
    badge = page.get_by_test_id("identity").locator(".badge")
    assert badge.inner_text() == "D logs"
    assert "role-green" in (badge.get_attribute("class") or "")
    assert f"{D_ROLE} @ {MANAGEMENT}" in identity(page)

    # The role's permissions only: its own prefix yes, E's no, IAM no.
    page.get_by_role("link", name="S3", exact=True).click()
    page.get_by_role("link", name=BUCKET).click()
    page.get_by_role("link", name="AWSLogs/").click()
    page.get_by_role("link", name=f"{d}/").click()
    shot(page, "s3-listing")
    while page.locator("a.file").count() == 0:
        page.locator("a.folder").first.click()
    page.locator("a.file").first.click()
    table = page.get_by_test_id("log-records")
    table.wait_for()
    assert table.locator("tbody tr").count() >= 1
    assert d in table.inner_text()
    shot(page, "log-file")

    page.goto(base + f"/console/s3/buckets/{BUCKET}?prefix={quote(f'AWSLogs/{e}/')}")
    failure = page.get_by_test_id("failure")
    assert "AccessDenied" in failure.inner_text()
    assert (f'is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::{BUCKET}" '
            "because no identity-based policy allows the s3:ListBucket action"
            ) in failure.inner_text()
    assert f"No identity-based policy of the role {D_ROLE}" in failure.inner_text()
    shot(page, "s3-denied")
    page.goto(base + "/console/iam/users")
    assert "is not authorized to perform: iam:ListUsers" in page.get_by_test_id("failure"
                                                                              ).inner_text()

    # Recent roles, then switch back.
    page.get_by_test_id("identity").click()
    assert page.get_by_role("button", name="D logs").count() == 1
    page.get_by_role("button", name="Switch back").click()
    page.get_by_role("heading", name="Console home").wait_for()
    assert f"dana @ {d}" in identity(page)

    page.goto(base + "/console/cloudtrail/events?attr=EventName&value=SwitchRole")
    rows = page.get_by_test_id("events").locator("tbody tr")
    assert rows.first.inner_text().count("SwitchRole") == 1
    assert "dana" in rows.first.inner_text()
    shot(page, "event-history")
    rows.first.get_by_role("link").click()
    record = json.loads(page.get_by_test_id("event-json").inner_text())
    assert record["eventName"] == "SwitchRole"
    assert record["responseElements"] == {"SwitchRole": "Success"}
    assert record["eventSource"] == "signin.amazonaws.com"
    assert unquote(record["additionalEventData"]["SwitchTo"]) == sc.role_arn(D_ROLE)
    shot(page, "event-detail")


def test_trails_and_why_pages(admin: Any, console_world: ConsoleWorld) -> None:
    base = console_world.server.endpoint
    admin.goto(base + "/console/cloudtrail")
    admin.get_by_role("cell", name=re.compile("management-trail")).wait_for()
    assert "Logging" in admin.content()
    shot(admin, "trails")
    d, e = console_world.accounts["D"], console_world.accounts["E"]
    admin.goto(base + "/console/why")
    admin.get_by_label("Principal ARN").fill(sc.role_arn(D_ROLE))
    admin.get_by_label("Action").fill("s3:GetObject")
    admin.get_by_label("Resource ARN").fill(f"arn:aws:s3:::{BUCKET}/AWSLogs/{d}/x.json.gz")
    admin.get_by_role("button", name="Explain").click()
    verdict = admin.get_by_test_id("verdict")
    assert verdict.locator("h2").inner_text() == "Allowed"
    assert "ReadOwnPrefix" in admin.content()  # the deciding statement's text
    shot(admin, "why-allowed")
    admin.get_by_label("Resource ARN").fill(f"arn:aws:s3:::{BUCKET}/AWSLogs/{e}/x.json.gz")
    admin.get_by_role("button", name="Explain").click()
    assert admin.get_by_test_id("verdict").locator("h2").inner_text().startswith("Denied")
