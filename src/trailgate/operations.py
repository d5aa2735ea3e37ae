"""The botocore operations trailgate implements, computed from the providers' code.

A provider implements an operation when it defines (or inherits) a method named exactly like
one of its service's botocore operations.  The classes are inspected, never instantiated.
:func:`markdown_table` renders the result for the README (a unit test keeps the two equal).
"""

from __future__ import annotations

import inspect

from .protocol.specs import operation_names
from .services.cloudtrail import CloudTrailProvider
from .services.iam.provider import IamProvider
from .services.organizations.provider import OrganizationsProvider
from .services.s3.provider import S3Provider
from .services.sts.provider import StsProvider

#: service -> provider class, in the order the table lists them.
PROVIDERS: dict[str, type] = {
    "iam": IamProvider,
    "sts": StsProvider,
    "s3": S3Provider,
    "cloudtrail": CloudTrailProvider,
    "organizations": OrganizationsProvider,
}

_TITLES = {
    "iam": "IAM",
    "sts": "STS",
    "s3": "S3",
    "cloudtrail": "CloudTrail",
    "organizations": "Organizations",
}


def _implemented(provider: type, names: frozenset[str]) -> list[str]:
    found = []
    for name, member in inspect.getmembers(provider):
        if name in names and callable(member):
            found.append(name)
    return sorted(found)


def supported_operations() -> dict[str, list[str]]:
    """Per service, the sorted botocore operation names its provider implements."""
    return {
        service: _implemented(provider, operation_names(service))
        for service, provider in PROVIDERS.items()
    }


def markdown_table() -> str:
    """A Markdown table: one row per service, its count and its operations (ends with a
    newline)."""
    lines = ["| Service | Count | Operations |", "|---|---|---|"]
    for service, ops in supported_operations().items():
        cell = ", ".join(f"`{op}`" for op in ops)
        lines.append(f"| {_TITLES[service]} | {len(ops)} | {cell} |")
    return "\n".join(lines) + "\n"
