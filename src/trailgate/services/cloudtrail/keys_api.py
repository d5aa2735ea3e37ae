"""``ListPublicKeys`` (spec 8.5): the public halves of the digest signing keys of the called
region whose validity overlaps ``[StartTime, EndTime]`` (both default to now, which returns the
current key).  ``Value`` is the DER of the PKCS#1 ``RSAPublicKey`` (the JSON protocol
base64-encodes it once).  Keys live in :mod:`trailgate.trail.keys`.

A region of AWS always has a current key, also before any digest was signed there: when the
window asked for includes now and the region has no current key yet, the provider's key store
makes it first (in ``prepare_ListPublicKeys``, outside the store's writer), and that key signs
the region's next digests."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ...trail.keys import KeyStore, public_keys
from ..base import Call


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 400)


def _moment(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    raise _error("InvalidTimeRangeException", f"Invalid time: {value!r}.")


def _offset(token: Any, binding: list[Any]) -> int:
    if token is None:
        return 0
    invalid = _error("InvalidTokenException", "Reusing a token with different arguments is "
                     "not supported.")
    if not isinstance(token, str) or not token:
        raise invalid
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("q") != binding or not isinstance(data.get("o"), int):
        raise invalid
    return int(data["o"])


class PublicKeyOps:
    """``ListPublicKeys``, mixed into the CloudTrail provider.  ``keys`` (the digest writer's
    key store) makes a region's first key; without it only existing keys are listed."""

    keys: KeyStore | None = None

    def prepare_ListPublicKeys(self, call: Call) -> None:
        if self.keys is None:
            return
        try:
            start = _moment(call.params.get("StartTime"), call.now)
            end = _moment(call.params.get("EndTime"), call.now)
        except ServiceError:
            return  # ListPublicKeys itself answers the error
        if start <= call.now <= end:
            self.keys.current(call.region, call.now)

    def ListPublicKeys(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        start = _moment(params.get("StartTime"), call.now)
        end = _moment(params.get("EndTime"), call.now)
        if start > end:
            raise _error(
                "InvalidTimeRangeException",
                "Start time must be earlier than or equal to end time.",
            )
        binding = [call.region, start.timestamp(), end.timestamp()]
        offset = _offset(params.get("NextToken"), binding)
        keys = public_keys(tx, call.region, start, end)
        # Every key in ONE response: NextToken is "Reserved for future use" (API reference),
        # and the AWS CLI's validate-logs reads only the first page.
        return {
            "PublicKeyList": [
                {
                    "Value": key.der,
                    "ValidityStartTime": key.valid_from,
                    "ValidityEndTime": key.valid_until,
                    "Fingerprint": key.fingerprint,
                }
                for key in keys[offset:]
            ]
        }
