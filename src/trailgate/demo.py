"""``trailgate demo``: the seed scenario end to end, against a real trailgate server.

The demo starts ``trailgate serve`` as a child process on the embedded default (SQLite + local
files in a temporary data dir, or ``--data-dir``), on 127.0.0.1 and a free port (or
``--port``), with short delivery and digest intervals and a root access key it generated
itself.  Then, through boto3 (botocore when boto3 is not installed) and only through the API,
as a user would:

1. creates the organization (Admin is its management account) and accounts D, E and R;
2. creates Admin's central log bucket with the CloudTrail bucket policy and a trail with log
   file validation in every account, all delivering into that bucket;
3. creates Admin's three roles (``scenario.py``), a user in D, E and R allowed to assume
   "their" role, a virtual MFA device for D's user, and a user in E without any policy;
4. makes some calls in every account and waits (bounded) until each trail has delivered;
5. plays each party and records what happened;
6. validates the digest chains with :mod:`trailgate.trail.validate`, then validates a copy in
   which one log file was tampered with (skipped, not failed, when that module is absent);
7. prints a table (who, what, expected, actual) and returns 1 when a row differs.

With ``--serve`` the server keeps running afterwards; the demo prints the console URL and the
sign-in details, AWS CLI profiles and a TOTP helper, and stops the server on Ctrl-C (or
SIGTERM).  ``trailgate demo --offline`` is :mod:`trailgate.policy_demo`.

Step 6 uses :mod:`trailgate.trail.validate` (``Validator``, ``SourceSpec``, ``KeyRing``,
``Target``) in-process: first every trail against the server, then a downloaded copy of D's
files (digests with their S3 metadata in ``KEY.metadata.json`` side files) offline, before and
after one record of a digested log file is changed.  Only :func:`_validate` imports it.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Final

import pyotp
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from botocore.session import Session as CoreSession  # type: ignore[import-untyped]

from . import scenario as sc
from .auth.tokens import new_access_key_id, new_secret_access_key

HOST: Final = "127.0.0.1"
REGION: Final = sc.REGION
BUCKET: Final = sc.BUCKET
DELIVERY_INTERVAL: Final = 2
DIGEST_INTERVAL: Final = 10
WAIT_LIMIT: Final = 60.0
"""Seconds the demo waits for the server, for log delivery and for digests."""
CONSOLE_PATH: Final = "/console/"
VALIDATE_MODULE: Final = "trailgate.trail.validate"
NO_VALIDATOR: Final = "digest validation not available in this build"
SKIPPED: Final = "skipped"
ORG_ROLE: Final = "OrganizationAccountAccessRole"
PARTIES: Final = ("Admin", "D", "E", "R")
ALLOWED, REFUSED = "allowed", "refused"


class DemoError(Exception):
    """A step could not be carried out (the message says which and why)."""


@dataclass
class Keys:
    key: str
    secret: str
    token: str | None = None


@dataclass
class Row:
    """One line of the summary table."""

    who: str
    what: str
    expected: str
    actual: str
    detail: str = ""

    @property
    def status(self) -> str:
        if self.actual == SKIPPED:
            return SKIPPED
        return "ok" if self.actual == self.expected else "DIFFERS"


@dataclass
class User:
    party: str
    account: str
    name: str
    keys: Keys
    password: str
    role: str | None = None  # the role in Admin this user may assume


def say(text: str = "") -> None:
    print(text, flush=True)


def _error(err: ClientError) -> str:
    info = err.response.get("Error", {})
    return f"{info.get('Code', 'Error')}: {info.get('Message', '')}".rstrip(": ")


def _password() -> str:
    return "Tg-" + secrets.token_urlsafe(12)


# -- the server process ---------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    root: Keys
    management: str = ""

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.endpoint + "/_trailgate/health", timeout=2) as r:
                body: dict[str, Any] = json.loads(r.read())
                return body if body.get("status") == "ok" else None
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM, then SIGKILL after 20 s."""
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> Server:
    """``trailgate serve`` as a child process (own session, so a terminal's Ctrl-C reaches the
    demo, which then stops it); returns once ``/_trailgate/health`` answers."""
    root = Keys(new_access_key_id("AKIA"), new_secret_access_key())
    env = dict(os.environ)
    env.update(TRAILGATE_ROOT_ACCESS_KEY_ID=root.key, TRAILGATE_ROOT_SECRET_ACCESS_KEY=root.secret)
    env.pop("TRAILGATE_MANAGEMENT_ACCOUNT_ID", None)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "trailgate.cli", "serve", "--host", HOST, "--port", str(port),
             "--data-dir", str(data_dir), "--region", REGION,
             "--delivery-interval", str(DELIVERY_INTERVAL),
             "--digest-interval", str(DIGEST_INTERVAL)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
    server = Server(process, port, data_dir, log_path, root)
    deadline = time.monotonic() + WAIT_LIMIT
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                lines = log_path.read_text(errors="replace").strip().splitlines() or ["-"]
                raise DemoError(f"the server exited at start ({lines[-1]}); log: {log_path}")
            health = server.health()
            if health is not None:
                server.management = str(health["managementAccountId"])
                return server
            time.sleep(0.1)
        raise DemoError(f"the server did not answer within {WAIT_LIMIT:.0f} s; see {log_path}")
    except BaseException:
        server.stop()
        raise


