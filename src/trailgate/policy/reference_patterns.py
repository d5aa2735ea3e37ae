"""Glob patterns, policy variables and ARN patterns for the naive reference evaluator
(:mod:`trailgate.policy.reference`): a recursive whole-string glob, ``${...}`` substitution
(substituted text is literal) and the segment-wise ARN match."""

from __future__ import annotations

from dataclasses import dataclass

from trailgate.policy.model import Context

# A pattern is a list of tokens: _STAR, _QMARK, or a one-character literal string.
_STAR = ("*",)
_QMARK = ("?",)
_Token = tuple[str] | str


def glob(tokens: list[_Token], text: str) -> bool:
    """Whole-string match: _STAR any sequence (also empty), _QMARK one character."""
    if not tokens:
        return text == ""
    head, rest = tokens[0], tokens[1:]
    if head == _STAR:
        return any(glob(rest, text[i:]) for i in range(len(text) + 1))
    if text == "":
        return False
    if head == _QMARK:
        return glob(rest, text[1:])
    return head == text[0] and glob(rest, text[1:])


def plain_tokens(text: str) -> list[_Token]:
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


def pattern_tokens(text: str, variables: bool, context: Context) -> list[_Token] | None:
    """Glob tokens of a policy pattern; substituted values are literal.  None: unresolvable."""
    if not variables:
        return plain_tokens(text)
    tokens: list[_Token] = []
    for piece in _split_variables(text):
        if isinstance(piece, str):
            tokens += plain_tokens(piece)
            continue
        value = _variable_value(piece, context)
        if value is None:
            return None
        tokens += _literal_tokens(value)
    return tokens


def substitute(text: str, variables: bool, context: Context) -> str | None:
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


def arn_segments(text: str) -> list[str]:
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
                tokens += plain_tokens(piece)
            elif number in variable_segments:
                value = _variable_value(piece, context)
                if value is None:
                    return None
                tokens += _literal_tokens(value)
            else:
                tokens += plain_tokens(piece.source)  # variables not allowed here: as written
        out.append(tokens)
    return out


def arn_match(pattern: str, arn: str, variables: bool, context: Context, where: range) -> bool:
    """Segment-wise ARN glob (case-sensitive); ``*`` alone matches anything."""
    if pattern == "*":
        return True
    segments = _arn_pattern_segments(pattern, variables, context, where)
    if not segments:  # None (unresolvable) or [] (not 6 segments)
        return False
    subject = arn_segments(arn)
    if len(subject) != 6:
        return False
    return all(glob(p, s) for p, s in zip(segments, subject, strict=True))
