"""Audit 17: digest files (CloudTrail User Guide, "CloudTrail digest file structure").

``digestStartTime``/``digestEndTime``: "if the time range is [Ta, Tb], the digest will contain
all the log files delivered to the customer between Ta and Tb" - so a digest never lists a
log file delivered before its start, also not the first digest of a chain that opens after
its first file arrived (another region of a multi-region trail, a member account of an
organization trail, or a file delivered before the digest worker's first pass)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from trailgate import scenario
from trailgate.services.organizations.provider import ORG, OrganizationsProvider

from .test_digest import ADMIN, BUCKET, NOW, REGION, TRAILS, D, World, arn, event, verify


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.close()


def test_first_digest_starts_at_the_first_delivery_it_lists(w: World) -> None:
    w.setup()
    w.emit(event(ADMIN, "2026-03-01T12:00:30Z"))
    w.tick(5)
    w.deliver()  # 12:05:00, before the digest worker's first pass
    w.tick(10)
    assert w.digest().digests == []  # 12:15: the chain opens, due an hour after 12:05
    w.tick(50)
    report = w.digest()  # 13:05
    assert [(d.starting, d.log_files) for d in report.digests] == [(True, 1)]
    [key] = w.digest_keys()
    doc = w.doc(key)
    assert doc["digestStartTime"] == "2026-03-01T12:05:00Z"
    assert doc["digestEndTime"] == "2026-03-01T13:05:00Z"
    assert key.endswith(f"_CloudTrail-Digest_{REGION}_{TRAILS[ADMIN]}_{REGION}"
                        "_20260301T130500Z.json.gz")
    verify(w, key)


def test_new_region_and_member_chains_cover_their_first_files(w: World) -> None:
    orgs = OrganizationsProvider(None, ADMIN)
    call = w._call(ADMIN, {"FeatureSet": "ALL"})
    org_id = w.store.write_sync(lambda tx: orgs.CreateOrganization(call, tx))["Organization"]["Id"]
    w.store.write_sync(lambda tx: tx.put(ORG, "account", D, D, {"Id": D, "Status": "ACTIVE"}))
    w.s3op("CreateBucket", Bucket=BUCKET)
    policy = scenario.cloudtrail_bucket_policy(BUCKET, {ADMIN: arn(ADMIN)})
    policy["Statement"][1]["Resource"].append(f"arn:aws:s3:::{BUCKET}/AWSLogs/{org_id}/*")
    w.s3op("PutBucketPolicy", Bucket=BUCKET, Policy=json.dumps(policy))
    w.ct_op("CreateTrail", Name=TRAILS[ADMIN], S3BucketName=BUCKET, IsOrganizationTrail=True,
            IsMultiRegionTrail=True, EnableLogFileValidation=True)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    assert w.digest().digests == []  # 12:00: the owner's home-region chain opens
    w.emit(event(D), event(ADMIN, region="eu-west-1"))
    w.tick(5)
    w.deliver()  # 12:05: the first files of (D, us-east-1) and (ADMIN, eu-west-1)
    w.tick(55)
    report = w.digest()  # 13:00: the home chain's digest; the new chains open at 12:05
    assert {(d.account, d.region) for d in report.digests} == {(ADMIN, REGION)}
    assert report.next_due == NOW.replace(hour=13, minute=5)
    w.tick(5)
    report = w.digest()  # 13:05: an hour after the new chains' first deliveries
    got = {(d.account, d.region, d.log_files, d.starting) for d in report.digests}
    assert got == {(D, REGION, 1, True), (ADMIN, "eu-west-1", 1, True)}
    for key in w.digest_keys():
        doc = w.doc(key)
        if doc["awsAccountId"] == ADMIN and f"/{REGION}/" in key:
            continue
        assert doc["digestStartTime"] == "2026-03-01T12:05:00Z"
        assert doc["digestEndTime"] == "2026-03-01T13:05:00Z"
        assert len(doc["logFiles"]) == 1
        verify(w, key)


def test_list_public_keys_returns_every_key_in_one_response(w: World) -> None:
    """``NextToken`` is "Reserved for future use" (ListPublicKeys API reference) and the AWS
    CLI's validate-logs reads only the first response: every key of the range comes at once."""
    made = [w.keys.current(REGION, NOW).public.fingerprint]
    for hour in range(1, 55):
        made.append(w.keys.rotate(REGION, NOW + timedelta(hours=hour)).fingerprint)
    w.now = NOW + timedelta(hours=55)
    out = w.ct_op("ListPublicKeys", StartTime=NOW, EndTime=w.now)
    assert [k["Fingerprint"] for k in out["PublicKeyList"]] == made
    assert "NextToken" not in out


def test_restarted_chain_starts_after_the_final_digest_of_the_old_one(w: World) -> None:
    """The files the closing chain's final digest lists are not the new chain's."""
    w.setup()
    w.digest()  # 12:00
    w.emit(event(ADMIN, "2026-03-01T12:01:00Z"))
    w.tick(5)
    w.deliver()  # 12:05
    w.tick(1)
    w.ct_op("StopLogging", Name=TRAILS[ADMIN])
    w.deliver()
    w.tick(1)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    report = w.digest()  # 12:08: the old chain's final digest; the new chain opens
    assert [(d.final, d.log_files) for d in report.digests] == [(True, 1)]
    w.tick(60)
    report = w.digest()  # 13:08
    assert [(d.starting, d.log_files) for d in report.digests] == [(True, 0)]
    doc = w.doc(w.digest_keys()[-1])
    assert (doc["digestStartTime"], doc["digestEndTime"]) == ("2026-03-01T12:08:00Z",
                                                              "2026-03-01T13:08:00Z")
    assert doc["previousDigestS3Object"] is None and doc["logFiles"] == []
