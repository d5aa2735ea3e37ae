"""Property tests of the naive reference evaluator (``policy/reference.py``), and agreement of the
optimised evaluator (``policy/evaluate.py``) with it on generated policies and requests.

The vocabulary is deliberately small (3 accounts, a few principals, actions, resources and
condition keys) so that generated statements often match the generated request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailgate.policy import reference
from trailgate.policy.model import (
    Caller,
    ContextValue,
    Decision,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)

A, D, E = "111111111111", "222222222222", "333333333333"
BUCKET = "arn:aws:s3:::trail-bucket"
ROLE = f"arn:aws:iam::{A}:role/reader"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{D}:user/bob"
ALICE_ID, BOB_ID = "AIDAALICE00000000000A", "AIDABOB0000000000000D"
READER_ID, OPS_ID, DEPLOYER_ID = (
    "AROAREADER0000000000A",
    "AROAOPS00000000000000",
    "AROADEPLOY000000000E",
)
DEPLOYER_ROLE = f"arn:aws:iam::{E}:role/team/deployer"

CALLERS = [
    Caller.from_arn(f"arn:aws:iam::{A}:root"),
    Caller.from_arn(f"arn:aws:iam::{D}:root"),
    Caller.from_arn(ALICE, unique_id=ALICE_ID),
    Caller.from_arn(BOB, unique_id=BOB_ID),
    Caller.from_arn(f"arn:aws:sts::{A}:assumed-role/reader/s1", unique_id=READER_ID),
    Caller.from_arn(f"arn:aws:sts::{A}:assumed-role/reader/s2", unique_id=READER_ID),
    Caller.from_arn(f"arn:aws:sts::{D}:assumed-role/ops/s1", unique_id=OPS_ID),
    Caller.from_arn(
        f"arn:aws:sts::{E}:assumed-role/deployer/s1", unique_id=DEPLOYER_ID, role_arn=DEPLOYER_ROLE
    ),
    Caller.from_arn(f"arn:aws:sts::{D}:federated-user/fed"),
    Caller.from_arn("cloudtrail.amazonaws.com"),
    Caller.from_arn("accounts.google.com"),
    Caller.from_arn("anonymous"),
]

# Callers that only a resource or trust policy can allow.
NO_IDENTITY_SIDE = ("service", "anonymous", "federated")

# (action, resource, owning account)
TARGETS: list[tuple[str, str, str | None]] = [
    ("s3:GetObject", f"{BUCKET}/AWSLogs/{D}/x.json.gz", A),
    ("s3:GetObject", f"{BUCKET}/AWSLogs/{E}/y.json.gz", A),
    ("s3:PutObject", f"{BUCKET}/AWSLogs/{D}/x.json.gz", A),
    ("s3:ListBucket", BUCKET, A),
    ("s3:GetBucketAcl", BUCKET, A),
    ("sts:AssumeRole", ROLE, A),
    ("sts:AssumeRole", f"arn:aws:iam::{D}:role/ops", D),
    ("iam:GetUser", BOB, D),
    ("iam:GetUser", ALICE, A),
    ("s3:ListAllMyBuckets", "*", None),
]

# fmt: off
ACTION_PATTERNS = [
    "s3:GetObject", "s3:Get*", "s3:*", "*", "S3:getobject", "s3:?etObject", "s3:ListBucket",
    "s3:List*", "s3:PutObject", "sts:AssumeRole", "sts:*", "iam:GetUser", "iam:*User",
]
TRUST_ACTIONS = ["sts:AssumeRole", "sts:*", "sts:Assume*", "sts:TagSession"]
RESOURCE_PATTERNS = [
    "*", BUCKET, f"{BUCKET}/*", f"{BUCKET}/AWSLogs/{D}/*", "arn:aws:s3:::*",
    f"{BUCKET}/AWSLogs/${{aws:PrincipalAccount}}/*", "arn:aws:s3:::trail-?ucket",
    f"{BUCKET}/AWSLogs/*/x.json.gz", f"{BUCKET}/AWSLogs/${{aws:userid}}/*", ROLE,
    "arn:aws:iam::*:role/*", f"arn:aws:iam::{D}:*", "arn:aws:iam::*:user/${aws:username}",
    "arn:aws:iam::*:user/${aws:username, 'bob'}",
]
PRINCIPAL_ENTRIES = [
    "*", A, D, f"arn:aws:iam::{A}:root", f"arn:aws:iam::{D}:root", ALICE, BOB, ROLE,
    f"arn:aws:sts::{A}:assumed-role/reader/s1", ALICE_ID, READER_ID, DEPLOYER_ROLE,
    f"arn:aws:sts::{D}:federated-user/fed", f"arn:aws:iam::{E}:root",
]
# fmt: on
CONDITIONS: list[dict[str, dict[str, Any]]] = [
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"Bool": {"aws:MultiFactorAuthPresent": True}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"StringEquals": {"sts:ExternalId": "X"}},
    {"StringNotEquals": {"sts:ExternalId": ["X", "Y"]}},
    {"StringLike": {"s3:prefix": ["", f"AWSLogs/{D}/*"]}},
    {"StringLike": {"s3:prefix": "AWSLogs/${aws:PrincipalAccount}/*"}},
    {"StringNotLikeIfExists": {"s3:prefix": f"AWSLogs/{E}/*"}},
    {"StringLike": {"s3:prefix": "${*}"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
    {"NotIpAddress": {"aws:SourceIp": "10.1.2.3"}},
    {"StringEquals": {"aws:username": "${aws:username}"}},
    {"StringEquals": {"aws:PrincipalAccount": [A]}},
    {"StringNotEquals": {"aws:PrincipalAccount": [A, D]}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalType": "user"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    {"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}},
    {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"DateLessThan": {"aws:EpochTime": "1600000000"}},
    {"Null": {"sts:ExternalId": "true"}},
    {"Null": {"aws:MultiFactorAuthPresent": "false"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["team", "cost*"]}},
    {"ForAllValues:StringNotEquals": {"aws:TagKeys": "secret"}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{A}:trail/*"}},
    {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount, '111111111111'}"}},
    {"BinaryEquals": {"tg:blob": "aGVsbG8="}},
]
CONTEXT_CHOICES: dict[str, list[ContextValue | None]] = {
    "aws:MultiFactorAuthPresent": [None, "true", "false"],
    "aws:MultiFactorAuthAge": [None, "30", "7200"],
    "sts:ExternalId": [None, "X", "Y"],
    "s3:prefix": [None, "", f"AWSLogs/{D}/", f"AWSLogs/{E}/x"],
    "aws:SourceIp": [None, "10.1.2.3", "192.0.2.7", "2001:db8::5"],
    "aws:CurrentTime": ["2019-06-01T00:00:00Z", "2024-03-01T12:00:00Z"],
    "aws:EpochTime": ["1559347200", "1709294400"],
    "aws:TagKeys": [None, (), ("team",), ("team", "cost-center"), ("secret",)],
    "aws:SourceArn": [None, f"arn:aws:cloudtrail:us-east-1:{A}:trail/t", "not-an-arn"],
    "aws:SourceAccount": [None, A, D],
    "tg:blob": [None, "aGVsbG8=", "d29ybGQ="],
}

# ============================================================================================
# Builders
# ============================================================================================


def policy(
    policy_id: str,
    kind: PolicyType,
    *statements: dict[str, Any],
    version: str | None = "2012-10-17",
) -> PolicyDoc:
    body: dict[str, Any] = {} if version is None else {"Version": version}
    body["Statement"] = list(statements)
    return PolicyDoc(policy_id, kind, json.dumps(body, indent=1))


def request(
    caller: Caller,
    action: str,
    resource: str,
    resource_account: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> Request:
    """A request whose context holds the principal keys plus ``context``."""
    ctx = principal_context(caller)
    ctx.update(make_context(context or {}))
    return Request(caller, action, resource, ctx, resource_account)


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust_allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


# ============================================================================================
# Strategies
# ============================================================================================


def _one_or_list(values: list[str], max_size: int = 2) -> st.SearchStrategy[Any]:
    element = st.sampled_from(values)
    return st.one_of(element, st.lists(element, min_size=1, max_size=max_size, unique=True))


def _merge(clauses: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, Any]] = {}
    for clause in clauses:
        for operator, entries in clause.items():
            block.setdefault(operator, {}).update(entries)
    return block


# Strategies are built once: building them per draw dominates the run time.
EFFECTS = st.sampled_from(["Allow", "Allow", "Deny"])
PRINCIPALS = st.one_of(
    st.just("*"),
    st.builds(lambda v: {"AWS": v}, _one_or_list(PRINCIPAL_ENTRIES, 3)),
    st.just({"Service": "cloudtrail.amazonaws.com"}),
    st.just({"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"], "AWS": D}),
    st.just({"Federated": "accounts.google.com"}),
)
PRINCIPAL_KEYS = st.sampled_from(["Principal"] * 5 + ["NotPrincipal"])
ACTION_KEYS = st.sampled_from(["Action"] * 4 + ["NotAction"])
RESOURCE_KEYS = st.sampled_from(["Resource"] * 4 + ["NotResource"])
ACTIONS = _one_or_list(ACTION_PATTERNS)
TRUST_ACTION_VALUES = _one_or_list(TRUST_ACTIONS)
RESOURCES = _one_or_list(RESOURCE_PATTERNS)
CONDITION_BLOCKS = st.lists(st.sampled_from(CONDITIONS), max_size=2).map(_merge)
VERSIONS = st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17", None])
INDENTS = st.sampled_from([None, 2])
CONTEXT_VALUES = {key: st.sampled_from(choices) for key, choices in CONTEXT_CHOICES.items()}


@st.composite
def _statements(draw: st.DrawFn, kind: PolicyType) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": draw(EFFECTS)}
    if kind == PolicyType.TRUST:
        stmt["Principal"] = draw(PRINCIPALS)
        stmt["Action"] = draw(TRUST_ACTION_VALUES)
    else:
        if kind == PolicyType.RESOURCE:
            stmt[draw(PRINCIPAL_KEYS)] = draw(PRINCIPALS)
        stmt[draw(ACTION_KEYS)] = draw(ACTIONS)
        stmt[draw(RESOURCE_KEYS)] = draw(RESOURCES)
    condition = draw(CONDITION_BLOCKS)
    if condition:
        stmt["Condition"] = condition
    return stmt


STATEMENTS = {kind: _statements(kind) for kind in PolicyType}


@st.composite
def _policy_texts(draw: st.DrawFn, kind: PolicyType) -> str:
    stmts = draw(st.lists(STATEMENTS[kind], min_size=1, max_size=3))
    for index, stmt in enumerate(stmts):
        if draw(st.booleans()):
            stmt["Sid"] = f"S{index}"
    version = draw(VERSIONS)
    body: dict[str, Any] = {} if version is None else {"Version": version}
    body["Statement"] = stmts[0] if len(stmts) == 1 and draw(st.booleans()) else stmts
    return json.dumps(body, indent=draw(INDENTS))


POLICY_TEXTS = {kind: _policy_texts(kind) for kind in PolicyType}


def draw_policy(draw: st.DrawFn, policy_id: str, kind: PolicyType) -> PolicyDoc:
    return PolicyDoc(policy_id, kind, draw(POLICY_TEXTS[kind]))


@st.composite
def requests(draw: st.DrawFn, callers: list[Caller], cross_account: bool) -> Request:
    """A request by one of ``callers``; ``cross_account``: only on other accounts' resources."""
    caller = draw(st.sampled_from(callers))
    if cross_account:
        foreign = [t for t in TARGETS if t[2] is not None and t[2] != caller.account]
        action, resource, owner = draw(st.sampled_from(foreign))
        resource_account = owner
    else:
        action, resource, owner = draw(st.sampled_from(TARGETS))
        resource_account = draw(st.sampled_from([owner, owner, None]))
    ctx = principal_context(caller)
    for key, values in CONTEXT_VALUES.items():
        value = draw(values)
        if value is not None:
            ctx.update(make_context({key: value}))
    return Request(caller, action, resource, ctx, resource_account)


