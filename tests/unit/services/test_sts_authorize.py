"""The authorize step's STS rules: root may not assume roles, GetSessionToken credentials'
limits, and a session policy the engine cannot read never turns into a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_tx import FakeTx

from trailgate.gateway.authorize import PolicyCache, authorize
from trailgate.gateway.context import HttpRequest, Principal, RequestContext
from trailgate.protocol.errors import ServiceError

ACCT = "123456789012"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/target"
ROOT = Principal("root", f"arn:aws:iam::{ACCT}:root", ACCT, ACCT, "AKIAROOT", ACCT)
USER = Principal("user", f"arn:aws:iam::{ACCT}:user/u", ACCT, "AIDAUSER", "AKIAUSER",
                 "AIDAUSER")


def gst(principal: Principal, *, mfa: bool) -> Principal:
    """``principal``'s GetSessionToken credentials, with or without MFA."""
    return Principal(
        principal.kind, principal.arn, principal.account, principal.user_id, "ASIASESSION",
        principal.unique_id, mfa_authenticated=mfa, mfa_auth_time=NOW if mfa else None,
        session_issued=NOW, session_expires=NOW, via_session_token=True,
    )


def role_session(*policies: str) -> Principal:
    return Principal(
        "assumed_role", f"arn:aws:sts::{ACCT}:assumed-role/target/s", ACCT, "AROAROLE:s",
        "ASIAROLE", "AROAROLE", role_arn=ROLE_ARN, session_name="s", session_issued=NOW,
        session_expires=NOW, session_policies=policies,
    )


def context(p: Principal, service: str, operation: str, **params: Any) -> RequestContext:
    request = HttpRequest("POST", "/", "", {"host": "127.0.0.1"}, b"", "127.0.0.1")
    ctx = RequestContext(request=request, received_at=NOW)
    ctx.service, ctx.operation, ctx.region = service, operation, "us-east-1"
    ctx.params = dict(params)
    ctx.principal = p
    return ctx


def reader() -> Callable[[Callable[[Any], Any]], Any]:
    tx = FakeTx()
    return lambda fn: fn(tx)


def refusal(ctx: RequestContext) -> tuple[str, str, int]:
    with pytest.raises(ServiceError) as exc:
        authorize(ctx, reader(), 0, PolicyCache())
    return exc.value.code, exc.value.message, exc.value.status


ROOT_REFUSED = ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


@pytest.mark.parametrize("principal", [ROOT, gst(ROOT, mfa=False)], ids=["keys", "session"])
@pytest.mark.parametrize("role", [ROLE_ARN, f"arn:aws:iam::{ACCT}:role/missing"])
def test_root_cannot_assume_a_role(principal: Principal, role: str) -> None:
    ctx = context(principal, "sts", "AssumeRole", RoleArn=role, RoleSessionName="r")
    assert refusal(ctx) == ROOT_REFUSED


NO_MFA = ("InvalidClientTokenId", "The security token included in the request is invalid", 403)


@pytest.mark.parametrize("operation", ["GetUser", "ListUsers", "CreateUser"])
@pytest.mark.parametrize("principal", [USER, ROOT], ids=["user", "root"])
def test_session_token_without_mfa_cannot_call_iam(principal: Principal, operation: str) -> None:
    params = {"UserName": "x"} if operation == "CreateUser" else {}
    assert refusal(context(gst(principal, mfa=False), "iam", operation, **params)) == NO_MFA


def test_session_token_with_mfa_reaches_the_policies() -> None:
    """With MFA the session-token gate lets IAM through; the (empty) policies then decide."""
    code, message, status = refusal(context(gst(USER, mfa=True), "iam", "ListUsers"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: {USER.arn} is not authorized to perform: iam:ListUsers on resource: "
        f"arn:aws:iam::{ACCT}:user/ because no identity-based policy allows the iam:ListUsers "
        "action"
    )


@pytest.mark.parametrize("mfa", [False, True])
@pytest.mark.parametrize("operation", ["GetCallerIdentity", "GetSessionToken"])
def test_session_token_sts_calls_reach_the_provider(mfa: bool, operation: str) -> None:
    """GetSessionToken is left to the provider ("Cannot call GetSessionToken with session
    credentials"); GetCallerIdentity needs no permission."""
    authorize(context(gst(USER, mfa=mfa), "sts", operation), reader(), 0, PolicyCache())


def test_session_token_other_sts_calls_are_refused() -> None:
    code, _message, status = refusal(context(gst(USER, mfa=True), "sts", "GetAccessKeyInfo",
                                             AccessKeyId="AKIAEXAMPLE"))
    assert (code, status) == ("AccessDenied", 403)


@pytest.mark.parametrize("policy", ["{bad", "[1,2]", '{"Version":"2012-10-17","Statement":'
                                    '[{"Effect":"Allow","Action":"iam:*"}]}'])
def test_unreadable_session_policy_denies_instead_of_failing(policy: str) -> None:
    """A token minted before AssumeRole validated ``Policy`` may still carry a bad one: the
    policy grants nothing (AccessDenied), never a MalformedPolicyError (HTTP 500)."""
    code, message, status = refusal(context(role_session(policy), "iam", "ListUsers"))
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {role_session().arn} is not authorized to perform: "
                              "iam:ListUsers")


def test_unreadable_session_policy_keeps_the_readable_ones_as_the_limit() -> None:
    good = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers",'
            '"Resource":"*"}]}')
    ctx = context(role_session("{bad", good), "iam", "ListUsers")
    code, message, status = refusal(ctx)  # the role itself has no identity policy
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no identity-based policy allows the iam:ListUsers action")
