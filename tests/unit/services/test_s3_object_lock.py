"""S3 Object Lock's rules as pure functions (:mod:`trailgate.services.s3.object_lock`): the
bucket configuration, a write's lock, the integrity rule, and the decisions on deleting a
version and changing its retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trailgate.protocol.errors import ServiceError
from trailgate.services.s3.object_lock import (
    LOCKED,
    check_versioning_change,
    configuration_view,
    creation_lock,
    delete_refusal,
    lock_for_write,
    lock_view,
    parse_configuration,
    remaining_days,
    retention_change_refusal,
)

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
LOCK_BUCKET: dict[str, Any] = {"Name": "b", "Versioning": "Enabled",
                               "ObjectLock": {"Enabled": True}}


def _date(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat(timespec="milliseconds")


def _code(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str, int] | None:
    try:
        fn(*args, **kwargs)
    except ServiceError as err:
        return err.code, err.message, err.status
    return None


def test_creation_lock_enables_versioning() -> None:
    assert creation_lock({"ObjectLockEnabledForBucket": True}) == {
        "Versioning": "Enabled", "ObjectLock": {"Enabled": True}}
    assert creation_lock({"ObjectLockEnabledForBucket": False}) == {}
    assert creation_lock({}) == {}


@pytest.mark.parametrize(("config", "stored"), [
    ({"ObjectLockEnabled": "Enabled"}, {"Enabled": True}),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}},
     {"Enabled": True, "Rule": {"Mode": "COMPLIANCE", "Days": 30}}),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}},
     {"Enabled": True, "Rule": {"Mode": "GOVERNANCE", "Years": 1}}),
])
def test_configuration_round_trip(config: dict[str, Any], stored: dict[str, Any]) -> None:
    assert parse_configuration(config) == stored
    assert configuration_view(stored) == config


@pytest.mark.parametrize(("config", "code", "message"), [
    (None, "MalformedXML", None),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Days": 1}}},
     "MalformedXML", None),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 36_501}}},
     "InvalidArgument", "Default retention period too large."),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 0}}},
     "InvalidArgument", "Default retention period must be a positive integer value"),
])
def test_invalid_configuration(config: Any, code: str, message: str | None) -> None:
    found = _code(parse_configuration, config)
    assert found is not None and found[0] == code
    if message is not None:
        assert found[1] == message


def test_versioning_of_a_lock_bucket_stays_enabled() -> None:
    check_versioning_change(LOCK_BUCKET, "Enabled")
    assert _code(check_versioning_change, LOCK_BUCKET, "Suspended") == (
        "InvalidBucketState", "An Object Lock configuration is present on this bucket, so the "
        "versioning state cannot be changed.", 409)
    check_versioning_change({"Name": "b"}, "Suspended")


def test_default_rule_and_headers() -> None:
    bucket = {**LOCK_BUCKET, "ObjectLock": {"Enabled": True,
                                            "Rule": {"Mode": "GOVERNANCE", "Years": 1}}}
    with_md5 = {"ContentMD5": "x"}
    assert lock_for_write(bucket, with_md5, NOW, needs_integrity=True) == {
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": _date(365)}}
    asked = {**with_md5, "ObjectLockMode": "COMPLIANCE",
             "ObjectLockRetainUntilDate": NOW + timedelta(days=2),
             "ObjectLockLegalHoldStatus": "ON"}
    assert lock_for_write(bucket, asked, NOW, needs_integrity=True) == {
        "Retention": {"Mode": "COMPLIANCE", "RetainUntilDate": _date(2)}, "LegalHold": "ON"}


@pytest.mark.parametrize(("bucket", "params", "needs", "expected"), [
    (LOCK_BUCKET, {}, True, None),  # nothing to lock
    (LOCK_BUCKET, {"ObjectLockLegalHoldStatus": "OFF"}, True, "InvalidRequest"),
    (LOCK_BUCKET, {"ObjectLockLegalHoldStatus": "OFF"}, False, None),  # copy / multipart
    (LOCK_BUCKET, {"ObjectLockLegalHoldStatus": "OFF", "ChecksumCRC32": "AAAAAA=="}, True,
     None),
    (LOCK_BUCKET, {"ObjectLockLegalHoldStatus": "OFF", "__trailer_checksum": True}, True,
     None),
    (LOCK_BUCKET, {"ObjectLockLegalHoldStatus": "OFF", "ChecksumAlgorithm": "CRC32"}, True,
     "InvalidRequest"),
    ({"Name": "b"}, {"ObjectLockLegalHoldStatus": "ON", "ContentMD5": "x"}, True,
     "InvalidRequest"),
    ({"Name": "b"}, {}, True, None),
])
def test_integrity_and_missing_lock(
    bucket: dict[str, Any], params: dict[str, Any], needs: bool, expected: str | None
) -> None:
    found = _code(lock_for_write, bucket, params, NOW, needs_integrity=needs)
    assert (found[0] if found else None) == expected


def _record(mode: str | None = None, days: float = 1, hold: str | None = None,
            marker: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {"Key": "k"}
    if mode is not None:
        record["Retention"] = {"Mode": mode, "RetainUntilDate": _date(days)}
    if hold is not None:
        record["LegalHold"] = hold
    if marker:
        record["DeleteMarker"] = True
    return record


# (record, bypass allowed) -> refused?
@pytest.mark.parametrize(("record", "bypass", "refused"), [
    (_record(), False, False),
    (_record("GOVERNANCE"), False, True),
    (_record("GOVERNANCE"), True, False),
    (_record("COMPLIANCE"), True, True),
    (_record("COMPLIANCE", days=-1), False, False),  # expired
    (_record(hold="ON"), True, True),
    (_record(hold="OFF"), False, False),
    (_record("GOVERNANCE", hold="ON"), True, True),
    (_record("COMPLIANCE", hold="ON", marker=True), False, False),  # markers never protected
])
def test_delete_refusal(record: dict[str, Any], bypass: bool, refused: bool) -> None:
    found = delete_refusal(record, NOW, lambda: bypass)
    assert (found is not None) is refused
    if found is not None:
        assert (found.code, found.message, found.status) == ("AccessDenied", LOCKED, 403)


# (current, new (mode, days) or None, bypass) -> refused?
@pytest.mark.parametrize(("current", "new", "bypass", "refused"), [
    (_record("GOVERNANCE", 10), ("GOVERNANCE", 10), False, False),
    (_record("GOVERNANCE", 10), ("GOVERNANCE", 20), False, False),
    (_record("GOVERNANCE", 10), ("GOVERNANCE", 5), False, True),
    (_record("GOVERNANCE", 10), ("GOVERNANCE", 5), True, False),
    (_record("GOVERNANCE", 10), None, False, True),
    (_record("GOVERNANCE", 10), None, True, False),
    (_record("GOVERNANCE", 10), ("COMPLIANCE", 20), False, True),
    (_record("COMPLIANCE", 10), ("COMPLIANCE", 20), False, False),
    (_record("COMPLIANCE", 10), ("COMPLIANCE", 5), True, True),
    (_record("COMPLIANCE", 10), ("GOVERNANCE", 20), True, True),
    (_record("COMPLIANCE", 10), None, True, True),
    (_record("COMPLIANCE", -1), ("GOVERNANCE", 1), False, False),  # expired: anything goes
    (_record(), ("GOVERNANCE", 1), False, False),
])
def test_retention_change_refusal(
    current: dict[str, Any], new: tuple[str, float] | None, bypass: bool, refused: bool
) -> None:
    wanted = None if new is None else {"Mode": new[0], "RetainUntilDate": _date(new[1])}
    found = retention_change_refusal(current, wanted, NOW, lambda: bypass)
    assert (found is not None) is refused


def test_lock_view_follows_the_read_permissions() -> None:
    record = _record("GOVERNANCE", 1, hold="ON")
    until = NOW + timedelta(days=1)
    assert lock_view(record, lambda action: True) == {
        "ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until,
        "ObjectLockLegalHoldStatus": "ON"}
    assert lock_view(record, lambda action: action == "s3:GetObjectLegalHold") == {
        "ObjectLockLegalHoldStatus": "ON"}
    assert lock_view(record, lambda action: False) == {}


def test_remaining_days_counts_a_started_day() -> None:
    assert remaining_days(NOW + timedelta(days=10), NOW) == 10
    assert remaining_days(NOW + timedelta(days=10, seconds=1), NOW) == 11
    assert remaining_days(NOW - timedelta(days=1), NOW) == 0
