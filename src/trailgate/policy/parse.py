"""Policy JSON text -> :class:`~trailgate.policy.model.Policy`, keeping statement positions.

The stdlib ``json`` module reports no positions, so a small scanner of our own reads the text
into nodes that remember their offsets (strings are decoded with ``json.decoder.scanstring``,
numbers with one fixed pattern: no regular expression is ever built from the text).  The nodes
are then normalised into the model (string-or-list -> tuple, ``Principal`` forms, condition
values -> strings) and :func:`trailgate.policy.validate.validate_policy` checks the grammar.

Every refusal is a :class:`~trailgate.policy.model.MalformedPolicyError` carrying AWS's message
for the flavor: ``"iam"`` (IAM and STS documents, ``MalformedPolicyDocument``) or ``"s3"``
(bucket policies, ``MalformedPolicy``).
"""

from __future__ import annotations

import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from json.decoder import JSONDecodeError
from typing import Literal, cast

from trailgate.policy.model import (
    ConditionClause,
    Effect,
    MalformedPolicyError,
    Policy,
    PolicyType,
    Position,
    PrincipalSpec,
    Statement,
)
from trailgate.policy.validate import validate_policy
from trailgate.policy.wording import Flavor, Wording, fail, wording

__all__ = ["parse_json", "parse_policy"]

# --------------------------------------------------------------------------------------------
# JSON with offsets
# --------------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]  # C-accelerated, not in the stubs
_MAX_DEPTH = 32  # policies nest 4 deep; a bound keeps hostile input from exhausting the stack


@dataclass(slots=True)
class JScalar:
    """A string, number, ``true``, ``false`` or ``null``.  ``text`` is the decoded string for
    strings and the literal JSON text otherwise."""

    kind: Literal["string", "number", "true", "false", "null"]
    text: str
    start: int


@dataclass(slots=True)
class JArray:
    items: list[JNode]
    start: int


@dataclass(slots=True)
class JObject:
    """An object; ``members`` keep the order written and duplicates (checked by the caller)."""

    members: list[tuple[str, JNode]]
    start: int
    end: int = -1
    keys: set[str] = field(default_factory=set)
    duplicate: bool = False


JNode = JScalar | JArray | JObject


class _Invalid(Exception):
    """Not JSON."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        if self.text[self.pos : self.pos + 1] in _WS_CHARS:  # "" (end) is in it too: harmless
            match = _WS.match(self.text, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()

    def value(self, depth: int) -> JNode:
        if depth > _MAX_DEPTH:
            raise _Invalid
        self.skip()
        text, pos = self.text, self.pos
        ch = text[pos : pos + 1]
        if ch == "{":
            return self.obj(depth)
        if ch == "[":
            return self.array(depth)
        if ch == '"':
            return JScalar("string", self.string(), pos)
        for literal in ("true", "false", "null"):
            if text.startswith(literal, pos):
                self.pos = pos + len(literal)
                return JScalar(literal, literal, pos)
        match = _NUMBER.match(text, pos)
        if match is None or match.end() == pos:
            raise _Invalid
        self.pos = match.end()
        return JScalar("number", match.group(), pos)

    def string(self) -> str:
        try:
            value, self.pos = _scanstring(self.text, self.pos + 1, True)
        except JSONDecodeError as exc:
            raise _Invalid from exc
        return value

    def obj(self, depth: int) -> JObject:
        node = JObject([], self.pos)
        self.pos += 1
        self.skip()
        if self.text.startswith("}", self.pos):
            node.end = self.pos
            self.pos += 1
            return node
        while True:
            self.skip()
            if not self.text.startswith('"', self.pos):
                raise _Invalid
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise _Invalid
            self.pos += 1
            if key in node.keys:
                node.duplicate = True
            node.keys.add(key)
            node.members.append((key, self.value(depth + 1)))
            self.skip()
            ch = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if ch == "}":
                node.end = self.pos - 1
                return node
            if ch != ",":
                raise _Invalid

    def array(self, depth: int) -> JArray:
        node = JArray([], self.pos)
        self.pos += 1
        self.skip()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return node
        while True:
            node.items.append(self.value(depth + 1))
            self.skip()
            ch = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if ch == "]":
                return node
            if ch != ",":
                raise _Invalid


def parse_json(text: str) -> JNode:
    """Read one JSON value (nothing but whitespace may follow).  Raises ``ValueError``."""
    scanner = _Scanner(text)
    try:
        node = scanner.value(0)
        scanner.skip()
    except _Invalid:
        raise ValueError("not valid JSON") from None
    if scanner.pos != len(text):
        raise ValueError("not valid JSON")
    return node


class _Lines:
    """Offset -> 1-based (line, column); line breaks are LF (a CR before it ends the line)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def position(self, offset: int) -> Position:
        text = self.text
        line_start = text.rfind("\n", 0, offset) + 1
        return Position(text.count("\n", 0, line_start) + 1, offset - line_start + 1)


