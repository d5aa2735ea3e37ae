"""A deliberately naive IAM policy evaluator, used only as an oracle by property tests.

It works on the raw ``json.loads`` form of each document and re-implements every rule from the
spec (``aws-semantics.md`` sections 1 and 2) in the most direct way: no compilation, no caching,
no sharing of code with ``parse.py``, ``glob.py``, ``conditions.py`` or ``evaluate.py``.  Speed
does not matter here; being obviously right does.

Decision procedure of :func:`evaluate` (first rule that fires wins).  Callers of kind
``service``, ``anonymous`` and ``federated`` (an identity provider calling AssumeRoleWith*) have
no identity side: only a resource/trust policy can allow them, and the SCP check is skipped
(a matching Deny in any policy supplied still counts; ``auth/gather.py`` supplies none).

1. **Explicit deny.**  Every statement with ``Effect: Deny`` that applies to the request (action,
   resource, condition and, in resource/trust policies, principal all match) in ANY policy of
   the inputs.  Result ``explicitDeny`` / ``explicit-deny`` with all of them, in the order
   identity, resource (or trust), boundary, session, SCPs.
2. **SCPs** (callers with an identity side only): every level of ``inputs.scps`` needs a
   matching Allow in one of its documents, otherwise ``implicitDeny`` / ``scp``.
3. **Resource or trust side.**  Each matching Allow of the resource/trust policy is classified by
   how its principal names the caller (:func:`_grant_kind`, spec 1.2):
   ``direct``  - user ARN, session ARN, federated-user ARN, ``*``, ``Service``, ``Federated``,
                 a user's unique id (``AIDA…``), or an Allow whose ``NotPrincipal`` does not
                 name the caller;
   ``role``    - the role ARN of a role session, or the role's unique id (``AROA…``, which is how
                 IAM stores a role ARN in a trust policy);
   ``account`` - the account id, ``arn:aws:iam::ACCT:root`` (any IAM principal of the account:
                 root, users, role and federated-user sessions), or a ``CanonicalUser`` (an S3
                 canonical id identifies an account).
   ``NotPrincipal`` applies to every caller it does not exclude, and AWS excludes only what it
   names exactly: a ``direct`` entry, or an account entry for that account's root user (an
   account entry does not exempt the account's users or sessions, nor a role ARN its sessions).
   A trust policy must always have a matching Allow, and a cross-account request must have one
   in the resource policy; otherwise ``implicitDeny`` / ``no-resource-allow``.
4. **Grant.**
   - callers without an identity side: any matching resource/trust Allow grants; without one
     the result is ``no-resource-allow`` (the only piece that could have granted).
   - same account and a ``direct`` grant: allowed, nothing else consulted (spec 2.3).
   - otherwise the request needs a *grant*: a ``role`` grant (same account only), or the identity
     side: the root user always (spec 2.2 default), any other caller needs a matching Allow in
     its identity policies.  No grant: ``no-identity-allow``.
5. **Limits** (not for the root user): a permissions boundary, if set, must have a matching Allow
   (``boundary``); session policies, if given (``inputs.session is not None``), at least one must
   have a matching Allow (``session-policy``).  Then: allowed.

A ``role``-named resource grant therefore stands in for the identity policies but not for the
boundary or session policy (spec 2.3); this applies to trust policies too (a trust policy is a
resource policy, spec 2.1), so a role session whose session policy does not allow
``sts:AssumeRole`` cannot assume a role whose trust policy names the calling role's ARN.

Deciding statements of an ``allowed`` decision: all matching Allow statements of every policy
that was needed for the grant, in the order identity, resource/trust, boundary, session, SCPs:
- identity: when the grant came from the identity side (none for the root user);
- resource/trust: when a resource/trust grant was used (``direct`` or ``role``), for every
  cross-account request, and always for a trust policy (it must always allow); when it is used,
  ALL its matching Allow statements are listed, whatever principal form they use;
- boundary and session: when they were checked (step 5);
- SCPs: when they were checked (step 2), all matching Allow statements of all levels.
``implicitDeny`` decisions carry no statements.

Choices for points the spec leaves open (all documented where implemented):
- a request-context key bound to an empty tuple counts as absent (``Null``, ``IfExists``,
  set qualifiers); a policy variable needs a key with exactly one value;
- an operator without a set qualifier applied to several request values: positive operators
  need one (request value, policy value) pair to match, negated operators need every request
  value to match none of the policy values;
- Date values made only of digits are epoch seconds (so ``"2020"`` is not the year 2020);
  a date-time without an offset is UTC;
- an unparseable request value makes that value fail for positive AND negated operators
  (Numeric, Date, Binary, IP, Arn); an unparseable or unresolvable policy value never matches;
- a statement without ``Resource``/``NotResource`` (trust policies) matches every resource;
  a resource/trust statement without ``Principal``/``NotPrincipal`` matches nobody;
- resource pattern and request resource must both have 6 ARN parts (or the pattern is ``*``);
- unknown condition operators and structurally invalid documents raise :class:`ValueError`.

Positions of statements (``MatchedStatement.start``/``end``): 1-based line and column of the
statement's opening ``{`` and of its closing ``}``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from trailgate.policy.model import (
    Caller,
    Context,
    Decision,
    MatchedStatement,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Position,
    Request,
)

# ============================================================================================
# Documents: raw JSON plus statement positions
# ============================================================================================


@dataclass(frozen=True)
class _Statement:
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


def _load(doc: PolicyDoc) -> list[_Statement]:
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
    out: list[_Statement] = []
    for index, (raw, (start, end)) in enumerate(zip(raw_statements, spans, strict=True)):
        if not isinstance(raw, dict):
            raise ValueError(f"{doc.policy_id}: statement {index} is not an object")
        variables = data.get("Version") == "2012-10-17"
        out.append(_Statement(doc, variables, index, raw, start, end))
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


def _as_list(value: Any) -> list[Any]:
    """The string-or-list normalisation of the policy grammar."""
    return value if isinstance(value, list) else [value]


# ============================================================================================
# Glob patterns and policy variables
# ============================================================================================

# A pattern is a list of tokens: _STAR, _QMARK, or a one-character literal string.
_STAR = ("*",)
_QMARK = ("?",)
_Token = tuple[str] | str


def _glob(tokens: list[_Token], text: str) -> bool:
    """Whole-string match: _STAR any sequence (also empty), _QMARK one character."""
    if not tokens:
        return text == ""
    head, rest = tokens[0], tokens[1:]
    if head == _STAR:
        return any(_glob(rest, text[i:]) for i in range(len(text) + 1))
    if text == "":
        return False
    if head == _QMARK:
        return _glob(rest, text[1:])
    return head == text[0] and _glob(rest, text[1:])


def _plain_tokens(text: str) -> list[_Token]:
    """Tokens of a pattern without variables: ``*`` and ``?`` are wildcards."""
    return [_STAR if c == "*" else _QMARK if c == "?" else c for c in text]


def _literal_tokens(text: str) -> list[_Token]:
    return list(text)


# A piece of policy text: plain text (wildcards active) or a ``${...}`` expression.
@dataclass(frozen=True)
class _Var:
    source: str  # the expression as written, e.g. "${aws:username, 'x'}"
    key: str  # "" for the escapes ${*} ${?} ${$}
    default: str | None
    escape: str | None


_Piece = str | _Var


def _split_variables(text: str) -> list[_Piece]:
    """Split text into plain text and ``${...}`` expressions.

    Expression forms: ``${key}``, ``${key, 'default'}`` (any spaces after the comma) and
    the escapes ``${*}``, ``${?}``, ``${$}``.  Anything else (no closing brace, bad default) is
    plain text.
    """
    pieces: list[_Piece] = []
    plain = ""
    i = 0
    while i < len(text):
        found = _read_variable(text, i) if text.startswith("${", i) else None
        if found is None:
            plain += text[i]
            i += 1
            continue
        var, i = found
        if plain:
            pieces.append(plain)
            plain = ""
        pieces.append(var)
    if plain:
        pieces.append(plain)
    return pieces


def _read_variable(text: str, start: int) -> tuple[_Var, int] | None:
    """The expression at ``text[start:]`` (which begins with ``${``) and the index after it."""
    i = start + 2
    if text[i : i + 2] in ("*}", "?}", "$}"):
        return _Var(text[start : i + 2], "", None, text[i]), i + 2
    key_end = i
    while key_end < len(text) and text[key_end] not in ",}":
        key_end += 1
    if key_end >= len(text) or key_end == i:
        return None
    key = text[i:key_end].lower()
    if text[key_end] == "}":
        return _Var(text[start : key_end + 1], key, None, None), key_end + 1
    # ``${key, 'default'}``
    quote = _skip_spaces(text, key_end + 1)
    if quote >= len(text) or text[quote] != "'":
        return None
    quote_end = text.find("'", quote + 1)
    if quote_end < 0:
        return None
    close = _skip_spaces(text, quote_end + 1)
    if close >= len(text) or text[close] != "}":
        return None
    default = text[quote + 1 : quote_end]
    return _Var(text[start : close + 1], key, default, None), close + 1


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _variable_value(var: _Var, context: Context) -> str | None:
    """The substituted text of one expression, or None if it cannot be resolved."""
    if var.escape is not None:
        return var.escape
    values = context.get(var.key, ())
    if len(values) == 1:
        return values[0]
    return var.default


def _pattern_tokens(text: str, variables: bool, context: Context) -> list[_Token] | None:
    """Glob tokens of a policy pattern; substituted values are literal.  None: unresolvable."""
    if not variables:
        return _plain_tokens(text)
    tokens: list[_Token] = []
    for piece in _split_variables(text):
        if isinstance(piece, str):
            tokens += _plain_tokens(piece)
            continue
        value = _variable_value(piece, context)
        if value is None:
            return None
        tokens += _literal_tokens(value)
    return tokens


def _substitute(text: str, variables: bool, context: Context) -> str | None:
    """Policy text with variables replaced (for operators without wildcards)."""
    if not variables:
        return text
    out = ""
    for piece in _split_variables(text):
        if isinstance(piece, str):
            out += piece
            continue
        value = _variable_value(piece, context)
        if value is None:
            return None
        out += value
    return out


def _arn_segments(text: str) -> list[str]:
    return text.split(":", 5)


def _arn_pattern_segments(
    text: str, variables: bool, context: Context, variable_segments: range
) -> list[list[_Token]] | None:
    """Split a pattern into its 6 ARN segments (on the first 5 colons outside ``${...}``) and
    tokenise each; variables are substituted only in ``variable_segments``.

    Returns [] if the pattern does not have 6 segments, None if a variable is unresolvable.
    """
    pieces = _split_variables(text) if variables else [text]
    segments: list[list[_Piece]] = [[]]
    for piece in pieces:
        if isinstance(piece, _Var):
            segments[-1].append(piece)
            continue
        for char in piece:
            if char == ":" and len(segments) < 6:
                segments.append([])
            else:
                segments[-1].append(char)
    if len(segments) != 6:
        return []
    out: list[list[_Token]] = []
    for number, segment in enumerate(segments):
        tokens: list[_Token] = []
        for piece in segment:
            if isinstance(piece, str):
                tokens += _plain_tokens(piece)
            elif number in variable_segments:
                value = _variable_value(piece, context)
                if value is None:
                    return None
                tokens += _literal_tokens(value)
            else:
                tokens += _plain_tokens(piece.source)  # variables not allowed here: as written
        out.append(tokens)
    return out


def _arn_match(pattern: str, arn: str, variables: bool, context: Context, where: range) -> bool:
    """Segment-wise ARN glob (case-sensitive); ``*`` alone matches anything."""
    if pattern == "*":
        return True
    segments = _arn_pattern_segments(pattern, variables, context, where)
    if not segments:  # None (unresolvable) or [] (not 6 segments)
        return False
    subject = _arn_segments(arn)
    if len(subject) != 6:
        return False
    return all(_glob(p, s) for p, s in zip(segments, subject, strict=True))


# ============================================================================================
# Action, resource, principal
# ============================================================================================


def _action_matches(pattern: str, action: str) -> bool:
    return _glob(_plain_tokens(pattern.lower()), action.lower())


def _statement_action_matches(stmt: _Statement, action: str) -> bool:
    raw = stmt.raw
    if "Action" in raw:
        return any(_action_matches(str(p), action) for p in _as_list(raw["Action"]))
    if "NotAction" in raw:
        return not any(_action_matches(str(p), action) for p in _as_list(raw["NotAction"]))
    raise ValueError(f"{stmt.doc.policy_id}: statement {stmt.index} has no Action")


def _resource_matches(pattern: str, resource: str, stmt: _Statement, context: Context) -> bool:
    # Variables only in the resource part (segment 5); an unresolvable one matches nothing.
    return _arn_match(pattern, resource, stmt.variables, context, range(5, 6))


def _statement_resource_matches(stmt: _Statement, request: Request) -> bool:
    raw, ctx = stmt.raw, request.context
    if "Resource" in raw:
        return any(
            _resource_matches(str(p), request.resource, stmt, ctx)
            for p in _as_list(raw["Resource"])
        )
    if "NotResource" in raw:
        return not any(
            _resource_matches(str(p), request.resource, stmt, ctx)
            for p in _as_list(raw["NotResource"])
        )
    return True  # trust policies have no Resource element


GrantKind = Literal["direct", "role", "account"]
_KIND_RANK: dict[GrantKind, int] = {"account": 0, "role": 1, "direct": 2}


def _account_of_root_arn(entry: str) -> str | None:
    """``arn:<partition>:iam::ACCT:root`` -> ACCT."""
    parts = entry.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


def _aws_entry_kind(entry: str, caller: Caller) -> GrantKind | None:
    """How an ``AWS`` principal entry names the caller (None: it does not)."""
    if entry == "*":
        return "direct"
    if caller.kind in ("service", "anonymous", "federated"):
        return None  # not IAM principals of any account (identity providers use "Federated")
    account = entry if re.fullmatch(r"\d{12}", entry) else _account_of_root_arn(entry)
    if account is not None:
        return "account" if account == caller.account else None
    if caller.kind in ("user", "federated_user") and entry == caller.arn:
        return "direct"
    if caller.kind == "assumed_role":
        if entry == caller.arn:
            return "direct"
        if entry == caller.role_arn or (caller.unique_id and entry == caller.unique_id):
            return "role"
    if caller.kind == "user" and caller.unique_id and entry == caller.unique_id:
        return "direct"
    return None


def _principal_kind(spec: Any, caller: Caller) -> GrantKind | None:
    """The strongest way in which a Principal/NotPrincipal value names the caller."""
    if spec == "*":
        return "direct"
    if not isinstance(spec, dict):
        return None
    kinds: list[GrantKind] = []
    for entry in _as_list(spec.get("AWS", [])):
        kind = _aws_entry_kind(str(entry), caller)
        if kind is not None:
            kinds.append(kind)
    for entry in _as_list(spec.get("Service", [])):
        if caller.kind == "service" and entry == caller.arn:
            kinds.append("direct")
    for entry in _as_list(spec.get("Federated", [])):
        if caller.kind == "federated" and entry == caller.arn:
            kinds.append("direct")
    for entry in _as_list(spec.get("CanonicalUser", [])):
        if caller.canonical_id is not None and entry == caller.canonical_id:
            kinds.append("account")
    if not kinds:
        return None
    return max(kinds, key=lambda k: _KIND_RANK[k])


def _grant_kind(stmt: _Statement, caller: Caller) -> GrantKind | None:
    """How a resource/trust statement's principal names the caller (None: not at all)."""
    if "Principal" in stmt.raw:
        return _principal_kind(stmt.raw["Principal"], caller)
    if "NotPrincipal" in stmt.raw:
        # Applies to everyone the element does not exclude; an Allow so applied grants like
        # "*".  AWS excludes only principals named exactly: an account entry excludes the
        # account's root, not its users or sessions; a role ARN does not exclude its sessions.
        kind = _principal_kind(stmt.raw["NotPrincipal"], caller)
        excluded = kind == "direct" or (kind == "account" and caller.kind == "root")
        return None if excluded else "direct"
    return None


# ============================================================================================
# Conditions
# ============================================================================================

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
    "Arn": lambda v: v if len(_arn_segments(v)) == 6 else None,
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
    base: str, request_value: str, policy_value: str, stmt: _Statement, context: Context
) -> bool:
    """Positive operator ``base`` on one pair; unresolvable policy variables never match."""
    variables = stmt.variables and _family(base) in _VARIABLE_FAMILIES
    if base == "StringLike":
        tokens = _pattern_tokens(policy_value, variables, context)
        return tokens is not None and _glob(tokens, request_value)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_match(policy_value, request_value, variables, context, range(6))
    value = _substitute(policy_value, variables, context)
    return value is not None and _SIMPLE_TESTS[base](request_value, value)


