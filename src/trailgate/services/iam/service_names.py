"""Service namespaces and their names (IAM's service last accessed reports), and which of them
a set of identity policies allows actions of."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Any, Final

NAMES: Final[dict[str, str]] = {
    # UNSURE: the names AWS's reports give; only these services are expanded from "*"
    "cloudtrail": "AWS CloudTrail",
    "ec2": "Amazon EC2",
    "iam": "AWS Identity and Access Management",
    "kms": "AWS Key Management Service",
    "organizations": "AWS Organizations",
    "s3": "Amazon S3",
    "s3-object-lambda": "Amazon S3 Object Lambda",
    "sts": "AWS Security Token Service",
}


def service_name(namespace: str) -> str:
    return NAMES.get(namespace, namespace)


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _statements(text: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except ValueError:
        return []
    found = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(found, dict):
        found = [found]
    return [s for s in found or [] if isinstance(s, dict)]


def _from_pattern(pattern: str) -> set[str]:
    prefix = pattern.partition(":")[0].lower()
    if "*" in prefix or "?" in prefix:
        return {ns for ns in NAMES if fnmatch.fnmatchcase(ns, prefix)}
    return {prefix} if prefix else set()


def allowed_namespaces(documents: Iterable[str]) -> set[str]:
    """The namespaces whose actions some Allow statement of ``documents`` names (``Action``
    patterns; an ``Action`` of ``*`` or a ``NotAction`` stands for every service known here
    but those it excludes whole)."""
    found: set[str] = set()
    for text in documents:
        for statement in _statements(text):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                excluded = {p.partition(":")[0].lower() for p in _listed(statement["NotAction"])
                            if p == "*" or p.endswith(":*")}
                if "*" not in excluded:
                    found |= set(NAMES) - excluded
                continue
            for pattern in _listed(statement.get("Action")):
                found |= _from_pattern(pattern)
    return found


def grants(text: str, namespace: str) -> bool:
    """Whether the document allows some action of ``namespace``."""
    return namespace in allowed_namespaces([text]) or (
        namespace not in NAMES and _allows_any(text))


def _allows_any(text: str) -> bool:
    """An Allow of every action (``*``): it reaches services not named in :data:`NAMES`."""
    return any(statement.get("Effect") == "Allow" and "*" in _listed(statement.get("Action"))
               for statement in _statements(text))
