"""``trailgate validate-logs`` and ``trailgate keys rotate|export``.

``validate-logs`` takes the AWS CLI's arguments (``--trail-arn``, ``--start-time``,
``--end-time``, ``--s3-bucket``, ``--s3-prefix``, ``--account-id``, ``--verbose``) and checks
the same things and more (:mod:`trailgate.trail.validate`), either against a server
(``--endpoint`` or ``AWS_ENDPOINT_URL``; credentials from the usual boto3 chain or
``--profile``) or offline (``--offline DIR --public-keys FILE``: a copy of the bucket and the
output of ``trailgate keys export``).  Exit status: 0 when at least one digest was found and
every digest, log file and record check is valid (with ``--fail-on-gap`` also: no gap in the
chain), 1 otherwise, 2 when the run could not be made (trail or keys not found, bad input).

``keys rotate`` retires the current signing key of a region now and makes a new one;
``keys export`` writes the public keys (``--data-dir`` of a server, or ``--endpoint`` through
ListPublicKeys) as JSON for offline validation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from .trail.keys import PublicKey
from .trail.validate import KeyRing, Report, SourceSpec, Target, Validator


class Failed(Exception):
    """The run could not be made (exit status 2)."""


def add_trail_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``validate-logs`` and ``keys rotate|export``; each sets ``args.func``."""
    _add_validate(subparsers)
    keys = subparsers.add_parser("keys", help="digest signing keys: rotate, export")
    keys.set_defaults(func=lambda args: _usage(keys))
    commands = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND")
    rotate = commands.add_parser("rotate", help="retire a region's signing key, make a new one")
    rotate.add_argument("--data-dir", default="data", help="the server's data directory")
    rotate.add_argument("--region", action="append", dest="regions", metavar="REGION",
                        help="region to rotate (repeatable; default: every region with keys)")
    rotate.set_defaults(func=_rotate)
    export = commands.add_parser("export", help="write the public keys as JSON")
    source = export.add_mutually_exclusive_group()
    source.add_argument("--data-dir", help="read the keys from a server's data directory")
    source.add_argument("--endpoint", "--endpoint-url", dest="endpoint",
                        help="read them through ListPublicKeys (default: AWS_ENDPOINT_URL)")
    export.add_argument("--region", action="append", dest="regions", metavar="REGION",
                        help="with --endpoint: region(s) to ask (default: the profile's)")
    export.add_argument("--profile")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    export.set_defaults(func=_export)


def _add_validate(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "validate-logs",
        help="validate CloudTrail digests and log files (online or offline)",
        description="Validate a trail's digest chain and log files like "
        "`aws cloudtrail validate-logs`, with more checks.",
    )
    cmd.add_argument("--trail-arn", required=True)
    cmd.add_argument("--start-time", required=True, help="e.g. 2026-01-08T05:21:42Z")
    cmd.add_argument("--end-time", help="default: now")
    cmd.add_argument("--s3-bucket", help="bucket of the digests (default: the trail's)")
    cmd.add_argument("--s3-prefix", help="key prefix (default: the trail's)")
    cmd.add_argument("--account-id", help="account whose logs to validate (organization trails)")
    cmd.add_argument("--organization-id", help="offline, organization trails: o-...")
    cmd.add_argument("--region", help="region whose digests to validate (default: home region)")
    cmd.add_argument("--endpoint", "--endpoint-url", dest="endpoint",
                     help="server URL (default: AWS_ENDPOINT_URL or AWS)")
    cmd.add_argument("--profile")
    cmd.add_argument("--offline", metavar="DIR", help="validate a downloaded copy of the bucket")
    cmd.add_argument("--public-keys", metavar="FILE", help="output of `trailgate keys export`")
    cmd.add_argument("--verbose", action="store_true", help="also list what is valid")
    cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    cmd.add_argument("--no-progress", action="store_true")
    cmd.add_argument("--workers", type=int, default=None, help="parallel log checks")
    cmd.add_argument("--no-record-checks", action="store_true",
                     help="skip the eventTime / eventID checks (hashes only, like the AWS CLI)")
    cmd.add_argument("--fail-on-gap", action="store_true",
                     help="also exit 1 when the digest chain has gaps")
    cmd.set_defaults(func=_validate)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# -- validate-logs -----------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """ISO 8601 (``Z`` or an offset; naive = UTC) or epoch seconds."""
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Failed(f"Unable to parse date value: {text}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _validate(args: argparse.Namespace) -> int:
    try:
        validator, target = (_offline if args.offline else _online)(args)
    except Failed as err:
        print(f"trailgate: {err}", file=sys.stderr)
        return 2
    bar = None if args.no_progress or args.json or not sys.stderr.isatty() else _Bar(sys.stderr)
    validator.progress = bar
    if not args.json:
        print(f"Validating log files for trail {target.trail_arn} between "
              f"{_fmt(target.start)} and {_fmt(target.end)}\n")
    report = validator.run(target)
    if bar is not None:
        bar.finish()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report, sys.stdout, verbose=args.verbose)
    ok = report.valid and not (args.fail_on_gap and report.gaps)
    return 0 if ok else 1


