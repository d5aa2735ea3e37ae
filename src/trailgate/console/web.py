"""The console's request plumbing: the shared environment, the ``@page`` decorator (session,
CSRF, error pages), rendering, and cookies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import clock
from ..gateway.chain import CallError
from ..gateway.context import Principal
from . import explain, filters
from .actions import Client, Console
from .session import (
    COLOURS,
    COOKIE_PATH,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Session,
    SessionCodec,
    same_token,
)

TEMPLATES: Final = Path(__file__).parent / "templates"
STATIC: Final = Path(__file__).parent / "static"
SECURITY_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass
class Env:
    console: Console
    codec: SessionCodec
    jinja: Environment


def make_env(console: Console, codec: SessionCodec) -> Env:
    jinja = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(jinja)
    return Env(console, codec, jinja)


def env_of(request: Request) -> Env:
    found: Env = request.app.state.env
    return found


def client_of(request: Request) -> Client:
    peer = request.client.host if request.client is not None else "127.0.0.1"
    return Client(
        ip=peer,
        user_agent=request.headers.get("user-agent", ""),
        host=request.headers.get("host", ""),
        secure=request.url.scheme == "https",
    )


class ActionFailed(Exception):
    """A gateway call of a page failed: rendered as an error panel with AWS's message and
    the reason (the engine's decision, phrased for a person)."""

    def __init__(self, error: CallError, action: str, resource: str, who: Principal) -> None:
        super().__init__(error.message)
        self.error = error
        self.action = action
        self.resource = resource
        self.who = who

    def view(self) -> dict[str, Any]:
        return explain.failure_view(self.error, self.action, self.resource, self.who)


@dataclass
class Page:
    """What a page handler gets: the request, the signed-in session, the form (POST)."""

    request: Request
    env: Env
    session: Session
    form: FormData | None = None
    dirty: bool = False  # the session changed: re-seal its cookie
    flash: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return client_of(self.request)

    @property
    def principal(self) -> Principal:
        return self.env.console.principal(self.session)

    def field(self, name: str, default: str = "") -> str:
        if self.form is None:
            return default
        value = self.form.get(name)
        return value if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    def arg(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    async def call(
        self, service: str, operation: str, params: dict[str, Any] | None = None,
        *, resource: str = "",
    ) -> dict[str, Any]:
        """One action as the acting principal; failures become :class:`ActionFailed`."""
        try:
            return await self.env.console.call(
                self.session, self.client, service, operation, params
            )
        except CallError as err:
            action = explain.action_name(service, operation)
            raise ActionFailed(err, action, resource, self.principal) from None

    async def attempt(
        self, service: str, operation: str, params: dict[str, Any] | None = None,
        *, resource: str = "",
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Like :meth:`call` but returns ``(result, None)`` or ``(None, failure view)``."""
        try:
            return await self.call(service, operation, params, resource=resource), None
        except ActionFailed as failed:
            return None, failed.view()

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        return render(self.env, self.request, template, status, session=self.session,
                      principal=self.principal, flash=self.flash, **values)


def render(
    env: Env, request: Request, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    session: Session | None = values.get("session")
    values.setdefault("csrf", session.csrf if session is not None else "")
    values.setdefault("colours", COLOURS)
    values.setdefault("path", request.url.path)
    html = env.jinja.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")


def store_session(response: Response, request: Request, env: Env, session: Session) -> None:
    left = max(0, session.expires - int(clock.now().timestamp()))
    set_cookie(response, request, SESSION_COOKIE, env.codec.seal_session(session), left)


def current_session(request: Request, env: Env) -> Session | None:
    return env.codec.open_session(request.cookies.get(SESSION_COOKIE),
                                  clock.now().timestamp())


Handler = Callable[[Page], Awaitable[Response]]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page that needs a signed-in session; POSTs must carry the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        env = env_of(request)
        session = current_session(request, env)
        if session is None:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            response: Response = redirect("/console/signin?next=" + quote(target, safe=""))
            clear_cookie(response, request, SESSION_COOKIE)
            return response
        form: FormData | None = None
        if request.method == "POST":
            form = await request.form()
            token = form.get("csrf_token")
            if not same_token(session.csrf, token if isinstance(token, str) else None):
                return render(env, request, "error.html", 403, session=session,
                              principal=env.console.principal(session),
                              title="Request refused",
                              failure={"code": "InvalidCsrfToken", "message":
                                       "This form has expired or did not come from the "
                                       "console. Reload the page and try again.",
                                       "reasons": [], "statements": []})
        ctx = Page(request, env, session, form, dirty=bool(session.notice))
        try:
            response = await handler(ctx)
        except ActionFailed as failed:
            response = ctx.render("error.html", min(max(failed.error.status, 400), 599),
                                  title="Action refused", failure=failed.view())
        if ctx.dirty:
            store_session(response, request, env, ctx.session)
        return response

    return endpoint


def signin_cookie(request: Request) -> str | None:
    return request.cookies.get(SIGNIN_COOKIE)
