"""Sign-in (password, then MFA code), sign-out, the home page, switch role and switch back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import clock
from ..gateway.chain import CallError
from . import explain
from .session import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    SIGNIN_COOKIE,
    Pending,
    Session,
    new_pending,
    same_token,
)
from .web import (
    Page,
    clear_cookie,
    client_of,
    current_session,
    env_of,
    page,
    redirect,
    render,
    set_cookie,
    signin_cookie,
    store_session,
)


def _next(target: str | None) -> str:
    """Only console paths of this server (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return "/console/"


def _pending(request: Request) -> Pending | None:
    return env_of(request).codec.open_pending(signin_cookie(request), clock.now().timestamp())


def _signin_form(request: Request, pending: Pending, status: int = 200, error: str = "",
                 **values: str) -> Response:
    env = env_of(request)
    response = render(env, request, "signin.html", status, title="Sign in", error=error,
                      csrf=pending.csrf, next=_next(request.query_params.get("next")),
                      account=values.get("account", request.query_params.get("account", "")),
                      user=values.get("user", ""))
    set_cookie(response, request, SIGNIN_COOKIE, env.codec.seal_pending(pending), 900)
    return response


async def signin(request: Request) -> Response:
    env = env_of(request)
    if current_session(request, env) is not None and request.method == "GET":
        return redirect(_next(request.query_params.get("next")))
    pending = _pending(request)
    if request.method == "GET":
        fresh = pending if pending is not None and not pending.user else None
        return _signin_form(request, fresh or new_pending(clock.now().timestamp()))
    form = await request.form()
    account, user = str(form.get("account", "")), str(form.get("username", ""))
    token = form.get("csrf_token")
    if pending is None or not same_token(pending.csrf, token if isinstance(token, str) else None):
        return _signin_form(request, new_pending(clock.now().timestamp()), 400,
                            "This sign-in page has expired. Please try again.",
                            account=account, user=user)
    outcome = await env.console.password_step(
        account, user, str(form.get("password", "")), client_of(request), pending.csrf
    )
    if outcome.error:
        return _signin_form(request, new_pending(clock.now().timestamp()), 401, outcome.error,
                            account=account, user=user)
    target = _next(request.query_params.get("next"))
    if outcome.pending is not None:
        response: Response = redirect("/console/signin/mfa?next=" + target)
        set_cookie(response, request, SIGNIN_COOKIE, env.codec.seal_pending(outcome.pending),
                   300)
        return response
    return _signed_in(request, target, outcome.session)


def _signed_in(request: Request, target: str, session: Session | None) -> Response:
    assert session is not None
    response: Response = redirect(target)
    store_session(response, request, env_of(request), session)
    clear_cookie(response, request, SIGNIN_COOKIE)
    return response


async def signin_mfa(request: Request) -> Response:
    env = env_of(request)
    pending = _pending(request)
    target = _next(request.query_params.get("next"))
    if pending is None or not pending.user:
        return redirect("/console/signin?next=" + target)
    error = ""
    status = 200
    if request.method == "POST":
        form = await request.form()
        token = form.get("csrf_token")
        if not same_token(pending.csrf, token if isinstance(token, str) else None):
            return redirect("/console/signin?next=" + target)
        outcome = await env.console.mfa_step(pending, str(form.get("code", "")),
                                             client_of(request))
        if outcome.session is not None:
            return _signed_in(request, target, outcome.session)
        error, status = outcome.error, 401
    return render(env, request, "mfa.html", status, title="Multi-factor authentication",
                  error=error, csrf=pending.csrf, user=pending.user, account=pending.account,
                  next=target)


@page
async def signout(ctx: Page) -> Response:
    ctx.env.codec.revoke(ctx.session, clock.now().timestamp())
    response: Response = redirect("/console/signin")
    clear_cookie(response, ctx.request, SESSION_COOKIE)
    return response


@page
async def home(ctx: Page) -> Response:
    left = max(0, ctx.session.expires - int(clock.now().timestamp()))
    return ctx.render("home.html", title="Console home", session_left=left,
                      session_total=SESSION_SECONDS)


@page
async def switch_role(ctx: Page) -> Response:
    s = ctx.session
    values = {
        "account": ctx.arg("account"), "role": ctx.arg("roleName"),
        "display": ctx.arg("displayName"), "colour": ctx.arg("color", "blue"),
    }
    failure = None
    if ctx.form is not None:
        values = {k: ctx.field(k) for k in ("account", "role", "display", "colour")}
        try:
            await ctx.env.console.switch_role(
                s, values["account"], values["role"], values["display"], values["colour"],
                ctx.client,
            )
        except CallError as err:
            role_arn = f"arn:aws:iam::{values['account'].strip()}:role/" \
                       f"{values['role'].strip().strip('/')}"
            failure = explain.switch_refusal(
                ctx.env.console.store, err, ctx.env.console.user_principal(s), role_arn, s.mfa
            )
        else:
            ctx.dirty = True
            return redirect(_next(ctx.field("next")) if ctx.field("next") else "/console/")
    status = 403 if failure and failure["code"].startswith("Access") else 200
    if failure and not failure["code"].startswith("Access"):
        status = 400
    return ctx.render("switchrole.html", status, title="Switch role", values=values,
                      failure=failure)


@page
async def switch_back(ctx: Page) -> Response:
    await ctx.env.console.switch_back(ctx.session, ctx.client)
    ctx.dirty = True
    return redirect("/console/")
