"""The digest signing keys (spec 8.3, 8.5): one RSA-2048 key pair per region, rotated.

Records
-------
``cloudtrail.signingkey`` in the store account ``__cloudtrail__``, key
``REGION/YYYYMMDDTHHMMSSZ/FINGERPRINT`` (validity start, so a region's keys list oldest first):
    Region, Fingerprint (lowercase hex MD5 of ``PublicKey``), PublicKey (base64 of the DER
    PKCS#1 ``RSAPublicKey`` - what ListPublicKeys returns as ``Value``), PrivateKey (the PKCS#8
    PEM sealed with :func:`trailgate.auth.tokens.encrypt_secret` under the data dir's master
    key, context ``cloudtrail-signing-key:REGION:FINGERPRINT``), ValidityStartTime,
    ValidityEndTime (ISO 8601 UTC; the end is the planned rotation time of the current key and
    the actual retirement time of a retired one), Retired (bool).

The current key of a region is its newest non-retired key whose end lies in the future.  A
key is only used while it is current, so "every key whose private half signed digests in a
window" (ListPublicKeys) is every key whose validity range overlaps the window.

Key generation (~0.1 s) happens outside the store transaction; the transaction then inserts
the key only if the region still has no current key (two workers racing keep one key).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .. import clock as default_clock
from ..auth.tokens import decrypt_secret, encrypt_secret
from ..store.interface import Store, Tx

NS: Final = "__cloudtrail__"
KIND: Final = "cloudtrail.signingkey"
KEY_BITS: Final = 2048
DEFAULT_ROTATION: Final = timedelta(days=30)
"""How long a key stays current (AWS's published keys are valid for 30 days)."""
SIGNATURE_ALGORITHM: Final = "SHA256withRSA"


def fingerprint(der: bytes) -> str:
    """The key's fingerprint as digests and ListPublicKeys name it: hex MD5 of the DER."""
    return hashlib.md5(der, usedforsecurity=False).hexdigest()


def public_der(key: rsa.RSAPublicKey) -> bytes:
    """DER of the PKCS#1 ``RSAPublicKey`` (``MIIBCgKCAQEA...`` in base64 for 2048 bits)."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def string_to_sign(
    end_time: str, bucket: str, key: str, digest_sha256: str, previous_signature: str | None
) -> bytes:
    """The exact bytes a digest's signature covers (spec 8.3)."""
    previous = "null" if previous_signature is None else previous_signature
    return f"{end_time}\n{bucket}/{key}\n{digest_sha256}\n{previous}".encode()


def iso_seconds(moment: datetime) -> str:
    """``2026-03-01T12:00:00Z`` (the digest's time format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_seconds(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class PublicKey:
    """One region's public key with its validity range."""

    region: str
    fingerprint: str
    der: bytes
    valid_from: datetime
    valid_until: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.valid_from <= end and self.valid_until > start

    def load(self) -> rsa.RSAPublicKey:
        key = serialization.load_der_public_key(self.der)
        if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - we only store RSA
            raise ValueError("not an RSA public key")
        return key

    def to_json(self) -> dict[str, Any]:
        """The export format (``trailgate keys export``)."""
        return {
            "region": self.region,
            "fingerprint": self.fingerprint,
            "value": base64.b64encode(self.der).decode("ascii"),
            "validityStartTime": _iso(self.valid_from),
            "validityEndTime": _iso(self.valid_until),
        }

    @staticmethod
    def from_json(item: dict[str, Any]) -> PublicKey:
        der = base64.b64decode(str(item["value"]))
        return PublicKey(
            region=str(item.get("region") or ""),
            fingerprint=str(item.get("fingerprint") or fingerprint(der)),
            der=der,
            valid_from=datetime.fromisoformat(str(item["validityStartTime"])),
            valid_until=datetime.fromisoformat(str(item["validityEndTime"])),
        )


@dataclass(frozen=True)
class SigningKey:
    """The current key of a region: signs digests (RSASSA-PKCS1-v1_5 with SHA-256)."""

    public: PublicKey
    private: rsa.RSAPrivateKey

    def sign(self, message: bytes) -> str:
        """The lowercase hex signature of ``message``."""
        return self.private.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


def _public(record: dict[str, Any]) -> PublicKey:
    return PublicKey(
        region=str(record["Region"]),
        fingerprint=str(record["Fingerprint"]),
        der=base64.b64decode(str(record["PublicKey"])),
        valid_from=datetime.fromisoformat(str(record["ValidityStartTime"])),
        valid_until=datetime.fromisoformat(str(record["ValidityEndTime"])),
    )


def _context(region: str, fp: str) -> str:
    return f"cloudtrail-signing-key:{region}:{fp}"


def _current_record(tx: Tx, region: str, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """(store key, record) of the region's current key, or None."""
    for entity in reversed(tx.scan(NS, KIND, prefix=f"{region}/")):
        data = entity.data
        if data.get("Retired"):
            continue
        if datetime.fromisoformat(str(data["ValidityEndTime"])) > now:
            return entity.key, data
    return None


# -- reads usable inside any transaction ------------------------------------------------------


def public_keys(tx: Tx, region: str, start: datetime, end: datetime) -> list[PublicKey]:
    """Every key of ``region`` whose validity overlaps ``[start, end]``, oldest first."""
    found = (_public(r) for r in tx.list(NS, KIND, prefix=f"{region}/"))
    return [key for key in found if key.overlaps(start, end)]


def all_public_keys(tx: Tx) -> list[PublicKey]:
    """Every key of every region (``trailgate keys export``)."""
    return [_public(r) for r in tx.list(NS, KIND)]


def key_regions(tx: Tx) -> list[str]:
    return sorted({str(r["Region"]) for r in tx.list(NS, KIND)})


# -- the key store ----------------------------------------------------------------------------


class KeyStore:
    """Creates, rotates and unseals the signing keys kept in ``store``.

    ``current(region)`` returns the region's current key, creating the first one or rotating an
    expired one as needed; ``rotate(region)`` retires the current key now and makes a new one.
    Decrypted private keys are cached by fingerprint."""

    def __init__(
        self,
        store: Store,
        master_key: bytes,
        *,
        rotation: timedelta = DEFAULT_ROTATION,
        clock: Callable[[], datetime] = default_clock.now,
    ) -> None:
        if rotation <= timedelta(0):
            raise ValueError("rotation must be positive")
        self.store = store
        self.master_key = master_key
        self.rotation = rotation
        self.clock = clock
        self._cache: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def current(self, region: str, now: datetime | None = None) -> SigningKey:
        moment = now or self.clock()
        found = self.store.read(lambda tx: _current_record(tx, region, moment))
        if found is None:
            found = self._install(region, moment, retire=False)
        return self._unseal(found[1])

    def rotate(self, region: str, now: datetime | None = None) -> PublicKey:
        """Retire the region's current key (if any) and make a new current one."""
        moment = now or self.clock()
        _, record = self._install(region, moment, retire=True)
        return _public(record)

    def public_keys(self, region: str, start: datetime, end: datetime) -> list[PublicKey]:
        return self.store.read(lambda tx: public_keys(tx, region, start, end))

    # -- internals --------------------------------------------------------------------------

    def _install(
        self, region: str, now: datetime, *, retire: bool
    ) -> tuple[str, dict[str, Any]]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        der = public_der(private.public_key())
        fp = fingerprint(der)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        record = {
            "Region": region,
            "Fingerprint": fp,
            "PublicKey": base64.b64encode(der).decode("ascii"),
            "PrivateKey": encrypt_secret(self.master_key, pem, context=_context(region, fp)),
            "ValidityStartTime": _iso(now),
            "ValidityEndTime": _iso(now + self.rotation),
            "Retired": False,
        }
        key = f"{region}/{_compact(now)}/{fp}"

        def install(tx: Tx) -> tuple[str, dict[str, Any]]:
            current = _current_record(tx, region, now)
            if current is not None and not retire:
                return current  # another worker made one meanwhile
            if current is not None:
                old_key, old = current
                old.update(Retired=True, ValidityEndTime=_iso(now))
                tx.put(NS, KIND, old_key, region, old)
            tx.put(NS, KIND, key, region, record)
            return key, record

        result: tuple[str, dict[str, Any]] = self.store.write_sync(install)
        if result[0] == key:
            with self._lock:
                self._cache[fp] = private
        return result

    def _unseal(self, record: dict[str, Any]) -> SigningKey:
        public = _public(record)
        with self._lock:
            private = self._cache.get(public.fingerprint)
        if private is None:
            pem = decrypt_secret(
                self.master_key,
                str(record["PrivateKey"]),
                context=_context(public.region, public.fingerprint),
            )
            loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):  # pragma: no cover
                raise ValueError("stored signing key is not RSA")
            private = loaded
            with self._lock:
                self._cache[public.fingerprint] = private
        return SigningKey(public, private)
