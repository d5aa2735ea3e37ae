"""The guides' examples (docs/guides/examples) run, in order, against one real server and
print what the guides say; every example is quoted verbatim in a guide."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import REGION, ROOT_KEY, ROOT_SECRET, Server, start

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guides"
EXAMPLES = GUIDES / "examples"

#: example -> text its output must contain (what its guide says it prints).
EXPECTED: dict[str, list[str]] = {
    "01_setup.py": ["management 111111111111"],
    "02_create_role.sh": [":role/CloudTrailReader-E"],
    "03_create_role.py": [":role/CloudTrailAuditor-E"],
    "04_require_mfa.sh": [":role/CloudTrailReader-D"],
    "05_scope_to_account.sh": ["read-own-prefix"],
    "06_external_id.sh": [":role/CloudTrailReader-R"],
    "07_assume_role.py": [
        "r-user CloudTrailReader-R  AccessDenied",
        "r-user CloudTrailReader-R ['ExternalId'] AccessDenied",
        "r-user CloudTrailReader-R assumed",
        "R lists True",
        "d-user CloudTrailReader-D  AccessDenied",
        "d-user CloudTrailReader-D assumed",
        "D lists its prefix",
        "D lists Admin's prefix AccessDenied",
    ],
    "08_assume_role_profiles.sh": [
        "assumed-role/CloudTrailReader-E/",
        "assumed-role/CloudTrailReader-R/",
        "assumed-role/CloudTrailReader-D/",
    ],
    "09_lookup_events.sh": ["AssumeRole\t"],
    "10_lookup_events.py": ["AssumeRole", "AccessDenied", "OK"],
    "11_validate_logs.sh": ["digest files valid", "log files valid",
                            "VALID: every digest and log file checks out"],
}


def examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".py", ".sh"))


def test_every_example_is_expected() -> None:
    assert [p.name for p in examples()] == sorted(EXPECTED)


def test_guides_quote_every_example_verbatim() -> None:
    guides = "\n".join(p.read_text() for p in sorted(GUIDES.glob("*.md")))
    for example in examples():
        assert example.read_text() in guides, f"{example.name} is not quoted in a guide"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("docs")
    srv = start(root / "data", extra_args=("--delivery-interval", "1", "--digest-interval", "3"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.slow
def test_examples_run_in_order(server: Server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        PATH=bindir + os.pathsep + env.get("PATH", ""),
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID=ROOT_KEY,
        AWS_SECRET_ACCESS_KEY=ROOT_SECRET,
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_PAGER="",
    )
    for example in examples():
        command = [sys.executable, str(example)] if example.suffix == ".py" else \
            ["sh", str(example)]
        # a new session: no controlling terminal, so the CLI reads the MFA code from stdin
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                              timeout=120, start_new_session=True, stdin=subprocess.DEVNULL)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{example.name} failed:\n{output}"
        for text in EXPECTED[example.name]:
            assert text in output, f"{example.name}: {text!r} not in\n{output}"