def _condition_value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # numbers are already their JSON text (parse_int/parse_float)
        return value
    raise ValueError(f"bad condition value {value!r}")


def _clause_holds(
    operator_name: str, key: str, raw_values: Any, stmt: _Statement, context: Context
) -> bool:
    """One ``operator: {key: values}`` entry."""
    op = _parse_operator(operator_name)
    policy_values = [_condition_value_text(v) for v in _as_list(raw_values)]
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


def _conditions_hold(stmt: _Statement, context: Context) -> bool:
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


# ============================================================================================
# Statements and policies
# ============================================================================================


def _applies(stmt: _Statement, request: Request, names_principal: bool) -> bool:
    """Does the statement apply to the request (effect aside)?"""
    if names_principal and _grant_kind(stmt, request.caller) is None:
        return False
    return (
        _statement_action_matches(stmt, request.action)
        and _statement_resource_matches(stmt, request)
        and _conditions_hold(stmt, request.context)
    )


def _matching(
    docs: list[PolicyDoc], request: Request, effect: str, names_principal: bool = False
) -> list[_Statement]:
    """Every statement with ``effect`` of ``docs`` that applies to the request, in order."""
    return [
        stmt
        for doc in docs
        for stmt in _load(doc)
        if stmt.effect == effect and _applies(stmt, request, names_principal)
    ]