@st.composite
def inputs_for(draw: st.DrawFn, req: Request) -> PolicyInputs:
    """Policies as ``auth/gather.py`` would collect them for this kind of caller."""
    kind = req.caller.kind
    identity: tuple[PolicyDoc, ...] = ()
    if kind in ("user", "assumed_role", "federated_user"):
        count = draw(st.integers(0, 2))
        identity = tuple(draw_policy(draw, f"id{i}", PolicyType.IDENTITY) for i in range(count))
    boundary = None
    if kind in ("user", "assumed_role") and draw(st.integers(0, 3)) == 0:
        boundary = draw_policy(draw, "boundary", PolicyType.BOUNDARY)
    session = None
    if kind in ("assumed_role", "federated_user") and draw(st.booleans()):
        count = draw(st.integers(1, 2))
        session = tuple(draw_policy(draw, f"session{i}", PolicyType.SESSION) for i in range(count))
    scps: tuple[tuple[PolicyDoc, ...], ...] = ()
    if kind not in NO_IDENTITY_SIDE and draw(st.integers(0, 3)) == 0:
        levels = draw(st.integers(1, 2))
        scps = tuple(
            tuple(
                draw_policy(draw, f"scp{level}.{i}", PolicyType.SCP)
                for i in range(draw(st.integers(1, 2)))
            )
            for level in range(levels)
        )
    resource = None
    if req.action == "sts:AssumeRole":
        resource = draw_policy(draw, "trust", PolicyType.TRUST)
    elif draw(st.booleans()):
        resource = draw_policy(draw, "bucket", PolicyType.RESOURCE)
    return PolicyInputs(identity, resource, boundary, session, scps)


