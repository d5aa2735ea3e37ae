"""Every command in the README's fenced ``sh``/``bash`` blocks (and its ``python`` blocks) runs
as written, in README order, in one shell session in an empty directory, against a real
``trailgate serve`` started as the README says.

Substituted: only the port (the README's 4566 becomes a free port, so a server already on 4566
cannot interfere).  Not run by this test, but checked:

- ``trailgate serve ...`` is long-running: the test starts that exact command in the background
  (as a reader does in a second terminal), waits for ``/_trailgate/health`` and stops it by pid.
- ``make demo`` and ``make test``: ``make -n`` shows that ``make demo`` runs
  ``.venv/bin/trailgate demo`` (run end to end by ``test_demo.py``) and that ``make test`` runs
  ruff, mypy and pytest (running pytest from inside pytest would recurse).
- The section "How it compares with moto and LocalStack": its commands run ``bench/peers.py``
  (about a minute, servers of its own; ``test_peers.py`` runs it against trailgate and moto)
  and install LocalStack into a virtual environment of its own.

The empty directory gets a ``.venv`` symlink to this interpreter's environment, so
``.venv/bin/...`` works as written, and that ``bin`` first on PATH (the ``aws`` CLI, as in an
activated venv).  The README reads the root key with ``jq``; without ``jq`` the test skips."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_PORT = "4566"
FENCE = re.compile(r"^```([A-Za-z]*)\n(.*?)^```\s*$", re.M | re.S)
SERVE = re.compile(r"^\.venv/bin/trailgate serve\b.*$", re.M)
MAKE = re.compile(r"^make (\w+)\b.*$", re.M)
SHELLS = ("sh", "bash")
#: Sections whose commands this test does not run (see the module docstring).
NOT_RUN = {"How it compares with moto and LocalStack"}


def blocks() -> list[tuple[str, str, str]]:
    """(section heading, language, code) of every fenced block with a language, in order."""
    text = README.read_text()
    out: list[tuple[str, str, str]] = []
    for match in FENCE.finditer(text):
        headings = re.findall(r"^#{1,3} (.+)$", text[: match.start()], re.M)
        section = headings[-1] if headings else ""
        language, code = match.group(1), match.group(2)
        if language:
            out.append((section, language, code))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session_script(port: int) -> tuple[str, list[str], list[str]]:
    """The README's commands as one bash script (the ``serve`` and ``make`` lines taken out),
    the ``serve`` commands, the ``make`` targets."""
    parts: list[str] = ["set -eu"]
    serves: list[str] = []
    targets: list[str] = []
    for section, language, code in blocks():
        if section in NOT_RUN:
            continue
        code = re.sub(rf"\b{README_PORT}\b", str(port), code)
        if language in SHELLS:
            serves += SERVE.findall(code)
            targets += MAKE.findall(code)
            parts.append(MAKE.sub("", SERVE.sub("", code)))
        elif language == "python":
            parts.append(f'"$PYTHON" - <<\'__README_PYTHON__\'\n{code}__README_PYTHON__\n')
    return "\n".join(parts), serves, targets


def test_readme_blocks_are_found() -> None:
    found = blocks()
    sections = {section for section, language, _ in found if language in SHELLS}
    assert {"Run it", "The policy engine"} <= sections, sections
    assert sections >= NOT_RUN, sections  # still there: the exclusion is not stale
    assert all(language in (*SHELLS, "python") for _, language, _ in found), found
    script, serves, targets = session_script(4566)
    assert len(serves) == 1 and "--port 4566" in serves[0]
    assert sorted(set(targets)) == ["demo", "test"]
    assert "aws sts get-caller-identity" in script


def test_make_targets_run_what_the_readme_says() -> None:
    _, _, targets = session_script(4566)
    for target in sorted(set(targets)):
        # Run from `make test` itself, make's variables would make it print directories.
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
        done = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, check=False, env=env)
        assert done.returncode == 0, done.stderr
        recipe = done.stdout.strip().splitlines()
        if target == "demo":
            assert recipe[-1] == ".venv/bin/trailgate demo", recipe
        else:
            assert target == "test"
            assert recipe[-3:] == [".venv/bin/ruff check src tests bench", ".venv/bin/mypy",
                                   ".venv/bin/python -m pytest -q"], recipe


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the README reads root-credentials.json with jq, which is not installed")
    port = free_port()
    script, serves, _ = session_script(port)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    home = tmp_path / "home"
    home.mkdir()
    bindir = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRAILGATE_"))}
    env.update(HOME=str(home), PATH=bindir + os.pathsep + env.get("PATH", ""),
               PYTHON=sys.executable, AWS_PAGER="")
    (serve,) = serves
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=work, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_trailgate/health",
                                            timeout=2) as response:
                    if json.loads(response.read())["status"] == "ok":
                        break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(server.pid, signal.SIGKILL)
                server.wait(timeout=30)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"README commands failed:\n{output}\n--- script:\n{script}"
    # What the commands are there to show.
    credentials = json.loads((work / "data" / "root-credentials.json").read_text())
    assert f'"Account": "{credentials["AccountId"]}"' in done.stdout, output
    assert f"arn:aws:iam::{credentials['AccountId']}:role/CloudTrailReader-D" in done.stdout
    assert "Traceback" not in output
    assert re.search(r"\bimplicit(ly)?[ _-]?den", output, re.I), output