def _matched(statements: list[_Statement]) -> tuple[MatchedStatement, ...]:
    return tuple(stmt.matched() for stmt in statements)


@dataclass(frozen=True)
class _Slots:
    """The inputs grouped in reporting order (identity, resource, boundary, session, scps)."""

    identity: list[PolicyDoc]
    resource: list[PolicyDoc]
    boundary: list[PolicyDoc]
    session: list[PolicyDoc]
    scps: list[PolicyDoc]

    @staticmethod
    def of(inputs: PolicyInputs) -> _Slots:
        return _Slots(
            identity=list(inputs.identity),
            resource=[inputs.resource] if inputs.resource is not None else [],
            boundary=[inputs.boundary] if inputs.boundary is not None else [],
            session=list(inputs.session or ()),
            scps=[doc for level in inputs.scps for doc in level],
        )


# ============================================================================================
# The decision
# ============================================================================================


def _scp_allows(inputs: PolicyInputs, request: Request) -> list[_Statement] | None:
    """The matching Allow statements of all SCP levels, or None if some level allows nothing."""
    allows: list[_Statement] = []
    for level in inputs.scps:
        level_allows = _matching(list(level), request, "Allow")
        if not level_allows:
            return None
        allows += level_allows
    return allows


def evaluate(request: Request, inputs: PolicyInputs) -> Decision:
    """Decide one request against the documents in ``inputs`` (see the module docstring)."""
    caller = request.caller
    slots = _Slots.of(inputs)
    # AWS services, anonymous callers and identity providers (AssumeRoleWithSAML/-WebIdentity)
    # have no identity policies, boundary, session policy or SCP check.
    no_identity_side = caller.kind in ("service", "anonymous", "federated")

    # 1. explicit deny anywhere
    denies = (
        _matching(slots.identity, request, "Deny")
        + _matching(slots.resource, request, "Deny", names_principal=True)
        + _matching(slots.boundary, request, "Deny")
        + _matching(slots.session, request, "Deny")
        + _matching(slots.scps, request, "Deny")
    )
    if denies:
        return Decision("explicitDeny", _matched(denies), "explicit-deny")

    # 2. every SCP level must allow
    scp_allows = [] if no_identity_side else _scp_allows(inputs, request)
    if scp_allows is None:
        return Decision("implicitDeny", (), "scp")

    # 3. the resource or trust side
    resource_allows = _matching(slots.resource, request, "Allow", names_principal=True)
    kinds = {_grant_kind(stmt, caller) for stmt in resource_allows}
    is_trust = inputs.resource is not None and inputs.resource.policy_type == PolicyType.TRUST
    if (is_trust or request.cross_account) and not resource_allows:
        return Decision("implicitDeny", (), "no-resource-allow")

    def allowed(*parts: list[_Statement]) -> Decision:
        return Decision("allowed", _matched([s for part in parts for s in part]), "")

    # 4. the grant
    if no_identity_side:
        if resource_allows:
            return allowed(resource_allows)
        return Decision("implicitDeny", (), "no-resource-allow")  # the only possible grant
    if not request.cross_account and "direct" in kinds:
        return allowed(resource_allows, scp_allows)

    identity_allows: list[_Statement] = []
    if not request.cross_account and "role" in kinds:
        grant_statements = resource_allows  # the role grant stands in for identity policies
    else:
        if caller.kind != "root":
            identity_allows = _matching(slots.identity, request, "Allow")
            if not identity_allows:
                return Decision("implicitDeny", (), "no-identity-allow")
        # the resource/trust policy is part of the grant when it had to allow
        grant_statements = resource_allows if (is_trust or request.cross_account) else []
    if caller.kind == "root":
        return allowed(grant_statements, scp_allows)

    # 5. limits: permissions boundary and session policies
    boundary_allows: list[_Statement] = []
    if inputs.boundary is not None:
        boundary_allows = _matching(slots.boundary, request, "Allow")
        if not boundary_allows:
            return Decision("implicitDeny", (), "boundary")
    session_allows: list[_Statement] = []
    if inputs.session is not None:
        session_allows = _matching(slots.session, request, "Allow")
        if not session_allows:
            return Decision("implicitDeny", (), "session-policy")
    return allowed(identity_allows, grant_statements, boundary_allows, session_allows, scp_allows)
