"""Sealed session tokens, secrets at rest, and identifier generation.

Session tokens are self-contained: the claims (session access key id and secret, account,
role/user, session name, expiry, MFA state, session policy references...) are serialised with
orjson and sealed with AES-256-GCM.  Format::

    "TG1" + base64url_nopad(nonce[12] + ciphertext + tag[16])

The version tag is also bound as associated data, so a token cannot be re-labelled.  Decoding
is strict (the base64 text must be the canonical encoding of its bytes), so changing any single
character of a token makes :meth:`TokenSealer.open` fail.

The master key lives in ``<data_dir>/master.key`` (32 random bytes, mode 0600, written
atomically); :func:`load_or_create_master_key` is the only I/O of the auth primitives.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
import secrets
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION: Final = "TG1"
SECRET_VERSION: Final = "S1"
KEY_FILE_NAME: Final = "master.key"
KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_TOKEN_AAD: Final = b"trailgate/session-token/" + TOKEN_VERSION.encode()
_SECRET_AAD: Final = b"trailgate/secret/" + SECRET_VERSION.encode() + b"/"
_BASE32: Final = string.ascii_uppercase + "234567"
"""The characters of AWS's access key ids and unique ids after their prefix (base32)."""
_B64_ALPHABET: Final = string.ascii_letters + string.digits + "+/"


class TokenError(ValueError):
    """A token or sealed blob that is malformed, tampered with, or sealed under another key."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict url-safe base64 without padding: rejects any non-canonical spelling."""
    try:
        raw = text.encode("ascii")
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise TokenError("not base64") from None
    if _b64encode(data) != text:  # unused low bits of the last character, stray '=' ...
        raise TokenError("non-canonical base64")
    return data


def _seal(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, aad)


def _unseal(aeads: Sequence[AESGCM], blob: bytes, aad: bytes) -> bytes:
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise TokenError("truncated")
    nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    for aead in aeads:
        try:
            return aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            continue
    raise TokenError("authentication failed")


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
    return key


class TokenSealer:
    """Seal/open session-token claims with AES-256-GCM.

    ``previous_keys`` are tried by :meth:`open` only, so the master key can be rotated while
    tokens sealed under the old key are still valid.
    """

    def __init__(self, key: bytes, previous_keys: Sequence[bytes] = ()) -> None:
        keys = (_check_key(key), *(_check_key(k) for k in previous_keys))
        self._aeads = tuple(AESGCM(k) for k in keys)

    def seal(self, claims: dict[str, Any]) -> str:
        """Claims must be JSON-native (str, int, float, bool, None, list, dict with str keys);
        datetimes are refused so that :meth:`open` returns exactly what was sealed (use epoch
        seconds)."""
        payload = orjson.dumps(
            claims, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
        )
        return TOKEN_VERSION + _b64encode(_seal(self._aeads[0], payload, _TOKEN_AAD))

    def open(self, token: str) -> dict[str, Any]:
        """The claims of ``token``; :class:`TokenError` on any malformation or tampering."""
        if not isinstance(token, str) or not token.startswith(TOKEN_VERSION):
            raise TokenError("unknown token version")
        plaintext = _unseal(self._aeads, _b64decode(token[len(TOKEN_VERSION) :]), _TOKEN_AAD)
        try:
            claims = orjson.loads(plaintext)
        except orjson.JSONDecodeError:
            raise TokenError("bad claims") from None
        if not isinstance(claims, dict):
            raise TokenError("bad claims")
        return claims


def encrypt_secret(key: bytes, plaintext: str, context: str = "secret-access-key") -> str:
    """Encrypt a secret for storage (AES-256-GCM, random nonce).

    ``context`` is bound as associated data: pass what the secret belongs to (e.g.
    ``"access-key:AKIA..."``) so a blob copied to another row does not decrypt there.
    """
    aad = _SECRET_AAD + context.encode()
    sealed = _seal(AESGCM(_check_key(key)), plaintext.encode(), aad)
    return SECRET_VERSION + "." + _b64encode(sealed)


