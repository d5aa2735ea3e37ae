"""XML text escaping that can never produce an invalid document.

``&``, ``<`` and ``>`` are escaped; ``\\r`` becomes ``&#13;`` (a parser would otherwise turn
``\\r\\n`` into ``\\n``); characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone
surrogates, U+FFFE, U+FFFF) cannot be written at all, not even as character references, and
are replaced by U+FFFD.  Strings without any of these are returned unchanged (one regex scan).
"""

from __future__ import annotations

import re
from typing import Final

_SPECIAL: Final = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_REPLACEMENTS: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _replace(match: re.Match[str]) -> str:
    return _REPLACEMENTS.get(match.group(), "\ufffd")


def escape(text: str) -> str:
    """``text`` as XML character data (also safe inside double-quoted attribute values
    that contain no ``"``)."""
    if _SPECIAL.search(text) is None:
        return text
    return _SPECIAL.sub(_replace, text)


def is_name(name: str) -> bool:
    """Whether ``name`` can be used as an element name as is (ASCII subset of XML names)."""
    return _NAME.fullmatch(name) is not None


def encode(text: str) -> bytes:
    """UTF-8 bytes of an already escaped document (lone surrogates were replaced)."""
    return text.encode("utf-8", "replace")
