"""The web console under ``/console/`` (Starlette + Jinja2 + a little JS).

Every action goes through the gateway as the signed-in principal and is logged in CloudTrail
(``actions.py``); sign-ins and role switches log ``ConsoleLogin`` / ``SwitchRole``.
"""

from __future__ import annotations

from typing import Any

from .routes import create_console

__all__ = ["create_console", "is_console_request"]

_SIGNED = ("x-amz-credential=", "awsaccesskeyid=", "x-amz-signature=")


def is_console_request(scope: dict[str, Any]) -> bool:
    """A browser request for the console: path ``/console`` or under it, neither signed nor
    presigned (a signed request for an S3 bucket named ``console`` still reaches S3)."""
    path: str = scope.get("path", "")
    if path != "/console" and not path.startswith("/console/"):
        return False
    for name, _value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            return False
    query = scope.get("query_string", b"").decode("latin-1").lower()
    return not any(marker in query for marker in _SIGNED)
