"""``trailgate policy check|simulate`` run in-process: exact output and exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from trailgate.cli_policy import BadInput, add_policy_commands, parse_context

IDENTITY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadOwnLogs",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": [
        "arn:aws:s3:::trail-bucket",
        "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/*"
      ]
    },
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/secret"}
  ]
}
"""

ASSUME = """{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/ReadD"}
]}
"""

TRUST = """{"Version":"2012-10-17","Statement":[
  {"Sid":"TrustD","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
   "Action":"sts:AssumeRole"}
]}
"""

TRUST_MFA = """{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},
   "Action":"sts:AssumeRole",
   "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}
]}
"""

LINTY = """{"Statement":[{"Effect":"Allow","Action":["s3:GetObjects","s3:Get*"],"Resource":"*"}]}"""


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trailgate")
    sub = parser.add_subparsers(dest="command")
    add_policy_commands(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "identity.json": IDENTITY,
        "assume.json": ASSUME,
        "trust.json": TRUST,
        "trust-mfa.json": TRUST_MFA,
        "linty.json": LINTY,
        "bad.json": '{"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}',
        "broken.json": "{not json",
        "latin.json": '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::\u0101"}}',
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------


def test_check_clean_policy(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "identity.json"]) == 0
    assert capsys.readouterr().out == "identity.json: valid, no findings\n"


def test_check_refused_policy(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "bad.json"]) == 1
    assert capsys.readouterr().out == "bad.json: error: Policy statement must contain resources.\n"
    assert run(["policy", "check", "broken.json"]) == 1
    assert capsys.readouterr().out == "broken.json: error: This policy contains invalid Json\n"
    assert run(["policy", "check", "trust.json"]) == 1
    assert capsys.readouterr().out == (
        "trust.json: error: Policy document should not specify a principal.\n"
    )


def test_check_characters_iam_refuses(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "latin.json"]) == 1
    assert capsys.readouterr().out == (
        "latin.json: error: The policy contains characters IAM does not accept "
        "(only tab, LF, CR and U+0020-U+00FF).\n"
    )


def test_check_findings_with_positions(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "linty.json"]) == 1  # INVALID_ACTION is an error
    assert capsys.readouterr().out == (
        'linty.json: warning MISSING_VERSION: Add "Version": "2012-10-17": without it the '
        "policy is read with the 2008 rules and policy variables are not substituted.\n"
        "linty.json:1:15: error INVALID_ACTION: The action s3:GetObjects does not exist.\n"
        "linty.json:1:15: suggestion REDUNDANT_ACTION: The action s3:GetObjects is redundant: "
        "s3:Get* already includes it.\n"
        "linty.json: valid, 1 error, 1 warning, 1 suggestion\n"
    )


def test_check_trust_with_account(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "check", "trust.json", "--type", "trust", "--account", "111111111111"]
    assert run(argv) == 0
    assert capsys.readouterr().out == (
        "trust.json:2:3: security_warning TRUST_POLICY_EXTERNAL_ACCOUNT_WITHOUT_CONDITION: The "
        "role can be assumed from account(s) 222222222222 without an sts:ExternalId or "
        "aws:MultiFactorAuthPresent condition.\n"
        "trust.json: valid, 1 security warning\n"
    )
    assert run(["policy", "check", "trust-mfa.json", "--type", "trust"]) == 0
    assert capsys.readouterr().out == "trust-mfa.json: valid, no findings\n"


