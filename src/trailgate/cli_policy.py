"""``trailgate policy check`` and ``trailgate policy simulate``: the policy engine offline.

``check`` parses a document as AWS would (printing AWS's refusal and exiting 1) and otherwise
prints the lint findings (exit 1 when one of them is an error).  ``simulate`` evaluates one
request against policy files and prints the decision with the statements that decided it;
every decision exits 0, bad input exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from trailgate.policy.bucket_checks import check_bucket_policy_actions
from trailgate.policy.lint import Finding, lint
from trailgate.policy.model import (
    Caller,
    Decision,
    MalformedPolicyError,
    Policy,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)
from trailgate.policy.parse import parse_policy
from trailgate.policy.validate import iam_characters_ok
from trailgate.policy.wording import Flavor

_BAD_CHARACTERS = (
    "The policy contains characters IAM does not accept (only tab, LF, CR and U+0020-U+00FF)."
)
CHECK_TYPES = ("identity", "resource", "trust", "scp", "boundary", "session")


class BadInput(Exception):
    """A problem with the command line or the files named on it (exit status 1)."""


def add_policy_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``policy check`` and ``policy simulate``; each sets ``args.func``."""
    policy = subparsers.add_parser("policy", help="check and simulate IAM policies offline")
    policy.set_defaults(func=lambda args: _usage(policy))
    commands = policy.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")

    check = commands.add_parser(
        "check", help="validate a policy as AWS would and list lint findings"
    )
    check.add_argument("file", metavar="FILE", help="policy document (JSON); - for stdin")
    check.add_argument("--type", choices=CHECK_TYPES, default="identity", dest="policy_type")
    check.add_argument(
        "--flavor", choices=("iam", "s3"), default="iam", help="s3 for bucket policies"
    )
    check.add_argument(
        "--account", help="the account owning the policy (trust checks name other accounts)"
    )
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(func=run_check)

    sim = commands.add_parser("simulate", help="decide one request against policy files")
    sim.add_argument("--identity", nargs="+", default=[], metavar="F")
    sim.add_argument("--resource-policy", metavar="F")
    sim.add_argument("--trust-policy", metavar="F")
    sim.add_argument("--boundary", metavar="F")
    sim.add_argument("--session", nargs="+", metavar="F")
    sim.add_argument(
        "--scp",
        nargs="+",
        action="append",
        default=[],
        metavar="F",
        help="the SCPs of one level of the organization tree; repeat per level, root first",
    )
    sim.add_argument("--principal", required=True, metavar="ARN")
    sim.add_argument("--principal-unique-id", metavar="ID")
    sim.add_argument("--action", required=True)
    sim.add_argument("--resource", required=True, metavar="ARN")
    sim.add_argument("--resource-account", metavar="ACCT")
    sim.add_argument(
        "--context",
        nargs="+",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="request context values; a key given several times is multi-valued",
    )
    sim.add_argument("--json", action="store_true", help="print JSON")
    sim.set_defaults(func=run_simulate)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _read(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None


# --------------------------------------------------------------------------------------------
# policy check
# --------------------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    path: str = args.file
    policy_type = PolicyType(args.policy_type)
    flavor: Flavor = args.flavor
    try:
        text = _read(path)
    except BadInput as exc:
        print(f"trailgate policy check: {exc}", file=sys.stderr)
        return 1
    error: str | None = None
    policy: Policy | None = None
    if flavor == "iam" and not iam_characters_ok(text):
        error = _BAD_CHARACTERS
    else:
        try:
            policy = parse_policy(text, policy_type, flavor=flavor)
            if flavor == "s3" and policy_type is PolicyType.RESOURCE:
                check_bucket_policy_actions(policy)
        except MalformedPolicyError as exc:
            error = exc.message
            policy = None
    findings = lint(policy, policy_type, account=args.account) if policy else []
    if args.json:
        _print_json(_check_json(path, policy_type, flavor, error, policy, findings))
    elif error is not None:
        print(f"{path}: error: {error}")
    elif policy is not None:
        _print_findings(path, policy, findings)
    failed = error is not None or any(f.severity == "error" for f in findings)
    return 1 if failed else 0


def _location(policy: Policy, finding: Finding) -> str:
    if finding.statement is None:
        return ""
    start = policy.statements[finding.statement].start
    return f"{start.line}:{start.column}:"


def _print_findings(path: str, policy: Policy, findings: list[Finding]) -> None:
    if not findings:
        print(f"{path}: valid, no findings")
        return
    for finding in findings:
        where = _location(policy, finding)
        print(f"{path}:{where} {finding.severity} {finding.code}: {finding.message}")
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in _ORDER}
    summary = ", ".join(f"{n} {sev.replace('_', ' ')}" for sev, n in counts.items() if n)
    print(f"{path}: valid, {summary}")


_ORDER = ("error", "security_warning", "warning", "suggestion")


