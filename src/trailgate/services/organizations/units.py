"""The organization's tree: the root, organizational units (OUs) nested up to five levels
below it, and the accounts in them.

As AWS Organizations has it: an account starts under the root (``ParentId`` absent in its
record means the root) and MoveAccount moves it; an OU is created under the root or another
OU, renamed by UpdateOrganizationalUnit, and deleted only when empty.  With service control
policies enabled a new OU gets ``FullAWSAccess`` like every root, OU and account, and the SCPs
of every OU between the root and an account limit that account (:func:`.policies.scp_levels`).

Records (namespace ``__organizations__``): ``ou`` key = OU id {Id, Arn, Name, ParentId}.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Final

from ...protocol.errors import ServiceError
from ..base import Call
from .base import ORG, OrgBase, attach, org_error
from .paths import entity_path
from .policies import FULL_ACCESS_ID, attached_to, scp_enabled
from .tags import check_tags, set_tags

MAX_DEPTH: Final = 5
_ID_CHARS: Final = string.ascii_lowercase + string.digits


def _ou_not_found() -> ServiceError:
    return org_error("OrganizationalUnitNotFoundException",
                  "We can't find an OU with the OrganizationalUnitId that you specified.")


def parent_of(_tx: Any, root_id: str, child: dict[str, Any]) -> str:
    return str(child.get("ParentId") or root_id)


def depth(tx: Any, ou_id: str) -> int:
    """How many OUs from the root down to ``ou_id``, itself included."""
    levels = 0
    current: dict[str, Any] | None = tx.get(ORG, "ou", ou_id)
    while current is not None:
        levels += 1
        current = tx.get(ORG, "ou", current.get("ParentId") or "")
    return levels


def _ou_out(ou: dict[str, Any]) -> dict[str, Any]:
    return {"Id": ou["Id"], "Arn": ou["Arn"], "Name": ou["Name"]}


class UnitOps(OrgBase):
    """The tree's operations, mixed into the Organizations provider."""

    def _parent(self, tx: Any, parent: Any, code: str = "ParentNotFoundException",
                what: str = "ParentId") -> str:
        """A root or OU id that exists (else ``code``)."""
        wanted = str(parent or "")
        if wanted != self._root_id(tx) and tx.get(ORG, "ou", wanted) is None:
            raise org_error(code, f"We can't find a root or OU with the {what} that you "
                         "specified.")
        return wanted

    def _ou(self, tx: Any, ou_id: Any) -> dict[str, Any]:
        found: dict[str, Any] | None = tx.get(ORG, "ou", str(ou_id or ""))
        if found is None:
            raise _ou_not_found()
        return found

    def _children(self, tx: Any, parent: str) -> tuple[list[dict[str, Any]],
                                                        list[dict[str, Any]]]:
        root = self._root_id(tx)
        accounts = [a for a in tx.list(ORG, "account") if parent_of(tx, root, a) == parent]
        units = [u for u in tx.list(ORG, "ou") if parent_of(tx, root, u) == parent]
        return accounts, units

    # -- organizational units -------------------------------------------------------------

    def CreateOrganizationalUnit(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        parent = self._parent(tx, call.params.get("ParentId"))
        name = str(call.params.get("Name") or "")
        tags = check_tags(call.params.get("Tags"))
        if any(u["Name"] == name for u in self._children(tx, parent)[1]):
            raise org_error("DuplicateOrganizationalUnitException",
                         "An OU with the same name already exists.")
        if depth(tx, parent) >= MAX_DEPTH:
            raise org_error("ConstraintViolationException", "You have exceeded the maximum depth "
                         "of the organization tree.", "OU_DEPTH_LIMIT_EXCEEDED")
        ou_id = f"ou-{self._root_id(tx)[2:]}-" + "".join(
            secrets.choice(_ID_CHARS) for _ in range(8))
        ou = {"Id": ou_id, "Name": name, "ParentId": parent, "Arn": (
            f"arn:aws:organizations::{org['MasterAccountId']}:ou/{org['Id']}/{ou_id}")}
        tx.put(ORG, "ou", ou_id, ou_id, ou)
        set_tags(tx, ou_id, tags)
        if scp_enabled(org):
            attach(tx, FULL_ACCESS_ID, ou_id)
        tx.bump_generation()
        return {"OrganizationalUnit": _ou_out(ou)}

    def DescribeOrganizationalUnit(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        ou = self._ou(tx, call.params.get("OrganizationalUnitId"))
        # UNSURE: whether the other calls returning an OU also give its Path
        return {"OrganizationalUnit": {**_ou_out(ou), "Path": entity_path(tx, ou["Id"], "ou")}}

    def UpdateOrganizationalUnit(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        ou = self._ou(tx, call.params.get("OrganizationalUnitId"))
        name = call.params.get("Name")
        if name is not None and name != ou["Name"]:
            siblings = self._children(tx, parent_of(tx, self._root_id(tx), ou))[1]
            if any(u["Name"] == name for u in siblings):
                raise org_error("DuplicateOrganizationalUnitException",
                             "An OU with the same name already exists.")
            ou["Name"] = str(name)
            tx.put(ORG, "ou", ou["Id"], ou["Id"], ou)
        return {"OrganizationalUnit": _ou_out(ou)}

    def DeleteOrganizationalUnit(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        ou = self._ou(tx, call.params.get("OrganizationalUnitId"))
        accounts, units = self._children(tx, ou["Id"])
        if accounts or units:
            raise org_error("OrganizationalUnitNotEmptyException",
                         "The specified OU is not empty. Move all accounts to another root or "
                         "OU and delete all child OUs, and then try the operation again.")
        for attached in attached_to(tx, ou["Id"]):
            tx.delete(ORG, "attachment", f"{attached['Id']}/{ou['Id']}")
        tx.delete(ORG, "ou", ou["Id"])
        set_tags(tx, ou["Id"], [])
        tx.bump_generation()
        return {}

    def MoveAccount(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        params = call.params
        account = tx.get(ORG, "account", str(params.get("AccountId") or ""))
        if account is None:
            raise org_error("AccountNotFoundException",
                         "You specified an account that doesn't exist.")
        source = self._parent(tx, params.get("SourceParentId"), "SourceParentNotFoundException",
                              "SourceParentId")
        target = self._parent(tx, params.get("DestinationParentId"),
                              "DestinationParentNotFoundException", "DestinationParentId")
        current = parent_of(tx, self._root_id(tx), account)
        if current == target:
            raise org_error("DuplicateAccountException",
                         "That account is already present in the specified destination.")
        if current != source:
            raise org_error("SourceParentNotFoundException",
                         "We can't find a source root or OU with the ParentId that you "
                         "specified.")
        account["ParentId"] = target
        tx.put(ORG, "account", account["Id"], account["Id"], account)
        tx.bump_generation()
        return {}

    # -- reading the tree -----------------------------------------------------------------

    def ListOrganizationalUnitsForParent(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        parent = self._parent(tx, call.params.get("ParentId"))
        units = sorted(self._children(tx, parent)[1], key=lambda u: u["Name"])
        return self._page(call, units, "OrganizationalUnits", _ou_out)

    def ListAccountsForParent(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        parent = self._parent(tx, call.params.get("ParentId"))
        return self._page(call, self._children(tx, parent)[0], "Accounts")

    def ListChildren(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        parent = self._parent(tx, call.params.get("ParentId"))
        accounts, units = self._children(tx, parent)
        if call.params.get("ChildType") == "ORGANIZATIONAL_UNIT":
            children = [{"Id": u["Id"], "Type": "ORGANIZATIONAL_UNIT"} for u in units]
        else:
            children = [{"Id": a["Id"], "Type": "ACCOUNT"} for a in accounts]
        return self._page(call, children, "Children", lambda child: child)

    def ListParents(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        child_id = str(call.params.get("ChildId") or "")
        child = tx.get(ORG, "account", child_id) or tx.get(ORG, "ou", child_id)
        if child is None:
            raise org_error("ChildNotFoundException", "We can't find an organizational unit (OU) "
                         "or AWS account with the ChildId that you specified.")
        parent = parent_of(tx, self._root_id(tx), child)
        kind = "ROOT" if parent == self._root_id(tx) else "ORGANIZATIONAL_UNIT"
        return {"Parents": [{"Id": parent, "Type": kind}]}
