"""The validation engine and ``trailgate validate-logs`` / ``trailgate keys`` offline, on
digests and log files written by the real delivery and digest workers (``test_digest.World``)
and copied to a directory: every AWS CLI verdict (valid, not found, hash mismatch, trailing
data, invalid format, moved, unknown key, bad signature), the chain (deleted digests, gaps,
signatures taken from the next digest when the copy has no metadata), the checks beyond the
AWS CLI (eventTime range, duplicate eventIDs, nested keys not mistaken for records), worker
processes, the report's text and JSON forms and the exit codes."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trailgate.cli import main
from trailgate.trail.validate import KeyRing, Report, SourceSpec, Target, Validator

from .test_digest import ADMIN, BUCKET, MASTER, NOW, REGION, TRAILS, World, arn, event

START = NOW - timedelta(hours=1)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path / "data")
    yield world
    world.close()


def build(w: World, hours: int = 4, files_per_hour: int = 2) -> None:
    """A logging trail with validation: ``hours`` digests, each listing log files."""
    w.setup()
    w.digest()
    for hour in range(hours):
        for n in range(files_per_hour):
            w.emit(event(ADMIN, f"2026-03-01T{12 + hour:02d}:0{n}:00Z"),
                   event(ADMIN, f"2026-03-01T{12 + hour:02d}:0{n}:30Z"))
            w.tick(5)
            w.deliver()
        w.tick(60 - 5 * files_per_hour)
        w.digest()


def validate(w: World, copy: Path, *, workers: int = 1, keys: KeyRing | None = None,
             end: datetime | None = None) -> Report:
    spec = SourceSpec("dir", root=str(copy), bucket=BUCKET)
    ring = keys if keys is not None else KeyRing(w.public_keys())
    target = Target(arn(ADMIN), START, end or w.now, BUCKET)
    return Validator(spec, ring, workers=workers).run(target)


def messages(report: Report) -> dict[str, str]:
    found = {d.key: d.message for d in report.digests}
    found.update({g.key: g.message for g in report.logs})
    return found


def rewrite(path: Path, change: Any) -> None:
    doc = json.loads(gzip.decompress(path.read_bytes()))
    change(doc)
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))


# -- all valid ---------------------------------------------------------------------------------


def test_everything_valid(w: World, tmp_path: Path) -> None:
    build(w)
    report = validate(w, w.dump(tmp_path / "copy"))
    assert report.valid, report.to_json()
    assert len(report.digests) == 4 and len(report.logs) == 8
    assert all(d.valid for d in report.digests) and all(g.valid for g in report.logs)
    assert report.gaps == [] and report.problems == []
    assert {g.key for g in report.logs} == set(w.log_keys())
    assert sum(g.records for g in report.logs) == 16
    assert report.found_start == "2026-03-01T12:00:00Z"
    assert report.found_end == "2026-03-01T16:00:00Z"
    data = report.to_json()
    assert data["valid"] is True
    assert data["summary"]["digestFiles"] == {"total": 4, "valid": 4, "invalid": 0}


def test_range_selects_digests(w: World, tmp_path: Path) -> None:
    build(w)
    copy = w.dump(tmp_path / "copy")
    spec = SourceSpec("dir", root=str(copy), bucket=BUCKET)
    target = Target(arn(ADMIN), NOW + timedelta(hours=1, minutes=30),
                    NOW + timedelta(hours=2, minutes=40), BUCKET)
    report = Validator(spec, KeyRing(w.public_keys()), workers=1).run(target)
    # digests ending from the start to the end + 1 h, as the AWS CLI
    assert [d.end for d in report.digests] == ["2026-03-01T14:00:00Z", "2026-03-01T15:00:00Z"]
    assert report.valid


# -- what the AWS CLI reports ------------------------------------------------------------------


def test_log_file_verdicts(w: World, tmp_path: Path) -> None:
    build(w)
    copy = w.dump(tmp_path / "copy")
    logs = sorted(w.log_keys())
    (copy / logs[0]).write_bytes(gzip.compress(b'{"Records":[]}'))  # modified
    (copy / logs[1]).unlink()  # deleted
    (copy / logs[2]).write_bytes((copy / logs[2]).read_bytes() + b"junk")  # trailing data
    (copy / logs[3]).write_bytes(b"not gzip at all")
    report = validate(w, copy)
    found = messages(report)
    assert found[logs[0]] == "INVALID: hash value doesn't match"
    assert found[logs[1]] == "INVALID: not found"
    assert found[logs[2]] == "INVALID: unexpected data after end of compressed stream"
    assert found[logs[3]] == "INVALID: invalid format"
    assert sum(1 for g in report.logs if g.valid) == 4
    assert all(d.valid for d in report.digests)
    assert not report.valid
    line = next(g.line() for g in report.logs if g.key == logs[1])
    assert line == f"Log file\ts3://{BUCKET}/{logs[1]}\tINVALID: not found"


def test_digest_verdicts(w: World, tmp_path: Path) -> None:
    build(w, hours=5)
    copy = w.dump(tmp_path / "copy")
    d = w.digest_keys()
    rewrite(copy / d[3], lambda doc: doc["logFiles"].pop())  # modified
    (copy / d[1]).unlink()  # deleted: D[2] links to it
    report = validate(w, copy)
    found = messages(report)
    assert found[d[3]] == "INVALID: signature verification failed"
    assert found[d[1]] == "INVALID: not found"
    assert found[d[0]] == found[d[2]] == found[d[4]] == "valid"
    assert len(report.digests) == 5
    assert (Path(copy / d[1]).with_name(Path(d[1]).name + ".metadata.json")).exists()
    # log files of invalid digests are not checked (their list cannot be trusted)
    assert len(report.logs) == 6


def test_moved_and_malformed_digests(w: World, tmp_path: Path) -> None:
    build(w, hours=3)
    copy = w.dump(tmp_path / "copy")
    d = w.digest_keys()
    # moved: the newest digest copied under another (later) name
    later = d[2].replace("T150000Z", "T150500Z")
    shutil.copy(copy / d[2], copy / later)
    shutil.copy(copy / (d[2] + ".metadata.json"), copy / (later + ".metadata.json"))
    rewrite(copy / d[1], lambda doc: doc.pop("digestEndTime"))  # required field missing
    report = validate(w, copy)
    found = messages(report)
    assert found[later] == "INVALID: has been moved from its original location"
    assert found[d[1]] == "INVALID: invalid format"
    assert found[d[2]] == found[d[0]] == "valid"


def test_unknown_key_and_bad_key(w: World, tmp_path: Path) -> None:
    build(w, hours=1)
    copy = w.dump(tmp_path / "copy")
    report = validate(w, copy, keys=KeyRing([]))
    [digest] = report.digests
    fp = w.public_keys()[0].fingerprint
    assert digest.message == f"INVALID: public key not found in region {REGION} for fingerprint {fp}"
    assert report.logs == []
    other = World(tmp_path / "other")
    try:
        stranger = other.keys.current(REGION, NOW).public
    finally:
        other.close()
    forged = KeyRing([type(stranger)(REGION, fp, stranger.der, stranger.valid_from,
                                     stranger.valid_until)])
    assert validate(w, copy, keys=forged).digests[0].message == (
        "INVALID: signature verification failed")


def test_key_validity_is_checked(w: World, tmp_path: Path) -> None:
    build(w, hours=1)
    copy = w.dump(tmp_path / "copy")
    key = w.public_keys()[0]
    expired = type(key)(REGION, key.fingerprint, key.der, key.valid_from - timedelta(hours=2),
                        key.valid_from - timedelta(hours=1))
    report = validate(w, copy, keys=KeyRing([expired]))
    assert report.digests[0].message == (
        f"INVALID: signed with key {key.fingerprint} outside its validity")


# -- the chain ---------------------------------------------------------------------------------


def test_offline_copy_without_metadata(w: World, tmp_path: Path) -> None:
    build(w, hours=3)
    copy = w.dump(tmp_path / "copy", metadata=False)
    d = w.digest_keys()
    report = validate(w, copy)
    # the newest digest's signature (S3 metadata) is the root of trust: without it, nothing
    assert {m for m in messages(report).values()} == {
        "INVALID: signature verification failed (no signature metadata)"}
    assert report.logs == []
    # with the newest digest's metadata alone, the others are verified with the signature
    # their successor names
    meta = w.get(d[2])[1]
    (copy / (d[2] + ".metadata.json")).write_text(json.dumps(meta))
    report = validate(w, copy)
    assert report.valid and len(report.logs) == 6
    # a successor's signature does not vouch for modified content
    rewrite(copy / d[0], lambda doc: doc.update(newestEventTime="2030-01-01T00:00:00Z"))
    assert messages(validate(w, copy))[d[0]] == "INVALID: signature verification failed"


def test_gap_after_stop_and_start(w: World, tmp_path: Path) -> None:
    build(w, hours=2)
    w.ct_op("StopLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    w.digest()  # final digest
    w.tick(120)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.digest()
    w.hour(event(ADMIN, "2026-03-01T16:30:00Z"))
    report = validate(w, w.dump(tmp_path / "copy"))
    assert report.valid
    assert [(g.start, g.end) for g in report.gaps] == [("2026-03-01T14:01:00Z",
                                                        "2026-03-01T16:01:00Z")]
    assert report.gaps[0].line() == ("No log files were delivered by CloudTrail between "
                                     "2026-03-01T14:01:00Z and 2026-03-01T16:01:00Z")
    # a deleted final digest shows as a (longer) gap
    copy = w.dump(tmp_path / "copy2")
    (copy / w.digest_keys()[2]).unlink()
    report = validate(w, copy)
    assert [(g.start, g.end) for g in report.gaps] == [("2026-03-01T14:00:00Z",
                                                        "2026-03-01T16:01:00Z")]


# -- beyond the AWS CLI ------------------------------------------------------------------------


def test_duplicate_event_ids_and_event_times(w: World, tmp_path: Path) -> None:
    w.setup()
    w.digest()
    twin = "11111111-2222-3333-4444-555555555555"
    w.emit(event(ADMIN, event_id=twin), event(ADMIN))
    w.tick(5)
    w.deliver()
    nested = {"requestParameters": {"eventID": twin, "eventTime": "2031-01-01T00:00:00Z"}}
    w.emit(event(ADMIN, event_id=twin), event(ADMIN, **nested),
           event(ADMIN, "2030-01-01T00:00:00Z"))  # after the digest's end
    w.tick(5)
    w.deliver()
    w.tick(50)
    w.digest()
    report = validate(w, w.dump(tmp_path / "copy"))
    assert all(g.valid for g in report.logs) and all(d.valid for d in report.digests)
    assert not report.valid
    dupes = [p for p in report.problems if p.startswith(f"eventID {twin} appears 2 times")]
    assert len(dupes) == 1, report.problems
    times = [p for p in report.problems if "eventTime 2030-01-01T00:00:00Z" in p]
    assert len(times) == 1 and "digest ends 2026-03-01T13:00:00Z" in times[0]
    assert not any("2031" in p for p in report.problems)  # nested keys are not records
    assert len(report.problems) == 2


def test_nested_keys_alone_are_no_finding(w: World, tmp_path: Path) -> None:
    w.setup()
    w.digest()
    first = event(ADMIN)
    w.emit(first, event(ADMIN, requestParameters={"eventID": first["eventID"]}))
    w.hour()
    assert validate(w, w.dump(tmp_path / "copy")).valid


def test_worker_processes(w: World, tmp_path: Path) -> None:
    w.setup()
    w.digest()
    for n in range(66):
        w.emit(event(ADMIN, f"2026-03-01T12:{n % 60:02d}:00Z"))
        w.tick(0.5)
        w.deliver()
    w.tick(30)
    w.digest()
    copy = w.dump(tmp_path / "copy")
    victim = sorted(w.log_keys())[7]
    (copy / victim).unlink()
    report = validate(w, copy, workers=2)
    assert len(report.logs) == 66
    assert messages(report)[victim] == "INVALID: not found"
    assert sum(1 for g in report.logs if g.valid) == 65


# -- the command line --------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_offline(w: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(w, hours=2)
    (w.dir / "db" / "master.key").write_bytes(MASTER)
    keys = tmp_path / "keys.json"
    code, _, _ = _cli(capsys, "keys", "export", "--data-dir", str(w.dir / "db"),
                      "-o", str(keys))
    assert code == 0
    exported = json.loads(keys.read_text())
    assert exported["keys"][0]["value"].startswith("MIIBCgKCAQEA")
    copy = w.dump(tmp_path / BUCKET)
    base = ["validate-logs", "--trail-arn", arn(ADMIN), "--start-time", "2026-03-01T11:00:00Z",
            "--end-time", w.now.strftime("%Y-%m-%dT%H:%M:%SZ"), "--offline", str(copy),
            "--public-keys", str(keys)]
    code, out, _ = _cli(capsys, *base, "--verbose")
    assert code == 0, out
    assert out.startswith(f"Validating log files for trail {arn(ADMIN)} between "
                          "2026-03-01T11:00:00Z and 2026-03-01T14:00:00Z\n")
    for key in w.digest_keys():
        assert f"Digest file\ts3://{BUCKET}/{key}\tvalid\n" in out
    assert "Results requested for 2026-03-01T11:00:00Z to 2026-03-01T14:00:00Z\n" in out
    assert "Results found for 2026-03-01T12:00:00Z to 2026-03-01T14:00:00Z:\n" in out
    assert "\n2/2 digest files valid\n4/4 log files valid\n" in out
    assert "VALID: every digest and log file checks out" in out
    (copy / w.log_keys()[0]).unlink()
    code, out, _ = _cli(capsys, *base, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["valid"] is False and data["summary"]["logFiles"]["invalid"] == 1
    code, out, _ = _cli(capsys, *base)
    assert code == 1 and "1/4 log files INVALID" in out and out.rstrip().endswith("INVALID")
    assert "\tvalid" not in out  # only failures without --verbose


def test_cli_gap_option_and_errors(w: World, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    build(w, hours=1)
    w.ct_op("StopLogging", Name=TRAILS[ADMIN])
    w.tick(1)
    w.digest()
    w.tick(60)
    w.ct_op("StartLogging", Name=TRAILS[ADMIN])
    w.digest()
    w.hour()
    keys = w.export_keys(tmp_path / "keys.json")
    copy = w.dump(tmp_path / BUCKET)
    base = ["validate-logs", "--trail-arn", arn(ADMIN), "--start-time", "2026-03-01T11:00:00Z",
            "--offline", str(copy), "--public-keys", str(keys)]
    code, out, _ = _cli(capsys, *base)
    assert code == 0 and "No log files were delivered by CloudTrail between" in out
    assert "Gaps in the digest chain" in out
    code, _, _ = _cli(capsys, *base, "--fail-on-gap")
    assert code == 1
    code, _, err = _cli(capsys, "validate-logs", "--trail-arn", "arn:aws:s3:::x",
                        "--start-time", "2026-03-01T00:00:00Z", "--offline", str(copy),
                        "--public-keys", str(keys))
    assert code == 2 and "Invalid trail ARN provided" in err
    code, _, err = _cli(capsys, "validate-logs", "--trail-arn", arn(ADMIN), "--start-time",
                        "yesterday", "--offline", str(copy), "--public-keys", str(keys))
    assert code == 2 and "Unable to parse date value: yesterday" in err
    code, _, err = _cli(capsys, "validate-logs", "--trail-arn", arn(ADMIN), "--start-time",
                        "2026-03-01T00:00:00Z", "--offline", str(copy))
    assert code == 2 and "--public-keys" in err
    code, out, _ = _cli(capsys, *base[:4], "2030-01-01T00:00:00Z", *base[5:],
                        "--end-time", "2031-01-01T00:00:00Z")
    assert code == 1 and "No digests found" in out


def test_cli_keys_rotate(w: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w.keys.current(REGION, NOW)
    (w.dir / "db" / "master.key").write_bytes(MASTER)
    code, out, _ = _cli(capsys, "keys", "rotate", "--data-dir", str(w.dir / "db"))
    assert code == 0 and out.startswith(f"{REGION}\t")
    assert len(w.public_keys()) == 2
    fresh = out.split("\t")[1]
    now = datetime.now(UTC)
    assert w.keys.current(REGION, now).public.fingerprint == fresh
    code, _, err = _cli(capsys, "keys", "rotate", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no trailgate data" in err
