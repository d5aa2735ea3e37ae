"""S3 versioning in the provider, over a real store and blob directory: random sequences of
writes, deletes and permanent deletes under every versioning state agree with a plain model
of S3's version stacks, and after each step every blob is referenced by exactly the one record
holding it (no object lost, no blob leaked)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_s3_provider import Harness

from trailgate.services.s3.common import NS, blob_ref, objects_kind, versions_kind

BUCKET = "versions"
KEYS = ("a", "a/b", "b")

# model: key -> [(version id, is a delete marker, body)], newest first
Model = dict[str, list[tuple[str, bool, bytes | None]]]


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    harness("CreateBucket", Bucket=BUCKET)
    yield harness
    harness.close()


def check_blobs(s3: Harness) -> None:
    """Every blob file belongs to exactly one record, whose ``ids`` entry names it."""

    def held(tx: Any) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for kind in (objects_kind(BUCKET), versions_kind(BUCKET)):
            for row in tx.scan(NS, kind):
                blob = row.data.get("BlobId")
                if blob:
                    assert blob not in out, f"blob {blob} held twice"
                    out[blob] = (kind, row.key)
                    target = tx.index_get(blob_ref(blob))
                    assert target is not None and (target.kind, target.key) == (kind, row.key)
        return out

    assert set(s3.store.read(held)) == s3.blob_files()


def apply(s3: Harness, model: Model, mode: str | None, step: tuple[str, str, int]) -> str | None:
    """One step on the provider and on the model; returns the bucket's new mode."""
    action, key, n = step
    stack = model.setdefault(key, [])
    if action == "mode":
        state = "Enabled" if n % 2 else "Suspended"
        s3("PutBucketVersioning", Bucket=BUCKET, VersioningConfiguration={"Status": state})
        return state
    if action == "purge":  # a permanent delete of one version, or of an unknown one
        version = stack[n % len(stack)][0] if stack else "null"
        out = s3("DeleteObject", Bucket=BUCKET, Key=key, VersionId=version)
        assert out["VersionId"] == version
        model[key] = [v for v in stack if v[0] != version]
        return mode
    if mode == "Suspended" or mode is None:
        stack[:] = [v for v in stack if v[0] != "null"]
    if action == "put":
        body = f"{key}:{n}".encode()
        out = s3("PutObject", Bucket=BUCKET, Key=key, Body=body)
        stack.insert(0, (out.get("VersionId", "null"), False, body))
    else:
        out = s3("DeleteObject", Bucket=BUCKET, Key=key)
        if mode is not None:
            assert out["DeleteMarker"] is True
            stack.insert(0, (out["VersionId"], True, None))
    return mode


def check_model(s3: Harness, model: Model) -> None:
    page = s3("ListObjectVersions", Bucket=BUCKET)
    listed = [(v["Key"], v["VersionId"], False, v["IsLatest"]) for v in page.get("Versions", [])]
    listed += [(d["Key"], d["VersionId"], True, d["IsLatest"])
               for d in page.get("DeleteMarkers", [])]
    expected = [(key, vid, marker, i == 0) for key in sorted(model)
                for i, (vid, marker, _) in enumerate(model[key])]
    assert sorted(listed) == sorted(expected)
    for key in KEYS:
        stack = model.get(key) or []
        if stack and not stack[0][1]:
            assert s3.body(BUCKET, key) == stack[0][2]
        else:
            assert s3.error("GetObject", Bucket=BUCKET, Key=key).code == "NoSuchKey"
        for vid, marker, body in stack:
            if not marker:
                assert s3.body(BUCKET, key, VersionId=vid) == body
    current = [c["Key"] for c in s3("ListObjectsV2", Bucket=BUCKET).get("Contents", [])]
    assert current == [k for k in sorted(model) if model[k] and not model[k][0][1]]


STEPS = st.lists(st.tuples(st.sampled_from(["put", "put", "delete", "purge", "mode"]),
                           st.sampled_from(KEYS), st.integers(0, 5)), max_size=14)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.sampled_from([None, 0, 1]), steps=STEPS)
@example(first=1, steps=[("put", "a", 0), ("put", "a", 1), ("purge", "a", 0)])
@example(first=1, steps=[("put", "a", 0), ("delete", "a", 0), ("purge", "a", 0)])
@example(first=None, steps=[("put", "a", 0), ("mode", "a", 1), ("put", "a", 1),
                            ("mode", "a", 0), ("put", "a", 2), ("delete", "a", 0),
                            ("purge", "a", 1)])
