"""Request ids as each service hands them out.

IAM, STS, CloudTrail and Organizations answer a UUID (``x-amzn-RequestId``).  S3 answers
``x-amz-request-id``, 16 upper-case hex digits (e.g. ``D5F2662865713BDC``), and
``x-amz-id-2``, an opaque base64 text (e.g. 76 characters for 56 bytes); the same two go
into S3's error document as ``<RequestId>`` and ``<HostId>``, and CloudTrail logs them as the
record's ``requestID`` and ``additionalEventData.x-amz-id-2``.

Every id is made for every call, so it is cheap: no ``os.urandom`` (a system call that
also releases the GIL) per call.  The request id is a per-process counter pushed through a
bijection of 64-bit numbers (times an odd constant, plus a random per-process offset), so it
never repeats within a process (2**64 calls) and looks as shuffled as AWS's; the id-2 is 56
bytes from a Mersenne Twister seeded once from the system's randomness.
"""

from __future__ import annotations

import base64
import itertools
import random
from typing import Final

_SYSTEM = random.SystemRandom()
_MASK: Final = (1 << 64) - 1
_MIX: Final = 0x9E3779B97F4A7C15  # odd: multiplying by it permutes the 64-bit numbers
_OFFSET: Final = _SYSTEM.getrandbits(64)
_counter = itertools.count(_SYSTEM.getrandbits(32))
_rng = random.Random(_SYSTEM.getrandbits(256))
HOST_ID_BYTES: Final = 56


_UUID_BITS: Final = (1 << 122) - 1  # a version-4 UUID's free bits
_UUID_MIX: Final = _SYSTEM.getrandbits(122) | 1  # odd: multiplying by it permutes them
_UUID_OFFSET: Final = _SYSTEM.getrandbits(122)
_uuid_counter = itertools.count(_SYSTEM.getrandbits(32))


def new_uuid_request_id() -> str:
    """The request id of IAM, STS, CloudTrail and Organizations: a version-4 UUID whose 122
    free bits are a per-process counter through a bijection with random per-process
    constants (as for S3's ids), so it never repeats within a process and costs no
    ``os.urandom`` call (which ``uuid4`` makes, giving the GIL away) per request."""
    v = (next(_uuid_counter) * _UUID_MIX + _UUID_OFFSET) & _UUID_BITS
    # %-formatting: faster here than an f-string (this runs for every call).
    return "%08x-%04x-4%03x-%04x-%012x" % (  # noqa: UP031
        v >> 90, v >> 74 & 0xFFFF, v >> 62 & 0xFFF, 0x8000 | v >> 48 & 0x3FFF,
        v & 0xFFFFFFFFFFFF)


def new_s3_request_id() -> str:
    """``x-amz-request-id``: 16 upper-case hex digits, unique within the process."""
    return "%016X" % ((next(_counter) * _MIX + _OFFSET) & _MASK)


def new_s3_host_id() -> str:
    """``x-amz-id-2``: opaque base64 of 56 random bytes (76 characters)."""
    raw = _rng.getrandbits(HOST_ID_BYTES * 8).to_bytes(HOST_ID_BYTES, "big")
    return base64.b64encode(raw).decode("ascii")
