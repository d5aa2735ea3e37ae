"""``trailgate demo`` as a newcomer runs it: a subprocess that starts its own server, builds the
seed scenario through the API, prints a summary table and exits 0 only when every row is as
expected; ``--serve`` keeps the server up, prints sign-in details and AWS CLI profiles that
work, and stops the server when the demo is stopped by its pid."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from trailgate.demo import SKIPPED, Row

DEMO = [sys.executable, "-m", "trailgate.cli", "demo"]
READY = re.compile(r"trailgate is ready at (http://127\.0\.0\.1:\d+) - press Ctrl-C to stop it\.")
# Every row the issue asks for, by the start of its "what" column.
REQUIRED_ROWS = (
    ("d-user (D)", "assume CloudTrailReader-D without MFA"),
    ("d-user (D)", "assume CloudTrailReader-D with an MFA code"),
    ("CloudTrailReader-D", "read D's log files"),
    ("CloudTrailReader-D", "read a log file of E"),
    ("e-user (E)", "assume CloudTrailReader-E"),
    ("CloudTrailReader-E", "read every log file"),
    ("r-user (R)", "assume CloudTrailReader-R without ExternalId"),
    ("r-user (R)", "assume CloudTrailReader-R with a wrong ExternalId"),
    ("r-user (R)", "assume CloudTrailReader-R with the agreed ExternalId"),
    ("CloudTrailReader-R", "read a log file of E"),
    ("e-nopolicy (E)", "assume CloudTrailReader-E"),
    ("validator", "validate the digest chain of every trail"),
    ("validator", "validate a copy with one log file altered"),
)


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without AWS settings, with an empty HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRAILGATE_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    return env


def summary_rows(stdout: str) -> list[list[str]]:
    """The summary table's rows, split on runs of 2+ spaces: who, what, expected, actual,
    result."""
    lines = stdout.split("[7/7] Summary", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["who", "what"])
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_row_status() -> None:
    assert Row("a", "b", "allowed", "allowed").status == "ok"
    assert Row("a", "b", "refused", "allowed").status == "DIFFERS"
    assert Row("a", "b", "valid", SKIPPED, "why").status == "skipped"


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path) -> None:
    began = time.monotonic()
    done = subprocess.run(DEMO, env=clean_env(tmp_path), capture_output=True, text=True,
                          timeout=180)
    took = time.monotonic() - began
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    for number in range(1, 8):
        assert f"[{number}/7] " in done.stdout
    rows = summary_rows(done.stdout)
    assert [len(r) for r in rows] == [5] * len(rows), rows
    for who, what, expected, actual, result in rows:
        if actual == SKIPPED:
            # Only digest validation may be skipped (when the build has no validator).
            assert (who, result) == ("validator", "skipped"), rows
            assert "skipped: digest validation not available in this build" in done.stdout
        else:
            assert (actual, result) == (expected, "ok"), (who, what, expected, actual, result)
    for who, what in REQUIRED_ROWS:
        assert any(r[0] == who and r[1].startswith(what) for r in rows), (who, what, rows)
    checked = sum(r[3] != SKIPPED for r in rows)
    assert f"{checked} of {checked} checks as expected" in done.stdout
    # Refusals show AWS's error code and message, not a stack trace.
    assert "refused: AccessDenied: User: arn:aws:iam::" in done.stdout
    assert "waiting for the trails to deliver" in done.stderr
    assert took < 60, f"the demo took {took:.0f} s"


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str], str]]:
    """``trailgate demo --serve`` up to its ready banner: (process, stdout lines, endpoint);
    stopped by its pid afterwards."""
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [*DEMO, "--serve", "--data-dir", str(data_dir)], env=clean_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    endpoint = ""
    try:
        deadline = time.monotonic() + 120
        while not endpoint:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "demo exited before the banner:\n" + "\n".join(seen)
            seen.append(line)
            match = READY.fullmatch(line)
            endpoint = match.group(1) if match else ""
        yield process, seen, endpoint
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def aws_cli() -> str | None:
    return shutil.which("aws", path=str(Path(sys.executable).parent))


def profiles_snippet(lines: list[str]) -> str:
    start = next(i for i, line in enumerate(lines) if line.startswith("[profile "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("MFA code for"))
    return "\n".join(lines[start:end]) + "\n"


@pytest.mark.slow
def test_demo_serve_prints_profiles_and_stops(
    serving: tuple[subprocess.Popen[str], list[str], str], tmp_path: Path
) -> None:
    process, lines, endpoint = serving
    out = "\n".join(lines)
    assert re.search(r"\b(\d+) of \1 checks as expected", out), out
    with urllib.request.urlopen(endpoint + "/_trailgate/health", timeout=5) as r:
        assert r.status == 200
    # Sign-in details for every user, the console URL.
    assert f"Console: {endpoint}/console" in out
    for user in ("admin", "d-user", "e-user", "r-user", "e-nopolicy"):
        assert re.search(rf"user {re.escape(user)}\s+password \S+", out), user
    sign_ins = re.findall(r"sign in\s+(http://\S+/console/signin\?account=\d{12})", out)
    assert len(sign_ins) == 5
    assert len(re.findall(r"switch role\s+http://\S+/console/switchrole\?account=\d{12}&roleName="
                          r"CloudTrailReader-[DE]\b", out)) == 2
    if "not in this build yet" not in out:
        with urllib.request.urlopen(sign_ins[0], timeout=10) as r:
            assert r.status == 200 and "text/html" in r.headers["content-type"]
    # Ready-made profiles: role_arn + source_profile, ExternalId for R, MFA serial for D.
    snippet = profiles_snippet(lines)
    for needle in ("[profile tg-d]", "[profile tg-e]", "[profile tg-r]", "[profile tg-d-user]",
                   "role_arn = arn:aws:iam::", "source_profile = tg-r-user",
                   "external_id = R-analyzer-7f3c2a", "mfa_serial = arn:aws:iam::",
                   f"endpoint_url = {endpoint}"):
        assert needle in snippet, needle
    assert re.search(r"-c \"import pyotp; print\(pyotp\.TOTP\('[A-Z2-7]+'\)\.now\(\)\)\"", out)
    # The profiles work with the stock AWS CLI, from the snippet alone.
    exe = aws_cli()
    if exe is not None:
        config = tmp_path / "aws-config"
        config.write_text(snippet)
        env = clean_env(tmp_path)
        env.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        for profile, role in (("tg-e", "CloudTrailReader-E"), ("tg-r", "CloudTrailReader-R")):
            done = subprocess.run([exe, "--profile", profile, "sts", "get-caller-identity"],
                                  env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert f":assumed-role/{role}/" in done.stdout
        listed = subprocess.run(
            [exe, "--profile", "tg-e", "s3", "ls", "s3://trail-bucket/AWSLogs/", "--recursive"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert "CloudTrail" in listed.stdout
    # Stopped by its pid: the demo stops the server too.
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(endpoint + "/_trailgate/health", timeout=2)
