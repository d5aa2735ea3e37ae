"""Compiled ``*`` / ``?`` matching and policy variables.

Patterns are compiled once into plain callables.  The common shapes (everything, an exact
string, a prefix, a suffix) avoid regular expressions; the rest become a regular expression
whose literal pieces are always passed through :func:`re.escape`, so user text can never
inject regex syntax.

ARN patterns are segment-aware: the first five ``:`` split an ARN into six segments; a wildcard
in segments one to five never matches ``:``, in the sixth (the resource part) it spans
everything.

Policy variables (``${aws:username}``, ``${s3:prefix, 'default'}``, the escapes ``${*}``,
``${?}``, ``${$}``) are parsed into a :class:`Template`.  Substituted values are literal text:
a ``*`` that comes from the request is never a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

Matcher = Callable[[str], bool]
Context = Mapping[str, tuple[str, ...]]


class _Wild:
    """A wildcard token in a tokenised pattern."""

    __slots__ = ("char",)

    def __init__(self, char: str) -> None:
        self.char = char

    def __repr__(self) -> str:
        return f"<{self.char}>"


STAR: Final = _Wild("*")
QMARK: Final = _Wild("?")

Token = str | _Wild
Tokens = tuple[Token, ...]


def _always(_: str) -> bool:
    return True


def _never(_: str) -> bool:
    return False


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def tokenize(pattern: str) -> Tokens:
    """Split glob text into literal strings and wildcard tokens (adjacent literals merged)."""
    out: list[Token] = []
    buf: list[str] = []
    for ch in pattern:
        if ch == "*" or ch == "?":
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(STAR if ch == "*" else QMARK)
        else:
            buf.append(ch)
    if buf:
        out.append("".join(buf))
    return tuple(out)


def _merge(tokens: Tokens) -> Tokens:
    out: list[Token] = []
    for tok in tokens:
        if isinstance(tok, str):
            if not tok:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + tok
                continue
        elif tok is STAR and out and out[-1] is STAR:
            continue
        out.append(tok)
    return tuple(out)


def _regex(tokens: Tokens, star: str, qmark: str) -> str:
    parts: list[str] = []
    for tok in tokens:
        if tok is STAR:
            parts.append(star)
        elif tok is QMARK:
            parts.append(qmark)
        else:
            assert isinstance(tok, str)
            parts.append(re.escape(tok))
    return "".join(parts)


def compile_tokens(tokens: Tokens, *, ignore_case: bool = False) -> Matcher:
    """Whole-string glob over tokens; ``*`` spans any text, ``?`` one character.

    With ``ignore_case`` the matcher expects (and the pattern is folded to) lower case: the
    caller lower-cases the subject, which is cheaper than a case-insensitive regex.
    """
    tokens = _merge(tokens)
    if ignore_case:
        tokens = tuple(t.lower() if isinstance(t, str) else t for t in tokens)
    if not tokens:
        return "".__eq__
    if len(tokens) == 1:
        only = tokens[0]
        if only is STAR:
            return _always
        if isinstance(only, str):
            return only.__eq__
    if len(tokens) == 2:
        first, last = tokens
        if isinstance(first, str) and last is STAR:
            prefix = first
            return lambda s: s.startswith(prefix)
        if first is STAR and isinstance(last, str):
            suffix = last
            return lambda s: s.endswith(suffix)
    rx = re.compile(_regex(tokens, ".*", "."), re.DOTALL)
    full = rx.fullmatch
    return lambda s: full(s) is not None


def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """Whole-string glob (``StringLike``, action names)."""
    return compile_tokens(tokenize(pattern), ignore_case=ignore_case)


def _split_arn_tokens(tokens: Tokens) -> list[list[Token]] | None:
    """Split tokens on the first five ``:`` of literal text; None when there are fewer."""
    segments: list[list[Token]] = [[]]
    for tok in tokens:
        if isinstance(tok, str) and len(segments) < 6 and ":" in tok:
            pieces = tok.split(":", 6 - len(segments))
            segments[-1].append(pieces[0])
            for piece in pieces[1:]:
                if len(segments) < 6:
                    segments.append([piece])
                else:
                    segments[-1].append(":" + piece)
        else:
            segments[-1].append(tok)
    return segments if len(segments) == 6 else None


def compile_arn_tokens(tokens: Tokens) -> Matcher:
    """ARN glob over tokens: segment-aware (see module docstring)."""
    tokens = _merge(tokens)
    if tokens == (STAR,):
        return _always
    segments = _split_arn_tokens(tokens)
    if segments is None:
        # Not an ARN pattern: wildcards may not cross a colon anywhere.
        rx = re.compile(_regex(tokens, "[^:]*", "[^:]"), re.DOTALL)
        full = rx.fullmatch
        return lambda s: full(s) is not None
    head = segments[:5]
    if not any(isinstance(t, _Wild) for seg in head for t in seg):
        # Literal head: segment matching equals whole-string matching.
        return compile_tokens(tokens)
    parts = [_regex(tuple(seg), "[^:]*", "[^:]") for seg in head]
    parts.append(_regex(tuple(segments[5]), ".*", "."))
    rx = re.compile(":".join(parts), re.DOTALL)
    full = rx.fullmatch
    return lambda s: full(s) is not None


def compile_arn_glob(pattern: str) -> Matcher:
    """ARN glob (``Resource`` entries, ``ArnLike``/``ArnEquals``)."""
    return compile_arn_tokens(tokenize(pattern))


# --------------------------------------------------------------------------------------------
# Policy variables
# --------------------------------------------------------------------------------------------

_ESCAPES: Final = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-cased key name
    default: str | None


@dataclass(frozen=True, slots=True)
class Lit:
    """Literal text that came from an escape: never a wildcard."""

    text: str


Piece = str | Var | Lit  # str = glob text as written


@dataclass(frozen=True, slots=True)
class Template:
    """A value containing policy variables."""

    pieces: tuple[Piece, ...]

    def render_tokens(self, ctx: Context) -> Tokens | None:
        """Tokens with variables substituted as literals; None if a variable is unresolvable."""
        out: list[Token] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.extend(tokenize(piece))
            elif isinstance(piece, Lit):
                out.append(piece.text)
            else:
                values = ctx.get(piece.key)
                if values is not None and len(values) == 1:
                    out.append(values[0])
                elif piece.default is not None:
                    out.append(piece.default)
                else:
                    return None
        return _merge(tuple(out))

    def render_text(self, ctx: Context) -> str | None:
        """The substituted string (wildcard characters kept as characters)."""
        tokens = self.render_tokens(ctx)
        if tokens is None:
            return None
        return "".join(t if isinstance(t, str) else t.char for t in tokens)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.pieces if isinstance(p, Var))


def parse_template(text: str) -> Template | None:
    """Parse ``${...}`` variables; None when the text has none (it is plain glob text).

    A ``${`` without a closing ``}`` stays literal text, as does a malformed variable body.
    """
    if "${" not in text:
        return None
    pieces: list[Piece] = []
    pos = 0
    found = False
    while True:
        start = text.find("${", pos)
        if start < 0:
            break
        end = text.find("}", start + 2)
        if end < 0:
            break
        body = text[start + 2 : end]
        piece = _parse_var(body)
        if piece is None:
            pieces.append(text[pos : end + 1])
        else:
            found = True
            if start > pos:
                pieces.append(text[pos:start])
            pieces.append(piece)
        pos = end + 1
    if pos < len(text):
        pieces.append(text[pos:])
    return Template(tuple(pieces)) if found else None


def _parse_var(body: str) -> Var | Lit | None:
    if body in _ESCAPES:
        return Lit(_ESCAPES[body])
    key, sep, rest = body.partition(",")
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        return None
    if not sep:
        return Var(key.lower(), None)
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == "'" and rest[-1] == "'":
        return Var(key.lower(), rest[1:-1])
    return None


class TemplateMatcher:
    """Matches against a template rendered per request, with a bounded cache of compiled
    renderings (so repeated requests by the same principal compile nothing)."""

    __slots__ = ("_arn", "_cache", "_ignore_case", "template")

    _MAX = 512

    def __init__(self, template: Template, *, arn: bool, ignore_case: bool = False) -> None:
        self.template = template
        self._arn = arn
        self._ignore_case = ignore_case
        self._cache: dict[Tokens, Matcher] = {}

    def matcher(self, ctx: Context) -> Matcher | None:
        tokens = self.template.render_tokens(ctx)
        if tokens is None:
            return None
        found = self._cache.get(tokens)
        if found is None:
            if len(self._cache) >= self._MAX:
                self._cache.clear()
            if self._arn:
                found = compile_arn_tokens(tokens)
            else:
                found = compile_tokens(tokens, ignore_case=self._ignore_case)
            self._cache[tokens] = found
        return found
