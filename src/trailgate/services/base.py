"""What every provider method receives.

A provider has one method per operation, named exactly as botocore names the operation
(``CreateRole``), with the signature ``(self, call: Call, tx: Tx) -> dict``: it runs inside one
store transaction (``tx``) and returns the operation's output as a botocore-shaped dict (the
protocol layer serialises it).  Failures raise :class:`~trailgate.protocol.errors.ServiceError`.
Providers never decide access: the gateway's authorize step has already done that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..gateway.context import Principal


@dataclass(frozen=True)
class Call:
    account: str  # the account the operation acts in (the caller's account)
    principal: Principal
    params: dict[str, Any]
    region: str
    request_id: str
    now: datetime
