"""The IAM credential report: GenerateCredentialReport / GetCredentialReport.

The report is the CSV AWS documents (IAM User Guide, "Getting credential reports"): one row for
the root user (``<root_account>``) then one per IAM user, with AWS's columns and markers
(``N/A``, ``no_information``, ``not_supported``, ``true``/``false``).  Generation is immediate;
as on AWS, the first GenerateCredentialReport answers STARTED and later ones COMPLETE while
the report is less than four hours old.

Record: ``iam.credentialreport`` key = "report": GeneratedTime, Content (the CSV text).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import ACCOUNT, KEY, LOGIN, MFA, USER, key_prefix, stamp, when
from .password_policy import PASSWORD_POLICY

REPORT = "iam.credentialreport"
_KEY = "report"
FRESH = timedelta(hours=4)
COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)


def _iso(text: str | None) -> str:
    return "N/A" if not text else when(text).isoformat()


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(keys: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    ordered = sorted(keys, key=lambda d: str(d["CreateDate"]))[:2]
    for index in range(2):
        if index >= len(ordered):
            out += ["false", "N/A", "N/A", "N/A", "N/A"]
            continue
        key = ordered[index]
        used = key.get("LastUsed") or {}
        out += [
            _bool(key["Status"] == "Active"),
            _iso(key["CreateDate"]),
            _iso(used.get("LastUsedDate")),
            used.get("Region") or "N/A",
            used.get("ServiceName") or "N/A",
        ]
    return [*out, "false", "N/A", "false", "N/A"]  # no signing certificates here


def _password_columns(tx: Tx, account: str, user: dict[str, Any]) -> list[str]:
    login = tx.get(account, LOGIN, str(user["UserName"]).lower())
    if login is None:
        return ["false", "N/A", "N/A", "N/A"]
    changed = str(login.get("PasswordLastChanged") or login["CreateDate"])
    used = user.get("PasswordLastUsed")
    policy = tx.get(account, PASSWORD_POLICY, "policy")
    rotation = "N/A"
    if policy is not None and policy.get("MaxPasswordAge"):
        rotation = (when(changed) + timedelta(days=int(policy["MaxPasswordAge"]))).isoformat()
    return ["true", _iso(used) if used else "no_information", _iso(changed), rotation]


def _rows(tx: Tx, account: str) -> list[list[str]]:
    devices = tx.list(account, MFA)
    record = tx.get(account, ACCOUNT, "account")
    root = [
        "<root_account>", f"arn:aws:iam::{account}:root",
        _iso(record["CreateDate"] if record else None),
        "not_supported", "no_information", "not_supported", "not_supported", "false",
        *_key_columns(tx.list(account, KEY, prefix=key_prefix(None))),
    ]
    rows = [root]
    for user in tx.list(account, USER):
        user_key = str(user["UserName"]).lower()
        mfa = any((d.get("UserName") or "").lower() == user_key for d in devices)
        rows.append([
            str(user["UserName"]), str(user["Arn"]), _iso(user["CreateDate"]),
            *_password_columns(tx, account, user), _bool(mfa),
            *_key_columns(tx.list(account, KEY, prefix=key_prefix(user_key))),
        ])
    return rows


def render(tx: Tx, account: str) -> str:
    """The report's CSV text (header line, then the rows; ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(tx, account))
    return buffer.getvalue().rstrip("\n")


class CredentialReportOps:
    """GenerateCredentialReport, GetCredentialReport."""

    def GenerateCredentialReport(self, call: Call, tx: Tx) -> dict[str, Any]:
        current = tx.get(call.account, REPORT, _KEY)
        if current is not None and call.now - when(current["GeneratedTime"]) < FRESH:
            return {"State": "COMPLETE"}
        data = {"GeneratedTime": stamp(call.now), "Content": render(tx, call.account)}
        tx.put(call.account, REPORT, _KEY, _KEY, data)
        return {
            "State": "STARTED",
            "Description": "No report exists. Starting a new report generation task",
        }

    def GetCredentialReport(self, call: Call, tx: Tx) -> dict[str, Any]:
        current = tx.get(call.account, REPORT, _KEY)
        if current is None:
            # AWS answers this error without a message
            raise ServiceError("ReportNotPresent", "", 410)
        return {
            "Content": str(current["Content"]).encode(),
            "ReportFormat": "text/csv",
            "GeneratedTime": when(current["GeneratedTime"]),
        }
