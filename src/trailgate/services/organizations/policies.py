"""Service control policies (SCPs): the organization's policies and where they are attached.

As AWS Organizations has them: the management account enables the SERVICE_CONTROL_POLICY type
on the root (EnablePolicyType), which attaches the AWS-managed ``FullAWSAccess`` policy to the
root, every OU and every account; it creates its own SCPs (CreatePolicy, validated as SCPs),
attaches them to the root, OUs or accounts and detaches them (a target keeps at least one
SCP).  While the type is enabled, every principal of a member account is limited by them (the
management account never is): the policy engine requires each level, the root's SCPs, each
OU's down the tree, then the account's, to allow a request (``scp_levels``;
:mod:`trailgate.auth.gather` reads them).

Records (namespace ``__organizations__``): ``policy`` key = policy id {Id, Arn, Name,
Description, Type, AwsManaged, Content}; ``attachment`` key = ``<policy id>/<target id>``
{PolicyId, TargetId}.  The root's enabled policy types live in the organization record
(``RootPolicyTypes``).  FullAWSAccess has no record: it is built in.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any, Final

from ...policy import MalformedPolicyError, PolicyType, parse_policy
from ...policy.validate import SCP_MALFORMED_MESSAGE
from ...protocol.errors import ServiceError
from ..base import Call
from .base import ORG, OrgBase, attach, org_error, root_id_of
from .tags import check_tags, set_tags

SCP: Final = "SERVICE_CONTROL_POLICY"
FULL_ACCESS_ID: Final = "p-FullAWSAccess"
FULL_ACCESS: Final = {
    "Id": FULL_ACCESS_ID,
    "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
    "Name": "FullAWSAccess",
    "Description": "Allows access to every operation",
    "Type": SCP,
    "AwsManaged": True,
    "Content": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=2),
}
MAX_CONTENT: Final = 5120
MAX_ATTACHED: Final = 5  # SCPs on one root, OU or account
_ID_CHARS: Final = string.ascii_lowercase + string.digits


def _policy_not_found() -> ServiceError:
    return org_error("PolicyNotFoundException",
                  "We can't find a policy with the PolicyId that you specified.")


def _summary(policy: dict[str, Any]) -> dict[str, Any]:
    return {k: policy[k] for k in ("Id", "Arn", "Name", "Description", "Type", "AwsManaged")}


def _view(policy: dict[str, Any]) -> dict[str, Any]:
    return {"PolicySummary": _summary(policy), "Content": policy["Content"]}


def _check_content(text: str) -> None:
    if len(text) > MAX_CONTENT:  # every character counts, whitespace too (unlike IAM's)
        # AWS's words (as quoted from a real answer in org-formation/org-formation-cli#332)
        raise org_error("ConstraintViolationException",
                        "You have exceeded the maximum policy size.",
                        "POLICY_CONTENT_LIMIT_EXCEEDED")
    try:
        parse_policy(text, PolicyType.SCP)
    except MalformedPolicyError:
        raise org_error("MalformedPolicyDocumentException", SCP_MALFORMED_MESSAGE) from None


def _check_type(org: dict[str, Any], value: Any) -> None:
    """Only SCPs exist here, and only in an organization with all features enabled (one with
    consolidated billing only has no policy types)."""
    if value != SCP or org.get("FeatureSet") != "ALL":
        raise org_error("PolicyTypeNotAvailableForOrganizationException",
                     "You can't use the specified policy type with the feature set currently "
                     "enabled for this organization.")


def _check_name_free(tx: Any, name: str) -> None:
    if name == FULL_ACCESS["Name"] or any(p["Name"] == name for p in tx.list(ORG, "policy")):
        raise org_error("DuplicatePolicyException", "A policy with the same name already "
                        "exists.")


def scp_enabled(org: dict[str, Any]) -> bool:
    return any(t.get("Type") == SCP and t.get("Status") == "ENABLED"
               for t in org.get("RootPolicyTypes") or [])


def policy_record(tx: Any, policy_id: str) -> dict[str, Any] | None:
    if policy_id == FULL_ACCESS_ID:
        return dict(FULL_ACCESS)
    found: dict[str, Any] | None = tx.get(ORG, "policy", policy_id)
    return found


def attached_to(tx: Any, target: str) -> list[dict[str, Any]]:
    """The SCPs attached to ``target`` (the root id or an account id), in id order."""
    ids = sorted(a["PolicyId"] for a in tx.list(ORG, "attachment") if a["TargetId"] == target)
    return [p for p in (policy_record(tx, i) for i in ids) if p is not None]


def scp_levels(tx: Any, account: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The SCPs limiting ``account``'s principals, one tuple of (policy ARN, content) per level
    (the root's, each OU's from the top down, then the account's); empty when the account is
    the management account, not in the organization, or SCPs are not enabled."""
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    if org is None or account == org["MasterAccountId"] or not scp_enabled(org):
        return ()
    if tx.get(ORG, "account", account) is None:
        return ()
    root = root_id_of(org)
    chain = [account]  # the account, then each OU above it up to the root
    parent = tx.get(ORG, "account", account).get("ParentId")
    while parent and parent != root and len(chain) <= 6:
        chain.append(parent)
        ou = tx.get(ORG, "ou", parent)
        parent = ou.get("ParentId") if ou is not None else None
    chain.append(root)
    return tuple(tuple((p["Arn"], p["Content"]) for p in attached_to(tx, target))
                 for target in reversed(chain))


