"""Comparison: the seed scenario's decision table played against trailgate and its peers.

Usage::

    .venv/bin/python bench/peers.py [--peers trailgate,moto,moto-auth[,localstack]]
                                    [--localstack-python PATH] [--wait S]
                                    [--markdown | --json] [--no-install]

What runs (everything on 127.0.0.1, each server started by the script on a fresh state and
stopped by its own pid at the end):

- ``trailgate``: ``trailgate serve`` on an empty data dir with a fixed root key, log delivery
  every second and digests every 3 s (the defaults are 300 s and 3600 s).
- ``moto``: moto's server (``python -m moto.server``, what ``moto_server`` runs) with its
  default settings.  ``moto[server]`` is not a trailgate dependency; it is pip-installed into
  this interpreter's environment when missing (unless ``--no-install``).
- ``moto-auth``: a second moto server with moto's opt-in IAM access control switched on after
  the setup (``POST /moto-api/reset-auth`` with ``0``, the server-mode form of
  ``INITIAL_NO_AUTH_ACTION_COUNT``): from then on moto checks signatures and identity policies.
- ``localstack`` (only with ``--localstack-python``): LocalStack's runtime from the
  ``localstack-core`` package, in host mode (``python -m localstack.runtime.main``, no Docker),
  started with ``ENFORCE_IAM=1``.  It needs Python >= 3.12 and its own virtual environment;
  see the README ("How it compares with moto and LocalStack") for the install line.

The same setup runs through boto3 on every server, as a user would: root creates an IAM user
``admin`` with ``AdministratorAccess``; ``admin`` creates the organization and accounts D, E, R
(Organizations ``CreateAccount``) and, in Admin, the roles ``CloudTrailReader-D`` (trusts D,
only with MFA; reads ``AWSLogs/<D>/`` only), ``CloudTrailReader-E`` (trusts E;
``AmazonS3ReadOnlyAccess``) and ``CloudTrailReader-R`` (trusts R, only with the agreed
ExternalId; ``AmazonS3ReadOnlyAccess``); in each member account, reached through its
``OrganizationAccountAccessRole``, a user allowed to assume its role (D's user with a virtual
MFA device); the central bucket with CloudTrail's bucket policy for the four trails, one object
under ``AWSLogs/<D>/`` and one under ``AWSLogs/<E>/``; a trail with log file validation in every
account; a user in Admin with no identity policy.  A setup step a server does not support is
reported with its error, and the checks that need it print ``not supported: ...``; when
Organizations is missing, the member accounts get fixed ids (222222222222, ...).

Then every server answers the same checks (the decision table), each printed with the expected
outcome, every server's actual one and whether it matches.  An outcome is ``ok`` or the AWS
error code of the refusal; the delivery checks count accounts whose files are in the bucket
under AWS's key layout.  The delivery checks run last, after waiting (up to ``--wait`` s) until
trailgate has delivered log and digest files of every account; by then every peer has had at
least as long since its own setup.

Exit status: 1 when trailgate differs from the expected outcome in any check (or cannot be
started), else 0, whatever the peers answer.  ``tests/api/test_peers.py`` smoke-tests it.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from trailgate import scenario as sc  # the scenario's policy documents, as the demo uses them

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/benchlib.py
from benchlib import ServerProcess, ensure_moto, free_port

REGION = "us-east-1"
ROOT_KEY = "AKIAPEERSROOTKEY0001"
ROOT_SECRET = "trailgate/bench/peers/root/secret/key/0001"
MANAGEMENT = "111111111111"
ANY_KEY = "AKIAPEERSANYKEY00001"  # moto and LocalStack accept any key as their root
ANY_SECRET = "peers/any/secret/access/key/00000000000"
FALLBACK_ACCOUNTS = {"D": "222222222222", "E": "333333333333", "R": "444444444444"}
PARTIES = ("D", "E", "R")
BUCKET = "trail-bucket"
NO_POLICY_BUCKET = "bucket-without-cloudtrail-policy"
EXTERNAL_ID = "R-analyzer-7f3c2a"
ORG_ROLE = "OrganizationAccountAccessRole"
ROLE = {"D": "CloudTrailReader-D", "E": "CloudTrailReader-E", "R": "CloudTrailReader-R"}
READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"

TRAILGATE = "trailgate"
MOTO = "moto"
MOTO_AUTH = "moto-auth"
LOCALSTACK = "localstack"
ALL_PEERS = (TRAILGATE, MOTO, MOTO_AUTH, LOCALSTACK)

OK = "ok"
NOT_SUPPORTED = "not supported"
NOT_EMULATED = "not included in your current license plan"  # LocalStack's answer


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------------------------


@dataclass
class ServerProc(ServerProcess):
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"



def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path,
           health: str, timeout: float = 120.0) -> ServerProc:
    port = int(env.pop("_PORT"))
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=workdir, start_new_session=True)
    server = ServerProc(name, process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.endpoint + health, timeout=2) as response:
                response.read()
                return server
        except urllib.error.HTTPError:
            return server  # it answered: it is up
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not come up:\n{server.log_tail()}")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "MOTO_", "TRAILGATE_", "LOCALSTACK_"))}


def start(name: str, workdir: Path, localstack_python: str | None) -> ServerProc:
    port = free_port()
    env = _clean_env()
    env["_PORT"] = str(port)
    if name == TRAILGATE:
        env.update(TRAILGATE_ROOT_ACCESS_KEY_ID=ROOT_KEY,
                   TRAILGATE_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
                   TRAILGATE_MANAGEMENT_ACCOUNT_ID=MANAGEMENT)
        argv = [sys.executable, "-m", "trailgate.cli", "serve", "--host", "127.0.0.1",
                "--port", str(port), "--data-dir", str(workdir / "trailgate-data"),
                "--delivery-interval", "1", "--digest-interval", "3"]
        return _spawn(name, argv, env, workdir, "/_trailgate/health")
    if name in (MOTO, MOTO_AUTH):
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # else AdministratorAccess & co. are absent
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        return _spawn(name, argv, env, workdir, "/moto-api/")
    if name == LOCALSTACK:
        if not localstack_python:
            raise RuntimeError("localstack needs --localstack-python")
        env.update(GATEWAY_LISTEN=f"127.0.0.1:{port}", ENFORCE_IAM="1", DISABLE_EVENTS="1",
                   SKIP_SSL_CERT_DOWNLOAD="1", DNS_ADDRESS="0",
                   LOCALSTACK_VOLUME_DIR=str(workdir / "localstack-volume"))
        argv = [localstack_python, "-m", "localstack.runtime.main"]
        return _spawn(name, argv, env, workdir, "/_localstack/health")
    raise ValueError(name)




def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def localstack_version(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "from importlib.metadata import version; "
                       "print(version('localstack-core'))"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return done.stdout.strip() or "unknown"


# --------------------------------------------------------------------------------------------
# Policies (the seed scenario's; see src/trailgate/scenario.py)
# --------------------------------------------------------------------------------------------


def may_assume(management: str, role: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Resource": f"arn:aws:iam::{management}:role/{role}"}]})


# --------------------------------------------------------------------------------------------
# One server's run
# --------------------------------------------------------------------------------------------


@dataclass
class Keys:
    key: str
    secret: str
    token: str | None = None


class Unsupported(Exception):
    """A check needs a setup step this server did not complete."""


def describe_error(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or str(exc.response["ResponseMetadata"].get("HTTPStatusCode"))
        return f"{code}: {error.get('Message', '')}".strip().rstrip(":")
    return f"{type(exc).__name__}: {exc}"


def outcome_of(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, Unsupported):
        return f"{NOT_SUPPORTED} ({exc})"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        if not code or code.isdigit():  # botocore's stand-in for a body without an AWS error
            return f"HTTP {exc.response['ResponseMetadata'].get('HTTPStatusCode')}"
        if NOT_EMULATED in str(error.get("Message", "")):
            return f"{NOT_SUPPORTED} ({code}: not in this edition)"
        return code
    return f"error: {type(exc).__name__}: {exc}"


def shorten(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Peer:
    name: str
    server: ServerProc
    root: Keys
    management: str = ""
    admin: Keys | None = None
    accounts: dict[str, str] = field(default_factory=dict)
    members: dict[str, Keys] = field(default_factory=dict)
    users: dict[str, Keys] = field(default_factory=dict)
    no_policy: Keys | None = None
    mfa_serial: str = ""
    mfa_seed: str = ""
    last_step: int = 0
    sessions: dict[str, Keys] = field(default_factory=dict)
    setup_errors: dict[str, str] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, keys: Keys) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=self.server.endpoint, region_name=REGION,
            aws_access_key_id=keys.key, aws_secret_access_key=keys.secret,
            aws_session_token=keys.token,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                          connect_timeout=10, read_timeout=60),
        )

    # -- setup ---------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], None]) -> bool:
        try:
            action()
            return True
        except Exception as exc:  # any failure is this server's answer
            self.setup_errors[name] = shorten(describe_error(exc))
            return False

    def need(self, *steps: str) -> None:
        for name in steps:
            if name in self.setup_errors:
                raise Unsupported(f"setup '{name}' failed")

    def assume(self, keys: Keys, role_arn: str, name: str, **extra: Any) -> Keys:
        creds = self.client("sts", keys).assume_role(
            RoleArn=role_arn, RoleSessionName=name, **extra)["Credentials"]
        return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def owner(self, party: str) -> Keys:
        if party == "Admin":
            assert self.admin is not None
            return self.admin
        if party not in self.members:
            raise Unsupported(f"setup 'reach account {party}' failed")
        return self.members[party]

    def setup(self) -> None:
        self.management = str(self.client("sts", self.root).get_caller_identity()["Account"])

        def admin_user() -> None:
            iam = self.client("iam", self.root)
            iam.create_user(UserName="admin")
            iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN_POLICY)
            key = iam.create_access_key(UserName="admin")["AccessKey"]
            self.admin = Keys(key["AccessKeyId"], key["SecretAccessKey"])

        if not self.step("admin user", admin_user):
            raise RuntimeError(f"{self.name}: cannot create the admin user: "
                               f"{self.setup_errors['admin user']}")
        admin = self.admin
        assert admin is not None

        def organization() -> None:
            org = self.client("organizations", admin)
            org.create_organization(FeatureSet="ALL")
            for party in PARTIES:
                status = org.create_account(Email=f"{party.lower()}@example.com",
                                            AccountName=f"account-{party}")["CreateAccountStatus"]
                deadline = time.monotonic() + 30
                while status.get("State") == "IN_PROGRESS" and time.monotonic() < deadline:
                    time.sleep(0.2)
                    status = org.describe_create_account_status(
                        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
                if status.get("State") != "SUCCEEDED":
                    raise RuntimeError(f"CreateAccount {party}: {status}")
                self.accounts[party] = str(status["AccountId"])

        if not self.step("Organizations CreateAccount", organization):
            self.accounts = dict(FALLBACK_ACCOUNTS)
        iam = self.client("iam", admin)
        for party in PARTIES:
            account = self.accounts[party]

            def role(party: str = party, account: str = account) -> None:
                iam.create_role(RoleName=ROLE[party], AssumeRolePolicyDocument=json.dumps(
                    sc.trust_account(account, mfa=party == "D",
                                     external_id=EXTERNAL_ID if party == "R" else None)))
                if party == "D":
                    iam.put_role_policy(RoleName=ROLE[party], PolicyName="read-own-prefix",
                                        PolicyDocument=json.dumps(sc.prefix_read(BUCKET, account)))
                else:
                    iam.attach_role_policy(RoleName=ROLE[party], PolicyArn=READ_ONLY)

            self.step(f"role {ROLE[party]}", role)

            def reach(party: str = party, account: str = account) -> None:
                self.members[party] = self.assume(
                    admin, f"arn:aws:iam::{account}:role/{ORG_ROLE}", "setup")

            if not self.step(f"reach account {party}", reach):
                continue

            def user(party: str = party) -> None:
                member_iam = self.client("iam", self.members[party])
                name = f"{party.lower()}-user"
                member_iam.create_user(UserName=name)
                member_iam.put_user_policy(UserName=name, PolicyName="assume-admin-role",
                                           PolicyDocument=may_assume(self.management,
                                                                     ROLE[party]))
                key = member_iam.create_access_key(UserName=name)["AccessKey"]
                self.users[party] = Keys(key["AccessKeyId"], key["SecretAccessKey"])

            self.step(f"{party.lower()}-user", user)
        if "D" in self.users:
            self.step("MFA device", self._mfa_device)
        s3 = self.client("s3", admin)

        def bucket() -> None:
            s3.create_bucket(Bucket=BUCKET)
            trails = {self.management: sc.trail_arn(self.management, "trail-admin")}
            trails.update({self.accounts[p]: sc.trail_arn(self.accounts[p], f"trail-{p.lower()}")
                           for p in PARTIES})
            policy = sc.cloudtrail_bucket_policy(BUCKET, trails)
            s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
            for party in ("D", "E"):
                s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{self.accounts[party]}/probe.txt",
                              Body=f"an object of {party}".encode())
            s3.create_bucket(Bucket=NO_POLICY_BUCKET)

        self.step("bucket", bucket)
        for party in ("Admin", *PARTIES):

            def trail(party: str = party) -> None:
                ct = self.client("cloudtrail", self.owner(party))
                arn = ct.create_trail(Name=f"trail-{party.lower()}", S3BucketName=BUCKET,
                                      EnableLogFileValidation=True)["TrailARN"]
                ct.start_logging(Name=arn)

            self.step(f"trail in {party}", trail)

        def no_policy_user() -> None:
            iam.create_user(UserName="no-policy")
            key = iam.create_access_key(UserName="no-policy")["AccessKey"]
            self.no_policy = Keys(key["AccessKeyId"], key["SecretAccessKey"])

        self.step("no-policy user", no_policy_user)

    def _mfa_device(self) -> None:
        import pyotp

        member_iam = self.client("iam", self.members["D"])
        device = member_iam.create_virtual_mfa_device(
            VirtualMFADeviceName="d-user")["VirtualMFADevice"]
        self.mfa_serial = device["SerialNumber"]
        seed = device["Base32StringSeed"]
        self.mfa_seed = seed.decode() if isinstance(seed, bytes) else str(seed)
        totp = pyotp.TOTP(self.mfa_seed)
        step = int(time.time()) // 30
        member_iam.enable_mfa_device(UserName="d-user", SerialNumber=self.mfa_serial,
                                     AuthenticationCode1=totp.at((step - 1) * 30),
                                     AuthenticationCode2=totp.at(step * 30))
        self.last_step = step

    def next_code(self) -> str:
        """A TOTP code the server has not seen (it refuses a replayed one), waiting for the
        clock when that step is more than one step ahead (AWS accepts +-1 step)."""
        import pyotp

        step = max(self.last_step + 1, int(time.time()) // 30)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.last_step = step
        return str(pyotp.TOTP(self.mfa_seed).at(step * 30))

    def role_arn(self, party: str) -> str:
        return f"arn:aws:iam::{self.management}:role/{ROLE[party]}"

    def user(self, party: str) -> Keys:
        self.need(f"reach account {party}", f"{party.lower()}-user")
        if party not in self.users:
            raise Unsupported(f"{party.lower()}-user missing")
        return self.users[party]

    def session(self, party: str) -> Keys:
        if party not in self.sessions:
            raise Unsupported(f"no session of {ROLE[party]} (its AssumeRole did not succeed)")
        return self.sessions[party]


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    what: str
    expected: str
    run: Callable[[Peer], str]
    late: bool = False  # runs after the delivery wait


def _assume_check(party: str, store: bool = False, **extra: Any) -> Callable[[Peer], str]:
    def run(peer: Peer) -> str:
        peer.need(f"role {ROLE[party]}")
        keys = peer.user(party)
        arguments = dict(extra)
        if arguments.pop("mfa", False):
            peer.need("MFA device")
            arguments.update(SerialNumber=peer.mfa_serial, TokenCode=peer.next_code())
        session = peer.assume(keys, peer.role_arn(party), f"{party.lower()}-session",
                              **arguments)
        if store:
            peer.sessions[party] = session
        return OK
    return run


def _read(party: str, prefix_of: str) -> Callable[[Peer], str]:
    def run(peer: Peer) -> str:
        peer.need("bucket")
        key = f"AWSLogs/{peer.accounts[prefix_of]}/probe.txt"
        peer.client("s3", peer.session(party)).get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return OK
    return run


def _e_writes(peer: Peer) -> str:
    peer.need("bucket")
    peer.client("s3", peer.session("E")).put_object(
        Bucket=BUCKET, Key=f"AWSLogs/{peer.accounts['E']}/written-by-e.txt", Body=b"x")
    return OK


def _no_policy_reads(peer: Peer) -> str:
    peer.need("bucket", "no-policy user")
    assert peer.no_policy is not None
    peer.client("s3", peer.no_policy).get_object(
        Bucket=BUCKET, Key=f"AWSLogs/{peer.accounts['E']}/probe.txt")["Body"].read()
    return OK


def _wrong_secret(peer: Peer) -> str:
    assert peer.admin is not None
    wrong = Keys(peer.admin.key, peer.admin.secret[:-4] + "XXXX")
    peer.client("sts", wrong).get_caller_identity()
    return OK


def _tampered_token(peer: Peer) -> str:
    session = peer.session("E")
    token = session.token or ""
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    peer.client("sts", Keys(session.key, session.secret, flipped)).get_caller_identity()
    return OK


def _trail_without_policy(peer: Peer) -> str:
    peer.need("bucket")
    assert peer.admin is not None
    peer.client("cloudtrail", peer.admin).create_trail(Name="trail-no-policy",
                                                       S3BucketName=NO_POLICY_BUCKET)
    return OK


def _keys_under(peer: Peer, prefix: str) -> list[str]:
    assert peer.admin is not None
    s3 = peer.client("s3", peer.admin)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def _all_accounts(peer: Peer) -> list[str]:
    return [peer.management, *(peer.accounts[p] for p in PARTIES)]


LOG_NAME = r"{a}_CloudTrail_{r}_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
DIGEST_NAME = r"{a}_CloudTrail-Digest_{r}_trail-[a-z]+_{r}_\d{{8}}T\d{{6}}Z\.json\.gz"


def _delivered(kind: str) -> Callable[[Peer], str]:
    """How many of the 4 accounts have files of ``kind`` (CloudTrail or CloudTrail-Digest) in
    the bucket, every one under AWS's key layout and readable as gzip JSON."""
    name = LOG_NAME if kind == "CloudTrail" else DIGEST_NAME

    def run(peer: Peer) -> str:
        peer.need("bucket", *(f"trail in {p}" for p in ("Admin", *PARTIES)))
        accounts = _all_accounts(peer)
        done = 0
        for account in accounts:
            folder = f"AWSLogs/{account}/{kind}/{REGION}/"
            pattern = re.compile(re.escape(folder) + r"\d{4}/\d{2}/\d{2}/"
                                 + name.format(a=account, r=re.escape(REGION)))
            keys = _keys_under(peer, folder)
            wrong = [k for k in keys if not pattern.fullmatch(k)]
            if wrong:
                return f"other layout: {wrong[0]}"
            if keys:
                assert peer.admin is not None
                body = peer.client("s3", peer.admin).get_object(Bucket=BUCKET, Key=keys[0])
                document = json.loads(gzip.decompress(body["Body"].read()))
                field_name = "Records" if kind == "CloudTrail" else "logFiles"
                if field_name not in document:
                    return f"no {field_name!r} in {keys[0]}"
                done += 1
        others = [k for k in _keys_under(peer, "AWSLogs/") if f"/{kind}/" in k
                  and not any(k.startswith(f"AWSLogs/{a}/{kind}/") for a in accounts)]
        if others:
            return f"other layout: {others[0]}"
        return f"{done} of {len(accounts)} accounts"
    return run


