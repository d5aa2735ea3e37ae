"""A browser-based POST upload is logged as the PutObject data event of the credential's
principal, with the request ids the client received (trails of test_cloudtrail_api)."""

from __future__ import annotations

from typing import Any

from .server import MANAGEMENT
from .test_cloudtrail_api import Api, api  # noqa: F401 (the module's trails, set up anew)
from .test_cloudtrail_scenario import LogReader, rid
from .test_s3_post_upload import post


def test_post_upload_is_a_put_object_data_event(api: Api) -> None:  # noqa: F811
    s3: Any = api.s3
    presigned = s3.generate_presigned_post(api.data_bucket, "form/${filename}", ExpiresIn=300)
    status, headers, body = post(presigned["url"], presigned["fields"], b"formdata", "f.txt")
    assert status == 204, body
    posted, host_id = headers["x-amz-request-id"], headers["x-amz-id-2"]
    marker = rid(api.iam.get_user(UserName="admin"))
    data = LogReader(s3, api.bucket, "data")
    data.wait_for(MANAGEMENT, [marker, posted])
    record = data.one(MANAGEMENT, posted)
    assert (record["eventSource"], record["eventName"]) == ("s3.amazonaws.com", "PutObject")
    assert (record["eventCategory"], record["readOnly"]) == ("Data", False)
    assert record["userIdentity"]["accessKeyId"] == api.world.admin.key
    assert record["userIdentity"]["accountId"] == MANAGEMENT
    assert record["requestParameters"]["bucketName"] == api.data_bucket
    assert record["requestParameters"]["key"] == "form/f.txt"
    assert {"type": "AWS::S3::Object",
            "ARN": f"arn:aws:s3:::{api.data_bucket}/form/f.txt"} in record["resources"]
    extra = record["additionalEventData"]
    assert extra["x-amz-id-2"] == host_id
    assert extra["SignatureVersion"] == "SigV2"  # boto3's default presigned POST
    assert extra["bytesTransferredIn"] > len(b"formdata")  # the whole form was received
