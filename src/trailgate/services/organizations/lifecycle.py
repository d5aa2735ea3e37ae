"""How accounts leave and the organization ends: RemoveAccountFromOrganization (by the
management account), LeaveOrganization (by the member itself) and DeleteOrganization.

As AWS Organizations has them: the management account can neither be removed nor leave
(MasterCannotLeaveOrganizationException); an account that leaves keeps its IAM entities but
no SCP limits it any more; a delegated administrator must be deregistered first; the
organization can be deleted only once the management account is its last account, and its
OUs, policies and tags go with it.  Unlike AWS, an account may
leave as soon as it was created (AWS makes a new account wait seven days and asks for its
own payment details first).
"""

from __future__ import annotations

from typing import Any, Final

from ..base import Call
from .base import ORG, OrgBase, org_error
from .delegated import delegations
from .policies import attached_to
from .tags import set_tags

# Every kind of record the organization keeps (see each module's docstring).
_KINDS: Final = ("account", "ou", "policy", "attachment", "tags", "create-status",
                 "service-access", "delegated")

_MANAGEMENT_STAYS: Final = (
    "You can't remove a management account from an organization. If you want the management "
    "account to become a member account in another organization, you must first delete the "
    "current organization."
)


def _leave(tx: Any, org: dict[str, Any], account: str) -> None:
    if account == org["MasterAccountId"]:
        raise org_error("MasterCannotLeaveOrganizationException", _MANAGEMENT_STAYS)
    if tx.get(ORG, "account", account) is None:
        raise org_error("AccountNotFoundException", "You specified an account that doesn't "
                        "exist.")
    if delegations(tx, account):
        # UNSURE: the message wording (the code and reason are AWS's)
        raise org_error("ConstraintViolationException", "The account is a delegated "
                        "administrator: deregister it before it leaves the organization.",
                        "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
    tx.delete(ORG, "account", account)
    for attached in attached_to(tx, account):  # SCPs no longer apply to it
        tx.delete(ORG, "attachment", f"{attached['Id']}/{account}")
    set_tags(tx, account, [])
    tx.bump_generation()


def _key_of(kind: str, record: dict[str, Any]) -> str:
    if kind == "attachment":
        return f"{record['PolicyId']}/{record['TargetId']}"
    if kind == "delegated":
        return f"{record['AccountId']}/{record['ServicePrincipal']}"
    field = {"tags": "ResourceId", "service-access": "ServicePrincipal"}.get(kind, "Id")
    return str(record[field])


class LifecycleOps(OrgBase):
    """Leaving and deleting, mixed into the Organizations provider."""

    def RemoveAccountFromOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        _leave(tx, org, str(call.params["AccountId"]))
        return {}

    def LeaveOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_org(call, tx)
        _leave(tx, org, call.account)
        return {}

    def DeleteOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        if any(a["Id"] != org["MasterAccountId"] for a in tx.list(ORG, "account")):
            # the wording of the exception's documentation in AWS's API model (no real answer
            # found quoted)
            raise org_error("OrganizationNotEmptyException", "The organization isn't empty. To "
                            "delete an organization, you must first remove all accounts except "
                            "the management account.")
        for kind in _KINDS:
            for record in tx.list(ORG, kind):
                tx.delete(ORG, kind, _key_of(kind, record))
        tx.delete(ORG, "organization", "org")
        tx.bump_generation()
        return {}
