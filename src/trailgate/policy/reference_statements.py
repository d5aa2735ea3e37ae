"""Which statements of which policies apply to a request, for the naive reference evaluator
(:mod:`trailgate.policy.reference`): action, resource, principal and condition matching of one
statement, and the inputs grouped in reporting order."""

from __future__ import annotations

from dataclasses import dataclass

from trailgate.policy.model import (
    Context,
    MatchedStatement,
    PolicyDoc,
    PolicyInputs,
    Request,
)
from trailgate.policy.reference_conditions import conditions_hold
from trailgate.policy.reference_documents import Statement, as_list, load
from trailgate.policy.reference_patterns import arn_match, glob, plain_tokens
from trailgate.policy.reference_principals import grant_kind

# ============================================================================================
# Action and resource
# ============================================================================================


def _action_matches(pattern: str, action: str) -> bool:
    return glob(plain_tokens(pattern.lower()), action.lower())


def _statement_action_matches(stmt: Statement, action: str) -> bool:
    raw = stmt.raw
    if "Action" in raw:
        return any(_action_matches(str(p), action) for p in as_list(raw["Action"]))
    if "NotAction" in raw:
        return not any(_action_matches(str(p), action) for p in as_list(raw["NotAction"]))
    raise ValueError(f"{stmt.doc.policy_id}: statement {stmt.index} has no Action")


def _resource_matches(pattern: str, resource: str, stmt: Statement, context: Context) -> bool:
    # Variables only in the resource part (segment 5); an unresolvable one matches nothing.
    return arn_match(pattern, resource, stmt.variables, context, range(5, 6))


def _statement_resource_matches(stmt: Statement, request: Request) -> bool:
    raw, ctx = stmt.raw, request.context
    if "Resource" in raw:
        return any(
            _resource_matches(str(p), request.resource, stmt, ctx)
            for p in as_list(raw["Resource"])
        )
    if "NotResource" in raw:
        return not any(
            _resource_matches(str(p), request.resource, stmt, ctx)
            for p in as_list(raw["NotResource"])
        )
    return True  # trust policies have no Resource element



# ============================================================================================
# Statements and policies
# ============================================================================================


def _applies(stmt: Statement, request: Request, names_principal: bool) -> bool:
    """Does the statement apply to the request (effect aside)?"""
    if names_principal and grant_kind(stmt, request.caller) is None:
        return False
    return (
        _statement_action_matches(stmt, request.action)
        and _statement_resource_matches(stmt, request)
        and conditions_hold(stmt, request.context)
    )


def matching(
    docs: list[PolicyDoc], request: Request, effect: str, names_principal: bool = False
) -> list[Statement]:
    """Every statement with ``effect`` of ``docs`` that applies to the request, in order."""
    return [
        stmt
        for doc in docs
        for stmt in load(doc)
        if stmt.effect == effect and _applies(stmt, request, names_principal)
    ]


def matched(statements: list[Statement]) -> tuple[MatchedStatement, ...]:
    return tuple(stmt.matched() for stmt in statements)


@dataclass(frozen=True)
class Slots:
    """The inputs grouped in reporting order (identity, resource, boundary, session, scps)."""

    identity: list[PolicyDoc]
    resource: list[PolicyDoc]
    boundary: list[PolicyDoc]
    session: list[PolicyDoc]
    scps: list[PolicyDoc]

    @staticmethod
    def of(inputs: PolicyInputs) -> Slots:
        return Slots(
            identity=list(inputs.identity),
            resource=[inputs.resource] if inputs.resource is not None else [],
            boundary=[inputs.boundary] if inputs.boundary is not None else [],
            session=list(inputs.session or ()),
            scps=[doc for level in inputs.scps for doc in level],
        )
