"""Screenshots of the web console's main pages, into docs/screenshots/.

Runs the browser tests (tests/browser: a real server, the console world, Debian's Chromium)
with ``TRAILGATE_SCREENSHOTS`` set, so every picture shows a page the tests just checked::

    .venv/bin/python docs/make_screenshots.py            # needs: apt-get install chromium
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TRAILGATE_SCREENSHOTS=str(OUT))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/browser/test_console_browser.py"]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode == 0:
        for path in sorted(OUT.glob("*.png")):
            print(path.relative_to(ROOT))
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
