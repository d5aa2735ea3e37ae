"""Sealed session tokens, secrets at rest, identifiers and the master key file."""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

import pytest

from trailgate.auth.tokens import (
    TOKEN_VERSION,
    TokenError,
    TokenSealer,
    account_of_key_id,
    decrypt_secret,
    encrypt_secret,
    load_or_create_master_key,
    new_access_key_id,
    new_secret_access_key,
    new_unique_id,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CLAIMS = {
    "akid": "ASIAABCDEFGHIJKLMNOP",
    "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "account": "222222222222",
    "role_arn": "arn:aws:iam::111111111111:role/reader",
    "session": "alice-session",
    "exp": 1767225600,
    "mfa": True,
    "mfa_at": 1767222000,
    "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    "policy": None,
    "name": "unicode é ✓",
}


def test_round_trip() -> None:
    sealer = TokenSealer(KEY)
    token = sealer.seal(CLAIMS)
    assert token.startswith(TOKEN_VERSION)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert sealer.open(token) == CLAIMS


def test_tokens_are_randomised() -> None:
    sealer = TokenSealer(KEY)
    assert sealer.seal(CLAIMS) != sealer.seal(CLAIMS)


def _alternatives(char: str) -> list[str]:
    return [c for c in ("A", "b", "0", "-", "_", "=", "+", "/", ".", " ", "é") if c != char]


@pytest.mark.parametrize("claims", [CLAIMS, {}, {"a": "x" * 5}])
def test_any_single_character_change_is_rejected(claims: dict[str, object]) -> None:
    sealer = TokenSealer(KEY)
    token = sealer.seal(claims)
    for i, char in enumerate(token):
        for replacement in _alternatives(char):
            with pytest.raises(TokenError):
                sealer.open(token[:i] + replacement + token[i + 1 :])


def test_any_single_byte_flip_is_rejected() -> None:
    sealer = TokenSealer(KEY)
    raw = sealer.seal(CLAIMS).encode()
    for i in range(len(raw)):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << bit
            with pytest.raises(TokenError):
                sealer.open(bytes(flipped).decode("latin-1"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1],
        lambda t: t[: len(TOKEN_VERSION) + 10],
        lambda t: t + "A",
        lambda t: t + "=",
        lambda t: t + "==",
        lambda t: "X" + t,
        lambda t: t[len(TOKEN_VERSION) :],
        lambda t: "",
        lambda t: TOKEN_VERSION,
        lambda t: t.replace("-", "+").replace("_", "/"),
    ],
)
def test_truncation_and_garbage(mutate: object) -> None:
    sealer = TokenSealer(KEY)
    token = sealer.seal(CLAIMS)
    changed = mutate(token)  # type: ignore[operator]
    if changed == token:
        pytest.skip("mutation had no effect on this token")
    with pytest.raises(TokenError):
        sealer.open(changed)


def test_wrong_key_and_rotation() -> None:
    token = TokenSealer(KEY).seal(CLAIMS)
    with pytest.raises(TokenError):
        TokenSealer(OTHER_KEY).open(token)
    rotated = TokenSealer(OTHER_KEY, previous_keys=[KEY])
    assert rotated.open(token) == CLAIMS
    assert TokenSealer(OTHER_KEY).open(rotated.seal(CLAIMS)) == CLAIMS


def test_bad_keys_and_claims() -> None:
    with pytest.raises(ValueError):
        TokenSealer(b"short")
    from datetime import UTC, datetime

    with pytest.raises(TypeError):
        TokenSealer(KEY).seal({"when": datetime.now(UTC)})


def test_secret_at_rest() -> None:
    blob = encrypt_secret(KEY, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert "wJalr" not in blob
    assert decrypt_secret(KEY, blob) == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert encrypt_secret(KEY, "s") != encrypt_secret(KEY, "s")
    with pytest.raises(TokenError):
        decrypt_secret(OTHER_KEY, blob)
    with pytest.raises(TokenError):
        decrypt_secret(KEY, blob, context="something-else")
    bound = encrypt_secret(KEY, "s3cr3t", context="access-key:AKIAAAAAAAAAAAAAAAAA")
    assert decrypt_secret(KEY, bound, context="access-key:AKIAAAAAAAAAAAAAAAAA") == "s3cr3t"
    with pytest.raises(TokenError):
        decrypt_secret(KEY, bound, context="access-key:AKIABBBBBBBBBBBBBBBB")
    for i in range(len(blob)):
        changed = blob[:i] + ("A" if blob[i] != "A" else "B") + blob[i + 1 :]
        with pytest.raises(TokenError):
            decrypt_secret(KEY, changed)


def test_secret_blob_is_not_a_token() -> None:
    blob = encrypt_secret(KEY, "s")
    with pytest.raises(TokenError):
        TokenSealer(KEY).open(blob)


def test_identifiers() -> None:
    for prefix in ("AKIA", "ASIA"):
        akid = new_access_key_id(prefix)
        assert re.fullmatch(prefix + r"[A-Z2-7]{16}", akid)  # base32, as AWS
    assert new_access_key_id().startswith("AKIA")
    with pytest.raises(ValueError):
        new_access_key_id("AIDA")
    secret = new_secret_access_key()
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", secret)
    uid = new_unique_id("AROA")
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", uid)
    assert len({new_unique_id("AIDA") for _ in range(200)}) == 200
    with pytest.raises(ValueError):
        new_unique_id("aida")


def test_master_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    key = load_or_create_master_key(data_dir)
    assert len(key) == 32
    path = data_dir / "master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes() == key
    assert load_or_create_master_key(data_dir) == key
    assert sorted(p.name for p in data_dir.iterdir()) == ["master.key"]  # no temp files left


def test_master_key_rejects_wrong_size(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_bytes(b"short")
    with pytest.raises(ValueError):
        load_or_create_master_key(tmp_path)


def test_master_key_concurrent_creation_agrees(tmp_path: Path) -> None:
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(load_or_create_master_key(tmp_path))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


@pytest.mark.parametrize("account", ["000000000000", "111111111111", "204023883010", "999999999999"])
@pytest.mark.parametrize("prefix", ["AKIA", "ASIA"])
def test_access_key_ids_encode_their_account(prefix: str, account: str) -> None:
    key_id = new_access_key_id(prefix, account)
    assert re.fullmatch(prefix + r"[A-Z2-7]{16}", key_id)
    assert account_of_key_id(key_id) == account


@pytest.mark.parametrize(
    ("key_id", "account"),
    [
        ("ASIAQNZGKIQY56JQ7WML", "029608264753"),  # the published example of AWS's layout
        ("AKIA1", None),
        ("AKIA0000000000000000", None),  # 0 and 1 are not base32
    ],
)
def test_account_of_key_id(key_id: str, account: str | None) -> None:
    assert account_of_key_id(key_id) == account