# --------------------------------------------------------------------------------------------
# Nodes -> model
# --------------------------------------------------------------------------------------------

_TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_KEYS = {
    "AWS": "aws",
    "Service": "service",
    "Federated": "federated",
    "CanonicalUser": "canonical_user",
}
_PAIRS = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))


def _names_nobody(node: JNode | None) -> bool:
    """Whether a ``Principal`` map lists no one: no members, or only known principal types
    whose value is an empty array (``{"AWS": [], "Service": []}``)."""
    if not isinstance(node, JObject) or node.duplicate:
        return False
    return all(
        key in _PRINCIPAL_KEYS and isinstance(value, JArray) and not value.items
        for key, value in node.members
    )


class _Builder:
    def __init__(self, text: str, policy_type: PolicyType, flavor: Flavor) -> None:
        self.lines = _Lines(text)
        self.policy_type = policy_type
        self.flavor = flavor
        self.w: Wording = wording(flavor)

    def syntax(self) -> MalformedPolicyError:
        return fail(self.w.syntax)

    def policy(self, root: JNode) -> Policy:
        w = self.w
        if not isinstance(root, JObject):
            raise fail(w.not_json)
        if root.duplicate:
            raise self.syntax()
        for key, _ in root.members:
            if key not in _TOP_ELEMENTS:
                raise fail(w.unknown_field, name=key)
        members = dict(root.members)
        version = self.optional_string(members.get("Version"))
        if version is not None and version not in ("2012-10-17", "2008-10-17"):
            raise fail(w.invalid_version)
        policy_id = self.optional_string(members.get("Id"))
        node = members.get("Statement")
        if node is None:
            raise fail(w.missing_statement)
        if isinstance(node, JObject):
            items: list[JNode] = [node]
        elif isinstance(node, JArray):
            items = node.items
        else:
            raise self.syntax()
        if not items:
            raise fail(w.empty_statement)
        statements = tuple(self.statement(i, item) for i, item in enumerate(items))
        return Policy(version=version, id=policy_id, statements=statements)

    def optional_string(self, node: JNode | None) -> str | None:
        if node is None:
            return None
        if not isinstance(node, JScalar) or node.kind != "string":
            raise self.syntax()
        return node.text

    def statement(self, index: int, node: JNode) -> Statement:
        w = self.w
        if not isinstance(node, JObject):
            raise self.syntax()
        if node.duplicate:
            raise self.syntax()
        for key, _ in node.members:
            if key not in _STATEMENT_ELEMENTS:
                raise fail(w.unknown_field, name=key)
        members = dict(node.members)
        for first, second in _PAIRS:
            if first in members and second in members:
                raise self.syntax()
        effect_node = members.get("Effect")
        if effect_node is None:
            raise fail(w.missing_effect)
        effect = self.optional_string(effect_node)
        assert effect is not None
        if effect.lower() not in ("allow", "deny"):
            raise fail(w.invalid_effect, effect=effect)
        if self.policy_type is PolicyType.TRUST and _names_nobody(members.get("Principal")):
            raise fail(w.no_principals)
        return Statement(
            index=index,
            sid=self.optional_string(members.get("Sid")),
            effect=cast(Effect, effect),  # the exact case is checked by validate_policy
            principal=self.principal(members.get("Principal")),
            not_principal=self.principal(members.get("NotPrincipal")),
            action=self.strings(members.get("Action")),
            not_action=self.strings(members.get("NotAction")),
            resource=self.strings(members.get("Resource")),
            not_resource=self.strings(members.get("NotResource")),
            conditions=self.conditions(members.get("Condition")),
            start=self.lines.position(node.start),
            end=self.lines.position(node.end),
        )

    def strings(self, node: JNode | None) -> tuple[str, ...] | None:
        """A string or an array of strings."""
        if node is None:
            return None
        if isinstance(node, JScalar) and node.kind == "string":
            return (node.text,)
        if isinstance(node, JArray):
            out: list[str] = []
            for item in node.items:
                if not isinstance(item, JScalar) or item.kind != "string":
                    raise self.syntax()
                out.append(item.text)
            return tuple(out)
        raise self.syntax()

    def principal(self, node: JNode | None) -> PrincipalSpec | None:
        if node is None:
            return None
        if isinstance(node, JScalar) and node.kind == "string":
            if node.text == "*":
                return PrincipalSpec(wildcard=True)
            raise self.syntax()  # UNSURE: only "*" may stand without a map
        if not isinstance(node, JObject) or node.duplicate:
            raise self.syntax()
        values: dict[str, tuple[str, ...]] = {}
        for key, value in node.members:
            name = _PRINCIPAL_KEYS.get(key)
            entries = self.strings(value)
            assert entries is not None
            if name is None:
                first = entries[0] if entries else ""
                raise fail(self.w.principal_invalid, key=key, value=first)  # UNSURE
            if not entries:
                raise fail(self.w.principal_invalid, key=key.upper(), value="")  # UNSURE
            values[name] = entries
        aws = values.get("aws", ())
        wildcard = "*" in aws
        if wildcard:
            aws = tuple(a for a in aws if a != "*")
        return PrincipalSpec(
            wildcard=wildcard,
            aws=aws,
            service=values.get("service", ()),
            federated=values.get("federated", ()),
            canonical_user=values.get("canonical_user", ()),
        )

    def conditions(self, node: JNode | None) -> tuple[ConditionClause, ...]:
        if node is None:
            return ()
        if not isinstance(node, JObject) or node.duplicate:
            raise self.syntax()
        clauses: list[ConditionClause] = []
        for operator, block in node.members:
            if not isinstance(block, JObject) or block.duplicate:
                raise self.syntax()
            for key, value in block.members:
                clauses.append(ConditionClause(operator, key, self.condition_values(value)))
        return tuple(clauses)

    def condition_values(self, node: JNode) -> tuple[str, ...]:
        if isinstance(node, JScalar):
            return (self.condition_value(node),)
        if isinstance(node, JArray):
            out: list[str] = []
            for item in node.items:
                if not isinstance(item, JScalar):
                    raise self.syntax()
                out.append(self.condition_value(item))
            return tuple(out)
        raise self.syntax()

    def condition_value(self, node: JScalar) -> str:
        if node.kind == "null":
            raise self.syntax()
        return node.text


