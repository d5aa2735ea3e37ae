"""Virtual MFA devices (TOTP): create, enable with two consecutive codes, list, resync,
deactivate, delete, tag."""

from __future__ import annotations

import re
from typing import Any

from ...auth.mfa import MfaVerifier, new_seed, qr_png
from ...protocol.errors import ServiceError
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    MFA,
    NAME_RE,
    NAME_SHOWN,
    USERS,
    Checks,
    already_exists,
    check_tags,
    delete_conflict,
    limit_exceeded,
    merge_tags,
    no_such_entity,
    page,
    remove_tags,
    stamp,
    target_user,
    when,
)
from .entity_policies import load, tag_page
from .queries import account_alias
from .users import user_view

DEVICES_PER_USER = 8
ISSUER = "Amazon Web Services"
_SERIAL_RE = re.compile(r"[\w+=/:,.@-]+", re.ASCII)
_SERIAL_SHOWN = r"[\w+=/:,.@-]+"
_CODE_RE = re.compile(r"[0-9]+")
_CODE_SHOWN = r"[\d]+"
_VERIFIER = MfaVerifier()


def _invalid_code() -> ServiceError:
    return ServiceError(
        "InvalidAuthenticationCode", "Authentication code for device is not valid.", 403
    )


def _check_serial(checks: Checks, serial: str | None) -> None:
    checks.text(serial, "serialNumber", 9, 256, _SERIAL_RE, _SERIAL_SHOWN)


def _check_codes(checks: Checks, params: dict[str, Any]) -> None:
    for member in ("AuthenticationCode1", "AuthenticationCode2"):
        lower = member[0].lower() + member[1:]
        checks.text(params.get(member), lower, 6, 6, _CODE_RE, _CODE_SHOWN)


def _device(tx: Tx, account: str, serial: str) -> Entity:
    entity = tx.get_entity(account, MFA, serial.lower())
    if entity is None:
        # UNSURE: wording
        raise no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return entity


def _user_device(tx: Tx, account: str, user: Entity, serial: str) -> Entity:
    """A device that must be enabled for ``user``."""
    entity = tx.get_entity(account, MFA, serial.lower())
    owner = None if entity is None else entity.data.get("UserName")
    if entity is None or owner is None or owner.lower() != user.key:
        # UNSURE: wording
        raise no_such_entity(f"MFA Device with serial number {serial} does not exist.")
    return entity


def _devices_of(tx: Tx, account: str, user_key: str) -> list[dict[str, Any]]:
    def mine(d: dict[str, Any]) -> bool:
        owner = d.get("UserName")
        return owner is not None and owner.lower() == user_key

    return tx.list(account, MFA, where=mine)