def _times(args: argparse.Namespace) -> tuple[datetime, datetime]:
    start = parse_time(args.start_time)
    end = parse_time(args.end_time) if args.end_time else datetime.now(UTC)
    if start > end:
        raise Failed("Invalid time range specified: start-time must occur before end-time")
    return start, end


def _check_arn(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "cloudtrail" or not parts[5].startswith("trail/"):
        raise Failed(f"Invalid trail ARN provided: {arn}")


def _offline(args: argparse.Namespace) -> tuple[Validator, Target]:
    _check_arn(args.trail_arn)
    start, end = _times(args)
    root = Path(args.offline)
    if not root.is_dir():
        raise Failed(f"not a directory: {root}")
    if not args.public_keys:
        raise Failed("--offline needs --public-keys FILE (from `trailgate keys export`)")
    bucket = args.s3_bucket or root.resolve().name
    target = Target(args.trail_arn, start, end, bucket, args.s3_prefix or None,
                    args.account_id, args.region, args.organization_id)
    try:
        keys = KeyRing.from_file(Path(args.public_keys), target.source_region)
    except (OSError, ValueError, KeyError) as err:
        raise Failed(f"cannot read public keys from {args.public_keys}: {err}") from None
    spec = SourceSpec("dir", root=str(root), bucket=bucket)
    return Validator(spec, keys, workers=args.workers,
                     record_checks=not args.no_record_checks), target


def _session(args: argparse.Namespace) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.session.Session(profile_name=args.profile)


def _online(args: argparse.Namespace) -> tuple[Validator, Target]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    _check_arn(args.trail_arn)
    start, end = _times(args)
    session = _session(args)
    home = args.trail_arn.split(":")[3]
    region = args.region or session.region_name or home
    client_args: dict[str, Any] = {"region_name": region}
    if args.endpoint:
        client_args["endpoint_url"] = args.endpoint
    try:
        frozen = session.get_credentials()
        if frozen is None:
            raise Failed("no AWS credentials found")
        creds = frozen.get_frozen_credentials()
        client_args.update(aws_access_key_id=creds.access_key,
                           aws_secret_access_key=creds.secret_key,
                           aws_session_token=creds.token)
        cloudtrail = session.client("cloudtrail", **client_args)
        target = Target(args.trail_arn, start, end, args.s3_bucket or "",
                        args.s3_prefix or None, args.account_id, region)
        if not args.s3_bucket:
            target = _from_trail(session, cloudtrail, client_args, target)
        if args.public_keys:
            keys = KeyRing.from_file(Path(args.public_keys), region)
        else:
            keys = KeyRing.from_cloudtrail(cloudtrail, start, end + timedelta(hours=2), region)
    except (BotoCoreError, ClientError, OSError, ValueError) as err:
        raise Failed(str(err)) from None
    if not keys.keys:
        raise Failed(f"No public keys found between {_fmt(start)} and "
                     f"{_fmt(end + timedelta(hours=2))}")
    spec = SourceSpec("s3", client=tuple(sorted(client_args.items())))
    return Validator(spec, keys, workers=args.workers,
                     record_checks=not args.no_record_checks), target


def _from_trail(session: Any, cloudtrail: Any, client_args: dict[str, Any],
                target: Target) -> Target:
    trails = cloudtrail.describe_trails().get("trailList", [])
    trail = next((t for t in trails if t.get("TrailARN") == target.trail_arn), None)
    if trail is None:
        raise Failed(f"A trail could not be found for {target.trail_arn}")
    target = replace(target, bucket=str(trail["S3BucketName"]),
                     prefix=trail.get("S3KeyPrefix") or target.prefix)
    if trail.get("IsOrganizationTrail"):
        if not target.account_id:
            raise Failed("Missing required parameter for organization trail: '--account-id'")
        orgs = session.client("organizations", **client_args)
        target = replace(target, org_id=str(orgs.describe_organization()["Organization"]["Id"]))
    return target


# -- output ------------------------------------------------------------------------------------


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover


def print_report(report: Report, out: TextIO, *, verbose: bool = False) -> None:
    """The AWS CLI's lines and summary, then a table and the extra findings."""
    for digest in report.digests:
        if verbose or not digest.valid:
            out.write(digest.line() + "\n")
    for log in report.logs:
        if verbose or not log.valid:
            out.write(log.line() + "\n")
    for gap in report.gaps:
        out.write(gap.line() + "\n")
    out.write(f"\nResults requested for {report.requested_start} to {report.requested_end}\n")
    if not report.digests:
        out.write("No digests found\n")
    elif report.found_start is None:
        out.write("No valid digests found in range\n")
    else:
        out.write(f"Results found for {report.found_start} to {report.found_end}:\n")
    for name, items in (("digest", report.digests), ("log", report.logs)):
        total = len(items)
        good = sum(1 for i in items if i.valid)
        if total:
            out.write(f"\n{good}/{total} {name} files valid")
            if good < total:
                out.write(f", {total - good}/{total} {name} files INVALID")
    out.write("\n\n")
    _table(report, out)


def _table(report: Report, out: TextIO) -> None:
    size = sum(g.size for g in report.logs)
    rate = size / report.seconds if report.seconds > 0 else 0.0
    rows = [("", "total", "valid", "INVALID")]
    for name, items in (("digest files", report.digests), ("log files", report.logs)):
        good = sum(1 for i in items if i.valid)
        rows.append((name, str(len(items)), str(good), str(len(items) - good)))
    for row in rows:
        out.write(f"{row[0]:<14}{row[1]:>8}{row[2]:>8}{row[3]:>9}\n")
    out.write(f"{'records':<14}{sum(g.records for g in report.logs):>8}\n")
    out.write(f"{'uncompressed':<14}{_size(size):>12} in {report.seconds:.2f} s "
              f"({_size(rate)}/s)\n")
    out.write(f"{'chain gaps':<14}{len(report.gaps):>8}\n")
    out.write(f"{'other findings':<14}{len(report.problems):>8}\n")
    if report.gaps:
        out.write("\nGaps in the digest chain (no digest covers these periods):\n")
        for gap in report.gaps:
            out.write(f"  {gap.start} to {gap.end}\n")
    if report.problems:
        out.write("\nOther findings:\n")
        for problem in report.problems:
            out.write(f"  {problem}\n")
    verdict = "VALID: every digest and log file checks out" if report.valid else "INVALID"
    out.write(f"\n{verdict}\n")


class _Bar:
    """A one-line progress bar on a terminal (redrawn at most ten times a second)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.began = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int, size: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        rate = size / max(now - self.began, 1e-6)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} log files"
                          f"  {_size(size)}  {_size(rate)}/s ")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


# -- keys --------------------------------------------------------------------------------------


def _open_store(data_dir: Path) -> Any:
    from .store.sqlite import SqliteStore

    db = data_dir / "trailgate.db"
    if not db.is_file():
        raise Failed(f"no trailgate data in {data_dir}")
    return SqliteStore.open(db)


def _rotate(args: argparse.Namespace) -> int:
    from .auth.tokens import KEY_FILE_NAME
    from .trail.keys import KeyStore, key_regions

    data_dir = Path(args.data_dir)
    try:
        store = _open_store(data_dir)
    except Failed as err:
        print(f"trailgate: {err}", file=sys.stderr)
        return 2
    try:
        master = (data_dir / KEY_FILE_NAME).read_bytes()
        regions = args.regions or store.read(key_regions) or ["us-east-1"]
        keys = KeyStore(store, master)
        for region in regions:
            new = keys.rotate(region)
            print(f"{region}\t{new.fingerprint}\tvalid from {_fmt(new.valid_from)} "
                  f"to {_fmt(new.valid_until)}")
    finally:
        store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        keys = _keys_from_store(Path(args.data_dir)) if args.data_dir else _keys_online(args)
    except Failed as err:
        print(f"trailgate: {err}", file=sys.stderr)
        return 2
    document = {"format": "trailgate-public-keys/1", "keys": [k.to_json() for k in keys]}
    text = json.dumps(document, indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        path = Path(args.output)
        path.write_text(text)
        os.chmod(path, 0o644)
    return 0


def _keys_from_store(data_dir: Path) -> list[PublicKey]:
    from .trail.keys import all_public_keys

    store = _open_store(data_dir)
    try:
        found: list[PublicKey] = store.read(all_public_keys)
        return found
    finally:
        store.close()


def _keys_online(args: argparse.Namespace) -> list[PublicKey]:
    from botocore.exceptions import BotoCoreError, ClientError

    session = _session(args)
    regions = args.regions or [session.region_name or "us-east-1"]
    found: list[PublicKey] = []
    start = datetime(2000, 1, 1, tzinfo=UTC)
    end = datetime.now(UTC) + timedelta(days=1)
    for region in regions:
        client_args: dict[str, Any] = {"region_name": region}
        if args.endpoint:
            client_args["endpoint_url"] = args.endpoint
        try:
            ring = KeyRing.from_cloudtrail(session.client("cloudtrail", **client_args),
                                           start, end, region)
        except (BotoCoreError, ClientError) as err:
            raise Failed(str(err)) from None
        found.extend(ring.keys.values())
    return found
