"""What ``trailgate demo --serve`` (:mod:`trailgate.demo`) prints once the scenario is built:
the endpoint and root keys, console sign-in details, AWS CLI profiles and a TOTP helper."""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import scenario as sc
from .demo_common import BUCKET, CONSOLE_PATH, REGION

if TYPE_CHECKING:
    from .demo_steps import Demo


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
