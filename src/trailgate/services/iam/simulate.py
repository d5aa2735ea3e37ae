"""SimulatePrincipalPolicy and SimulateCustomPolicy, backed by the policy engine.

Each (action, resource) pair is one engine decision; MatchedStatements carry the policy id,
its type as IAM's simulator names it and the statement's position in the document.  Keys that
conditions of the applicable statements reference but the caller did not supply are listed in
MissingContextValues.
"""

from __future__ import annotations

from typing import Any

from ...policy import (
    Caller,
    Decision,
    MalformedPolicyError,
    PolicyDoc,
    PolicyInputs,
    PolicySet,
    PolicyType,
    Request,
    evaluate,
    make_context,
    principal_context,
)
from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from . import queries
from .policy_keys import referenced_keys

_SOURCE_TYPES = {"user": "user", "group": "group", "role": "role"}


def _source_type(policy_id: str, policy_type: PolicyType) -> str:
    if policy_type is PolicyType.RESOURCE:
        return "resource"
    if policy_id.startswith("arn:aws:iam::aws:policy/"):
        return "aws-managed"
    if policy_id.startswith("arn:"):
        return "user-managed"
    head = policy_id.split("/", 1)[0]
    return _SOURCE_TYPES.get(head, "none")


def _no_such(kind: str, name: str) -> ServiceError:
    return ServiceError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", 404)


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def _context(entries: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    values: dict[str, list[str]] = {}
    for entry in entries:
        name = entry.get("ContextKeyName")
        if not name:
            continue
        values[name] = [str(v) for v in entry.get("ContextKeyValues") or []]
    return make_context(values)


def _caller_for(arn: str, tx: Tx) -> Caller:
    """The principal the simulation acts as: a user, a role (as one of its sessions), root."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        raise _invalid(f"Invalid ARN: {arn}")
    account, resource = parts[4], parts[5]
    name = resource.rsplit("/", 1)[-1]
    if resource.startswith("user/"):
        user = queries.get_user(tx, account, name)
        return Caller.from_arn(arn, unique_id=user["UserId"] if user else None)
    if resource.startswith("role/"):
        role = queries.get_role(tx, account, name)
        return Caller(
            kind="assumed_role",
            arn=f"arn:aws:sts::{account}:assumed-role/{name}/simulation",
            account=account,
            unique_id=role["RoleId"] if role else None,
            role_arn=arn,
        )
    if resource == "root":
        return Caller.from_arn(arn)
    raise _invalid(f"Invalid ARN: {arn}")


def _docs(texts: list[str], label: str, ptype: PolicyType) -> tuple[PolicyDoc, ...]:
    return tuple(PolicyDoc(f"{label}.{i}", ptype, t) for i, t in enumerate(texts, 1))


def _input_texts(inputs: PolicyInputs) -> list[str]:
    docs = [*inputs.identity, *(d for d in (inputs.boundary, inputs.resource) if d)]
    return [d.text for d in docs]


class SimulationOps:
    def _simulate(
        self,
        call: Call,
        inputs: PolicyInputs,
        caller: Caller,
        default_owner: str,
        *,
        principal_keys: bool = True,
    ) -> dict[str, Any]:
        """``principal_keys``: whether the caller's global keys (aws:username ...) are in the
        context; not for SimulateCustomPolicy without a CallerArn, which simulates nobody."""
        params = call.params
        try:
            policies = PolicySet.from_inputs(inputs, resource_flavor="s3")
        except MalformedPolicyError as err:
            raise ServiceError("MalformedPolicyDocument", err.message, 400) from None
        supplied = _context(params.get("ContextEntries") or [])
        ctx = principal_context(caller) if principal_keys else {}
        ctx.update(supplied)
        # AWS lists the keys the input policies reference anywhere (conditions and policy
        # variables), not only those of the statements about the simulated action
        missing = sorted(k for k in referenced_keys(_input_texts(inputs)) if k.lower() not in ctx)
        owner = params.get("ResourceOwner")
        owner_account = owner.split(":")[4] if owner and owner.startswith("arn:") else owner
        results: list[dict[str, Any]] = []
        for action in params["ActionNames"]:
            for resource in params.get("ResourceArns") or ["*"]:
                account = owner_account
                if account is None:
                    parts = resource.split(":")
                    account = parts[4] if len(parts) > 5 and parts[4] else default_owner
                request = Request(caller, action, resource, ctx, account)
                decision = evaluate(request, policies)
                results.append(self._result(action, resource, decision, policies, missing))
        return _page(results, params)

    def _result(
        self,
        action: str,
        resource: str,
        decision: Decision,
        policies: PolicySet,
        missing: list[str],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "EvalActionName": action,
            "EvalResourceName": resource,
            "EvalDecision": decision.effect,
            "MatchedStatements": [
                {
                    "SourcePolicyId": m.policy_id,
                    "SourcePolicyType": _source_type(m.policy_id, m.policy_type),
                    "StartPosition": {"Line": m.start.line, "Column": m.start.column},
                    "EndPosition": {"Line": m.end.line, "Column": m.end.column},
                }
                for m in decision.statements
            ],
            "MissingContextValues": missing,
        }
        if policies.boundary is not None:
            out["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": decision.reason != "boundary"
            }
        return out

    def SimulatePrincipalPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        source = params["PolicySourceArn"]
        account, resource, identity, boundary = principal_policies(tx, source)
        docs = [PolicyDoc(pid, PolicyType.IDENTITY, text) for pid, text in identity]
        docs += _docs(params.get("PolicyInputList") or [], "PolicyInputList", PolicyType.IDENTITY)
        boundary_docs = _docs(
            params.get("PermissionsBoundaryPolicyInputList") or [],
            "PermissionsBoundaryPolicyInputList",
            PolicyType.BOUNDARY,
        )
        boundary_doc = boundary_docs[0] if boundary_docs else (
            PolicyDoc(boundary[0], PolicyType.BOUNDARY, boundary[1]) if boundary else None
        )
        inputs = PolicyInputs(
            identity=tuple(docs),
            resource=_resource_doc(params),
            boundary=boundary_doc,
        )
        caller_arn = params.get("CallerArn") or (source if not resource.startswith("group/")
                                                 else None)
        caller = _caller_for(caller_arn, tx) if caller_arn else Caller.from_arn(
            f"arn:aws:iam::{account}:root"
        )
        return self._simulate(call, inputs, caller, account)

    def SimulateCustomPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        identity = _docs(params["PolicyInputList"], "PolicyInputList", PolicyType.IDENTITY)
        boundaries = _docs(
            params.get("PermissionsBoundaryPolicyInputList") or [],
            "PermissionsBoundaryPolicyInputList",
            PolicyType.BOUNDARY,
        )
        inputs = PolicyInputs(
            identity=identity,
            resource=_resource_doc(params),
            boundary=boundaries[0] if boundaries else None,
        )
        caller_arn = params.get("CallerArn")
        caller = (
            _caller_for(caller_arn, tx)
            if caller_arn
            else Caller.from_arn(f"arn:aws:iam::{call.account}:user/simulated-user")
        )
        return self._simulate(
            call, inputs, caller, call.account, principal_keys=caller_arn is not None
        )


def principal_policies(
    tx: Tx, source: str
) -> tuple[str, str, list[tuple[str, str]], tuple[str, str] | None]:
    """The identity policies (id, text) and permissions boundary of the user, role or group
    ``source`` names (a user's include its groups'), with its account and ARN resource part."""
    parts = source.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        raise _invalid(f"Invalid ARN: {source}")
    account, resource = parts[4], parts[5]
    name = resource.rsplit("/", 1)[-1]
    if resource.startswith("user/"):
        if queries.get_user(tx, account, name) is None:
            raise _no_such("user", name)
        identity = queries.identity_policies_for_user(tx, account, name)
        return account, resource, identity, queries.boundary_for(tx, account, "user", name)
    if resource.startswith("role/"):
        if queries.get_role(tx, account, name) is None:
            raise _no_such("role", name)
        identity = queries.identity_policies_for_role(tx, account, name)
        return account, resource, identity, queries.boundary_for(tx, account, "role", name)
    if resource.startswith("group/"):
        group = queries.get_group(tx, account, name)
        if group is None:
            raise _no_such("group", name)
        identity = [
            (f"group/{group['GroupName']}/{p}", t)
            for p, t in sorted(group.get("InlinePolicies", {}).items())
        ]
        for arn in group.get("AttachedPolicies", []):
            text = queries.managed_policy_document(tx, arn)
            if text is not None:
                identity.append((arn, text))
        return account, resource, identity, None
    raise _invalid(f"Invalid ARN: {source}")


def _resource_doc(params: dict[str, Any]) -> PolicyDoc | None:
    text = params.get("ResourcePolicy")
    if not text:
        return None
    return PolicyDoc("ResourcePolicy", PolicyType.RESOURCE, text)


def _page(results: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = 0
    marker = params.get("Marker")
    if marker:
        if not str(marker).isdigit():
            raise _invalid("Invalid Marker.")
        start = int(marker)
    limit = int(params.get("MaxItems") or 1000)
    page = results[start : start + limit]
    out: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": start + limit < len(results)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + limit)
    return out