def decrypt_secret(key: bytes, blob: str, context: str = "secret-access-key") -> str:
    """Inverse of :func:`encrypt_secret`; :class:`TokenError` on tampering or wrong key/context."""
    prefix = SECRET_VERSION + "."
    if not isinstance(blob, str) or not blob.startswith(prefix):
        raise TokenError("unknown secret format")
    aad = _SECRET_AAD + context.encode()
    plaintext = _unseal((AESGCM(_check_key(key)),), _b64decode(blob[len(prefix) :]), aad)
    try:
        return plaintext.decode()
    except UnicodeDecodeError:
        raise TokenError("bad secret") from None


def _random_chars(alphabet: str, count: int) -> str:
    """``count`` uniform picks from ``alphabet`` from ONE read of the system's randomness
    (rejection sampling keeps the picks uniform; one syscall instead of one per character)."""
    table, reject = _tables(alphabet)
    out = b""
    while len(out) < count:
        out += secrets.token_bytes(count * 2).translate(table, reject)
    return out[:count].decode("ascii")


@functools.cache
def _tables(alphabet: str) -> tuple[bytes, bytes]:
    """``bytes.translate`` arguments mapping a random byte to a character of ``alphabet``
    (byte % size) and deleting the bytes >= the largest multiple of size (they would bias
    the modulo)."""
    size = len(alphabet)
    limit = 256 - 256 % size
    table = bytes(ord(alphabet[b % size]) for b in range(256))
    return table, bytes(range(limit, 256))


# Where AWS's access key ids carry the owning account: bits 46..7 of the first six bytes of
# the base32-decoded part after the prefix (what GetAccessKeyInfo and offline tools read).
_ACCOUNT_MASK: Final = 0x7FFFFFFFFF80


def new_access_key_id(prefix: str = "AKIA", account: str | None = None) -> str:
    """``AKIA`` (long-term) or ``ASIA`` (temporary) + 16 characters of the base32 alphabet
    (A-Z, 2-7), as AWS's (spec 3.1); with ``account``, the id encodes that account where AWS
    puts it (:func:`account_of_key_id` reads it back)."""
    if prefix not in ("AKIA", "ASIA"):
        raise ValueError("access key id prefix must be AKIA or ASIA")
    if account is None:
        return prefix + _random_chars(_BASE32, 16)
    raw = bytearray(secrets.token_bytes(10))
    head = int.from_bytes(raw[:6], "big") & ~_ACCOUNT_MASK
    head |= (int(account) << 7) & _ACCOUNT_MASK
    raw[:6] = head.to_bytes(6, "big")
    return prefix + base64.b32encode(bytes(raw)).decode("ascii")


def account_of_key_id(key_id: str) -> str | None:
    """The 12-digit account an access key id encodes (AWS's layout), or None when the text
    after the 4-character prefix is not 16 base32 characters."""
    body = key_id[4:]
    if len(body) != 16:
        return None
    try:
        raw = base64.b32decode(body)
    except (binascii.Error, ValueError):
        return None
    return f"{(int.from_bytes(raw[:6], 'big') & _ACCOUNT_MASK) >> 7:012d}"


def new_secret_access_key() -> str:
    """40 characters of the base64 alphabet, like AWS secret access keys."""
    return _random_chars(_B64_ALPHABET, 40)


def new_unique_id(prefix: str) -> str:
    """A unique id such as ``AIDA`` / ``AROA`` / ``ANPA`` + 17 base32 characters (A-Z, 2-7)."""
    if len(prefix) != 4 or not prefix.isalpha() or not prefix.isupper():
        raise ValueError("unique id prefix must be 4 uppercase letters")
    return prefix + _random_chars(_BASE32, 17)


def load_or_create_master_key(data_dir: Path) -> bytes:
    """The 32-byte master key of ``data_dir``, created on first use.

    Creation is atomic and race-safe: the key is written to a temporary file (mode 0600),
    fsynced, then hard-linked into place, which fails if another process won the race (its key
    is then used).  The directory is fsynced so the key survives a crash.
    """
    path = data_dir / KEY_FILE_NAME
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(data_dir)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} must hold exactly {KEY_BYTES} bytes, found {len(key)}")
    return key


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "KEY_BYTES",
    "TOKEN_VERSION",
    "TokenError",
    "TokenSealer",
    "account_of_key_id",
    "decrypt_secret",
    "encrypt_secret",
    "load_or_create_master_key",
    "new_access_key_id",
    "new_secret_access_key",
    "new_unique_id",
]