def test_random_histories_match_the_model(
    first: int | None, steps: list[tuple[str, str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s3 = Harness(Path(tmp))
        try:
            s3("CreateBucket", Bucket=BUCKET)
            model: Model = {}
            mode: str | None = None
            if first is not None:  # versioning set from the start: Suspended (0) or Enabled
                mode = apply(s3, model, mode, ("mode", KEYS[0], first))
            for step in steps:
                mode = apply(s3, model, mode, step)
                check_blobs(s3)
            check_model(s3, model)
            for key, stack in model.items():  # purge everything: nothing may remain
                for vid, _, _ in list(stack):
                    s3("DeleteObject", Bucket=BUCKET, Key=key, VersionId=vid)
            check_blobs(s3)
            assert s3.blob_files() == set()
            s3("DeleteBucket", Bucket=BUCKET)
        finally:
            s3.close()


def test_the_previous_version_becomes_current(s3: Harness) -> None:
    s3("PutBucketVersioning", Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3("PutObject", Bucket=BUCKET, Key="k", Body=b"first")["VersionId"]
    second = s3("PutObject", Bucket=BUCKET, Key="k", Body=b"second")["VersionId"]
    s3("DeleteObject", Bucket=BUCKET, Key="k", VersionId=second)
    assert s3.record(BUCKET, "k") is not None  # back where current objects live
    assert [c["Key"] for c in s3("ListObjectsV2", Bucket=BUCKET)["Contents"]] == ["k"]
    s3("PutObjectTagging", Bucket=BUCKET, Key="k", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    assert s3("GetObjectTagging", Bucket=BUCKET, Key="k", VersionId=first)["TagSet"] == [
        {"Key": "t", "Value": "1"}]
    marker = s3("DeleteObject", Bucket=BUCKET, Key="k")["VersionId"]
    assert s3.record(BUCKET, "k") is None
    s3("DeleteObject", Bucket=BUCKET, Key="k", VersionId=marker)
    assert s3.record(BUCKET, "k") is not None and s3.body(BUCKET, "k") == b"first"
    check_blobs(s3)


def test_suspended_writes_release_the_replaced_null_blob(s3: Harness) -> None:
    s3("PutObject", Bucket=BUCKET, Key="k", Body=b"before versioning")
    s3("PutBucketVersioning", Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    kept = s3("PutObject", Bucket=BUCKET, Key="k", Body=b"kept")["VersionId"]
    assert len(s3.blob_files()) == 2
    s3("PutBucketVersioning", Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert s3("PutObject", Bucket=BUCKET, Key="k", Body=b"null")["VersionId"] == "null"
    assert len(s3.blob_files()) == 2  # the pre-versioning null version went
    assert s3("DeleteObject", Bucket=BUCKET, Key="k")["VersionId"] == "null"
    assert len(s3.blob_files()) == 1  # the null marker replaced the null object
    assert s3.body(BUCKET, "k", VersionId=kept) == b"kept"
    check_blobs(s3)


def test_copy_and_complete_in_a_versioned_bucket(s3: Harness) -> None:
    s3("PutBucketVersioning", Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3("PutObject", Bucket=BUCKET, Key="k", Body=b"first")["VersionId"]
    s3("PutObject", Bucket=BUCKET, Key="k", Body=b"second")
    copied = s3("CopyObject", Bucket=BUCKET, Key="k", CopySource=f"{BUCKET}/k?versionId={first}")
    assert copied["CopySourceVersionId"] == first
    assert s3.body(BUCKET, "k") == b"first"
    upload = s3("CreateMultipartUpload", Bucket=BUCKET, Key="k")["UploadId"]
    part = s3("UploadPart", Bucket=BUCKET, Key="k", UploadId=upload, PartNumber=1, Body=b"mp")
    done = s3("CompleteMultipartUpload", Bucket=BUCKET, Key="k", UploadId=upload,
              MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    listed = s3("ListObjectVersions", Bucket=BUCKET)["Versions"]
    assert [v["VersionId"] for v in listed][:2] == [done["VersionId"], copied["VersionId"]]
    assert len(listed) == 4
    check_blobs(s3)
    assert s3.error("DeleteBucket", Bucket=BUCKET).code == "BucketNotEmpty"