@st.composite
def cases(
    draw: st.DrawFn, callers: list[Caller] = CALLERS, cross_account: bool = False
) -> tuple[Request, PolicyInputs]:
    req = draw(requests(callers, cross_account))
    return req, draw(inputs_for(req))


# TRAILGATE_PROPERTY_EXAMPLES=5000 for a deeper (slower) run; the default keeps the file < 30 s.
EXAMPLES = int(os.environ.get("TRAILGATE_PROPERTY_EXAMPLES", "250"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AGREEMENT_SETTINGS = settings(SETTINGS, max_examples=EXAMPLES * 8 // 5)

# ============================================================================================
# Input transformations
# ============================================================================================

Slot = str  # "identity" | "resource" | "boundary" | "session" | "scp"
SLOTS = ["identity", "resource", "boundary", "session", "scp"]


def add_statement(
    inputs: PolicyInputs, slot: Slot, stmt: dict[str, Any], pick: int
) -> PolicyInputs:
    """Add ``stmt`` to one policy of ``slot`` (``pick`` chooses which); creates the policy (or
    an SCP level) if the slot is empty."""

    def extended(doc: PolicyDoc | None, policy_id: str, kind: PolicyType) -> PolicyDoc:
        if doc is None:
            return policy(policy_id, kind, stmt)
        body = json.loads(doc.text)
        existing = body["Statement"]
        body["Statement"] = [*(existing if isinstance(existing, list) else [existing]), stmt]
        return replace(doc, text=json.dumps(body))

    def extend_one(
        docs: tuple[PolicyDoc, ...], policy_id: str, kind: PolicyType
    ) -> tuple[PolicyDoc, ...]:
        if not docs:
            return (extended(None, policy_id, kind),)
        i = pick % len(docs)
        return (*docs[:i], extended(docs[i], policy_id, kind), *docs[i + 1 :])

    if slot == "identity":
        return replace(inputs, identity=extend_one(inputs.identity, "new-id", PolicyType.IDENTITY))
    if slot == "resource":
        return replace(inputs, resource=extended(inputs.resource, "new-res", PolicyType.RESOURCE))
    if slot == "boundary":
        return replace(inputs, boundary=extended(inputs.boundary, "new-b", PolicyType.BOUNDARY))
    if slot == "session":
        docs = extend_one(inputs.session or (), "new-session", PolicyType.SESSION)
        return replace(inputs, session=docs)
    if not inputs.scps:
        return replace(inputs, scps=((policy("new-scp", PolicyType.SCP, stmt),),))
    i = pick % len(inputs.scps)
    level = extend_one(inputs.scps[i], "new-scp", PolicyType.SCP)
    return replace(inputs, scps=(*inputs.scps[:i], level, *inputs.scps[i + 1 :]))


def matching_deny(req: Request, slot: Slot, inputs: PolicyInputs) -> dict[str, Any]:
    """A Deny statement that applies to ``req`` in ``slot``."""
    if slot == "resource" and inputs.resource is not None:
        if inputs.resource.policy_type == PolicyType.TRUST:
            return {"Effect": "Deny", "Principal": "*", "Action": req.action}
        return {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}
    if slot == "resource":
        return {"Effect": "Deny", "Principal": "*", "Action": req.action, "Resource": req.resource}
    return {"Effect": "Deny", "Action": req.action.upper(), "Resource": "*"}


def without_allows(inputs: PolicyInputs) -> PolicyInputs:
    """The inputs with every Allow statement removed (a document left empty gets a Deny that
    never matches)."""

    def strip(doc: PolicyDoc) -> PolicyDoc:
        body = json.loads(doc.text)
        stmts = body["Statement"] if isinstance(body["Statement"], list) else [body["Statement"]]
        placeholder: dict[str, Any] = {"Effect": "Deny", "Action": "ec2:Nothing"}
        if doc.policy_type != PolicyType.TRUST:
            placeholder["Resource"] = "*"
        if doc.policy_type.has_principal:
            placeholder["Principal"] = "*"
        body["Statement"] = [s for s in stmts if s["Effect"] != "Allow"] or [placeholder]
        return replace(doc, text=json.dumps(body))

    return PolicyInputs(
        identity=tuple(strip(d) for d in inputs.identity),
        resource=strip(inputs.resource) if inputs.resource else None,
        boundary=strip(inputs.boundary) if inputs.boundary else None,
        session=tuple(strip(d) for d in inputs.session) if inputs.session is not None else None,
        scps=tuple(tuple(strip(d) for d in level) for level in inputs.scps),
    )


def statement_keys(decision: Decision) -> list[tuple[str, PolicyType, int]]:
    return [(s.policy_id, s.policy_type, s.index) for s in decision.statements]


# ============================================================================================
# Properties of the reference evaluator
# ============================================================================================


@SETTINGS
@given(cases(), st.sampled_from(SLOTS), st.integers(0, 5))
def test_explicit_deny_always_wins(
    case: tuple[Request, PolicyInputs], slot: Slot, pick: int
) -> None:
    req, inputs = case
    deny = matching_deny(req, slot, inputs)
    decision = reference.evaluate(req, add_statement(inputs, slot, deny, pick))
    assert decision.effect == "explicitDeny"
    assert decision.reason == "explicit-deny"
    assert decision.statements


@SETTINGS
@given(cases())
def test_nothing_is_allowed_without_an_allow(case: tuple[Request, PolicyInputs]) -> None:
    req, inputs = case
    decision = reference.evaluate(req, without_allows(inputs))
    trust = inputs.resource is not None and inputs.resource.policy_type == PolicyType.TRUST
    if req.caller.kind == "root" and not req.cross_account and not trust:
        return  # the root user needs no policy in its own account
    assert not decision.allowed


@SETTINGS
@given(cases())
def test_decisions_are_well_formed(case: tuple[Request, PolicyInputs]) -> None:
    req, inputs = case
    decision = reference.evaluate(req, inputs)
    if decision.effect == "allowed":
        assert decision.reason == ""
        if req.caller.kind != "root":
            assert decision.statements, "an allow names the statements that granted"
    elif decision.effect == "implicitDeny":
        assert decision.reason not in ("", "explicit-deny")
        assert decision.statements == ()
    else:
        assert decision.reason == "explicit-deny"
        assert decision.statements


@SETTINGS
@given(cases(), STATEMENTS[PolicyType.IDENTITY], st.integers(0, 5))
def test_adding_an_identity_allow_never_removes_access(
    case: tuple[Request, PolicyInputs], stmt: dict[str, Any], pick: int
) -> None:
    req, inputs = case
    stmt = {**stmt, "Effect": "Allow"}
    before = reference.evaluate(req, inputs)
    after = reference.evaluate(req, add_statement(inputs, "identity", stmt, pick))
    if before.allowed:
        assert after.allowed
    if before.effect == "explicitDeny":
        assert after.effect == "explicitDeny"


@SETTINGS
@given(cases(), st.sampled_from(SLOTS), st.integers(0, 5), st.data())
def test_adding_an_allow_to_an_existing_policy_never_removes_access(
    case: tuple[Request, PolicyInputs], slot: Slot, pick: int, data: st.DataObject
) -> None:
    req, inputs = case
    present = {
        "identity": bool(inputs.identity),
        "resource": inputs.resource is not None,
        "boundary": inputs.boundary is not None,
        "session": bool(inputs.session),
        "scp": bool(inputs.scps),
    }
    if not present[slot]:
        return  # a NEW boundary, session policy or SCP level may well remove access
    kind = {
        "identity": PolicyType.IDENTITY,
        "resource": inputs.resource.policy_type if inputs.resource else PolicyType.RESOURCE,
        "boundary": PolicyType.BOUNDARY,
        "session": PolicyType.SESSION,
        "scp": PolicyType.SCP,
    }[slot]
    stmt = {**data.draw(STATEMENTS[kind]), "Effect": "Allow"}
    before = reference.evaluate(req, inputs)
    after = reference.evaluate(req, add_statement(inputs, slot, stmt, pick))
    if before.allowed:
        assert after.allowed


@SETTINGS
@given(cases(), st.sampled_from(SLOTS), st.integers(0, 5), st.data())
def test_adding_a_deny_never_adds_access(
    case: tuple[Request, PolicyInputs], slot: Slot, pick: int, data: st.DataObject
) -> None:
    req, inputs = case
    kind = PolicyType.RESOURCE if slot == "resource" else PolicyType.IDENTITY
    if slot == "resource" and inputs.resource is not None:
        kind = inputs.resource.policy_type
    stmt = {**data.draw(STATEMENTS[kind]), "Effect": "Deny"}
    before = reference.evaluate(req, inputs)
    after = reference.evaluate(req, add_statement(inputs, slot, stmt, pick))
    if after.allowed:
        assert before.allowed
    if before.effect == "explicitDeny":
        assert after.effect == "explicitDeny"


@SETTINGS
@given(cases([c for c in CALLERS if c.kind not in NO_IDENTITY_SIDE], cross_account=True))
def test_cross_account_needs_both_sides(case: tuple[Request, PolicyInputs]) -> None:
    req, inputs = case
    assert req.cross_account
    no_resource = reference.evaluate(req, replace(inputs, resource=None))
    assert not no_resource.allowed
    if req.caller.kind != "root":
        assert not reference.evaluate(req, replace(inputs, identity=())).allowed
    decision = reference.evaluate(req, inputs)
    if decision.allowed:
        kinds = {s.policy_type for s in decision.statements}
        assert inputs.resource is not None and inputs.resource.policy_type in kinds
        if req.caller.kind != "root":
            assert PolicyType.IDENTITY in kinds


@SETTINGS
@given(cases([c for c in CALLERS if c.kind in NO_IDENTITY_SIDE]))
def test_services_and_anonymous_callers_need_the_resource_policy(
    case: tuple[Request, PolicyInputs],
) -> None:
    req, inputs = case
    assert not reference.evaluate(req, replace(inputs, resource=None)).allowed
    decision = reference.evaluate(req, inputs)
    if decision.allowed:
        assert inputs.resource is not None
        assert {s.policy_id for s in decision.statements} == {inputs.resource.policy_id}


# ============================================================================================
# Agreement with the optimised evaluator
# ============================================================================================


@AGREEMENT_SETTINGS
@given(cases())
def test_optimised_evaluator_agrees_with_reference(case: tuple[Request, PolicyInputs]) -> None:
    optimised = pytest.importorskip("trailgate.policy.evaluate")
    req, inputs = case
    expected = reference.evaluate(req, inputs)
    actual = optimised.evaluate(req, optimised.PolicySet.from_inputs(inputs))
    assert (actual.effect, actual.reason) == (expected.effect, expected.reason)


@AGREEMENT_SETTINGS
@given(cases())
def test_optimised_evaluator_reports_the_same_deciding_statements(
    case: tuple[Request, PolicyInputs],
) -> None:
    optimised = pytest.importorskip("trailgate.policy.evaluate")
    req, inputs = case
    expected = reference.evaluate(req, inputs)
    actual = optimised.evaluate(req, optimised.PolicySet.from_inputs(inputs))
    if actual.effect == expected.effect:
        assert statement_keys(actual) == statement_keys(expected)


# ============================================================================================
# Hand-made cases of the reference evaluator (spec 2.3, 2.5, 2.8 and section 1)
# ============================================================================================

D_USER = Caller.from_arn(f"arn:aws:iam::{D}:user/dora", unique_id="AIDADORA000000000000D")
E_USER = Caller.from_arn(f"arn:aws:iam::{E}:user/eve", unique_id="AIDAEVE0000000000000E")
R_USER = Caller.from_arn("arn:aws:iam::444444444444:user/rex")
ROLE_D = f"arn:aws:iam::{A}:role/LogReaderD"
SESSION_D = Caller.from_arn(f"arn:aws:sts::{A}:assumed-role/LogReaderD/dora", unique_id="AROAD")
ASSUME_ROLE_D = allow("sts:AssumeRole", ROLE_D)
TRUST_D = policy("trust", PolicyType.TRUST, trust_allow({"AWS": f"arn:aws:iam::{D}:root"}))
ROLE_POLICY_D = policy(
    "role-d",
    PolicyType.IDENTITY,
    allow(["s3:Get*", "s3:List*"], f"{BUCKET}/AWSLogs/{D}/*"),
    allow(["s3:Get*", "s3:List*"], BUCKET),
)


def decide(req: Request, **inputs: Any) -> Decision:
    return reference.evaluate(req, PolicyInputs(**inputs))


def test_user_without_identity_policy_cannot_assume_role() -> None:
    req = request(D_USER, "sts:AssumeRole", ROLE_D, A)
    decision = decide(req, resource=TRUST_D)
    assert (decision.effect, decision.reason) == ("implicitDeny", "no-identity-allow")


def test_identity_allow_and_trust_naming_account_root_allows() -> None:
    req = request(D_USER, "sts:AssumeRole", ROLE_D, A)
    identity = policy("user-d", PolicyType.IDENTITY, ASSUME_ROLE_D)
    decision = decide(req, identity=(identity,), resource=TRUST_D)
    assert decision.allowed
    assert statement_keys(decision) == [
        ("user-d", PolicyType.IDENTITY, 0),
        ("trust", PolicyType.TRUST, 0),
    ]


def test_trust_not_naming_caller_account_denies() -> None:
    req = request(E_USER, "sts:AssumeRole", ROLE_D, A)
    identity = policy("user-e", PolicyType.IDENTITY, ASSUME_ROLE_D)
    decision = decide(req, identity=(identity,), resource=TRUST_D)
    assert (decision.effect, decision.reason) == ("implicitDeny", "no-resource-allow")


def test_mfa_condition_absent_key_denies_and_present_allows() -> None:
    trust = policy(
        "trust",
        PolicyType.TRUST,
        trust_allow({"AWS": E}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    )
    identity = (policy("user-e", PolicyType.IDENTITY, ASSUME_ROLE_D),)
    no_mfa = request(E_USER, "sts:AssumeRole", ROLE_D, A)
    assert decide(no_mfa, identity=identity, resource=trust).reason == "no-resource-allow"
    mfa = request(E_USER, "sts:AssumeRole", ROLE_D, A, {"aws:MultiFactorAuthPresent": "true"})
    assert decide(mfa, identity=identity, resource=trust).allowed


def test_external_id_must_match() -> None:
    trust = policy(
        "trust",
        PolicyType.TRUST,
        trust_allow(
            {"AWS": "arn:aws:iam::444444444444:root"},
            Condition={"StringEquals": {"sts:ExternalId": "X-123"}},
        ),
    )
    identity = (policy("user-r", PolicyType.IDENTITY, ASSUME_ROLE_D),)
    for context in ({}, {"sts:ExternalId": "wrong"}):
        req = request(R_USER, "sts:AssumeRole", ROLE_D, A, context)
        assert not decide(req, identity=identity, resource=trust).allowed
    req = request(R_USER, "sts:AssumeRole", ROLE_D, A, {"sts:ExternalId": "X-123"})
    assert decide(req, identity=identity, resource=trust).allowed


def test_role_session_scoped_to_own_prefix() -> None:
    bucket_policy = policy(
        "bucket",
        PolicyType.RESOURCE,
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET}/AWSLogs/*",
        },
    )
    own = request(SESSION_D, "s3:GetObject", f"{BUCKET}/AWSLogs/{D}/x.json.gz", A)
    other = request(SESSION_D, "s3:GetObject", f"{BUCKET}/AWSLogs/{E}/x.json.gz", A)
    decision = decide(own, identity=(ROLE_POLICY_D,), resource=bucket_policy)
    assert decision.allowed
    assert statement_keys(decision) == [("role-d", PolicyType.IDENTITY, 0)]
    decision = decide(other, identity=(ROLE_POLICY_D,), resource=bucket_policy)
    assert (decision.effect, decision.reason) == ("implicitDeny", "no-identity-allow")


def test_session_policy_narrows_role_permissions() -> None:
    read_only = policy("ro", PolicyType.IDENTITY, allow(["s3:Get*", "s3:List*"], "*"))
    session = (
        policy("sess", PolicyType.SESSION, allow("s3:GetObject", f"{BUCKET}/AWSLogs/{D}/*")),
    )
    own = request(SESSION_D, "s3:GetObject", f"{BUCKET}/AWSLogs/{D}/x.json.gz", A)
    other = request(SESSION_D, "s3:GetObject", f"{BUCKET}/AWSLogs/{E}/x.json.gz", A)
    assert decide(own, identity=(read_only,), session=session).allowed
    assert decide(other, identity=(read_only,)).allowed
    decision = decide(other, identity=(read_only,), session=session)
    assert (decision.effect, decision.reason) == ("implicitDeny", "session-policy")


def test_cross_account_user_needs_both_sides() -> None:
    bucket_policy = policy(
        "bucket",
        PolicyType.RESOURCE,
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{D}:root"},
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
        },
    )
    identity = (policy("user-d", PolicyType.IDENTITY, allow("s3:GetObject", f"{BUCKET}/*")),)
    req = request(D_USER, "s3:GetObject", f"{BUCKET}/AWSLogs/{D}/x.json.gz", A)
    assert decide(req, resource=bucket_policy).reason == "no-identity-allow"
    assert decide(req, identity=identity).reason == "no-resource-allow"
    decision = decide(req, identity=identity, resource=bucket_policy)
    assert decision.allowed
    assert statement_keys(decision) == [
        ("user-d", PolicyType.IDENTITY, 0),
        ("bucket", PolicyType.RESOURCE, 0),
    ]


@pytest.mark.parametrize(
    ("principal", "identity_needed", "limited"),
    [
        ({"AWS": f"arn:aws:iam::{A}:role/LogReaderD"}, False, True),
        ({"AWS": "AROAD"}, False, True),
        ({"AWS": f"arn:aws:sts::{A}:assumed-role/LogReaderD/dora"}, False, False),
        ({"AWS": A}, True, True),
        ({"AWS": f"arn:aws:iam::{A}:root"}, True, True),
        ("*", False, False),
    ],
)
def test_same_account_resource_grants_per_principal_form(
    principal: Any, identity_needed: bool, limited: bool
) -> None:
    """Spec 2.3: which principal forms bypass identity policies, boundaries, session policies."""
    bucket_policy = policy(
        "bucket",
        PolicyType.RESOURCE,
        {"Effect": "Allow", "Principal": principal, "Action": "s3:*", "Resource": f"{BUCKET}/*"},
    )
    identity = (policy("role", PolicyType.IDENTITY, allow("s3:*")),)
    nothing = policy("nothing", PolicyType.BOUNDARY, allow("iam:*"))
    req = request(SESSION_D, "s3:GetObject", f"{BUCKET}/k", A)
    assert decide(req, resource=bucket_policy).allowed is not identity_needed
    assert decide(req, resource=bucket_policy, identity=identity).allowed
    bounded = decide(req, resource=bucket_policy, identity=identity, boundary=nothing)
    assert bounded.allowed is not limited
    session = decide(
        req,
        resource=bucket_policy,
        identity=identity,
        session=(policy("s", PolicyType.SESSION, allow("iam:*")),),
    )
    assert session.allowed is not limited


def test_same_account_user_named_in_bucket_policy_needs_no_identity_policy() -> None:
    alice = Caller.from_arn(ALICE, unique_id=ALICE_ID)
    for entry in (ALICE, ALICE_ID):
        bucket_policy = policy(
            "b",
            PolicyType.RESOURCE,
            {
                "Effect": "Allow",
                "Principal": {"AWS": entry},
                "Action": "s3:GetObject",
                "Resource": f"{BUCKET}/*",
            },
        )
        req = request(alice, "s3:GetObject", f"{BUCKET}/k", A)
        assert decide(req, resource=bucket_policy).allowed
        assert not decide(
            request(alice, "s3:GetObject", f"{BUCKET}/k", E), resource=bucket_policy
        ).allowed


def test_root_is_allowed_in_own_account_but_not_against_explicit_deny() -> None:
    root = Caller.from_arn(f"arn:aws:iam::{A}:root")
    req = request(root, "s3:GetObject", f"{BUCKET}/k", A)
    assert decide(req).allowed
    deny = policy(
        "b",
        PolicyType.RESOURCE,
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
    )
    assert decide(req, resource=deny).effect == "explicitDeny"
    cross = request(root, "s3:GetObject", f"{BUCKET}/k", E)
    assert decide(cross).reason == "no-resource-allow"


def test_service_principal_only_through_resource_policy() -> None:
    service = Caller.from_arn("cloudtrail.amazonaws.com")
    bucket_policy = policy(
        "bucket",
        PolicyType.RESOURCE,
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET}/AWSLogs/{A}/*",
            "Condition": {
                "StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{A}:trail/t",
                }
            },
        },
    )
    trail = f"arn:aws:cloudtrail:us-east-1:{A}:trail/t"
    key = f"{BUCKET}/AWSLogs/{A}/f.gz"
    acl = {"s3:x-amz-acl": "bucket-owner-full-control"}
    ok = request(service, "s3:PutObject", key, A, {**acl, "aws:SourceArn": trail})
    assert decide(ok, resource=bucket_policy).allowed
    assert not decide(ok).allowed
    wrong_acl = request(service, "s3:PutObject", key, A, {"aws:SourceArn": trail})
    assert not decide(wrong_acl, resource=bucket_policy).allowed


def test_scp_levels_must_each_allow() -> None:
    alice = Caller.from_arn(ALICE, unique_id=ALICE_ID)
    identity = (policy("id", PolicyType.IDENTITY, allow("*")),)
    full = policy("FullAWSAccess", PolicyType.SCP, allow("*"))
    s3_only = policy("s3", PolicyType.SCP, allow("s3:*"))
    req = request(alice, "iam:GetUser", ALICE)
    assert decide(req, identity=identity, scps=((full,), (full,))).allowed
    decision = decide(req, identity=identity, scps=((full,), (s3_only,)))
    assert (decision.effect, decision.reason) == ("implicitDeny", "scp")


# --------------------------------------------------------------------------------------------
# Matching details (section 1)
# --------------------------------------------------------------------------------------------

ALICE_CALLER = Caller.from_arn(ALICE, unique_id=ALICE_ID)


def allowed_by(stmt: dict[str, Any], req: Request, version: str | None = "2012-10-17") -> bool:
    doc = policy("p", PolicyType.IDENTITY, stmt, version=version)
    return reference.evaluate(req, PolicyInputs(identity=(doc,))).allowed


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/1/2/test/x", True),
        ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b//test/x", True),
        ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/test/x", False),
        ("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", False),
        ("arn:aws:*:::b", "arn:aws:s3:::b", True),
        ("arn:*:s3", "arn:aws:s3:::b", False),
        ("arn:aws:iam::*:user/*", "arn:aws:iam::111111111111:user/a:b", True),
        ("arn:aws:iam::1*1:role/x", "arn:aws:iam::111111111111:role/x", True),
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/k", True),
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/bob/k", False),
        ("arn:aws:s3:::b/${aws:nothere}/*", "arn:aws:s3:::b/alice/k", False),
        ("arn:aws:s3:::b/${aws:nothere, 'x'}/*", "arn:aws:s3:::b/x/k", True),
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", True),
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", False),
        ("arn:aws:s3:::b/${?}${$}", "arn:aws:s3:::b/?$", True),
        ("arn:aws:s3:::b/${aws:SourceIdentity}", "arn:aws:s3:::b/x", False),  # 'a*' is literal
        ("arn:aws:s3:::b/${aws:SourceIdentity}", "arn:aws:s3:::b/a*", True),
    ],
)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    req = request(ALICE_CALLER, "s3:GetObject", resource, None, {"aws:SourceIdentity": "a*"})
    assert allowed_by(allow("s3:GetObject", pattern), req) is expected


def test_variables_are_literal_before_version_2012() -> None:
    stmt = allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}")
    assert allowed_by(stmt, request(ALICE_CALLER, "s3:GetObject", "arn:aws:s3:::b/alice"))
    assert not allowed_by(
        stmt, request(ALICE_CALLER, "s3:GetObject", "arn:aws:s3:::b/alice"), "2008-10-17"
    )
    assert allowed_by(
        stmt, request(ALICE_CALLER, "s3:GetObject", "arn:aws:s3:::b/${aws:username}"), None
    )


@pytest.mark.parametrize(
    ("action_pattern", "action", "expected"),
    [
        ("IAM:listaccesskeys", "iam:ListAccessKeys", True),
        ("s3:?et*", "s3:GetObject", True),
        ("s3:Get", "s3:GetObject", False),
        ("*", "sts:AssumeRole", True),
    ],
)
def test_action_patterns(action_pattern: str, action: str, expected: bool) -> None:
    req = request(ALICE_CALLER, action, "*")
    assert allowed_by(allow(action_pattern), req) is expected
    not_action = {"Effect": "Allow", "NotAction": action_pattern, "Resource": "*"}
    assert allowed_by(not_action, req) is not expected


# fmt: off
CONDITION_CASES: list[tuple[dict[str, Any], dict[str, ContextValue], bool]] = [
    # absent keys: positive false, negated true, IfExists true
    ({"StringEquals": {"sts:ExternalId": "X"}}, {}, False),
    ({"StringNotEquals": {"sts:ExternalId": "X"}}, {}, True),
    ({"StringEqualsIfExists": {"sts:ExternalId": "X"}}, {}, True),
    ({"StringEqualsIfExists": {"sts:ExternalId": "X"}}, {"sts:ExternalId": "Y"}, False),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {}, True),
    # negated with several values: matches none
    ({"StringNotEquals": {"aws:PrincipalAccount": [A, D]}}, {}, False),
    ({"StringNotEquals": {"aws:PrincipalAccount": [E, D]}}, {}, True),
    # key names are case-insensitive, values are not (except IgnoreCase)
    ({"StringEquals": {"AWS:USERNAME": "alice"}}, {}, True),
    ({"StringEquals": {"aws:username": "Alice"}}, {}, False),
    ({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}, {}, True),
    ({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}, {}, False),
    ({"StringLike": {"s3:prefix": ["", "AWSLogs/*"]}}, {"s3:prefix": ""}, True),
    ({"StringLike": {"s3:prefix": "AWSLogs/*"}}, {"s3:prefix": "x/AWSLogs/"}, False),
    ({"StringNotLike": {"s3:prefix": "AWSLogs/*"}}, {"s3:prefix": "x"}, True),
    ({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/alice/a"}, True),
    ({"StringLike": {"s3:prefix": "${aws:nope}*"}}, {"s3:prefix": "x"}, False),
    ({"StringNotLike": {"s3:prefix": "${aws:nope}*"}}, {"s3:prefix": "x"}, True),
    ({"StringEquals": {"s3:prefix": "${aws:nope, 'd'}"}}, {"s3:prefix": "d"}, True),
    ({"StringLike": {"s3:prefix": "${*}"}}, {"s3:prefix": "abc"}, False),
    # numeric, date, bool, binary, ip, arn, null
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}, {"aws:MultiFactorAuthAge": "30"}, True),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:MultiFactorAuthAge": "x"},
     False),
    ({"NumericNotEquals": {"aws:MultiFactorAuthAge": "1"}}, {"aws:MultiFactorAuthAge": "x"}, False),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.0"}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": 1.5}}, {"s3:max-keys": "1.5"}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
     {"aws:CurrentTime": "2020-01-01T00:00:01Z"}, True),
    ({"DateLessThan": {"aws:CurrentTime": "2020-01-01"}},
     {"aws:CurrentTime": "2019-12-31T23:59:59Z"}, True),
    ({"DateEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}}, {"aws:EpochTime": "1577836800"},
     True),
    ({"DateNotEquals": {"aws:CurrentTime": "1577836800"}},
     {"aws:CurrentTime": "2020-01-01T01:00:00+01:00"}, False),
    ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"}, True),
    ({"Bool": {"aws:SecureTransport": "TRUE"}}, {"aws:SecureTransport": "true"}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}, {}, True),
    ({"BinaryEquals": {"tg:blob": "aGVsbG8="}}, {"tg:blob": "aGVsbG8="}, True),
    ({"BinaryEquals": {"tg:blob": "aGVsbG8="}}, {"tg:blob": "aGVsbG8"}, False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.9"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.9"}}, {"aws:SourceIp": "203.0.113.9"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.9"}}, {"aws:SourceIp": "203.0.113.8"}, False),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"}, True),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, {"aws:SourceIp": "2001:db8::1"}, False),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "192.0.2.1"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111111111111:trail/*"}},
     {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}},
     {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}, False),
    ({"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}},
     {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}, True),
    ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:user/alice"}},
     {}, True),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, {"aws:SourceArn": "garbage"}, False),
    ({"Null": {"sts:ExternalId": "true"}}, {}, True),
    ({"Null": {"sts:ExternalId": "false"}}, {}, False),
    ({"Null": {"sts:ExternalId": False}}, {"sts:ExternalId": "x"}, True),
    # set qualifiers
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ()}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ("a", "b")}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ("a", "c")},
     False),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ("c", "a")}, True),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ("a",)}, False),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ("a", "b")}, True),
    ({"ForAllValues:StringNotLike": {"aws:TagKeys": ["s*"]}}, {"aws:TagKeys": ("a", "sx")}, False),
    ({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["a"]}}, {}, True),
    # several keys and several operators AND
    ({"StringEquals": {"aws:username": "alice", "sts:ExternalId": "X"}}, {"sts:ExternalId": "X"},
     True),
    ({"StringEquals": {"aws:username": "alice"}, "Bool": {"aws:SecureTransport": "true"}}, {},
     False),
]
# fmt: on


@pytest.mark.parametrize(("condition", "context", "expected"), CONDITION_CASES)
def test_condition_operators(
    condition: dict[str, Any], context: dict[str, ContextValue], expected: bool
) -> None:
    ctx = principal_context(ALICE_CALLER)
    ctx.update(make_context(context))
    req = Request(ALICE_CALLER, "s3:GetObject", "*", ctx)
    assert allowed_by(allow("*", Condition=condition), req) is expected


def test_unknown_operator_is_refused() -> None:
    req = request(ALICE_CALLER, "s3:GetObject", "*")
    with pytest.raises(ValueError):
        allowed_by(allow("*", Condition={"StringEqualz": {"aws:username": "alice"}}), req)
    with pytest.raises(ValueError):
        allowed_by(allow("*", Condition={"NullIfExists": {"aws:username": "true"}}), req)


def test_not_principal_applies_to_everyone_else() -> None:
    deny_others = policy(
        "b",
        PolicyType.RESOURCE,
        {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "*", "Resource": "*"},
        allow("*", Principal="*"),
    )
    alice = request(ALICE_CALLER, "s3:GetObject", f"{BUCKET}/k", A)
    assert decide(alice, resource=deny_others).allowed
    bob = request(Caller.from_arn(BOB, unique_id=BOB_ID), "s3:GetObject", f"{BUCKET}/k", A)
    assert decide(bob, resource=deny_others).effect == "explicitDeny"
    anonymous = request(Caller.from_arn("anonymous"), "s3:GetObject", f"{BUCKET}/k", A)
    assert decide(anonymous, resource=deny_others).effect == "explicitDeny"


def test_statement_positions_point_at_the_braces() -> None:
    text = (
        '{"Version": "2012-10-17",\n'
        ' "Statement": [\n'
        '  {"Effect": "Deny", "Action": "*",\n'
        '   "Resource": "*"},\n'
        '  {"Effect": "Deny", "Action": "*", "Resource": "*"}]}'
    )
    doc = PolicyDoc("p", PolicyType.IDENTITY, text)
    decision = reference.evaluate(
        request(ALICE_CALLER, "s3:GetObject", "*"), PolicyInputs(identity=(doc,))
    )
    spans = [
        ((s.start.line, s.start.column), (s.end.line, s.end.column)) for s in decision.statements
    ]
    assert spans == [((3, 3), (4, 19)), ((5, 3), (5, 52))]
