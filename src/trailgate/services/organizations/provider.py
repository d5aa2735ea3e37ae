"""Organizations: one organization, owned by the management account (spec section 9).

CreateAccount completes synchronously (the status is final by the time the caller asks
DescribeCreateAccountStatus; CreateAccount itself answers IN_PROGRESS, as AWS does)
and creates the member account's ``OrganizationAccountAccessRole`` trusting the management
account, with ``AdministratorAccess``.  Service control policies: :mod:`.policies`;
the tree of organizational units: :mod:`.units`.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import replace
from typing import Any

from ..base import Call
from .base import ORG, OrgBase, account_out, attach, epoch_dt, org_error
from .delegated import DelegatedOps
from .lifecycle import LifecycleOps
from .paths import entity_path
from .policies import FULL_ACCESS_ID, PolicyOps, scp_enabled
from .tags import TagOps, check_tags, set_tags
from .units import UnitOps

__all__ = ["ORG", "OrganizationsProvider"]

_ALNUM = string.ascii_lowercase + string.digits
EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")

ADMIN_TRUST = (
    '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":'
    '"arn:aws:iam::{mgmt}:root"}},"Action":"sts:AssumeRole"}}]}}'
)


RESERVED_ROLE_PREFIX = "AWSServiceRoleFor"  # service-linked roles' names

ADMIN_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)


def _token(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


class OrganizationsProvider(PolicyOps, UnitOps, TagOps, LifecycleOps, DelegatedOps, OrgBase):
    def __init__(self, iam: Any, management_account: str) -> None:
        self.iam = iam
        self.mgmt = management_account

    def _account_record(self, org: dict[str, Any], account: str, **fields: Any) -> dict[str, Any]:
        return {
            "Id": account,
            "Arn": f"arn:aws:organizations::{org['MasterAccountId']}:account/{org['Id']}/{account}",
            **fields,
        }

    # -- operations -----------------------------------------------------------------------

    def CreateOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        if self._org(tx) is not None:
            raise org_error(
                "AlreadyInOrganizationException",
                "The AWS account is already a member of an organization.",
            )
        if call.account != self.mgmt:
            raise org_error(
                "AccessDeniedException",
                "You don't have permissions to access this resource.",
            )
        feature_set = call.params.get("FeatureSet") or "ALL"
        org_id = "o-" + _token(10)
        org = {
            "Id": org_id,
            "Arn": f"arn:aws:organizations::{call.account}:organization/{org_id}",
            "FeatureSet": feature_set,
            "MasterAccountArn": (
                f"arn:aws:organizations::{call.account}:account/{org_id}/{call.account}"
            ),
            "MasterAccountId": call.account,
            "MasterAccountEmail": f"management+{call.account}@trailgate.invalid",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
            if feature_set == "ALL"
            else [],
        }
        tx.put(ORG, "organization", "org", org_id, org)
        record = self._account_record(
            org,
            call.account,
            Email=org["MasterAccountEmail"],
            Name="management",
            Status="ACTIVE",
            State="ACTIVE",
            JoinedMethod="INVITED",  # as AWS lists the management account (it was not created)
            JoinedTimestamp=call.now.timestamp(),
        )
        tx.put(ORG, "account", call.account, call.account, record)
        tx.bump_generation()
        return {"Organization": org}

    def DescribeOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        return {"Organization": self._require_org(call, tx)}

    def CreateAccount(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        params = call.params
        email = params["Email"]
        name = params["AccountName"]
        role_name = params.get("RoleName") or "OrganizationAccountAccessRole"
        tags = check_tags(params.get("Tags"))
        if role_name.startswith(RESERVED_ROLE_PREFIX):
            # UNSURE: the message wording (the code and reason are AWS's)
            raise org_error("InvalidInputException", f"Role names starting with "
                            f"{RESERVED_ROLE_PREFIX} are reserved for service-linked roles.",
                            "INVALID_ROLE_NAME")
        request_id = "car-" + secrets.token_hex(16)  # as AWS's: 32 hexadecimal digits
        status: dict[str, Any] = {
            "Id": request_id,
            "AccountName": name,
            "RequestedTimestamp": call.now.timestamp(),
            "CompletedTimestamp": call.now.timestamp(),  # a failed request completes too
        }
        if not EMAIL.fullmatch(email) or email.count("@") != 1:
            status.update(State="FAILED", FailureReason="INVALID_EMAIL")
        elif self._email_taken(tx, email):
            status.update(State="FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
        else:
            account = self._new_account_id(tx)
            self._create_member(call, tx, org, account, email, name, role_name)
            set_tags(tx, account, tags)
            status.update(State="SUCCEEDED", AccountId=account)
        tx.put(ORG, "create-status", request_id, request_id, status)
        # AWS creates the account in the background: its answer is always the request still
        # IN_PROGRESS (no account id, no outcome); DescribeCreateAccountStatus has the outcome.
        pending = {k: status[k] for k in ("Id", "AccountName", "RequestedTimestamp")}
        return {"CreateAccountStatus": _status_out({**pending, "State": "IN_PROGRESS"})}

    def _email_taken(self, tx: Any, email: str) -> bool:
        """Whether an account of the organization, or one created here that has since left it
        (still an AWS account of its own), has ``email`` (compared without case)."""
        wanted = email.lower()
        return (tx.get(ORG, "account-email", wanted) is not None
                or any(a.get("Email", "").lower() == wanted for a in tx.list(ORG, "account")))

    def _new_account_id(self, tx: Any) -> str:
        while True:
            account = "".join(secrets.choice(string.digits) for _ in range(12))
            if account[0] != "0" and tx.get(ORG, "account", account) is None:
                return account

    def _create_member(
        self, call: Call, tx: Any, org: dict[str, Any], account: str, email: str, name: str,
        role_name: str,
    ) -> None:
        record = self._account_record(
            org, account, Email=email, Name=name, Status="ACTIVE", State="ACTIVE",
            JoinedMethod="CREATED", JoinedTimestamp=call.now.timestamp(),
        )
        tx.put(ORG, "account", account, account, record)
        # kept when the account leaves and when the organization is deleted: the email stays
        # the account's, so CreateAccount can never reuse it
        tx.put(ORG, "account-email", email.lower(), account, {"Email": email, "Id": account})
        if scp_enabled(org):  # a new account starts with FullAWSAccess, as the others did
            attach(tx, FULL_ACCESS_ID, account)
        member = replace(call, account=account, params={
            "RoleName": role_name,
            "AssumeRolePolicyDocument": ADMIN_TRUST.format(mgmt=org["MasterAccountId"]),
            "Description": "Grants the organization's management account administrator access.",
        })
        self.iam.CreateRole(member, tx)
        # AWS gives the role an inline policy named AdministratorAccess (not the managed one)
        self.iam.PutRolePolicy(replace(member, params={
            "RoleName": role_name, "PolicyName": "AdministratorAccess",
            "PolicyDocument": ADMIN_POLICY,
        }), tx)
        tx.bump_generation()

    def DescribeCreateAccountStatus(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        status = tx.get(ORG, "create-status", call.params["CreateAccountRequestId"])
        if status is None:
            raise org_error(
                "CreateAccountStatusNotFoundException",
                "We can't find an create account request with the CreateAccountRequestId that "
                "you specified.",
            )
        return {"CreateAccountStatus": _status_out(status)}

    def ListAccounts(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        return self._page(call, tx.list(ORG, "account"), "Accounts")

    def DescribeAccount(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        found = tx.get(ORG, "account", call.params["AccountId"])
        if found is None:
            raise org_error("AccountNotFoundException",
                         "You specified an account that doesn't exist.")
        # UNSURE: whether ListAccounts also gives Paths (DescribeAccount documents them)
        return {"Account": {**account_out(found),
                            "Paths": [entity_path(tx, found["Id"], "account")]}}

    def ListRoots(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_reader(call, tx)
        return {"Roots": [self._root_out(org, tx)]}

    def ListCreateAccountStatus(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        states = set(call.params.get("States") or ())
        found = [s for s in tx.list(ORG, "create-status") if not states or s["State"] in states]
        found.sort(key=lambda s: (s["RequestedTimestamp"], s["Id"]))
        return self._page(call, found, "CreateAccountStatuses", _status_out)

    # -- trusted access for AWS services ----------------------------------------------------

    def EnableAWSServiceAccess(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        principal = call.params["ServicePrincipal"]
        if tx.get(ORG, "service-access", principal) is None:
            tx.put(ORG, "service-access", principal, principal,
                   {"ServicePrincipal": principal, "DateEnabled": call.now.timestamp()})
        return {}

    def DisableAWSServiceAccess(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        tx.delete(ORG, "service-access", call.params["ServicePrincipal"])
        return {}

    def ListAWSServiceAccessForOrganization(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        enabled = sorted(tx.list(ORG, "service-access"), key=lambda r: r["ServicePrincipal"])
        return self._page(call, enabled, "EnabledServicePrincipals",
                          lambda r: {**r, "DateEnabled": epoch_dt(r["DateEnabled"])})


def _status_out(status: dict[str, Any]) -> dict[str, Any]:
    out = dict(status)
    for field in ("RequestedTimestamp", "CompletedTimestamp"):
        if field in out:
            out[field] = epoch_dt(out[field])
    return out
