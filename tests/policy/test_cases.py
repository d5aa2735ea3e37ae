"""Table-driven decision cases for the policy engine (``tests/policy/cases/*.yaml``).

Every case names a caller, the policies that apply (as YAML mappings, turned into JSON text),
one request and the expected decision.  Expectations were written from the AWS behavioural
reference (``shared/spec/aws-semantics.md`` sections 1, 2 and 10), never copied from an engine.

The same cases run through the optimised engine (``trailgate.policy.evaluate``: decision,
reason and deciding statements) and the naive one (``trailgate.policy.reference``: decision
and reason).  Each module is imported with ``pytest.importorskip`` so the table can be loaded
and checked before either exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from trailgate.policy.model import (
    Caller,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)

CASES_DIR = Path(__file__).parent / "cases"
MIN_CASES = 200

DECISIONS = {"allowed", "explicitDeny", "implicitDeny"}
REASONS = {
    "",
    "explicit-deny",
    "scp",
    "no-identity-allow",
    "boundary",
    "session-policy",
    "no-resource-allow",
}
CASE_KEYS = {"name", "doc", "caller", "policies", "request", "expect"}
CALLER_KEYS = {"arn", "unique_id", "role_arn"}
POLICY_KEYS = {"identity", "resource", "trust", "boundary", "session", "scps"}
REQUEST_KEYS = {"action", "resource", "resource_account", "context"}
EXPECT_KEYS = {"decision", "reason", "statements"}
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Case:
    """One loaded case, with the file it came from (for messages)."""

    file: str
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def expect(self) -> Mapping[str, Any]:
        return self.raw["expect"]  # type: ignore[no-any-return]


def _load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data is None:
            continue
        if not isinstance(data, list):
            raise ValueError(f"{path.name}: top level must be a list of cases")
        for item in data:
            if not isinstance(item, dict):
                raise ValueError(f"{path.name}: every case must be a mapping, got {item!r}")
            cases.append(Case(file=path.name, raw=item))
    return cases


CASES = _load_cases()


# --------------------------------------------------------------------------------------------
# Building model objects from a case
# --------------------------------------------------------------------------------------------


def _as_str(value: Any) -> str:
    """Context values as AWS sends them: strings (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"unsupported context value {value!r}")


def _context_values(raw: Mapping[str, Any]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, value in raw.items():
        out[key] = [_as_str(v) for v in value] if isinstance(value, list) else _as_str(value)
    return out


def build_caller(case: Case) -> Caller:
    raw = case.raw["caller"]
    return Caller.from_arn(raw["arn"], unique_id=raw.get("unique_id"), role_arn=raw.get("role_arn"))


def _doc(policy_id: str, policy_type: PolicyType, body: Any) -> PolicyDoc:
    return PolicyDoc(policy_id=policy_id, policy_type=policy_type, text=json.dumps(body))


def _single(raw: Mapping[str, Any], key: str, policy_type: PolicyType) -> PolicyDoc | None:
    block = raw.get(key)
    if block is None:
        return None
    ((policy_id, body),) = block.items()
    return _doc(str(policy_id), policy_type, body)


def build_inputs(case: Case) -> PolicyInputs:
    raw = case.raw.get("policies") or {}
    identity = tuple(
        _doc(str(pid), PolicyType.IDENTITY, body)
        for pid, body in (raw.get("identity") or {}).items()
    )
    resource = _single(raw, "resource", PolicyType.RESOURCE) or _single(
        raw, "trust", PolicyType.TRUST
    )
    boundary = _single(raw, "boundary", PolicyType.BOUNDARY)
    session: tuple[PolicyDoc, ...] | None = None
    if "session" in raw:
        session = tuple(
            _doc(str(pid), PolicyType.SESSION, body) for pid, body in (raw["session"] or {}).items()
        )
    scps = tuple(
        tuple(_doc(str(pid), PolicyType.SCP, body) for pid, body in level.items())
        for level in raw.get("scps") or []
    )
    return PolicyInputs(
        identity=identity, resource=resource, boundary=boundary, session=session, scps=scps
    )


def build_request(case: Case) -> Request:
    caller = build_caller(case)
    raw = case.raw["request"]
    context = principal_context(caller)
    context.update(make_context(_context_values(raw.get("context") or {})))
    account = raw.get("resource_account")
    return Request(
        caller=caller,
        action=raw["action"],
        resource=raw["resource"],
        context=context,
        resource_account=None if account is None else str(account),
    )


# --------------------------------------------------------------------------------------------
# The table itself is checked first, without any engine
# --------------------------------------------------------------------------------------------


def _policy_sizes(case: Case) -> dict[str, int]:
    """policy id -> number of statements, for every policy of a case."""
    raw = case.raw.get("policies") or {}
    sizes: dict[str, int] = {}

    def add(pid: Any, body: Any) -> None:
        assert str(pid) not in sizes, f"{case.name}: policy id {pid!r} used twice"
        statements = body.get("Statement", []) if isinstance(body, dict) else []
        sizes[str(pid)] = len(statements) if isinstance(statements, list) else 1

    for key in ("identity", "session"):
        for pid, body in (raw.get(key) or {}).items():
            add(pid, body)
    for key in ("resource", "trust", "boundary"):
        block = raw.get(key)
        if block is not None:
            assert isinstance(block, dict) and len(block) == 1, f"{case.name}: one {key} policy"
            for pid, body in block.items():
                add(pid, body)
    for level in raw.get("scps") or []:
        assert isinstance(level, dict) and level, f"{case.name}: an SCP level is a mapping"
        for pid, body in level.items():
            add(pid, body)
    return sizes


def test_case_count() -> None:
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} cases"


