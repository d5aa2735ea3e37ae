"""Which service namespaces identity policies allow (IAM's service last accessed reports)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trailgate.services.iam.service_names import NAMES, allowed_namespaces, grants


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, key: str = "Action") -> dict[str, Any]:
    return {"Effect": "Allow", key: action, "Resource": "*"}


@pytest.mark.parametrize(("document", "expected"), [
    (_doc(_allow("s3:GetObject")), {"s3"}),
    (_doc(_allow(["S3:Get*", "iam:ListUsers", "ec2:Describe*"])), {"s3", "iam", "ec2"}),
    (_doc(_allow("s3*:*")), {"s3", "s3-object-lambda"}),
    (_doc(_allow("*")), set(NAMES)),
    (_doc(_allow(["iam:*", "s3:*"], "NotAction")), set(NAMES) - {"iam", "s3"}),
    (_doc(_allow("iam:CreateUser", "NotAction")), set(NAMES)),
    (_doc(_allow("*", "NotAction")), set()),
    (_doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}), set()),
    (_doc(_allow("lambda:InvokeFunction")), {"lambda"}),
    (json.dumps({"Statement": _allow("sts:AssumeRole")}), {"sts"}),
    ("not json", set()),
])
def test_allowed_namespaces(document: str, expected: set[str]) -> None:
    assert allowed_namespaces([document]) == expected


@pytest.mark.parametrize(("document", "namespace", "expected"), [
    (_doc(_allow("s3:GetObject")), "s3", True),
    (_doc(_allow("s3:GetObject")), "iam", False),
    (_doc(_allow("*")), "lambda", True),  # beyond the services named here
    (_doc(_allow("s3:*")), "lambda", False),
])
def test_grants(document: str, namespace: str, expected: bool) -> None:
    assert grants(document, namespace) is expected
