"""botocore service models, loaded once per process and per service, plus the wire constants.

The five services trailgate speaks are described by botocore's own models (``service-2.json``):
operation names, input/output shapes, constraints, error shapes.  Loading and wrapping a model
takes tens of milliseconds (IAM is the largest), so each one is loaded lazily on first use and
kept for the life of the process.

The handful of constants routing needs on *every* request (protocol, API version, JSON target
prefix, XML namespace) are kept in :data:`SERVICES` so that routing never has to load a model;
a unit test checks them against the models' ``metadata`` blocks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from botocore.loaders import Loader  # type: ignore[import-untyped]
from botocore.model import (  # type: ignore[import-untyped]
    OperationModel,
    ServiceModel,
)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Wire constants of one service (a copy of its model's ``metadata``)."""

    name: str  # trailgate / botocore service name and SigV4 signing name
    protocol: str  # "query" | "json" | "rest-xml"
    api_version: str
    xml_namespace: str = ""  # query and rest-xml responses
    target_prefix: str = ""  # json: X-Amz-Target = "<prefix>.<Operation>"
    json_version: str = ""  # json: "1.1" -> content type application/x-amz-json-1.1


SERVICES: Final[dict[str, ServiceInfo]] = {
    "iam": ServiceInfo(
        "iam", "query", "2010-05-08", xml_namespace="https://iam.amazonaws.com/doc/2010-05-08/"
    ),
    "sts": ServiceInfo(
        "sts", "query", "2011-06-15", xml_namespace="https://sts.amazonaws.com/doc/2011-06-15/"
    ),
    "s3": ServiceInfo(
        "s3", "rest-xml", "2006-03-01", xml_namespace="http://s3.amazonaws.com/doc/2006-03-01/"
    ),
    "cloudtrail": ServiceInfo(
        "cloudtrail",
        "json",
        "2013-11-01",
        target_prefix="com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
        json_version="1.1",
    ),
    "organizations": ServiceInfo(
        "organizations",
        "json",
        "2016-11-28",
        target_prefix="AWSOrganizationsV20161128",
        json_version="1.1",
    ),
}

#: X-Amz-Target prefix -> service.  CloudTrail's model prefix is the long form, which is what
#: botocore sends; the short ``CloudTrail_20131101`` form (seen in AWS docs and other SDKs) is
#: accepted as well.
TARGET_PREFIXES: Final[dict[str, str]] = {
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
    "CloudTrail_20131101": "cloudtrail",
    "AWSOrganizationsV20161128": "organizations",
}

#: Query protocol ``Version`` parameter -> service.
QUERY_VERSIONS: Final[dict[str, str]] = {
    info.api_version: name for name, info in SERVICES.items() if info.protocol == "query"
}

_lock = threading.Lock()
_loader: Loader | None = None
_models: dict[str, ServiceModel] = {}
_operations: dict[str, dict[str, OperationModel]] = {}


def info(service: str) -> ServiceInfo:
    """The wire constants of ``service``; ``KeyError`` for a service trailgate doesn't speak."""
    return SERVICES[service]


def protocol(service: str) -> str:
    return SERVICES[service].protocol


def service_model(service: str) -> ServiceModel:
    """botocore's :class:`ServiceModel` for ``service``, loaded on first use and cached."""
    model = _models.get(service)
    if model is not None:
        return model
    if service not in SERVICES:
        raise KeyError(service)
    global _loader
    with _lock:
        model = _models.get(service)
        if model is None:
            if _loader is None:
                _loader = Loader()
            data = _loader.load_service_model(service, "service-2")
            model = ServiceModel(data, service_name=service)
            _operations[service] = {
                name: model.operation_model(name) for name in model.operation_names
            }
            _models[service] = model
    return model


def operation_names(service: str) -> frozenset[str]:
    service_model(service)
    return frozenset(_operations[service])


def operation_model(service: str, operation: str) -> OperationModel | None:
    """The :class:`OperationModel` of ``operation`` (exact, case-sensitive name) or ``None``."""
    ops = _operations.get(service)
    if ops is None:
        service_model(service)
        ops = _operations[service]
    return ops.get(operation)


def has_operation(service: str, operation: str) -> bool:
    return operation_model(service, operation) is not None


def xml_namespace(service: str) -> str:
    return SERVICES[service].xml_namespace


def target_prefix(service: str) -> str:
    return SERVICES[service].target_prefix


def json_content_type(service: str) -> str:
    return f"application/x-amz-json-{SERVICES[service].json_version or '1.1'}"
