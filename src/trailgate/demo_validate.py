"""Step 6 of ``trailgate demo`` (:mod:`trailgate.demo`): the digest chains validated in-process
with :mod:`trailgate.trail.validate`, against the server and on a downloaded copy of D's files
before and after one of its log files is altered."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .demo_common import BUCKET, PARTIES, REGION, say

if TYPE_CHECKING:  # demo_steps imports this module: no runtime import back
    from .demo_steps import Demo


def validate(demo: Demo, workdir: Path) -> tuple[tuple[str, str], tuple[str, str]]:
    """Every trail validated against the server, then a copy of D's files offline, as it is
    and with one digested log file altered.  Returns (actual, detail) for both rows."""
    from .trail.validate import KeyRing, Report, SourceSpec, Target, Validator

    start, end = demo.started - timedelta(minutes=1), datetime.now(UTC)
    assert demo.admin is not None
    keys = KeyRing.from_cloudtrail(demo.client("cloudtrail", demo.admin), start, end, REGION)
    server = SourceSpec("s3", client=(
        ("aws_access_key_id", demo.admin.key), ("aws_secret_access_key", demo.admin.secret),
        ("endpoint_url", demo.server.endpoint), ("region_name", REGION),
    ))

    def check(spec: SourceSpec, party: str, label: str) -> Report:
        report = Validator(spec, keys, workers=1).run(Target(demo.trails[party], start, end,
                                                             BUCKET))
        digests = sum(d.valid for d in report.digests)
        logs = sum(g.valid for g in report.logs)
        say(f"  {label}: {'VALID' if report.valid else 'INVALID'} ({digests} of "
            f"{len(report.digests)} digest files, {logs} of {len(report.logs)} log files valid)")
        bad = [*(d.line() for d in report.digests if not d.valid),
               *(g.line() for g in report.logs if not g.valid), *report.problems]
        for line in bad:
            say("    " + line.replace("\t", "  "))
        return report

    reports = [check(server, p, f"trail {demo.trails[p].split('/')[-1]} ({p})") for p in PARTIES]
    good = sum(r.valid for r in reports)
    online = ("valid" if good == len(reports) else "INVALID", f"{good} of {len(reports)} trails")
    listed = [g.key for g in reports[PARTIES.index("D")].logs if g.valid]
    if not listed:
        return online, ("not run", "no digested log file of D to alter")
    root = workdir / "copy" / BUCKET
    say(f"  copied {demo.download('D', root)} files of D to {root}")
    copy = SourceSpec("dir", root=str(root), bucket=BUCKET)
    if not check(copy, "D", "the copy, offline").valid:
        return online, ("copy invalid", "the copy was invalid before any change")
    victim = root / listed[0]
    content = json.loads(gzip.decompress(victim.read_bytes()))
    content["Records"][0]["eventName"] = "NothingToSeeHere"
    victim.write_bytes(gzip.compress(json.dumps(content).encode()))
    say(f"  changed the eventName of one record in {victim.name}")
    after = check(copy, "D", "the altered copy, offline")
    caught = any(g.key == listed[0] and not g.valid for g in after.logs)
    return online, ("caught" if caught else "missed", victim.name)
