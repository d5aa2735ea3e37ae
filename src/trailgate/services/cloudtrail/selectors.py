"""Event selectors (spec 7.5): validation for PutEventSelectors and the matching delivery uses.

A record is logged by a trail when it matches ANY of the trail's selectors.

Basic selectors: management events by ``ReadWriteType`` (``ReadOnly``/``WriteOnly``/``All``)
when ``IncludeManagementEvents``, minus ``ExcludeManagementEventSources`` (only KMS and RDS
Data API may be left out, as on AWS); data events only
when a ``DataResources`` entry matches one of the record's resources (S3 values:
``arn:aws:s3`` every bucket, ``arn:aws:s3:::bucket/`` one bucket, ``arn:aws:s3:::bucket/p``
keys starting with ``p``), also subject to ``ReadWriteType``.

Advanced selectors: every field selector of a selector must hold; within a field selector the
operators AND, the values of ``Equals``/``StartsWith``/``EndsWith`` OR, those of the negated
operators must all hold.  Multi-valued fields (``resources.type``, ``resources.ARN``) match
when some resource satisfies the field selector; ``resources.ARN`` looks only at the resources
whose type the selector's ``resources.type`` admits (an object selector ignores the bucket
resource S3 records carry too).  Listings name an ``ARNPrefix`` instead of an ``ARN``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...trail.records import is_data_event
from .common import error

Record = dict[str, Any]

DEFAULT_SELECTORS: Final[list[dict[str, Any]]] = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
]

READ_WRITE: Final = ("ReadOnly", "WriteOnly", "All")
# The only management event sources a basic selector may leave out (AWS's API reference).
EXCLUDABLE_SOURCES: Final = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
MAX_SELECTORS: Final = 5
MAX_DATA_RESOURCES: Final = 250
MAX_ADVANCED: Final = 500  # conditions (values) over all advanced selectors
S3_OBJECT: Final = "AWS::S3::Object"
DATA_TYPES: Final = {
    S3_OBJECT: "arn:aws:s3",
    "AWS::Lambda::Function": "arn:aws:lambda",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb",
}
_S3_VALUE: Final = re.compile(r"arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*")
FIELDS: Final = (
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "userIdentity.arn",
    "errorCode",
    "sessionCredentialFromConsole",
    "vpcEndpointId",
)
OPERATORS: Final = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
CATEGORIES: Final = ("Management", "Data", "NetworkActivity")
# The fields a trail's advanced selector may use, by event category (AWS's API reference).
CATEGORY_FIELDS: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "Management": (
        "management",
        frozenset({"eventCategory", "readOnly", "eventSource"}),
    ),
    "Data": (
        "data",
        frozenset(FIELDS) - {"errorCode", "vpcEndpointId"},
    ),
    "NetworkActivity": (
        "network activity",
        frozenset(
            {"eventCategory", "eventSource", "eventName", "errorCode", "vpcEndpointId"}
        ),
    ),
}
NETWORK_ERROR: Final = "VpceAccessDenied"  # the one errorCode network activity events have


def invalid(message: str) -> ServiceError:
    return error("InvalidEventSelectorsException", message)


# -- validation --------------------------------------------------------------------------------


def normalize_basic(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked selectors with defaults filled in (as GetEventSelectors returns them)."""
    if not selectors or len(selectors) > MAX_SELECTORS:
        raise invalid(f"You can specify from 1 to {MAX_SELECTORS} event selectors per trail.")
    out: list[dict[str, Any]] = []
    resources = 0
    for selector in selectors:
        rw = selector.get("ReadWriteType") or "All"
        if rw not in READ_WRITE:
            raise invalid(f"Value {rw} for ReadWriteType is invalid.")
        data = [_data_resource(d) for d in selector.get("DataResources") or []]
        # Values selecting every resource of a type do not count toward the limit (AWS).
        resources += sum(
            1 for d in data for v in d["Values"] if not _everything(str(d["Type"]), v)
        )
        include = selector.get("IncludeManagementEvents")
        excluded = [str(s) for s in selector.get("ExcludeManagementEventSources") or []]
        for source in excluded:
            if source not in EXCLUDABLE_SOURCES:
                raise invalid(
                    f"Value {source} for ExcludeManagementEventSources is invalid. Only "
                    f"{' and '.join(EXCLUDABLE_SOURCES)} can be excluded."
                )
        out.append(
            {
                "ReadWriteType": rw,
                "IncludeManagementEvents": True if include is None else bool(include),
                "DataResources": data,
                "ExcludeManagementEventSources": excluded,
            }
        )
    if resources > MAX_DATA_RESOURCES:
        raise invalid(
            f"The total number of data resources across all event selectors cannot exceed "
            f"{MAX_DATA_RESOURCES}."
        )
    return out