# -- progress -------------------------------------------------------------------------------------


def wait_for(label: str, pending: Callable[[], list[str]], limit: float = WAIT_LIMIT) -> float:
    """Poll ``pending`` (what is still missing) every 0.5 s until it is empty, printing a dot
    per poll and each item as it arrives on stderr; returns the seconds waited."""
    began = time.monotonic()
    sys.stderr.write(f"  {label} ")
    sys.stderr.flush()
    missing = pending()
    while missing:
        if time.monotonic() - began > limit:
            sys.stderr.write(" timed out\n")
            raise DemoError(f"{label}: still missing after {limit:.0f} s: {', '.join(missing)}")
        time.sleep(0.5)
        now_missing = pending()
        arrived = [m for m in missing if m not in now_missing]
        sys.stderr.write("." + "".join(f" {m} " for m in arrived))
        sys.stderr.flush()
        missing = now_missing
    took = time.monotonic() - began
    sys.stderr.write(f" done ({took:.1f} s)\n")
    sys.stderr.flush()
    return took


# -- the demo -------------------------------------------------------------------------------------


@dataclass
class Demo:
    server: Server
    session: Any = None
    admin: Keys | None = None
    org_id: str = ""
    accounts: dict[str, str] = field(default_factory=dict)  # Admin/D/E/R -> account id
    members: dict[str, Keys] = field(default_factory=dict)  # D/E/R -> OrganizationAccountAccess
    users: dict[str, User] = field(default_factory=dict)  # user name -> user
    trails: dict[str, str] = field(default_factory=dict)  # party -> trail ARN
    logs: dict[str, list[str]] = field(default_factory=dict)  # party -> delivered log keys
    mfa_serial: str = ""
    mfa_seed: str = ""
    mfa_step: int = 0
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    delivered: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: list[Row] = field(default_factory=list)
    last_session: Keys | None = None  # the session of the last successful AssumeRole

    def __post_init__(self) -> None:
        self.session = _client_session()
        self.accounts["Admin"] = self.server.management

    # -- plumbing --

    def client(self, service: str, keys: Keys | None = None) -> Any:
        keys = keys or self.server.root
        return self.session.client(
            service, endpoint_url=self.server.endpoint, region_name=REGION,
            aws_access_key_id=keys.key, aws_secret_access_key=keys.secret,
            aws_session_token=keys.token,
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
        )

    def assume(self, keys: Keys, role_arn: str, name: str, **extra: Any) -> Keys:
        creds = self.client("sts", keys).assume_role(
            RoleArn=role_arn, RoleSessionName=name, **extra
        )["Credentials"]
        return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.accounts['Admin']}:role/{name}"

    def owner(self, party: str) -> Keys:
        """Admin's own user, or the member account's OrganizationAccountAccessRole session."""
        if party == "Admin":
            assert self.admin is not None
            return self.admin
        return self.members[party]

    # -- step 1 --

    def organization(self) -> None:
        root_iam = self.client("iam")
        root_iam.create_user(UserName="admin")
        root_iam.attach_user_policy(
            UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        key = root_iam.create_access_key(UserName="admin")["AccessKey"]
        self.admin = Keys(key["AccessKeyId"], key["SecretAccessKey"])
        admin_password = _password()
        root_iam.create_login_profile(UserName="admin", Password=admin_password)
        self.users["admin"] = User("Admin", self.accounts["Admin"], "admin", self.admin,
                                   admin_password)
        say(f"  Admin (management account) {self.accounts['Admin']}: IAM user admin with "
            "AdministratorAccess (the root user cannot assume roles)")
        org = self.client("organizations")
        self.org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        say(f"  organization {self.org_id}")
        for party in ("D", "E", "R"):
            self.accounts[party] = self._create_account(org, party)
            self.members[party] = self.assume(
                self.admin, f"arn:aws:iam::{self.accounts[party]}:role/{ORG_ROLE}", "demo-setup"
            )
            kind = "third-party log analyzer" if party == "R" else "an account you own"
            say(f"  account {party} {self.accounts[party]} ({kind}), reached through {ORG_ROLE}")

    def _create_account(self, org: Any, party: str) -> str:
        status = org.create_account(
            Email=f"{party.lower()}@example.com", AccountName=f"account-{party}"
        )["CreateAccountStatus"]
        deadline = time.monotonic() + WAIT_LIMIT
        while status.get("State") == "IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = org.describe_create_account_status(
                CreateAccountRequestId=status["Id"]
            )["CreateAccountStatus"]
        if status.get("State") != "SUCCEEDED":
            raise DemoError(f"CreateAccount for {party}: {status.get('State')} "
                            f"{status.get('FailureReason', '')}".rstrip())
        return str(status["AccountId"])

    # -- step 2 --

    def log_bucket_and_trails(self) -> None:
        s3 = self.client("s3", self.admin)
        s3.create_bucket(Bucket=BUCKET)
        arns = {p: sc.trail_arn(self.accounts[p], f"trail-{p.lower()}", REGION) for p in PARTIES}
        policy = sc.cloudtrail_bucket_policy(BUCKET, {self.accounts[p]: arns[p] for p in arns})
        s3.put_bucket_policy(Bucket=BUCKET, Policy=sc.dumps(policy))
        say(f"  bucket {BUCKET} in Admin; its policy lets CloudTrail write AWSLogs/<account>/ "
            "for these 4 trails only")
        for party in PARTIES:
            cloudtrail = self.client("cloudtrail", self.owner(party))
            trail = cloudtrail.create_trail(
                Name=f"trail-{party.lower()}", S3BucketName=BUCKET, EnableLogFileValidation=True
            )
            cloudtrail.start_logging(Name=trail["TrailARN"])
            self.trails[party] = trail["TrailARN"]
            say(f"  trail {trail['TrailARN']}: logging, log file validation on")
        self.started = datetime.now(UTC)

    # -- step 3 --

    def roles_and_users(self) -> None:
        iam = self.client("iam", self.admin)
        for party in sc.parties():
            account = self.accounts[party.name]
            trust = sc.trust_account(
                account, mfa=party.name == "D",
                external_id=sc.EXTERNAL_ID if party.name == "R" else None,
            )
            iam.create_role(RoleName=party.role, AssumeRolePolicyDocument=sc.dumps(trust),
                            Description=party.description)
            if party.name == "D":
                iam.put_role_policy(
                    RoleName=party.role, PolicyName="read-own-prefix",
                    PolicyDocument=sc.dumps(sc.prefix_read(BUCKET, account)),
                )
            else:
                iam.attach_role_policy(
                    RoleName=party.role, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
                )
            say(f"  role {party.role} in Admin: {party.description}")
        for party in sc.parties():
            user = self._member_user(party.name, f"{party.name.lower()}-user", party.role)
            say(f"  user {user.name} in {party.name} may assume {party.role}")
        self._enable_mfa(self.users["d-user"])
        say(f"  virtual MFA device {self.mfa_serial} enabled for d-user")
        self._member_user("E", "e-nopolicy", None)
        say("  user e-nopolicy in E: no identity policy at all")

    def _member_user(self, party: str, name: str, role: str | None) -> User:
        iam = self.client("iam", self.members[party])
        iam.create_user(UserName=name)
        if role is not None:
            may_assume = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn(role)}
            ]}
            iam.put_user_policy(UserName=name, PolicyName="assume-log-reader-role",
                                PolicyDocument=sc.dumps(may_assume))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        password = _password()
        iam.create_login_profile(UserName=name, Password=password)
        user = User(party, self.accounts[party], name,
                    Keys(key["AccessKeyId"], key["SecretAccessKey"]), password, role)
        self.users[name] = user
        return user

    def _enable_mfa(self, user: User) -> None:
        iam = self.client("iam", self.members[user.party])
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)["VirtualMFADevice"]
        self.mfa_serial = device["SerialNumber"]
        self.mfa_seed = device["Base32StringSeed"].decode()
        totp = pyotp.TOTP(self.mfa_seed)
        # Two consecutive past codes, so the current one stays free for step 5.
        step = int(time.time()) // 30
        iam.enable_mfa_device(
            UserName=user.name, SerialNumber=self.mfa_serial,
            AuthenticationCode1=totp.at((step - 2) * 30),
            AuthenticationCode2=totp.at((step - 1) * 30),
        )
        self.mfa_step = step - 1

    def mfa_code(self) -> str:
        """A code of a step the server has not seen yet (each code works once)."""
        step = max(self.mfa_step + 1, int(time.time()) // 30)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.mfa_step = step
        return pyotp.TOTP(self.mfa_seed).at(step * 30)

    # -- step 4 --

    def activity(self) -> None:
        s3 = self.client("s3", self.admin)

        def delivered() -> dict[str, list[str]]:
            out = {}
            for party in PARTIES:
                prefix = f"AWSLogs/{self.accounts[party]}/CloudTrail/"
                listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
                out[party] = [o["Key"] for o in listed]
            return out

        before = delivered()  # the set-up's own calls, delivered meanwhile
        for user in self.users.values():
            self.client("sts", user.keys).get_caller_identity()
            with contextlib.suppress(ClientError):  # refused calls are logged as well
                self.client("iam", user.keys).list_users()
        for party in PARTIES:
            keys = self.owner(party)
            self.client("iam", keys).list_roles()
            self.client("cloudtrail", keys).describe_trails()
        say(f"  {len(self.users)} users and the 4 account owners made a few calls each")

        def missing() -> list[str]:
            self.logs = delivered()
            return [p for p in PARTIES if not set(self.logs[p]) - set(before[p])]

        wait_for(f"waiting for the trails to deliver (every {DELIVERY_INTERVAL} s)", missing)
        self.delivered = datetime.now(UTC)
        for party in PARTIES:
            say(f"  AWSLogs/{self.accounts[party]}/CloudTrail/ ({party}): "
                f"{len(self.logs[party])} log file(s)")

    # -- step 5 --

    def check(self, who: str, what: str, expected: str, attempt: Callable[[], str]) -> bool:
        """Run ``attempt`` (returns a detail when it succeeds); record and print the row.  An
        AWS error is a refusal (its code and message are the detail)."""
        try:
            row = Row(who, what, expected, ALLOWED, attempt())
        except ClientError as err:
            row = Row(who, what, expected, REFUSED, _error(err))
        except DemoError as err:
            row = Row(who, what, expected, "incomplete", str(err))
        mark = "" if row.status == "ok" else "   <-- NOT AS EXPECTED"
        say(f"  {who}: {what}\n    -> {row.actual}: {row.detail}{mark}")
        self.rows.append(row)
        return row.actual == ALLOWED

    def not_run(self, who: str, what: str, expected: str, why: str) -> None:
        self.rows.append(Row(who, what, expected, "not run", why))
        say(f"  {who}: {what}\n    -> not run: {why}   <-- NOT AS EXPECTED")

    def play(self) -> None:
        self._play_d()
        self._play_e()
        self._play_r()
        nobody = self.users["e-nopolicy"]
        self.check("e-nopolicy (E)", f"assume {sc.E_ROLE} (trust allows E; no identity policy)",
                   REFUSED,
                   lambda: self._assume_detail(nobody.keys, sc.E_ROLE, "nobody"))

    def _assume_detail(self, keys: Keys, role: str, name: str, **extra: Any) -> str:
        creds = self.assume(keys, self.role_arn(role), name, **extra)
        arn = self.client("sts", creds).get_caller_identity()["Arn"]
        self.last_session = creds
        return f"now {arn}"

    def _session_for(
        self, who: str, what: str, expected: str, attempt: Callable[[], str]
    ) -> Keys | None:
        """:meth:`check` for an AssumeRole: the new session, or None when it was refused."""
        self.last_session = None
        allowed = self.check(who, what, expected, attempt)
        return self.last_session if allowed else None

    def _play_d(self) -> None:
        d = self.users["d-user"]
        self.check("d-user (D)", f"assume {sc.D_ROLE} without MFA", REFUSED,
                   lambda: self._assume_detail(d.keys, sc.D_ROLE, "dana"))
        session = self._session_for(
            "d-user (D)", f"assume {sc.D_ROLE} with an MFA code", ALLOWED,
            lambda: self._assume_detail(d.keys, sc.D_ROLE, "dana", SerialNumber=self.mfa_serial,
                                        TokenCode=self.mfa_code()),
        )
        own, other = "read D's log files", "read a log file of E"
        if session is None:
            self.not_run(sc.D_ROLE, own, ALLOWED, "no session")
            self.not_run(sc.D_ROLE, other, REFUSED, "no session")
            return
        s3 = self.client("s3", session)
        self.check(sc.D_ROLE, own, ALLOWED, lambda: self._read_prefix(s3, "D"))
        self.check(sc.D_ROLE, other, REFUSED, lambda: self._read(s3, self.logs["E"][0]))

    def _play_e(self) -> None:
        e = self.users["e-user"]
        session = self._session_for("e-user (E)", f"assume {sc.E_ROLE}", ALLOWED,
                                    lambda: self._assume_detail(e.keys, sc.E_ROLE, "erin"))
        what = "read every log file (Admin, D, E, R)"
        if session is None:
            self.not_run(sc.E_ROLE, what, ALLOWED, "no session")
            return
        self.check(sc.E_ROLE, what, ALLOWED,
                   lambda: self._read_all(self.client("s3", session)))

    def _play_r(self) -> None:
        r = self.users["r-user"]
        self.check("r-user (R)", f"assume {sc.R_ROLE} without ExternalId", REFUSED,
                   lambda: self._assume_detail(r.keys, sc.R_ROLE, "rae"))
        self.check("r-user (R)", f"assume {sc.R_ROLE} with a wrong ExternalId", REFUSED,
                   lambda: self._assume_detail(r.keys, sc.R_ROLE, "rae", ExternalId="guess"))
        session = self._session_for(
            "r-user (R)", f"assume {sc.R_ROLE} with the agreed ExternalId", ALLOWED,
            lambda: self._assume_detail(r.keys, sc.R_ROLE, "rae", ExternalId=sc.EXTERNAL_ID),
        )
        what = "read a log file of E"
        if session is None:
            self.not_run(sc.R_ROLE, what, ALLOWED, "no session")
            return
        self.check(sc.R_ROLE, what, ALLOWED,
                   lambda: self._read(self.client("s3", session), self.logs["E"][0]))

    @staticmethod
    def _records(s3: Any, key: str) -> int:
        """GetObject of one log file; the number of records in it."""
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return len(json.loads(gzip.decompress(body))["Records"])

    def _read(self, s3: Any, key: str) -> str:
        return f"{key.rsplit('/', 1)[-1]}: {self._records(s3, key)} records"

    def _read_prefix(self, s3: Any, party: str) -> str:
        prefix = f"AWSLogs/{self.accounts[party]}/"
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        keys = [o["Key"] for o in listed if "/CloudTrail/" in o["Key"]]
        if not keys:
            raise DemoError(f"no log files under {prefix}")
        records = sum(self._records(s3, k) for k in keys)
        return f"listed {prefix}, read {len(keys)} file(s), {records} records"

    def _read_all(self, s3: Any) -> str:
        found: dict[str, int] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="AWSLogs/"):
            for item in page.get("Contents", []):
                if "/CloudTrail/" in item["Key"]:
                    self._records(s3, item["Key"])
                    account = item["Key"].split("/")[1]
                    found[account] = found.get(account, 0) + 1
        names = [p for p in PARTIES if self.accounts[p] in found]
        if len(names) < len(PARTIES):
            raise DemoError(f"found log files of {', '.join(names) or 'nobody'} only")
        return f"read {sum(found.values())} files of {', '.join(names)}"

    # -- step 6 --

    def digests(self, workdir: Path) -> None:
        chain = "validate the digest chain of every trail"
        tampered = "validate a copy with one log file altered"
        if importlib.util.find_spec(VALIDATE_MODULE) is None:
            say(f"  skipped: {NO_VALIDATOR}")
            self.rows.append(Row("validator", chain, "valid", SKIPPED, NO_VALIDATOR))
            self.rows.append(Row("validator", tampered, "caught", SKIPPED, NO_VALIDATOR))
            return
        self._await_digests()
        online, offline = _validate(self, workdir)
        self.rows.append(Row("validator", chain, "valid", *online))
        self.rows.append(Row("validator", tampered, "caught", *offline))

    def _await_digests(self) -> None:
        s3 = self.client("s3", self.admin)
        covered = self.delivered.strftime("%Y%m%dT%H%M%SZ")

        def missing() -> list[str]:
            out = []
            for party in PARTIES:
                prefix = f"AWSLogs/{self.accounts[party]}/CloudTrail-Digest/"
                listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
                if not any(o["Key"][-24:-8] >= covered for o in listed):
                    out.append(party)
            return out

        wait_for(f"waiting for digests covering those files (every {DIGEST_INTERVAL} s)",
                 missing)

    def download(self, party: str, root: Path) -> int:
        """Copy the party's log and digest files to ``root/KEY``, each digest's S3 user
        metadata (its signature) to ``root/KEY.metadata.json``; returns the number of files."""
        s3 = self.client("s3", self.admin)
        count = 0
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"AWSLogs/{self.accounts[party]}/"
        )
        for item in (i for page in pages for i in page.get("Contents", [])):
            path = root / item["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            got = s3.get_object(Bucket=BUCKET, Key=item["Key"])
            path.write_bytes(got["Body"].read())
            if "/CloudTrail-Digest/" in item["Key"]:
                side = path.with_name(path.name + ".metadata.json")
                side.write_text(json.dumps({"Metadata": got.get("Metadata", {})}))
            count += 1
        return count

    # -- step 7 and --serve --

    def summary(self) -> int:
        headers = ("who", "what", "expected", "actual", "result")
        table = [(r.who, r.what, r.expected, r.actual, r.status) for r in self.rows]
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
        say("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        say("  " + "  ".join("-" * w for w in widths))
        for line in table:
            say("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        bad = sum(r.status == "DIFFERS" for r in self.rows)
        skipped = sum(r.status == SKIPPED for r in self.rows)
        checked = len(self.rows) - skipped
        say()
        for reason in dict.fromkeys(r.detail for r in self.rows if r.status == SKIPPED):
            say(f"skipped: {reason}")
        say(f"{checked - bad} of {checked} checks as expected" +
            (f", {skipped} skipped" if skipped else "") +
            ("" if not bad else f"; {bad} DIFFER from what was expected"))
        return 1 if bad else 0

    def run(self, workdir: Path) -> int:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("Organization: Admin and accounts D, E, R", self.organization),
            ("Central log bucket and a trail in every account", self.log_bucket_and_trails),
            ("Roles in Admin, users in D, E and R", self.roles_and_users),
            ("Activity and log delivery", self.activity),
            ("Each party reads the logs", self.play),
            ("Digest validation", lambda: self.digests(workdir)),
        ]
        for number, (title, step) in enumerate(steps, 1):
            say(f"\n[{number}/7] {title}")
            try:
                step()
            except ClientError as err:
                raise DemoError(f"step {number} ({title}): {_error(err)}") from None
        say("\n[7/7] Summary\n")
        return self.summary()


def _client_session() -> Any:
    """boto3 (or plain botocore) that ignores the user's own AWS config files and profile, so
    nothing but the demo's explicit endpoint and keys decides where calls go."""
    core = CoreSession()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    try:
        import boto3  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return _CoreClients(core)
    return boto3.session.Session(botocore_session=core)


@dataclass
class _CoreClients:
    core: Any

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.core.create_client(service, **kwargs)


def _validate(demo: Demo, workdir: Path) -> tuple[tuple[str, str], tuple[str, str]]:
    """Every trail validated against the server, then a copy of D's files offline, as it is
    and with one digested log file altered.  Returns (actual, detail) for both rows."""
    from .trail.validate import KeyRing, Report, SourceSpec, Target, Validator

    start, end = demo.started - timedelta(minutes=1), datetime.now(UTC)
    assert demo.admin is not None
    keys = KeyRing.from_cloudtrail(demo.client("cloudtrail", demo.admin), start, end, REGION)
    server = SourceSpec("s3", client=(
        ("aws_access_key_id", demo.admin.key), ("aws_secret_access_key", demo.admin.secret),
        ("endpoint_url", demo.server.endpoint), ("region_name", REGION),
    ))

    def check(spec: SourceSpec, party: str, label: str) -> Report:
        report = Validator(spec, keys, workers=1).run(Target(demo.trails[party], start, end,
                                                             BUCKET))
        digests = sum(d.valid for d in report.digests)
        logs = sum(g.valid for g in report.logs)
        say(f"  {label}: {'VALID' if report.valid else 'INVALID'} ({digests} of "
            f"{len(report.digests)} digest files, {logs} of {len(report.logs)} log files valid)")
        bad = [*(d.line() for d in report.digests if not d.valid),
               *(g.line() for g in report.logs if not g.valid), *report.problems]
        for line in bad:
            say("    " + line.replace("\t", "  "))
        return report

    reports = [check(server, p, f"trail {demo.trails[p].split('/')[-1]} ({p})") for p in PARTIES]
    good = sum(r.valid for r in reports)
    online = ("valid" if good == len(reports) else "INVALID", f"{good} of {len(reports)} trails")
    listed = [g.key for g in reports[PARTIES.index("D")].logs if g.valid]
    if not listed:
        return online, ("not run", "no digested log file of D to alter")
    root = workdir / "copy" / BUCKET
    say(f"  copied {demo.download('D', root)} files of D to {root}")
    copy = SourceSpec("dir", root=str(root), bucket=BUCKET)
    if not check(copy, "D", "the copy, offline").valid:
        return online, ("copy invalid", "the copy was invalid before any change")
    victim = root / listed[0]
    content = json.loads(gzip.decompress(victim.read_bytes()))
    content["Records"][0]["eventName"] = "NothingToSeeHere"
    victim.write_bytes(gzip.compress(json.dumps(content).encode()))
    say(f"  changed the eventName of one record in {victim.name}")
    after = check(copy, "D", "the altered copy, offline")
    caught = any(g.key == listed[0] and not g.valid for g in after.logs)
    return online, ("caught" if caught else "missed", victim.name)


# -- --serve --------------------------------------------------------------------------------------


def serve_banner(demo: Demo) -> Iterator[str]:
    server, endpoint = demo.server, demo.server.endpoint
    yield ""
    yield "== trailgate keeps running =="
    yield f"endpoint  {endpoint}   (data dir {server.data_dir}, server pid {server.process.pid})"
    yield (f"root of Admin ({demo.accounts['Admin']}): aws_access_key_id = {server.root.key}, "
           f"aws_secret_access_key = {server.root.secret}")
    yield ""
    note = "" if _console_available(endpoint) else "   (the web console is not in this build yet)"
    yield f"Console: {endpoint}{CONSOLE_PATH}{note}"
    yield from _sign_ins(demo)
    yield ""
    yield "AWS CLI profiles (add to ~/.aws/config), e.g."
    yield f"  aws --profile tg-e s3 ls s3://{BUCKET}/AWSLogs/ --recursive"
    yield ""
    yield from _profiles(demo)
    yield ""
    yield "MFA code for d-user (each code works once; if refused, wait for the next one):"
    yield f"  {sys.executable} -c \"import pyotp; print(pyotp.TOTP('{demo.mfa_seed}').now())\""
    yield ""
    yield f"trailgate is ready at {endpoint} - press Ctrl-C to stop it."


def _sign_ins(demo: Demo) -> Iterator[str]:
    """Per user: account, name, password, the sign-in link and the switch-role link."""
    console = demo.server.endpoint + CONSOLE_PATH
    for user in demo.users.values():
        mfa = "  + MFA code (below)" if user.name == "d-user" else ""
        yield (f"  {user.party:5} account {user.account}  user {user.name:10}  "
               f"password {user.password}{mfa}")
        yield f"        sign in      {console}signin?account={user.account}"
        if user.role is None:
            continue
        if user.role == sc.R_ROLE:
            yield "        switch role  not in the console for a role that needs an ExternalId " \
                  "(as on AWS): use profile tg-r"
            continue
        yield (f"        switch role  {console}switchrole?account={demo.accounts['Admin']}"
               f"&roleName={user.role}")


def _profiles(demo: Demo) -> Iterator[str]:
    common = [f"region = {REGION}", f"endpoint_url = {demo.server.endpoint}"]
    for user in demo.users.values():
        yield f"[profile tg-{user.name}]"
        yield from common
        yield f"aws_access_key_id = {user.keys.key}"
        yield f"aws_secret_access_key = {user.keys.secret}"
        yield ""
    for party in sc.parties():
        yield f"[profile tg-{party.name.lower()}]"
        yield from common
        yield f"role_arn = {demo.role_arn(party.role)}"
        yield f"source_profile = tg-{party.name.lower()}-user"
        if party.name == "D":
            yield f"mfa_serial = {demo.mfa_serial}"
        if party.name == "R":
            yield f"external_id = {sc.EXTERNAL_ID}"
        yield ""


def _console_available(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + CONSOLE_PATH, timeout=5) as response:
            return "text/html" in response.headers.get("content-type", "")
    except OSError:
        return False


# -- entry point ----------------------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _data_dir(requested: str | None) -> tuple[Path, bool]:
    """(directory, whether it is a temporary one the demo removes)."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="trailgate-demo-")), True
    path = Path(requested)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DemoError(f"{path} is not an empty directory; the demo builds a new organization "
                        "and needs a fresh data dir")
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def run(*, serve: bool = False, data_dir: str | None = None, port: int | None = None) -> int:
    """``trailgate demo``: returns 0 when every row of the summary is as expected."""
    try:
        directory, temporary = _data_dir(data_dir)
    except DemoError as err:
        print(f"trailgate demo: {err}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    server: Server | None = None
    code, serving = 1, False
    try:
        server = start_server(directory, port or free_port())
        say("trailgate demo: the seed scenario end to end")
        say(f"server {server.endpoint} (pid {server.process.pid}), data dir {directory}")
        demo = Demo(server)
        with tempfile.TemporaryDirectory(prefix="trailgate-demo-work-") as work:
            code = demo.run(Path(work))
        if serve:
            serving = True
            for line in serve_banner(demo):
                say(line)
            server.process.wait()
            say("the server stopped on its own; see " + str(server.log_path))
            code = 1
    except KeyboardInterrupt:
        say("\nstopping the server" if serving else "\ninterrupted; stopping the server")
        code = code if serving else 130
    except DemoError as err:
        say(f"\ndemo failed: {err}")
        code = 1
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
    if temporary and code in (0, 130):
        shutil.rmtree(directory, ignore_errors=True)
    elif server is not None and code != 0:
        say(f"server log kept in {server.log_path}")
    return code