def parse_policy(
    text: str,
    policy_type: PolicyType,
    *,
    flavor: Literal["iam", "s3"] = "iam",
    managed: bool = False,
) -> Policy:
    """Parse and validate one policy document.

    ``policy_type`` decides which elements are required or forbidden (spec 1.1, 3.4);
    ``flavor`` picks the service's wording and S3's looser ``Sid`` rule.  Statement positions
    are the 1-based line/column of each statement's ``{`` and ``}``.  An SCP statement without
    ``Resource``/``NotResource`` gets ``Resource: ["*"]``.  ``managed`` (CreatePolicy,
    CreatePolicyVersion) requires ``Version`` 2012-10-17, checked where IAM checks it.

    Raises :class:`MalformedPolicyError` with AWS's message for any invalid document.
    """
    w = wording(flavor)
    if flavor == "s3" and not text.startswith("{"):
        raise fail(w.not_json)
    try:
        root = parse_json(text)
    except ValueError:
        raise fail(w.invalid_json) from None
    policy = _Builder(text, policy_type, flavor).policy(root)
    validate_policy(policy, policy_type, flavor, managed=managed)
    if policy_type is PolicyType.SCP:
        policy = _default_scp_resources(policy)
    return policy


def _default_scp_resources(policy: Policy) -> Policy:
    statements = tuple(
        replace(s, resource=("*",)) if s.resource is None and s.not_resource is None else s
        for s in policy.statements
    )
    return replace(policy, statements=statements)