def test_check_json(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "trust.json", "--type", "trust", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "file": "trust.json",
        "type": "trust",
        "flavor": "iam",
        "valid": True,
        "error": None,
        "findings": [
            {
                "severity": "security_warning",
                "code": "TRUST_POLICY_EXTERNAL_ACCOUNT_WITHOUT_CONDITION",
                "message": "The role can be assumed from account(s) 222222222222 without an "
                "sts:ExternalId or aws:MultiFactorAuthPresent condition.",
                "statement": 0,
                "sid": "TrustD",
                "line": 2,
                "column": 3,
            }
        ],
    }
    assert run(["policy", "check", "bad.json", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "file": "bad.json",
        "type": "identity",
        "flavor": "iam",
        "valid": False,
        "error": "Policy statement must contain resources.",
        "findings": [],
    }


def test_check_s3_flavor(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "bucket.json").write_text(
        ' {"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::b/*"}]}'
    )
    assert run(["policy", "check", "bucket.json", "--type", "resource", "--flavor", "s3"]) == 1
    assert capsys.readouterr().out == (
        "bucket.json: error: Policies must be valid JSON and the first byte must be '{'\n"
    )


def test_check_missing_file(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["policy", "check", "nope.json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("trailgate policy check: cannot read nope.json: ")


# --------------------------------------------------------------------------------------------
# simulate
# --------------------------------------------------------------------------------------------

ALICE = "arn:aws:iam::222222222222:user/alice"
OBJECT = "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/2026/11/28/log.json.gz"


def test_simulate_allowed(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "simulate", "--identity", "identity.json", "--principal", ALICE]
    argv += ["--action", "s3:GetObject", "--resource", OBJECT]
    assert run(argv) == 0
    assert capsys.readouterr().out == (
        "Decision: allowed\n"
        "Reason: -\n"
        "Deciding statements:\n"
        "  identity.json (identity) statement 0, Sid ReadOwnLogs, at 4:5\n"
    )


def test_simulate_explicit_deny_json(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "simulate", "--identity", "identity.json", "--principal", ALICE]
    argv += ["--action", "s3:GetObject", "--json"]
    argv += ["--resource", "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/secret"]
    assert run(argv) == 0
    assert json.loads(capsys.readouterr().out) == {
        "principal": ALICE,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/secret",
        "decision": "explicitDeny",
        "reason": "explicit-deny",
        "statements": [
            {
                "policy_id": "identity.json",
                "policy_type": "identity",
                "index": 1,
                "sid": "NoSecrets",
                "start": {"line": 13, "column": 5},
                "end": {"line": 14, "column": 73},
            }
        ],
    }


def test_simulate_implicit_deny(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["policy", "simulate", "--identity", "identity.json", "--principal", ALICE]
    argv += ["--action", "s3:PutObject", "--resource", OBJECT]
    assert run(argv) == 0
    assert capsys.readouterr().out == (
        "Decision: implicitDeny\nReason: no-identity-allow\nDeciding statements: none\n"
    )


def test_simulate_cross_account_assume_role(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["policy", "simulate", "--identity", "assume.json", "--trust-policy", "trust.json"]
    argv += ["--principal", ALICE, "--action", "sts:AssumeRole"]
    argv += ["--resource", "arn:aws:iam::111111111111:role/ReadD"]
    argv += ["--resource-account", "111111111111"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Decision: allowed\nReason: -\nDeciding statements:\n")
    assert "  assume.json (identity) statement 0, no Sid, at 2:3\n" in out
    assert "  trust.json (trust) statement 0, Sid TrustD, at 2:3\n" in out


def test_simulate_mfa_context(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eve = "arn:aws:iam::333333333333:user/eve"
    base = ["policy", "simulate", "--identity", "assume.json", "--trust-policy", "trust-mfa.json"]
    base += ["--principal", eve, "--action", "sts:AssumeRole"]
    base += ["--resource", "arn:aws:iam::111111111111:role/ReadD"]
    base += ["--resource-account", "111111111111"]
    assert run(base) == 0
    assert capsys.readouterr().out == (
        "Decision: implicitDeny\nReason: no-resource-allow\nDeciding statements: none\n"
    )
    assert run([*base, "--context", "aws:MultiFactorAuthPresent=true"]) == 0
    assert capsys.readouterr().out.startswith("Decision: allowed\n")


def test_simulate_bad_input(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["policy", "simulate", "--principal", ALICE, "--action", "s3:GetObject"]
    base += ["--resource", OBJECT]
    assert run([*base, "--identity", "bad.json"]) == 1
    assert capsys.readouterr().err == (
        "trailgate policy simulate: bad.json: Policy statement must contain resources.\n"
    )
    assert run([*base, "--context", "novalue"]) == 1
    assert capsys.readouterr().err == (
        "trailgate policy simulate: --context needs KEY=VALUE, got 'novalue'\n"
    )
    assert run([*base, "--resource-policy", "trust.json", "--trust-policy", "trust.json"]) == 1
    assert capsys.readouterr().err == (
        "trailgate policy simulate: give either --resource-policy or --trust-policy, not both\n"
    )
    bad_principal = ["policy", "simulate", "--principal", "arn:aws:iam::1:group/g"]
    bad_principal += ["--action", "s3:GetObject", "--resource", OBJECT]
    assert run(bad_principal) == 1
    assert capsys.readouterr().err == (
        "trailgate policy simulate: --principal: not a principal ARN: arn:aws:iam::1:group/g\n"
    )


def test_parse_context_multi_valued() -> None:
    assert parse_context(["aws:TagKeys=a", "aws:TagKeys=b", "s3:prefix=", "k=v=w"]) == {
        "aws:TagKeys": ["a", "b"],
        "s3:prefix": [""],
        "k": ["v=w"],
    }
    with pytest.raises(BadInput):
        parse_context(["=x"])


def test_policy_without_subcommand_prints_help(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["policy"]) == 2
    assert "check" in capsys.readouterr().err


def test_check_bucket_policy_action_resource_mismatch(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "bucket.json").write_text(
        '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},'
        '"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"}]}'
    )
    assert run(["policy", "check", "bucket.json", "--type", "resource", "--flavor", "s3"]) == 1
    assert capsys.readouterr().out == (
        "bucket.json: error: Action does not apply to any resource(s) in statement\n"
    )
