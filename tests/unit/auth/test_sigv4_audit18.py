"""Audit 18: authentication refusals S3 words differently from IAM/STS (rendered per protocol)."""

from __future__ import annotations

import pytest
from auth_capture import capture, client, replace

from trailgate.auth.sigv4 import AuthError, parse_auth


@pytest.mark.parametrize("authz", ["Bearer abc", "AWS4-ECDSA-P256-SHA256 Credential=x"])
def test_unsupported_authorization_type(authz: str) -> None:
    req = replace(capture(client("iam"), "list_users"))
    req.headers["authorization"] = authz
    with pytest.raises(AuthError) as caught:
        parse_auth(req)
    query = caught.value.to_service_error("query")
    assert (query.code, query.status, query.message) == (
        "IncompleteSignature", 400, "Unsupported Authorization Type"
    )
    s3 = caught.value.to_service_error("s3")
    assert (s3.code, s3.status, s3.message) == (
        "InvalidArgument", 400, "Unsupported Authorization Type"
    )
    assert s3.extra == {"ArgumentName": "Authorization", "ArgumentValue": authz}
