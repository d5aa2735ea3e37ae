"""Compact CloudTrail records: a record made from a template, stored as the template's id and
the values that differ from call to call.

Most calls repeat a call made before: the same caller, operation, parameters, region, client
and endpoint give the same record but for ``eventTime``, ``requestID``, ``eventID`` (and, for
S3, ``additionalEventData``'s ``x-amz-id-2``).  The gateway keeps such a record as a template:
its JSON cut where those values go (the *pieces*).  Storing each of these records whole
(about 1.5 KB) costs the event journal, the store's B-tree pages, its write-ahead log and its
checkpoints the same bytes again and again; so the record is stored as ::

    ~TEMPLATE-ID EVENTTIME EVENTID [X-AMZ-ID-2 ]REQUESTID-AS-JSON

(about 100 bytes), beside its template's pieces, kept once (the store's ``event_templates``
table; the journal segment that first uses a template in it holds a definition line).  Reading
the record joins the pieces and the values again: the same bytes as the record made whole.

A template's id is a hash of its pieces (63 bits of BLAKE2b), so that storing it again is a
no-op and every process gives the same template the same id; a store that finds another
template under the id (a hash collision) keeps the records that use it whole instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

import orjson

__all__ = [
    "MARK", "EventTemplate", "TemplateMissing", "compact", "compact_tid", "expand",
    "is_compact", "join", "make_template", "parse_pieces", "template_id", "whole",
]

MARK: Final = b"~"
"""The first byte of a compact record (a record made whole is a JSON object: ``{``)."""
_MARK_CODE: Final = MARK[0]


class TemplateMissing(LookupError):
    """A compact record names a template that is not stored."""


class EventTemplate(NamedTuple):
    tid: int
    pieces: tuple[bytes, ...]
    """4 pieces (around eventTime, requestID, eventID) or 5 (S3: and x-amz-id-2)."""
    text: bytes
    """The pieces as a JSON array of strings: how the journal and the store keep them."""


def template_id(text: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


def make_template(pieces: tuple[bytes, ...]) -> EventTemplate:
    if len(pieces) not in (4, 5):
        raise ValueError("a template has 4 or 5 pieces")
    text = orjson.dumps([piece.decode() for piece in pieces])
    return EventTemplate(template_id(text), pieces, text)


def parse_pieces(text: bytes | str) -> tuple[bytes, ...]:
    """A template's pieces from their stored text (ValueError if it is not such a text)."""
    value = orjson.loads(text)
    if (not isinstance(value, list) or len(value) not in (4, 5)
            or not all(isinstance(piece, str) for piece in value)):
        raise ValueError("not a template's pieces")
    return tuple(piece.encode() for piece in value)


def compact(template: EventTemplate, event_time: str, event_id: str, request_json: bytes,
            host: str = "") -> bytes | None:
    """A record of ``template`` in compact form; None if a value would not fit the format (a
    space in eventTime, eventID or x-amz-id-2: the record is then stored whole)."""
    if " " in event_time or " " in event_id:
        return None
    if len(template.pieces) == 4:
        return b"~%d %s %s %s" % (template.tid, event_time.encode(), event_id.encode(),
                                  request_json)
    if not host or " " in host:
        return None
    return b"~%d %s %s %s %s" % (template.tid, event_time.encode(), event_id.encode(),
                                 host.encode(), request_json)


def is_compact(data: bytes | str) -> bool:
    return bool(data) and (data[0] == _MARK_CODE if isinstance(data, bytes) else data[0] == "~")


def join(pieces: tuple[bytes, ...], event_time: bytes, event_id: bytes, request_json: bytes,
         host: bytes = b"") -> bytes:
    """The record JSON: the template's pieces and the call's values."""
    if len(pieces) == 4:
        return b"".join((pieces[0], event_time, pieces[1], request_json, pieces[2], event_id,
                         pieces[3]))
    return b"".join((pieces[0], event_time, pieces[1], host, pieces[2], request_json,
                     pieces[3], event_id, pieces[4]))


def expand(data: bytes, pieces_of: Callable[[int], tuple[bytes, ...] | None]) -> bytes:
    """The record JSON of compact ``data``; ``pieces_of`` finds a template's pieces.
    :class:`TemplateMissing` if it finds none, ValueError if ``data`` is malformed."""
    head, _, rest = data[1:].partition(b" ")
    tid = int(head)
    pieces = pieces_of(tid)
    if pieces is None:
        raise TemplateMissing(f"event template {tid} is not stored")
    if len(pieces) == 4:
        event_time, event_id, request = rest.split(b" ", 2)
        return join(pieces, event_time, event_id, request)
    event_time, event_id, host, request = rest.split(b" ", 3)
    return join(pieces, event_time, event_id, request, host)


def whole(data: bytes, texts: Mapping[int, bytes]) -> bytes:
    """``data`` as a whole record: compact data joined with its template, found among
    ``texts`` (id: pieces as stored; KeyError if missing), else ``data`` itself."""
    if not is_compact(data):
        return data
    return expand(data, lambda tid: parse_pieces(texts[tid]))


def compact_tid(data: bytes) -> int:
    """The template id of compact ``data``."""
    return int(data[1:data.index(b" ")])
