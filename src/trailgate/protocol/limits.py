"""Size limits the protocol layer enforces before parsing (implementation choices, documented).

AWS does not publish one number for these; the values are far above anything a legitimate
IAM/STS/CloudTrail/Organizations request needs (the largest inputs are policy documents, at
most 131,072 characters by the models, about three times that once URL-encoded) and small
enough that a hostile body cannot make a request expensive.

Exceeding a limit gives HTTP 413 ``RequestEntityTooLarge`` in the service's error format.
"""

from __future__ import annotations

from typing import Final

from .errors import ServiceError

#: Query protocol (IAM, STS): form body or query string, in bytes.
MAX_QUERY_BYTES: Final = 1024 * 1024
#: Query protocol: number of ``name=value`` fields in one request.
MAX_QUERY_FIELDS: Final = 10_000
#: Query protocol: dots in one parameter name (the deepest model path needs fewer than 10).
MAX_QUERY_KEY_DEPTH: Final = 32
#: JSON 1.1 (CloudTrail, Organizations): request body, in bytes.
MAX_JSON_BYTES: Final = 1024 * 1024


def too_large(limit: int, what: str = "Request body") -> ServiceError:
    return ServiceError(
        "RequestEntityTooLarge", f"{what} must not be larger than {limit} bytes.", 413
    )
