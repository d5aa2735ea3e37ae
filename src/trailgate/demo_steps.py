"""The steps of ``trailgate demo`` (:mod:`trailgate.demo`) as methods of :class:`Demo`: the
organization, the log bucket and trails, roles and users, activity, each party's attempts, digest
validation and the summary, all through boto3 (or botocore) against the demo's server."""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from botocore.session import Session as CoreSession  # type: ignore[import-untyped]

from . import scenario as sc
from .demo_common import (
    ALLOWED,
    BUCKET,
    DELIVERY_INTERVAL,
    DIGEST_INTERVAL,
    NO_VALIDATOR,
    ORG_ROLE,
    PARTIES,
    REFUSED,
    REGION,
    SKIPPED,
    VALIDATE_MODULE,
    WAIT_LIMIT,
    DemoError,
    Keys,
    Row,
    User,
    say,
    wait_for,
)
from .demo_server import Server
from .demo_validate import validate


def _error(err: ClientError) -> str:
    info = err.response.get("Error", {})
    return f"{info.get('Code', 'Error')}: {info.get('Message', '')}".rstrip(": ")


def _password() -> str:
    return "Tg-" + secrets.token_urlsafe(12)


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
        online, offline = validate(self, workdir)
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
