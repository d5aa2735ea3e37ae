"""What every part of the Organizations provider shares: the store namespace, the error shape,
the organization and root lookups, the management-account check, paging, and SCP attachment
records (:mod:`.provider` for accounts, :mod:`.policies` for SCPs, :mod:`.units` for OUs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from ...protocol.errors import ServiceError
from ..base import Call

ORG: Final = "__organizations__"  # store namespace for organization-wide records


def org_error(code: str, message: str, reason: str | None = None) -> ServiceError:
    """An Organizations error (400); ``reason`` for the exceptions that carry one
    (ConstraintViolationException)."""
    if reason:
        return ServiceError(code, message, 400, {"Reason": reason})
    return ServiceError(code, message, 400)


def root_id_of(org: dict[str, Any] | None) -> str:
    """The root's id: ``r-`` and four characters of the organization's id."""
    return "r-" + (org["Id"][2:6] if org else "0000")


def epoch_dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def account_out(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    if "JoinedTimestamp" in out:
        out["JoinedTimestamp"] = epoch_dt(out["JoinedTimestamp"])
    return out


def attach(tx: Any, policy_id: str, target: str) -> None:
    """Record that the SCP ``policy_id`` is attached to ``target`` (root, OU or account)."""
    key = f"{policy_id}/{target}"
    tx.put(ORG, "attachment", key, key, {"PolicyId": policy_id, "TargetId": target})


class OrgBase:
    """The helpers of the provider's operations (mixed into each part)."""

    def _org(self, tx: Any) -> dict[str, Any] | None:
        found: dict[str, Any] | None = tx.get(ORG, "organization", "org")
        return found

    def _root_id(self, tx: Any) -> str:
        return root_id_of(self._org(tx))

    def _require_org(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._org(tx)
        if org is None or tx.get(ORG, "account", call.account) is None:
            raise org_error("AWSOrganizationsNotInUseException",
                            "Your account is not a member of an organization.")
        return org

    def _require_management(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_org(call, tx)
        if call.account != org["MasterAccountId"]:
            raise org_error("AccessDeniedException",
                            "You don't have permissions to access this resource.")
        return org

    def _require_reader(self, call: Call, tx: Any) -> dict[str, Any]:
        """The organization, for a caller that may read it: the management account, or a
        member account that is a delegated administrator for some service."""
        org = self._require_org(call, tx)
        if call.account != org["MasterAccountId"] and not any(
                d["AccountId"] == call.account for d in tx.list(ORG, "delegated")):
            raise org_error("AccessDeniedException",
                            "You don't have permissions to access this resource.")
        return org

    def _page(
        self, call: Call, items: list[dict[str, Any]], key: str,
        view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        limit = int(call.params.get("MaxResults") or 20)
        token = str(call.params.get("NextToken") or "0")
        if not token.isdigit():  # only tokens this server handed out
            # UNSURE: the message wording (the code and reason are AWS's)
            raise org_error("InvalidInputException", "The NextToken value is not valid.",
                            "INVALID_NEXT_TOKEN")
        start = int(token)
        page = items[start : start + limit]
        shown = view or account_out
        out: dict[str, Any] = {key: [shown(a) for a in page]}
        if start + limit < len(items):
            out["NextToken"] = str(start + limit)
        return out