def _check_json(
    path: str,
    policy_type: PolicyType,
    flavor: Flavor,
    error: str | None,
    policy: Policy | None,
    findings: list[Finding],
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for finding in findings:
        item: dict[str, Any] = {
            "severity": finding.severity,
            "code": finding.code,
            "message": finding.message,
            "statement": finding.statement,
        }
        if policy is not None and finding.statement is not None:
            stmt = policy.statements[finding.statement]
            item["sid"] = stmt.sid
            item["line"] = stmt.start.line
            item["column"] = stmt.start.column
        items.append(item)
    return {
        "file": path,
        "type": policy_type.value,
        "flavor": flavor,
        "valid": error is None,
        "error": error,
        "findings": items,
    }


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2))


# --------------------------------------------------------------------------------------------
# policy simulate
# --------------------------------------------------------------------------------------------


def run_simulate(args: argparse.Namespace) -> int:
    try:
        inputs = _inputs(args)
        request = _request(args)
    except BadInput as exc:
        print(f"trailgate policy simulate: {exc}", file=sys.stderr)
        return 1
    from trailgate.policy.evaluate import PolicySet, evaluate

    flavor: Flavor = "s3" if request.resource.startswith("arn:aws:s3:::") else "iam"
    try:
        decision = evaluate(request, PolicySet.from_inputs(inputs, resource_flavor=flavor))
    except MalformedPolicyError as exc:  # files are pre-checked; kept for safety
        print(f"trailgate policy simulate: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(_decision_json(request, decision))
    else:
        _print_decision(decision)
    return 0


def _doc(path: str, policy_type: PolicyType, flavor: Flavor = "iam") -> PolicyDoc:
    text = _read(path)
    try:
        parse_policy(text, policy_type, flavor=flavor)
    except MalformedPolicyError as exc:
        raise BadInput(f"{path}: {exc.message}") from None
    return PolicyDoc(path, policy_type, text)


def _inputs(args: argparse.Namespace) -> PolicyInputs:
    if args.resource_policy and args.trust_policy:
        raise BadInput("give either --resource-policy or --trust-policy, not both")
    resource: PolicyDoc | None = None
    if args.resource_policy:
        flavor: Flavor = "s3" if args.resource.startswith("arn:aws:s3:::") else "iam"
        resource = _doc(args.resource_policy, PolicyType.RESOURCE, flavor)
    elif args.trust_policy:
        resource = _doc(args.trust_policy, PolicyType.TRUST)
    session: tuple[PolicyDoc, ...] | None = None
    if args.session:
        session = tuple(_doc(f, PolicyType.SESSION) for f in args.session)
    return PolicyInputs(
        identity=tuple(_doc(f, PolicyType.IDENTITY) for f in args.identity),
        resource=resource,
        boundary=_doc(args.boundary, PolicyType.BOUNDARY) if args.boundary else None,
        session=session,
        scps=tuple(tuple(_doc(f, PolicyType.SCP) for f in level) for level in args.scp),
    )


def parse_context(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``key=value`` pairs -> key -> values (a key given several times is multi-valued)."""
    values: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--context needs KEY=VALUE, got {pair!r}")
        values.setdefault(key, []).append(value)
    return values


def _request(args: argparse.Namespace) -> Request:
    try:
        caller = Caller.from_arn(args.principal, unique_id=args.principal_unique_id)
    except ValueError as exc:
        raise BadInput(f"--principal: {exc}") from None
    given = parse_context([pair for group in args.context for pair in group])
    context = principal_context(caller)
    now = time.time()
    context["aws:currenttime"] = (
        datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    context["aws:epochtime"] = (str(int(now)),)
    context.update(make_context(given))
    return Request(
        caller=caller,
        action=args.action,
        resource=args.resource,
        context=context,
        resource_account=args.resource_account,
    )


def _print_decision(decision: Decision) -> None:
    print(f"Decision: {decision.effect}")
    print(f"Reason: {decision.reason or '-'}")
    if not decision.statements:
        print("Deciding statements: none")
        return
    print("Deciding statements:")
    for st in decision.statements:
        sid = f"Sid {st.sid}" if st.sid else "no Sid"
        print(
            f"  {st.policy_id} ({st.policy_type.value}) statement {st.index}, {sid}, "
            f"at {st.start.line}:{st.start.column}"
        )


def _decision_json(request: Request, decision: Decision) -> dict[str, Any]:
    return {
        "principal": request.caller.arn,
        "action": request.action,
        "resource": request.resource,
        "decision": decision.effect,
        "reason": decision.reason,
        "statements": [
            {
                "policy_id": st.policy_id,
                "policy_type": st.policy_type.value,
                "index": st.index,
                "sid": st.sid,
                "start": {"line": st.start.line, "column": st.start.column},
                "end": {"line": st.end.line, "column": st.end.column},
            }
            for st in decision.statements
        ],
    }
