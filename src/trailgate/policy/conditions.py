"""Condition operators: every operator family x (IfExists, ForAllValues, ForAnyValue) and Null.

A clause (one operator, one key, its values) compiles into a test ``ctx -> bool``.  Each family
provides a *positive* matcher "does this request value match any policy value"; negated
operators (``StringNotEquals``, ``NotIpAddress``, ...) invert it, which gives AWS's "matches none
of the values" rule for several values.

Rules (spec 1.5):
- key absent: positive operators false, negated true; ``...IfExists`` true; ``Null`` by value.
- ``ForAnyValue``: true if some request value matches; absent or empty set -> false.
- ``ForAllValues``: true if every request value matches; absent or empty set -> true.
- an unparseable request value (number, date, IP, base64) matches nothing.
- policy variables are substituted in String*, Arn* and Bool values (Version 2012-10-17 only);
  an unresolvable variable makes that value match nothing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .glob import (
    Matcher,
    TemplateMatcher,
    compile_arn_glob,
    compile_glob,
    parse_template,
)
from .model import ConditionClause

Context = Mapping[str, tuple[str, ...]]
Positive = Callable[[str, Context], bool]
Test = Callable[[Context], bool]


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed operator name."""

    qualifier: str | None  # "ForAnyValue" | "ForAllValues" | None
    base: str  # canonical base name, e.g. "StringLike", "Null"
    family: str
    negated: bool
    if_exists: bool


