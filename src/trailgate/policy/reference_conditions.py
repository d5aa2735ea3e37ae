"""``Condition`` blocks for the naive reference evaluator (:mod:`trailgate.policy.reference`):
operator names (negation, ``IfExists``, set qualifiers), value parsing per operator family and
the test of one statement's conditions against the request context."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from trailgate.policy.model import Context
from trailgate.policy.reference_documents import Statement, as_list
from trailgate.policy.reference_patterns import (
    arn_match,
    arn_segments,
    glob,
    pattern_tokens,
    substitute,
)

_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_VARIABLE_FAMILIES = ("String", "Arn", "Bool")


def _number(text: str) -> Decimal | None:
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _date(text: str) -> datetime | None:
    """ISO-8601 date/date-time (naive = UTC) or epoch seconds."""
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _bytes(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


_PairTest = Callable[[str, str], bool]


def _compare(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> _PairTest:
    def pair(request_value: str, policy_value: str) -> bool:
        left, right = parse(request_value), parse(policy_value)
        return left is not None and right is not None and bool(test(left, right))

    return pair


# Positive base operator -> test of one (request value, policy value) pair.  Policy values are
# already substituted for the String/Bool families; Like/Arn operators get the raw policy text
# and substitute themselves (so that substituted text stays literal).
_SIMPLE_TESTS: dict[str, _PairTest] = {
    "StringEquals": lambda r, p: r == p,
    "StringEqualsIgnoreCase": lambda r, p: r.casefold() == p.casefold(),
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
    "Bool": lambda r, p: r.lower() == p.lower(),
    "BinaryEquals": _compare(_bytes, lambda a, b: a == b),
    "IpAddress": lambda r, p: _ip_in(r, p),
}

# Whether a request value is usable at all for an operator family (else it fails either way).
_REQUEST_PARSERS: dict[str, Callable[[str], Any]] = {
    "Numeric": _number,
    "Date": _date,
    "Binary": _bytes,
    "IpAddress": _ip,
    "Arn": lambda v: v if len(arn_segments(v)) == 6 else None,
}


def _ip_in(request_value: str, policy_value: str) -> bool:
    address, network = _ip(request_value), _network(policy_value)
    if address is None or network is None or address.version != network.version:
        return False
    return address in network


@dataclass(frozen=True)
class _Operator:
    base: str  # positive base operator, e.g. "StringLike" for "ForAllValues:StringNotLikeIfExists"
    negated: bool
    if_exists: bool
    qualifier: Literal["", "ForAllValues", "ForAnyValue"]


def _parse_operator(name: str) -> _Operator:
    qualifier: Literal["", "ForAllValues", "ForAnyValue"] = ""
    rest = name
    if name.startswith("ForAllValues:"):
        qualifier, rest = "ForAllValues", name[len("ForAllValues:") :]
    elif name.startswith("ForAnyValue:"):
        qualifier, rest = "ForAnyValue", name[len("ForAnyValue:") :]
    if_exists = rest.endswith("IfExists")
    if if_exists:
        rest = rest[: -len("IfExists")]
    if rest == "Null":
        if if_exists or qualifier:
            raise ValueError(f"unknown condition operator {name!r}")
        return _Operator("Null", False, False, "")
    negated = rest in _NEGATED
    base = _NEGATED.get(rest, rest)
    if base not in _SIMPLE_TESTS and base not in ("StringLike", "ArnEquals", "ArnLike"):
        raise ValueError(f"unknown condition operator {name!r}")
    return _Operator(base, negated, if_exists, qualifier)


def _family(base: str) -> str:
    for family in ("String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn"):
        if base.startswith(family):
            return family
    raise AssertionError(base)


def _pair_matches(
    base: str, request_value: str, policy_value: str, stmt: Statement, context: Context
) -> bool:
    """Positive operator ``base`` on one pair; unresolvable policy variables never match."""
    variables = stmt.variables and _family(base) in _VARIABLE_FAMILIES
    if base == "StringLike":
        tokens = pattern_tokens(policy_value, variables, context)
        return tokens is not None and glob(tokens, request_value)
    if base in ("ArnEquals", "ArnLike"):
        return arn_match(policy_value, request_value, variables, context, range(6))
    value = substitute(policy_value, variables, context)
    return value is not None and _SIMPLE_TESTS[base](request_value, value)


def _condition_value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # numbers are already their JSON text (parse_int/parse_float)
        return value
    raise ValueError(f"bad condition value {value!r}")


def _clause_holds(
    operator_name: str, key: str, raw_values: Any, stmt: Statement, context: Context
) -> bool:
    """One ``operator: {key: values}`` entry."""
    op = _parse_operator(operator_name)
    policy_values = [_condition_value_text(v) for v in as_list(raw_values)]
    request_values = context.get(key.lower(), ())
    present = len(request_values) > 0  # an empty multi-valued key counts as absent

    if op.base == "Null":
        wanted = {v.lower() for v in policy_values}
        return ("true" in wanted and not present) or ("false" in wanted and present)
    if not present and op.if_exists:
        return True

    parser = _REQUEST_PARSERS.get(_family(op.base))

    def value_ok(request_value: str) -> bool:
        """Does one request value satisfy the (possibly negated) operator?"""
        if parser is not None and parser(request_value) is None:
            return False  # unparseable request value: the comparison is false
        hit = any(_pair_matches(op.base, request_value, p, stmt, context) for p in policy_values)
        return not hit if op.negated else hit

    if op.qualifier == "ForAllValues":
        return all(value_ok(r) for r in request_values)  # empty/absent: vacuously true
    if op.qualifier == "ForAnyValue":
        return any(value_ok(r) for r in request_values)  # empty/absent: false
    if op.negated:
        return all(value_ok(r) for r in request_values)  # absent: true (matches none)
    return any(value_ok(r) for r in request_values)  # absent: false


def conditions_hold(stmt: Statement, context: Context) -> bool:
    block = stmt.raw.get("Condition", {})
    if not isinstance(block, dict):
        raise ValueError(f"{stmt.doc.policy_id}: Condition must be an object")
    for operator_name, entries in block.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{stmt.doc.policy_id}: {operator_name} must map keys to values")
        for key, values in entries.items():
            if not _clause_holds(operator_name, key, values, stmt, context):
                return False
    return True
