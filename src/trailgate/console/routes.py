"""The console as a Starlette application, mounted by ``TrailgateApp`` under ``/console``."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..gateway.chain import Gateway
from . import auth_pages, iam_pages, s3_pages, trail_pages, why, wizard
from .actions import Console
from .session import SessionCodec
from .web import STATIC, current_session, env_of, make_env, redirect, render

GET_POST = ["GET", "POST"]


async def root(request: Request) -> Response:
    return redirect("/console/")


async def not_found(request: Request, exc: Exception) -> Response:
    env = env_of(request)
    session = current_session(request, env)
    principal = env.console.principal(session) if session is not None else None
    return render(env, request, "error.html", 404, session=session, principal=principal,
                  title="Not found", failure={"code": "NotFound", "message":
                                              "There is no console page at this address.",
                                              "reasons": [], "statements": []})


def routes() -> list[BaseRoute]:
    return [
        Route("/console", root),
        Route("/console/", auth_pages.home),
        Route("/console/signin", auth_pages.signin, methods=GET_POST),
        Route("/console/signin/mfa", auth_pages.signin_mfa, methods=GET_POST),
        Route("/console/signout", auth_pages.signout, methods=["POST"]),
        Route("/console/switchrole", auth_pages.switch_role, methods=GET_POST),
        Route("/console/switchrole/back", auth_pages.switch_back, methods=["POST"]),
        Route("/console/iam/users", iam_pages.users, methods=GET_POST),
        Route("/console/iam/users/{name}", iam_pages.user_detail, methods=GET_POST),
        Route("/console/iam/roles", iam_pages.roles),
        Route("/console/iam/roles/create", wizard.create_role, methods=GET_POST),
        Route("/console/iam/roles/{name}", iam_pages.role_detail),
        Route("/console/iam/policies", iam_pages.policies),
        Route("/console/cloudtrail", trail_pages.trails),
        Route("/console/cloudtrail/events", trail_pages.event_history),
        Route("/console/cloudtrail/events/{event_id}", trail_pages.event_detail),
        Route("/console/s3", s3_pages.buckets),
        Route("/console/s3/buckets/{bucket}", s3_pages.bucket),
        Route("/console/s3/objects/{bucket}", s3_pages.obj),
        Route("/console/s3/download/{bucket}", s3_pages.download),
        Route("/console/why", why.why, methods=GET_POST),
        Mount("/console/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


def create_console(gateway: Gateway, store: Any, master_key: bytes) -> Starlette:
    """The console app; its cookies are sealed with a key derived from ``master_key``."""
    key = hashlib.sha256(master_key + b"\x00trailgate\x00console-session").digest()
    app = Starlette(routes=routes(), exception_handlers={404: not_found})
    app.state.env = make_env(Console(gateway, store), SessionCodec(key))
    return app
