"""The console's test world, built through the API with boto3 as an operator would.

Admin (the management account) has:
- ``admin``: AdministratorAccess, a console password and a virtual MFA device;
- ``viewer``: ReadOnlyAccess, a console password, no MFA, may assume any role (to show a
  refused switch);
- the role ``CloudTrailReader-D`` (trusts account D with MFA; reads only ``AWSLogs/D/``) and
  ``NeedsMfa`` (trusts Admin's own account, only with MFA);
- the bucket ``trail-bucket``, into which the trails of Admin, D and E deliver real log files.

Account D has ``dana`` (console password, MFA device), who may assume ``CloudTrailReader-D``
and look up D's event history.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyotp

from api.server import MANAGEMENT, Server
from trailgate import scenario as sc

ADMIN_PASSWORD = "Admin-console-Passw0rd!"
VIEWER_PASSWORD = "Viewer-console-Passw0rd!"
DANA_PASSWORD = "Dana-console-Passw0rd!"
BUCKET = sc.BUCKET
D_ROLE = sc.D_ROLE
DELIVERY_WAIT = 40.0


@dataclass
class Device:
    """A virtual MFA device whose codes the tests compute (each step used once)."""

    seed: str
    last_step: int

    def next_code(self) -> str:
        """The code of the step after the last one used; waits when it is not yet valid
        (trailgate accepts one step either side of now)."""
        step = self.last_step + 1
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
        self.last_step = step
        return pyotp.TOTP(self.seed).at(step * 30)


@dataclass
class ConsoleWorld:
    server: Server
    accounts: dict[str, str] = field(default_factory=dict)  # D / E -> account id
    devices: dict[str, Device] = field(default_factory=dict)  # user -> MFA device
    admin_keys: tuple[str, str] = ("", "")

    def admin(self, service: str) -> Any:
        return self.server.client(service, *self.admin_keys)

    def member(self, party: str, service: str) -> Any:
        """A client acting in member account ``party`` through OrganizationAccountAccessRole."""
        creds = self.admin("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.accounts[party]}:role/OrganizationAccountAccessRole",
            RoleSessionName="setup",
        )["Credentials"]
        return self.server.client(service, creds["AccessKeyId"], creds["SecretAccessKey"],
                                  creds["SessionToken"])


def _enable_mfa(iam: Any, user: str) -> Device:
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    step = int(time.time()) // 30
    totp = pyotp.TOTP(seed)
    iam.enable_mfa_device(
        UserName=user, SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30),
    )
    return Device(seed, step)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _users(world: ConsoleWorld) -> None:
    root = world.server.client("iam")
    root.create_user(UserName="admin")
    root.attach_user_policy(UserName="admin",
                            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    root.create_login_profile(UserName="admin", Password=ADMIN_PASSWORD)
    key = root.create_access_key(UserName="admin")["AccessKey"]
    world.admin_keys = (key["AccessKeyId"], key["SecretAccessKey"])
    world.devices["admin"] = _enable_mfa(root, "admin")
    iam = world.admin("iam")
    iam.create_user(UserName="viewer")
    iam.attach_user_policy(UserName="viewer", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_user_policy(UserName="viewer", PolicyName="may-switch", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    iam.create_login_profile(UserName="viewer", Password=VIEWER_PASSWORD)
    iam.create_role(RoleName="NeedsMfa", AssumeRolePolicyDocument=json.dumps(
        sc.trust_account(MANAGEMENT, mfa=True)), Description="Admins only, with MFA")
    iam.attach_role_policy(RoleName="NeedsMfa",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def _accounts(world: ConsoleWorld) -> None:
    org = world.admin("organizations")
    org.create_organization(FeatureSet="ALL")
    for party in ("D", "E"):
        status = org.create_account(Email=f"{party.lower()}@example.com",
                                    AccountName=f"account-{party}")["CreateAccountStatus"]
        world.accounts[party] = org.describe_create_account_status(
            CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    d = world.accounts["D"]
    iam = world.admin("iam")
    iam.create_role(RoleName=D_ROLE, AssumeRolePolicyDocument=json.dumps(
        sc.trust_account(d, mfa=True)), Description="Account D reads its own CloudTrail logs")
    iam.put_role_policy(RoleName=D_ROLE, PolicyName="read-own-prefix",
                        PolicyDocument=sc.dumps(sc.prefix_read(BUCKET, d)))
    member = world.member("D", "iam")
    member.create_user(UserName="dana")
    member.put_user_policy(UserName="dana", PolicyName="console", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": sc.role_arn(D_ROLE)},
        {"Effect": "Allow", "Action": ["cloudtrail:LookupEvents", "cloudtrail:Describe*",
                                       "cloudtrail:Get*", "iam:Get*", "iam:List*"],
         "Resource": "*"}))
    member.create_login_profile(UserName="dana", Password=DANA_PASSWORD)
    world.devices["dana"] = _enable_mfa(member, "dana")


def _trails(world: ConsoleWorld) -> None:
    """Admin, D and E each log into trail-bucket; waits for D's and E's first log files."""
    trails = {MANAGEMENT: sc.trail_arn(MANAGEMENT, "management-trail")}
    for party in ("D", "E"):
        acct = world.accounts[party]
        trails[acct] = sc.trail_arn(acct, f"{party.lower()}-trail")
    s3 = world.admin("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET,
                         Policy=json.dumps(sc.cloudtrail_bucket_policy(BUCKET, trails)))
    for acct, arn in trails.items():
        name = arn.rsplit("/", 1)[-1]
        party = next((p for p, a in world.accounts.items() if a == acct), None)
        client = world.admin("cloudtrail") if party is None else world.member(party,
                                                                              "cloudtrail")
        client.create_trail(Name=name, S3BucketName=BUCKET, EnableLogFileValidation=True)
        client.start_logging(Name=name)
        (world.admin("iam") if party is None else world.member(party, "iam")).list_users()
    deadline = time.monotonic() + DELIVERY_WAIT
    wanted = {f"AWSLogs/{world.accounts[p]}/CloudTrail/" for p in ("D", "E")}
    while wanted and time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="AWSLogs/").get("Contents", [])
        wanted = {w for w in wanted if not any(o["Key"].startswith(w) for o in listed)}
        time.sleep(0.5)
    assert not wanted, f"no log files delivered under {wanted}"


def build(server: Server) -> ConsoleWorld:
    world = ConsoleWorld(server)
    _users(world)
    _accounts(world)
    _trails(world)
    return world