def test_case_names_unique() -> None:
    seen: dict[str, str] = {}
    for case in CASES:
        assert case.name not in seen, f"{case.name} in {case.file} and {seen[case.name]}"
        seen[case.name] = case.file


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_well_formed(case: Case) -> None:
    raw = case.raw
    assert set(raw) <= CASE_KEYS, f"unknown keys {set(raw) - CASE_KEYS}"
    assert {"name", "doc", "caller", "request", "expect"} <= set(raw)
    assert NAME_RE.match(case.name), "names are kebab-case"
    assert set(raw["caller"]) <= CALLER_KEYS
    policies = raw.get("policies") or {}
    assert set(policies) <= POLICY_KEYS, f"unknown policy keys {set(policies) - POLICY_KEYS}"
    assert not ("resource" in policies and "trust" in policies), "resource OR trust"
    assert set(raw["request"]) <= REQUEST_KEYS
    account = raw["request"].get("resource_account")
    assert account is None or isinstance(account, str), "quote account ids"
    expect = raw["expect"]
    assert set(expect) <= EXPECT_KEYS
    assert expect["decision"] in DECISIONS
    if "reason" in expect:
        assert expect["reason"] in REASONS
        assert (expect["reason"] == "") == (expect["decision"] == "allowed")
        if expect["decision"] == "explicitDeny":
            assert expect["reason"] == "explicit-deny"
    sizes = _policy_sizes(case)
    if "statements" in expect:
        if expect["decision"] == "implicitDeny":
            assert expect["statements"] == []
        else:
            assert expect["statements"], "an allow or explicit deny has deciding statements"
        for ref in expect["statements"]:
            pid, _, index = ref.rpartition("#")
            assert pid in sizes, f"{ref}: no policy {pid!r}"
            assert 0 <= int(index) < sizes[pid], f"{ref}: no statement {index}"
    # Every object must build; this also checks the policies are JSON-serialisable.
    build_inputs(case)
    build_request(case)


# --------------------------------------------------------------------------------------------
# The engines
# --------------------------------------------------------------------------------------------


def _statement_refs(decision: Any) -> list[str]:
    return [f"{m.policy_id}#{m.index}" for m in decision.statements]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine(case: Case) -> None:
    engine = pytest.importorskip("trailgate.policy.evaluate")
    request = build_request(case)
    decision = engine.evaluate(request, engine.PolicySet.from_inputs(build_inputs(case)))
    expect = case.expect
    got = {"decision": decision.effect, "reason": decision.reason}
    want = {"decision": expect["decision"], "reason": expect.get("reason", decision.reason)}
    if "statements" in expect:
        got["statements"] = _statement_refs(decision)
        want["statements"] = list(expect["statements"])
    assert got == want, f"{case.file}: {case.raw['doc']}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference(case: Case) -> None:
    reference = pytest.importorskip("trailgate.policy.reference")
    decision = reference.evaluate(build_request(case), build_inputs(case))
    expect = case.expect
    got = {"decision": decision.effect, "reason": decision.reason}
    want = {"decision": expect["decision"], "reason": expect.get("reason", decision.reason)}
    assert got == want, f"{case.file}: {case.raw['doc']}"


# --------------------------------------------------------------------------------------------
# Coverage of the operator table of spec 1.5
# --------------------------------------------------------------------------------------------

BASE_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    "Null",
}  # fmt: skip
IF_EXISTS_FAMILY_SAMPLES = {
    "StringEqualsIfExists", "StringNotEqualsIfExists", "StringLikeIfExists",
    "NumericLessThanIfExists", "DateGreaterThanIfExists", "BoolIfExists",
    "BinaryEqualsIfExists", "IpAddressIfExists", "ArnLikeIfExists",
}  # fmt: skip
SET_QUALIFIED_SAMPLES = {
    "ForAnyValue:StringEquals", "ForAllValues:StringEquals", "ForAnyValue:StringLike",
    "ForAllValues:StringLike", "ForAnyValue:StringNotEquals", "ForAllValues:StringNotEquals",
}  # fmt: skip


def _operators_used() -> set[str]:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Condition" and isinstance(value, dict):
                    used.update(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for case in CASES:
        walk(case.raw.get("policies"))
    return used


def test_every_operator_is_covered() -> None:
    used = _operators_used()
    wanted = BASE_OPERATORS | IF_EXISTS_FAMILY_SAMPLES | SET_QUALIFIED_SAMPLES
    assert wanted <= used, f"operators without a case: {sorted(wanted - used)}"