def _data_resource(item: dict[str, Any]) -> dict[str, Any]:
    kind = str(item.get("Type") or "")
    if kind not in DATA_TYPES:
        raise invalid(f"Value {kind} for DataResources.Type is invalid.")
    values = [str(v) for v in item.get("Values") or []]
    for value in values:
        if not _data_value_ok(kind, value):
            raise invalid(f"Value {value} for DataResources.Values is invalid.")
    return {"Type": kind, "Values": values}


def _everything(kind: str, value: str) -> bool:
    """Whether ``value`` selects every resource of the data resource type ``kind``."""
    service = DATA_TYPES[kind]
    return value in (service, service + ":::" if kind == S3_OBJECT else service + ":")


def _data_value_ok(kind: str, value: str) -> bool:
    service = DATA_TYPES[kind]
    if _everything(kind, value):
        return True
    if kind == S3_OBJECT:
        return _S3_VALUE.fullmatch(value) is not None
    return value.startswith(service + ":")


def normalize_advanced(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not selectors:
        raise invalid("You must specify at least one advanced event selector.")
    total = 0
    out: list[dict[str, Any]] = []
    for selector in selectors:
        fields = [_field_selector(f) for f in selector.get("FieldSelectors") or []]
        by_name = {f["Field"]: f for f in fields}
        if len(by_name) != len(fields):
            raise invalid("A field can be used only once in an advanced event selector.")
        category = by_name.get("eventCategory")
        if category is None or set(category) - {"Field", "Equals"}:
            raise invalid("Each advanced event selector must specify eventCategory with Equals.")
        categories = category["Equals"]
        if len(categories) != 1 or categories[0] not in CATEGORIES:
            raise invalid(f"Invalid value for eventCategory: {', '.join(categories)}.")
        _check_category_fields(categories[0], by_name)
        total += sum(len(v) for f in fields for k, v in f.items() if k != "Field")
        entry: dict[str, Any] = {"FieldSelectors": fields}
        if selector.get("Name") is not None:
            entry = {"Name": str(selector["Name"]), **entry}
        out.append(entry)
    if total > MAX_ADVANCED:
        raise invalid(f"Advanced event selectors can have at most {MAX_ADVANCED} conditions.")
    return out


def _check_category_fields(category: str, by_name: dict[str, dict[str, Any]]) -> None:
    """The fields of one advanced selector suit its event category: management selectors take
    eventSource and readOnly only; data selectors need one ``resources.type`` (by Equals, its
    only operator); network activity selectors need ``eventSource`` by Equals, and their
    ``errorCode`` can only be ``VpceAccessDenied``."""
    label, allowed = CATEGORY_FIELDS[category]
    extra = set(by_name) - allowed
    if extra:
        raise invalid(f"Field {sorted(extra)[0]} is not supported for {label} event selectors.")
    if category == "Data":
        kind = by_name.get("resources.type") or {}
        if set(kind) != {"Field", "Equals"} or len(kind["Equals"]) != 1:
            raise invalid("Data event selectors must specify one resources.type with Equals.")
    elif category == "NetworkActivity":
        source = by_name.get("eventSource")
        if source is None or set(source) != {"Field", "Equals"}:
            raise invalid("Network activity event selectors must specify eventSource with Equals.")
        codes = {v for op, values in (by_name.get("errorCode") or {}).items() if op != "Field"
                 for v in values}
        if codes - {NETWORK_ERROR}:
            raise invalid(f"Invalid value for errorCode: the only valid value is {NETWORK_ERROR}.")


def _field_selector(item: dict[str, Any]) -> dict[str, Any]:
    field = str(item.get("Field") or "")
    if field not in FIELDS:
        raise invalid(f"Field {field} is not a valid field for advanced event selectors.")
    out: dict[str, Any] = {"Field": field}
    for op in OPERATORS:
        values = item.get(op)
        if values is None:
            continue
        values = [str(v) for v in values]
        if not values or any(not v for v in values):
            raise invalid(f"Operator {op} of field {field} must have non-empty values.")
        out[op] = values
    if len(out) == 1:
        raise invalid(f"Field {field} must have at least one operator.")
    if field == "readOnly":
        if set(out) != {"Field", "Equals"} or len(out["Equals"]) != 1:
            raise invalid("readOnly supports only Equals with one value.")
        if out["Equals"][0] not in ("true", "false"):
            raise invalid(f"Invalid value for readOnly: {out['Equals'][0]}.")
    return out


# -- matching ----------------------------------------------------------------------------------


def _read_only(record: Record) -> bool:
    value = record.get("readOnly")
    return value is True or value == "true"


def _rw_ok(rw: str, record: Record) -> bool:
    if rw == "All":
        return True
    return _read_only(record) == (rw == "ReadOnly")


def _resources(record: Record) -> list[dict[str, Any]]:
    found = record.get("resources")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _arn(resource: dict[str, Any]) -> str:
    """A resource's ARN; listings name an ``ARNPrefix`` (bucket ARN + "/" + prefix)."""
    return str(resource.get("ARN") or resource.get("ARNPrefix") or "")


def _data_match(resource: dict[str, Any], kind: str, values: list[str]) -> bool:
    arn = _arn(resource)
    rtype = resource.get("type")
    if kind != S3_OBJECT:
        everything_of = (DATA_TYPES[kind], DATA_TYPES[kind] + ":")
        return rtype == kind and any(v in everything_of or arn.startswith(v) for v in values)
    everything = ("arn:aws:s3", "arn:aws:s3:::")
    if rtype == S3_OBJECT:  # an object, or a listing inside the selected prefix
        return any(v in everything or arn.startswith(v) for v in values)
    if rtype == "AWS::S3::Bucket":  # bucket-level data calls: whole-bucket values only
        return any(v in everything or v == arn + "/" for v in values)
    return False


def basic_match(selectors: list[dict[str, Any]], record: Record) -> bool:
    data = is_data_event(record)
    for selector in selectors:
        if not _rw_ok(str(selector.get("ReadWriteType") or "All"), record):
            continue
        if not data:
            excluded = selector.get("ExcludeManagementEventSources") or []
            if selector.get("IncludeManagementEvents", True) and (
                record.get("eventSource") not in excluded
            ):
                return True
            continue
        for item in selector.get("DataResources") or []:
            kind, values = str(item.get("Type")), list(item.get("Values") or [])
            if any(_data_match(r, kind, values) for r in _resources(record)):
                return True
    return False


_TESTS: Final[dict[str, Callable[[str, str], bool]]] = {
    "Equals": lambda have, want: have == want,
    "StartsWith": lambda have, want: have.startswith(want),
    "EndsWith": lambda have, want: have.endswith(want),
}


def _field_values(field: str, record: Record, resources: list[dict[str, Any]]) -> list[str]:
    """The record's values for a field (``resources.*`` over ``resources``); ``[""]`` when it
    has none, so only negated operators can hold."""
    return _raw_values(field, record, resources) or [""]


def _raw_values(field: str, record: Record, resources: list[dict[str, Any]]) -> list[str]:
    if field == "readOnly":
        return ["true" if _read_only(record) else "false"]
    if field == "eventCategory":
        if is_data_event(record):
            return ["Data"]
        return [str(record.get("eventCategory") or "Management")]
    if field == "resources.type":
        return [str(r.get("type") or "") for r in resources]
    if field == "resources.ARN":
        return [_arn(r) for r in resources]
    if field == "userIdentity.arn":
        identity = record.get("userIdentity") or {}
        return [str(identity.get("arn") or "")]
    value = record.get(field)
    return [] if value is None else [str(value)]


def _holds(selector: dict[str, Any], value: str) -> bool:
    for op, wants in selector.items():
        if op == "Field":
            continue
        base = op[3:] if op.startswith("Not") else op
        hit = any(_TESTS[base](value, w) for w in wants)
        if hit == op.startswith("Not"):
            return False
    return True


def advanced_match(selectors: list[dict[str, Any]], record: Record) -> bool:
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        resources = _resources(record)
        for f in fields:  # resources.ARN applies to the resources of the selected type
            if f["Field"] == "resources.type":
                resources = [r for r in resources if _holds(f, str(r.get("type") or ""))]
        if all(
            any(_holds(f, v) for v in _field_values(str(f["Field"]), record, resources))
            for f in fields
        ):
            return True
    return False


def selects(trail: dict[str, Any], record: Record) -> bool:
    """Whether the trail's selectors log this record."""
    advanced = trail.get("AdvancedEventSelectors")
    if advanced:
        return advanced_match(advanced, record)
    return basic_match(trail.get("EventSelectors") or DEFAULT_SELECTORS, record)
