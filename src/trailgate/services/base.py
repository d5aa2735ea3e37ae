"""What every provider method receives.

A provider has one method per operation, named exactly as botocore names the operation
(``CreateRole``), with the signature ``(self, call: Call, tx: Tx) -> dict``: it runs inside one
store transaction (``tx``) and returns the operation's output as a botocore-shaped dict (the
protocol layer serialises it).  Failures raise :class:`~trailgate.protocol.errors.ServiceError`.
Providers never decide access: the gateway's authorize step has already done that.

Work that must not happen inside the store's single writer thread (writing object bytes to
disk) goes into an optional ``prepare_<Operation>(self, call) -> Any`` method: the gateway runs
it in a worker thread BEFORE the transaction and passes its result as ``call.prepared``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from ..gateway.context import Principal


@dataclass(frozen=True)
class Call:
    account: str  # the account the operation acts in (the caller's account)
    principal: Principal
    params: dict[str, Any]
    region: str
    request_id: str
    now: datetime
    prepared: Any = None  # result of the provider's prepare_<Operation>, if it has one
    target: Any = None  # what authorize read of the target (AssumeRole: the role), if any


class RequestBody(Protocol):
    """A request payload that may be large (S3 object bytes): spooled to disk by the HTTP
    adapter while its hashes were computed, readable as a stream."""

    size: int
    md5_hex: str
    sha256_hex: str

    def open(self) -> BinaryIO: ...

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]: ...
