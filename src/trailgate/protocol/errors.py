"""AWS errors as data: every failure a request can meet is a :class:`ServiceError`, rendered per
protocol by the serializer of the service that was called (query XML, JSON 1.1, S3 XML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServiceError(Exception):
    """An AWS error: ``code`` as AWS spells it, HTTP ``status``, ``message`` as AWS words it.

    ``sender_fault`` gives the query protocol's ``<Type>Sender</Type>`` (4xx) or ``Receiver``
    (5xx).  ``extra`` holds additional elements some errors carry (S3's ``Key``, ``BucketName``,
    ``StringToSign``...), rendered by protocols that support them; ``headers`` are response
    headers some S3 errors carry (``x-amz-delete-marker`` on a delete marker's 404 / 405).
    """

    code: str
    message: str
    status: int = 400
    extra: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    @property
    def sender_fault(self) -> bool:
        return self.status < 500


def access_denied(caller_arn: str, action: str, resource: str, reason: str = "") -> ServiceError:
    """IAM/STS AccessDenied with AWS's message shape."""
    message = f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
    if reason:
        message += f" {reason}"
    return ServiceError("AccessDenied", message, 403)


def validation_error(failures: list[str]) -> ServiceError:
    """``ValidationError`` with AWS's "N validation error(s) detected: ..." wording."""
    count = len(failures)
    noun = "error" if count == 1 else "errors"
    return ServiceError(
        "ValidationError", f"{count} validation {noun} detected: " + "; ".join(failures), 400
    )


@dataclass
class ReadInputError(ServiceError):
    """A service's own exception for a request value it read and refused (CloudTrail's
    ``InvalidLookupAttributesException``...): ``params`` are the request's parameters, so the
    call's CloudTrail record still shows them."""

    params: dict[str, Any] = field(default_factory=dict)
