"""Policy documents as the naive reference evaluator (:mod:`trailgate.policy.reference`) sees
them: the raw ``json.loads`` form of each statement, with the positions of its braces in the
text found by a small scanner of its own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trailgate.policy.model import MatchedStatement, PolicyDoc, Position


@dataclass(frozen=True)
class Statement:
    doc: PolicyDoc
    variables: bool  # Version == 2012-10-17
    index: int
    raw: dict[str, Any]
    start: Position
    end: Position

    @property
    def effect(self) -> str:
        effect = self.raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"{self.doc.policy_id}: bad Effect {effect!r}")
        return str(effect)

    def matched(self) -> MatchedStatement:
        sid = self.raw.get("Sid")
        return MatchedStatement(
            policy_id=self.doc.policy_id,
            policy_type=self.doc.policy_type,
            index=self.index,
            sid=sid if isinstance(sid, str) else None,
            start=self.start,
            end=self.end,
        )


def load(doc: PolicyDoc) -> list[Statement]:
    """json.loads the document (numbers kept as their JSON text) and list its statements."""
    data = json.loads(doc.text, parse_int=str, parse_float=str)
    if not isinstance(data, dict):
        raise ValueError(f"{doc.policy_id}: a policy must be a JSON object")
    raw_statements = data.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise ValueError(f"{doc.policy_id}: missing Statement")
    spans = _statement_spans(doc.text)
    if len(spans) != len(raw_statements):
        raise ValueError(f"{doc.policy_id}: could not locate the statements in the text")
    out: list[Statement] = []
    for index, (raw, (start, end)) in enumerate(zip(raw_statements, spans, strict=True)):
        if not isinstance(raw, dict):
            raise ValueError(f"{doc.policy_id}: statement {index} is not an object")
        variables = data.get("Version") == "2012-10-17"
        out.append(Statement(doc, variables, index, raw, start, end))
    return out


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)  # rfind gives -1 on the first line
    return Position(line, column)


def _skip_whitespace(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _skip_value(text: str, i: int) -> int:
    """Index just after the JSON value starting at ``i`` (the text is known to be valid JSON)."""
    if text[i] == '"':
        i += 1
        while text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        return i + 1
    if text[i] in "{[":
        depth = 0
        while True:
            char = text[i]
            if char == '"':
                i = _skip_value(text, i)
                continue
            if char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    while i < len(text) and text[i] not in ",}] \t\r\n":  # number, true, false, null
        i += 1
    return i


def _statement_spans(text: str) -> list[tuple[Position, Position]]:
    """(start, end) of every statement object, the last top-level ``Statement`` key winning."""
    i = _skip_whitespace(text, 0)
    if text[i] != "{":
        return []
    spans: list[tuple[Position, Position]] = []
    i = _skip_whitespace(text, i + 1)
    while text[i] != "}":
        key_end = _skip_value(text, i)
        key = json.loads(text[i:key_end])
        i = _skip_whitespace(text, key_end)  # at ':'
        i = _skip_whitespace(text, i + 1)
        value_end = _skip_value(text, i)
        if key == "Statement":
            spans = _element_spans(text, i, value_end)
        i = _skip_whitespace(text, value_end)
        if text[i] == ",":
            i = _skip_whitespace(text, i + 1)
    return spans


def _element_spans(text: str, start: int, end: int) -> list[tuple[Position, Position]]:
    """Spans of the object at ``start`` or of each element of the array at ``start``."""
    if text[start] == "{":
        return [(_position(text, start), _position(text, end - 1))]
    spans: list[tuple[Position, Position]] = []
    if text[start] != "[":
        return spans
    i = _skip_whitespace(text, start + 1)
    while text[i] != "]":
        element_end = _skip_value(text, i)
        spans.append((_position(text, i), _position(text, element_end - 1)))
        i = _skip_whitespace(text, element_end)
        if text[i] == ",":
            i = _skip_whitespace(text, i + 1)
    return spans


def as_list(value: Any) -> list[Any]:
    """The string-or-list normalisation of the policy grammar."""
    return value if isinstance(value, list) else [value]