def _lookup_assume_role(peer: Peer) -> str:
    assert peer.admin is not None
    ct = peer.client("cloudtrail", peer.admin)
    events: list[dict[str, Any]] = []
    pages = ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
        PaginationConfig={"MaxItems": 500})
    for page in pages:
        events.extend(page["Events"])
    for event in events:
        record = json.loads(event.get("CloudTrailEvent", "{}"))
        role = str(record.get("requestParameters", {}).get("roleArn", ""))
        if role.endswith(f":role/{ROLE['D']}") and record.get("errorCode") is None:
            return "found"
    return f"not found ({len(events)} AssumeRole events)"


CHECKS: tuple[Check, ...] = (
    Check("d-user (D) assumes CloudTrailReader-D without MFA", "AccessDenied",
          _assume_check("D")),
    Check("d-user (D) assumes CloudTrailReader-D with an MFA code", OK,
          _assume_check("D", store=True, mfa=True)),
    Check("D's role session reads `AWSLogs/<D>/probe.txt`", OK, _read("D", "D")),
    Check("D's role session reads `AWSLogs/<E>/probe.txt`", "AccessDenied", _read("D", "E")),
    Check("e-user (E) assumes CloudTrailReader-E", OK, _assume_check("E", store=True)),
    Check("E's role session reads `AWSLogs/<D>/probe.txt`", OK, _read("E", "D")),
    Check("E's role session (AmazonS3ReadOnlyAccess) writes an object", "AccessDenied",
          _e_writes),
    Check("r-user (R) assumes CloudTrailReader-R without ExternalId", "AccessDenied",
          _assume_check("R")),
    Check("r-user (R) assumes CloudTrailReader-R with a wrong ExternalId", "AccessDenied",
          _assume_check("R", ExternalId="not-the-agreed-id")),
    Check("r-user (R) assumes CloudTrailReader-R with the agreed ExternalId", OK,
          _assume_check("R", store=True, ExternalId=EXTERNAL_ID)),
    Check("R's role session reads `AWSLogs/<E>/probe.txt`", OK, _read("R", "E")),
    Check("user in Admin with no identity policy reads `AWSLogs/<E>/probe.txt`", "AccessDenied",
          _no_policy_reads),
    Check("admin's key signed with a wrong secret key (GetCallerIdentity)",
          "SignatureDoesNotMatch", _wrong_secret),
    Check("E's session token with one character changed (GetCallerIdentity)",
          "InvalidClientTokenId", _tampered_token),
    Check("CreateTrail into a bucket without CloudTrail's bucket policy",
          "InsufficientS3BucketPolicyException", _trail_without_policy),
    Check("log files in the bucket, AWS key layout "
          "(`AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/...`)", "4 of 4 accounts",
          _delivered("CloudTrail"), late=True),
    Check("digest files in the bucket, AWS key layout (`AWSLogs/<acct>/CloudTrail-Digest/...`)",
          "4 of 4 accounts", _delivered("CloudTrail-Digest"), late=True),
    Check("LookupEvents in Admin shows d-user's AssumeRole of CloudTrailReader-D", "found",
          _lookup_assume_role, late=True),
)


