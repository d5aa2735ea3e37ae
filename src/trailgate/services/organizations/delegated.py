"""Delegated administrators: member accounts the management account registers as the
administrator of an AWS service for the organization (RegisterDelegatedAdministrator,
DeregisterDelegatedAdministrator, ListDelegatedAdministrators,
ListDelegatedServicesForAccount).

As AWS Organizations has them: only a member account can be registered (never the management
account), once per service, and only for a service whose trusted access is enabled
(EnableAWSServiceAccess); a delegated administrator may call the organization's read
operations (:meth:`.base.OrgBase._require_reader`); it must be deregistered before it can
leave the organization.  What the service itself lets its delegated administrator do is not
modelled.

Records (namespace ``__organizations__``): ``delegated`` key = ``<account>/<service
principal>`` {AccountId, ServicePrincipal, DelegationEnabledDate}.
"""

from __future__ import annotations

from typing import Any

from ..base import Call
from .base import ORG, OrgBase, account_out, epoch_dt, org_error


def _not_registered() -> Exception:
    return org_error("AccountNotRegisteredException", "The provided account is not a "
                     "registered delegated administrator.")  # UNSURE: the message wording


def delegations(tx: Any, account: str | None = None) -> list[dict[str, Any]]:
    found = [d for d in tx.list(ORG, "delegated") if account in (None, d["AccountId"])]
    return sorted(found, key=lambda d: (d["AccountId"], d["ServicePrincipal"]))


class DelegatedOps(OrgBase):
    """The delegated-administrator operations, mixed into the Organizations provider."""

    def _member(self, tx: Any, account: Any) -> dict[str, Any]:
        found: dict[str, Any] | None = tx.get(ORG, "account", str(account or ""))
        if found is None:
            raise org_error("AccountNotFoundException", "You specified an account that "
                            "doesn't exist.")
        return found

    def RegisterDelegatedAdministrator(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        account = self._member(tx, call.params.get("AccountId"))["Id"]
        service = str(call.params.get("ServicePrincipal") or "")
        if account == org["MasterAccountId"]:
            # UNSURE: the message wording (the code and reason are AWS's)
            raise org_error("ConstraintViolationException", "You can't register the "
                            "management account as a delegated administrator.",
                            "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
        if tx.get(ORG, "service-access", service) is None:
            # AWS's documented order: trusted access (EnableAWSServiceAccess) comes first.
            # UNSURE: the message wording (the code and reason are AWS's)
            raise org_error("ConstraintViolationException", "Trusted access for this service "
                            "is not enabled in the organization: enable it first.",
                            "SERVICE_ACCESS_NOT_ENABLED")
        key = f"{account}/{service}"
        if tx.get(ORG, "delegated", key) is not None:
            raise org_error("AccountAlreadyRegisteredException", "The provided account is "
                            "already a delegated administrator for your organization.")
        tx.put(ORG, "delegated", key, key, {"AccountId": account, "ServicePrincipal": service,
                                            "DelegationEnabledDate": call.now.timestamp()})
        return {}

    def DeregisterDelegatedAdministrator(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        account = self._member(tx, call.params.get("AccountId"))["Id"]
        if not tx.delete(ORG, "delegated", f"{account}/{call.params.get('ServicePrincipal')}"):
            raise _not_registered()
        return {}

    def ListDelegatedAdministrators(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        service = call.params.get("ServicePrincipal")
        first: dict[str, float] = {}  # account -> its earliest delegation (of that service)
        for d in delegations(tx):
            if service in (None, d["ServicePrincipal"]):
                first[d["AccountId"]] = min(first.get(d["AccountId"], d[
                    "DelegationEnabledDate"]), d["DelegationEnabledDate"])
        admins = []
        for account, since in first.items():
            record = tx.get(ORG, "account", account)
            if record is not None:
                admins.append({**account_out(record), "DelegationEnabledDate": epoch_dt(since)})
        return self._page(call, admins, "DelegatedAdministrators", lambda a: a)

    def ListDelegatedServicesForAccount(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        account = self._member(tx, call.params.get("AccountId"))["Id"]
        services = delegations(tx, account)
        if not services:
            raise _not_registered()
        return self._page(call, services, "DelegatedServices", lambda d: {
            "ServicePrincipal": d["ServicePrincipal"],
            "DelegationEnabledDate": epoch_dt(d["DelegationEnabledDate"])})
