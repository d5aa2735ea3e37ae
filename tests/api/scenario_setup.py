"""Builds the seed scenario through the API as a user would (Organizations, IAM)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyotp

from trailgate import scenario as sc

from .server import MANAGEMENT, Server


@dataclass
class Keys:
    key: str
    secret: str
    token: str | None = None


@dataclass
class World:
    server: Server
    admin: Keys  # an IAM user with AdministratorAccess in the management account
    accounts: dict[str, str] = field(default_factory=dict)  # D/E/R -> account id
    users: dict[str, Keys] = field(default_factory=dict)  # D/E/R -> user keys
    mfa_serial: str = ""
    mfa_seed: str = ""

    def client(self, service: str, keys: Keys) -> Any:
        return self.server.client(service, keys.key, keys.secret, keys.token)

    def assume(self, keys: Keys, role_arn: str, name: str = "session", **extra: Any) -> Keys:
        creds = self.client("sts", keys).assume_role(
            RoleArn=role_arn, RoleSessionName=name, **extra
        )["Credentials"]
        return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    last_step: int = 0

    def totp(self, offset: int = 0) -> str:
        return pyotp.TOTP(self.mfa_seed).at(time.time() + offset)

    def next_code(self) -> str:
        """A code the server has not seen yet: the step after the last one used (or the
        current step, when the last one used is already too old to be accepted), waiting for
        the clock when that step is more than one step ahead (AWS accepts +-1 step)."""
        step = max(self.last_step + 1, int(time.time()) // 30)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.last_step = step
        return pyotp.TOTP(self.mfa_seed).at(step * 30)


def build(server: Server) -> World:
    root = server.client("iam")
    root.create_user(UserName="admin")
    root.attach_user_policy(
        UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    k = root.create_access_key(UserName="admin")["AccessKey"]
    world = World(server, Keys(k["AccessKeyId"], k["SecretAccessKey"]))
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    for party in sc.parties():
        status = org.create_account(
            Email=f"{party.name.lower()}@example.com", AccountName=f"account-{party.name}"
        )["CreateAccountStatus"]
        account = org.describe_create_account_status(
            CreateAccountRequestId=status["Id"]
        )["CreateAccountStatus"]["AccountId"]
        world.accounts[party.name] = account
        # Admin's role for this party (trust policies from the scenario, with real ids).
        trust = sc.trust_account(
            account,
            mfa=party.name == "D",
            external_id=sc.EXTERNAL_ID if party.name == "R" else None,
        )
        world.client("iam", world.admin).create_role(
            RoleName=party.role, AssumeRolePolicyDocument=json.dumps(trust)
        )
        if party.name == "D":
            world.client("iam", world.admin).put_role_policy(
                RoleName=party.role, PolicyName="read-own-prefix",
                PolicyDocument=sc.dumps(sc.prefix_read(sc.BUCKET, account)),
            )
        else:
            world.client("iam", world.admin).attach_role_policy(
                RoleName=party.role, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
            )
        # In the member account, through OrganizationAccountAccessRole: a user who may assume
        # Admin's role.
        member = world.assume(
            world.admin, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "setup"
        )
        iam = world.client("iam", member)
        user = f"{party.name.lower()}-user"
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user, PolicyName="assume-admin-role",
            PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": f"arn:aws:iam::{MANAGEMENT}:role/{party.role}"}],
            }),
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        world.users[party.name] = Keys(key["AccessKeyId"], key["SecretAccessKey"])
        if party.name == "D":
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
            world.mfa_serial = device["SerialNumber"]
            world.mfa_seed = device["Base32StringSeed"].decode()
            step = int(time.time()) // 30
            totp = pyotp.TOTP(world.mfa_seed)
            iam.enable_mfa_device(
                UserName=user, SerialNumber=world.mfa_serial,
                AuthenticationCode1=totp.at((step - 1) * 30), AuthenticationCode2=totp.at(step * 30),
            )
            world.last_step = step
    return world