def run_check(peer: Peer, check: Check) -> None:
    try:
        result = check.run(peer)
        detail = ""
    except Exception as exc:  # any failure is this server's answer
        result = outcome_of(exc)
        detail = "" if isinstance(exc, Unsupported) else shorten(describe_error(exc), 200)
    peer.results[check.what] = shorten(result)
    if detail:
        peer.details[check.what] = detail


def wait_for_delivery(peer: Peer, limit: float) -> float:
    """Seconds waited until ``peer`` (trailgate) has log and digest files of every account."""
    began = time.monotonic()
    probes = [c for c in CHECKS if c.late and c.expected == "4 of 4 accounts"]
    while time.monotonic() - began < limit:
        try:
            if all(probe.run(peer) == probe.expected for probe in probes):
                break
        except Exception:  # not there yet
            pass
        time.sleep(1)
    return time.monotonic() - began


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def matches(expected: str, actual: str | None) -> str:
    if actual is None:
        return "-"
    return "yes" if actual == expected else "no"


def table(peers: list[Peer], markdown: bool) -> str:
    names = [p.name for p in peers]
    header = ["check", "expected", *names, "matches expected (" + " / ".join(names) + ")"]
    rows = []
    for check in CHECKS:
        actual = [p.results.get(check.what) for p in peers]
        rows.append([check.what, check.expected, *(a or "-" for a in actual),
                     " / ".join(matches(check.expected, a) for a in actual)])
    totals = ["checks as expected", "", *(
        f"{sum(p.results.get(c.what) == c.expected for c in CHECKS)} of {len(CHECKS)}"
        for p in peers), ""]
    if markdown:
        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        bolded = [f"**{cell}**" if cell else "" for cell in totals]
        return "\n".join([line(header), "|" + "---|" * len(header),
                          *(line(r) for r in rows), line(bolded)])
    rows = [[shorten(cell, 48) if i >= 2 else cell for i, cell in enumerate(r)] for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows, totals]) for i in range(len(header))]

    def text(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([text(header), text(["-" * w for w in widths]), *(text(r) for r in rows),
                      text(["-" * w for w in widths]), text(totals)])


@contextlib.contextmanager
def servers_started(names: list[str], workdir: Path,
                    localstack_python: str | None) -> Iterator[dict[str, ServerProc]]:
    running: dict[str, ServerProc] = {}
    try:
        for name in names:
            log(f"peers: starting {name}")
            running[name] = start(name, workdir, localstack_python)
        yield running
    finally:
        for server in running.values():
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default=None,
                        help="comma-separated servers to run, of: " + ", ".join(ALL_PEERS)
                        + " (default: trailgate,moto,moto-auth, plus localstack with "
                          "--localstack-python)")
    parser.add_argument("--localstack-python", default=None,
                        help="a Python >= 3.12 with localstack-core[runtime] installed")
    parser.add_argument("--wait", type=float, default=60.0,
                        help="seconds to wait at most for trailgate's log and digest files")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print a Markdown table")
    output.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install moto[server] when missing")
    args = parser.parse_args(argv)
    if args.peers is None:
        names = [TRAILGATE, MOTO, MOTO_AUTH] + ([LOCALSTACK] if args.localstack_python else [])
    else:
        names = [n.strip() for n in args.peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_PEERS]
    if unknown or TRAILGATE not in names:
        parser.error(f"--peers must include trailgate and only {', '.join(ALL_PEERS)}")
    names = [TRAILGATE, *(n for n in ALL_PEERS if n in names and n != TRAILGATE)]
    if LOCALSTACK in names and not args.localstack_python:
        parser.error("localstack needs --localstack-python")
    if MOTO in names or MOTO_AUTH in names:
        ensure_moto(not args.no_install, "peers")

    versions = {"trailgate": _version("trailgate"), "boto3": _version("boto3")}
    if MOTO in names or MOTO_AUTH in names:
        versions["moto"] = _version("moto")
    if LOCALSTACK in names:
        versions["localstack-core"] = localstack_version(args.localstack_python)

    with tempfile.TemporaryDirectory(prefix="trailgate-peers-") as tmp, \
            servers_started(names, Path(tmp), args.localstack_python) as running:
        peers: list[Peer] = []
        for name in names:
            root = Keys(ROOT_KEY, ROOT_SECRET) if name == TRAILGATE else \
                Keys(ANY_KEY, ANY_SECRET)
            peer = Peer(name, running[name], root)
            log(f"peers: setting up the scenario on {name}")
            try:
                peer.setup()
            except Exception as exc:
                if name == TRAILGATE:
                    raise
                peer.setup_errors["setup"] = shorten(describe_error(exc))
            if name == MOTO_AUTH:
                request = urllib.request.Request(
                    peer.server.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                    headers={"Content-Type": "text/plain"})  # a form body would be parsed away
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
            peers.append(peer)
        for peer in peers:
            log(f"peers: checks on {peer.name}")
            if "setup" in peer.setup_errors:
                for check in CHECKS:
                    peer.results[check.what] = f"{NOT_SUPPORTED} (setup failed)"
                continue
            for check in CHECKS:
                if not check.late:
                    run_check(peer, check)
        log(f"peers: waiting (at most {args.wait:.0f} s) for trailgate's log and digest files")
        waited = wait_for_delivery(peers[0], args.wait)
        log(f"peers: waited {waited:.1f} s")
        for peer in peers:
            if "setup" in peer.setup_errors:
                continue
            for check in CHECKS:
                if check.late:
                    run_check(peer, check)

    trailgate_ok = all(peers[0].results.get(c.what) == c.expected for c in CHECKS)
    if args.json:
        print(json.dumps({
            "versions": versions,
            "checks": [{"what": c.what, "expected": c.expected,
                        "actual": {p.name: p.results.get(c.what) for p in peers},
                        "detail": {p.name: p.details[c.what] for p in peers
                                   if c.what in p.details}} for c in CHECKS],
            "setup_errors": {p.name: p.setup_errors for p in peers},
            "trailgate_as_expected": trailgate_ok,
        }, indent=2))
    else:
        print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        print()
        print(table(peers, args.markdown))
        for peer in peers:
            if peer.setup_errors:
                print()
                print(f"{peer.name}: setup steps that failed:")
                for step, error in peer.setup_errors.items():
                    print(f"  {step}: {error}")
    if not trailgate_ok:
        log("peers: trailgate differs from the expected outcome")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
