"""The protection of service-linked roles: which role changes users may not make.

See :mod:`.service_linked` for the AWS facts; roles record their service in ``ServiceLinked``.
"""

from __future__ import annotations

from typing import Any

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from .common import ROLE


def protected(role_name: str) -> ServiceError:
    return ServiceError(
        "UnmodifiableEntity",
        f"Cannot perform the operation on the protected role '{role_name}' - this role is "
        "only modifiable by AWS",
        400,
    )


def guard_role(tx: Tx, account: str, role_name: Any, *, duration: bool = False) -> None:
    """Refuse a change users may not make to a service-linked role (nothing for other roles
    or unknown names: the operation's own checks answer those)."""
    if not isinstance(role_name, str):
        return
    data = tx.get(account, ROLE, role_name.lower())
    if data is None or not data.get("ServiceLinked"):
        return
    if duration:
        raise ServiceError(
            "UnmodifiableEntity",
            f"{data['RoleName']} is an AWS service linked role, max session duration cannot "
            "be changed.",
            400,
        )
    raise protected(data["RoleName"])
