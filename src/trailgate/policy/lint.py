"""Findings about valid policies, in the spirit of IAM Access Analyzer's ``ValidatePolicy``.

A document that AWS refuses never gets here (see :mod:`trailgate.policy.validate`); these are
the things AWS accepts but that are wrong, dangerous or untidy.  Issue codes follow Access
Analyzer's style (``INVALID_ACTION``, ``REDUNDANT_ACTION``...); the messages are our own.

The knowledge (actions, resource types and condition keys per service) lives in
``data/actions.json`` (package data, read once): s3, iam, sts, cloudtrail, organizations,
s3-object-lambda and kms in full; ec2 with its action names only.  Services that are not in the
file are never reported as wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from trailgate.policy.model import (
    ConditionClause,
    Policy,
    PolicyType,
    Statement,
)
from trailgate.policy.validate import split_operator, wildcard_match

Severity = Literal["error", "security_warning", "warning", "suggestion"]

SEVERITIES: tuple[Severity, ...] = ("error", "security_warning", "warning", "suggestion")


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: how bad, which check (``code``), what to do, and where (statement index,
    ``None`` for the document as a whole)."""

    severity: Severity
    code: str
    message: str
    statement: int | None = None


# --------------------------------------------------------------------------------------------
# Knowledge
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str
    resources: tuple[str, ...]
    keys: frozenset[str] | None  # lower-case; None: not recorded for this service


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    prefix: str
    actions: dict[str, ActionInfo]  # lower-case name -> info
    keys: dict[str, str]  # lower-case key -> type ("String", "ArrayOfString", ...)


