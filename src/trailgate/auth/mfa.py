"""Virtual MFA devices: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps) via pyotp (spec 4.3).

A code is usable once: callers keep the last accepted time step per device and pass it back;
codes for steps <= it are refused (replay).  QR codes for enrolment are drawn with segno
(optional dependency, imported lazily by :func:`qr_png`).
"""

from __future__ import annotations

import binascii
import hmac
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import pyotp

DIGITS: Final = 6
INTERVAL: Final = 30


def new_seed() -> str:
    """A new random base32 seed (160 bits, 32 characters), as shown by CreateVirtualMFADevice."""
    return pyotp.random_base32()


def provisioning_uri(seed: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app enrols from."""
    return pyotp.TOTP(seed, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account_name, issuer_name=issuer
    )


def qr_png(seed: str, account_name: str, issuer: str, *, scale: int = 4) -> bytes:
    """A PNG QR code of :func:`provisioning_uri` (CreateVirtualMFADevice's QRCodePNG).

    Needs the ``segno`` package (pure Python, no dependencies); imported here so that the rest
    of MFA works without it."""
    import segno  # type: ignore[import-not-found, unused-ignore]

    qr = segno.make(provisioning_uri(seed, account_name, issuer), error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class MfaCheck:
    """Outcome of one code: ``ok`` (with the accepted ``step``), ``replay`` (the code is right
    but its step was already used) or ``invalid``."""

    status: Literal["ok", "replay", "invalid"]
    step: int | None = None


class MfaVerifier:
    """TOTP checks with a tolerance of ``window`` steps either side of the current step."""

    def __init__(self, *, window: int = 1, consecutive_window: int = 10) -> None:
        self.window = window
        self.consecutive_window = consecutive_window

    def check(self, seed: str, code: str, last_used_step: int | None, now: datetime) -> MfaCheck:
        """Classify ``code`` (see :class:`MfaCheck`); the current step is tried first."""
        otp = _totp(seed)
        if otp is None or not _well_formed(code):
            return MfaCheck("invalid")
        current = _step(now)
        replayed = False
        for step in _steps_around(current, self.window):
            if step < 0 or not hmac.compare_digest(otp.generate_otp(step), code):
                continue
            if last_used_step is not None and step <= last_used_step:
                replayed = True
                continue
            return MfaCheck("ok", step)
        return MfaCheck("replay") if replayed else MfaCheck("invalid")

    def verify(self, seed: str, code: str, last_used_step: int | None, now: datetime) -> int | None:
        """The accepted step (store it as the device's last used step), or None."""
        return self.check(seed, code, last_used_step, now).step

    def verify_consecutive(self, seed: str, code1: str, code2: str, now: datetime) -> int | None:
        """EnableMFADevice / ResyncMFADevice: ``code1`` and ``code2`` must be the codes of two
        consecutive steps n, n+1 within ``consecutive_window`` steps of now.  Returns n+1 (the
        step to store as last used), or None."""
        otp = _totp(seed)
        if otp is None or not (_well_formed(code1) and _well_formed(code2)):
            return None
        current = _step(now)
        for step in _steps_around(current, self.consecutive_window):
            if step < 0:
                continue
            if hmac.compare_digest(otp.generate_otp(step), code1) and hmac.compare_digest(
                otp.generate_otp(step + 1), code2
            ):
                return step + 1
        return None


def _totp(seed: str) -> pyotp.TOTP | None:
    try:  # pyotp decodes (and checks the length of) the seed here
        return pyotp.TOTP(seed, digits=DIGITS, interval=INTERVAL)
    except (binascii.Error, ValueError, TypeError):
        return None


def _well_formed(code: str) -> bool:
    return isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()


def _step(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def _steps_around(current: int, window: int) -> list[int]:
    """current, current-1, current+1, current-2, ... (closest first)."""
    steps = [current]
    for distance in range(1, window + 1):
        steps += [current - distance, current + distance]
    return steps


__all__ = [
    "MfaCheck",
    "MfaVerifier",
    "new_seed",
    "provisioning_uri",
    "qr_png",
]
