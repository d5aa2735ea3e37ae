"""TOTP MFA (spec 4.3): window, replay refusal, consecutive codes, QR enrolment."""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from trailgate.auth.mfa import MfaVerifier, new_seed, provisioning_uri, qr_png

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a step
STEP = int(NOW.timestamp()) // 30


def _code(step: int, seed: str = SEED) -> str:
    return pyotp.TOTP(seed).generate_otp(step)


def test_rfc6238_vector() -> None:
    """RFC 6238 appendix B (SHA1, T=59 -> 94287082, last 6 digits)."""
    seed = base64.b32encode(b"12345678901234567890").decode()
    verifier = MfaVerifier()
    at = datetime.fromtimestamp(59, UTC)
    assert verifier.verify(seed, "287082", None, at) == 1


def test_window_is_current_step_plus_minus_one() -> None:
    verifier = MfaVerifier()
    assert verifier.verify(SEED, _code(STEP), None, NOW) == STEP
    assert verifier.verify(SEED, _code(STEP - 1), None, NOW) == STEP - 1
    assert verifier.verify(SEED, _code(STEP + 1), None, NOW) == STEP + 1
    assert verifier.verify(SEED, _code(STEP - 2), None, NOW) is None
    assert verifier.verify(SEED, _code(STEP + 2), None, NOW) is None
    assert MfaVerifier(window=2).verify(SEED, _code(STEP - 2), None, NOW) == STEP - 2


def test_replay_is_refused() -> None:
    verifier = MfaVerifier()
    accepted = verifier.verify(SEED, _code(STEP), None, NOW)
    assert accepted == STEP
    assert verifier.verify(SEED, _code(STEP), accepted, NOW) is None
    assert verifier.check(SEED, _code(STEP), accepted, NOW).status == "replay"
    # an older code inside the window is refused too (steps <= last used)
    assert verifier.verify(SEED, _code(STEP - 1), accepted, NOW) is None
    # the next step is fine, also 30 s later with the same code
    assert verifier.verify(SEED, _code(STEP + 1), accepted, NOW) == STEP + 1
    later = NOW + timedelta(seconds=30)
    assert verifier.verify(SEED, _code(STEP), accepted, later) is None


def test_check_classifies() -> None:
    verifier = MfaVerifier()
    assert verifier.check(SEED, _code(STEP), None, NOW).status == "ok"
    wrong = f"{(int(_code(STEP)) + 1) % 1_000_000:06d}"
    if wrong not in {_code(STEP - 1), _code(STEP + 1)}:
        assert verifier.check(SEED, wrong, None, NOW).status == "invalid"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", " 12345", "１２３４５６", None])
def test_malformed_codes(code: object) -> None:
    assert MfaVerifier().verify(SEED, code, None, NOW) is None  # type: ignore[arg-type]


def test_bad_seed() -> None:
    assert MfaVerifier().verify("not base32 !!", "123456", None, NOW) is None
    assert MfaVerifier().verify_consecutive("1", "123456", "123456", NOW) is None


def test_consecutive_codes() -> None:
    verifier = MfaVerifier()
    assert verifier.verify_consecutive(SEED, _code(STEP - 1), _code(STEP), NOW) == STEP
    assert verifier.verify_consecutive(SEED, _code(STEP), _code(STEP + 1), NOW) == STEP + 1
    assert verifier.verify_consecutive(SEED, _code(STEP), _code(STEP - 1), NOW) is None
    assert verifier.verify_consecutive(SEED, _code(STEP), _code(STEP), NOW) is None
    assert verifier.verify_consecutive(SEED, _code(STEP - 1), _code(STEP + 1), NOW) is None
    # resync: a drifted device (5 minutes) is still found, a far one is not
    assert verifier.verify_consecutive(SEED, _code(STEP - 10), _code(STEP - 9), NOW) == STEP - 9
    assert verifier.verify_consecutive(SEED, _code(STEP + 40), _code(STEP + 41), NOW) is None


def test_new_seed() -> None:
    seed = new_seed()
    assert len(seed) == 32 and seed.isupper()
    pyotp.TOTP(seed).now()  # valid base32
    assert new_seed() != seed


def test_provisioning_uri() -> None:
    uri = provisioning_uri(SEED, "alice@222222222222", "trailgate")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["secret"] == [SEED] and query["issuer"] == ["trailgate"]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_qr_png_is_a_valid_png() -> None:
    pytest.importorskip("segno")
    png = qr_png(SEED, "alice@222222222222", "trailgate")
    chunks = _png_chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width == height and width >= 21 * 4
    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    assert zlib.decompress(idat)


def _png_modules(png: bytes, scale: int = 4, border: int = 4) -> list[list[bool]]:
    """Dark modules of a 1-bit greyscale PNG, sampling one pixel per scale x scale cell."""
    chunks = _png_chunks(png)
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + (width + 7) // 8
    rows, previous = [], bytes(stride - 1)
    for y in range(height):
        kind, line = raw[y * stride], raw[y * stride + 1 : (y + 1) * stride]
        assert kind in (0, 2)  # None or Up: what segno writes
        if kind == 2:
            line = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        previous = line
        rows.append([not (line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
    size = width // scale - 2 * border
    return [
        [rows[(border + r) * scale][(border + c) * scale] for c in range(size)] for r in range(size)
    ]


def test_qr_png_pixels_are_the_qr_symbol_of_the_uri() -> None:
    segno = pytest.importorskip("segno")

    uri = provisioning_uri(SEED, "alice@222222222222", "trailgate")
    expected = [[bool(v) for v in row] for row in segno.make(uri, error="m", micro=False).matrix]
    assert _png_modules(qr_png(SEED, "alice@222222222222", "trailgate")) == expected


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools not installed")
def test_qr_png_decodes_with_zbar(tmp_path: Path) -> None:
    pytest.importorskip("segno")
    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(SEED, "alice@222222222222", "trailgate"))
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == provisioning_uri(SEED, "alice@222222222222", "trailgate")