# base operator -> (family, negated)
BASE_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string_ic", False),
    "StringNotEqualsIgnoreCase": ("string_ic", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("num_eq", False),
    "NumericNotEquals": ("num_eq", True),
    "NumericLessThan": ("num_lt", False),
    "NumericLessThanEquals": ("num_le", False),
    "NumericGreaterThan": ("num_gt", False),
    "NumericGreaterThanEquals": ("num_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}

_BASE_BY_LOWER = {name.lower(): name for name in BASE_OPERATORS}
QUALIFIERS = ("ForAnyValue", "ForAllValues")
VARIABLE_FAMILIES = frozenset({"string", "string_ic", "string_like", "arn", "bool"})


def parse_operator(name: str) -> Operator | None:
    """Parse ``[ForAnyValue:|ForAllValues:]Base[IfExists]``; None if unknown."""
    qualifier: str | None = None
    rest = name
    if ":" in name:
        qual, _, rest = name.partition(":")
        matched = [q for q in QUALIFIERS if q.lower() == qual.lower()]
        if not matched:
            return None
        qualifier = matched[0]
    if_exists = False
    base = _BASE_BY_LOWER.get(rest.lower())
    if base is None and rest.lower().endswith("ifexists"):
        base = _BASE_BY_LOWER.get(rest[: -len("ifexists")].lower())
        if_exists = True
    if base is None or (base == "Null" and (if_exists or qualifier)):
        return None
    family, negated = BASE_OPERATORS[base]
    return Operator(qualifier, base, family, negated, if_exists)


# --------------------------------------------------------------------------------------------
# Value parsing
# --------------------------------------------------------------------------------------------


def parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def parse_date(text: str) -> float | None:
    """ISO-8601 date/time (``2020-01-01``, ``2020-01-01T00:00:01Z``, with offsets and fractions)
    or epoch seconds -> epoch seconds."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit() and all(c.isdigit() or c == "." for c in text) and "-" not in text:
        return parse_number(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def malformed_ip(operator: str, values: tuple[str, ...]) -> bool:
    """Whether a clause of an IP operator (``IpAddress``, ``NotIpAddress``, any qualifier or
    ``IfExists``) holds a value that is neither an IP address nor a CIDR block."""
    op = parse_operator(operator)
    return op is not None and op.family == "ip" and any(parse_network(v) is None for v in values)


# --------------------------------------------------------------------------------------------
# Positive matchers per family
# --------------------------------------------------------------------------------------------


def _string_family(family: str, values: tuple[str, ...], variables: bool) -> Positive:
    ignore_case = family == "string_ic"
    like = family == "string_like"
    plain: list[str] = []
    templates: list[TemplateMatcher] = []
    for value in values:
        template = parse_template(value) if variables else None
        if template is None:
            plain.append(value)
        else:
            templates.append(TemplateMatcher(template, arn=False, ignore_case=ignore_case))
    if like:
        matchers: list[Matcher] = [compile_glob(v) for v in plain]
        if not templates:
            if len(matchers) == 1:
                only = matchers[0]
                return lambda v, _ctx: only(v)
            return lambda v, _ctx: any(m(v) for m in matchers)

        def like_test(v: str, ctx: Context) -> bool:
            if any(m(v) for m in matchers):
                return True
            for t in templates:
                m = t.matcher(ctx)
                if m is not None and m(v):
                    return True
            return False

        return like_test

    exact = frozenset(p.lower() for p in plain) if ignore_case else frozenset(plain)
    if not templates:
        if ignore_case:
            return lambda v, _ctx: v.lower() in exact
        return lambda v, _ctx: v in exact

    def eq_test(v: str, ctx: Context) -> bool:
        subject = v.lower() if ignore_case else v
        if subject in exact:
            return True
        for t in templates:
            text = t.template.render_text(ctx)
            if text is not None and (text.lower() if ignore_case else text) == subject:
                return True
        return False

    return eq_test


def _compare_family(family: str, values: tuple[str, ...]) -> Positive:
    parse = parse_date if family.startswith("date") else parse_number
    numbers = [n for n in (parse(v) for v in values) if n is not None]
    kind = family.split("_", 1)[1]
    if not numbers:
        return lambda _v, _ctx: False
    if kind == "eq":
        wanted = frozenset(numbers)

        def eq(v: str, _ctx: Context) -> bool:
            n = parse(v)
            return n is not None and n in wanted

        return eq
    # For OR over several values only the loosest bound matters.
    bound = max(numbers) if kind in ("lt", "le") else min(numbers)

    def cmp(v: str, _ctx: Context) -> bool:
        n = parse(v)
        if n is None:
            return False
        if kind == "lt":
            return n < bound
        if kind == "le":
            return n <= bound
        if kind == "gt":
            return n > bound
        return n >= bound

    return cmp


def _bool_family(values: tuple[str, ...], variables: bool) -> Positive:
    plain: set[str] = set()
    templates = []
    for value in values:
        template = parse_template(value) if variables else None
        if template is None:
            plain.add(value.lower())
        else:
            templates.append(template)
    if not templates:
        frozen = frozenset(plain)
        return lambda v, _ctx: v.lower() in frozen

    def test(v: str, ctx: Context) -> bool:
        subject = v.lower()
        if subject in plain:
            return True
        for t in templates:
            text = t.render_text(ctx)
            if text is not None and text.lower() == subject:
                return True
        return False

    return test


def _binary_family(values: tuple[str, ...]) -> Positive:
    wanted = frozenset(b for b in (parse_binary(v) for v in values) if b is not None)

    def test(v: str, _ctx: Context) -> bool:
        data = parse_binary(v)
        return data is not None and data in wanted

    return test


def _ip_family(values: tuple[str, ...]) -> Positive:
    networks = [n for n in (parse_network(v) for v in values) if n is not None]

    def test(v: str, _ctx: Context) -> bool:
        try:
            addr = ipaddress.ip_address(v.strip())
        except ValueError:
            return False
        return any(addr.version == net.version and addr in net for net in networks)

    return test


def _arn_family(values: tuple[str, ...], variables: bool) -> Positive:
    matchers: list[Matcher] = []
    templates: list[TemplateMatcher] = []
    for value in values:
        template = parse_template(value) if variables else None
        if template is None:
            matchers.append(compile_arn_glob(value))
        else:
            templates.append(TemplateMatcher(template, arn=True))

    def test(v: str, ctx: Context) -> bool:
        if any(m(v) for m in matchers):
            return True
        for t in templates:
            m = t.matcher(ctx)
            if m is not None and m(v):
                return True
        return False

    return test


def positive_matcher(family: str, values: tuple[str, ...], variables: bool) -> Positive:
    if family in ("string", "string_ic", "string_like"):
        return _string_family(family, values, variables)
    if family.startswith("num_") or family.startswith("date_"):
        return _compare_family(family, values)
    if family == "bool":
        return _bool_family(values, variables)
    if family == "binary":
        return _binary_family(values)
    if family == "ip":
        return _ip_family(values)
    if family == "arn":
        return _arn_family(values, variables)
    raise ValueError(f"unknown operator family {family}")


# --------------------------------------------------------------------------------------------
# Clauses
# --------------------------------------------------------------------------------------------


def _null_test(key: str, values: tuple[str, ...]) -> Test:
    want_absent = any(v.lower() == "true" for v in values)
    want_present = any(v.lower() == "false" for v in values)

    def test(ctx: Context) -> bool:
        found = ctx.get(key)
        absent = found is None or len(found) == 0
        return (want_absent and absent) or (want_present and not absent)

    return test


def compile_clause(clause: ConditionClause, variables: bool) -> Test:
    """Compile one clause.  Unknown operators (rejected by validation) never match."""
    op = parse_operator(clause.operator)
    key = clause.key.lower()
    if op is None:
        return lambda _ctx: False
    if op.family == "null":
        return _null_test(key, clause.values)
    pos = positive_matcher(op.family, clause.values, variables)
    negated = op.negated
    if op.qualifier == "ForAnyValue":
        if_exists = op.if_exists

        def any_value(ctx: Context) -> bool:
            found = ctx.get(key)
            if found is None:
                return if_exists
            return any(pos(v, ctx) != negated for v in found)

        return any_value
    if op.qualifier == "ForAllValues":

        def all_values(ctx: Context) -> bool:
            found = ctx.get(key)
            if not found:
                return True
            return all(pos(v, ctx) != negated for v in found)

        return all_values
    absent_result = op.if_exists or negated

    def single(ctx: Context) -> bool:
        found = ctx.get(key)
        if found is None:
            return absent_result
        if len(found) == 1:
            return pos(found[0], ctx) != negated
        hit = any(pos(v, ctx) for v in found)
        return hit != negated

    return single


def compile_conditions(clauses: tuple[ConditionClause, ...], variables: bool) -> Test | None:
    """All clauses AND-ed; None when there are none."""
    if not clauses:
        return None
    tests = [compile_clause(c, variables) for c in clauses]
    if len(tests) == 1:
        return tests[0]
    return lambda ctx: all(t(ctx) for t in tests)