class PolicyOps(OrgBase):
    """The SCP operations, mixed into the Organizations provider."""

    def _root_out(self, org: dict[str, Any], tx: Any) -> dict[str, Any]:
        root_id = self._root_id(tx)
        return {
            "Id": root_id,
            "Arn": f"arn:aws:organizations::{org['MasterAccountId']}:root/{org['Id']}/{root_id}",
            "Name": "Root",
            "PolicyTypes": list(org.get("RootPolicyTypes") or []),
        }

    def _target(self, tx: Any, org: dict[str, Any], target: str) -> dict[str, Any]:
        if target == self._root_id(tx):
            return {"TargetId": target, "Type": "ROOT", "Name": "Root", "Arn": (
                f"arn:aws:organizations::{org['MasterAccountId']}:root/{org['Id']}/{target}")}
        ou = tx.get(ORG, "ou", target)
        if ou is not None:
            return {"TargetId": target, "Type": "ORGANIZATIONAL_UNIT", "Name": ou["Name"],
                    "Arn": ou["Arn"]}
        account = tx.get(ORG, "account", target)
        if account is None:
            raise org_error("TargetNotFoundException",
                         "We can't find a root, OU, account, or policy with the TargetId that "
                         "you specified.")
        return {"TargetId": target, "Type": "ACCOUNT", "Name": account["Name"],
                "Arn": account["Arn"]}

    def _policy(self, tx: Any, policy_id: Any) -> dict[str, Any]:
        found = policy_record(tx, str(policy_id or ""))
        if found is None:
            raise _policy_not_found()
        return found

    # -- the policy type ------------------------------------------------------------------

    def EnablePolicyType(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        self._require_root_id(call, tx)
        _check_type(org, call.params.get("PolicyType"))
        if scp_enabled(org):
            raise org_error("PolicyTypeAlreadyEnabledException",
                         "The specified policy type is already enabled.")
        org["RootPolicyTypes"] = [{"Type": SCP, "Status": "ENABLED"}]
        tx.put(ORG, "organization", "org", org["Id"], org)
        targets = [self._root_id(tx), *(u["Id"] for u in tx.list(ORG, "ou")),
                   *(a["Id"] for a in tx.list(ORG, "account"))]
        for target in targets:
            attach(tx, FULL_ACCESS_ID, target)
        tx.bump_generation()
        return {"Root": self._root_out(org, tx)}

    def DisablePolicyType(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        self._require_root_id(call, tx)
        _check_type(org, call.params.get("PolicyType"))
        if not scp_enabled(org):
            raise org_error("PolicyTypeNotEnabledException",
                         "This operation can be performed only for enabled policy types.")
        org["RootPolicyTypes"] = []
        tx.put(ORG, "organization", "org", org["Id"], org)
        for attachment in tx.list(ORG, "attachment"):  # every SCP is detached
            tx.delete(ORG, "attachment", f"{attachment['PolicyId']}/{attachment['TargetId']}")
        tx.bump_generation()
        return {"Root": self._root_out(org, tx)}

    def _require_root_id(self, call: Call, tx: Any) -> None:
        if call.params.get("RootId") != self._root_id(tx):
            raise org_error("RootNotFoundException",
                         "We can't find a root with the RootId that you specified.")

    # -- policies -------------------------------------------------------------------------

    def CreatePolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        params = call.params
        _check_type(org, params.get("Type"))
        content = str(params.get("Content") or "")
        _check_content(content)
        tags = check_tags(params.get("Tags"))
        name = str(params.get("Name") or "")
        _check_name_free(tx, name)
        policy_id = "p-" + "".join(secrets.choice(_ID_CHARS) for _ in range(8))
        policy = {
            "Id": policy_id,
            "Arn": (f"arn:aws:organizations::{org['MasterAccountId']}:policy/{org['Id']}/"
                    f"service_control_policy/{policy_id}"),
            "Name": name, "Description": str(params.get("Description") or ""), "Type": SCP,
            "AwsManaged": False, "Content": content,
        }
        tx.put(ORG, "policy", policy_id, policy_id, policy)
        set_tags(tx, policy_id, tags)
        return {"Policy": _view(policy)}

    def DescribePolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        return {"Policy": _view(self._policy(tx, call.params.get("PolicyId")))}

    def UpdatePolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        policy = self._policy(tx, call.params.get("PolicyId"))
        if policy["AwsManaged"]:
            raise org_error("AccessDeniedException",
                         "You don't have permissions to access this resource.")
        params = call.params
        if params.get("Content") is not None:
            _check_content(str(params["Content"]))
            policy["Content"] = str(params["Content"])
        if params.get("Name") is not None and params["Name"] != policy["Name"]:
            _check_name_free(tx, str(params["Name"]))
            policy["Name"] = str(params["Name"])
        if params.get("Description") is not None:
            policy["Description"] = str(params["Description"])
        tx.put(ORG, "policy", policy["Id"], policy["Id"], policy)
        tx.bump_generation()
        return {"Policy": _view(policy)}

    def DeletePolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        policy = self._policy(tx, call.params.get("PolicyId"))
        if policy["AwsManaged"]:
            raise org_error("AccessDeniedException",
                         "You don't have permissions to access this resource.")
        if any(a["PolicyId"] == policy["Id"] for a in tx.list(ORG, "attachment")):
            raise org_error("PolicyInUseException",
                         "The policy is attached to one or more entities. You must detach it "
                         "from all roots, OUs, and accounts before performing this operation.")
        tx.delete(ORG, "policy", policy["Id"])
        set_tags(tx, policy["Id"], [])
        return {}

    def ListPolicies(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        if call.params.get("Filter") != SCP:
            return {"Policies": []}  # only SCPs exist here
        policies = [FULL_ACCESS, *sorted(tx.list(ORG, "policy"), key=lambda p: p["Name"])]
        return self._page(call, policies, "Policies", _summary)

    # -- attachments ----------------------------------------------------------------------

    def AttachPolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        policy = self._policy(tx, call.params.get("PolicyId"))
        target = self._target(tx, org, str(call.params.get("TargetId") or ""))["TargetId"]
        if not scp_enabled(org):
            raise org_error("PolicyTypeNotEnabledException",
                         "This operation can be performed only for enabled policy types.")
        if tx.get(ORG, "attachment", f"{policy['Id']}/{target}") is not None:
            raise org_error("DuplicatePolicyAttachmentException",
                         "The selected policy is already attached to the specified target.")
        if len(attached_to(tx, target)) >= MAX_ATTACHED:
            # AWS's words (hashicorp/terraform-provider-aws#41493 quotes a real answer)
            raise org_error("ConstraintViolationException", "You have attached the maximum "
                            "number of policies to the specified target.",
                            "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        attach(tx, policy["Id"], target)
        tx.bump_generation()
        return {}

    def DetachPolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_management(call, tx)
        policy = self._policy(tx, call.params.get("PolicyId"))
        target = self._target(tx, org, str(call.params.get("TargetId") or ""))["TargetId"]
        key = f"{policy['Id']}/{target}"
        if tx.get(ORG, "attachment", key) is None:
            raise org_error("PolicyNotAttachedException", "Unable to find the policy attachment.")
        if len(attached_to(tx, target)) == 1:
            # AWS's words (hashicorp/terraform-provider-aws#26797 quotes a real answer)
            raise org_error("ConstraintViolationException",
                            "You cannot remove the last policy attached to the specified target. "
                            "You must have at least one attached at all times.",
                            "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        tx.delete(ORG, "attachment", key)
        tx.bump_generation()
        return {}

    def ListPoliciesForTarget(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_reader(call, tx)
        target = self._target(tx, org, str(call.params.get("TargetId") or ""))["TargetId"]
        if call.params.get("Filter") != SCP:
            return {"Policies": []}  # only SCPs exist here
        return self._page(call, attached_to(tx, target), "Policies", _summary)

    def ListTargetsForPolicy(self, call: Call, tx: Any) -> dict[str, Any]:
        org = self._require_reader(call, tx)
        policy = self._policy(tx, call.params.get("PolicyId"))
        targets = sorted(a["TargetId"] for a in tx.list(ORG, "attachment")
                         if a["PolicyId"] == policy["Id"])
        return self._page(call, [self._target(tx, org, t) for t in targets], "Targets",
                          lambda target: target)
