"""``trailgate demo``: the seed scenario end to end, against a real trailgate server.

The demo starts ``trailgate serve`` as a child process on the embedded default (SQLite + local
files in a temporary data dir, or ``--data-dir``), on 127.0.0.1 and a free port (or
``--port``), with short delivery and digest intervals and a root access key it generated
itself.  Then, through boto3 (botocore when boto3 is not installed) and only through the API,
as a user would:

1. creates the organization (Admin is its management account) and accounts D, E and R;
2. creates Admin's central log bucket with the CloudTrail bucket policy and a trail with log
   file validation in every account, all delivering into that bucket;
3. creates Admin's three roles (``scenario.py``), a user in D, E and R allowed to assume
   "their" role, a virtual MFA device for D's user, and a user in E without any policy;
4. makes some calls in every account and waits (bounded) until each trail has delivered;
5. plays each party and records what happened;
6. validates the digest chains with :mod:`trailgate.trail.validate`, then validates a copy in
   which one log file was tampered with (skipped, not failed, when that module is absent);
7. prints a table (who, what, expected, actual) and returns 1 when a row differs.

With ``--serve`` the server keeps running afterwards; the demo prints the console URL and the
sign-in details, AWS CLI profiles and a TOTP helper, and stops the server on Ctrl-C (or
SIGTERM).  ``trailgate demo --offline`` is :mod:`trailgate.policy_demo`.

Step 6 uses :mod:`trailgate.trail.validate` (``Validator``, ``SourceSpec``, ``KeyRing``,
``Target``) in-process: first every trail against the server, then a downloaded copy of D's
files (digests with their S3 metadata in ``KEY.metadata.json`` side files) offline, before and
after one record of a digested log file is changed.  Only
:func:`trailgate.demo_validate.validate` imports it.

This module is the entry point; the demo itself is in :mod:`trailgate.demo_common` (constants,
rows, progress), :mod:`trailgate.demo_server` (the child process), :mod:`trailgate.demo_steps`
(:class:`~trailgate.demo_steps.Demo`, steps 1 to 7), :mod:`trailgate.demo_validate` (step 6's
validation) and :mod:`trailgate.demo_serve` (what ``--serve`` prints).
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from .demo_common import SKIPPED, DemoError, Row, say
from .demo_serve import serve_banner
from .demo_server import Server, free_port, start_server
from .demo_steps import Demo

__all__ = ["SKIPPED", "Row", "run"]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _data_dir(requested: str | None) -> tuple[Path, bool]:
    """(directory, whether it is a temporary one the demo removes)."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="trailgate-demo-")), True
    path = Path(requested)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DemoError(f"{path} is not an empty directory; the demo builds a new organization "
                        "and needs a fresh data dir")
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def run(*, serve: bool = False, data_dir: str | None = None, port: int | None = None) -> int:
    """``trailgate demo``: returns 0 when every row of the summary is as expected."""
    try:
        directory, temporary = _data_dir(data_dir)
    except DemoError as err:
        print(f"trailgate demo: {err}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _interrupt)
    server: Server | None = None
    code, serving = 1, False
    try:
        server = start_server(directory, port or free_port())
        say("trailgate demo: the seed scenario end to end")
        say(f"server {server.endpoint} (pid {server.process.pid}), data dir {directory}")
        demo = Demo(server)
        with tempfile.TemporaryDirectory(prefix="trailgate-demo-work-") as work:
            code = demo.run(Path(work))
        if serve:
            serving = True
            for line in serve_banner(demo):
                say(line)
            server.process.wait()
            say("the server stopped on its own; see " + str(server.log_path))
            code = 1
    except KeyboardInterrupt:
        say("\nstopping the server" if serving else "\ninterrupted; stopping the server")
        code = code if serving else 130
    except DemoError as err:
        say(f"\ndemo failed: {err}")
        code = 1
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
    if temporary and code in (0, 130):
        shutil.rmtree(directory, ignore_errors=True)
    elif server is not None and code != 0:
        say(f"server log kept in {server.log_path}")
    return code