@dataclass(frozen=True, slots=True)
class Catalog:
    services: dict[str, ServiceInfo]
    global_keys: dict[str, str]  # lower-case aws:* key -> type

    def service(self, prefix: str) -> ServiceInfo | None:
        return self.services.get(prefix.lower())


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The action/condition-key catalogue from the package data (loaded once)."""
    text = resources.files("trailgate.policy").joinpath("data/actions.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    services: dict[str, ServiceInfo] = {}
    for prefix, body in raw["services"].items():
        common = [k.lower() for k in body.get("action_keys_common", [])]
        actions: dict[str, ActionInfo] = {}
        for name, entry in body["actions"].items():
            keys: frozenset[str] | None = None
            if "keys" in entry:
                own = [k.lower() for k in entry["keys"]]
                keys = frozenset(own + (common if entry.get("common") else []))
            actions[name.lower()] = ActionInfo(name, tuple(entry.get("resources", ())), keys)
        keys_types = {k.lower(): t for k, t in body["keys"].items()}
        services[prefix] = ServiceInfo(prefix, actions, keys_types)
    global_keys = {k.lower(): t for k, t in raw["global_keys"].items()}
    return Catalog(services, global_keys)


def _key_in(key: str, keys: dict[str, str] | frozenset[str]) -> str | None:
    """Find ``key`` (lower-case) among catalogue keys, where ``.../${TagKey}`` and ``.../<key>``
    templates stand for any tag name.  Returns the catalogue entry, or ``None``."""
    if key in keys:
        return key
    slash = key.find("/")
    if slash < 0:
        return None
    head = key[: slash + 1]
    for known in keys:
        if known.startswith(head) and ("${" in known[slash:] or "<" in known[slash:]):
            return known
    return None


def expand_action(pattern: str) -> list[ActionInfo] | None:
    """The catalogue actions a pattern covers; ``None`` when it reaches beyond the catalogue
    (``*``, a wildcard service, or a service the catalogue does not know)."""
    prefix, colon, name = pattern.partition(":")
    if not colon or "*" in prefix or "?" in prefix:
        return None
    service = catalog().service(prefix)
    if service is None:
        return None
    lowered = name.lower()
    if "*" not in lowered and "?" not in lowered:
        found = service.actions.get(lowered)
        return [found] if found else []
    return [info for key, info in service.actions.items() if wildcard_match(lowered, key)]


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

_MITIGATING_TRUST_KEYS = frozenset({"sts:externalid", "aws:multifactorauthpresent"})
_FAMILY_TYPES = {
    "Numeric": ("Numeric", "Long", "Integer"),
    "Date": ("Date",),
    "Bool": ("Bool", "Boolean"),
    "IpAddress": ("IPAddress",),
    "NotIpAddress": ("IPAddress",),
    "Binary": ("Binary",),
}


def lint(policy: Policy, policy_type: PolicyType, *, account: str | None = None) -> list[Finding]:
    """Findings for a parsed, valid policy used as ``policy_type``.

    ``account`` is the account that owns the policy (for trust policies: the role's account);
    without it every account a trust policy names counts as another account.
    """
    findings: list[Finding] = []
    findings.extend(_document_checks(policy))
    for stmt in policy.statements:
        findings.extend(_statement_checks(policy, stmt, policy_type, account))
    return findings


def _document_checks(policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    if policy.version is None:
        out.append(
            Finding(
                "warning",
                "MISSING_VERSION",
                'Add "Version": "2012-10-17": without it the policy is read with the 2008 '
                "rules and policy variables are not substituted.",
            )
        )
    sids = [s.sid for s in policy.statements if s.sid]
    if len(sids) != len(set(sids)):
        out.append(
            Finding(
                "warning",
                "UNIQUE_SIDS_RECOMMENDED",
                "Give every statement its own Sid: some Sids are used more than once.",
            )
        )
    return out


def _statement_checks(
    policy: Policy, stmt: Statement, policy_type: PolicyType, account: str | None
) -> list[Finding]:
    out: list[Finding] = []
    i = stmt.index
    allow = stmt.effect == "Allow"
    # SCPs, boundaries and session policies only limit: their Allows grant nothing by themselves
    grants = allow and policy_type in (PolicyType.IDENTITY, PolicyType.RESOURCE, PolicyType.TRUST)
    if stmt.sid == "":
        out.append(Finding("suggestion", "EMPTY_SID_VALUE", "Remove the empty Sid.", i))
    if grants and stmt.not_action is not None:
        out.append(
            Finding(
                "security_warning",
                "ALLOW_WITH_NOT_ACTION",
                "Allow with NotAction grants every action that is not listed, including those "
                "of services added later; list the actions to allow instead.",
                i,
            )
        )
    if grants and stmt.not_resource is not None:
        out.append(
            Finding(
                "security_warning",
                "ALLOW_WITH_NOT_RESOURCE",
                "Allow with NotResource grants access to every resource that is not listed, "
                "including resources created later; list the resources instead.",
                i,
            )
        )
    if grants and stmt.not_principal is not None:
        out.append(
            Finding(
                "security_warning",
                "ALLOW_WITH_NOT_PRINCIPAL",
                "Allow with NotPrincipal grants access to everyone who is not listed, "
                "anonymous callers included; name the principals in Principal instead.",
                i,
            )
        )
    out.extend(_action_checks(stmt))
    out.extend(_redundancy_checks(stmt))
    if grants:
        out.extend(_breadth_checks(stmt))
    out.extend(_condition_checks(stmt))
    out.extend(_variable_checks(policy, stmt))
    if policy_type is PolicyType.TRUST and allow:
        out.extend(_trust_checks(stmt, account))
    if policy_type is PolicyType.RESOURCE and allow:
        out.extend(_public_checks(stmt))
    return out


def _action_checks(stmt: Statement) -> list[Finding]:
    out: list[Finding] = []
    for action in stmt.action or stmt.not_action or ():
        prefix, colon, _ = action.partition(":")
        if colon and prefix != "*" and ("*" in prefix or "?" in prefix):
            out.append(
                Finding(
                    "suggestion",
                    "WILDCARD_IN_SERVICE_NAME",
                    f"The action {action} uses a wildcard in the service name; name the "
                    "service in full.",
                    stmt.index,
                )
            )
            continue
        found = expand_action(action)
        if found is not None and not found:
            if "*" in action or "?" in action:
                message = f"The action {action} does not match any action of {prefix.lower()}."
            else:
                message = f"The action {action} does not exist."
            out.append(Finding("error", "INVALID_ACTION", message, stmt.index))
    return out


def _covers(broad: str, narrow: str) -> bool:
    """True when every string ``narrow`` matches is matched by ``broad`` (``broad`` with only
    ``*`` wildcards; ``narrow`` read literally)."""
    if "?" in broad or "?" in narrow:
        return False
    return wildcard_match(broad, narrow)


def _redundant(
    values: tuple[str, ...], fold: bool, stmt: Statement, code: str, kind: str
) -> list[Finding]:
    out: list[Finding] = []
    keyed = [(v.lower() if fold else v, v) for v in values]
    seen: set[str] = set()
    for n, (key, original) in enumerate(keyed):
        if key in seen:
            out.append(
                Finding(
                    "suggestion",
                    code,
                    f"The {kind} {original} is listed more than once.",
                    stmt.index,
                )
            )
            continue
        seen.add(key)
        for m, (other, other_original) in enumerate(keyed):
            if m != n and other != key and _covers(other, key):
                out.append(
                    Finding(
                        "suggestion",
                        code,
                        f"The {kind} {original} is redundant: {other_original} already "
                        "includes it.",
                        stmt.index,
                    )
                )
                break
    return out


def _redundancy_checks(stmt: Statement) -> list[Finding]:
    out: list[Finding] = []
    actions = stmt.action if stmt.action is not None else stmt.not_action
    if actions:
        out.extend(_redundant(actions, True, stmt, "REDUNDANT_ACTION", "action"))
    resources_ = stmt.resource if stmt.resource is not None else stmt.not_resource
    if resources_:
        out.extend(_redundant(resources_, False, stmt, "REDUNDANT_RESOURCE", "resource"))
    return out


def _breadth_checks(stmt: Statement) -> list[Finding]:
    if stmt.effect != "Allow" or stmt.action is None or stmt.resource is None:
        return []
    out: list[Finding] = []
    if "*" in stmt.action and "*" in stmt.resource:
        out.append(
            Finding(
                "security_warning",
                "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
                'Action "*" with Resource "*" grants full access to everything; grant only '
                "the actions and resources that are needed.",
                stmt.index,
            )
        )
    passes_role = any(wildcard_match(a.lower(), "iam:passrole") for a in stmt.action)
    if passes_role and "*" in stmt.resource:
        out.append(
            Finding(
                "security_warning",
                "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                'iam:PassRole with Resource "*" lets the principal pass any role to a '
                "service; name the roles that may be passed.",
                stmt.index,
            )
        )
    return out


def condition_key_type(key: str) -> str | None:
    """The type IAM's catalog gives a condition key (passed in lower case); None if it has none."""
    cat = catalog()
    prefix = key.partition(":")[0]
    if prefix == "aws":
        found = _key_in(key, cat.global_keys)
        return cat.global_keys[found] if found else None
    service = cat.service(prefix)
    if service is None:
        return None
    found = _key_in(key, service.keys)
    return service.keys[found] if found else None


def _condition_checks(stmt: Statement) -> list[Finding]:
    out: list[Finding] = []
    for clause in stmt.conditions:
        out.extend(_key_checks(stmt, clause))
        if not clause.values:
            out.append(
                Finding(
                    "suggestion",
                    "EMPTY_ARRAY_CONDITION",
                    f"The condition key {clause.key} has no values; remove it or add values.",
                    stmt.index,
                )
            )
    return out


def _key_checks(stmt: Statement, clause: ConditionClause) -> list[Finding]:
    cat = catalog()
    key = clause.key.lower()
    prefix = key.partition(":")[0]
    i = stmt.index
    if prefix == "aws" and _key_in(key, cat.global_keys) is None:
        return [
            Finding(
                "error",
                "INVALID_GLOBAL_CONDITION_KEY",
                f"The condition key {clause.key} is not a global condition key.",
                i,
            )
        ]
    service = cat.service(prefix)
    if service is not None and _key_in(key, service.keys) is None:
        return [
            Finding(
                "error",
                "INVALID_SERVICE_CONDITION_KEY",
                f"The condition key {clause.key} does not exist in the service {prefix}.",
                i,
            )
        ]
    out: list[Finding] = []
    if service is not None and not _key_applies(stmt, key):
        out.append(
            Finding(
                "warning",
                "CONDITION_KEY_NOT_SUPPORTED",
                f"The condition key {clause.key} is not supported by any action of this "
                "statement, so the condition never matches.",
                i,
            )
        )
    out.extend(_operator_checks(stmt, clause))
    return out


def _key_applies(stmt: Statement, key: str) -> bool:
    """False only when every action of the statement is known and none supports ``key``."""
    if stmt.action is None:
        return True
    for action in stmt.action:
        infos = expand_action(action)
        if infos is None:
            return True
        for info in infos:
            if info.keys is None or _key_in(key, info.keys) is not None:
                return True
    return False


def _operator_checks(stmt: Statement, clause: ConditionClause) -> list[Finding]:
    op = split_operator(clause.operator)
    key_type = condition_key_type(clause.key.lower())
    if op is None or key_type is None:
        return []
    out: list[Finding] = []
    multi = key_type.startswith("ArrayOf")
    if op.qualifier == "ForAllValues" and not multi and stmt.effect == "Allow":
        out.append(
            Finding(
                "security_warning",
                "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                f"ForAllValues with the single-valued key {clause.key} is true when the key is "
                "absent; use the operator without ForAllValues.",
                stmt.index,
            )
        )
    family = "IpAddress" if op.base in ("IpAddress", "NotIpAddress") else op.base
    for name, accepted in _FAMILY_TYPES.items():
        if family.startswith(name):
            base_type = key_type.removeprefix("ArrayOf")
            if base_type not in accepted and not (name == "Numeric" and base_type == "Date"):
                out.append(
                    Finding(
                        "warning",
                        "TYPE_MISMATCH",
                        f"The operator {clause.operator} compares {name} values but the "
                        f"condition key {clause.key} is of type {key_type}.",
                        stmt.index,
                    )
                )
            break
    return out


def _variable_checks(policy: Policy, stmt: Statement) -> list[Finding]:
    if policy.variables_enabled:
        return []
    texts = list(stmt.resource or ()) + list(stmt.not_resource or ())
    texts += [v for clause in stmt.conditions for v in clause.values]
    if not any("${" in t for t in texts):
        return []
    version = policy.version or "absent"
    return [
        Finding(
            "warning",
            "POLICY_VARIABLE_WITHOUT_CURRENT_VERSION",
            f"Policy variables are not substituted when Version is {version}: ${{...}} is "
            'matched literally. Use "Version": "2012-10-17".',
            stmt.index,
        )
    ]


def _has_key(stmt: Statement, keys: frozenset[str]) -> bool:
    return any(clause.key.lower() in keys for clause in stmt.conditions)


def _account_of(entry: str) -> str | None:
    if len(entry) == 12 and entry.isdigit():
        return entry
    parts = entry.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        return parts[4]
    return None


def _trust_checks(stmt: Statement, account: str | None) -> list[Finding]:
    spec = stmt.principal
    if spec is None or _has_key(stmt, _MITIGATING_TRUST_KEYS):
        return []
    out: list[Finding] = []
    if spec.wildcard:
        out.append(
            Finding(
                "security_warning",
                "TRUST_POLICY_ALLOWS_ANY_PRINCIPAL",
                'The role trusts every principal ("*") without an sts:ExternalId or '
                "aws:MultiFactorAuthPresent condition: anyone with AWS credentials can "
                "assume it.",
                stmt.index,
            )
        )
    others = sorted(
        {
            acct
            for acct in (_account_of(entry) for entry in spec.aws)
            if acct is not None and acct != account
        }
    )
    if others:
        out.append(
            Finding(
                "security_warning",
                "TRUST_POLICY_EXTERNAL_ACCOUNT_WITHOUT_CONDITION",
                f"The role can be assumed from account(s) {', '.join(others)} without an "
                "sts:ExternalId or aws:MultiFactorAuthPresent condition.",
                stmt.index,
            )
        )
    return out


def _public_checks(stmt: Statement) -> list[Finding]:
    if stmt.principal is None or not stmt.principal.wildcard or stmt.conditions:
        return []
    return [
        Finding(
            "security_warning",
            "ALLOW_PUBLIC_ACCESS",
            'Principal "*" without a condition grants access to everyone, anonymous callers '
            "included.",
            stmt.index,
        )
    ]