class MfaOps:
    """CreateVirtualMFADevice ... DeleteVirtualMFADevice."""

    def CreateVirtualMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        name, path = call.params["VirtualMFADeviceName"], call.params.get("Path") or "/"
        checks = Checks()
        checks.text(name, "virtualMFADeviceName", 1, 226, NAME_RE, NAME_SHOWN)
        checks.path(path)
        checks.done()
        tags = check_tags(call.params.get("Tags"))
        serial = f"arn:aws:iam::{call.account}:mfa{path}{name}"
        if tx.get(call.account, MFA, serial.lower()) is not None:
            raise already_exists("MFADevice entity at the same path and name already exists.")
        seed = new_seed()
        label = f"{name}@{account_alias(tx, call.account) or call.account}"
        data: dict[str, Any] = {
            "SerialNumber": serial,
            "Path": path,
            "Name": name,
            "Seed": seed,
            "CreateDate": stamp(call.now),
            "Tags": tags,
            "UserName": None,
            "EnableDate": None,
            "LastStep": None,
        }
        tx.insert(call.account, MFA, serial.lower(), serial, data)
        tx.bump_generation()
        device: dict[str, Any] = {
            "SerialNumber": serial,
            "Base32StringSeed": seed.encode("ascii"),
            "QRCodePNG": qr_png(seed, label, ISSUER),
        }
        if tags:
            device["Tags"] = tags
        return {"VirtualMFADevice": device}

    def EnableMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        checks = Checks()
        checks.name(params["UserName"], "userName", 128)
        _check_serial(checks, params["SerialNumber"])
        _check_codes(checks, params)
        checks.done()
        user = load(tx, call.account, USERS, params["UserName"])
        device = _device(tx, call.account, params["SerialNumber"])
        if device.data.get("UserName") is not None:
            raise already_exists("MFA Device is already in use.")  # UNSURE: wording
        if len(_devices_of(tx, call.account, user.key)) >= DEVICES_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for MFADevicesPerUser: {DEVICES_PER_USER}")
        step = _VERIFIER.verify_consecutive(
            device.data["Seed"],
            params["AuthenticationCode1"],
            params["AuthenticationCode2"],
            call.now,
        )
        if step is None:
            raise _invalid_code()
        device.data.update(
            UserName=user.data["UserName"], EnableDate=stamp(call.now), LastStep=step
        )
        tx.put(call.account, MFA, device.key, device.name, device.data)
        tx.bump_generation()
        return {}

    def ResyncMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        checks = Checks()
        checks.name(params["UserName"], "userName", 128)
        _check_serial(checks, params["SerialNumber"])
        _check_codes(checks, params)
        checks.done()
        user = load(tx, call.account, USERS, params["UserName"])
        device = _user_device(tx, call.account, user, params["SerialNumber"])
        step = _VERIFIER.verify_consecutive(
            device.data["Seed"],
            params["AuthenticationCode1"],
            params["AuthenticationCode2"],
            call.now,
        )
        if step is None:
            raise _invalid_code()
        device.data["LastStep"] = step
        tx.put(call.account, MFA, device.key, device.name, device.data)
        tx.bump_generation()
        return {}

    def DeactivateMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        name = target_user(call.params, call.principal)
        serial = call.params["SerialNumber"]
        checks = Checks()
        _check_serial(checks, serial)
        checks.done()
        if name is None:
            raise no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        user = load(tx, call.account, USERS, name)
        device = _user_device(tx, call.account, user, serial)
        device.data.update(UserName=None, EnableDate=None, LastStep=None)
        tx.put(call.account, MFA, device.key, device.name, device.data)
        tx.bump_generation()
        return {}

    def DeleteVirtualMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        serial = call.params["SerialNumber"]
        checks = Checks()
        _check_serial(checks, serial)
        checks.done()
        device = _device(tx, call.account, serial)
        if device.data.get("UserName") is not None:
            raise delete_conflict("MFA device is still in use.")  # UNSURE: wording
        tx.delete(call.account, MFA, device.key)
        tx.bump_generation()
        return {}

    def ListMFADevices(self, call: Call, tx: Tx) -> dict[str, Any]:
        name = target_user(call.params, call.principal)
        devices: list[dict[str, Any]] = []
        if name is not None:
            user = load(tx, call.account, USERS, name)
            devices = _devices_of(tx, call.account, user.key)
        chunk, extra = page(devices, lambda d: str(d["SerialNumber"]).lower(), call.params)
        items = [
            {
                "UserName": d["UserName"],
                "SerialNumber": d["SerialNumber"],
                "EnableDate": when(d["EnableDate"]),
            }
            for d in chunk
        ]
        return {"MFADevices": items, **extra}

    def GetMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        name = target_user(call.params, call.principal)
        serial = call.params["SerialNumber"]
        checks = Checks()
        _check_serial(checks, serial)
        checks.name(name, "userName", 64)
        checks.done()
        if name is None:
            raise no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        user = load(tx, call.account, USERS, name)
        data = _user_device(tx, call.account, user, serial).data
        return {
            "UserName": data["UserName"],
            "SerialNumber": data["SerialNumber"],
            "EnableDate": when(data["EnableDate"]),
        }

    def ListVirtualMFADevices(self, call: Call, tx: Tx) -> dict[str, Any]:
        status = call.params.get("AssignmentStatus") or "Any"
        checks = Checks()
        checks.enum(status, "assignmentStatus", ("Assigned", "Unassigned", "Any"))
        checks.done()

        def wanted(d: dict[str, Any]) -> bool:
            assigned = d.get("UserName") is not None
            return status == "Any" or assigned == (status == "Assigned")

        devices = tx.list(call.account, MFA, where=wanted)
        chunk, extra = page(devices, lambda d: str(d["SerialNumber"]).lower(), call.params)
        return {"VirtualMFADevices": [_virtual_view(tx, call.account, d) for d in chunk], **extra}

    def TagMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        device = _tagged_device(call, tx)
        tags = check_tags(call.params.get("Tags"))
        device.data["Tags"] = merge_tags(device.data.get("Tags") or [], tags)
        tx.put(call.account, MFA, device.key, device.name, device.data)
        tx.bump_generation()
        return {}

    def UntagMFADevice(self, call: Call, tx: Tx) -> dict[str, Any]:
        device = _tagged_device(call, tx)
        keys = call.params.get("TagKeys") or []
        device.data["Tags"] = remove_tags(device.data.get("Tags") or [], keys)
        tx.put(call.account, MFA, device.key, device.name, device.data)
        tx.bump_generation()
        return {}

    def ListMFADeviceTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_page(_tagged_device(call, tx).data.get("Tags") or [], call.params)


def _tagged_device(call: Call, tx: Tx) -> Entity:
    """The virtual MFA device (assigned or not) that Tag/Untag/ListMFADeviceTags name."""
    serial = call.params["SerialNumber"]
    checks = Checks()
    _check_serial(checks, serial)
    checks.done()
    return _device(tx, call.account, serial)


def _virtual_view(tx: Tx, account: str, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"SerialNumber": data["SerialNumber"]}
    if data.get("UserName") is not None:
        user = tx.get(account, USERS.kind, str(data["UserName"]).lower())
        if user is not None:
            out["User"] = user_view(user, full=False)
        out["EnableDate"] = when(data["EnableDate"])
    # AWS documents that this listing does not return tags (ListMFADeviceTags does)
    return out
